import Foundation
import HTTPTypes
import Hummingbird
import SigilCore
import SigilGraph
import SigilService

/// Access: the access rules (list, one rule, Create and Edit, Delete after confirmation), Test
/// access and Who has access. Every read, change and decision goes through `AccessRuleService` or
/// `ConditionService`, which decide access; a 403 shows the service's message, a 400 its field.
extension ConsoleController {
    func registerAccessPages(on console: RouterGroup<GraphContext>) {
        console.get("access", use: accessRulesPage)
        console.get("access/test", use: testAccessPage)
        console.get("access/who", use: whoHasAccessPage)
        console.post("access/rules", use: createAccessRule)
        console.get("access/rules/new", use: newAccessRulePage)
        console.get("access/rules/:id", use: accessRulePage)
        console.post("access/rules/:id", use: updateAccessRule)
        console.get("access/rules/:id/edit", use: editAccessRulePage)
        console.post("access/rules/:id/delete", use: deleteAccessRule)
    }

    var accessRules: AccessRuleService { AccessRuleService(services: services) }

    func accessLayout(_ signedIn: SignedIn) -> [String: Any] {
        var values = layout(signedIn, nav: "navAccess")
        values["canManageAccessRules"] = AccessPolicy.allows(signedIn.caller, .manageAccessRules)
        return values
    }

    static func principalsText(_ rule: AccessRule) -> String {
        switch rule.principals {
        case .all: "All users and service principals"
        case .ids(let ids): ids.joined(separator: ", ")
        }
    }

    static func ruleRow(_ rule: AccessRule) -> [String: Any] {
        [
            "id": rule.id, "name": rule.displayName, "principals": principalsText(rule),
            "actions": rule.actions.joined(separator: ", "), "condition": rule.condition ?? "",
            "hasCondition": rule.condition != nil,
            "modified": consoleTime(rule.modifiedDateTime ?? rule.createdDateTime),
        ]
    }

    @Sendable func accessRulesPage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let rules = try await accessRules.list(caller: signedIn.caller)
            .sorted { $0.displayName.lowercased() < $1.displayName.lowercased() }
        var values = accessLayout(signedIn)
        values["rows"] = rules.map(Self.ruleRow)
        values["hasRows"] = !rules.isEmpty
        values["countText"] = rules.count == 1 ? "1 rule" : "\(rules.count) rules"
        if Self.query(request)["deleted"] != nil { values["notice"] = "Rule deleted." }
        return page("access-rules", values, cookies: [signedIn.cookie])
    }

    @Sendable func accessRulePage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let rule = try await accessRules.rule(id: try context.parameters.require("id"), caller: signedIn.caller)
        var values = accessLayout(signedIn).merging(Self.ruleRow(rule)) { _, new in new }
        values["description"] = rule.description ?? ""
        values["actionList"] = rule.actions
        values["created"] = Self.consoleTime(rule.createdDateTime)
        values["modifiedText"] = rule.modifiedDateTime.map(Self.consoleTime) ?? "Never"
        values["whoLink"] = Self.link("access/who", [("rule", rule.id)])
        if let notice = Self.query(request)["saved"] {
            values["notice"] = notice == "created" ? "Rule created." : "Rule saved."
        }
        return page("access-rule", values, cookies: [signedIn.cookie])
    }

    // MARK: Create and edit

    @Sendable func newAccessRulePage(_ request: Request, context: GraphContext) async throws -> Response {
        // The service decides when the form is sent, as with every change.
        accessRuleForm(AccessRuleForm(), try await requireSignedIn(request), id: nil)
    }

    @Sendable func editAccessRulePage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let rule = try await accessRules.rule(id: try context.parameters.require("id"), caller: signedIn.caller)
        return accessRuleForm(AccessRuleForm(rule: rule), signedIn, id: rule.id)
    }

    /// The form page; `id` nil for a new rule. A form with errors answers 400.
    func accessRuleForm(_ form: AccessRuleForm, _ signedIn: SignedIn, id: String?) -> Response {
        var values = accessLayout(signedIn).merging(form.values) { _, new in new }
        values["editing"] = id != nil
        values["action"] = id.map { "/console/access/rules/\($0)" } ?? "/console/access/rules"
        values["cancel"] = id.map { "/console/access/rules/\($0)" } ?? "/console/access"
        values["heading"] = id == nil ? "New access rule" : "Edit \(form.displayName)"
        return page("access-rule-form", values, status: form.errors.isEmpty ? .ok : .badRequest, cookies: [signedIn.cookie])
    }

    @Sendable func createAccessRule(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        return try await saveAccessRule(AccessRuleForm(fields: fields), request, context, signedIn, id: nil)
    }

    @Sendable func updateAccessRule(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        return try await saveAccessRule(
            AccessRuleForm(fields: fields), request, context, signedIn, id: try context.parameters.require("id"))
    }

    /// Sends the form to the service; a refusal (400) comes back next to its field, nothing saved.
    func saveAccessRule(
        _ form: AccessRuleForm, _ request: Request, _ context: GraphContext, _ signedIn: SignedIn, id: String?
    ) async throws -> Response {
        var form = form
        let body = form.body
        let initiator = signedIn.initiator(request, context)
        let saved: AccessRule
        do {
            if let id {
                saved = try await accessRules.update(id: id, as: initiator) { body }
            } else {
                saved = try await accessRules.create(as: initiator) { body }
            }
        } catch let error as GraphError where error.status == 400 {
            form.refuse(error.message)
            return accessRuleForm(form, signedIn, id: id)
        }
        return Self.redirect(
            "/console/access/rules/\(saved.id)?saved=\(id == nil ? "created" : "1")", cookies: [signedIn.cookie])
    }

    // MARK: Delete

    /// Without the confirmation the post only asks (a page of its own); the confirmation posts
    /// again, and the service decides.
    @Sendable func deleteAccessRule(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        let id = try context.parameters.require("id")
        guard fields.first("confirmed") == "1" else {
            let rule = try await accessRules.rule(id: id, caller: signedIn.caller)
            var values = accessLayout(signedIn)
            values["id"] = rule.id
            values["name"] = rule.displayName
            return page("access-rule-delete", values, cookies: [signedIn.cookie])
        }
        try await accessRules.delete(id: id, as: signedIn.initiator(request, context))
        return Self.redirect("/console/access?deleted=1", cookies: [signedIn.cookie])
    }
}

/// The Create and Edit rule form: the fields as posted or as read from a rule, the body the
/// service takes, and each field's error.
struct AccessRuleForm {
    var displayName = ""
    var description = ""
    /// `all` or `specific`, with the object ids for `specific` one per line.
    var principals = "all"
    var principalIds = ""
    var actions = ""
    var condition = ""
    /// Messages by field: `displayName`, `description`, `principals`, `actions`, `condition`, `form`.
    var errors: [String: String] = [:]

    init() {}

    init(rule: AccessRule) {
        displayName = rule.displayName
        description = rule.description ?? ""
        if case .ids(let ids) = rule.principals {
            principals = "specific"
            principalIds = ids.joined(separator: "\n")
        }
        actions = rule.actions.joined(separator: "\n")
        condition = rule.condition ?? ""
    }

    init(fields: FormFields) {
        displayName = fields.first("displayName") ?? ""
        description = fields.first("description") ?? ""
        principals = fields.first("principals") == "specific" ? "specific" : "all"
        principalIds = fields.first("principalIds") ?? ""
        actions = fields.first("actions") ?? ""
        condition = (fields.first("condition") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The whole rule: on edit too, so the form's fields replace the rule's (an empty condition
    /// or description removes it).
    var body: JSONValue {
        func list(_ text: String) -> JSONValue { .array(PolicyForm.ids(text).map { .string($0) }) }
        let actionList = actions.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return .object(
            JSONObject([
                ("displayName", .string(displayName)),
                ("description", description.isEmpty ? .null : .string(description)),
                ("principals", principals == "all" ? "all" : list(principalIds)),
                ("actions", .array(actionList.map { .string($0) })),
                ("condition", condition.isEmpty ? .null : .string(condition)),
            ]))
    }

    /// Puts a refusal of the service next to the field it is about.
    mutating func refuse(_ message: String) {
        if message.hasPrefix(ConditionError.azureMessage) {
            errors["condition"] = message
            return
        }
        let field = ["displayName", "description", "principals", "actions", "condition"].first {
            message.contains("'\($0)'")
        }
        errors[field ?? "form"] = message
    }

    /// The position in "The given role assignment condition is invalid. Position 12: …".
    static func position(in message: String) -> Int? {
        guard let range = message.range(of: "Position ") else { return nil }
        return Int(message[range.upperBound...].prefix { $0.isNumber })
    }

    /// A 1-based character position as line and column, with the line it falls on.
    static func place(_ position: Int, in text: String) -> (line: Int, column: Int, text: String) {
        let characters = Array(text)
        let offset = min(max(position - 1, 0), characters.count)
        let before = characters[..<offset]
        let line = before.count { $0.isNewline } + 1
        let start = before.lastIndex { $0.isNewline }.map { $0 + 1 } ?? 0
        let end = characters[offset...].firstIndex { $0.isNewline } ?? characters.count
        return (line, offset - start + 1, String(characters[start..<end]))
    }

    /// Where a refused condition went wrong, for the page: line and column of the validator's
    /// position, and that line with a caret under the place.
    static func place(of message: String, in condition: String) -> [String: Any] {
        guard let position = position(in: message) else { return [:] }
        let (line, column, text) = place(position, in: condition)
        return [
            "conditionPlace": "Line \(line), column \(column) (character \(position)).", "conditionLine": text,
            "conditionCaret": String(repeating: " ", count: column - 1) + "^",
        ]
    }

    var values: [String: Any] {
        var values: [String: Any] = [
            "displayName": displayName, "description": description, "principalIds": principalIds, "actions": actions,
            "condition": condition, "principalsAll": principals == "all", "principalsSpecific": principals == "specific",
        ]
        for (field, message) in errors { values["\(field)Error"] = message }
        values["hasErrors"] = !errors.isEmpty
        if let message = errors["condition"] { values.merge(Self.place(of: message, in: condition)) { _, new in new } }
        return values
    }
}
