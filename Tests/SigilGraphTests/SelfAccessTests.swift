import Foundation
import SigilCore
import SigilStore
import Testing

@testable import SigilConsole
@testable import SigilGraph
@testable import SigilService

/// Nobody reads or changes their own custom security attributes, through any front end: not by
/// PATCH (by id or by userPrincipalName), not through the console's forms, not through a
/// `$filter` that would match on a value the caller cannot read, and no error message tells a
/// caller about values it cannot read.
@Suite struct SelfAccessTests {
    typealias Fixture = SeedConformanceTests.Fixture
    typealias Access = AssignmentAccessTests

    static let advanced = ["ConsistencyLevel": "eventual"]

    /// Writes `EmployeeId` and `NumVendors` on `id` as the fixture's tenant-wide administrator.
    static func give(_ client: GraphClient, _ f: Fixture, _ path: String, employeeId: String) async throws {
        let reply = try await client.send(
            .patch, path, token: f.admin,
            body: Access.body(
                Access.set("Marketing", ##""EmployeeId":"\##(employeeId)""##), Access.set("Engineering", ##""NumVendors":4"##)))
        #expect(reply.status == .noContent, "\(reply.text)")
    }

    static func stored(_ f: Fixture, _ kind: DirectoryObjectKind, _ id: String) async throws -> AttributeAssignments? {
        try await f.tenant.store.objectState(kind, id: id)?.attributes
    }

    @Test func anAssignmentAdministratorCannotChangeItsOwnValues() async throws {
        let f = try await Fixture.make()
        let selma = try await f.tenant.user("Selma", grants: [.set(.attributeAssignmentAdministrator, "Marketing")])
        try await f.tenant.test { client in
            try await Self.give(client, f, "/v1.0/users/\(selma.id)", employeeId: "GS100")
            let before = try await Self.stored(f, .user, selma.id)
            let raise = Access.body(Access.set("Marketing", ##""EmployeeId":"GS999""##))
            let remove = Access.body(Access.set("Marketing", ##""EmployeeId":null"##))
            for path in ["/v1.0/users/\(selma.id)", "/v1.0/users/selma@sigil.test", "/beta/users/\(selma.id.uppercased())"] {
                for body in [raise, remove] {
                    let reply = try await client.send(.patch, path, token: selma.token, body: body)
                    reply.expectError(403, "Authorization_RequestDenied", GraphError.ownAttributes.message)
                }
            }
            // Ordinary properties of oneself are not custom security attributes: refused as a whole.
            let mixed = try await client.send(
                .patch, "/v1.0/users/\(selma.id)", token: selma.token,
                body: ##"{"displayName":"Selma S","customSecurityAttributes":{"Marketing":{"@odata.type":"\##(Access.writeType)","EmployeeId":"GS1"}}}"##
            )
            #expect(mixed.status == .forbidden, "\(mixed.text)")
            #expect(try await Self.stored(f, .user, selma.id) == before)
            // The role itself still works on someone else.
            let other = try await client.send(.patch, "/v1.0/users/\(f.userId)", token: selma.token, body: raise)
            #expect(other.status == .noContent, "\(other.text)")
        }
    }

    @Test func anApplicationCannotChangeItsOwnServicePrincipal() async throws {
        let f = try await Fixture.make()
        let app = try await f.tenant.servicePrincipal("Self-server", grants: [.tenant(.attributeAssignmentAdministrator)])
        try await f.tenant.test { client in
            let body = Access.body(Access.set("Marketing", ##""EmployeeId":"APP-1""##))
            let own = try await client.send(.patch, "/v1.0/servicePrincipals/\(app.id)", token: app.token, body: body)
            own.expectError(403, "Authorization_RequestDenied", GraphError.ownAttributes.message)
            #expect(try await Self.stored(f, .servicePrincipal, app.id) == AttributeAssignments())
            let other = try await client.send(
                .patch, "/v1.0/servicePrincipals/\(f.servicePrincipalId)", token: app.token, body: body)
            #expect(other.status == .noContent, "\(other.text)")
        }
    }

    @Test func theConsoleRemoveFormCannotTakeAwayOwnValues() async throws {
        let f = try await Fixture.make()
        let selma = try await f.tenant.user("Selma", grants: [.tenant(.attributeAssignmentAdministrator)])
        try await f.tenant.test { client in try await Self.give(client, f, "/v1.0/users/\(selma.id)", employeeId: "GS100") }
        let before = try await Self.stored(f, .user, selma.id)
        #expect(before?.values(of: "Marketing_EmployeeId") == [.string("GS100")])
        try await withConsole(f.tenant) { browser in
            #expect(try await browser.signIn("selma@sigil.test").status == .seeOther)
            let base = "/console/users/\(selma.id)"
            let page = try await browser.request(.get, base)
            let removed = try await browser.request(
                .post, "\(base)/attributes/remove", form: [("_csrf", page.csrf ?? ""), ("attribute", "Marketing_EmployeeId")])
            #expect(removed.status == .forbidden, "\(removed.html)")
            let saved = try await browser.request(
                .post, "\(base)/attributes",
                form: [("_csrf", page.csrf ?? ""), ("mode", "add"), ("attribute", "Marketing_EmployeeId"), ("value", "GS1")])
            #expect(saved.status == .forbidden, "\(saved.html)")
        }
        #expect(try await Self.stored(f, .user, selma.id) == before)
    }

    /// The attack: a caller whose own values read as null recovers them through a filter on its
    /// own id. Its own object is judged as holding no values, in the page and in the count.
    @Test func aFilterNeverMatchesOnTheCallersOwnValues() async throws {
        let f = try await Fixture.make()
        let selma = try await f.tenant.user("Selma", grants: [.tenant(.attributeAssignmentReader)])
        let app = try await f.tenant.servicePrincipal("Reader app", grants: [.tenant(.attributeAssignmentReader)])
        try await f.tenant.test { client in
            try await Self.give(client, f, "/v1.0/users/\(selma.id)", employeeId: "GS3141")
            try await Self.give(client, f, "/v1.0/users/\(f.userId)", employeeId: "GS3999")
            try await Self.give(client, f, "/v1.0/servicePrincipals/\(app.id)", employeeId: "GS3777")

            func query(_ segment: String, _ filter: String, token: String) async throws -> (ids: [String], count: Int?) {
                let encoded = filter.formEncoded
                let reply = try await client.get(
                    "/v1.0/\(segment)?$count=true&$filter=\(encoded)", token: token, headers: Self.advanced)
                #expect(reply.status == .ok, "\(reply.text)")
                let counted = try await client.get("/v1.0/\(segment)/$count?$filter=\(encoded)", token: token, headers: Self.advanced)
                #expect(counted.status == .ok, "\(counted.text)")
                let count: Int? = if case .integer(let n)? = reply["@odata.count"] { Int(n) } else { nil }
                #expect(Int(counted.text) == count, "\(counted.text) vs \(reply.text)")
                return (reply.valueIds, count)
            }

            let probe = "startsWith(customSecurityAttributes/Marketing/EmployeeId,'GS3') and id eq '\(selma.id)'"
            #expect(try await query("users", probe, token: selma.token) == ([], 0))
            // Another reader sees Selma's value match.
            #expect(try await query("users", probe, token: f.admin) == ([selma.id], 1))
            let exact = "customSecurityAttributes/Marketing/EmployeeId eq 'GS3141'"
            #expect(try await query("users", exact, token: selma.token) == ([], 0))
            // `ne` and `not` treat the unreadable value as absent: Selma matches.
            let ne = "customSecurityAttributes/Marketing/EmployeeId ne 'GS3141' and id eq '\(selma.id)'"
            #expect(try await query("users", ne, token: selma.token) == ([selma.id], 1))
            #expect(try await query("users", ne, token: f.admin) == ([], 0))
            let negated = "not(startsWith(customSecurityAttributes/Marketing/EmployeeId,'GS3'))"
            let seenBySelma = try await query("users", negated, token: selma.token)
            #expect(seenBySelma.ids.contains(selma.id))
            #expect(!seenBySelma.ids.contains(f.userId))
            let broad = "startsWith(customSecurityAttributes/Marketing/EmployeeId,'GS3')"
            #expect(try await query("users", broad, token: selma.token) == ([f.userId], 1))
            #expect(Set(try await query("users", broad, token: f.admin).ids) == [selma.id, f.userId])

            // An application reading service principals: the same rule for its own.
            let spProbe = "startsWith(customSecurityAttributes/Marketing/EmployeeId,'GS3') and id eq '\(app.id)'"
            #expect(try await query("servicePrincipals", spProbe, token: app.token) == ([], 0))
            #expect(try await query("servicePrincipals", spProbe, token: f.admin) == ([app.id], 1))
        }
        // The console's filter goes the same way.
        try await withConsole(f.tenant) { browser in
            #expect(try await browser.signIn("selma@sigil.test").status == .seeOther)
            let page = try await browser.request(
                .get, "/console/users?attribute=Marketing_EmployeeId&op=startsWith&value=GS3&search=Selma")
            #expect(page.status == .ok, "\(page.html)")
            #expect(page.html.contains("0 users found"), "\(page.html)")
        }
    }

    @Test func theValueLimitMessageNamesNoCountTheCallerCannotSee() async throws {
        let f = try await Fixture.make()
        let marketer = try await f.tenant.servicePrincipal("Marketer", grants: [.set(.attributeAssignmentAdministrator, "Marketing")])
        try await f.tenant.store.changeSchema { _ in
            [
                .createDefinition(
                    AttributeDefinition(
                        attributeSet: "Engineering", name: "Badges", type: .string, isCollection: true, isSearchable: true,
                        usePreDefinedValuesOnly: false), allowedValues: []),
                .createDefinition(
                    AttributeDefinition(
                        attributeSet: "Marketing", name: "Regions", type: .string, isCollection: true, isSearchable: true,
                        usePreDefinedValuesOnly: false), allowedValues: []),
            ]
        }
        try await f.tenant.test { client in
            let badges = (1...45).map { "\"B\($0)\"" }.joined(separator: ",")
            let filled = try await client.send(
                .patch, "/v1.0/users/\(f.userId)", token: f.admin,
                body: Access.body(Access.set("Engineering", ##""Badges@odata.type":"#Collection(String)","Badges":[\##(badges)]"##)))
            #expect(filled.status == .noContent, "\(filled.text)")
            let regions = (1...14).map { "\"R\($0)\"" }.joined(separator: ",")
            let over = try await client.send(
                .patch, "/v1.0/users/\(f.userId)", token: marketer.token,
                body: Access.body(Access.set("Marketing", ##""Regions@odata.type":"#Collection(String)","Regions":[\##(regions)]"##)))
            over.expectError(400, "Request_BadRequest")
            let message = over.errorMessage ?? ""
            #expect(message.contains("at most 50"), "\(message)")
            #expect(!message.contains("59") && !message.contains("45"), "\(message)")
        }
    }

    @Test func aSetScopedDefinitionAdministratorGetsNotFoundInItsOwnSet() async throws {
        let f = try await Fixture.make()
        let definer = try await f.tenant.servicePrincipal("Definer", grants: [.set(.attributeDefinitionAdministrator, "Engineering")])
        try await f.tenant.test { client in
            let base = "/v1.0/directory/customSecurityAttributeDefinitions"
            try await client.get("\(base)/Engineering_Missing", token: definer.token).expectError(404, "Request_ResourceNotFound")
            try await client.patch("\(base)/Engineering_Missing", token: definer.token, ["description": "x"])
                .expectError(404, "Request_ResourceNotFound")
            try await client.get("\(base)/Engineering_Missing/allowedValues", token: definer.token)
                .expectError(404, "Request_ResourceNotFound")
            // Outside its set it may not learn what exists: 403 whether or not the definition does.
            try await client.get("\(base)/Marketing_Missing", token: definer.token).expectError(403, "Authorization_RequestDenied")
            try await client.get("\(base)/Marketing_EmployeeId", token: definer.token)
                .expectError(403, "Authorization_RequestDenied")
        }
    }
}
