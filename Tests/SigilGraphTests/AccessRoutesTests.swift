import Foundation
import SigilCore
import Testing

@testable import SigilGraph
@testable import SigilService

/// `/sigil/v1/accessRules`, the AuthZEN decision point (`/access/v1/*`,
/// `/.well-known/authzen-configuration`) and who may call each of them.
@Suite struct AccessRoutesTests {
    typealias Fixture = SeedConformanceTests.Fixture

    static let rules = "/sigil/v1/accessRules"
    static let blobRead = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
    static let cascadeCondition =
        "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project] ForAnyOfAnyValues:StringEquals @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>]"

    static let projectRule: JSONValue = [
        "displayName": "Project readers", "principals": "all", "actions": [.string(blobRead)],
        "condition": .string(cascadeCondition),
    ]

    /// Chandra works on Cascade.
    static func assignCascade(_ client: GraphClient, _ f: Fixture) async throws {
        let body: JSONValue = [
            "customSecurityAttributes": [
                "Engineering": [
                    "@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue",
                    "Project@odata.type": "#Collection(String)", "Project": ["Cascade"],
                ]
            ]
        ]
        let reply = try await client.patch("/v1.0/users/\(f.userId)", token: f.admin, body)
        #expect(reply.status.code == 204, "\(reply.text)")
    }

    static func question(_ subject: String, tag: String, action: String = blobRead) -> JSONValue {
        [
            "subject": ["type": "user", "id": .string(subject)], "action": ["name": .string(action)],
            "resource": ["type": "blob", "id": "b1", "properties": ["tags": ["Project": .string(tag)]]],
        ]
    }

    @Test func rulesLifecycleIsValidatedAndAudited() async throws {
        let f = try await Fixture.make()
        let admin = try await f.tenant.servicePrincipal(
            "Access admin", grants: [.tenant(.attributeAccessAdministrator), .tenant(.attributeAssignmentReader)])
        let auditor = try await f.tenant.servicePrincipal("Auditor", grants: [.tenant(.attributeLogReader)])
        try await f.tenant.test { client in
            let created = try await client.post(Self.rules, token: admin.token, Self.projectRule)
            #expect(created.status == .created, "\(created.text)")
            #expect(created["conditionVersion"] == "2.0", "Azure's default version")
            let id = try #require(created["id"]?.stringValue)

            let listed = try await client.get(Self.rules, token: admin.token)
            #expect(listed.values.count == 1)
            let read = try await client.get("\(Self.rules)/\(id)", token: admin.token)
            #expect(read["displayName"] == "Project readers")

            let invalid = try await client.post(
                Self.rules, token: admin.token,
                ["displayName": "Bad", "principals": "all", "actions": ["a"], "condition": "@Resource[a] StringEquals"])
            #expect(invalid.status.code == 400)
            #expect(invalid.errorMessage?.hasPrefix("The given role assignment condition is invalid. Position ") == true, "\(invalid.text)")
            for body: JSONValue in [
                ["principals": "all", "actions": ["a"]], ["displayName": "x", "principals": "some", "actions": ["a"]],
                ["displayName": "x", "principals": ["not-a-guid"], "actions": ["a"]],
                ["displayName": "x", "principals": "all", "actions": []],
                ["displayName": "x", "principals": "all", "actions": ["a"], "colour": "red"],
                ["displayName": "x", "principals": "all", "actions": ["a"], "condition": "x", "conditionVersion": "1.0"],
            ] {
                let reply = try await client.post(Self.rules, token: admin.token, body)
                reply.expectError(400, "Request_BadRequest")
            }

            let patched = try await client.patch("\(Self.rules)/\(id)", token: admin.token, ["description": "Cascade only", "condition": nil])
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched["condition"] == .null)
            #expect(patched["conditionVersion"] == .null)
            let deleted = try await client.delete("\(Self.rules)/\(id)", token: admin.token)
            #expect(deleted.status.code == 204)
            try await client.get("\(Self.rules)/\(id)", token: admin.token).expectError(404, "Request_ResourceNotFound")

            // Each change is one record in its own category, in the same chain as attribute changes.
            // PostgreSQL chains records in the background; seal them before reading the chain.
            try await f.tenant.store.sealAudit()
            let records = try await f.tenant.store.auditChain(after: 0, limit: 1000)
            let ruleRecords = records.compactMap { try? AuditService.decode($0) }.filter { $0["category"] == "AccessRuleManagement" }
            let activities = ruleRecords.filter { $0["result"] == "success" }.compactMap { $0["activityDisplayName"]?.stringValue }
            #expect(activities == ["Add access rule", "Update access rule", "Delete access rule"])
            #expect(ruleRecords.filter { $0["result"] == "failure" }.count == 7, "the seven refused creates")
            // The attribute audit log lists none of them.
            let log = try await client.get("/beta/auditLogs/customSecurityAttributeAudits", token: auditor.token)
            #expect(log.status == .ok, "\(log.text)")
            #expect(!log.text.contains("access rule"))
        }
    }

    /// OpenID AuthZEN Authorization API 1.0: the request and response shapes of its examples
    /// (subject, action, resource, context; `decision`; boxcarred `evaluations` with defaults and
    /// the three `evaluations_semantic` values), decided on the stored rules.
    @Test func authzenDecisions() async throws {
        let f = try await Fixture.make()
        let admin = try await f.tenant.servicePrincipal(
            "Access admin", grants: [.tenant(.attributeAccessAdministrator), .tenant(.attributeAssignmentReader)])
        let pep = try await f.tenant.servicePrincipal("Gateway", grants: [.tenant(.attributeAccessEvaluator)])
        let alice = try await f.tenant.user("Alice")
        try await f.tenant.test { client in
            try await Self.assignCascade(client, f)
            let metadata = try await client.get("/.well-known/authzen-configuration", token: nil)
            #expect(metadata.status == .ok)
            #expect(metadata["access_evaluation_endpoint"]?.stringValue?.hasSuffix("/access/v1/evaluation") == true)
            #expect(metadata["access_evaluations_endpoint"]?.stringValue?.hasSuffix("/access/v1/evaluations") == true)
            #expect(metadata["policy_decision_point"]?.stringValue != nil)

            // No rule, no access.
            let none = try await client.post("/access/v1/evaluation", token: pep.token, Self.question(f.userId, tag: "Cascade"))
            #expect(none.status == .ok, "\(none.text)")
            #expect(none.json == ["decision": false])

            let rule = try await client.post(Self.rules, token: admin.token, Self.projectRule)
            let ruleId = try #require(rule["id"]?.stringValue)
            // The spec's example shape: `can_read` on an account with a context, here granted to Alice alone.
            let aliceRule = try await client.post(
                Self.rules, token: admin.token,
                ["displayName": "Alice reads accounts", "principals": [.string(alice.id)], "actions": ["can_read"]])
            let aliceRuleId = try #require(aliceRule["id"]?.stringValue)
            let aliceUPN = try #require(try await client.get("/v1.0/users/\(alice.id)", token: f.admin)["userPrincipalName"]?.stringValue)
            let spec: JSONValue = [
                "subject": ["type": "user", "id": .string(aliceUPN)],
                "resource": ["type": "account", "id": "123"],
                "action": ["name": "can_read", "properties": ["method": "GET"]],
                "context": ["time": "1985-10-26T01:22-07:00"],
            ]
            let specReply = try await client.post("/access/v1/evaluation", token: pep.token, spec)
            #expect(specReply.json == ["decision": true, "context": ["ruleId": .string(aliceRuleId)]], "\(specReply.text)")

            let cascade = try await client.post("/access/v1/evaluation", token: pep.token, Self.question(f.userId, tag: "Cascade"))
            #expect(cascade.json == ["decision": true, "context": ["ruleId": .string(ruleId)]], "\(cascade.text)")
            #expect(!cascade.text.contains("Cascade"), "no attribute value in a decision")
            let baker = try await client.post("/access/v1/evaluation", token: pep.token, Self.question(f.userId, tag: "Baker"))
            #expect(baker.json == ["decision": false])
            let otherAction = try await client.post(
                "/access/v1/evaluation", token: pep.token, Self.question(f.userId, tag: "Cascade", action: "write"))
            #expect(otherAction.json == ["decision": false])

            // Boxcarred: top-level subject and action are each item's defaults.
            let batch: JSONValue = [
                "subject": ["type": "user", "id": .string(f.userId)], "action": ["name": .string(Self.blobRead)],
                "evaluations": [
                    ["resource": ["type": "blob", "id": "1", "properties": ["tags": ["Project": "Cascade"]]]],
                    ["resource": ["type": "blob", "id": "2", "properties": ["tags": ["Project": "Baker"]]]],
                    ["resource": ["type": "blob", "id": "3", "properties": ["tags": ["Project": "Cascade"]]]],
                ],
            ]
            let all = try await client.post("/access/v1/evaluations", token: pep.token, batch)
            #expect(all.object["evaluations"]?.arrayValue?.map { $0.objectValue?["decision"] } == [true, false, true], "\(all.text)")
            func with(_ semantic: String) -> JSONValue {
                guard case .object(var o) = batch else { return batch }
                o["options"] = ["evaluations_semantic": .string(semantic)]
                return .object(o)
            }
            let denyFirst = try await client.post("/access/v1/evaluations", token: pep.token, with("deny_on_first_deny"))
            #expect(denyFirst.object["evaluations"]?.arrayValue?.map { $0.objectValue?["decision"] } == [true, false])
            let permitFirst = try await client.post("/access/v1/evaluations", token: pep.token, with("permit_on_first_permit"))
            #expect(permitFirst.object["evaluations"]?.arrayValue?.map { $0.objectValue?["decision"] } == [true])
            try await client.post("/access/v1/evaluations", token: pep.token, with("most")).expectError(400, "Request_BadRequest")
            // Without `evaluations`, a single evaluation.
            let single = try await client.post("/access/v1/evaluations", token: pep.token, Self.question(f.userId, tag: "Cascade"))
            #expect(single["decision"] == true)

            try await client.post("/access/v1/evaluation", token: pep.token, ["subject": ["type": "group", "id": "x"]])
                .expectError(400, "Request_BadRequest")
            // An unknown subject is denied, not an error.
            let ghost = try await client.post(
                "/access/v1/evaluation", token: pep.token, Self.question("00000000-0000-0000-0000-0000000000aa", tag: "Cascade"))
            #expect(ghost.json == ["decision": false])
        }
    }

    // MARK: Role matrix

    enum Endpoint: String, CaseIterable, Sendable {
        case listRules, getRule, createRule, updateRule, deleteRule, evaluation, evaluations, validate, evaluate, metadata
    }

    /// Expected status per endpoint for a caller holding `grants` (anonymous when nil).
    static func expected(_ grants: [DirectoryRole]?, guest: Bool) -> [Endpoint: Int] {
        guard let grants else {
            return Dictionary(uniqueKeysWithValues: Endpoint.allCases.map { ($0, $0 == .metadata ? 200 : 401) })
        }
        let roles = guest ? [] : Set(grants)
        let readsRules = !roles.isDisjoint(with: [.attributeAccessAdministrator, .attributeAccessEvaluator])
        let readsValues = !roles.isDisjoint(with: [.attributeAssignmentReader, .attributeAssignmentAdministrator])
        let manages = roles.contains(.attributeAccessAdministrator) && readsValues
        let evaluates = roles.contains(.attributeAccessEvaluator)
        return [
            .listRules: readsRules ? 200 : 403, .getRule: readsRules ? 200 : 403, .createRule: manages ? 201 : 403,
            .updateRule: manages ? 200 : 403, .deleteRule: manages ? 204 : 403, .evaluation: evaluates ? 200 : 403,
            .evaluations: evaluates ? 200 : 403, .validate: readsValues ? 200 : 403, .evaluate: readsValues ? 200 : 403,
            .metadata: 200,
        ]
    }

    /// Every role alone, the administrator with the value reader it needs, guests, and no token.
    @Test func everyRoleAgainstEveryEndpoint() async throws {
        let f = try await Fixture.make()
        let owner = try await f.tenant.servicePrincipal(
            "Rule owner", grants: [.tenant(.attributeAccessAdministrator), .tenant(.attributeAssignmentReader)])
        var callers: [(String, [DirectoryRole]?, Bool)] = [("anonymous", nil, false)]
        callers += DirectoryRole.allCases.map { ($0.displayName, [$0], false) }
        callers.append(("administrator with reader", [.attributeAccessAdministrator, .attributeAssignmentReader], false))
        callers.append(("guest administrator with reader", [.attributeAccessAdministrator, .attributeAssignmentReader], true))
        callers.append(("guest evaluator", [.attributeAccessEvaluator], true))
        let everyone = callers
        try await f.tenant.test { client in
            for (name, roles, guest) in everyone {
                var token: String?
                if let roles {
                    let grants = roles.map { RoleGrant(role: $0, scope: .tenant) }
                    token =
                        guest
                        ? try await f.tenant.user("Guest\(name.filter(\.isLetter))", guest: true, grants: grants).token
                        : try await f.tenant.servicePrincipal(name, grants: grants).token
                }
                let expected = Self.expected(roles, guest: guest)
                for endpoint in Endpoint.allCases {
                    // A fresh rule for each write, owned by someone who may change it.
                    let seeded = try await client.post(Self.rules, token: owner.token, Self.projectRule)
                    let id = try #require(seeded["id"]?.stringValue)
                    let reply: GraphReply
                    switch endpoint {
                    case .listRules: reply = try await client.get(Self.rules, token: token)
                    case .getRule: reply = try await client.get("\(Self.rules)/\(id)", token: token)
                    case .createRule: reply = try await client.post(Self.rules, token: token, Self.projectRule)
                    case .updateRule: reply = try await client.patch("\(Self.rules)/\(id)", token: token, ["displayName": "Renamed"])
                    case .deleteRule: reply = try await client.delete("\(Self.rules)/\(id)", token: token)
                    case .evaluation:
                        reply = try await client.post("/access/v1/evaluation", token: token, Self.question(f.userId, tag: "Cascade"))
                    case .evaluations:
                        reply = try await client.post(
                            "/access/v1/evaluations", token: token, ["evaluations": [Self.question(f.userId, tag: "Cascade")]])
                    case .validate:
                        reply = try await client.post("/sigil/v1/conditions/validate", token: token, ["condition": .string(Self.cascadeCondition)])
                    case .evaluate:
                        reply = try await client.post("/sigil/v1/conditions/evaluate", token: token, ["condition": .string(Self.cascadeCondition)])
                    case .metadata: reply = try await client.get("/.well-known/authzen-configuration", token: token)
                    }
                    #expect(reply.status.code == expected[endpoint], "\(name) \(endpoint): \(reply.status) \(reply.text)")
                    if reply.status.code == 403 { #expect(reply.errorCode == "Authorization_RequestDenied") }
                    _ = try await client.delete("\(Self.rules)/\(id)", token: owner.token)
                }
            }
        }
    }

    /// Changing a rule needs the values of the sets its condition names, besides the role.
    @Test func ruleWritesFollowTheLeakRule() async throws {
        let f = try await Fixture.make()
        let marketingOnly = try await f.tenant.servicePrincipal(
            "Marketing access admin", grants: [.tenant(.attributeAccessAdministrator), .set(.attributeAssignmentReader, "Marketing")])
        try await f.tenant.test { client in
            try await client.post(Self.rules, token: marketingOnly.token, Self.projectRule).expectError(403, "Authorization_RequestDenied")
            let marketing: JSONValue = [
                "displayName": "Marketing", "principals": "all", "actions": ["read"],
                "condition": "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Marketing_EmployeeId] StringStartsWith 'GS'",
            ]
            let created = try await client.post(Self.rules, token: marketingOnly.token, marketing)
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created["id"]?.stringValue)
            try await client.patch("\(Self.rules)/\(id)", token: marketingOnly.token, ["condition": .string(Self.cascadeCondition)])
                .expectError(403, "Authorization_RequestDenied")
            #expect(try await client.get("\(Self.rules)/\(id)", token: marketingOnly.token)["condition"] == marketing.objectValue?["condition"])
        }
    }
}
