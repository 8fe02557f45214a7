import Foundation
import SigilCore
import Testing

@testable import SigilGraph
@testable import SigilService

/// Who may read and write custom security attribute values (docs/security.md, "Who may read and write what"):
/// assignment roles at tenant and set scope, roles that give no attribute access, users reading
/// themselves, guests, PATCHes mixing ordinary properties, and `$select`.
@Suite struct AssignmentAccessTests {
    typealias Fixture = SeedConformanceTests.Fixture

    static let writeType = "#Microsoft.DirectoryServices.CustomSecurityAttributeValue"

    static func set(_ name: String, _ members: String) -> String {
        ##""\##(name)":{"@odata.type":"\##(writeType)",\##(members)}"##
    }

    static func body(_ sets: String...) -> String {
        ##"{"customSecurityAttributes":{\##(sets.joined(separator: ","))}}"##
    }

    static let engineeringMembers = ##""ProjectDate":"2024-11-15","NumVendors":4"##
    static let marketingMembers = ##""EmployeeId":"GS45897""##

    static let engineeringRead =
        ##""Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2024-11-15","NumVendors":4}"##
    static let marketingRead = ##""Marketing":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","EmployeeId":"GS45897"}"##
    static let bothRead = "{\(engineeringRead),\(marketingRead)}"

    static func path(_ id: String) -> String { "/v1.0/users/\(id)" }

    static func read(
        _ client: GraphClient, _ id: String, token: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONValue? {
        let reply = try await client.get("\(path(id))?$select=customSecurityAttributes", token: token)
        #expect(reply.status == .ok, "\(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.object.contains("customSecurityAttributes"), "\(reply.text)", sourceLocation: sourceLocation)
        return reply["customSecurityAttributes"]
    }

    static func patch(
        _ client: GraphClient, _ id: String, token: String, _ body: String, expect status: Int = 204,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let reply = try await client.send(.patch, path(id), token: token, body: body)
        #expect(reply.status.code == status, "\(reply.status) \(reply.text)", sourceLocation: sourceLocation)
        if status == 403 {
            #expect(reply.errorCode == "Authorization_RequestDenied", "\(reply.text)", sourceLocation: sourceLocation)
            #expect(
                reply.errorMessage == "Insufficient privileges to complete the operation.", sourceLocation: sourceLocation)
        }
    }

    /// The fixture's user (Chandra) gets values in both sets, written by the tenant-wide administrator.
    static func assignBoth(_ client: GraphClient, _ f: Fixture, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        try await patch(
            client, f.userId, token: f.admin, body(set("Engineering", engineeringMembers), set("Marketing", marketingMembers)),
            sourceLocation: sourceLocation)
        expectSameJSON(try await read(client, f.userId, token: f.admin), bothRead, sourceLocation: sourceLocation)
    }

    // MARK: Assignment roles

    @Test func tenantReaderReadsEverySetButCannotWrite() async throws {
        let f = try await Fixture.make()
        let reader = try await f.tenant.servicePrincipal("Reader", grants: [.tenant(.attributeAssignmentReader)])
        try await f.tenant.test { client in
            try await Self.assignBoth(client, f)
            expectSameJSON(try await Self.read(client, f.userId, token: reader.token), Self.bothRead)
            for body in [
                Self.body(Self.set("Engineering", ##""NumVendors":9"##)),
                Self.body(Self.set("Marketing", ##""EmployeeId":"GS1""##)),
            ] {
                try await Self.patch(client, f.userId, token: reader.token, body, expect: 403)
            }
            expectSameJSON(try await Self.read(client, f.userId, token: f.admin), Self.bothRead)
        }
    }

    @Test func setScopedAdministratorWritesOnlyItsSet() async throws {
        let f = try await Fixture.make()
        let scoped = try await f.tenant.servicePrincipal(
            "Engineering assigner", grants: [.set(.attributeAssignmentAdministrator, "Engineering")])
        try await f.tenant.test { client in
            try await Self.assignBoth(client, f)
            try await Self.patch(client, f.userId, token: scoped.token, Self.body(Self.set("Engineering", ##""NumVendors":9"##)))
            let afterWrite =
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2024-11-15","NumVendors":9},\##(Self.marketingRead)}"##
            expectSameJSON(try await Self.read(client, f.userId, token: f.admin), afterWrite)

            try await Self.patch(
                client, f.userId, token: scoped.token, Self.body(Self.set("Marketing", ##""EmployeeId":"GS1""##)), expect: 403)
            // Touching both sets writes neither, whichever comes first.
            try await Self.patch(
                client, f.userId, token: scoped.token,
                Self.body(Self.set("Engineering", ##""NumVendors":10"##), Self.set("Marketing", ##""EmployeeId":"GS1""##)),
                expect: 403)
            try await Self.patch(
                client, f.userId, token: scoped.token,
                Self.body(Self.set("Marketing", ##""EmployeeId":"GS1""##), Self.set("Engineering", ##""NumVendors":10"##)),
                expect: 403)
            expectSameJSON(try await Self.read(client, f.userId, token: f.admin), afterWrite)
            // It reads only its own set.
            expectSameJSON(
                try await Self.read(client, f.userId, token: scoped.token),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2024-11-15","NumVendors":9}}"##
            )
        }
    }

    @Test func setScopedReaderSeesOnlyItsSet() async throws {
        let f = try await Fixture.make()
        let reader = try await f.tenant.servicePrincipal(
            "Engineering reader", grants: [.set(.attributeAssignmentReader, "Engineering")])
        let marketer = try await f.tenant.user("Mona")
        try await f.tenant.test { client in
            try await Self.assignBoth(client, f)
            try await Self.patch(client, marketer.id, token: f.admin, Self.body(Self.set("Marketing", Self.marketingMembers)))

            expectSameJSON(try await Self.read(client, f.userId, token: reader.token), "{\(Self.engineeringRead)}")
            // Only Marketing values: nothing the reader may see, so null.
            #expect(try await Self.read(client, marketer.id, token: reader.token) == .null)

            let list = try await client.get("/v1.0/users?$select=id,displayName,customSecurityAttributes", token: reader.token)
            #expect(list.status == .ok, "\(list.text)")
            #expect(!list.text.contains("GS45897"), "\(list.text)")
            for item in list.values {
                let object = item.objectValue ?? JSONObject()
                switch object["id"]?.stringValue {
                case f.userId: expectSameJSON(object["customSecurityAttributes"], "{\(Self.engineeringRead)}")
                default: #expect(object["customSecurityAttributes"] == .null, "\(item.serializedString)")
                }
            }
            try await Self.patch(client, f.userId, token: reader.token, Self.body(Self.set("Engineering", ##""NumVendors":9"##)), expect: 403)
            expectSameJSON(try await Self.read(client, f.userId, token: f.admin), Self.bothRead)
        }
    }

    // MARK: Roles without attribute access

    @Test func definitionAdministratorReadsNullAndCannotWrite() async throws {
        let f = try await Fixture.make()
        let definer = try await f.tenant.servicePrincipal("Definer", grants: [.tenant(.attributeDefinitionAdministrator)])
        try await f.tenant.test { client in
            try await Self.assignBoth(client, f)
            #expect(try await Self.read(client, f.userId, token: definer.token) == .null)
            try await Self.patch(
                client, f.userId, token: definer.token, Self.body(Self.set("Engineering", ##""NumVendors":9"##)), expect: 403)
            expectSameJSON(try await Self.read(client, f.userId, token: f.admin), Self.bothRead)
        }
    }

    @Test func globalAdministratorReadsNullAndCannotWrite() async throws {
        let f = try await Fixture.make()
        let global = try await f.tenant.bootstrapToken()
        try await f.tenant.test { client in
            try await Self.assignBoth(client, f)
            #expect(try await Self.read(client, f.userId, token: global) == .null)
            try await Self.patch(client, f.userId, token: global, Self.body(Self.set("Engineering", ##""NumVendors":9"##)), expect: 403)
            try await Self.patch(
                client, f.userId, token: global,
                ##"{"displayName":"Renamed",\##(Self.body(Self.set("Marketing", ##""EmployeeId":"GS1""##)).dropFirst())"##,
                expect: 403)
            expectSameJSON(try await Self.read(client, f.userId, token: f.admin), Self.bothRead)
            let user = try await client.get("\(Self.path(f.userId))?$select=displayName", token: f.admin)
            #expect(user["displayName"] == "Chandra")
        }
    }

    // MARK: Self and guests

    @Test func userReadingThemselvesGetsNull() async throws {
        let f = try await Fixture.make()
        let selma = try await f.tenant.user("Selma", grants: [.tenant(.attributeAssignmentAdministrator)])
        try await f.tenant.test { client in
            try await Self.assignBoth(client, f)
            try await Self.patch(
                client, selma.id, token: f.admin,
                Self.body(Self.set("Engineering", Self.engineeringMembers), Self.set("Marketing", Self.marketingMembers)))
            expectSameJSON(try await Self.read(client, selma.id, token: f.admin), Self.bothRead)

            let me = try await client.get("/v1.0/me?$select=customSecurityAttributes", token: selma.token)
            #expect(me.status == .ok, "\(me.text)")
            #expect(me.object.contains("customSecurityAttributes"), "\(me.text)")
            #expect(me["customSecurityAttributes"] == .null, "\(me.text)")
            #expect(me["@odata.context"]?.stringValue?.hasSuffix("$metadata#users(customSecurityAttributes)/$entity") == true)
            #expect(try await Self.read(client, selma.id, token: selma.token) == .null)
            // The role itself works: Selma reads someone else's values.
            expectSameJSON(try await Self.read(client, f.userId, token: selma.token), Self.bothRead)
        }
    }

    @Test func guestHoldingAssignmentReaderGetsNull() async throws {
        let f = try await Fixture.make()
        let guest = try await f.tenant.user("Gina", guest: true, grants: [.tenant(.attributeAssignmentReader)])
        try await f.tenant.test { client in
            try await Self.assignBoth(client, f)
            try await Self.patch(client, guest.id, token: f.admin, Self.body(Self.set("Marketing", Self.marketingMembers)))

            let me = try await client.get("/v1.0/me?$select=customSecurityAttributes", token: guest.token)
            #expect(me.status == .ok, "\(me.text)")
            #expect(me.object.contains("customSecurityAttributes"), "\(me.text)")
            #expect(me["customSecurityAttributes"] == .null, "\(me.text)")
            // Others' values never reach a guest: refused outright, or null.
            for request in [
                "\(Self.path(f.userId))?$select=customSecurityAttributes",
                "/v1.0/users?$select=id,displayName,customSecurityAttributes",
            ] {
                let reply = try await client.get(request, token: guest.token)
                #expect(!reply.text.contains("GS45897") && !reply.text.contains("2024-11-15"), "\(request): \(reply.text)")
                if reply.status == .ok {
                    let items = reply.object.contains("value") ? reply.values : [.object(reply.object)]
                    for item in items {
                        #expect(item.objectValue?["customSecurityAttributes"] == .null, "\(request): \(reply.text)")
                    }
                } else {
                    #expect(reply.status == .forbidden, "\(request): \(reply.text)")
                }
            }
        }
    }

    @Test func guestHoldingAssignmentAdministratorCannotWrite() async throws {
        let f = try await Fixture.make()
        let guest = try await f.tenant.user("Gabe", guest: true, grants: [.tenant(.attributeAssignmentAdministrator)])
        try await f.tenant.test { client in
            try await Self.assignBoth(client, f)
            for id in [f.userId, guest.id] {
                let reply = try await client.send(
                    .patch, Self.path(id), token: guest.token, body: Self.body(Self.set("Engineering", ##""NumVendors":9"##)))
                #expect(reply.status == .forbidden, "\(reply.text)")
                #expect(reply.errorCode == "Authorization_RequestDenied")
            }
            expectSameJSON(try await Self.read(client, f.userId, token: f.admin), Self.bothRead)
            #expect(try await Self.read(client, guest.id, token: f.admin) == .null)
        }
    }

    // MARK: Mixed PATCH

    @Test func patchMixingDisplayNameNeedsBothRoles() async throws {
        let f = try await Fixture.make()
        let userAdministrator = try await f.tenant.servicePrincipal("User admin", grants: [.tenant(.userAdministrator)])
        let both = try await f.tenant.servicePrincipal(
            "Both", grants: [.tenant(.userAdministrator), .tenant(.attributeAssignmentAdministrator)])
        try await f.tenant.test { client in
            try await Self.assignBoth(client, f)
            let mixed =
                ##"{"displayName":"Renamed","customSecurityAttributes":{\##(Self.set("Engineering", ##""NumVendors":9"##))}}"##
            func state() async throws -> (name: JSONValue?, attributes: JSONValue?) {
                let reply = try await client.get(
                    "\(Self.path(f.userId))?$select=displayName,customSecurityAttributes", token: f.admin)
                #expect(reply.status == .ok, "\(reply.text)")
                return (reply["displayName"], reply["customSecurityAttributes"])
            }
            // Assignment Administrator alone, then User Administrator alone: 403, nothing written.
            for token in [f.admin, userAdministrator.token] {
                try await Self.patch(client, f.userId, token: token, mixed, expect: 403)
                let (name, attributes) = try await state()
                #expect(name == "Chandra")
                expectSameJSON(attributes, Self.bothRead)
            }
            // Both roles: both parts written.
            try await Self.patch(client, f.userId, token: both.token, mixed)
            let (name, attributes) = try await state()
            #expect(name == "Renamed")
            expectSameJSON(
                attributes,
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2024-11-15","NumVendors":9},\##(Self.marketingRead)}"##
            )
        }
    }

    // MARK: $select

    @Test func listWithSelectHasThePropertyOnEveryItem() async throws {
        let f = try await Fixture.make()
        let dara = try await f.tenant.user("Dara")
        let mona = try await f.tenant.user("Mona")
        try await f.tenant.test { client in
            try await Self.assignBoth(client, f)
            try await Self.patch(client, mona.id, token: f.admin, Self.body(Self.set("Marketing", Self.marketingMembers)))
            let reply = try await client.get("/v1.0/users?$select=id,displayName,customSecurityAttributes", token: f.admin)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(
                reply["@odata.context"]?.stringValue?.hasSuffix("$metadata#users(id,displayName,customSecurityAttributes)")
                    == true, "\(reply["@odata.context"]?.stringValue ?? "nil")")
            #expect(reply.values.count == 3)
            var seen: Set<String> = []
            for item in reply.values {
                let object = item.objectValue ?? JSONObject()
                #expect(object.keys == ["id", "displayName", "customSecurityAttributes"], "\(item.serializedString)")
                let id = object["id"]?.stringValue ?? ""
                seen.insert(id)
                switch id {
                case f.userId: expectSameJSON(object["customSecurityAttributes"], Self.bothRead)
                case mona.id: expectSameJSON(object["customSecurityAttributes"], "{\(Self.marketingRead)}")
                default:
                    #expect(id == dara.id)
                    #expect(object["customSecurityAttributes"] == .null)
                }
            }
            #expect(seen == [f.userId, dara.id, mona.id])
        }
    }

    @Test func readsWithoutSelectLeaveThePropertyOut() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.assignBoth(client, f)
            let single = try await client.get(Self.path(f.userId), token: f.admin)
            #expect(single.status == .ok, "\(single.text)")
            #expect(single["displayName"] == "Chandra")
            #expect(!single.object.contains("customSecurityAttributes"), "\(single.text)")

            let list = try await client.get("/v1.0/users", token: f.admin)
            #expect(list.status == .ok, "\(list.text)")
            #expect(!list.values.isEmpty)
            for item in list.values {
                #expect(item.objectValue?.contains("customSecurityAttributes") == false, "\(item.serializedString)")
            }
            // Another $select leaves it out as well.
            let other = try await client.get("\(Self.path(f.userId))?$select=id,displayName", token: f.admin)
            #expect(other.object.keys == ["@odata.context", "id", "displayName"], "\(other.text)")
        }
    }
}
