import Foundation
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilConsole
@testable import SigilGraph
@testable import SigilService

/// The Conditional Access pages: the policies, one policy with the service principals it selects
/// (exact count, Previous/Next), Create and Edit with the application filter builder, Delete after
/// confirmation, and What If; every refusal is the service's.
@Suite struct ConsoleConditionalAccessTests {
    static let twoRowRule =
        #"CustomSecurityAttribute.Engineering_Project -eq "Baker" -or CustomSecurityAttribute.Engineering_Tier -in ["Gold", "Silver"]"#

    /// Engineering with String `Project` and `Tier` and an Integer `Cost`.
    static func seed(_ tenant: TestTenant) async throws {
        let changes: [SchemaChange] =
            [.createSet(AttributeSet(id: "Engineering"))]
            + [("Project", AttributeType.string), ("Tier", .string), ("Cost", .integer)].map { name, type in
                .createDefinition(
                    AttributeDefinition(
                        attributeSet: "Engineering", name: name, type: type, isCollection: false, isSearchable: true,
                        usePreDefinedValuesOnly: false), allowedValues: [])
            }
        try await tenant.store.changeSchema { _ in changes }
    }

    static func give(_ tenant: TestTenant, _ id: String, _ attribute: String, _ value: String) async throws {
        try await tenant.store.modify(.servicePrincipal, id: id, passwordHash: nil) { state, _ in
            var next = state
            next.attributes.set(attribute, [.string(value)])
            return next
        }
    }

    /// The fields of a new policy that blocks the applications the two rows select.
    static func twoRowForm(_ csrf: String, name: String = "Block Baker apps") -> [(String, String)] {
        [
            ("_csrf", csrf), ("displayName", name), ("users", "all"), ("userIds", ""), ("excludeUsers", ""),
            ("workloads", "none"), ("applications", "none"), ("filterMode", "include"),
            ("frow", "1"), ("fset-1", "Engineering"), ("fattr-1", "Engineering_Project"), ("fop-1", "-eq"), ("fvalue-1", "Baker"),
            ("frow", "2"), ("fjoin-2", "-or"), ("fset-2", "Engineering"), ("fattr-2", "Engineering_Tier"), ("fop-2", "-in"),
            ("fvalue-2", "Gold, Silver"), ("frow", "3"), ("fjoin-3", "-and"), ("fset-3", ""), ("fattr-3", ""), ("fop-3", "-eq"),
            ("fvalue-3", ""), ("ruleBefore", ""), ("rule", ""), ("grant", "block"), ("grantOperator", "OR"),
            ("state", "enabled"),
        ]
    }

    static func link(_ html: String, _ text: String) -> String? {
        guard let end = html.range(of: "\">\(text)</a>") else { return nil }
        let before = html[..<end.lowerBound]
        guard let start = before.range(of: "href=\"", options: .backwards) else { return nil }
        return String(before[start.upperBound...]).replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func createSeeTargetsEditAndDeleteAPolicy() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        _ = try await tenant.user(
            "Casey", grants: [.tenant(.conditionalAccessAdministrator), .tenant(.attributeAssignmentReader)])
        for index in 0..<51 {
            let app = try await tenant.servicePrincipal(String(format: "Baker %02d", index))
            try await Self.give(tenant, app.id, "Engineering_Project", "Baker")
        }
        let gold = try await tenant.servicePrincipal("Gold app")
        try await Self.give(tenant, gold.id, "Engineering_Tier", "gold")
        let cascade = try await tenant.servicePrincipal("Cascade app")
        try await Self.give(tenant, cascade.id, "Engineering_Project", "Cascade")
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("casey@sigil.test").status == .seeOther)
            let empty = try await browser.request(.get, "/console/conditional-access")
            #expect(empty.status == .ok)
            #expect(empty.html.contains(#"<a href="/console/conditional-access" aria-current="page">Conditional Access</a>"#))
            #expect(empty.html.contains("No Conditional Access policies yet."))
            let new = try await browser.request(.get, "/console/conditional-access/new")
            #expect(new.html.contains("<legend>Condition 2</legend>"))
            // Only active String attributes are offered.
            #expect(new.html.contains(#"<option value="Engineering_Tier">Tier</option>"#))
            #expect(!new.html.contains("Engineering_Cost"))

            // Two rows, one submission: the server writes the rule.
            let created = try await browser.request(.post, "/console/conditional-access", form: Self.twoRowForm(new.csrf ?? ""))
            #expect(created.status == .seeOther, "\(created.html)")
            let stored = try await tenant.store.conditionalAccessPolicies()
            let policy = try #require(stored.first)
            #expect(created.headers[.location] == "/console/conditional-access/\(policy.id)?saved=created")
            #expect(policy.filterRule(.applicationFilter)?.rule == Self.twoRowRule)
            #expect(policy.filterRule(.applicationFilter)?.mode == "include")
            #expect(policy.state == .enabled && policy.blocks)

            let list = try await browser.request(.get, "/console/conditional-access")
            #expect(list.html.contains(#"<a href="/console/conditional-access/\#(policy.id)">Block Baker apps</a></td><td>On</td><td>Block access</td>"#))

            // The policy, its filter in words, and the 52 applications it selects, 50 a page.
            let first = try await browser.request(.get, "/console/conditional-access/\(policy.id)?saved=created")
            #expect(first.html.contains("Policy created."))
            #expect(first.html.contains("Engineering › Project equals “Baker”"))
            #expect(first.html.contains("<em>or</em> Engineering › Tier is one of “Gold, Silver”"))
            #expect(first.html.contains("52 service principals selected"))
            #expect(first.html.components(separatedBy: "<td>Application</td>").count - 1 == 50)
            #expect(!first.html.contains("Cascade app"))
            #expect(!first.html.contains("Previous page"))
            let next = try #require(Self.link(first.html, "Next page"))
            let second = try await browser.request(.get, next)
            #expect(second.status == .ok)
            #expect(second.html.contains("52 service principals selected"), "the count stays on later pages")
            #expect(second.html.components(separatedBy: "<td>Application</td>").count - 1 == 2)
            #expect(!second.html.contains("Next page"))
            let back = try #require(Self.link(second.html, "Previous page"))
            #expect(try await browser.request(.get, back).html.components(separatedBy: "<td>Application</td>").count - 1 == 50)
            // A forged page token is refused, not followed.
            #expect(try await browser.request(.get, "/console/conditional-access/\(policy.id)?page=forged").status == .badRequest)

            // Edit: the rows come back filled; change one row and the state, in one submission.
            let edit = try await browser.request(.get, "/console/conditional-access/\(policy.id)/edit")
            #expect(edit.html.contains(#"id="fvalue-1" name="fvalue-1" type="text" value="Baker""#))
            #expect(edit.html.contains(#"<option value="-or" selected>"#))
            var fields = Self.twoRowForm(edit.csrf ?? "").map { name, value in
                (name, name == "fvalue-1" ? "Cascade" : name == "state" ? "disabled" : value)
            }
            fields = fields.map { $0.0 == "ruleBefore" || $0.0 == "rule" ? ($0.0, Self.twoRowRule) : $0 }
            let saved = try await browser.request(.post, "/console/conditional-access/\(policy.id)", form: fields)
            #expect(saved.headers[.location] == "/console/conditional-access/\(policy.id)?saved=1", "\(saved.html)")
            let edited = try #require(try await tenant.store.conditionalAccessPolicies().first)
            #expect(edited.state == .disabled)
            #expect(edited.filterRule(.applicationFilter)?.rule.hasPrefix(#"CustomSecurityAttribute.Engineering_Project -eq "Cascade""#) == true)
            let after = try await browser.request(.get, "/console/conditional-access/\(policy.id)")
            #expect(after.html.contains("2 service principals selected"))
            #expect(after.html.contains("Cascade app"))

            // Delete asks first on a page of its own; nothing is deleted until the confirmation.
            let ask = try await browser.request(
                .post, "/console/conditional-access/\(policy.id)/delete", form: [("_csrf", after.csrf ?? "")])
            #expect(ask.status == .ok)
            #expect(ask.html.contains("Delete the policy Block Baker apps?"))
            #expect(try await tenant.store.conditionalAccessPolicies().count == 1)
            let deleted = try await browser.request(
                .post, "/console/conditional-access/\(policy.id)/delete", form: [("_csrf", ask.csrf ?? ""), ("confirmed", "1")])
            #expect(deleted.headers[.location] == "/console/conditional-access?deleted=1")
            #expect(try await tenant.store.conditionalAccessPolicies().isEmpty)
            #expect(try await browser.request(.get, "/console/conditional-access?deleted=1").html.contains("Policy deleted."))
        }
    }

    @Test func refusalsOfTheRuleShowNextToTheFilterAndNothingIsSaved() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        _ = try await tenant.user(
            "Casey", grants: [.tenant(.conditionalAccessAdministrator), .tenant(.attributeAssignmentReader)])
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("casey@sigil.test").status == .seeOther)
            let new = try await browser.request(.get, "/console/conditional-access/new")
            // Typed rule text: the grammar (in the service) refuses an Integer attribute.
            let rowFields = ["fset-1", "fattr-1", "fvalue-1", "fset-2", "fattr-2", "fvalue-2"]
            let typed = Self.twoRowForm(new.csrf ?? "").map { name, value in
                if name == "rule" { return (name, #"CustomSecurityAttribute.Engineering_Cost -eq "5""#) }
                return (name, rowFields.contains(name) ? "" : value)
            }
            let refused = try await browser.request(.post, "/console/conditional-access", form: typed)
            #expect(refused.status == .badRequest)
            let filterError = #"<p class="error" id="filter-error" role="alert">The filter rule names "#
            #expect(refused.html.contains(filterError + "&#39;Engineering_Cost&#39; of type Integer"), "\(refused.html)")
            #expect(refused.html.contains("Nothing was saved."))
            #expect(refused.html.contains(#"value="Block Baker apps""#), "the form keeps what was entered")
            // A bad operator in the text: the grammar's message.
            let badOperator = typed.map { $0.0 == "rule" ? ($0.0, #"CustomSecurityAttribute.Engineering_Project -like "B""#) : $0 }
            let syntax = try await browser.request(.post, "/console/conditional-access", form: badOperator)
            #expect(syntax.status == .badRequest)
            #expect(syntax.html.contains(#"id="filter-error" role="alert">&#39;-like&#39; is not a supported operator"#))
            // A row without a value makes no rule: said next to the builder.
            let unfinished = Self.twoRowForm(new.csrf ?? "").map { $0.0 == "fvalue-2" ? ($0.0, "") : $0 }
            let incomplete = try await browser.request(.post, "/console/conditional-access", form: unfinished)
            #expect(incomplete.status == .badRequest)
            #expect(incomplete.html.contains(#"id="filter-error" role="alert">Enter a value for Engineering › Tier."#))
            // A blank name is the service's refusal too, next to the name.
            let nameless = Self.twoRowForm(new.csrf ?? "", name: "  ")
            let unnamed = try await browser.request(.post, "/console/conditional-access", form: nameless)
            #expect(unnamed.status == .badRequest)
            #expect(unnamed.html.contains(#"<p class="error" id="displayName-error">"#))
            #expect(try await tenant.store.conditionalAccessPolicies().isEmpty)
        }
    }

    @Test func readersAreRefusedByTheServiceAndOthersSeeNoNavItem() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        _ = try await tenant.user("Sam", grants: [.tenant(.securityReader), .tenant(.attributeDefinitionReader)])
        _ = try await tenant.user("Dara", grants: [.tenant(.attributeAssignmentReader)])
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("sam@sigil.test").status == .seeOther)
            let list = try await browser.request(.get, "/console/conditional-access")
            #expect(list.status == .ok)
            #expect(!list.html.contains("New policy"))
            // The form is not offered, but a post still goes to the service, which refuses it.
            let refused = try await browser.request(.post, "/console/conditional-access", form: Self.twoRowForm(list.csrf ?? ""))
            #expect(refused.status == .forbidden)
            #expect(refused.html.contains("You don&#39;t have access") || refused.html.contains("You don't have access"))
            #expect(try await tenant.store.conditionalAccessPolicies().isEmpty)
        }
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("dara@sigil.test").status == .seeOther)
            let users = try await browser.request(.get, "/console/users")
            #expect(!users.html.contains("/console/conditional-access"))
            #expect(try await browser.request(.get, "/console/conditional-access").status == .forbidden)
            #expect(try await browser.request(.get, "/console/conditional-access/what-if").status == .ok)
            #expect(
                try await browser.request(.get, "/console/conditional-access/what-if?kind=user&identity=dara@sigil.test").status
                    == .forbidden)
        }
    }

    /// An administrator who may not read the filter's attribute set sees the filter as hidden and
    /// the selected service principals refused in place; saving the form changes the rest and keeps
    /// the filter. Text typed on the edit page replaces the rows' rule.
    @Test func editingKeepsFiltersTheUserCannotReadAndTypedTextWins() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        _ = try await tenant.user(
            "Casey", grants: [.tenant(.conditionalAccessAdministrator), .tenant(.attributeAssignmentReader)])
        _ = try await tenant.user("Pat", grants: [.tenant(.conditionalAccessAdministrator)])
        let policyId = try await withConsoleSession(tenant, "casey@sigil.test") { browser in
            let new = try await browser.request(.get, "/console/conditional-access/new")
            _ = try await browser.request(.post, "/console/conditional-access", form: Self.twoRowForm(new.csrf ?? ""))
            return try #require(try await tenant.store.conditionalAccessPolicies().first).id
        }
        _ = try await withConsoleSession(tenant, "pat@sigil.test") { browser in
            let page = try await browser.request(.get, "/console/conditional-access/\(policyId)")
            #expect(page.html.contains("the rule is hidden: your roles do not read the attribute sets it names."))
            #expect(!page.html.contains("Engineering_Project"))
            #expect(page.html.contains(#"<p class="error" role="alert">Insufficient privileges"#))
            let edit = try await browser.request(.get, "/console/conditional-access/\(policyId)/edit")
            #expect(edit.html.contains("filters name attribute sets your roles cannot read: they stay as they are."))
            #expect(!edit.html.contains(#"name="frow""#))
            let fields = Self.twoRowForm(edit.csrf ?? "").filter { !$0.0.hasPrefix("f") && !$0.0.hasPrefix("rule") }
                .map { $0.0 == "state" ? ($0.0, "disabled") : $0 }
            let saved = try await browser.request(.post, "/console/conditional-access/\(policyId)", form: fields)
            #expect(saved.status == .seeOther, "\(saved.html)")
            let policy = try #require(try await tenant.store.conditionalAccessPolicies().first)
            #expect(policy.state == .disabled)
            #expect(policy.filterRule(.applicationFilter)?.rule == Self.twoRowRule)
            return policyId
        }
        _ = try await withConsoleSession(tenant, "casey@sigil.test") { browser in
            let edit = try await browser.request(.get, "/console/conditional-access/\(policyId)/edit")
            let typed = #"CustomSecurityAttribute.Engineering_Tier -startsWith "G""#
            let fields = Self.twoRowForm(edit.csrf ?? "").map { name, value in
                switch name {
                case "ruleBefore": (name, Self.twoRowRule)
                case "rule": (name, typed)
                default: (name, value)
                }
            }
            #expect(try await browser.request(.post, "/console/conditional-access/\(policyId)", form: fields).status == .seeOther)
            #expect(try await tenant.store.conditionalAccessPolicies().first?.filterRule(.applicationFilter)?.rule == typed)
            // Rows changed as well as the text: refused rather than guessed, nothing saved.
            let both = fields.map { $0.0 == "fvalue-1" ? ($0.0, "Cascade") : $0.0 == "ruleBefore" ? ($0.0, typed) : $0 }
                .map { $0.0 == "rule" ? ($0.0, #"CustomSecurityAttribute.Engineering_Tier -eq "X""#) : $0 }
            let conflict = try await browser.request(.post, "/console/conditional-access/\(policyId)", form: both)
            #expect(conflict.status == .badRequest)
            #expect(conflict.html.contains("The rows and the rule text say different things"))
            #expect(try await tenant.store.conditionalAccessPolicies().first?.filterRule(.applicationFilter)?.rule == typed)
            return policyId
        }
    }

    /// Signs in as `upn` and runs `body` in the console.
    func withConsoleSession<T: Sendable>(
        _ tenant: TestTenant, _ upn: String, _ body: @escaping @Sendable (ConsoleBrowser) async throws -> T
    ) async throws -> T {
        let result = Locked<T?>(nil)
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn(upn).status == .seeOther)
            let value = try await body(browser)
            result.withLock { $0 = value }
        }
        return try #require(result.withLock { $0 })
    }

    @Test func whatIfShowsWhichPoliciesApplyAndWhy() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        _ = try await tenant.user(
            "Casey", grants: [.tenant(.conditionalAccessAdministrator), .tenant(.attributeAssignmentReader)])
        let blocked = try await tenant.user("Blake")
        let workload = try await tenant.servicePrincipal("Nightly job")
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("casey@sigil.test").status == .seeOther)
            let new = try await browser.request(.get, "/console/conditional-access/new")
            let form = Self.twoRowForm(new.csrf ?? "", name: "Block Blake").map { name, value in
                switch name {
                case "users": (name, "specific")
                case "userIds": (name, blocked.id)
                case "applications": (name, "all")
                case "fvalue-1", "fattr-1", "fvalue-2", "fattr-2": (name, "")
                default: (name, value)
                }
            }
            #expect(try await browser.request(.post, "/console/conditional-access", form: form).status == .seeOther)

            let page = try await browser.request(.get, "/console/conditional-access/what-if")
            #expect(page.html.contains(#"<label for="identity">"#))
            #expect(!page.html.contains("Results"))
            let applies = try await browser.request(.get, "/console/conditional-access/what-if?kind=user&identity=BLAKE%40sigil.test")
            #expect(applies.status == .ok)
            #expect(applies.html.contains("1 policy applies to this sign-in."))
            #expect(applies.html.contains("<td>On</td><td>Applies</td>"))
            let other = try await browser.request(.get, "/console/conditional-access/what-if?kind=user&identity=casey%40sigil.test")
            #expect(other.html.contains("0 policies apply to this sign-in."))
            #expect(other.html.contains("users: the user is not included, or is excluded"))
            let app = try await browser.request(
                .get, "/console/conditional-access/what-if?kind=servicePrincipal&identity=\(workload.id)&application=\(UUID().uuidString)")
            #expect(app.html.contains("workloadIdentities: the workload identity is not included, or is excluded"))
            let unknown = try await browser.request(.get, "/console/conditional-access/what-if?kind=user&identity=nobody%40sigil.test")
            #expect(unknown.status == .notFound)
            #expect(unknown.html.contains(#"<p class="error" id="identity-error" role="alert">No user has the object id or user principal name “nobody@sigil.test”.</p>"#))
        }
    }
}
