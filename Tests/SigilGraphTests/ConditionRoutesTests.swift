import Foundation
import SigilCore
import Testing

@testable import SigilGraph
@testable import SigilService

/// `/sigil/v1/conditions/validate` and `/evaluate`: results, traces, errors with positions, and
/// the rule that a caller must be able to read the values of every set a condition names.
@Suite struct ConditionRoutesTests {
    typealias Fixture = SeedConformanceTests.Fixture

    static let blobRead = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
    static let projectCondition = """
        ((!(ActionMatches{'\(blobRead)'} AND NOT SubOperationMatches{'Blob.List'})) OR \
        (@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project] ForAnyOfAnyValues:StringEquals \
        @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>]))
        """
    static let marketingCondition =
        "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Marketing_EmployeeId] StringStartsWith 'G'"

    static func evaluation(_ condition: String, principal: JSONValue, tag: String) -> JSONValue {
        [
            "condition": .string(condition), "conditionVersion": "2.0", "action": .string(blobRead),
            "principal": principal, "resource": ["tags": ["Project": .string(tag)]],
        ]
    }

    /// Chandra works on Cascade.
    static func assignCascade(_ client: GraphClient, _ f: Fixture) async throws {
        let body: JSONValue = [
            "customSecurityAttributes": [
                "Engineering": [
                    "@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue",
                    "Project@odata.type": "#Collection(String)", "Project": ["Cascade"],
                ],
                "Marketing": [
                    "@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue", "EmployeeId": "GS45897",
                ],
            ]
        ]
        let reply = try await client.patch("/v1.0/users/\(f.userId)", token: f.admin, body)
        #expect(reply.status.code == 204, "\(reply.text)")
    }

    @Test func evaluatesStoredPrincipalWithTrace() async throws {
        let f = try await Fixture.make()
        let reader = try await f.tenant.servicePrincipal("Reader", grants: [.tenant(.attributeAssignmentReader)])
        try await f.tenant.test { client in
            try await Self.assignCascade(client, f)
            let user: JSONValue = ["type": "user", "id": .string(f.userId)]
            let cascade = try await client.post(
                "/sigil/v1/conditions/evaluate", token: reader.token, Self.evaluation(Self.projectCondition, principal: user, tag: "Cascade"))
            #expect(cascade.status == .ok, "\(cascade.text)")
            #expect(cascade["result"] == .bool(true))
            let trace = cascade["trace"]?.arrayValue ?? []
            #expect(trace.count == 7, "\(cascade.text)")
            #expect(trace.last?.objectValue?["expression"]?.stringValue == Self.projectCondition)
            #expect(!cascade.text.contains("Cascade\""), "the trace carries expressions and truth values, no stored value")

            let baker = try await client.post(
                "/sigil/v1/conditions/evaluate", token: reader.token, Self.evaluation(Self.projectCondition, principal: user, tag: "Baker"))
            #expect(baker["result"] == .bool(false), "\(baker.text)")

            let nobody = try await client.post(
                "/sigil/v1/conditions/evaluate", token: reader.token,
                Self.evaluation(Self.projectCondition, principal: ["type": "user", "id": "00000000-0000-0000-0000-000000000001"], tag: "Cascade"))
            nobody.expectError(404, "Request_ResourceNotFound")
        }
    }

    @Test func whatIfPrincipal() async throws {
        let f = try await Fixture.make()
        let reader = try await f.tenant.servicePrincipal("Reader", grants: [.set(.attributeAssignmentReader, "Engineering")])
        try await f.tenant.test { client in
            let inline: JSONValue = [
                "customSecurityAttributes": ["Engineering": ["Project@odata.type": "#Collection(String)", "Project": ["Baker"]]]
            ]
            let reply = try await client.post(
                "/sigil/v1/conditions/evaluate", token: reader.token, Self.evaluation(Self.projectCondition, principal: inline, tag: "Baker"))
            #expect(reply["result"] == .bool(true), "\(reply.text)")
            let wrongType: JSONValue = ["customSecurityAttributes": ["Engineering": ["NumVendors": "four"]]]
            let bad = try await client.post(
                "/sigil/v1/conditions/evaluate", token: reader.token, Self.evaluation(Self.projectCondition, principal: wrongType, tag: "Baker"))
            #expect(bad.status.code == 400, "\(bad.text)")
        }
    }

    /// A caller who cannot read a set's values learns nothing about them: 403 before any
    /// evaluation, whatever the rest of the request says.
    @Test func leakRefusals() async throws {
        let f = try await Fixture.make()
        let marketingReader = try await f.tenant.servicePrincipal("Marketing", grants: [.set(.attributeAssignmentReader, "Marketing")])
        let definitionAdmin = try await f.tenant.servicePrincipal("Definitions", grants: [.tenant(.attributeDefinitionAdministrator)])
        let nobody = try await f.tenant.servicePrincipal("Nobody")
        let guest = try await f.tenant.user("Guest", guest: true, grants: [.tenant(.attributeAssignmentReader)])
        try await f.tenant.test { client in
            try await Self.assignCascade(client, f)
            let user: JSONValue = ["type": "user", "id": .string(f.userId)]
            for token in [marketingReader.token, definitionAdmin.token, nobody.token, guest.token] {
                for path in ["/sigil/v1/conditions/evaluate", "/sigil/v1/conditions/validate"] {
                    let reply = try await client.post(path, token: token, Self.evaluation(Self.projectCondition, principal: user, tag: "Cascade"))
                    reply.expectError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
                }
            }
            // Its own set is fine.
            let own = try await client.post(
                "/sigil/v1/conditions/evaluate", token: marketingReader.token, Self.evaluation(Self.marketingCondition, principal: user, tag: "x"))
            #expect(own["result"] == .bool(true), "\(own.text)")
            // Naming a readable and an unreadable set is refused.
            let mixed = try await client.post(
                "/sigil/v1/conditions/evaluate", token: marketingReader.token,
                Self.evaluation("\(Self.marketingCondition) AND (\(Self.projectCondition))", principal: user, tag: "Cascade"))
            mixed.expectError(403, "Authorization_RequestDenied")
            let anonymous = try await client.post("/sigil/v1/conditions/validate", token: nil, ["condition": "x"])
            #expect(anonymous.status.code == 401)
        }
    }

    @Test func validateListsAttributesOrThePosition() async throws {
        let f = try await Fixture.make()
        let reader = try await f.tenant.servicePrincipal("Reader", grants: [.tenant(.attributeAssignmentReader)])
        try await f.tenant.test { client in
            let valid = try await client.post("/sigil/v1/conditions/validate", token: reader.token, ["condition": .string(Self.projectCondition)])
            #expect(valid["valid"] == .bool(true), "\(valid.text)")
            let attributes = valid["attributes"]?.arrayValue?.compactMap { $0.objectValue?["text"]?.stringValue } ?? []
            #expect(
                attributes == [
                    "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project]",
                    "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>]",
                ])

            let mixed = try await client.post(
                "/sigil/v1/conditions/validate", token: reader.token, ["condition": "@Resource[a] StringEquals 'x' AND @Resource[b] StringEquals 'y' OR @Resource[c] StringEquals 'z'"])
            #expect(mixed["valid"] == .bool(false))
            let error = mixed["error"]?.objectValue
            #expect(error?["position"] == .integer(65), "\(mixed.text)")
            #expect(error?["message"]?.stringValue?.hasPrefix("The given role assignment condition is invalid. Position 65:") == true)

            let unknown = try await client.post(
                "/sigil/v1/conditions/validate", token: reader.token,
                ["condition": "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Nope] StringEquals 'x'"])
            #expect(unknown["error"]?.objectValue?["reason"]?.stringValue == "Custom security attribute 'Engineering_Nope' does not exist.")
            // A collection needs a quantifier.
            let scalar = try await client.post(
                "/sigil/v1/conditions/validate", token: reader.token,
                ["condition": "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project] StringEquals 'x'"])
            #expect(scalar["valid"] == .bool(false), "\(scalar.text)")

            let version = try await client.post(
                "/sigil/v1/conditions/evaluate", token: reader.token, ["condition": .string(Self.projectCondition), "conditionVersion": "1.0"])
            #expect(version.status.code == 400)
            #expect(version.errorMessage?.hasPrefix("The given role assignment condition is invalid.") == true, "\(version.text)")
            let broken = try await client.post("/sigil/v1/conditions/evaluate", token: reader.token, ["condition": "@Resource[a] StringEquals"])
            broken.expectError(400, "Request_BadRequest")
            let extra = try await client.post("/sigil/v1/conditions/evaluate", token: reader.token, ["condition": "x", "color": "red"])
            extra.expectError(400, "Request_BadRequest", "Invalid property 'color'.")
            // The schema types condition and ruleId as strings: null is refused, not read as absent.
            let nullRule = try await client.post("/sigil/v1/conditions/validate", token: reader.token, ["condition": "", "ruleId": .null])
            nullRule.expectError(400, "Request_BadRequest", "Property 'ruleId' must be a string.")
            let nullCondition = try await client.post("/sigil/v1/conditions/evaluate", token: reader.token, ["condition": .null])
            nullCondition.expectError(400, "Request_BadRequest", "Property 'condition' must be a string.")
        }
    }
}
