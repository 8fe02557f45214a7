import Foundation
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilConsole
@testable import SigilGraph
@testable import SigilService

/// The Provisioning mapping page: read by the provisioning roles, saved by their administrator,
/// a refusal shown next to its row with nothing saved.
@Suite struct ConsoleProvisioningMappingTests {
    static let acme = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"

    static func form(_ csrf: String, identifier: String, rows: [(String, String)]) -> [(String, String)] {
        var fields = [("_csrf", csrf), ("matchingIdentifier", identifier)]
        for (index, row) in rows.enumerated() {
            fields += [("row", "\(index + 1)"), ("source-\(index + 1)", row.0), ("target-\(index + 1)", row.1)]
        }
        return fields
    }

    @Test func anAdministratorSavesTheMappingAndARefusalStaysOnItsRow() async throws {
        let tenant = try await TestTenant.make()
        try await ConsoleConditionalAccessTests.seed(tenant)
        _ = try await tenant.user("Priya", grants: [.tenant(.attributeProvisioningAdministrator)])
        _ = try await tenant.user("Gale", grants: [.tenant(.globalReader)])
        _ = try await tenant.user("Ulla", grants: [.tenant(.userAdministrator)])
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("priya@sigil.test").status == .seeOther)
            let empty = try await browser.request(.get, "/console/provisioning-mapping")
            #expect(empty.status == .ok, "\(empty.status) \(empty.html)")
            #expect(empty.html.contains(#"<a href="/console/provisioning-mapping" aria-current="page">Provisioning mapping</a>"#))
            #expect(empty.html.contains(#"value="externalId" checked"#))
            #expect(empty.html.contains(#"<label for="source-1">Source, row 1</label>"#))

            // A bad row: nothing saved, the message next to that row (the blank row between is dropped).
            let bad = try await browser.request(
                .post, "/console/provisioning-mapping",
                form: Self.form(
                    empty.csrf ?? "", identifier: "userName",
                    rows: [("\(Self.acme):costCenter", "Engineering_Cost"), ("", ""), ("userType", "Engineering_Nope")]))
            #expect(bad.status == .badRequest)
            #expect(bad.html.contains(#"<p class="error" id="row-3-error">Attribute mapping 2: target &#39;Engineering_Nope&#39;"#), "\(bad.html)")
            #expect(bad.html.contains(#"id="target-3" name="target-3" type="text" maxlength="260" value="Engineering_Nope" aria-invalid="true""#))
            #expect(try await tenant.store.provisioningMapping() == .default)

            // A target mapped twice is shown on the second row naming it.
            let twice = try await browser.request(
                .post, "/console/provisioning-mapping",
                form: Self.form(
                    bad.csrf ?? "", identifier: "externalId",
                    rows: [("userType", "Engineering_Cost"), ("title", "engineering_cost")]))
            #expect(twice.status == .badRequest)
            #expect(twice.html.contains(#"id="row-2-error""#), "\(twice.html)")

            let saved = try await browser.request(
                .post, "/console/provisioning-mapping",
                form: Self.form(twice.csrf ?? "", identifier: "userName", rows: [("\(Self.acme):costCenter", "engineering_cost"), ("", "")]))
            #expect(saved.status == .seeOther, "\(saved.html)")
            #expect(saved.headers[.location] == "/console/provisioning-mapping?saved=1")
            let stored = try await tenant.store.provisioningMapping()
            #expect(stored.matchingIdentifier == .userName)
            #expect(stored.attributeMappings == [.init(source: "\(Self.acme):costCenter", target: "Engineering_Cost")])
            let shown = try await browser.request(.get, "/console/provisioning-mapping?saved=1")
            #expect(shown.html.contains("Mapping saved."))
            #expect(shown.html.contains(#"value="Engineering_Cost""#))
            #expect(shown.html.contains(#"value="userName" checked"#))
        }
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("gale@sigil.test").status == .seeOther)
            let read = try await browser.request(.get, "/console/provisioning-mapping")
            #expect(read.status == .ok)
            #expect(read.html.contains("<td>Engineering_Cost</td>"))
            #expect(!read.html.contains("<form method=\"post\" action=\"/console/provisioning-mapping\""))
            let refused = try await browser.request(
                .post, "/console/provisioning-mapping", form: Self.form(read.csrf ?? "", identifier: "externalId", rows: []))
            #expect(refused.status == .forbidden)
            #expect(try await tenant.store.provisioningMapping().matchingIdentifier == .userName)
        }
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("ulla@sigil.test").status == .seeOther)
            let users = try await browser.request(.get, "/console/users")
            #expect(!users.html.contains("Provisioning mapping"))
            #expect(try await browser.request(.get, "/console/provisioning-mapping").status == .forbidden)
        }
    }
}
