import Foundation
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilConsole
@testable import SigilGraph
@testable import SigilService

/// The Custom security attributes pages: attribute sets and their attributes, through the same
/// rules and audit log as the API, offered per role.
@Suite struct ConsoleSchemaTests {
    typealias Browser = ConsoleBrowser

    @Test func definitionAdministratorManagesSetsAndAttributes() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Dee", grants: [.tenant(.attributeDefinitionAdministrator)])
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("dee@sigil.test").status == .seeOther)
            let empty = try await browser.request(.get, "/console/attribute-sets")
            #expect(empty.html.contains("No attribute sets yet: add the first one below."))
            let bad = try await browser.request(
                .post, "/console/attribute-sets", form: [("_csrf", empty.csrf ?? ""), ("id", "Bad Name")])
            #expect(bad.status == .badRequest)
            #expect(bad.html.contains("is not allowed: use letters and digits only."))
            #expect(bad.html.contains(#"value="Bad Name""#))
            let created = try await browser.request(
                .post, "/console/attribute-sets",
                form: [("_csrf", empty.csrf ?? ""), ("id", "Finance"), ("description", "Money"), ("maxAttributesPerSet", "10")])
            #expect(created.headers[.location] == "/console/attribute-sets/Finance")
            let set = try await browser.request(.get, "/console/attribute-sets/Finance")
            #expect(set.html.contains(#"value="Money""#))
            #expect(set.html.contains("No active attributes in this set."))
            let edited = try await browser.request(
                .post, "/console/attribute-sets/Finance",
                form: [("_csrf", set.csrf ?? ""), ("description", "Finance team"), ("maxAttributesPerSet", "20")])
            #expect(edited.status == .seeOther)
            #expect(try await tenant.store.schema().set(named: "Finance")?.maxAttributesPerSet == 20)

            let added = try await browser.request(
                .post, "/console/attribute-sets/Finance/attributes",
                form: [
                    ("_csrf", set.csrf ?? ""), ("name", "CostCenter"), ("description", "Budget owner"), ("type", "String"),
                    ("isCollection", "false"), ("usePreDefinedValuesOnly", "true"), ("allowedValues", "CC-100\nCC-200\n"),
                ])
            #expect(added.headers[.location] == "/console/attribute-sets/Finance/attributes/CostCenter?saved=1")
            let path = "/console/attribute-sets/Finance/attributes/CostCenter"
            var attribute = try await browser.request(.get, path)
            #expect(attribute.html.contains("<tr><td>CC-200</td><td>Yes</td>"))
            // Toggle a value, add one, then deactivate the attribute after confirming.
            #expect(
                try await browser.request(
                    .post, path,
                    form: [("_csrf", attribute.csrf ?? ""), ("action", "toggleValue"), ("value", "CC-200"), ("isActive", "false")]
                ).status == .seeOther)
            #expect(
                try await browser.request(
                    .post, path, form: [("_csrf", attribute.csrf ?? ""), ("action", "addValue"), ("value", "CC-300")]
                ).status == .seeOther)
            attribute = try await browser.request(.get, path)
            #expect(attribute.html.contains("<tr><td>CC-200</td><td>No</td>"))
            #expect(attribute.html.contains("<tr><td>CC-300</td><td>Yes</td>"))
            let duplicate = try await browser.request(
                .post, path, form: [("_csrf", attribute.csrf ?? ""), ("action", "addValue"), ("value", "CC-300")])
            #expect(duplicate.status == .badRequest)
            #expect(duplicate.html.contains("already exists"))
            let confirm = try await browser.request(.get, "\(path)?deactivate=1")
            #expect(confirm.html.contains("Yes, deactivate"))
            #expect(
                try await browser.request(.post, path, form: [("_csrf", confirm.csrf ?? ""), ("action", "deactivate")]).status
                    == .seeOther)
            let after = try await browser.request(.get, "/console/attribute-sets/Finance")
            #expect(after.html.contains("<h2>Deactivated attributes</h2>"))
            #expect(try await tenant.store.schema().definition(id: "Finance_CostCenter")?.status == .deprecated)

            // Six changes, six audit records by the signed-in user.
            try await tenant.store.sealAudit()
            let records = try await tenant.store.auditRecords(AuditQuery(), after: nil, limit: 100).records
            #expect(records.filter { $0.json.contains(#""result":"success""#) }.count == 6)
            #expect(records.filter { $0.json.contains(#""result":"failure""#) }.count == 2)
        }
    }

    @Test func setScopedAdministratorsAndReadersAreOfferedOnlyWhatTheyMayDo() async throws {
        let tenant = try await TestTenant.make()
        try await tenant.store.changeSchema { _ in [.createSet(AttributeSet(id: "Finance")), .createSet(AttributeSet(id: "Legal"))] }
        _ = try await tenant.user("Fay", grants: [.set(.attributeDefinitionAdministrator, "Finance")])
        _ = try await tenant.user("Rex", grants: [.tenant(.attributeDefinitionReader)])
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("fay@sigil.test").status == .seeOther)
            let sets = try await browser.request(.get, "/console/attribute-sets")
            #expect(sets.html.contains(">Finance</a>"))
            #expect(!sets.html.contains(">Legal</a>"))
            #expect(!sets.html.contains("Add attribute set"))
            let finance = try await browser.request(.get, "/console/attribute-sets/Finance")
            #expect(finance.html.contains("Add attribute"))
            #expect(!finance.html.contains("Save set"))
            let refused = try await browser.request(
                .post, "/console/attribute-sets/Finance", form: [("_csrf", finance.csrf ?? ""), ("description", "x")])
            #expect(refused.status == .forbidden)
            // As the API answers: another set, existing or not, is forbidden to a set-scoped role.
            #expect(try await browser.request(.get, "/console/attribute-sets/Legal").status == .forbidden)
            #expect(try await browser.request(.get, "/console/attribute-sets/Missing").status == .forbidden)
        }
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("rex@sigil.test").status == .seeOther)
            let finance = try await browser.request(.get, "/console/attribute-sets/Finance")
            #expect(finance.status == .ok)
            #expect(!finance.html.contains("Add attribute"))
            #expect(!finance.html.contains("<form method=\"post\" action=\"/console/attribute-sets/Finance\""))
            let refused = try await browser.request(
                .post, "/console/attribute-sets/Finance/attributes",
                form: [("_csrf", finance.csrf ?? ""), ("name", "Sneaky"), ("type", "String")])
            #expect(refused.status == .forbidden)
            #expect(try await tenant.store.schema().definitions.isEmpty)
        }
    }
}
