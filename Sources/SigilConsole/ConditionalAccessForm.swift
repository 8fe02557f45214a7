import Foundation
import SigilCore
import SigilService

/// One row of the application filter builder: `[join] CustomSecurityAttribute.<attribute> <op> <value>`.
/// Posted as `frow=<n>` with `fjoin-<n>`, `fset-<n>`, `fattr-<n>`, `fop-<n>` and `fvalue-<n>`.
struct FilterBuilderRow: Equatable {
    var join = "-and"
    var set = ""
    var attribute = ""
    var op = ConditionalAccessRule.Operator.eq.rawValue
    var value = ""

    var isBlank: Bool { attribute.isEmpty && value.isEmpty }

    /// The operators of the grammar with the words the builder shows for them.
    static let operators: [(op: ConditionalAccessRule.Operator, label: String)] = [
        (.eq, "equals"), (.ne, "does not equal"), (.startsWith, "starts with"), (.notStartsWith, "does not start with"),
        (.endsWith, "ends with"), (.notEndsWith, "does not end with"), (.contains, "contains"),
        (.notContains, "does not contain"), (.in, "is one of"), (.notIn, "is not one of"),
    ]

    /// The operator a posted or stored spelling names (case ignored, as the grammar reads it).
    static func op(_ text: String) -> ConditionalAccessRule.Operator? {
        ConditionalAccessRule.Operator.allCases.first { $0.rawValue.lowercased() == text.lowercased() }
    }

    static func label(_ op: ConditionalAccessRule.Operator) -> String {
        operators.first { $0.op == op }?.label ?? op.rawValue
    }

    /// A string in the rule's double quotes; a backtick escapes a quote or a backtick.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "`", with: "``").replacingOccurrences(of: "\"", with: "`\"") + "\""
    }

    /// The term as rule text; `-in` and `-notIn` take the value as a comma-separated list.
    var term: String {
        let operand =
            Self.op(op)?.takesList == true
            ? "["
                + value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                .map(Self.quoted).joined(separator: ", ") + "]"
            : Self.quoted(value)
        return "\(ApplicationFilterRule.subject).\(attribute) \(op) \(operand)"
    }

    /// The rows' rule text, blank rows left out (nil when every row is blank).
    static func compose(_ rows: [FilterBuilderRow]) -> String? {
        let filled = rows.filter { !$0.isBlank }
        guard !filled.isEmpty else { return nil }
        return filled.enumerated().map { index, row in index == 0 ? row.term : "\(row.join) \(row.term)" }
            .joined(separator: " ")
    }

    /// The rows a rule reads as, when it is a plain sequence of terms (no parentheses that change
    /// its meaning); nil otherwise, and the rule is edited as text.
    static func rows(of text: String) -> [FilterBuilderRow]? {
        guard let rule = try? ConditionalAccessRule(parsing: text) else { return nil }
        var rows: [FilterBuilderRow] = []
        func walk(_ expression: ConditionalAccessRule.Expression, join: String) {
            switch expression {
            case .term(let term):
                let value: String
                switch term.operand {
                case .string(let text), .bareWord(let text): value = text
                case .list(let items): value = items.joined(separator: ", ")
                }
                rows.append(
                    FilterBuilderRow(
                        join: join, set: AttributeDefinition.split(id: term.property)?.set ?? "", attribute: term.property,
                        op: term.op.rawValue, value: value))
            case .and(let left, let right):
                walk(left, join: join)
                walk(right, join: "-and")
            case .or(let left, let right):
                walk(left, join: join)
                walk(right, join: "-or")
            }
        }
        walk(rule.expression, join: "-and")
        // Values holding commas in a list, bare words or regrouping parentheses do not survive.
        guard let again = compose(rows), let reparsed = try? ConditionalAccessRule(parsing: again),
            reparsed.expression == rule.expression
        else { return nil }
        return rows
    }

    /// What is missing in a row a person filled, before any rule text is made.
    var problem: String? {
        if isBlank { return nil }
        if attribute.isEmpty { return "Choose an attribute for the value “\(value)”." }
        if let split = AttributeDefinition.split(id: attribute), !set.isEmpty, nameKey(split.set) != nameKey(set) {
            return "\(split.name) is in the set \(split.set), not \(set). Choose an attribute of \(set)."
        }
        if value.trimmingCharacters(in: .whitespaces).isEmpty {
            return "Enter a value for \(attribute.replacingOccurrences(of: "_", with: " › "))."
        }
        return nil
    }
}

/// The Create and Edit policy form: what the fields hold, as posted or as read from a policy, and
/// the JSON body the service takes. Parts of a policy the form does not show are kept on edit.
struct PolicyForm {
    var displayName = ""
    var state = ConditionalAccessPolicy.State.enabledForReportingButNotEnforced.rawValue
    /// `all`, `none` or `specific`, with the ids for `specific` one per line.
    var users = "all"
    var userIds = ""
    var excludeUsers = ""
    var workloads = "none"
    var workloadIds = ""
    var excludeWorkloads = ""
    var applications = "all"
    var applicationIds = ""
    var excludeApplications = ""
    /// `block`, or `grant` with `controls` joined by `grantOperator`.
    var grant = "block"
    var controls: [String] = []
    var grantOperator = "OR"
    var filterMode = "include"
    var rows: [FilterBuilderRow] = []
    /// The advanced rule text, and the text the page showed (to tell what the person changed).
    var ruleText = ""
    var ruleBefore = ""
    /// The filters read attribute sets the signed-in user may not read: the form leaves them alone.
    var filtersHidden = false
    /// Messages by field: `displayName`, `state`, `users`, `workloads`, `applications`, `grant`,
    /// `filter`, and `form` for the rest.
    var errors: [String: String] = [:]
    /// The policy as it was (edit), so the parts the form does not show are kept.
    var original: JSONObject?

    static let grantControls: [(id: String, label: String)] = [
        ("mfa", "Require multifactor authentication"), ("compliantDevice", "Require device to be marked as compliant"),
        ("domainJoinedDevice", "Require Microsoft Entra hybrid joined device"),
        ("approvedApplication", "Require approved client app"), ("compliantApplication", "Require app protection policy"),
        ("passwordChange", "Require password change"),
    ]

    static let states: [(id: ConditionalAccessPolicy.State, label: String)] = [
        (.enabledForReportingButNotEnforced, "Report-only"), (.enabled, "On"), (.disabled, "Off"),
    ]

    static func stateLabel(_ state: ConditionalAccessPolicy.State) -> String {
        states.first { $0.id == state }?.label ?? state.rawValue
    }

    static func ids(_ text: String) -> [String] {
        text.split(whereSeparator: { $0.isNewline || $0 == "," }).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// The form as a stored policy fills it.
    init(policy visible: ConditionalAccessService.Visible) {
        let policy = visible.policy
        original = visible.json
        displayName = policy.displayName
        state = policy.state.rawValue
        (users, userIds) = Self.choice(policy.list("users", "includeUsers"), all: "All")
        excludeUsers = policy.list("users", "excludeUsers").joined(separator: "\n")
        (workloads, workloadIds) = Self.choice(
            policy.list("clientApplications", "includeServicePrincipals"), all: "ServicePrincipalsInMyTenant")
        excludeWorkloads = policy.list("clientApplications", "excludeServicePrincipals").joined(separator: "\n")
        (applications, applicationIds) = Self.choice(policy.list("applications", "includeApplications"), all: "All")
        excludeApplications = policy.list("applications", "excludeApplications").joined(separator: "\n")
        let grantObject = policy.grantControls.objectValue
        controls = grantObject?["builtInControls"]?.arrayValue?.compactMap(\.stringValue) ?? []
        grant = policy.blocks ? "block" : "grant"
        grantOperator = grantObject?["operator"]?.stringValue ?? "OR"
        filtersHidden = visible.filtersHidden
        if !filtersHidden, let (mode, rule) = policy.filterRule(.applicationFilter) {
            filterMode = mode
            ruleText = rule
            ruleBefore = rule
            rows = FilterBuilderRow.rows(of: rule) ?? []
        }
    }

    init() {}

    static func choice(_ list: [String], all: String) -> (String, String) {
        if list.contains(where: { $0.lowercased() == all.lowercased() }) { return ("all", "") }
        let specific = list.filter { $0.lowercased() != "none" }
        return specific.isEmpty ? ("none", "") : ("specific", specific.joined(separator: "\n"))
    }

    /// The form as posted; `original` is the policy being edited.
    init(fields: FormFields, original visible: ConditionalAccessService.Visible?) {
        self.original = visible?.json
        filtersHidden = visible?.filtersHidden ?? false
        displayName = fields.first("displayName") ?? ""
        state = fields.first("state") ?? state
        users = fields.first("users") ?? users
        userIds = fields.first("userIds") ?? ""
        excludeUsers = fields.first("excludeUsers") ?? ""
        workloads = fields.first("workloads") ?? workloads
        workloadIds = fields.first("workloadIds") ?? ""
        excludeWorkloads = fields.first("excludeWorkloads") ?? ""
        applications = fields.first("applications") ?? applications
        applicationIds = fields.first("applicationIds") ?? ""
        excludeApplications = fields.first("excludeApplications") ?? ""
        grant = fields.first("grant") ?? grant
        controls = fields.all("control")
        grantOperator = fields.first("grantOperator") ?? grantOperator
        filterMode = fields.first("filterMode") ?? filterMode
        ruleText = (fields.first("rule") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        ruleBefore = fields.first("ruleBefore") ?? ""
        var seen: Set<String> = []
        rows = fields.all("frow").filter { seen.insert($0).inserted }.map { key in
            FilterBuilderRow(
                join: fields.first("fjoin-\(key)") ?? "-and", set: fields.first("fset-\(key)") ?? "",
                attribute: fields.first("fattr-\(key)") ?? "", op: fields.first("fop-\(key)") ?? "-eq",
                value: (fields.first("fvalue-\(key)") ?? "").trimmingCharacters(in: .whitespaces))
        }
        builderPosted = !seen.isEmpty
    }

    /// The builder's rows were posted (the script turns them off while the rule text is typed).
    var builderPosted = false
    /// The application filter's rule the last body carried.
    var sentRule: String?

    /// The application filter's rule: the rule text when the person typed it (or the rows were
    /// off), else what the rows compose; nil for no filter. Sets `errors["filter"]` for a row
    /// that is not complete or rows and text that disagree.
    mutating func rule() -> String? {
        let typedChanged = ruleText != ruleBefore
        guard builderPosted else { return ruleText.isEmpty ? nil : ruleText }
        if let problem = rows.lazy.compactMap(\.problem).first {
            errors["filter"] = problem
            return nil
        }
        let composed = FilterBuilderRow.compose(rows)
        if typedChanged {
            if let composed, composed != ruleBefore, composed != ruleText {
                errors["filter"] = "The rows and the rule text say different things: change one of them, and clear the other."
                return nil
            }
            return ruleText.isEmpty ? nil : ruleText
        }
        if let composed { return composed }
        // Every row blank: the rows were cleared, or a rule they cannot show was left as text.
        return FilterBuilderRow.rows(of: ruleBefore) != nil || ruleText.isEmpty ? nil : ruleText
    }

    /// The body for the service: a whole policy (create), or the parts the form edits over the
    /// policy as it was (edit), so conditions it does not show stay as they are.
    mutating func body() -> JSONValue {
        let rule = filtersHidden ? nil : self.rule()
        sentRule = rule
        var conditions = original?["conditions"]?.objectValue ?? JSONObject([("clientAppTypes", ["all"])])
        func list(_ items: [String]) -> JSONValue { .array(items.map { .string($0) }) }
        func include(_ choice: String, _ ids: String, all: String) -> JSONValue {
            switch choice {
            case "all": list([all])
            case "specific": list(Self.ids(ids))
            default: list([])
            }
        }
        var usersObject = conditions["users"]?.objectValue ?? JSONObject()
        usersObject["includeUsers"] = users == "none" ? list(["None"]) : include(users, userIds, all: "All")
        usersObject["excludeUsers"] = list(Self.ids(excludeUsers))
        conditions["users"] = .object(usersObject)
        var apps = conditions["applications"]?.objectValue ?? JSONObject()
        apps["includeApplications"] = applications == "none" ? list(["None"]) : include(applications, applicationIds, all: "All")
        apps["excludeApplications"] = list(Self.ids(excludeApplications))
        apps["applicationFilter"] =
            filtersHidden ? nil : rule.map { .object(JSONObject([("mode", .string(filterMode)), ("rule", .string($0))])) }
        conditions["applications"] = .object(apps)
        var clients = conditions["clientApplications"]?.objectValue ?? JSONObject()
        if filtersHidden { clients["servicePrincipalFilter"] = nil }
        clients["includeServicePrincipals"] = include(workloads, workloadIds, all: "ServicePrincipalsInMyTenant")
        clients["excludeServicePrincipals"] = list(Self.ids(excludeWorkloads))
        let hasClients = workloads != "none" || clients["servicePrincipalFilter"].map { !$0.isNull } == true
        conditions["clientApplications"] = hasClients ? .object(clients) : nil
        var grantObject = original?["grantControls"]?.objectValue ?? JSONObject()
        grantObject["operator"] = .string(grant == "block" ? "OR" : grantOperator)
        grantObject["builtInControls"] = grant == "block" ? list(["block"]) : list(controls.filter { $0 != "block" })
        return .object(
            JSONObject([
                ("displayName", .string(displayName)), ("state", .string(state)), ("conditions", .object(conditions)),
                ("grantControls", .object(grantObject)),
            ]))
    }

    /// Which field a refusal of the service is about: the filter when the grammar refuses the
    /// rule's syntax with this message, else the property the message names.
    static func field(of message: String, rule: String?) -> String {
        if let rule {
            do throws(GraphError) {
                _ = try ConditionalAccessRule(parsing: rule)
            } catch {
                if error.message == message { return "filter" }
            }
        }
        let lower = message.lowercased()
        if lower.contains("filter") || lower.contains("'mode'") || lower.contains("'rule'") { return "filter" }
        if lower.contains("workload") || lower.contains("grant") || lower.contains("builtincontrols")
            || lower.contains("'operator'")
        {
            return "grant"
        }
        if lower.contains("displayname") { return "displayName" }
        if lower.contains("'state'") { return "state" }
        if lower.contains("users") { return "users" }
        if lower.contains("serviceprincipals") { return "workloads" }
        if lower.contains("applications") { return "applications" }
        return "form"
    }
}
