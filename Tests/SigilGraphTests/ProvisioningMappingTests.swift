import Foundation
import HTTPTypes
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilGraph
@testable import SigilService

/// The administrator-configured provisioning mapping (`/sigil/v1/provisioning/mapping`) and
/// bulkUpload under it, in-process against the store the suite runs on.
@Suite struct ProvisioningMappingTests {
    typealias Inbound = InboundProvisioningTests

    static let path = "/sigil/v1/provisioning/mapping"
    static let acme = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"

    static func put(_ client: GraphClient, _ body: JSONValue, token: String) async throws -> GraphReply {
        try await client.send(.put, path, token: token, body: body.serializedString)
    }

    /// An operation of the Postman sample's shape with `extra` members added to its user.
    static func operation(_ externalId: String, _ alias: String, values: JSONValue = [:], extra: JSONValue) -> JSONValue {
        var op = Inbound.operation(
            externalId, alias, given: "Given", family: alias, title: "Engineer", department: "R&D", values: values)
        if case .object(var members) = op, case .object(var data)? = members["data"] {
            for (key, value) in extra.objectValue ?? JSONObject() { data[key] = value }
            members["data"] = .object(data)
            op = .object(members)
        }
        return op
    }

    static func csa(_ user: JSONObject?, _ set: String) -> JSONObject? {
        user?[ScimURN.customSecurityAttributes]?.objectValue?[set]?.objectValue
    }

    @Test func aConfiguredMappingWritesMappedSourcesAndMatchesByUserName() async throws {
        let s = try await Inbound.make()
        try await s.tenant.test { client in
            let unset = try await client.get(Self.path, token: s.reader)
            #expect(unset.status == .ok, "\(unset.text)")
            #expect(unset["matchingIdentifier"] == "externalId")
            #expect(unset["attributeMappings"] == [])

            let saved = try await Self.put(
                client,
                [
                    "matchingIdentifier": "userName",
                    "attributeMappings": [
                        ["source": .string("\(Self.acme):costCenter"), "target": "engineering_costcenter"],
                        ["source": .string("\(ScimURN.enterpriseUser):employeeNumber"), "target": "Marketing_EmployeeId"],
                    ],
                ], token: s.writer.token)
            #expect(saved.status == .ok, "\(saved.text)")
            // Targets as the schema spells them.
            #expect(saved["attributeMappings"]?.arrayValue?.first?.objectValue?["target"] == "Engineering_CostCenter")
            #expect(try await client.get(Self.path, token: s.reader).object == saved.object)

            let job = try await Inbound.startedJob(client, s)
            let first = Self.operation(
                "900001", "mapped", values: ["Engineering_Project": ["Alpine"], "Engineering_CostCenter": [9999]],
                extra: [Self.acme: ["costCenter": [1001, 1002]]])
            let upload = try await Inbound.upload(client, s, job: job, Inbound.request([first]))
            #expect(upload.status == .accepted, "\(upload.text)")
            let user = try #require(try await Inbound.scimUser(client, s, "900001").first)
            // The mapped source wins over the default name of its target; unmapped default names still work.
            #expect(Self.csa(user, "Engineering")?["CostCenter"] == [1001, 1002], "\(user)")
            #expect(Self.csa(user, "Engineering")?["Project"] == ["Alpine"])
            #expect(Self.csa(user, "Marketing")?["EmployeeId"] == "900001")

            // Matched by userName: a new externalId updates the same user instead of creating one.
            let count = try await s.tenant.store.count(.user)
            let second = Self.operation("900002", "mapped", extra: [Self.acme: ["costCenter": [1003]]])
            #expect(try await Inbound.upload(client, s, job: job, Inbound.request([second])).status == .accepted)
            #expect(try await s.tenant.store.count(.user) == count)
            let again = try #require(try await Inbound.scimUser(client, s, "900002").first)
            #expect(again["id"] == user["id"])
            #expect(Self.csa(again, "Engineering")?["CostCenter"] == [1003])
            #expect(Self.csa(again, "Engineering")?["Project"] == ["Alpine"], "values the upload leaves out stay")
            let entries = Inbound.entries(try await Inbound.logs(client, "sourceIdentity/id eq 'mapped@contoso.com'", token: s.reader))
            #expect(entries.map { $0["provisioningAction"]?.stringValue } == ["update", "create"], "\(entries)")

            // Without userName the operation fails, logged, and writes nothing.
            var anonymous = Self.operation("900003", "nobody", extra: [:])
            if case .object(var op) = anonymous, case .object(var data)? = op["data"] {
                data["userName"] = nil
                op["data"] = .object(data)
                anonymous = .object(op)
            }
            #expect(try await Inbound.upload(client, s, job: job, Inbound.request([anonymous])).status == .accepted)
            let failed = Inbound.entries(try await Inbound.logs(client, "jobid eq '\(job)' and statusInfo/status eq 'failure'", token: s.reader))
            #expect(failed.first?["statusInfo"]?.objectValue?["reason"]?.stringValue?.contains("'userName' is required") == true, "\(failed)")
            #expect(try await s.tenant.store.count(.user) == count)

            // Value changes name the provisioning application as initiator; the mapping change is
            // one record of its own category, also by the application.
            let audits = try await s.tenant.store.auditRecords(AuditQuery(), after: nil, limit: 100).records
            #expect(!audits.isEmpty)
            let initiators = audits.map { try? JSON.parse($0.json).objectValue?["initiatedBy"]?.objectValue?["app"]?.objectValue?["servicePrincipalId"] }
            #expect(initiators.allSatisfy { $0 == .string(s.writer.id) }, "\(audits.map(\.json))")
            try await s.tenant.store.sealAudit()
            let chain = try await s.tenant.store.auditChain(after: 0, limit: 1000).compactMap { try? AuditService.decode($0) }
            let mappingRecords = chain.filter { $0["category"] == "ProvisioningManagement" }
            #expect(mappingRecords.compactMap { $0["activityDisplayName"]?.stringValue } == ["Update provisioning mapping"])
            #expect(mappingRecords.first?["initiatedBy"]?.objectValue?["app"]?.objectValue?["servicePrincipalId"] == .string(s.writer.id))
        }
    }

    @Test func mappedValuesAreValidatedLikeAPatch() async throws {
        let s = try await Inbound.make()
        let definer = try await s.tenant.servicePrincipal("Definer", grants: [.tenant(.attributeDefinitionAdministrator)])
        try await s.tenant.test { client in
            let saved = try await Self.put(
                client,
                [
                    "attributeMappings": [
                        ["source": .string("\(Self.acme):costCenter"), "target": "Engineering_CostCenter"],
                        ["source": .string("\(Self.acme):projects"), "target": "Engineering_Project"],
                        ["source": "name.honorificPrefix", "target": "Engineering_ProjectDate"],
                    ]
                ], token: s.writer.token)
            #expect(saved.status == .ok, "\(saved.text)")
            let deprecate = try await client.patch(
                "/v1.0/directory/customSecurityAttributeDefinitions/Engineering_ProjectDate", token: definer.token,
                ["status": "Deprecated"])
            #expect(deprecate.status == .noContent, "\(deprecate.text)")
            let job = try await Inbound.startedJob(client, s)
            let before = try await s.tenant.store.count(.user)
            let body = Inbound.request([
                Self.operation("910001", "wrongtype", extra: [Self.acme: ["costCenter": "many"]]),
                Self.operation("910002", "notallowed", extra: [Self.acme: ["projects": ["Nope"]]]),
                Self.operation("910003", "deactivated", extra: ["name": ["givenName": "D", "honorificPrefix": "Dr"]]),
            ])
            #expect(try await Inbound.upload(client, s, job: job, body).status == .accepted)
            #expect(try await s.tenant.store.count(.user) == before)
            let failures = Inbound.entries(
                try await Inbound.logs(client, "jobid eq '\(job)' and statusInfo/status eq 'failure'", token: s.reader))
            #expect(failures.map { $0["sourceIdentity"]?.objectValue?["id"]?.stringValue } == ["910003", "910002", "910001"])
            let reasons = failures.map { $0["statusInfo"]?.objectValue?["reason"]?.stringValue ?? "" }
            #expect(reasons.count == 3)
            #expect(reasons.first?.contains("ProjectDate") == true, "\(reasons)")
            #expect(reasons.dropFirst().first?.contains("Nope") == true, "\(reasons)")
            #expect(reasons.last?.contains("Engineering_CostCenter") == true, "\(reasons)")
            for id in ["910001", "910002", "910003"] {
                #expect(try await Inbound.scimUser(client, s, id).isEmpty, "\(id)")
            }
        }
    }

    @Test func badMappingsAreRefusedInGraphsEnvelopeAndChangeNothing() async throws {
        let s = try await Inbound.make()
        try await s.tenant.test { client in
            let good: JSONValue = ["attributeMappings": [["source": .string("\(Self.acme):costCenter"), "target": "Engineering_CostCenter"]]]
            #expect(try await Self.put(client, good, token: s.writer.token).status == .ok)
            let cases: [(JSONValue, String)] = [
                (["attributeMappings": [["source": "userType", "target": "Engineering_Nope"]]], "Engineering_Nope"),
                (["attributeMappings": [["source": "userType", "target": "NoSeparator"]]], "NoSeparator"),
                (
                    [
                        "attributeMappings": [
                            ["source": .string("\(Self.acme):costCenter"), "target": "Engineering_CostCenter"],
                            ["source": .string("\(Self.acme.uppercased()):COSTCENTER"), "target": "Engineering_NumVendors"],
                        ]
                    ], "mapped more than once"
                ),
                (
                    [
                        "attributeMappings": [
                            ["source": "userType", "target": "Engineering_NumVendors"],
                            ["source": "title", "target": "engineering_numvendors"],
                        ]
                    ], "Target 'Engineering_NumVendors' is mapped more than once"
                ),
                (["attributeMappings": [["source": "urn:acme", "target": "Engineering_NumVendors"]]], "urn:acme"),
                (["attributeMappings": [["source": "urn::x:costCenter", "target": "Engineering_NumVendors"]]], "urn::x:costCenter"),
                (["attributeMappings": [["source": "name..givenName", "target": "Engineering_NumVendors"]]], "name..givenName"),
                (["attributeMappings": [["source": "userType"]]], "'target' is required"),
                (["attributeMappings": [["source": "userType", "target": "Engineering_NumVendors", "x": 1]]], "'x'"),
                (["matchingIdentifier": "mail"], "matchingIdentifier"),
                (["colour": "red"], "colour"),
                ("text", "provisioning mapping object"),
            ]
            for (body, named) in cases {
                let reply = try await Self.put(client, body, token: s.writer.token)
                reply.expectError(400, "Request_BadRequest")
                #expect(reply.errorMessage?.contains(named) == true, "\(named): \(reply.text)")
            }
            try await client.send(.put, Self.path, token: s.writer.token, body: "{", contentType: "application/json")
                .expectError(400, "Request_BadRequest")
            let kept = try await client.get(Self.path, token: s.reader)
            #expect(kept["attributeMappings"] == good.objectValue?["attributeMappings"], "\(kept.text)")
            #expect(kept["matchingIdentifier"] == "externalId")
        }
    }

    /// Expected statuses per role at tenant scope, written out independently of the code: read
    /// the mapping, replace it.
    // swift-format-ignore
    static let matrix: [DirectoryRole: [Int]] = [
        .attributeDefinitionAdministrator:   [403, 403],
        .attributeDefinitionReader:          [403, 403],
        .attributeAssignmentAdministrator:   [403, 403],
        .attributeAssignmentReader:          [403, 403],
        .attributeLogAdministrator:          [403, 403],
        .attributeLogReader:                 [403, 403],
        .attributeProvisioningAdministrator: [200, 200],
        .attributeProvisioningReader:        [200, 403],
        .globalAdministrator:                [200, 200],
        .privilegedRoleAdministrator:        [403, 403],
        .userAdministrator:                  [403, 403],
        .conditionalAccessAdministrator:     [403, 403],
        .securityAdministrator:              [403, 403],
        .securityReader:                     [403, 403],
        .globalReader:                       [200, 403],
        .attributeAccessAdministrator:       [403, 403],
        .attributeAccessEvaluator:           [403, 403],
    ]

    @Test(arguments: DirectoryRole.allCases)
    func eachRoleReachesWhatTheMatrixSays(_ role: DirectoryRole) async throws {
        let s = try await Inbound.make()
        let caller = try await s.tenant.servicePrincipal("Caller", grants: [.tenant(role)])
        try await s.tenant.test { client in
            let statuses = [
                try await client.get(Self.path, token: caller.token).status.code,
                try await Self.put(client, ["matchingIdentifier": "userName"], token: caller.token).status.code,
            ]
            #expect(statuses == Self.matrix[role], "\(role)")
            // A refused replacement changes nothing.
            let expected = Self.matrix[role]?[1] == 200 ? "userName" : "externalId"
            #expect(try await client.get(Self.path, token: s.reader)["matchingIdentifier"] == .string(expected))
        }
    }

    @Test func guestsAndAnonymousCallersAreRefused() async throws {
        let s = try await Inbound.make()
        let guest = try await s.tenant.user("Visitor", guest: true, grants: [.tenant(.attributeProvisioningAdministrator)])
        try await s.tenant.test { client in
            try await client.get(Self.path, token: guest.token).expectError(403, "Authorization_RequestDenied")
            try await Self.put(client, ["matchingIdentifier": "userName"], token: guest.token)
                .expectError(403, "Authorization_RequestDenied")
            try await client.get(Self.path, token: nil).expectError(401, "InvalidAuthenticationToken")
            // Not inside Graph's namespaces.
            let graph = try await client.get("/v1.0/provisioning/mapping", token: s.reader)
            #expect(graph.status.code == 404 || graph.status.code == 400, "\(graph.status) \(graph.text)")
        }
    }
}
