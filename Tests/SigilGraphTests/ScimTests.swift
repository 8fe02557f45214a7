import Foundation
import HTTPTypes
import Logging
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilGraph
@testable import SigilService

/// `/scim/v2`: discovery, Users, filters, PATCH, ETags, Bulk and SCIM errors, as a provisioning
/// application holding Attribute Provisioning Administrator sees them (docs/api.md, "SCIM").
@Suite struct ScimTests {
    typealias Fixture = SeedConformanceTests.Fixture

    static let csa = ScimURN.customSecurityAttributes
    static let flat = ScimURN.flatCustomSecurityAttributes

    struct Provisioning {
        let fixture: Fixture
        let writer: String
        let writerId: String
        let reader: String
    }

    static func make() async throws -> Provisioning {
        let fixture = try await Fixture.make()
        let writer = try await fixture.tenant.servicePrincipal("HR inbound", grants: [.tenant(.attributeProvisioningAdministrator)])
        let reader = try await fixture.tenant.servicePrincipal("HR monitor", grants: [.tenant(.attributeProvisioningReader)])
        return Provisioning(fixture: fixture, writer: writer.token, writerId: writer.id, reader: reader.token)
    }

    static func send(
        _ client: GraphClient, _ method: HTTPRequest.Method, _ path: String, token: String?, _ body: JSONValue? = nil,
        headers: [String: String] = [:]
    ) async throws -> GraphReply {
        try await client.send(
            method, "/scim/v2" + path, token: token, body: body?.serializedString, headers: headers, contentType: "application/scim+json")
    }

    static func user(_ userName: String, externalId: String? = nil, values: JSONValue? = nil) -> JSONValue {
        let schemas: [JSONValue] = [.string(ScimURN.user)] + (values == nil ? [] : [.string(csa)])
        var out = JSONObject([("schemas", .array(schemas))])
        out.append("userName", .string(userName))
        if let externalId { out.append("externalId", .string(externalId)) }
        out.append("name", ["givenName": "Ada", "familyName": "Lovelace"])
        out.append("emails", [["value": .string(userName), "type": "work", "primary": true]])
        if let values { out.append(csa, values) }
        return .object(out)
    }

    static func expectScimError(
        _ reply: GraphReply, _ status: Int, _ scimType: String?, mentioning text: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(reply.status.code == status, "\(reply.text)", sourceLocation: sourceLocation)
        #expect(reply["schemas"] == [.string(ScimURN.error)], "\(reply.text)", sourceLocation: sourceLocation)
        #expect(reply["status"] == .string(String(status)), "\(reply.text)", sourceLocation: sourceLocation)
        #expect(reply["scimType"]?.stringValue == scimType, "\(reply.text)", sourceLocation: sourceLocation)
        if let text {
            #expect(reply["detail"]?.stringValue?.contains(text) == true, "\(reply.text)", sourceLocation: sourceLocation)
        }
    }

    static func userCount(_ p: Provisioning) async throws -> Int { try await p.fixture.tenant.store.count(.user) }

    // MARK: Discovery and access

    @Test func discoveryAdvertisesTheLimitsAndGeneratesTheAttributeSchema() async throws {
        let p = try await Self.make()
        try await p.fixture.tenant.test { client in
            let config = try await Self.send(client, .get, "/ServiceProviderConfig", token: p.reader)
            #expect(config.status == .ok, "\(config.text)")
            #expect(config.header("Content-Type")?.hasPrefix("application/scim+json") == true)
            let bulk = config["bulk"]?.objectValue
            #expect(bulk?["maxOperations"] == .integer(Int64(ScimLimits.bulkMaxOperations)))
            #expect(bulk?["maxPayloadSize"] == .integer(Int64(ScimLimits.bulkMaxPayloadSize)))
            #expect(config["etag"] == ["supported": true])

            let types = try await Self.send(client, .get, "/ResourceTypes", token: p.reader)
            #expect(types["totalResults"] == 1, "\(types.text)")

            let schema = try await Self.send(client, .get, "/Schemas/\(Self.csa)", token: p.reader)
            #expect(schema.status == .ok, "\(schema.text)")
            let sets = schema["attributes"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(sets.map { $0["name"]?.stringValue } == ["Engineering", "Marketing"], "\(schema.text)")
            let engineering = sets.first?["subAttributes"]?.arrayValue?.compactMap(\.objectValue) ?? []
            let project = engineering.first { $0["name"] == "Project" }
            #expect(project?["type"] == "string")
            #expect(project?["multiValued"] == true)
            #expect(project?["canonicalValues"] == ["Alpine", "Baker", "Cascade"])
            #expect(engineering.first { $0["name"] == "NumVendors" }?["type"] == "integer")
            #expect(engineering.first { $0["name"] == "Certification" }?["type"] == "boolean")
            let all = try await Self.send(client, .get, "/Schemas", token: p.reader)
            #expect(all["totalResults"] == 3, "\(all.text)")
        }
    }

    @Test func onlyProvisioningRolesReachScimAndOnlyTheAdministratorWrites() async throws {
        let p = try await Self.make()
        try await p.fixture.tenant.test { client in
            Self.expectScimError(try await Self.send(client, .get, "/Users", token: nil), 401, nil)
            // Attribute Assignment Administrator writes values through Graph, not through SCIM.
            Self.expectScimError(try await Self.send(client, .get, "/Users", token: p.fixture.admin), 403, nil)
            let before = try await Self.userCount(p)
            Self.expectScimError(
                try await Self.send(client, .post, "/Users", token: p.reader, Self.user("reader@contoso.com")), 403, nil)
            #expect(try await Self.userCount(p) == before)
            #expect(try await Self.send(client, .get, "/Users", token: p.reader).status == .ok)
        }
    }

    @Test func provisioningRolesAreTenantWideOnly() {
        #expect(!DirectoryRole.attributeProvisioningAdministrator.allowsAttributeSetScope)
        #expect(!DirectoryRole.attributeProvisioningReader.allowsAttributeSetScope)
    }

    // MARK: Users

    @Test func createWritesValuesValidatedAndAuditedAsTheProvisioningApp() async throws {
        let p = try await Self.make()
        try await p.fixture.tenant.test { client in
            let values: JSONValue = ["Engineering": ["Project": ["Baker"], "NumVendors": 3, "Certification": true]]
            let created = try await Self.send(
                client, .post, "/Users", token: p.writer, Self.user("ada@contoso.com", externalId: "E100", values: values))
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created["id"]?.stringValue)
            #expect(created.header("Location")?.hasSuffix("/scim/v2/Users/\(id)") == true)
            #expect(created.header("ETag") == created["meta"]?.objectValue?["version"]?.stringValue)
            #expect(created["userName"] == "ada@contoso.com")
            #expect(created["externalId"] == "E100")
            #expect(created["active"] == true)
            #expect(created[Self.csa] == ["Engineering": ["Project": ["Baker"], "NumVendors": 3, "Certification": true]], "\(created.text)")

            // The same values through Graph, and employeeId carries externalId.
            let graph = try await client.get("/v1.0/users/\(id)?$select=employeeId,customSecurityAttributes", token: p.fixture.admin)
            #expect(graph["employeeId"] == "E100", "\(graph.text)")
            #expect(graph["customSecurityAttributes"]?.objectValue?["Engineering"]?.objectValue?["NumVendors"] == 3, "\(graph.text)")

            // Audited, the provisioning application as initiator.
            let audit = try await p.fixture.tenant.store.auditRecords(AuditQuery(), after: nil, limit: 50)
            let record = try #require(audit.records.last { $0.json.contains(id) })
            #expect(record.json.contains(p.writerId), "\(record.json)")
            #expect(record.json.contains("Update attribute values assigned to a user"), "\(record.json)")

            // The flat input shape of HR sources maps to the same attributes.
            let flat = try await Self.send(
                client, .post, "/Users", token: p.writer,
                [
                    "schemas": [.string(ScimURN.user), .string(Self.flat)], "userName": "bo@contoso.com",
                    Self.flat: ["Engineering_ProjectDate": "2025-01-31", "Marketing_AppCountry": ["NZ", "FR"]],
                ])
            #expect(flat.status == .created, "\(flat.text)")
            #expect(flat[Self.csa] == ["Engineering": ["ProjectDate": "2025-01-31"], "Marketing": ["AppCountry": ["NZ", "FR"]]], "\(flat.text)")
        }
    }

    @Test(arguments: [
        ("urn:ietf:params:scim:schemas:extension:contoso:1.0:User", "Unknown schema"),
        ("NumVendors-wrong-type", "NumVendors"),
        ("Project-not-predefined", "Zulu"),
        ("unknown-attribute", "Engineering.Colour"),
        ("unsupported-core", "nickName"),
    ])
    func badInputIsRefusedNamingItAndWritesNothing(_ fault: String, _ named: String) async throws {
        let p = try await Self.make()
        var body = Self.user("bad@contoso.com", values: ["Engineering": ["NumVendors": 3]]).objectValue ?? JSONObject()
        switch fault {
        case "NumVendors-wrong-type": body[Self.csa] = ["Engineering": ["NumVendors": "three"]]
        case "Project-not-predefined": body[Self.csa] = ["Engineering": ["Project": ["Zulu"]]]
        case "unknown-attribute": body[Self.csa] = ["Engineering": ["Colour": "red"]]
        case "unsupported-core": body["nickName"] = "Bad"
        default:
            body["schemas"] = [.string(ScimURN.user), .string(fault)]
            body[fault] = ["HireDate": "2024"]
        }
        let sent = body
        try await p.fixture.tenant.test { client in
            let before = try await Self.userCount(p)
            let reply = try await Self.send(client, .post, "/Users", token: p.writer, .object(sent))
            Self.expectScimError(reply, 400, "invalidValue", mentioning: named)
            #expect(try await Self.userCount(p) == before)
        }
    }

    @Test func malformedJSONIsASyntaxError() async throws {
        let p = try await Self.make()
        try await p.fixture.tenant.test { client in
            let reply = try await client.send(
                .post, "/scim/v2/Users", token: p.writer, body: "{\"schemas\": [", contentType: "application/scim+json")
            Self.expectScimError(reply, 400, "invalidSyntax")
        }
    }

    @Test func duplicateUserNameIsAUniquenessConflict() async throws {
        let p = try await Self.make()
        try await p.fixture.tenant.test { client in
            #expect(try await Self.send(client, .post, "/Users", token: p.writer, Self.user("cy@contoso.com")).status == .created)
            Self.expectScimError(try await Self.send(client, .post, "/Users", token: p.writer, Self.user("cy@contoso.com")), 409, "uniqueness")
        }
    }

    @Test func filtersPagingAndProjection() async throws {
        let p = try await Self.make()
        try await p.fixture.tenant.test { client in
            for (index, project) in ["Alpine", "Baker", "Baker", "Cascade"].enumerated() {
                let reply = try await Self.send(
                    client, .post, "/Users", token: p.writer,
                    Self.user("hr\(index)@contoso.com", externalId: "E\(index)", values: ["Engineering": ["Project": [.string(project)]]]))
                #expect(reply.status == .created, "\(reply.text)")
            }
            func names(_ filter: String, _ extra: String = "") async throws -> [String] {
                let query = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                let reply = try await Self.send(client, .get, "/Users?filter=\(query)\(extra)", token: p.reader)
                #expect(reply.status == .ok, "\(filter): \(reply.text)")
                return (reply["Resources"]?.arrayValue ?? []).compactMap { $0.objectValue?["userName"]?.stringValue }.sorted()
            }
            #expect(try await names("userName eq \"HR1@contoso.com\"") == ["hr1@contoso.com"])
            #expect(try await names("externalId eq \"E2\"") == ["hr2@contoso.com"])
            #expect(try await names("emails.value sw \"hr3\"") == ["hr3@contoso.com"])
            #expect(try await names("\(Self.csa):Engineering.Project eq \"Baker\"") == ["hr1@contoso.com", "hr2@contoso.com"])
            #expect(
                try await names("\(Self.csa):Engineering.Project eq \"Baker\" and externalId eq \"E2\" or userName sw \"hr0\"")
                    == ["hr0@contoso.com", "hr2@contoso.com"])
            #expect(try await names("\(Self.flat):Engineering_Project sw \"Cas\"") == ["hr3@contoso.com"])
            Self.expectScimError(
                try await Self.send(client, .get, "/Users?filter=nickName%20eq%20%22x%22", token: p.reader), 400, "invalidFilter",
                mentioning: "nickName")

            let page = try await Self.send(client, .get, "/Users?filter=userName%20sw%20%22hr%22&startIndex=2&count=2", token: p.reader)
            #expect(page["totalResults"] == 4, "\(page.text)")
            #expect(page["startIndex"] == 2)
            #expect(page["itemsPerPage"] == 2)

            let projected = try await Self.send(
                client, .get, "/Users?filter=externalId%20eq%20%22E0%22&attributes=userName,\(Self.csa):Engineering.Project", token: p.reader)
            let first = projected["Resources"]?.arrayValue?.first?.objectValue
            #expect(first?.keys == ["schemas", "id", "userName", Self.csa], "\(projected.text)")
            let excluded = try await Self.send(client, .get, "/Users?filter=externalId%20eq%20%22E0%22&excludedAttributes=emails,name", token: p.reader)
            let kept = excluded["Resources"]?.arrayValue?.first?.objectValue
            #expect(kept?["emails"] == nil && kept?["name"] == nil && kept?["userName"] != nil, "\(excluded.text)")
        }
    }

    @Test func patchReplaceAndDeleteWithETags() async throws {
        let p = try await Self.make()
        try await p.fixture.tenant.test { client in
            let created = try await Self.send(
                client, .post, "/Users", token: p.writer,
                Self.user("di@contoso.com", externalId: "E9", values: ["Engineering": ["Project": ["Alpine"], "NumVendors": 1]]))
            let id = try #require(created["id"]?.stringValue)
            let version = try #require(created.header("ETag"))

            let patch: JSONValue = [
                "schemas": [.string(ScimURN.patchOp)],
                "Operations": [
                    ["op": "add", "path": .string("\(Self.csa):Engineering.Project"), "value": ["Baker"]],
                    ["op": "Replace", "path": .string("\(Self.csa):Engineering.NumVendors"), "value": 7],
                    ["op": "replace", "path": "emails[type eq \"work\"].value", "value": "di.new@contoso.com"],
                    ["op": "replace", "value": ["active": false, "title": "Engineer"]],
                ],
            ]
            let patched = try await Self.send(client, .patch, "/Users/\(id)", token: p.writer, patch, headers: ["If-Match": version])
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched[Self.csa] == ["Engineering": ["Project": ["Alpine", "Baker"], "NumVendors": 7]], "\(patched.text)")
            #expect(patched["active"] == false)
            #expect(patched["title"] == "Engineer")
            #expect(patched["emails"]?.arrayValue?.first?.objectValue?["value"] == "di.new@contoso.com")

            // The old version no longer matches: nothing changes.
            let stale = try await Self.send(
                client, .patch, "/Users/\(id)", token: p.writer,
                ["schemas": [.string(ScimURN.patchOp)], "Operations": [["op": "remove", "path": .string("\(Self.csa):Engineering.NumVendors")]]],
                headers: ["If-Match": version])
            Self.expectScimError(stale, 412, nil)
            #expect(try await Self.send(client, .get, "/Users/\(id)", token: p.reader)[Self.csa] == patched[Self.csa])

            // A bad value in a PATCH is refused whole.
            let bad = try await Self.send(
                client, .patch, "/Users/\(id)", token: p.writer,
                [
                    "schemas": [.string(ScimURN.patchOp)],
                    "Operations": [
                        ["op": "replace", "path": "title", "value": "Changed"],
                        ["op": "add", "path": .string("\(Self.csa):Engineering.Project"), "value": ["Zulu"]],
                    ],
                ])
            Self.expectScimError(bad, 400, "invalidValue", mentioning: "Zulu")
            #expect(try await Self.send(client, .get, "/Users/\(id)", token: p.reader)["title"] == "Engineer")

            // PUT replaces: attributes left out are removed.
            let replaced = try await Self.send(
                client, .put, "/Users/\(id)", token: p.writer,
                Self.user("di@contoso.com", externalId: "E9", values: ["Marketing": ["AppCountry": ["NZ"]]]))
            #expect(replaced.status == .ok, "\(replaced.text)")
            #expect(replaced[Self.csa] == ["Marketing": ["AppCountry": ["NZ"]]], "\(replaced.text)")
            #expect(replaced["title"] == nil)

            let removed = try await Self.send(client, .delete, "/Users/\(id)", token: p.writer)
            #expect(removed.status == .noContent)
            Self.expectScimError(try await Self.send(client, .get, "/Users/\(id)", token: p.reader), 404, nil)
        }
    }

    // MARK: Bulk

    @Test func bulkResolvesBulkIdsAndReportsEachOperation() async throws {
        let p = try await Self.make()
        try await p.fixture.tenant.test { client in
            let body: JSONValue = [
                "schemas": [.string(ScimURN.bulkRequest)],
                "Operations": [
                    // Refers to a user created further down: that operation runs first.
                    [
                        "method": "PATCH", "path": "/Users/bulkId:ann",
                        "data": [
                            "schemas": [.string(ScimURN.patchOp)],
                            "Operations": [["op": "add", "path": .string("\(Self.csa):Engineering.NumVendors"), "value": 5]],
                        ],
                    ],
                    ["method": "POST", "path": "/Users", "bulkId": "ann", "data": Self.user("ann@contoso.com", externalId: "A1")],
                    [
                        "method": "POST", "path": "/Users", "bulkId": "bad",
                        "data": Self.user("bad@contoso.com", values: ["Engineering": ["Project": ["Zulu"]]]),
                    ],
                ],
            ]
            let reply = try await Self.send(client, .post, "/Bulk", token: p.writer, body)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply["schemas"] == [.string(ScimURN.bulkResponse)])
            let results = reply["Operations"]?.arrayValue?.compactMap(\.objectValue) ?? []
            #expect(results.map { $0["status"]?.stringValue } == ["201", "200", "400"], "\(reply.text)")
            #expect(results.map { $0["bulkId"]?.stringValue } == ["ann", nil, "bad"])
            #expect(results[2]["response"]?.objectValue?["detail"]?.stringValue?.contains("Zulu") == true)
            let ann = try await Self.send(client, .get, "/Users?filter=externalId%20eq%20%22A1%22", token: p.reader)
            #expect(ann["Resources"]?.arrayValue?.first?.objectValue?[Self.csa] == ["Engineering": ["NumVendors": 5]], "\(ann.text)")
            #expect(try await p.fixture.tenant.store.object(.user, id: "bad@contoso.com") == nil)
        }
    }

    /// Operations share commits, `ProvisioningService.Provisioner.operationsPerCommit` to one (10
    /// here, so that a short Bulk spans three): each operation stays all or nothing on its own,
    /// and a reference reaches across commits.
    @Test func aBulkLongerThanOneCommitKeepsEachOperationOnItsOwn() async throws {
        let p = try await Self.make()
        let tenant = p.fixture.tenant
        let (perCommit, count) = (10, 25)
        let bad = 15
        var operations: [JSONValue] = [
            [
                "method": "PATCH", "path": "/Users/bulkId:last",
                "data": [
                    "schemas": [.string(ScimURN.patchOp)],
                    "Operations": [["op": "add", "path": .string("\(Self.csa):Engineering.NumVendors"), "value": 7]],
                ],
            ]
        ]
        for index in 1..<(count - 1) {
            let refused: JSONValue = ["Engineering": ["Project": ["Zulu"]]]
            let values: JSONValue = index == bad ? refused : ["Engineering": ["NumVendors": .integer(Int64(index))]]
            operations.append(
                [
                    "method": "POST", "path": "/Users", "bulkId": .string("u\(index)"),
                    "data": Self.user("u\(index)@contoso.com", externalId: "U\(index)", values: values),
                ])
        }
        operations.append(["method": "POST", "path": "/Users", "bulkId": "last", "data": Self.user("last@contoso.com", externalId: "LAST")])
        let before = try await Self.userCount(p)
        let caller = try await tenant.services.caller(principalId: p.writerId, isApp: true)
        let provisioner = try ProvisioningService(services: tenant.services).provisioner(for: caller)
        let answer = try await provisioner.bulk(
            ["schemas": [.string(ScimURN.bulkRequest)], "Operations": .array(operations)],
            as: Initiator(
                caller: caller,
                audit: AuditContext(
                    initiatedBy: caller.auditInitiator(ipAddress: nil), correlationId: "bulk-test", userAgent: nil),
                logger: Logger(label: "test")),
            location: { "https://sigil.test/scim/v2/Users/\($0)" }, operationsPerCommit: perCommit)
        let results = answer["Operations"]?.arrayValue?.compactMap(\.objectValue) ?? []
        #expect(results.count == count)
        #expect(results.first?["bulkId"] == "last", "the referenced operation, in the last commit, ran first")
        #expect(results.filter { $0["status"] == "201" }.count == count - 2)
        #expect(results.filter { $0["status"] == "200" }.count == 1)
        #expect(results.filter { $0["status"] == "400" }.map { $0["bulkId"] } == [.string("u\(bad)")])
        #expect(try await Self.userCount(p) == before + count - 2)
        try await tenant.test { client in
            let last = try await Self.send(client, .get, "/Users?filter=externalId%20eq%20%22LAST%22", token: p.reader)
            #expect(last["Resources"]?.arrayValue?.first?.objectValue?[Self.csa] == ["Engineering": ["NumVendors": 7]], "\(last.text)")
            let late = try await Self.send(client, .get, "/Users?filter=externalId%20eq%20%22U\(count - 2)%22", token: p.reader)
            #expect(late["Resources"]?.arrayValue?.first?.objectValue?[Self.csa] == ["Engineering": ["NumVendors": .integer(Int64(count - 2))]])
        }
        #expect(try await tenant.store.object(.user, id: "u\(bad)@contoso.com") == nil)
    }

    @Test func bulkCycleFailsFailOnErrorsStopsAndLimitsRefuseWhole() async throws {
        let p = try await Self.make()
        try await p.fixture.tenant.test { client in
            let before = try await Self.userCount(p)
            // Each POST's data refers to the other's id: a cycle, neither written.
            var a = Self.user("a@contoso.com").objectValue ?? JSONObject()
            a["externalId"] = "bulkId:b"
            var b = Self.user("b@contoso.com").objectValue ?? JSONObject()
            b["externalId"] = "bulkId:a"
            let cycle = try await Self.send(
                client, .post, "/Bulk", token: p.writer,
                [
                    "schemas": [.string(ScimURN.bulkRequest)],
                    "Operations": [
                        ["method": "POST", "path": "/Users", "bulkId": "a", "data": .object(a)],
                        ["method": "POST", "path": "/Users", "bulkId": "b", "data": .object(b)],
                    ],
                ])
            let statuses = (cycle["Operations"]?.arrayValue ?? []).compactMap { $0.objectValue?["status"]?.stringValue }
            #expect(statuses == ["409", "409"], "\(cycle.text)")
            #expect(cycle.text.contains("circular"), "\(cycle.text)")
            #expect(try await Self.userCount(p) == before)

            // failOnErrors 1: the first failure stops the rest.
            let stop = try await Self.send(
                client, .post, "/Bulk", token: p.writer,
                [
                    "schemas": [.string(ScimURN.bulkRequest)], "failOnErrors": 1,
                    "Operations": [
                        ["method": "POST", "path": "/Users", "bulkId": "x", "data": ["schemas": [.string(ScimURN.user)]]],
                        ["method": "POST", "path": "/Users", "bulkId": "y", "data": Self.user("y@contoso.com")],
                    ],
                ])
            #expect((stop["Operations"]?.arrayValue ?? []).count == 1, "\(stop.text)")
            #expect(try await Self.userCount(p) == before)

            // More operations than maxOperations: 413, nothing written.
            let many = (0...ScimLimits.bulkMaxOperations).map { index -> JSONValue in
                ["method": "POST", "path": "/Users", "bulkId": .string("u\(index)"), "data": Self.user("u\(index)@contoso.com")]
            }
            let tooMany = try await Self.send(
                client, .post, "/Bulk", token: p.writer, ["schemas": [.string(ScimURN.bulkRequest)], "Operations": .array(many)])
            Self.expectScimError(tooMany, 413, nil, mentioning: "maxOperations")
            #expect(try await Self.userCount(p) == before)

            // A body beyond maxPayloadSize: 413, nothing written.
            let padding = String(repeating: "x", count: ScimLimits.bulkMaxPayloadSize)
            let large = try await Self.send(
                client, .post, "/Bulk", token: p.writer,
                [
                    "schemas": [.string(ScimURN.bulkRequest)],
                    "Operations": [["method": "POST", "path": "/Users", "bulkId": "p", "data": Self.user("p@contoso.com")]],
                    "padding": .string(padding),
                ])
            Self.expectScimError(large, 413, nil, mentioning: "maxPayloadSize")
            #expect(try await Self.userCount(p) == before)
        }
    }
}
