import Foundation
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilConsole
@testable import SigilGraph
@testable import SigilService

/// The in-place editor's one Save of several rows (all or nothing, errors per row) and the lists'
/// composed filters (chips with names, search kept, Previous/Next).
@Suite struct ConsoleEditorTests {
    typealias Browser = ConsoleBrowser

    static func rows(_ csrf: String, _ rows: [(key: String, set: String, attribute: String, values: [String])]) -> [(String, String)] {
        [("_csrf", csrf), ("mode", "rows")]
            + rows.flatMap { row in
                [("row", row.key), ("set-\(row.key)", row.set), ("attribute-\(row.key)", row.attribute)]
                    + row.values.map { ("value-\(row.key)", $0) }
            }
    }

    /// The address of the link whose `href` value ends right before `marker`.
    static func link(_ html: String, _ marker: String) throws -> String {
        let end = try #require(html.range(of: marker))
        let start = try #require(html[..<end.lowerBound].range(of: "href=\"", options: .backwards))
        return String(html[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func severalRowsAreSavedAllOrNothing() async throws {
        let f = try await ConsoleAssignmentTests.fixture()
        _ = try await f.tenant.user("Admin", grants: [.tenant(.attributeAssignmentAdministrator)])
        try await withConsole(f.tenant) { browser in
            #expect(try await browser.signIn("admin@sigil.test").status == .seeOther)
            let base = "/console/users/\(f.userId)"
            let page = try await browser.request(.get, base)
            // The editor ships hidden, with what the script needs to build rows.
            #expect(page.html.contains(#"data-assign-editor"#))
            #expect(page.html.contains("Engineering_NumVendors"))
            let csrf = try #require(page.csrf)
            func held() async throws -> AttributeAssignments? { try await f.tenant.store.attributes(of: [f.userId])[f.userId] }

            // One wrong row refuses every row; the error belongs to its row, and is audited once.
            let refused = try await browser.request(
                .post, "\(base)/attributes",
                form: Self.rows(
                    csrf,
                    [
                        ("n1", "Engineering", "Engineering_ProjectDate", ["2025-01-01"]),
                        ("n2", "Engineering", "Engineering_NumVendors", ["four"]),
                        ("n3", "Engineering", "Engineering_Project", ["Alpine", "Cascade"]),
                    ]))
            #expect(refused.status == .badRequest)
            #expect(refused.html.contains("Nothing was saved"))
            #expect(refused.html.contains("Engineering NumVendors: "))
            #expect(refused.html.contains("&quot;key&quot;:&quot;n2&quot;"), "the rows come back for the script")
            #expect(try await held()?.values(of: "Engineering_ProjectDate").isEmpty ?? true, "nothing was written")
            #expect(try await held()?.values(of: "Engineering_Project").isEmpty ?? true)
            let failures = try await f.tenant.store.auditRecords(AuditQuery(), after: nil, limit: 100).records
                .filter { $0.json.contains(#""result":"failure""#) }
            #expect(failures.count == 1)

            // A set changed after the attribute, a repeated attribute and an empty row are refused too.
            let mixed = try await browser.request(
                .post, "\(base)/attributes",
                form: Self.rows(
                    csrf,
                    [
                        ("n1", "Marketing", "Engineering_NumVendors", ["3"]),
                        ("n2", "Engineering", "Engineering_Certification", ["True"]),
                        ("n3", "Engineering", "Engineering_Certification", ["False"]),
                        ("n4", "Engineering", "", []),
                    ]))
            #expect(mixed.status == .badRequest)
            #expect(mixed.html.contains("NumVendors is in the set Engineering, not Marketing."))
            #expect(mixed.html.contains("Engineering Certification is in another row already."))
            #expect(mixed.html.contains("A new row: Choose an attribute set and an attribute."))
            #expect(try await held()?.values(of: "Engineering_Certification").isEmpty ?? true)
            let none = try await browser.request(.post, "\(base)/attributes", form: Self.rows(csrf, []))
            #expect(none.status == .badRequest)
            #expect(none.html.contains("Add an attribute row before saving."))

            // Corrected: three attributes in one Save, one audit record of the change.
            let saved = try await browser.request(
                .post, "\(base)/attributes",
                form: Self.rows(
                    csrf,
                    [
                        ("n1", "Engineering", "Engineering_ProjectDate", ["2025-01-01"]),
                        ("n2", "Engineering", "Engineering_NumVendors", ["4"]),
                        ("e3", "", "Engineering_Project", ["Alpine", "Cascade"]),
                    ]))
            #expect(saved.status == .seeOther)
            #expect(saved.headers[.location] == "\(base)?saved=3")
            #expect(try await browser.request(.get, "\(base)?saved=3").html.contains("3 assignments saved."))
            #expect(try await held()?.values(of: "Engineering_NumVendors") == [.integer(4)])
            #expect(try await held()?.values(of: "Engineering_Project") == [.string("Alpine"), .string("Cascade")])
            #expect(try await held()?.values(of: "Engineering_ProjectDate") == [.string("2025-01-01")])
            let successes = try await f.tenant.store.auditRecords(AuditQuery(), after: nil, limit: 100).records
                .filter { $0.json.contains(#""result":"success""#) }
            #expect(successes.count == 1)
        }
    }

    @Test func setScopedAdministratorsCannotSaveRowsOutsideTheirSets() async throws {
        let f = try await ConsoleAssignmentTests.fixture()
        _ = try await f.tenant.user("Marketer", grants: [.set(.attributeAssignmentAdministrator, "Marketing")])
        try await withConsole(f.tenant) { browser in
            #expect(try await browser.signIn("marketer@sigil.test").status == .seeOther)
            let base = "/console/users/\(f.userId)"
            let page = try await browser.request(.get, base)
            #expect(!page.html.contains("Engineering_NumVendors"), "the editor offers the caller's sets only")
            let refused = try await browser.request(
                .post, "\(base)/attributes",
                form: Self.rows(
                    page.csrf ?? "",
                    [
                        ("n1", "Marketing", "Marketing_EmployeeId", ["GS1"]),
                        ("n2", "Engineering", "Engineering_NumVendors", ["3"]),
                    ]))
            #expect(refused.status == .badRequest)
            #expect(refused.html.contains("Choose an attribute you may assign."))
            #expect(try await f.tenant.store.attributes(of: [f.userId])[f.userId]?.values(of: "Marketing_EmployeeId").isEmpty ?? true)
        }
    }

    @Test func filtersComposeWithChipsSearchAndPaging() async throws {
        let f = try await ConsoleAssignmentTests.fixture()
        _ = try await f.tenant.user("Admin", grants: [.tenant(.attributeAssignmentAdministrator)])
        let held: [(name: String, employee: String, vendors: Int32, certified: Bool)] = [
            ("Jana", "GS46982", 4, true), ("Joe", "KX19476", 4, true), ("Dara", "GS45897", 4, false),
            ("Janet", "GS1", 8, true),
        ]
        for person in held {
            let id = try await f.tenant.user(person.name).id
            try await f.tenant.store.modify(.user, id: id, passwordHash: nil) { state, _ in
                var next = state
                next.attributes.set("Marketing_EmployeeId", [.string(person.employee)])
                next.attributes.set("Engineering_NumVendors", [.integer(person.vendors)])
                next.attributes.set("Engineering_Certification", [.boolean(person.certified)])
                return next
            }
        }
        try await withConsole(f.tenant) { browser in
            #expect(try await browser.signIn("admin@sigil.test").status == .seeOther)
            func names(_ html: String) -> Set<String> {
                Set(
                    html.components(separatedBy: "\">").compactMap { part -> String? in
                        guard let end = part.range(of: "</a></td>") else { return nil }
                        return String(part[..<end.lowerBound])
                    })
            }
            // Three rows of the pane, one Apply: joined by `and`, counted by the query engine.
            let three = try await browser.request(
                .get,
                "/console/users?set=Marketing&attribute=Marketing_EmployeeId&op=startsWith&value=GS"
                    + "&set=Engineering&attribute=Engineering_NumVendors&op=eq&value=4"
                    + "&set=Engineering&attribute=Engineering_Certification&op=ne&value=False")
            #expect(three.status == .ok)
            #expect(names(three.html) == ["Jana"])
            #expect(three.html.contains("1 user found"))
            // Chips say set and attribute names, never the internal id.
            #expect(three.html.contains("<span>Marketing › EmployeeId starts with GS</span>"))
            #expect(three.html.contains("<span>Engineering › NumVendors == 4</span>"))
            #expect(three.html.contains("<span>Engineering › Certification != False</span>"))
            #expect(!three.html.contains("Marketing_EmployeeId starts"))
            // Removing one chip keeps the others (and the search).
            let first = try Self.link(three.html, #"" aria-label="Remove filter Marketing › EmployeeId starts with GS">"#)
            #expect(first.removingPercentEncoding?.contains("f=Engineering_NumVendors~eq~4") == true)
            #expect(first.removingPercentEncoding?.contains("Marketing_EmployeeId") == false)
            let two = try await browser.request(.get, first)
            #expect(names(two.html) == ["Jana", "Joe"])

            // Applied filters travel as `f`; a new row adds to them; the search combines with both.
            let combined = try await browser.request(
                .get, "/console/users?search=Jan&f=Engineering_Certification~eq~True&set=&attribute=&op=eq&value=")
            #expect(names(combined.html) == ["Jana", "Janet"])
            #expect(combined.html.contains(#"<input type="hidden" name="f" value="Engineering_Certification~eq~True">"#))
            let more = try await browser.request(
                .get,
                "/console/users?search=Jan&f=Engineering_Certification~eq~True"
                    + "&set=Engineering&attribute=Engineering_NumVendors&op=eq&value=8")
            #expect(names(more.html) == ["Janet"])
            #expect(more.html.contains("2 users found") == false)
            #expect(more.html.contains("1 user found"))

            // A set changed after the attribute is refused by name, not silently dropped.
            let changed = try await browser.request(
                .get, "/console/users?set=Marketing&attribute=Engineering_NumVendors&op=eq&value=4")
            #expect(changed.html.contains("NumVendors is in the set Engineering, not Marketing. Choose an attribute of Marketing."))
            #expect(!changed.html.contains("<span>Engineering › NumVendors"))
            // Values the definition cannot take are explained.
            let bad = try await browser.request(.get, "/console/users?f=Engineering_NumVendors~eq~four")
            #expect(bad.html.contains("is not a whole number"))
        }
    }

    @Test func previousAndNextPagesKeepFilters() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Reader")
        for index in 0..<105 { _ = try await tenant.user("Bulk\(index)") }
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("reader@sigil.test").status == .seeOther)
            func link(_ html: String, _ text: String) throws -> String { try ConsoleEditorTests.link(html, "\">\(text)</a>") }
            let first = try await browser.request(.get, "/console/users?search=bulk")
            #expect(first.html.contains("105 users found"))
            #expect(!first.html.contains("Previous page"))
            let second = try await browser.request(.get, try link(first.html, "Next page"))
            let third = try await browser.request(.get, try link(second.html, "Next page"))
            #expect(third.html.components(separatedBy: "<tr><td>").count - 1 == 5)
            #expect(third.html.contains("105 users found"))
            let back = try await browser.request(.get, try link(third.html, "Previous page"))
            func rows(_ html: String) -> Substring? { html.split(separator: "<tbody>").last?.split(separator: "</tbody>").first }
            #expect(rows(back.html) == rows(second.html), "Previous from page 3 is page 2")
            #expect(back.html.components(separatedBy: "<tr><td>").count - 1 == 50)
            let start = try link(try await browser.request(.get, try link(back.html, "Previous page")).html, "Next page")
            #expect(start == (try link(first.html, "Next page")), "Previous from page 2 is page 1")
        }
    }
}
