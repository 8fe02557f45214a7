import Foundation
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilConsole
@testable import SigilGraph
@testable import SigilService

/// The admin-center steps of seed 002 on a user's Custom security attributes page: add
/// assignments of every kind, edit, remove, errors next to the field, and what readers and
/// set-scoped administrators are offered.
@Suite struct ConsoleAssignmentTests {
    typealias Browser = ConsoleBrowser

    struct Fixture {
        let tenant: TestTenant
        let userId: String
    }

    static func fixture() async throws -> Fixture {
        let tenant = try await TestTenant.make()
        @Sendable func definition(_ set: String, _ name: String, _ type: AttributeType, collection: Bool = false, predefined: Bool = false)
            -> AttributeDefinition
        {
            AttributeDefinition(
                attributeSet: set, name: name, type: type, isCollection: collection, isSearchable: true,
                usePreDefinedValuesOnly: predefined)
        }
        let project = definition("Engineering", "Project", .string, collection: true, predefined: true)
        try await tenant.store.changeSchema { _ in
            [
                .createSet(AttributeSet(id: "Engineering")), .createSet(AttributeSet(id: "Marketing")),
                .createDefinition(definition("Engineering", "ProjectDate", .string), allowedValues: []),
                .createDefinition(
                    project,
                    allowedValues: ["Alpine", "Baker", "Cascade"].map { AllowedValue(id: $0, isActive: true) }
                        + [AllowedValue(id: "Retired", isActive: false)]),
                .createDefinition(definition("Engineering", "NumVendors", .integer), allowedValues: []),
                .createDefinition(definition("Engineering", "CostCenters", .integer, collection: true), allowedValues: []),
                .createDefinition(definition("Engineering", "Certification", .boolean), allowedValues: []),
                .createDefinition(definition("Marketing", "EmployeeId", .string), allowedValues: []),
            ]
        }
        let user = try await tenant.user("Chandra")
        return Fixture(tenant: tenant, userId: user.id)
    }

    static func save(_ browser: Browser, _ base: String, _ attribute: String, _ values: [String], edit: Bool = false)
        async throws -> ConsoleBrowser.Page
    {
        let form = try await browser.request(.get, "\(base)/attributes/\(edit ? "edit" : "new")?attribute=\(attribute)")
        #expect(form.status == .ok, "\(form.html)")
        return try await browser.request(
            .post, "\(base)/attributes",
            form: [("_csrf", form.csrf ?? ""), ("mode", edit ? "edit" : "add"), ("attribute", attribute)]
                + values.map { ("value", $0) })
    }

    @Test func addEditAndRemoveEveryKindOfValue() async throws {
        let f = try await Self.fixture()
        _ = try await f.tenant.user("Admin", grants: [.tenant(.attributeAssignmentAdministrator)])
        try await withConsole(f.tenant) { browser in
            #expect(try await browser.signIn("admin@sigil.test").status == .seeOther)
            let base = "/console/users/\(f.userId)"
            let empty = try await browser.request(.get, base)
            #expect(empty.html.contains("No custom security attributes are assigned that you can see."))
            #expect(empty.html.contains(#"href="\#(base)/attributes/new">Add assignment</a>"#))

            // The admin center's order: set, then attribute, then the value widget that fits.
            let sets = try await browser.request(.get, "\(base)/attributes/new")
            #expect(sets.html.contains(#"<option value="Engineering">Engineering</option>"#))
            let attributes = try await browser.request(.get, "\(base)/attributes/new?set=Engineering")
            #expect(attributes.html.contains(#"<option value="Engineering_NumVendors">NumVendors</option>"#))
            let predefined = try await browser.request(.get, "\(base)/attributes/new?attribute=Engineering_Project")
            #expect(predefined.html.contains(#"<input type="checkbox" name="value" value="Baker">"#))
            #expect(!predefined.html.contains("Retired"), "inactive values are not offered")
            let multi = try await browser.request(.get, "\(base)/attributes/new?attribute=Engineering_CostCenters")
            #expect(multi.html.contains("data-multi"))
            #expect(multi.html.contains(#"type="number""#))

            #expect(try await Self.save(browser, base, "Engineering_ProjectDate", ["2024-11-15"]).status == .seeOther)
            #expect(try await Self.save(browser, base, "Engineering_Project", ["Baker", "Alpine"]).status == .seeOther)
            #expect(try await Self.save(browser, base, "Engineering_NumVendors", ["8"]).status == .seeOther)
            #expect(try await Self.save(browser, base, "Engineering_CostCenters", ["100", "", "200"]).status == .seeOther)
            #expect(try await Self.save(browser, base, "Engineering_Certification", ["True"]).status == .seeOther)
            let page = try await browser.request(.get, "\(base)?saved=1")
            #expect(page.html.contains("Assignment saved."))
            for row in [
                "<td>ProjectDate</td><td>2024-11-15</td>", "<td>Project</td><td>Baker, Alpine</td>",
                "<td>NumVendors</td><td>8</td>", "<td>CostCenters</td><td>100, 200</td>", "<td>Certification</td><td>True</td>",
            ] {
                #expect(page.html.contains(row), "\(row)")
            }
            let stored = try await f.tenant.store.attributes(of: [f.userId])[f.userId]
            #expect(stored?.values(of: "Engineering_NumVendors") == [.integer(8)])
            #expect(stored?.values(of: "Engineering_Project") == [.string("Baker"), .string("Alpine")])

            // Edit: the form shows the current value; set and attribute stay fixed.
            let edit = try await browser.request(.get, "\(base)/attributes/edit?attribute=Engineering_NumVendors")
            #expect(edit.html.contains(#"value="8""#))
            #expect(!edit.html.contains(#"<select id="set""#))
            #expect(try await Self.save(browser, base, "Engineering_NumVendors", ["5"], edit: true).status == .seeOther)
            #expect(try await Self.save(browser, base, "Engineering_Project", ["Cascade"], edit: true).status == .seeOther)
            #expect(try await Self.save(browser, base, "Engineering_Certification", ["False"], edit: true).status == .seeOther)
            let edited = try await browser.request(.get, base)
            #expect(edited.html.contains("<td>NumVendors</td><td>5</td>"))
            #expect(edited.html.contains("<td>Project</td><td>Cascade</td>"))
            #expect(edited.html.contains("<td>Certification</td><td>False</td>"))

            // Remove a single-valued and a multi-valued assignment together: the first post only
            // asks (what the script's dialog does in place), the confirmation removes.
            let picked = [("attribute", "Engineering_ProjectDate"), ("attribute", "Engineering_Project")]
            let asked = try await browser.request(.post, "\(base)/attributes/remove", form: [("_csrf", edited.csrf ?? "")] + picked)
            #expect(asked.status == .ok)
            #expect(asked.html.contains("<h1>Remove 2 assignments?</h1>"), "\(asked.html)")
            #expect(asked.html.contains("<li>Engineering ProjectDate</li>") && asked.html.contains("<li>Engineering Project</li>"))
            #expect(try await browser.request(.get, base).html.contains("<td>ProjectDate</td>"), "asking changed nothing")
            let removed = try await browser.request(
                .post, "\(base)/attributes/remove", form: [("_csrf", asked.csrf ?? ""), ("confirmed", "1")] + picked)
            #expect(removed.status == .seeOther)
            let after = try await browser.request(.get, base)
            #expect(!after.html.contains("<td>ProjectDate</td>"))
            #expect(!after.html.contains("<td>Project</td>"))
            #expect(after.html.contains("<td>NumVendors</td><td>5</td>"))

            // Every change is in the audit log, made by the signed-in user.
            try await f.tenant.store.sealAudit()
            let records = try await f.tenant.store.auditRecords(AuditQuery(), after: nil, limit: 100).records
            #expect(records.count == 9)
            #expect(records.allSatisfy { $0.json.contains(#""userPrincipalName":"admin@sigil.test""#) })
        }
    }

    @Test func errorsAreShownNextToTheFieldAndChangeNothing() async throws {
        let f = try await Self.fixture()
        _ = try await f.tenant.user("Admin", grants: [.tenant(.attributeAssignmentAdministrator)])
        try await withConsole(f.tenant) { browser in
            #expect(try await browser.signIn("admin@sigil.test").status == .seeOther)
            let base = "/console/users/\(f.userId)"
            let notNumber = try await Self.save(browser, base, "Engineering_NumVendors", ["eight"])
            #expect(notNumber.status == .badRequest)
            #expect(notNumber.html.contains(#"<p class="error" id="value-error" role="alert">"#))
            #expect(notNumber.html.contains("is not a whole number"))
            #expect(notNumber.html.contains(#"value="eight""#), "what was typed is kept")
            let tooLong = try await Self.save(browser, base, "Marketing_EmployeeId", [String(repeating: "x", count: 65)])
            #expect(tooLong.status == .badRequest)
            #expect(tooLong.html.contains("64"))
            let nothing = try await Self.save(browser, base, "Marketing_EmployeeId", [""])
            #expect(nothing.html.contains("Enter a value"))
            #expect(try await f.tenant.store.attributes(of: [f.userId]).isEmpty)
            // Refused changes are in the audit log as failures, with the reason shown.
            try await f.tenant.store.sealAudit()
            let records = try await f.tenant.store.auditRecords(AuditQuery(), after: nil, limit: 100).records
            #expect(records.count == 3)
            #expect(records.allSatisfy { $0.json.contains(#""result":"failure""#) })
            let forged = try await browser.request(
                .post, "\(base)/attributes", form: [("attribute", "Marketing_EmployeeId"), ("value", "GS1")])
            #expect(forged.status == .forbidden)
            #expect(try await f.tenant.store.attributes(of: [f.userId]).isEmpty)
        }
    }

    @Test func readersAndSetScopedAdministratorsSeeOnlyWhatTheyMayDo() async throws {
        let f = try await Self.fixture()
        _ = try await f.tenant.user("Admin", grants: [.tenant(.attributeAssignmentAdministrator)])
        _ = try await f.tenant.user("Reader", grants: [.tenant(.attributeAssignmentReader)])
        _ = try await f.tenant.user("Marketer", grants: [.set(.attributeAssignmentAdministrator, "Marketing")])
        try await f.tenant.store.modify(.user, id: f.userId, passwordHash: nil) { state, _ in
            var next = state
            next.attributes.set("Engineering_NumVendors", [.integer(3)])
            next.attributes.set("Marketing_EmployeeId", [.string("GS36348")])
            return next
        }
        let base = "/console/users/\(f.userId)"
        try await withConsole(f.tenant) { browser in
            #expect(try await browser.signIn("reader@sigil.test").status == .seeOther)
            let page = try await browser.request(.get, base)
            #expect(page.html.contains("<td>NumVendors</td><td>3</td>"))
            #expect(!page.html.contains("Add assignment"))
            #expect(!page.html.contains("Remove assignment"))
            #expect(!page.html.contains(">Edit</a>"))
            // The server refuses anyway.
            let refused = try await browser.request(
                .post, "\(base)/attributes/remove", form: [("_csrf", page.csrf ?? ""), ("attribute", "Engineering_NumVendors")])
            #expect(refused.status == .forbidden)
            #expect(try await browser.request(.get, "\(base)/attributes/new").status == .forbidden)
        }
        try await withConsole(f.tenant) { browser in
            #expect(try await browser.signIn("marketer@sigil.test").status == .seeOther)
            let page = try await browser.request(.get, base)
            #expect(page.html.contains("<td>EmployeeId</td><td>GS36348</td>"))
            #expect(!page.html.contains("NumVendors"), "Engineering is outside its scope")
            let sets = try await browser.request(.get, "\(base)/attributes/new")
            #expect(sets.html.contains(#"<option value="Marketing">"#))
            #expect(!sets.html.contains(#"<option value="Engineering">"#))
            let outside = try await Self.save(browser, base, "Engineering_NumVendors", ["9"])
            #expect(outside.status == .badRequest, "an attribute outside its sets cannot even be chosen")
            #expect(try await f.tenant.store.attributes(of: [f.userId])[f.userId]?.values(of: "Engineering_NumVendors") == [.integer(3)])
        }
    }
}

/// "Add filter" on the lists: ==, != and starts with on custom security attributes, with counts,
/// through the same engine as `$filter`; enterprise applications get the same pages.
@Suite struct ConsoleFilterTests {
    typealias Browser = ConsoleBrowser

    @Test func filterUsersAndApplicationsByAttribute() async throws {
        let f = try await ConsoleAssignmentTests.fixture()
        _ = try await f.tenant.user("Admin", grants: [.tenant(.attributeAssignmentAdministrator)])
        let ids = try await [f.tenant.user("Jana").id, f.tenant.user("Joe").id, f.tenant.user("Dara").id]
        let held: [(employee: String, vendors: Int32)] = [("GS46982", 4), ("KX19476", 8), ("GS45897", 4)]
        for (id, (employee, vendors)) in zip(ids, held) {
            try await f.tenant.store.modify(.user, id: id, passwordHash: nil) { state, _ in
                var next = state
                next.attributes.set("Marketing_EmployeeId", [.string(employee)])
                next.attributes.set("Engineering_NumVendors", [.integer(vendors)])
                return next
            }
        }
        let app = try await f.tenant.servicePrincipal("Payroll")
        try await withConsole(f.tenant) { browser in
            #expect(try await browser.signIn("admin@sigil.test").status == .seeOther)
            func names(_ query: String, _ segment: String = "users") async throws -> (count: String, names: [String]) {
                let page = try await browser.request(.get, "/console/\(segment)?\(query)")
                #expect(page.status == .ok, "\(page.html)")
                let count =
                    page.html.components(separatedBy: #"<p class="count" aria-live="polite">"#).dropFirst().first?
                    .prefix { $0 != "<" } ?? ""
                let names = page.html.components(separatedBy: "\">").compactMap { part -> String? in
                    guard let end = part.range(of: "</a></td>") else { return nil }
                    return String(part[..<end.lowerBound])
                }
                return (String(count), names)
            }
            let steps = try await browser.request(.get, "/console/users?set=Marketing")
            #expect(steps.html.contains(#"<option value="Marketing_EmployeeId">EmployeeId</option>"#))
            let widget = try await browser.request(.get, "/console/users?attribute=Engineering_NumVendors")
            #expect(widget.html.contains(#"type="number""#))
            #expect(!widget.html.contains("starts with"), "starts with is for String attributes")

            let eq = try await names("attribute=Engineering_NumVendors&op=eq&value=4")
            #expect(eq.count == "2 users found")
            #expect(Set(eq.names) == ["Jana", "Dara"])
            let ne = try await names("attribute=Engineering_NumVendors&op=ne&value=4")
            #expect(Set(ne.names) == ["Joe", "Chandra", "Admin"], "!= includes users without the attribute")
            let prefix = try await names("attribute=Marketing_EmployeeId&op=startsWith&value=GS")
            #expect(Set(prefix.names) == ["Jana", "Dara"])
            let combined = try await names("search=Ja&attribute=Marketing_EmployeeId&op=startsWith&value=GS")
            #expect(combined.names == ["Jana"])
            let bad = try await browser.request(.get, "/console/users?attribute=Engineering_NumVendors&op=eq&value=four")
            #expect(bad.html.contains("is not a whole number"))

            // Enterprise applications: the same list, filter and assignment pages.
            let apps = try await names("", "enterprise-applications")
            #expect(apps.names.contains("Payroll"))
            let base = "/console/enterprise-applications/\(app.id)"
            let saved = try await ConsoleAssignmentTests.save(browser, base, "Marketing_EmployeeId", ["APP-1"])
            #expect(saved.status == .seeOther)
            #expect(try await browser.request(.get, base).html.contains("<td>EmployeeId</td><td>APP-1</td>"))
            let filtered = try await names("attribute=Marketing_EmployeeId&op=eq&value=APP-1", "enterprise-applications")
            #expect(filtered.names == ["Payroll"])
            #expect(filtered.count == "1 application found")
        }
    }

    @Test func readersWithoutSetRightsCannotFilterOnIt() async throws {
        let f = try await ConsoleAssignmentTests.fixture()
        _ = try await f.tenant.user("Marketer", grants: [.set(.attributeAssignmentReader, "Marketing")])
        try await withConsole(f.tenant) { browser in
            #expect(try await browser.signIn("marketer@sigil.test").status == .seeOther)
            let page = try await browser.request(.get, "/console/users")
            #expect(page.html.contains(#"<option value="Marketing">Marketing</option>"#))
            #expect(!page.html.contains(#"<option value="Engineering">"#))
            // Asking anyway does not apply the filter (the attribute is not offered).
            let sneaky = try await browser.request(.get, "/console/users?attribute=Engineering_NumVendors&op=eq&value=4")
            #expect(!sneaky.html.contains("Filter: Engineering_NumVendors"))
        }
    }
}
