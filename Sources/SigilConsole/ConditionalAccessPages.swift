import Foundation
import HTTPTypes
import Hummingbird
import SigilCore
import SigilGraph
import SigilService

/// Conditional Access: the policies, one policy with the service principals it selects, Create
/// and Edit (with a builder for the application filter's rule), Delete after confirmation, and
/// What If. Every read and change goes through `ConditionalAccessService`, which decides access;
/// its refusals show as they do on the other pages (403: the access page; 400: next to the field).
extension ConsoleController {
    func registerConditionalAccessPages(on console: RouterGroup<GraphContext>) {
        console.get("conditional-access", use: policiesPage)
        console.post("conditional-access", use: createPolicy)
        console.get("conditional-access/new", use: newPolicyPage)
        console.get("conditional-access/what-if", use: whatIfPage)
        console.get("conditional-access/:id", use: policyPage)
        console.post("conditional-access/:id", use: updatePolicy)
        console.get("conditional-access/:id/edit", use: editPolicyPage)
        console.post("conditional-access/:id/delete", use: deletePolicy)
    }

    var conditionalAccess: ConditionalAccessService { ConditionalAccessService(services: services) }

    func conditionalAccessLayout(_ signedIn: SignedIn) -> [String: Any] {
        var values = layout(signedIn, nav: "navConditionalAccess")
        values["canManagePolicies"] = AccessPolicy.allows(signedIn.caller, .manageConditionalAccess)
        return values
    }

    static func grantText(_ policy: ConditionalAccessPolicy) -> String {
        if policy.blocks { return "Block access" }
        let object = policy.grantControls.objectValue
        let controls = object?["builtInControls"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard !controls.isEmpty else { return "Grant access" }
        let labels = controls.map { control in PolicyForm.grantControls.first { $0.id == control }?.label ?? control }
        let joined = labels.joined(separator: object?["operator"]?.stringValue == "AND" ? " and " : " or ")
        return "Grant access: \(joined)"
    }

    @Sendable func policiesPage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let policies = try await conditionalAccess.list(caller: signedIn.caller)
            .sorted { $0.policy.displayName.lowercased() < $1.policy.displayName.lowercased() }
        var values = conditionalAccessLayout(signedIn)
        values["rows"] = policies.map { visible in
            let policy = visible.policy
            return [
                "id": policy.id, "name": policy.displayName, "state": PolicyForm.stateLabel(policy.state),
                "grant": Self.grantText(policy), "modified": Self.consoleTime(policy.modifiedDateTime ?? policy.createdDateTime),
            ]
        }
        values["hasRows"] = !policies.isEmpty
        values["countText"] = policies.count == 1 ? "1 policy" : "\(policies.count) policies"
        if Self.query(request)["deleted"] != nil { values["notice"] = "Policy deleted." }
        return page("policies", values, cookies: [signedIn.cookie])
    }

    // MARK: One policy

    /// A list of ids for the properties: "All", "None", or the ids.
    static func idsText(_ list: [String], none: String = "None") -> String {
        list.isEmpty ? none : list.joined(separator: ", ")
    }

    /// A filter's mode and rule as words: each term as set › attribute, operator, value, and the
    /// rule text itself.
    static func filterValues(_ policy: ConditionalAccessService.Visible, _ filter: ConditionalAccessRules.Filter)
        -> [String: Any]?
    {
        guard let object = policy.policy.conditions[filter.section]?.objectValue?[filter.rawValue]?.objectValue else {
            return nil
        }
        let mode = object["mode"]?.stringValue ?? ""
        var values: [String: Any] = ["mode": mode == "exclude" ? "Exclude what matches" : "Include what matches"]
        guard !policy.filtersHidden, let rule = object["rule"]?.stringValue else {
            values["hidden"] = true
            return values
        }
        values["rule"] = rule
        let terms = (FilterBuilderRow.rows(of: rule) ?? []).enumerated().map { index, row in
            let split = AttributeDefinition.split(id: row.attribute)
            let op = FilterBuilderRow.op(row.op).map(FilterBuilderRow.label) ?? row.op
            var term: [String: Any] = ["text": "\(split?.set ?? "") › \(split?.name ?? row.attribute) \(op) “\(row.value)”"]
            if index > 0 { term["join"] = row.join == "-or" ? "or" : "and" }
            return term
        }
        values["terms"] = terms
        values["hasTerms"] = !terms.isEmpty
        return values
    }

    @Sendable func policyPage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let id = try context.parameters.require("id")
        let visible = try await conditionalAccess.policy(id: id, caller: signedIn.caller)
        let policy = visible.policy
        var values = conditionalAccessLayout(signedIn)
        values["id"] = policy.id
        values["name"] = policy.displayName
        values["state"] = PolicyForm.stateLabel(policy.state)
        values["includeUsers"] = Self.idsText(policy.list("users", "includeUsers"))
        values["excludeUsers"] = Self.idsText(policy.list("users", "excludeUsers"))
        values["includeServicePrincipals"] = Self.idsText(policy.list("clientApplications", "includeServicePrincipals"))
        values["excludeServicePrincipals"] = Self.idsText(policy.list("clientApplications", "excludeServicePrincipals"))
        values["includeApplications"] = Self.idsText(policy.list("applications", "includeApplications"))
        values["excludeApplications"] = Self.idsText(policy.list("applications", "excludeApplications"))
        values["clientAppTypes"] = Self.idsText(
            policy.conditions["clientAppTypes"]?.arrayValue?.compactMap(\.stringValue) ?? [], none: "Not set")
        values["applicationFilter"] = Self.filterValues(visible, .applicationFilter)
        values["servicePrincipalFilter"] = Self.filterValues(visible, .servicePrincipalFilter)
        values["grant"] = Self.grantText(policy)
        values["created"] = Self.consoleTime(policy.createdDateTime)
        values["modified"] = policy.modifiedDateTime.map(Self.consoleTime) ?? "Never"
        if let notice = Self.query(request)["saved"] {
            values["notice"] = notice == "created" ? "Policy created." : "Policy saved."
        }
        try await targets(of: policy.id, request, signedIn, into: &values)
        return page("policy", values, cookies: [signedIn.cookie])
    }

    /// The service principals the policy selects, one page (`page`: a token for where it starts;
    /// `back`: the tokens of the pages before, for Previous), with the exact count.
    func targets(of id: String, _ request: Request, _ signedIn: SignedIn, into values: inout [String: Any]) async throws {
        let query = Self.query(request)
        let binding = "console/conditionalAccess/\(id)/targets"
        let token = query["page"].flatMap { $0.isEmpty ? nil : $0 }
        let position = try services.pageTokens.payload(token, query: binding)
        var selected: [(object: DirectoryObject, roles: [ConditionalAccessTargets.Role])] = []
        var count: Int?
        var next = position
        do {
            // A page of the store's candidates may hold none the policy selects: read on (a few
            // pages at most) so that a page of the console is not empty while more follow.
            for read in 0..<8 {
                let found = try await conditionalAccess.targets(
                    id: id, caller: signedIn.caller, limit: Self.pageSize - selected.count, position: next)
                if read == 0 { count = found.count }
                selected += found.servicePrincipals
                next = found.next
                if next == nil || selected.count >= Self.pageSize { break }
            }
        } catch let error as GraphError where error.status == 403 {
            // The policy stays readable; only the list of who it selects is refused.
            values["targetsError"] = error.message
            return
        }
        let rows: [[String: Any]] = selected.map { object, roles in
            [
                "id": object.id, "name": object.displayName ?? object.id, "appId": object.appId ?? "",
                "roles": roles.map { $0 == .workloadIdentity ? "Workload identity" : "Application" }.joined(separator: ", "),
            ]
        }
        let total = count ?? query["total"].flatMap(Int.init)
        if let total {
            values["countText"] = total == 1 ? "1 service principal selected" : "\(total) service principals selected"
        }
        values["targets"] = rows
        values["hasTargets"] = !rows.isEmpty
        let kept = total.map { [("total", String($0))] } ?? []
        pagingLinks("conditional-access/\(id)", query: query, kept: kept, next: next, binding: binding, into: &values)
    }

    // MARK: Create and edit

    @Sendable func newPolicyPage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        var form = PolicyForm()
        form.controls = ["mfa"]
        return try await policyForm(form, signedIn, id: nil)
    }

    @Sendable func editPolicyPage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let visible = try await conditionalAccess.policy(id: try context.parameters.require("id"), caller: signedIn.caller)
        return try await policyForm(PolicyForm(policy: visible), signedIn, id: visible.policy.id)
    }

    /// The form page; `id` nil for a new policy. A form with errors answers 400.
    func policyForm(_ form: PolicyForm, _ signedIn: SignedIn, id: String?) async throws -> Response {
        let attributes = try await conditionalAccess.filterAttributes(caller: signedIn.caller)
        var values = conditionalAccessLayout(signedIn)
        values["editing"] = id != nil
        values["action"] = id.map { "/console/conditional-access/\($0)" } ?? "/console/conditional-access"
        values["cancel"] = id.map { "/console/conditional-access/\($0)" } ?? "/console/conditional-access"
        values["id"] = id ?? ""
        values["heading"] = id == nil ? "New policy" : "Edit \(form.displayName)"
        values.merge(PolicyFormView(form: form, attributes: attributes).values) { _, new in new }
        return page("policy-form", values, status: form.errors.isEmpty ? .ok : .badRequest, cookies: [signedIn.cookie])
    }

    @Sendable func createPolicy(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        var form = PolicyForm(fields: fields, original: nil)
        return try await savePolicy(&form, request, context, signedIn, id: nil)
    }

    @Sendable func updatePolicy(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        let visible = try await conditionalAccess.policy(id: try context.parameters.require("id"), caller: signedIn.caller)
        var form = PolicyForm(fields: fields, original: visible)
        return try await savePolicy(&form, request, context, signedIn, id: visible.policy.id)
    }

    /// Sends the form to the service; a refusal (400) comes back next to its field, nothing saved.
    func savePolicy(
        _ form: inout PolicyForm, _ request: Request, _ context: GraphContext, _ signedIn: SignedIn, id: String?
    ) async throws -> Response {
        let body = form.body()
        // A builder row that is not complete makes no rule text: shown next to the builder, and
        // nothing is sent.
        if form.errors["filter"] != nil { return try await policyForm(form, signedIn, id: id) }
        let initiator = signedIn.initiator(request, context)
        let service = conditionalAccess
        var created: String?
        do {
            if let id {
                try await service.update(id: id, as: initiator) { body }
            } else {
                created = try await service.create(as: initiator) { body }.policy.id
            }
        } catch let error as GraphError where error.status == 400 {
            form.errors[PolicyForm.field(of: error.message, rule: form.sentRule)] = error.message
            return try await policyForm(form, signedIn, id: id)
        }
        let target = created ?? id ?? ""
        return Self.redirect(
            "/console/conditional-access/\(target)?saved=\(created == nil ? "1" : "created")", cookies: [signedIn.cookie])
    }

    // MARK: Delete

    /// Without the confirmation the post only asks (a page of its own); the confirmation posts
    /// again, and the service decides.
    @Sendable func deletePolicy(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        let id = try context.parameters.require("id")
        guard fields.first("confirmed") == "1" else {
            let visible = try await conditionalAccess.policy(id: id, caller: signedIn.caller)
            var values = conditionalAccessLayout(signedIn)
            values["id"] = visible.policy.id
            values["name"] = visible.policy.displayName
            return page("policy-delete", values, cookies: [signedIn.cookie])
        }
        try await conditionalAccess.delete(id: id, as: signedIn.initiator(request, context))
        return Self.redirect("/console/conditional-access?deleted=1", cookies: [signedIn.cookie])
    }

    // MARK: What If

    static let reasonTexts: [String: String] = [
        "policyNotEnabled": "the policy is off",
        "application": "the application is not among the policy's target resources",
        "users": "the user is not included, or is excluded",
        "clientApps": "the client app type is not included",
        "workloadIdentities": "the workload identity is not included, or is excluded",
        "notEnoughInformation":
            "not enough information: a condition Sigil has no signal for, or filters your roles cannot read",
        "location": "uses locations, which Sigil cannot evaluate",
        "devicePlatform": "uses device platforms, which Sigil cannot evaluate",
        "devices": "uses devices, which Sigil cannot evaluate",
        "signInRisk": "uses sign-in risk, which Sigil cannot evaluate",
        "userRisk": "uses user risk, which Sigil cannot evaluate",
        "insiderRisk": "uses insider risk, which Sigil cannot evaluate",
        "authenticationFlow": "uses authentication flows, which Sigil cannot evaluate",
    ]

    /// What If on a GET form: nothing changes, so the address can be shared or reloaded.
    @Sendable func whatIfPage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let query = Self.query(request)
        let kind = query["kind"] == "servicePrincipal" ? "servicePrincipal" : "user"
        let identity = (query["identity"] ?? "").trimmingCharacters(in: .whitespaces)
        let application = (query["application"] ?? "").trimmingCharacters(in: .whitespaces)
        let appliedOnly = query["appliedOnly"] == "true"
        var values = conditionalAccessLayout(signedIn)
        values["identity"] = identity
        values["application"] = application
        values["appliedOnly"] = appliedOnly
        values["kindUser"] = kind == "user"
        values["kindServicePrincipal"] = kind == "servicePrincipal"
        var status = HTTPResponse.Status.ok
        if query["identity"] != nil {
            let signIn: JSONValue =
                kind == "user"
                ? ["@odata.type": "#microsoft.graph.userSignIn", "userId": .string(identity)]
                : ["@odata.type": "#microsoft.graph.servicePrincipalSignIn", "servicePrincipalId": .string(identity)]
            var applicationContext = JSONObject([("@odata.type", "#microsoft.graph.applicationContext")])
            if !application.isEmpty { applicationContext["includeApplications"] = [.string(application)] }
            let body: JSONValue = [
                "signInIdentity": signIn, "signInContext": .object(applicationContext), "signInConditions": [:],
                "appliedPoliciesOnly": .bool(appliedOnly),
            ]
            do {
                let results = try await conditionalAccess.whatIf(caller: signedIn.caller) { body }
                values["results"] = results.map(Self.whatIfRow)
                values["hasResults"] = !results.isEmpty
                values["asked"] = true
                let applying = results.count { $0["policyApplies"]?.boolValue == true }
                values["summary"] =
                    applying == 1 ? "1 policy applies to this sign-in." : "\(applying) policies apply to this sign-in."
            } catch let error as GraphError where error.status == 400 || error.status == 404 {
                values["identityError"] =
                    error.status == 404
                    ? "No \(kind == "user" ? "user" : "service principal") has the \(kind == "user" ? "object id or user principal name" : "object id") “\(identity)”."
                    : error.message
                status = error.status == 404 ? .notFound : .badRequest
            }
        }
        return page("whatif", values, status: status, cookies: [signedIn.cookie])
    }

    static func whatIfRow(_ result: JSONObject) -> [String: Any] {
        let applies = result["policyApplies"]?.boolValue == true
        let reasons = (result["analysisReasons"]?.stringValue ?? "").split(separator: ",").map(String.init)
            .filter { $0 != "notSet" }
        let state = result["state"]?.stringValue.flatMap(ConditionalAccessPolicy.State.init(rawValue:))
        return [
            "id": result["id"]?.stringValue ?? "", "name": result["displayName"]?.stringValue ?? "",
            "state": state.map(PolicyForm.stateLabel) ?? "", "applies": applies ? "Applies" : "Does not apply",
            "reasons": reasons.map { "\($0): \(reasonTexts[$0] ?? $0)" },
        ]
    }
}

/// What the Create/Edit template shows for a form: choices with their selection, the builder's
/// rows (at least two, one blank to fill), and each field's error.
struct PolicyFormView {
    let form: PolicyForm
    /// Active String attributes the signed-in user may name in a rule.
    let attributes: [AttributeDefinition]

    var sets: [String] {
        var sets: [String] = []
        for definition in attributes where !sets.contains(definition.attributeSet) { sets.append(definition.attributeSet) }
        return sets
    }

    func radios(_ name: String, _ chosen: String, _ choices: [(String, String)]) -> [[String: Any]] {
        choices.map { ["name": name, "id": $0.0, "label": $0.1, "checked": $0.0 == chosen] }
    }

    var values: [String: Any] {
        var values: [String: Any] = [
            "displayName": form.displayName, "userIds": form.userIds, "excludeUsers": form.excludeUsers,
            "workloadIds": form.workloadIds, "excludeWorkloads": form.excludeWorkloads,
            "applicationIds": form.applicationIds, "excludeApplications": form.excludeApplications,
            "rule": form.ruleText, "ruleBefore": form.ruleBefore, "filtersHidden": form.filtersHidden,
        ]
        values["states"] = PolicyForm.states.map { ["id": $0.id.rawValue, "label": $0.label, "checked": $0.id.rawValue == form.state] }
        values["users"] = radios("users", form.users, [("all", "All users"), ("none", "None"), ("specific", "Specific users")])
        values["workloads"] = radios(
            "workloads", form.workloads,
            [("none", "None"), ("all", "All service principals in the tenant"), ("specific", "Specific service principals")])
        values["applications"] = radios(
            "applications", form.applications, [("all", "All resources"), ("none", "None"), ("specific", "Specific applications")])
        values["grants"] = radios("grant", form.grant, [("block", "Block access"), ("grant", "Grant access")])
        values["controls"] = PolicyForm.grantControls.map {
            ["id": $0.id, "label": $0.label, "checked": form.controls.contains($0.id)] as [String: Any]
        }
        values["operators"] = [("OR", "Require one of the selected controls"), ("AND", "Require all the selected controls")]
            .map { ["id": $0.0, "label": $0.1, "selected": $0.0 == form.grantOperator] as [String: Any] }
        values["modes"] = [("include", "Include what matches"), ("exclude", "Exclude what matches")].map {
            ["id": $0.0, "label": $0.1, "selected": $0.0 == form.filterMode] as [String: Any]
        }
        let filled = form.rows.filter { !$0.isBlank || !$0.set.isEmpty }
        let rows = filled + Array(repeating: FilterBuilderRow(), count: max(1, 2 - filled.count))
        values["rows"] = rows.enumerated().map { index, row in rowValues(row, number: index + 1) }
        values["ruleAsText"] = !form.ruleBefore.isEmpty && FilterBuilderRow.rows(of: form.ruleBefore) == nil
        values["builderSchema"] = ConsoleController.json(
            sets.map { set in
                [
                    "id": set,
                    "attributes": attributes.filter { $0.attributeSet == set }.map { ["id": $0.id, "name": $0.name] },
                ] as [String: Any]
            })
        for (field, message) in form.errors { values["\(field)Error"] = message }
        values["hasErrors"] = !form.errors.isEmpty
        return values
    }

    func rowValues(_ row: FilterBuilderRow, number: Int) -> [String: Any] {
        let chosenSet = sets.first { nameKey($0) == nameKey(row.set) }
        return [
            "n": number, "first": number == 1, "value": row.value,
            "joinOr": row.join == "-or",
            "sets": sets.map { ["id": $0, "selected": $0 == chosenSet] as [String: Any] },
            // A chosen set lists its own attributes; otherwise every set's, grouped.
            "groups": sets.filter { chosenSet == nil || $0 == chosenSet }.map { set in
                [
                    "set": set,
                    "attributes": attributes.filter { $0.attributeSet == set }.map {
                        ["id": $0.id, "name": $0.name, "selected": nameKey($0.id) == nameKey(row.attribute)] as [String: Any]
                    },
                ] as [String: Any]
            },
            "operators": FilterBuilderRow.operators.map {
                ["id": $0.op.rawValue, "label": "\($0.label) (\($0.op.rawValue))", "selected": $0.op.rawValue == row.op]
                    as [String: Any]
            },
        ]
    }
}
