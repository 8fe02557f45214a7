import Foundation
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilConsole
@testable import SigilGraph
@testable import SigilService

/// The Access pages: access rules (create, edit, a refused condition shown at its position with
/// nothing saved, delete after confirmation), Test access (the decision both ways with the rule
/// and the trace) and Who has access (exact count, Previous/Next); every refusal is the service's.
@Suite struct ConsoleAccessTests {
    static let blobRead = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
    static let project = "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project]"
    /// The principal's project is the blob's Project tag.
    static let sameProject =
        "\(project) StringEquals @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>]"
    static let cascade = "\(project) StringEquals 'Cascade'"
    /// Misses its right-hand side: the validator stops at the end, character 67.
    static let refused = "\(project) StringEquals"

    static func ruleForm(_ csrf: String, name: String, condition: String) -> [(String, String)] {
        [
            ("_csrf", csrf), ("displayName", name), ("description", ""), ("principals", "all"), ("principalIds", ""),
            ("actions", blobRead), ("condition", condition),
        ]
    }

    static func giveUser(_ tenant: TestTenant, _ id: String, project: String) async throws {
        try await tenant.store.modify(.user, id: id, passwordHash: nil) { state, _ in
            var next = state
            next.attributes.set("Engineering_Project", [.string(project)])
            return next
        }
    }

    /// Ada signs in and creates a rule for blob reads through the form.
    static func signInAndCreate(_ browser: ConsoleBrowser, _ tenant: TestTenant, name: String, condition: String) async throws
        -> AccessRule
    {
        _ = try await browser.signIn("ada@sigil.test")
        let new = try await browser.request(.get, "/console/access/rules/new")
        _ = try await browser.request(
            .post, "/console/access/rules", form: ruleForm(new.csrf ?? "", name: name, condition: condition))
        return try #require(try await tenant.store.accessRules().first)
    }

    static func query(_ pairs: [(String, String)]) -> String {
        pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            .joined(separator: "&")
    }

    @Test func createEditRefuseAndDeleteARule() async throws {
        let tenant = try await TestTenant.make()
        try await ConsoleConditionalAccessTests.seed(tenant)
        _ = try await tenant.user("Ada", grants: [.tenant(.attributeAccessAdministrator), .tenant(.attributeAssignmentReader)])
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("ada@sigil.test").status == .seeOther)
            let empty = try await browser.request(.get, "/console/access")
            #expect(empty.status == .ok)
            #expect(empty.html.contains(#"<a href="/console/access" aria-current="page">Access</a>"#))
            #expect(empty.html.contains("No access rules yet."))
            #expect(empty.html.contains(#"href="/console/access/rules/new">New rule</a>"#))

            // A condition the validator refuses: Azure's text, the position as line and column next
            // to the field, which gets the focus; nothing is saved.
            let new = try await browser.request(.get, "/console/access/rules/new")
            let refusal = try await browser.request(
                .post, "/console/access/rules", form: Self.ruleForm(new.csrf ?? "", name: "Broken", condition: Self.refused))
            #expect(refusal.status == .badRequest)
            #expect(refusal.html.contains("The given role assignment condition is invalid. Position "))
            let position = try #require(AccessRuleForm.position(in: refusal.html))
            #expect(refusal.html.contains("Line 1, column \(position) (character \(position))."))
            #expect(refusal.html.contains(#"aria-invalid="true" aria-describedby="condition-error" autofocus"#))
            #expect(refusal.html.contains(#"value="Broken""#), "the form keeps what was typed")
            #expect(try await tenant.store.accessRules().isEmpty)

            let created = try await browser.request(
                .post, "/console/access/rules", form: Self.ruleForm(refusal.csrf ?? "", name: "Project readers", condition: Self.sameProject))
            #expect(created.status == .seeOther, "\(created.html)")
            let rule = try #require(try await tenant.store.accessRules().first)
            #expect(created.headers[.location] == "/console/access/rules/\(rule.id)?saved=created")
            #expect(rule.condition == Self.sameProject && rule.actions == [Self.blobRead] && rule.principals == .all)
            let shown = try await browser.request(.get, "/console/access/rules/\(rule.id)?saved=created")
            #expect(shown.html.contains("Rule created."))
            #expect(shown.html.contains("<code>\(Self.blobRead)</code>"))
            let list = try await browser.request(.get, "/console/access")
            #expect(list.html.contains(#"<a href="/console/access/rules/\#(rule.id)">Project readers</a>"#))

            // Edit: the fields come back filled; a refused change keeps the rule as it was.
            let edit = try await browser.request(.get, "/console/access/rules/\(rule.id)/edit")
            #expect(edit.html.contains(#"value="Project readers""#))
            let badEdit = try await browser.request(
                .post, "/console/access/rules/\(rule.id)", form: Self.ruleForm(edit.csrf ?? "", name: "Renamed", condition: Self.refused))
            #expect(badEdit.status == .badRequest)
            #expect(try await tenant.store.accessRules().first?.displayName == "Project readers")
            let saved = try await browser.request(
                .post, "/console/access/rules/\(rule.id)", form: Self.ruleForm(edit.csrf ?? "", name: "Cascade readers", condition: ""))
            #expect(saved.headers[.location] == "/console/access/rules/\(rule.id)?saved=1", "\(saved.html)")
            let edited = try #require(try await tenant.store.accessRules().first)
            #expect(edited.displayName == "Cascade readers" && edited.condition == nil)

            // Delete asks first on a page of its own; nothing is deleted until the confirmation.
            let ask = try await browser.request(.post, "/console/access/rules/\(rule.id)/delete", form: [("_csrf", edit.csrf ?? "")])
            #expect(ask.status == .ok)
            #expect(ask.html.contains("Delete the rule Cascade readers?"))
            #expect(try await tenant.store.accessRules().count == 1)
            let deleted = try await browser.request(
                .post, "/console/access/rules/\(rule.id)/delete", form: [("_csrf", ask.csrf ?? ""), ("confirmed", "1")])
            #expect(deleted.headers[.location] == "/console/access?deleted=1")
            #expect(try await tenant.store.accessRules().isEmpty)
            #expect(try await browser.request(.get, "/console/access?deleted=1").html.contains("Rule deleted."))
        }
    }

    @Test func testAccessDecidesBothWaysWithTheRuleAndTheTrace() async throws {
        let tenant = try await TestTenant.make()
        try await ConsoleConditionalAccessTests.seed(tenant)
        _ = try await tenant.user(
            "Ada",
            grants: [
                .tenant(.attributeAccessAdministrator), .tenant(.attributeAccessEvaluator), .tenant(.attributeAssignmentReader),
            ])
        let chandra = try await tenant.user("Chandra")
        try await Self.giveUser(tenant, chandra.id, project: "Cascade")
        try await withConsole(tenant) { browser in
            let rule = try await Self.signInAndCreate(browser, tenant, name: "Project readers", condition: Self.sameProject)
            func ask(_ tag: String, rule: String = "", condition: String = "", principal: String = "chandra@sigil.test") async throws
                -> ConsoleBrowser.Page
            {
                try await browser.request(
                    .get,
                    "/console/access/test?"
                        + Self.query([
                            ("kind", "user"), ("principal", principal), ("action", Self.blobRead), ("resource", "Project=\(tag)"),
                            ("rule", rule), ("condition", condition),
                        ]))
            }
            let form = try await browser.request(.get, "/console/access/test")
            #expect(form.status == .ok)
            #expect(form.html.contains(#"value="\#(Self.blobRead)""#), "the common action is offered")
            #expect(form.html.contains(#"<option value="\#(rule.id)">Project readers</option>"#))

            let allowed = try await ask("Cascade")
            #expect(allowed.status == .ok, "\(allowed.html)")
            #expect(allowed.html.contains("<strong>Allowed</strong> · The rule Project readers admits this request."))
            #expect(allowed.html.contains("Project readers</a>: Admits (decided)"))
            #expect(allowed.html.contains(#"<ol class="trace">"#))
            #expect(allowed.html.contains(#"<strong class="true">true</strong>"#))

            let denied = try await ask("Baker")
            #expect(denied.html.contains("<strong>Denied</strong> · No rule&#39;s condition admits this request."))
            #expect(denied.html.contains("Project readers</a>: Does not admit"))
            #expect(denied.html.contains(#"<strong class="false">false</strong>"#))
            // The one rule chosen decides the same; another action is covered by no rule.
            #expect(try await ask("Cascade", rule: rule.id).html.contains("The rule Project readers admits this request."))
            let other = try await browser.request(
                .get, "/console/access/test?" + Self.query([("kind", "user"), ("principal", chandra.id), ("action", "x/write")]))
            #expect(other.html.contains("<strong>Denied</strong> · No rule covers this principal and action."))

            // A typed condition instead of the rules: its result and trace; refused, its position.
            let typed = try await ask("Baker", condition: Self.cascade)
            #expect(typed.html.contains("<strong>Allowed</strong> · The condition admits this request."))
            let broken = try await ask("Baker", condition: Self.refused)
            #expect(broken.status == .badRequest)
            #expect(broken.html.contains(#"<div class="error-place" id="condition-error">"#))
            #expect(broken.html.contains("Line 1, column "))
            let nobody = try await ask("Cascade", principal: "nobody@sigil.test")
            #expect(nobody.status == .notFound)
            #expect(nobody.html.contains("No user has the object id or user principal name “nobody@sigil.test”."))

            // A service principal by its application id, as by its object id.
            let app = try await tenant.servicePrincipal("Cascade app")
            try await ConsoleConditionalAccessTests.give(tenant, app.id, "Engineering_Project", "Cascade")
            let appId = try #require(try await tenant.store.object(.servicePrincipal, id: app.id)?.appId)
            for name in [appId, app.id] {
                let byApp = try await browser.request(
                    .get,
                    "/console/access/test?"
                        + Self.query([
                            ("kind", "servicePrincipal"), ("principal", name), ("action", Self.blobRead), ("resource", "Project=Cascade"),
                        ]))
                #expect(byApp.status == .ok, "\(byApp.html)")
                #expect(byApp.html.contains("<strong>Allowed</strong> · The rule Project readers admits this request."))
            }
            let noApp = try await browser.request(
                .get, "/console/access/test?" + Self.query([("kind", "servicePrincipal"), ("principal", "no-such-app"), ("action", "x")]))
            #expect(noApp.status == .notFound)
            #expect(noApp.html.contains("No service principal has the object id or application id “no-such-app”."))
        }
    }

    @Test func whoHasAccessCountsExactlyAndPages() async throws {
        let tenant = try await TestTenant.make()
        try await ConsoleConditionalAccessTests.seed(tenant)
        _ = try await tenant.user("Ada", grants: [.tenant(.attributeAccessAdministrator), .tenant(.attributeAssignmentReader)])
        let chandra = try await tenant.user("Chandra")
        try await Self.giveUser(tenant, chandra.id, project: "Cascade")
        for index in 0..<51 {
            let app = try await tenant.servicePrincipal(String(format: "Cascade %02d", index))
            try await ConsoleConditionalAccessTests.give(tenant, app.id, "Engineering_Project", "Cascade")
        }
        let baker = try await tenant.servicePrincipal("Baker app")
        try await ConsoleConditionalAccessTests.give(tenant, baker.id, "Engineering_Project", "Baker")
        try await withConsole(tenant) { browser in
            let rule = try await Self.signInAndCreate(browser, tenant, name: "Cascade", condition: Self.cascade)
            // From the rule's page, and by condition: the same 52, 50 a page.
            let rulePage = try await browser.request(.get, "/console/access/rules/\(rule.id)")
            let who = try #require(ConsoleConditionalAccessTests.link(rulePage.html, "Who has access"))
            for first in [who, "/console/access/who?" + Self.query([("rule", ""), ("condition", Self.cascade), ("action", "")])] {
                let page = try await browser.request(.get, first)
                #expect(page.status == .ok, "\(page.html)")
                #expect(page.html.contains("52 principals have access"))
                #expect(page.html.components(separatedBy: "<tr><td><a href=").count - 1 == 50)
                #expect(page.html.contains("<td>chandra@sigil.test</td><td>User</td>"))
                #expect(!page.html.contains("Baker app"))
                #expect(!page.html.contains("Previous page"))
                let next = try #require(ConsoleConditionalAccessTests.link(page.html, "Next page"))
                let second = try await browser.request(.get, next)
                #expect(second.html.contains("52 principals have access"), "the count stays on later pages")
                #expect(second.html.components(separatedBy: "<tr><td><a href=").count - 1 == 2)
                #expect(!second.html.contains("Next page"))
                let back = try #require(ConsoleConditionalAccessTests.link(second.html, "Previous page"))
                #expect(try await browser.request(.get, back).html.components(separatedBy: "<tr><td><a href=").count - 1 == 50)
            }
            let refused = try await browser.request(
                .get, "/console/access/who?" + Self.query([("rule", ""), ("condition", Self.refused)]))
            #expect(refused.status == .badRequest)
            #expect(refused.html.contains(#"aria-describedby="condition-error" autofocus"#))
            #expect(try await browser.request(.get, "/console/access/who?condition=x&page=forged").status == .badRequest)

            // The resource's attributes reach the condition: the principals whose project is the blob's tag.
            func admitted(by resource: String) async throws -> ConsoleBrowser.Page {
                try await browser.request(
                    .get, "/console/access/who?" + Self.query([("rule", ""), ("condition", Self.sameProject), ("resource", resource)]))
            }
            let cascade = try await admitted(by: "Project=Cascade")
            #expect(cascade.status == .ok, "\(cascade.html)")
            #expect(cascade.html.contains("52 principals have access"))
            let next = try #require(ConsoleConditionalAccessTests.link(cascade.html, "Next page"))
            #expect(next.contains("resource=Project%3DCascade"), "the resource stays on the paging links")
            let baker = try await admitted(by: "Project=Baker")
            #expect(baker.html.contains("1 principal has access"))
            #expect(baker.html.contains("Baker app"))
            let malformed = try await admitted(by: "Project")
            #expect(malformed.status == .badRequest)
            #expect(malformed.html.contains(#"<p class="error" id="resource-error">Resource attributes:"#))
        }
    }

    @Test func callersWithoutTheRolesAreRefusedByTheService() async throws {
        let tenant = try await TestTenant.make()
        try await ConsoleConditionalAccessTests.seed(tenant)
        _ = try await tenant.user("Bo")
        _ = try await tenant.user("Ada", grants: [.tenant(.attributeAccessAdministrator), .tenant(.attributeAssignmentReader)])
        try await withConsole(tenant) { browser in
            _ = try await browser.signIn("bo@sigil.test")
            let users = try await browser.request(.get, "/console/users")
            #expect(!users.html.contains(#"href="/console/access""#), "no Access entry without a role that reads rules")
            let list = try await browser.request(.get, "/console/access")
            #expect(list.status == .forbidden)
            #expect(list.html.contains("Insufficient privileges to complete the operation."))
            let new = try await browser.request(.get, "/console/access/rules/new")
            let create = try await browser.request(
                .post, "/console/access/rules", form: Self.ruleForm(new.csrf ?? "", name: "Mine", condition: ""))
            #expect(create.status == .forbidden)
            #expect(try await tenant.store.accessRules().isEmpty)
            let test = try await browser.request(.get, "/console/access/test?kind=user&principal=ada%40sigil.test&action=a")
            #expect(test.status == .forbidden)
            #expect(test.html.contains(#"<p class="error" role="alert" id="ask-error" tabindex="-1">Insufficient privileges"#))
            #expect(!test.html.contains("<h2 id=\"decision\">"), "no decision is shown for a refused question")
            let who = try await browser.request(.get, "/console/access/who?condition=x")
            #expect(who.status == .forbidden)
            #expect(who.html.contains("Insufficient privileges to complete the operation."))

            // An Attribute Access Administrator manages rules but is no decision point.
            _ = try await browser.request(.post, "/console/sign-out", form: [("_csrf", users.csrf ?? "")])
            _ = try await browser.signIn("ada@sigil.test")
            let decision = try await browser.request(.get, "/console/access/test?kind=user&principal=ada%40sigil.test&action=a")
            #expect(decision.status == .forbidden)
            #expect(decision.html.contains("Insufficient privileges to complete the operation."))
        }
    }
}
