import Foundation
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilGraph
@testable import SigilService

/// `/identity/conditionalAccess/policies` on v1.0 and beta: CRUD, validation, filters hidden from
/// callers who may not read their attribute sets, audit records, and who may call what.
@Suite struct ConditionalAccessRoutesTests {
    static let policies = "/v1.0/identity/conditionalAccess/policies"
    static let projectRule = #"CustomSecurityAttribute.Engineering_Project -eq "Baker""#
    static let tierRule = #"CustomSecurityAttribute.Engineering_Tier -in ["Gold", "Silver"]"#

    /// Engineering with a String `Project`, a String `Tier` and an Integer `Cost`.
    static func seed(_ tenant: TestTenant) async throws {
        try await tenant.store.changeSchema { _ in
            [
                .createSet(AttributeSet(id: "Engineering")),
                .createDefinition(
                    AttributeDefinition(
                        attributeSet: "Engineering", name: "Project", type: .string, isCollection: false, isSearchable: true,
                        usePreDefinedValuesOnly: false), allowedValues: []),
                .createDefinition(
                    AttributeDefinition(
                        attributeSet: "Engineering", name: "Tier", type: .string, isCollection: false, isSearchable: true,
                        usePreDefinedValuesOnly: false), allowedValues: []),
                .createDefinition(
                    AttributeDefinition(
                        attributeSet: "Engineering", name: "Cost", type: .integer, isCollection: false, isSearchable: true,
                        usePreDefinedValuesOnly: false), allowedValues: []),
            ]
        }
    }

    /// A workload-identity policy blocking the service principals the Project filter selects, and
    /// the apps the Tier filter selects.
    static func body(_ name: String = "Block Baker workloads", state: String = "enabled") -> JSONValue {
        [
            "displayName": .string(name), "state": .string(state),
            "conditions": [
                "clientAppTypes": ["all"],
                "applications": [
                    "includeApplications": ["All"],
                    "applicationFilter": ["mode": "include", "rule": .string(tierRule)],
                ],
                "clientApplications": [
                    "includeServicePrincipals": [],
                    "servicePrincipalFilter": ["mode": "include", "rule": .string(projectRule)],
                ],
            ],
            "grantControls": ["operator": "OR", "builtInControls": ["block"]],
        ]
    }

    @Test(arguments: ["v1.0", "beta"])
    func createReadUpdateDelete(_ version: String) async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        let admin = try await tenant.user(
            "Casey", grants: [.tenant(.conditionalAccessAdministrator), .tenant(.attributeDefinitionReader)])
        let path = "/\(version)/identity/conditionalAccess/policies"
        try await tenant.test { client in
            let created = try await client.post(path, token: admin.token, Self.body())
            #expect(created.status == .created, "\(created.text)")
            #expect(created.hasContext("identity/conditionalAccess/policies/$entity", version: version), "\(created.text)")
            let id = try #require(created.object["id"]?.stringValue)
            #expect(created.object["state"] == "enabled")
            #expect(created.object["modifiedDateTime"] == .null)
            #expect(created.object["createdDateTime"]?.stringValue?.hasSuffix("Z") == true)
            let conditions = created.object["conditions"]?.objectValue
            #expect(
                conditions?["clientApplications"]?.objectValue?["servicePrincipalFilter"]?.objectValue?["rule"]
                    == .string(Self.projectRule))

            let listed = try await client.get(path, token: admin.token)
            #expect(listed.status == .ok)
            #expect(listed.valueIds == [id])

            let patched = try await client.patch(
                "\(path)/\(id)", token: admin.token, ["state": "enabledForReportingButNotEnforced", "displayName": "Renamed"])
            #expect(patched.status == .noContent, "\(patched.text)")
            let read = try await client.get("\(path)/\(id)", token: admin.token)
            #expect(read.object["state"] == "enabledForReportingButNotEnforced")
            #expect(read.object["displayName"] == "Renamed")
            #expect(read.object["modifiedDateTime"]?.stringValue != nil)
            #expect(read.object["conditions"] == created.object["conditions"], "a PATCH without conditions keeps them")

            let deleted = try await client.delete("\(path)/\(id)", token: admin.token)
            #expect(deleted.status == .noContent)
            try await client.get("\(path)/\(id)", token: admin.token).expectError(404, "Request_ResourceNotFound")
            try await client.delete("\(path)/\(id)", token: admin.token).expectError(404, "Request_ResourceNotFound")
        }
        // Added, updated, deleted: three records of category Policy in the chain, none listed as
        // custom security attribute audits.
        try await tenant.store.sealAudit()  // PostgreSQL links records into the chain after commit
        let chain = try await tenant.store.auditChain(after: 0, limit: 100)
        let policyRecords = chain.compactMap { try? JSON.parse($0.json).objectValue }.filter { $0["category"] == "Policy" }
        #expect(
            policyRecords.map { $0["activityDisplayName"]?.stringValue ?? "" } == [
                "Add conditional access policy", "Update conditional access policy", "Delete conditional access policy",
            ])
        let attributeLog = try await tenant.store.auditRecords(AuditQuery(), after: nil, limit: 100)
        #expect(attributeLog.records.allSatisfy { !$0.json.contains("\"Policy\"") })
    }

    @Test func validationNamesTheProblem() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        let admin = try await tenant.user(
            "Casey", grants: [.tenant(.conditionalAccessAdministrator), .tenant(.attributeDefinitionReader)])
        func with(_ change: (inout JSONObject) -> Void) -> JSONValue {
            var object = Self.body().objectValue ?? JSONObject()
            change(&object)
            return .object(object)
        }
        func filtered(_ rule: String) -> JSONValue {
            with { object in
                var conditions = object["conditions"]?.objectValue ?? JSONObject()
                var clients = conditions["clientApplications"]?.objectValue ?? JSONObject()
                clients = JSONObject(clients.members.filter { $0.key != "servicePrincipalFilter" })
                clients.append("servicePrincipalFilter", ["mode": "include", "rule": .string(rule)])
                conditions = JSONObject(conditions.members.filter { $0.key != "clientApplications" })
                conditions.append("clientApplications", .object(clients))
                object = JSONObject(object.members.filter { $0.key != "conditions" })
                object.append("conditions", .object(conditions))
            }
        }
        let cases: [(JSONValue, String)] = [
            (filtered(#"CustomSecurityAttribute.Engineering_Cost -eq "1""#), "only support String attributes"),
            (filtered(#"CustomSecurityAttribute.Engineering_Nope -eq "1""#), "not a custom security attribute"),
            (filtered(#"CustomSecurityAttribute.Engineering_Project -like "1""#), "'-like' is not a supported operator"),
            (filtered(#"device.model -eq "Surface""#), "may only read custom security attributes"),
            (with { $0 = JSONObject($0.members.filter { $0.key != "displayName" }) }, "'displayName'"),
            (with { $0.append("colour", "blue") }, "Invalid property 'colour'"),
            (
                with { object in
                    object = JSONObject(object.members.filter { $0.key != "grantControls" })
                    object.append("grantControls", ["operator": "OR", "builtInControls": ["mfa"]])
                }, "supports only the grant control 'block'"
            ),
            (
                with { object in
                    object = JSONObject(object.members.filter { $0.key != "state" })
                    object.append("state", "on")
                }, "Invalid value 'on' for property 'state'"
            ),
        ]
        try await tenant.test { client in
            for (body, message) in cases {
                let reply = try await client.post(Self.policies, token: admin.token, body)
                reply.expectError(400, "Request_BadRequest")
                #expect(reply.errorMessage?.contains(message) == true, "\(message): \(reply.text)")
            }
            let listed = try await client.get(Self.policies, token: admin.token)
            #expect(listed.values.isEmpty, "refused bodies change nothing")
        }
    }

    /// Without a role that reads Engineering's definitions, a writer cannot set a filter on it,
    /// sees the rule as null, may change the rest, and keeps the stored filter.
    @Test func filtersNeedTheAttributeReaderRoles() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        let full = try await tenant.user(
            "Casey", grants: [.tenant(.conditionalAccessAdministrator), .set(.attributeDefinitionReader, "Engineering")])
        let plain = try await tenant.user("Pat", grants: [.tenant(.conditionalAccessAdministrator)])
        let reader = try await tenant.servicePrincipal("Auditor", grants: [.tenant(.securityReader)])
        try await tenant.test { client in
            let refused = try await client.post(Self.policies, token: plain.token, Self.body())
            refused.expectError(403, "Authorization_RequestDenied")
            #expect(refused.errorMessage?.contains("'Engineering'") == true)

            let created = try await client.post(Self.policies, token: full.token, Self.body())
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.object["id"]?.stringValue)

            for token in [plain.token, reader.token] {
                let seen = try await client.get("\(Self.policies)/\(id)", token: token)
                #expect(seen.status == .ok)
                let filter = seen.object["conditions"]?.objectValue?["clientApplications"]?.objectValue?["servicePrincipalFilter"]
                #expect(filter?.objectValue?["rule"] == .null, "\(seen.text)")
                #expect(filter?.objectValue?["mode"] == "include")
                #expect(!seen.text.contains("Engineering_Project"))
            }

            let renamed = try await client.patch("\(Self.policies)/\(id)", token: plain.token, ["displayName": "Renamed"])
            #expect(renamed.status == .noContent, "\(renamed.text)")
            var conditions = Self.body().objectValue?["conditions"]?.objectValue ?? JSONObject()
            let changeFilter = try await client.patch(
                "\(Self.policies)/\(id)", token: plain.token, ["conditions": .object(conditions)])
            changeFilter.expectError(403, "Authorization_RequestDenied")
            // Conditions without the filters: accepted, the stored filters stay.
            conditions = JSONObject(conditions.members.filter { $0.key != "clientApplications" && $0.key != "applications" })
            conditions.append("applications", ["includeApplications": ["All"]])
            conditions.append("clientApplications", ["includeServicePrincipals": []])
            let withoutFilters = try await client.patch(
                "\(Self.policies)/\(id)", token: plain.token, ["conditions": .object(conditions)])
            #expect(withoutFilters.status == .noContent, "\(withoutFilters.text)")
            let read = try await client.get("\(Self.policies)/\(id)", token: full.token)
            let kept = read.object["conditions"]?.objectValue?["clientApplications"]?.objectValue?["servicePrincipalFilter"]
            #expect(kept?.objectValue?["rule"] == .string(Self.projectRule), "\(read.text)")
            #expect(read.object["displayName"] == "Renamed")
        }
    }

    enum Route: CaseIterable {
        case list, get, create, update, delete
    }

    /// Who may call each route, with the roles' Entra template ids; writers also hold Attribute
    /// Definition Reader (the filters read Engineering) unless the row says otherwise.
    // swift-format-ignore
    static let matrix: [(String, [RoleGrant], [Int])] = [
        //                                                                                           list get  crt  upd  del
        ("anonymous", [], [401, 401, 401, 401, 401]),
        ("Conditional Access Administrator", [.tenant(.conditionalAccessAdministrator), .tenant(.attributeDefinitionReader)], [200, 200, 201, 204, 204]),
        ("Security Administrator", [.tenant(.securityAdministrator), .tenant(.attributeDefinitionReader)], [200, 200, 201, 204, 204]),
        ("Global Administrator", [.tenant(.globalAdministrator), .tenant(.attributeDefinitionReader)], [200, 200, 201, 204, 204]),
        ("Security Reader", [.tenant(.securityReader)], [200, 200, 403, 403, 403]),
        ("Global Reader", [.tenant(.globalReader)], [200, 200, 403, 403, 403]),
        ("Attribute Definition Administrator", [.tenant(.attributeDefinitionAdministrator)], [403, 403, 403, 403, 403]),
        ("Attribute Assignment Administrator", [.tenant(.attributeAssignmentAdministrator)], [403, 403, 403, 403, 403]),
        ("User Administrator", [.tenant(.userAdministrator)], [403, 403, 403, 403, 403]),
        ("Privileged Role Administrator", [.tenant(.privilegedRoleAdministrator)], [403, 403, 403, 403, 403]),
        ("no role", [], [403, 403, 403, 403, 403]),
        ("guest Conditional Access Administrator", [.tenant(.conditionalAccessAdministrator)], [200, 200, 403, 204, 204]),
    ]

    @Test func roleMatrix() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        let owner = try await tenant.user(
            "Owner", grants: [.tenant(.conditionalAccessAdministrator), .tenant(.attributeDefinitionReader)])
        try await tenant.test { client in
            for (name, grants, statuses) in Self.matrix {
                let token: String? =
                    switch name {
                    case "anonymous": nil
                    case "guest Conditional Access Administrator":
                        try await tenant.user("Guest", guest: true, grants: grants).token
                    default: try await tenant.servicePrincipal(name, grants: grants).token
                    }
                let seeded = try await client.post(Self.policies, token: owner.token, Self.body("Seed for \(name)"))
                let id = try #require(seeded.object["id"]?.stringValue)
                for (route, expected) in zip(Route.allCases, statuses) {
                    let reply: GraphReply =
                        switch route {
                        case .list: try await client.get(Self.policies, token: token)
                        case .get: try await client.get("\(Self.policies)/\(id)", token: token)
                        case .create: try await client.post(Self.policies, token: token, Self.body("By \(name)"))
                        case .update: try await client.patch("\(Self.policies)/\(id)", token: token, ["state": "disabled"])
                        case .delete: try await client.delete("\(Self.policies)/\(id)", token: token)
                        }
                    #expect(reply.status.code == expected, "\(name) \(route): \(reply.text)")
                    if expected == 403 { reply.expectError(403, "Authorization_RequestDenied") }
                }
            }
        }
    }

    static func setProject(_ tenant: TestTenant, _ id: String, _ values: [String]) async throws {
        try await tenant.store.modify(.servicePrincipal, id: id, passwordHash: nil) { state, _ in
            var next = state
            next.attributes.set("Engineering_Project", values.map { .string($0) })
            return next
        }
    }

    /// `/sigil/v1/conditionalAccess/policies/{id}/targets`: the service principals the policy
    /// selects, with the role each is selected in, the exact count and pages; the same answer
    /// after a value changes; refused without the right to read the filters' assignments.
    @Test func targetsListWhatThePolicySelects() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        let admin = try await tenant.user(
            "Casey", grants: [.tenant(.conditionalAccessAdministrator), .tenant(.attributeDefinitionReader)])
        let auditor = try await tenant.user(
            "Sam", grants: [.tenant(.securityReader), .tenant(.attributeDefinitionReader), .tenant(.attributeAssignmentReader)])
        let bakers = [try await tenant.servicePrincipal("Baker one"), try await tenant.servicePrincipal("Baker two")]
        let lower = try await tenant.servicePrincipal("Lower-case baker")
        let other = try await tenant.servicePrincipal("Cascade job")
        for workload in bakers { try await Self.setProject(tenant, workload.id, ["Baker"]) }
        try await Self.setProject(tenant, lower.id, ["baker"])
        try await Self.setProject(tenant, other.id, ["Cascade"])
        try await tenant.store.modify(.servicePrincipal, id: other.id, passwordHash: nil) { state, _ in
            var next = state
            next.attributes.set("Engineering_Tier", [.string("gold")])
            return next
        }
        try await tenant.test { client in
            // Apps by the Tier filter alone (not "All"), workloads by the Project filter.
            guard case .object(var body) = Self.body(), case .object(var conditions)? = body["conditions"] else {
                Issue.record("the policy body is an object")
                return
            }
            conditions["applications"] = ["includeApplications": [], "applicationFilter": ["mode": "include", "rule": .string(Self.tierRule)]]
            body["conditions"] = .object(conditions)
            let created = try await client.post(Self.policies, token: admin.token, .object(body))
            let id = try #require(created.object["id"]?.stringValue, "\(created.text)")
            let path = "/sigil/v1/conditionalAccess/policies/\(id)/targets"

            // The filter ignores case, as at the token endpoint; Tier selects Cascade as an application.
            let all = try await client.get(path, token: auditor.token)
            #expect(all.status == .ok, "\(all.text)")
            #expect(all.object["@odata.count"] == .integer(4), "\(all.text)")
            var roles: [String: [String]] = [:]
            for item in all.object["value"]?.arrayValue ?? [] {
                let object = item.objectValue
                roles[object?["id"]?.stringValue ?? ""] = object?["selectedAs"]?.arrayValue?.compactMap(\.stringValue)
            }
            #expect(roles[bakers[0].id] == ["workloadIdentity"] && roles[bakers[1].id] == ["workloadIdentity"])
            #expect(roles[lower.id] == ["workloadIdentity"])
            #expect(roles[other.id] == ["application"])

            // Pages of one, followed by their links, give the same four.
            var seen: [String] = []
            var next: String? = "\(path)?$top=1"
            while let link = next {
                let page = try await client.get(link, token: auditor.token)
                #expect(page.status == .ok, "\(page.text)")
                seen += page.valueIds
                next = page.object["@odata.nextLink"]?.stringValue.flatMap { link in
                    link.range(of: "/sigil/v1").map { String(link[$0.lowerBound...]) }
                }
            }
            #expect(Set(seen) == Set(roles.keys) && seen.count == 4, "\(seen)")

            // A value changed is the next answer.
            try await Self.setProject(tenant, bakers[1].id, ["Cascade"])
            #expect(try await client.get(path, token: auditor.token).object["@odata.count"] == .integer(3))

            // Reading policies is not enough: the answer tells who holds which values.
            let policyReader = try await tenant.user("Pat", grants: [.tenant(.securityReader), .tenant(.attributeDefinitionReader)])
            try await client.get(path, token: policyReader.token).expectError(403, "Authorization_RequestDenied")
            let nobody = try await tenant.user("Nia", grants: [.tenant(.attributeAssignmentReader)])
            try await client.get(path, token: nobody.token).expectError(403, "Authorization_RequestDenied")
            try await client.get("/sigil/v1/conditionalAccess/policies/00000000-0000-4000-8000-000000000000/targets", token: auditor.token)
                .expectError(404, "Request_ResourceNotFound")
            try await client.get("\(path)?$skiptoken=forged", token: auditor.token).expectError(400, "Request_BadRequest")
        }
    }

    /// Client credentials for a workload identity a block policy's `servicePrincipalFilter`
    /// selects: refused with AADSTS53003 naming the policy; issued in report-only mode, and again
    /// once the selecting value is removed. The password grant for a selected user likewise.
    @Test func tokenEndpointEnforcesBlockPolicies() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        let admin = try await tenant.user(
            "Casey", grants: [.tenant(.conditionalAccessAdministrator), .tenant(.attributeDefinitionReader)])
        let workload = try await tenant.servicePrincipal("Baker job")
        let appId = try #require(try await tenant.store.object(.servicePrincipal, id: workload.id)?.appId)
        let user = try await tenant.user("Uma")
        let tokenPath = "/\(tenant.tenantId)/oauth2/v2.0/token"
        let scope = "https://graph.microsoft.com/.default"
        try await Self.setProject(tenant, workload.id, ["Baker"])
        try await tenant.test { client in
            func clientToken() async throws -> GraphReply {
                try await client.postForm(
                    tokenPath,
                    [("grant_type", "client_credentials"), ("client_id", appId), ("client_secret", "test8Q~\(appId)"), ("scope", scope)])
            }
            func userToken() async throws -> GraphReply {
                try await client.postForm(
                    tokenPath,
                    [
                        ("grant_type", "password"), ("client_id", appId), ("username", "uma@sigil.test"),
                        ("password", "Password-123!"), ("scope", scope),
                    ])
            }
            #expect(try await clientToken().status == .ok)

            let created = try await client.post(Self.policies, token: admin.token, Self.body())
            let id = try #require(created.object["id"]?.stringValue)
            let refused = try await clientToken()
            #expect(refused.status == .badRequest, "\(refused.text)")
            #expect(refused["error"] == "access_denied")
            #expect(refused["error_codes"] == [53003])
            let description = refused["error_description"]?.stringValue ?? ""
            #expect(description.hasPrefix("AADSTS53003: "))
            #expect(description.contains("Block Baker workloads") && description.contains(id), "\(description)")
            #expect(try await userToken().status == .ok, "a workload identity policy does not select users")

            let reportOnly = try await client.patch(
                "\(Self.policies)/\(id)", token: admin.token, ["state": "enabledForReportingButNotEnforced"])
            #expect(reportOnly.status == .noContent)
            #expect(try await clientToken().status == .ok)
            _ = try await client.patch("\(Self.policies)/\(id)", token: admin.token, ["state": "enabled"])
            #expect(try await clientToken().status == .badRequest)

            try await Self.setProject(tenant, workload.id, [])
            #expect(try await clientToken().status == .ok, "the next token after the value is removed")

            let users: JSONValue = [
                "displayName": "Block Uma on Graph", "state": "enabled",
                "conditions": [
                    "clientAppTypes": ["all"],
                    "applications": ["includeApplications": .array([.string(ConditionalAccessSignIn.graphAppId)])],
                    "users": ["includeUsers": .array([.string(user.id)])],
                ],
                "grantControls": ["operator": "OR", "builtInControls": ["block"]],
            ]
            let userPolicy = try await client.post(Self.policies, token: admin.token, users)
            #expect(userPolicy.status == .created, "\(userPolicy.text)")
            let blockedUser = try await userToken()
            #expect(blockedUser["error_codes"] == [53003], "\(blockedUser.text)")
            let userPolicyId = try #require(userPolicy.object["id"]?.stringValue)
            _ = try await client.delete("\(Self.policies)/\(userPolicyId)", token: admin.token)
            #expect(try await userToken().status == .ok)
        }
    }

    /// What-If on beta: the workload policy applies to the Baker service principal and not to
    /// another; a reader who may not read the filter's set gets `notEnoughInformation`.
    @Test func whatIf() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        let admin = try await tenant.user(
            "Casey", grants: [.tenant(.conditionalAccessAdministrator), .tenant(.attributeDefinitionReader)])
        let plainReader = try await tenant.servicePrincipal("Auditor", grants: [.tenant(.securityReader)])
        let baker = try await tenant.servicePrincipal("Baker job")
        let other = try await tenant.servicePrincipal("Other job")
        try await Self.setProject(tenant, baker.id, ["Baker"])
        @Sendable func body(_ id: String, appliedOnly: Bool = false) -> JSONValue {
            [
                "signInIdentity": ["@odata.type": "#microsoft.graph.servicePrincipalSignIn", "servicePrincipalId": .string(id)],
                "signInContext": [
                    "@odata.type": "#microsoft.graph.applicationContext",
                    "includeApplications": .array([.string(ConditionalAccessSignIn.graphAppId)]),
                ],
                "signInConditions": [:], "appliedPoliciesOnly": .bool(appliedOnly),
            ]
        }
        try await tenant.test { client in
            _ = try await client.post(Self.policies, token: admin.token, Self.body())
            let path = "/beta/identity/conditionalAccess/evaluate"
            let applies = try await client.post(path, token: admin.token, body(baker.id))
            #expect(applies.status == .ok, "\(applies.text)")
            #expect(applies.hasContext("Collection(microsoft.graph.whatIfAnalysisResult)", version: "beta"), "\(applies.text)")
            #expect(applies.values.first?.objectValue?["policyApplies"] == true)
            #expect(applies.values.first?.objectValue?["analysisReasons"] == "notSet")

            let notSelected = try await client.post(path, token: admin.token, body(other.id))
            #expect(notSelected.values.first?.objectValue?["policyApplies"] == false)
            #expect(notSelected.values.first?.objectValue?["analysisReasons"] == "workloadIdentities")
            #expect(try await client.post(path, token: admin.token, body(other.id, appliedOnly: true)).values.isEmpty)

            let hidden = try await client.post(path, token: plainReader.token, body(baker.id))
            #expect(hidden.values.first?.objectValue?["analysisReasons"] == "notEnoughInformation", "\(hidden.text)")

            try await client.post(path, token: admin.token, ["signInIdentity": [:]]).expectError(400, "Request_BadRequest")
            // Graph documents What-If on beta only: v1.0 has no such route.
            try await client.post("/v1.0/identity/conditionalAccess/evaluate", token: admin.token, body(baker.id))
                .expectError(400, "Request_BadRequest")
            let unrelated = try await tenant.servicePrincipal("No role")
            try await client.post(path, token: unrelated.token, body(baker.id)).expectError(403, "Authorization_RequestDenied")
        }
    }
}
