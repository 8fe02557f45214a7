import Foundation
import SigilCore
import Testing

@testable import SigilGraph
@testable import SigilService

/// Validation of custom security attribute writes (docs/compatibility.md, "Assignments"
/// decisions): every refused PATCH answers with a message naming what is wrong and writes
/// nothing, not even the valid change each refused body also carries.
@Suite struct AssignmentValidationTests {
    typealias Fixture = SeedConformanceTests.Fixture

    static let writeType = "#Microsoft.DirectoryServices.CustomSecurityAttributeValue"
    static let readType = "#microsoft.graph.customSecurityAttributeValue"

    /// What the user holds before each refused PATCH.
    static let seedMembers =
        ##""ProjectDate":"2024-11-15","Project@odata.type":"#Collection(String)","Project":["Baker"],"NumVendors@odata.type":"#Int32","NumVendors":4"##
    static let seedRead =
        ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2024-11-15","Project@odata.type":"#Collection(String)","Project":["Baker"],"NumVendors":4}}"##

    /// The valid change each refused body carries beside the fault (NumVendors is 4 before).
    static let validChange = ##""NumVendors":9"##

    /// `{"customSecurityAttributes":{<sets>}}`.
    static func body(_ sets: String) -> String { ##"{"customSecurityAttributes":{\##(sets)}}"## }

    /// One annotated set object, as a member of `customSecurityAttributes`.
    static func set(_ name: String, _ members: String, type: String = writeType) -> String {
        ##""\##(name)":{"@odata.type":"\##(type)",\##(members)}"##
    }

    static func engineering(_ members: String) -> String { body(set("Engineering", members)) }

    static func path(_ id: String) -> String { "/v1.0/users/\(id)" }

    /// `customSecurityAttributes` of a user as `token` reads it.
    static func read(
        _ client: GraphClient, _ id: String, token: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONValue? {
        let reply = try await client.get("\(path(id))?$select=customSecurityAttributes", token: token)
        #expect(reply.status == .ok, "\(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.object.contains("customSecurityAttributes"), "\(reply.text)", sourceLocation: sourceLocation)
        return reply["customSecurityAttributes"]
    }

    static func expectAccepted(
        _ client: GraphClient, _ id: String, token: String, _ body: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let reply = try await client.send(.patch, path(id), token: token, body: body)
        #expect(reply.status == .noContent, "\(reply.status) \(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.text.isEmpty, sourceLocation: sourceLocation)
    }

    /// Gives the fixture's user the seed values and checks they read back.
    static func seed(_ client: GraphClient, _ f: Fixture, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await expectAccepted(client, f.userId, token: f.admin, engineering(seedMembers), sourceLocation: sourceLocation)
        expectSameJSON(try await read(client, f.userId, token: f.admin), seedRead, sourceLocation: sourceLocation)
    }

    /// Sends a PATCH that must be refused: status, code, the message (exact, or naming each of
    /// `mentioning`), and a read-back exactly as before.
    static func expectRefused(
        _ client: GraphClient, _ f: Fixture, _ body: String, userId: String? = nil, token: String? = nil,
        status: Int = 400, code: String = "Request_BadRequest", message: String? = nil, mentioning: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let id = userId ?? f.userId
        let before = try await read(client, id, token: f.admin, sourceLocation: sourceLocation)
        let reply = try await client.send(.patch, path(id), token: token ?? f.admin, body: body)
        #expect(reply.status.code == status, "\(reply.status) \(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.errorCode == code, "\(reply.text)", sourceLocation: sourceLocation)
        if let message {
            #expect(reply.errorMessage == message, sourceLocation: sourceLocation)
        }
        for name in mentioning {
            #expect(
                reply.errorMessage?.contains(name) == true, "message \(reply.errorMessage ?? "nil") does not name \(name)",
                sourceLocation: sourceLocation)
        }
        let after = try await read(client, id, token: f.admin, sourceLocation: sourceLocation)
        #expect(
            after == before, "changed from \(before?.serializedString ?? "nil") to \(after?.serializedString ?? "nil")",
            sourceLocation: sourceLocation)
    }

    // MARK: Undefined names and the set object

    @Test func unknownSetIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, Self.body(Self.set("Engineering", Self.validChange) + "," + Self.set("Nope", ##""Project":"x""##)),
                message: "Invalid property 'Nope'.")
        }
    }

    @Test func unknownAttributeIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","Unknown":"x""##), message: "Invalid property 'Unknown'.")
            // An attribute of another set is not an attribute of this one.
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","EmployeeId":"GS1""##),
                message: "Invalid property 'EmployeeId'.")
        }
    }

    @Test func setWithoutODataTypeIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            // The valid change sits in another set, before the faulty one.
            try await Self.expectRefused(
                client, f,
                Self.body(Self.set("Marketing", ##""EmployeeId":"GS1""##) + ##","Engineering":{"NumVendors":9}"##),
                message: "Invalid property 'Engineering'.")
            // Serialized under another key, as some SDK callers did.
            try await Self.expectRefused(
                client, f, Self.body(##""Engineering":{"OdataType":"\##(Self.writeType)","NumVendors":9}"##),
                message: "Invalid property 'Engineering'.")
        }
    }

    // MARK: Wrong types

    @Test func stringForIntegerIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, Self.engineering(##""ProjectDate":"2025-01-01","NumVendors":"9""##),
                mentioning: ["Engineering_NumVendors", "Int32"])
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","CostCenter":["1001"]"##),
                mentioning: ["Engineering_CostCenter", "Collection(Int32)"])
        }
    }

    @Test func integerOutsideInt32IsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, Self.engineering(##""ProjectDate":"2025-01-01","NumVendors":2147483648"##),
                mentioning: ["Engineering_NumVendors", "Int32"])
            try await Self.expectRefused(
                client, f, Self.engineering(##""ProjectDate":"2025-01-01","NumVendors":-2147483649"##),
                mentioning: ["Engineering_NumVendors", "Int32"])
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","CostCenter":[1001,2147483648]"##),
                mentioning: ["Engineering_CostCenter", "Int32"])
        }
    }

    @Test func fractionalNumberForIntegerIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, Self.engineering(##""ProjectDate":"2025-01-01","NumVendors":4.5"##),
                mentioning: ["Engineering_NumVendors", "Int32"])
        }
    }

    @Test func arrayForSingleValuedAttributeIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","ProjectDate":["2025-01-01"]"##),
                mentioning: ["Engineering_ProjectDate", "String"])
            try await Self.expectRefused(
                client, f, Self.engineering(##""ProjectDate":"2025-01-01","NumVendors":[9]"##),
                mentioning: ["Engineering_NumVendors", "Int32"])
        }
    }

    @Test func scalarForCollectionIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","Project@odata.type":"#Collection(String)","Project":"Alpine""##),
                mentioning: ["Engineering_Project", "Collection(String)"])
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","CostCenter":1001"##),
                mentioning: ["Engineering_CostCenter", "Collection(Int32)"])
        }
    }

    // MARK: Predefined values, inactive values, deprecated attributes

    @Test func valueOutsidePredefinedListIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","Project":["Alpine","Delta"]"##),
                mentioning: ["Delta", "Engineering_Project"])
            // Values compare case-sensitively: "baker" is not "Baker".
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","Project":["baker"]"##),
                mentioning: ["'baker'", "Engineering_Project"])
            // The allowed ones pass.
            try await Self.expectAccepted(
                client, f.userId, token: f.admin, Self.engineering(##""Project":["Alpine","Baker","Cascade"]"##))
        }
    }

    @Test func inactivePredefinedValueGoesToNoNewObject() async throws {
        let f = try await Fixture.make()
        let definer = try await f.tenant.servicePrincipal("Definer", grants: [.tenant(.attributeDefinitionAdministrator)])
        let holder = try await f.tenant.user("Holder")
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectAccepted(client, holder.id, token: f.admin, Self.engineering(##""Project":["Baker","Cascade"]"##))
            let deactivate = try await client.patch(
                "/v1.0/directory/customSecurityAttributeDefinitions/Engineering_Project/allowedValues/Cascade",
                token: definer.token, ["isActive": false])
            #expect(deactivate.status == .noContent, "\(deactivate.text)")

            // The seeded user lacks Cascade: it may not get it.
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","Project":["Baker","Cascade"]"##),
                mentioning: ["Cascade", "Engineering_Project"])
            // The holder keeps it, may re-send it and may drop the other value beside it.
            expectSameJSON(
                try await Self.read(client, holder.id, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","Project@odata.type":"#Collection(String)","Project":["Baker","Cascade"]}}"##
            )
            try await Self.expectAccepted(
                client, holder.id, token: f.admin,
                Self.engineering(##""Project@odata.type":"#Collection(String)","Project":["Cascade","Baker"]"##))
            try await Self.expectAccepted(client, holder.id, token: f.admin, Self.engineering(##""Project":["Cascade"]"##))
            expectSameJSON(
                try await Self.read(client, holder.id, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","Project@odata.type":"#Collection(String)","Project":["Cascade"]}}"##
            )
        }
    }

    @Test func deprecatedAttributeTakesNoNewValues() async throws {
        let f = try await Fixture.make()
        let definer = try await f.tenant.servicePrincipal("Definer", grants: [.tenant(.attributeDefinitionAdministrator)])
        let other = try await f.tenant.user("Other")
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            let deprecate = try await client.patch(
                "/v1.0/directory/customSecurityAttributeDefinitions/Engineering_NumVendors", token: definer.token,
                ["status": "Deprecated"])
            #expect(deprecate.status == .noContent, "\(deprecate.text)")

            // The existing value stays readable.
            expectSameJSON(try await Self.read(client, f.userId, token: f.admin), Self.seedRead)
            // A new value is refused, on this user and on one that never held the attribute.
            try await Self.expectRefused(
                client, f, Self.engineering(##""ProjectDate":"2025-01-01","NumVendors":9"##),
                mentioning: ["Engineering_NumVendors"])
            try await Self.expectRefused(
                client, f, Self.engineering(##""ProjectDate":"2025-01-01","NumVendors":4"##), userId: other.id,
                mentioning: ["Engineering_NumVendors"])
            // Removal with null works, and the value cannot come back.
            try await Self.expectAccepted(client, f.userId, token: f.admin, Self.engineering(##""NumVendors":null"##))
            expectSameJSON(
                try await Self.read(client, f.userId, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2024-11-15","Project@odata.type":"#Collection(String)","Project":["Baker"]}}"##
            )
            try await Self.expectRefused(
                client, f, Self.engineering(##""ProjectDate":"2025-01-01","NumVendors":4"##),
                mentioning: ["Engineering_NumVendors"])
        }
    }

    // MARK: Limits

    @Test func valueLongerThan64CharactersIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            let long = String(repeating: "a", count: 65)
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","ProjectDate":"\##(long)""##),
                mentioning: ["Engineering_ProjectDate", "64"])
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","Datacenter":["India","\##(long)"]"##),
                mentioning: ["Engineering_Datacenter", "64"])
            let longest = String(repeating: "b", count: 64)
            try await Self.expectAccepted(client, f.userId, token: f.admin, Self.engineering(##""ProjectDate":"\##(longest)""##))
            let read = try await Self.read(client, f.userId, token: f.admin)
            #expect(read?.objectValue?["Engineering"]?.objectValue?["ProjectDate"] == .string(longest))
        }
    }

    @Test func moreThan50ValuesOnOneObjectAreRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            // The seed holds 3 values; 48 more cost centers would make 51.
            try await Self.seed(client, f)
            let costCenters = { (n: Int) in (1...n).map { String(1000 + $0) }.joined(separator: ",") }
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","CostCenter":[\##(costCenters(48))]"##),
                mentioning: ["at most 50"])
            // 47 make exactly 50: accepted.
            try await Self.expectAccepted(
                client, f.userId, token: f.admin, Self.engineering(##""CostCenter":[\##(costCenters(47))]"##))
            let held = try await Self.read(client, f.userId, token: f.admin)
            #expect(held?.objectValue?["Engineering"]?.objectValue?["CostCenter"]?.arrayValue?.count == 47)
            // The limit counts across sets: one more value anywhere is refused.
            try await Self.expectRefused(
                client, f, Self.body(Self.set("Marketing", ##""EmployeeId":"GS1""##)), mentioning: ["at most 50"])
            // Replacing values keeps the total: still accepted.
            try await Self.expectAccepted(client, f.userId, token: f.admin, Self.engineering(Self.validChange))
        }
    }

    // MARK: null where it may not be

    @Test func nullForASetIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, Self.body(Self.set("Marketing", ##""EmployeeId":"GS1""##) + ##","Engineering":null"##),
                mentioning: ["'Engineering'"])
        }
    }

    @Test func nullForCustomSecurityAttributesIsRefused() async throws {
        let f = try await Fixture.make()
        let both = try await f.tenant.servicePrincipal(
            "Both", grants: [.tenant(.userAdministrator), .tenant(.attributeAssignmentAdministrator)])
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, ##"{"customSecurityAttributes":null}"##, mentioning: ["customSecurityAttributes"])
            // With an ordinary change beside it (by a principal allowed both): neither is written.
            try await Self.expectRefused(
                client, f, ##"{"displayName":"Renamed","customSecurityAttributes":null}"##, token: both.token,
                mentioning: ["customSecurityAttributes"])
            let user = try await client.get("\(Self.path(f.userId))?$select=displayName", token: f.admin)
            #expect(user["displayName"] == "Chandra")
        }
    }

    // MARK: Annotations

    @Test func annotationDisagreeingWithDefinitionIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f,
                Self.engineering(##""ProjectDate":"2025-01-01","NumVendors@odata.type":"#Collection(Int32)","NumVendors":9"##),
                mentioning: ["Engineering_NumVendors", "Int32"])
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","Project@odata.type":"#String","Project":["Alpine"]"##),
                mentioning: ["Engineering_Project", "Collection(String)"])
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","ProjectDate@odata.type":"#Int32","ProjectDate":"2025-01-01""##),
                mentioning: ["Engineering_ProjectDate"])
        }
    }

    // MARK: The body and the target

    @Test func nonJSONBodyIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            // A valid change with its last brace missing.
            let truncated = String(Self.engineering(Self.validChange).dropLast())
            try await Self.expectRefused(client, f, truncated, mentioning: ["JSON"])
            try await Self.expectRefused(client, f, "NumVendors=9", mentioning: ["JSON"])
        }
    }

    @Test func tenMegabyteBodyIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            // Valid JSON carrying a valid change; only its size (whitespace) is wrong.
            let padding = String(repeating: " ", count: 10 * 1024 * 1024)
            let body = Self.body(##""Engineering":{"@odata.type":"\##(Self.writeType)",\##(padding)"NumVendors":9}"##)
            try await Self.expectRefused(client, f, body, status: 413, code: "Request_EntityTooLarge", mentioning: ["limit"])
        }
    }

    @Test func unknownUserIsNotFound() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            let missing = UUID().uuidString.lowercased()
            for id in [missing, "nobody@sigil.test"] {
                let reply = try await client.send(
                    .patch, Self.path(id), token: f.admin, body: Self.engineering(Self.validChange))
                #expect(reply.status == .notFound, "\(reply.text)")
                #expect(reply.errorCode == "Request_ResourceNotFound")
                #expect(reply.errorMessage?.contains(id) == true, "\(reply.errorMessage ?? "nil")")
            }
            expectSameJSON(try await Self.read(client, f.userId, token: f.admin), Self.seedRead)
        }
    }

    // MARK: Values themselves

    @Test func duplicateValueInCollectionIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","Project":["Baker","Alpine","Baker"]"##),
                mentioning: ["Baker", "Engineering_Project"])
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","CostCenter":[1001,1001]"##),
                mentioning: ["1001", "Engineering_CostCenter"])
            // Values compare case-sensitively, so these two are distinct.
            try await Self.expectAccepted(client, f.userId, token: f.admin, Self.engineering(##""Datacenter":["India","india"]"##))
        }
    }

    @Test func emptyStringValueIsRefused() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","ProjectDate":"""##),
                mentioning: ["Engineering_ProjectDate"])
            try await Self.expectRefused(
                client, f, Self.engineering(Self.validChange + ##","Datacenter":["India",""]"##),
                mentioning: ["Engineering_Datacenter"])
        }
    }

    // MARK: Accepted forms

    @Test func unannotatedIntegerAndCollectionsAreAccepted() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectAccepted(
                client, f.userId, token: f.admin,
                Self.engineering(##""NumVendors":7,"CostCenter":[1001,1003],"Project":["Alpine","Baker"]"##))
            expectSameJSON(
                try await Self.read(client, f.userId, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2024-11-15","Project@odata.type":"#Collection(String)","Project":["Alpine","Baker"],"NumVendors":7,"CostCenter@odata.type":"#Collection(Int32)","CostCenter":[1001,1003]}}"##
            )
            // The ends of Int32 fit.
            try await Self.expectAccepted(
                client, f.userId, token: f.admin, Self.engineering(##""NumVendors":2147483647,"CostCenter":[-2147483648]"##))
            let read = try await Self.read(client, f.userId, token: f.admin)
            let engineering = read?.objectValue?["Engineering"]?.objectValue
            #expect(engineering?["NumVendors"] == .integer(2_147_483_647))
            #expect(engineering?["CostCenter"] == .array([.integer(-2_147_483_648)]))
        }
    }

    @Test func graphNamespaceSetAnnotationIsAccepted() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            // Also an annotation on the outer object, which Kiota may send; it is ignored.
            let body =
                ##"{"customSecurityAttributes":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue",\##(Self.set("Engineering", Self.validChange, type: Self.readType))}}"##
            try await Self.expectAccepted(client, f.userId, token: f.admin, body)
            expectSameJSON(
                try await Self.read(client, f.userId, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2024-11-15","Project@odata.type":"#Collection(String)","Project":["Baker"],"NumVendors":9}}"##
            )
        }
    }

    @Test func namesInOtherCaseResolveAndReadBackAsCreated() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectAccepted(
                client, f.userId, token: f.admin,
                Self.body(
                    Self.set("engineering", ##""projectDate":"2025-03-01","numVendors@odata.type":"#Int32","numVendors":5"##)))
            expectSameJSON(
                try await Self.read(client, f.userId, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2025-03-01","Project@odata.type":"#Collection(String)","Project":["Baker"],"NumVendors":5}}"##
            )
            // The same attribute twice, in two spellings, is ambiguous.
            try await Self.expectRefused(
                client, f, Self.engineering(##""ProjectDate":"2025-04-01","projectDate":"2025-05-01""##),
                mentioning: ["Engineering_ProjectDate"])
        }
    }

    @Test func nullForCollectionRemovesIt() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.seed(client, f)
            try await Self.expectAccepted(
                client, f.userId, token: f.admin, Self.engineering(##""Project@odata.type":"#Collection(String)","Project":null"##))
            expectSameJSON(
                try await Self.read(client, f.userId, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2024-11-15","NumVendors":4}}"##
            )
            // Removing what is not there is harmless.
            try await Self.expectAccepted(client, f.userId, token: f.admin, Self.engineering(##""CostCenter":null"##))
            expectSameJSON(
                try await Self.read(client, f.userId, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2024-11-15","NumVendors":4}}"##
            )
        }
    }

    // MARK: On create

    static func newUser(_ name: String, attributes: String) -> String {
        ##"""
        {"accountEnabled":true,"displayName":"\##(name)","mailNickname":"\##(name.lowercased())",
         "userPrincipalName":"\##(name.lowercased())@sigil.test","passwordProfile":{"password":"Password-123!"},
         "customSecurityAttributes":\##(attributes)}
        """##
    }

    @Test func createUserStoresAttributes() async throws {
        let f = try await Fixture.make()
        let creator = try await f.tenant.servicePrincipal(
            "Creator", grants: [.tenant(.userAdministrator), .tenant(.attributeAssignmentAdministrator)])
        try await f.tenant.test { client in
            let attributes =
                ##"{\##(Self.set("Engineering", Self.seedMembers)),\##(Self.set("Marketing", ##""EmployeeId":"GS45897""##))}"##
            let reply = try await client.send(
                .post, "/v1.0/users", token: creator.token, body: Self.newUser("Noor", attributes: attributes))
            #expect(reply.status == .created, "\(reply.text)")
            // The create reply is the default projection: no customSecurityAttributes.
            #expect(!reply.object.contains("customSecurityAttributes"), "\(reply.text)")
            let id = try #require(reply["id"]?.stringValue)
            expectSameJSON(
                try await Self.read(client, id, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2024-11-15","Project@odata.type":"#Collection(String)","Project":["Baker"],"NumVendors":4},"Marketing":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","EmployeeId":"GS45897"}}"##
            )
        }
    }

    @Test func createUserWithBadAttributesCreatesNothing() async throws {
        let f = try await Fixture.make()
        let creator = try await f.tenant.servicePrincipal(
            "Creator", grants: [.tenant(.userAdministrator), .tenant(.attributeAssignmentAdministrator)])
        let userAdministrator = try await f.tenant.servicePrincipal("User admin", grants: [.tenant(.userAdministrator)])
        try await f.tenant.test { client in
            let cases: [(name: String, token: String, attributes: String, status: Int, mentions: [String])] = [
                (
                    "Bad1", creator.token, ##"{\##(Self.set("Engineering", ##""NumVendors":9,"Project":["Delta"]"##))}"##, 400,
                    ["Delta", "Engineering_Project"]
                ),
                (
                    "Bad2", creator.token,
                    ##"{\##(Self.set("Engineering", Self.validChange)),\##(Self.set("Nope", ##""X":"y""##))}"##, 400,
                    ["Invalid property 'Nope'."]
                ),
                ("Bad3", creator.token, ##"{"Engineering":{"NumVendors":9}}"##, 400, ["Invalid property 'Engineering'."]),
                ("Bad4", creator.token, "null", 400, ["customSecurityAttributes"]),
                // A user administrator without an assignment role may not set attributes on create.
                ("Bad5", userAdministrator.token, ##"{\##(Self.set("Engineering", Self.validChange))}"##, 403, []),
            ]
            for bad in cases {
                let reply = try await client.send(
                    .post, "/v1.0/users", token: bad.token, body: Self.newUser(bad.name, attributes: bad.attributes))
                #expect(reply.status.code == bad.status, "\(bad.name): \(reply.text)")
                #expect(reply.errorCode == (bad.status == 403 ? "Authorization_RequestDenied" : "Request_BadRequest"))
                for name in bad.mentions {
                    #expect(reply.errorMessage?.contains(name) == true, "\(bad.name): \(reply.errorMessage ?? "nil")")
                }
                let lookup = try await client.get(Self.path("\(bad.name.lowercased())@sigil.test"), token: f.admin)
                #expect(lookup.status == .notFound, "\(bad.name) was created: \(lookup.text)")
            }
            let list = try await client.get("/v1.0/users?$select=displayName", token: f.admin)
            let names = list.values.compactMap { $0.objectValue?["displayName"]?.stringValue }
            #expect(names == ["Chandra"], "\(names)")
        }
    }
}
