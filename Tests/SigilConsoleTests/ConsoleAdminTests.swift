import Foundation
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilConsole
@testable import SigilGraph
@testable import SigilService

/// Roles and administrators, and the audit log view.
@Suite struct ConsoleAdminTests {
    typealias Browser = ConsoleBrowser

    @Test func privilegedRoleAdministratorsGrantAndRemoveAttributeRoles() async throws {
        let tenant = try await TestTenant.make()
        try await tenant.store.changeSchema { _ in [.createSet(AttributeSet(id: "Finance"))] }
        _ = try await tenant.user("Pia", grants: [.tenant(.privilegedRoleAdministrator)])
        let target = try await tenant.user("Tom")
        let app = try await tenant.servicePrincipal("Payroll")
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("pia@sigil.test").status == .seeOther)
            let page = try await browser.request(.get, "/console/roles")
            #expect(page.html.contains("Nobody holds an attribute role yet."))
            #expect(page.html.contains(#"<option value="/attributeSets/Finance">Attribute set Finance</option>"#))
            let granted = try await browser.request(
                .post, "/console/roles",
                form: [
                    ("_csrf", page.csrf ?? ""), ("principal", "tom@sigil.test"),
                    ("role", DirectoryRole.attributeAssignmentReader.templateId), ("scope", "/attributeSets/Finance"),
                ])
            #expect(granted.status == .seeOther)
            let grants = try await tenant.store.roleAssignments(principalId: target.id)
            #expect(grants.map(\.grant) == [RoleGrant(role: .attributeAssignmentReader, scope: .attributeSet("Finance"))])
            let appId = try #require(try await tenant.store.object(.servicePrincipal, id: app.id)?.appId)
            let byAppId = try await browser.request(
                .post, "/console/roles",
                form: [
                    ("_csrf", page.csrf ?? ""), ("principal", appId), ("role", DirectoryRole.attributeLogReader.templateId),
                    ("scope", "/"),
                ])
            #expect(byAppId.status == .seeOther)
            let listed = try await browser.request(.get, "/console/roles")
            #expect(listed.html.contains("<td>Attribute Assignment Reader</td><td>Attribute set Finance</td>"))
            #expect(listed.html.contains("<td>Attribute Log Reader</td><td>Tenant</td>"))
            let unknown = try await browser.request(
                .post, "/console/roles",
                form: [
                    ("_csrf", page.csrf ?? ""), ("principal", "ghost@sigil.test"),
                    ("role", DirectoryRole.attributeLogReader.templateId), ("scope", "/"),
                ])
            #expect(unknown.status == .badRequest)
            #expect(
                unknown.html.contains("No user or enterprise application &#39;ghost@sigil.test&#39; was found.")
                    || unknown.html.contains("No user or enterprise application 'ghost@sigil.test' was found."))
            let scopedLog = try await browser.request(
                .post, "/console/roles",
                form: [
                    ("_csrf", page.csrf ?? ""), ("principal", "tom@sigil.test"),
                    ("role", DirectoryRole.globalAdministrator.templateId), ("scope", "/"),
                ])
            #expect(scopedLog.html.contains("Choose a role and a scope."), "only attribute roles are granted here")
            let id = try #require(grants.first?.id)
            #expect(
                try await browser.request(.post, "/console/roles/remove", form: [("_csrf", page.csrf ?? ""), ("id", id)]).status
                    == .seeOther)
            #expect(try await tenant.store.roleAssignments(principalId: target.id).isEmpty)
        }
    }

    @Test func othersSeeRolesButCannotChangeThem() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Ann", grants: [.tenant(.attributeAssignmentAdministrator)])
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("ann@sigil.test").status == .seeOther)
            let page = try await browser.request(.get, "/console/roles")
            #expect(page.html.contains("<td>Attribute Assignment Administrator</td><td>Tenant</td>"))
            #expect(!page.html.contains("Add assignment"))
            #expect(!page.html.contains(">Remove</button>"))
            let refused = try await browser.request(
                .post, "/console/roles",
                form: [
                    ("_csrf", page.csrf ?? ""), ("principal", "ann@sigil.test"),
                    ("role", DirectoryRole.attributeLogReader.templateId), ("scope", "/"),
                ])
            #expect(refused.status == .forbidden)
            #expect(!page.html.contains("Audit logs</a>"), "not a log reader: no audit link")
            #expect(try await browser.request(.get, "/console/audit").status == .forbidden)
        }
    }

    @Test func logReadersSeeChangesWithOldAndNewValues() async throws {
        let tenant = try await TestTenant.make()
        let admin = try await tenant.servicePrincipal(
            "Manager", grants: [.tenant(.attributeDefinitionAdministrator), .tenant(.attributeAssignmentAdministrator)])
        _ = try await tenant.user("Lou", grants: [.tenant(.attributeLogReader)])
        let user = try await tenant.user("Chandra")
        try await tenant.test { client in
            _ = try await client.post(
                "/v1.0/directory/attributeSets", token: admin.token, ["id": "Engineering", "maxAttributesPerSet": 25])
            _ = try await client.send(
                .post, "/v1.0/directory/customSecurityAttributeDefinitions", token: admin.token,
                body: #"{"attributeSet":"Engineering","name":"NumVendors","type":"Integer","status":"Available","isCollection":false,"isSearchable":true,"usePreDefinedValuesOnly":false}"#
            )
            for value in [8, 5] {
                let body = ##"{"customSecurityAttributes":{"Engineering":{"@odata.type":"#Microsoft.DirectoryServices.CustomSecurityAttributeValue","NumVendors@odata.type":"#Int32","NumVendors":\##(value)}}}"##
                _ = try await client.send(.patch, "/v1.0/users/\(user.id)", token: admin.token, body: body)
            }
            _ = try await client.send(.patch, "/v1.0/directory/attributeSets/Engineering", token: admin.token, body: #"{"maxAttributesPerSet":0}"#)
        }
        try await tenant.store.sealAudit()
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("lou@sigil.test").status == .seeOther)
            let all = try await browser.request(.get, "/console/audit")
            #expect(all.status == .ok)
            #expect(all.html.contains("Audit logs</a>"))
            #expect(all.html.contains("<strong>Engineering_NumVendors</strong>: [8] → [5]"))
            #expect(all.html.contains("<strong>Engineering_NumVendors</strong>: (none) → [8]"))
            #expect(all.html.contains("<strong>MaxAttributesPerSet</strong>: (none) → [25]"))
            let values = try await browser.request(
                .get, "/console/audit?activity=Update%20attribute%20values%20assigned%20to%20a%20user")
            #expect(values.html.components(separatedBy: "<tr><td>").count - 1 == 2)
            let failures = try await browser.request(.get, "/console/audit?result=failure")
            #expect(failures.html.components(separatedBy: "<tr><td>").count - 1 == 1)
            #expect(failures.html.contains("maxAttributesPerSet"))
            let today = Date().formatted(Date.ISO8601FormatStyle().year().month().day())
            let dated = try await browser.request(.get, "/console/audit?from=\(today)&to=\(today)")
            #expect(dated.html.components(separatedBy: "<tr><td>").count - 1 == 5)
            let past = try await browser.request(.get, "/console/audit?from=2020-01-01&to=2020-01-02")
            #expect(past.html.contains("No audit records match."))
            let bad = try await browser.request(.get, "/console/audit?from=yesterday")
            #expect(bad.status == .badRequest)
            #expect(bad.html.contains("The start date is not a date."))
        }
    }
}

/// Every form post of the console refuses a request without the session's token and changes
/// nothing, whoever is signed in.
@Suite struct ConsoleForgeryTests {
    @Test func everyPostNeedsTheSessionsToken() async throws {
        let tenant = try await TestTenant.make()
        try await tenant.store.changeSchema { _ in [.createSet(AttributeSet(id: "Finance"))] }
        _ = try await tenant.user(
            "Boss",
            grants: [
                .tenant(.attributeDefinitionAdministrator), .tenant(.attributeAssignmentAdministrator),
                .tenant(.privilegedRoleAdministrator),
            ])
        let other = try await tenant.user("Other")
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("boss@sigil.test").status == .seeOther)
            let before = try await tenant.store.schema()
            let posts: [(String, [(String, String)])] = [
                ("/console/attribute-sets", [("id", "Forged")]),
                ("/console/attribute-sets/Finance", [("description", "forged")]),
                ("/console/attribute-sets/Finance/attributes", [("name", "Forged"), ("type", "String")]),
                ("/console/attribute-sets/Finance/attributes/Any", [("action", "deactivate")]),
                ("/console/users/\(other.id)/attributes", [("attribute", "Finance_Any"), ("value", "x")]),
                ("/console/users/\(other.id)/attributes/remove", [("attribute", "Finance_Any")]),
                ("/console/enterprise-applications/\(other.id)/attributes", [("attribute", "Finance_Any")]),
                ("/console/roles", [("principal", "other@sigil.test"), ("role", DirectoryRole.attributeLogReader.templateId)]),
                ("/console/roles/remove", [("id", "x")]),
                ("/console/sign-out", []),
            ]
            for (path, form) in posts {
                for token in [nil, "forged"] {
                    let reply = try await browser.request(.post, path, form: form + (token.map { [("_csrf", $0)] } ?? []))
                    #expect(reply.status == .forbidden, "\(path)")
                    #expect(reply.html.contains("The form could not be accepted"), "\(path)")
                }
            }
            #expect(try await tenant.store.schema() == before)
            #expect(try await tenant.store.roleAssignments(principalId: other.id).isEmpty)
            #expect(try await browser.request(.get, "/console/users").status == .ok, "still signed in")

        }
    }
}
