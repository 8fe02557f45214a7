import Foundation
import HTTPTypes
import Hummingbird
import SigilCore
import SigilGraph
import SigilService
import SigilStore

/// A user's (or an enterprise application's) custom security attributes: the assignments table,
/// Add assignment, edit, and Remove assignment, as in the admin center. Every change goes through
/// the same rules, access policy and audit log as `PATCH /users/{id}`.
extension ConsoleController {
    func registerAssignmentPages(on console: RouterGroup<GraphContext>) {
        for kind in [DirectoryObjectKind.user, .servicePrincipal] {
            let base = "\(Self.segment(kind))/:id"
            console.get(RouterPath(base), use: { try await objectPage(kind, $0, $1) })
            console.get(RouterPath("\(base)/attributes/new"), use: { try await assignmentForm(kind, $0, $1, editing: false) })
            console.get(RouterPath("\(base)/attributes/edit"), use: { try await assignmentForm(kind, $0, $1, editing: true) })
            console.post(RouterPath("\(base)/attributes"), use: { try await saveAssignment(kind, $0, $1) })
            console.post(RouterPath("\(base)/attributes/remove"), use: { try await removeAssignments(kind, $0, $1) })
        }
    }

    static func segment(_ kind: DirectoryObjectKind) -> String { kind == .user ? "users" : "enterprise-applications" }

    /// The object, readable by the signed-in user, or a 404/403.
    func object(_ kind: DirectoryObjectKind, _ context: GraphContext, _ signedIn: SignedIn) async throws -> ObjectState {
        let (object, attributes) = try await DirectoryService(services: services).readable(
            kind, id: try context.parameters.require("id"), caller: signedIn.caller, withAttributes: true)
        return ObjectState(object: object, attributes: attributes ?? AttributeAssignments())
    }

    static func display(_ values: [AttributeValue]) -> String {
        values.map { value in
            switch value {
            case .string(let text): text
            case .integer(let number): String(number)
            case .boolean(let flag): flag ? "True" : "False"
            }
        }.joined(separator: ", ")
    }

    func objectPage(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let state = try await object(kind, context, signedIn)
        return try await objectResponse(kind, request, signedIn, state, try await services.store.schema())
    }

    /// The attributes page; after a refused Save, with the posted rows and their errors.
    func objectResponse(
        _ kind: DirectoryObjectKind, _ request: Request, _ signedIn: SignedIn, _ state: ObjectState, _ schema: Schema,
        status: HTTPResponse.Status = .ok, editorRows: [EditorRow] = [], summary: String? = nil
    ) async throws -> Response {
        let caller = signedIn.caller
        let visible = AssignmentRules.visible(state.attributes, objectId: state.object.id, schema: schema, caller: caller)
        let rows: [[String: Any]] = visible.map { definition, attribute in
            [
                "set": definition.attributeSet, "name": definition.name, "id": definition.id,
                "values": Self.display(attribute.values),
                "canEdit": AccessPolicy.allows(caller, .manageAssignments, inSet: definition.attributeSet),
            ]
        }
        var values = objectPage(kind, state, signedIn)
        values["name"] = state.object.displayName ?? state.object.id
        values["principalName"] = state.object.userPrincipalName ?? state.object.appId.map { "Application ID \($0)" } ?? ""
        values["objectId"] = state.object.id
        values["rows"] = rows
        values["hasRows"] = !rows.isEmpty
        values["canAdd"] = AccessPolicy.allowsAnywhere(caller, .manageAssignments) && caller.principalId != state.object.id
        values["canRemove"] = rows.contains { $0["canEdit"] as? Bool == true }
        values["emptyText"] =
            caller.principalId == state.object.id
            ? "You cannot see or change your own custom security attributes."
            : AccessPolicy.allowsAnywhere(caller, .readAssignments)
                ? "No custom security attributes are assigned that you can see."
                : "Your roles do not include reading custom security attributes."
        if let notice = request.queryItems.first(where: { $0.name == "saved" })?.value {
            values["notice"] =
                notice == "removed"
                ? "Assignments removed."
                : Int(notice).flatMap { $0 > 1 ? "\($0) assignments saved." : nil }
                    ?? "Assignment saved."
        }
        if values["canAdd"] as? Bool == true {
            let form = AssignmentForm(kind: kind, object: state, schema: schema, caller: caller, editing: false)
            values["editorSchema"] = Self.editorSchema(form)
            values["editorRows"] = Self.json(editorRows.map(\.json))
        }
        let errors = editorRows.compactMap { row in row.error.map { (row, $0) } }
        if !errors.isEmpty || summary != nil {
            values["hasSaveErrors"] = true
            values["saveErrors"] =
                errors.map { row, error in
                    let name = schema.definition(id: row.attribute).map { "\($0.attributeSet) \($0.name)" } ?? "A new row"
                    return ["text": "\(name): \(error)"]
                } + (summary.map { [["text": $0]] } ?? [])
        }
        return page("object", values, status: status, cookies: [signedIn.cookie])
    }

    /// Add assignment (choose set, then attribute, then values) or edit (set and attribute fixed).
    func assignmentForm(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext, editing: Bool)
        async throws -> Response
    {
        let signedIn = try await requireSignedIn(request)
        let state = try await object(kind, context, signedIn)
        let query = Self.query(request)
        let schema = try await services.store.schema()
        var form = AssignmentForm(kind: kind, object: state, schema: schema, caller: signedIn.caller, editing: editing)
        form.choose(set: query["set"], attribute: query["attribute"])
        if editing, form.definition == nil { throw GraphError.notFound(query["attribute"] ?? "") }
        return page("assignment", try formValues(form, signedIn), cookies: [signedIn.cookie])
    }

    func formValues(_ form: AssignmentForm, _ signedIn: SignedIn) throws -> [String: Any] {
        try AccessPolicy.require(!form.manageableSets.isEmpty)
        var values = layout(signedIn, nav: Self.nav(form.kind))
        values["heading"] = Self.heading(form.kind)
        values["segment"] = Self.segment(form.kind)
        values.merge(form.values) { _, new in new }
        values["base"] = "/console/\(Self.segment(form.kind))/\(form.object.object.id)"
        return values
    }

    /// A posted form of a signed-in user, with its anti-forgery token checked.
    func signedInForm(_ request: Request) async throws -> (SignedIn, FormFields) {
        let signedIn = try await requireSignedIn(request)
        let fields = try await form(request)
        guard signedIn.checks(fields.first("_csrf"), sessions) else { throw ConsoleProblem.forgedForm }
        return (signedIn, fields)
    }

    /// Writes values as the API's PATCH would, recording a refusal in the audit log; `values`
    /// runs inside, so a value the form cannot read is recorded as refused too.
    func assign(
        _ kind: DirectoryObjectKind, _ state: ObjectState, _ request: Request, _ context: GraphContext, _ signedIn: SignedIn,
        values: () throws -> [(definition: AttributeDefinition, values: [AttributeValue])]
    ) async throws {
        try await DirectoryService(services: services).assign(
            state.object, payload: { AssignmentRules.payload(setting: try values()) },
            as: signedIn.initiator(request, context))
    }

    func saveAssignment(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        if fields.first("mode") == "rows" { return try await saveRows(kind, request, context, signedIn, fields) }
        let state = try await object(kind, context, signedIn)
        let schema = try await services.store.schema()
        var form = AssignmentForm(
            kind: kind, object: state, schema: schema, caller: signedIn.caller, editing: fields.first("mode") == "edit")
        form.choose(set: fields.first("set"), attribute: fields.first("attribute"))
        guard let definition = form.definition else {
            form.error = "Choose an attribute set and an attribute."
            return page("assignment", try formValues(form, signedIn), status: .badRequest, cookies: [signedIn.cookie])
        }
        let entered = fields.all("value").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        form.entered = entered
        do {
            try await assign(kind, state, request, context, signedIn) {
                let typed = try AssignmentForm.parse(entered, for: definition)
                guard !typed.isEmpty else {
                    throw GraphError.badRequest("Enter a value, or use Remove assignment to take the attribute away.")
                }
                return [(definition, typed)]
            }
        } catch let error as GraphError where error.status == 400 {
            form.error = error.message
            return page("assignment", try formValues(form, signedIn), status: .badRequest, cookies: [signedIn.cookie])
        }
        return Self.redirect(
            "/console/\(Self.segment(kind))/\(state.object.id)?saved=1", cookies: [signedIn.cookie])
    }

    /// What every page about one object shows: the layout, the crumbs back to its list, its base path.
    func objectPage(_ kind: DirectoryObjectKind, _ state: ObjectState, _ signedIn: SignedIn) -> [String: Any] {
        var values = layout(signedIn, nav: Self.nav(kind))
        values["heading"] = Self.heading(kind)
        values["segment"] = Self.segment(kind)
        values["base"] = "/console/\(Self.segment(kind))/\(state.object.id)"
        return values
    }

    func removeAssignments(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        let state = try await object(kind, context, signedIn)
        let schema = try await services.store.schema()
        let chosen = fields.all("attribute").compactMap { schema.definition(id: $0) }
        guard !chosen.isEmpty else {
            return Self.redirect("/console/\(Self.segment(kind))/\(state.object.id)", cookies: [signedIn.cookie])
        }
        // Without the script's dialog, the first post only asks; the confirmation posts again. A
        // removal the caller's roles cannot make goes straight to the service, which refuses it.
        let caller = signedIn.caller
        let mayRemove =
            caller.principalId != state.object.id
            && chosen.allSatisfy { AccessPolicy.allows(caller, .manageAssignments, inSet: $0.attributeSet) }
        guard fields.first("confirmed") == "1" || !mayRemove else {
            var values = objectPage(kind, state, signedIn)
            values["objectName"] = state.object.displayName ?? state.object.id
            values["question"] = chosen.count == 1 ? "Remove 1 assignment?" : "Remove \(chosen.count) assignments?"
            values["chosen"] = chosen.map { ["id": $0.id, "set": $0.attributeSet, "name": $0.name] }
            return page("remove", values, cookies: [signedIn.cookie])
        }
        try await assign(kind, state, request, context, signedIn) { chosen.map { ($0, []) } }
        return Self.redirect(
            "/console/\(Self.segment(kind))/\(state.object.id)?saved=removed", cookies: [signedIn.cookie])
    }

}

struct FormFields {
    let fields: [(name: String, value: String)]
    func first(_ name: String) -> String? { fields.first { $0.name == name }?.value }
    func all(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }
}

extension ConsoleController.SignedIn {
    func checks(_ token: String?, _ sessions: ConsoleSessions) -> Bool { sessions.checkCSRF(token, nonce: session.nonce) }
}

/// The Add/edit assignment form: which sets and attributes the caller may assign, and the value
/// widget the chosen definition needs.
struct AssignmentForm {
    let kind: DirectoryObjectKind
    let object: ObjectState
    let schema: Schema
    let caller: Caller
    let editing: Bool
    var set: AttributeSet?
    var definition: AttributeDefinition?
    var entered: [String]?
    var error: String?

    init(kind: DirectoryObjectKind, object: ObjectState, schema: Schema, caller: Caller, editing: Bool) {
        (self.kind, self.object, self.schema, self.caller, self.editing) = (kind, object, schema, caller, editing)
    }

    /// Sets where the caller may assign values (never on itself).
    var manageableSets: [AttributeSet] {
        guard caller.principalId != object.object.id else { return [] }
        return schema.sets.filter { AccessPolicy.allows(caller, .manageAssignments, inSet: $0.id) }
    }

    mutating func choose(set name: String?, attribute id: String?) {
        if let id, let definition = schema.definition(id: id),
            manageableSets.contains(where: { nameKey($0.id) == nameKey(definition.attributeSet) })
        {
            self.definition = definition
            self.set = schema.set(named: definition.attributeSet)
            return
        }
        if let name, let set = manageableSets.first(where: { nameKey($0.id) == nameKey(name) }) { self.set = set }
    }

    /// Typed values from the form's text, with messages a person can act on.
    static func parse(_ texts: [String], for definition: AttributeDefinition) throws(GraphError) -> [AttributeValue] {
        var values: [AttributeValue] = []
        for text in texts { values.append(try AttributeValue(text: text, for: definition)) }
        guard definition.isCollection || values.count <= 1 else {
            throw .badRequest("'\(definition.name)' takes one value.")
        }
        return values
    }

    var values: [String: Any] {
        var values: [String: Any] = [
            "name": object.object.displayName ?? object.object.id, "editing": editing, "mode": editing ? "edit" : "add",
        ]
        values["sets"] = manageableSets.map { ["id": $0.id, "selected": nameKey($0.id) == nameKey(set?.id ?? "")] }
        if let error { values["error"] = error }
        guard let set else { return values }
        values["set"] = set.id
        let attributes = schema.definitions(inSet: set.id).filter { $0.status == .available }
        values["attributes"] = attributes.map {
            ["id": $0.id, "name": $0.name, "selected": nameKey($0.id) == nameKey(definition?.id ?? "")]
        }
        guard let definition else { return values }
        let held = object.attributes.values(of: definition.id).map { ConsoleController.display([$0]) }
        let current = entered ?? held
        values["attribute"] = definition.id
        values["attributeName"] = definition.name
        values["description"] = definition.description ?? ""
        values["typeText"] = definition.type.rawValue + (definition.isCollection ? ", multiple values" : "")
        if definition.usePreDefinedValuesOnly {
            let choices = schema.allowedValues(of: definition).filter { $0.isActive || held.contains($0.id) }.map { value in
                ["id": value.id, "selected": current.contains(value.id), "inactive": !value.isActive] as [String: Any]
            }
            values[definition.isCollection ? "checkboxes" : "dropdown"] = ["choices": choices]
        } else if definition.type == .boolean {
            values["dropdown"] = [
                "choices": ["True", "False"].map { ["id": $0, "selected": current.first?.lowercased() == $0.lowercased()] }
            ]
        } else {
            let inputType = definition.type == .integer ? "number" : "text"
            let slots = definition.isCollection ? current + ["", ""] : [current.first ?? ""]
            values["inputs"] = [
                "multiple": definition.isCollection, "type": inputType,
                "slots": slots.enumerated().map { ["value": $1, "index": $0 + 1] as [String: Any] },
            ]
        }
        return values
    }
}
