import Foundation
import Hummingbird
import SigilCore
import SigilGraph
import SigilService
import SigilStore

/// The in-place editor on a user's (or application's) Custom security attributes page: the
/// script adds rows (set, attribute, a value control that fits the definition) and edits table
/// rows in place, and one Save posts every row as one change through the same use case as
/// `PATCH /users/{id}`: all rows are written or none, and a refusal is shown next to its row.
/// Without JavaScript the editor stays hidden and the step-by-step Add assignment pages serve.
extension ConsoleController {
    /// One posted row: `row=<n>` names it, `set-<n>`, `attribute-<n>` and `value-<n>` (repeated) hold it.
    struct EditorRow {
        let key: String
        let set: String
        let attribute: String
        let values: [String]
        var error: String?

        var json: [String: Any] {
            var row: [String: Any] = ["key": key, "set": set, "attribute": attribute, "values": values]
            if let error { row["error"] = error }
            return row
        }
    }

    static func editorRows(_ fields: FormFields) -> [EditorRow] {
        var seen: Set<String> = []
        return fields.all("row").filter { seen.insert($0).inserted }.map { key in
            EditorRow(
                key: key, set: fields.first("set-\(key)") ?? "", attribute: fields.first("attribute-\(key)") ?? "",
                values: fields.all("value-\(key)").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
    }

    /// Checks every row before anything is written; the rows come back with their errors.
    static func check(_ rows: [EditorRow], _ form: AssignmentForm) -> (
        rows: [EditorRow], changes: [(definition: AttributeDefinition, values: [AttributeValue])]
    ) {
        var checked: [EditorRow] = []
        var changes: [(definition: AttributeDefinition, values: [AttributeValue])] = []
        let manageable = form.manageableSets
        for var row in rows {
            defer { checked.append(row) }
            guard let definition = form.schema.definition(id: row.attribute), definition.status == .available,
                manageable.contains(where: { nameKey($0.id) == nameKey(definition.attributeSet) })
            else {
                row.error = row.attribute.isEmpty ? "Choose an attribute set and an attribute." : "Choose an attribute you may assign."
                continue
            }
            if !row.set.isEmpty, nameKey(row.set) != nameKey(definition.attributeSet) {
                row.error = "\(definition.name) is in the set \(definition.attributeSet), not \(row.set). Choose the attribute again."
                continue
            }
            if changes.contains(where: { nameKey($0.definition.id) == nameKey(definition.id) }) {
                row.error = "\(definition.attributeSet) \(definition.name) is in another row already."
                continue
            }
            do {
                let typed = try AssignmentForm.parse(row.values, for: definition)
                guard !typed.isEmpty else {
                    row.error = "Enter a value, or use Remove assignment to take the attribute away."
                    continue
                }
                changes.append((definition, typed))
            } catch {
                row.error = error.message
            }
        }
        return (checked, changes)
    }

    func saveRows(
        _ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext, _ signedIn: SignedIn, _ fields: FormFields
    ) async throws -> Response {
        let state = try await object(kind, context, signedIn)
        let schema = try await services.store.schema()
        let form = AssignmentForm(kind: kind, object: state, schema: schema, caller: signedIn.caller, editing: false)
        let posted = Self.editorRows(fields)
        var (rows, changes) = Self.check(posted, form)
        do {
            try await assign(kind, state, request, context, signedIn) {
                if rows.isEmpty { throw GraphError.badRequest("Add an attribute row before saving.") }
                // A refusal of any row refuses the whole change (and is audited as one).
                if let refused = rows.first(where: { $0.error != nil }), let error = refused.error {
                    throw GraphError.badRequest(error)
                }
                return changes
            }
        } catch let error as GraphError where error.status == 400 {
            if !rows.contains(where: { $0.error != nil }) {
                // The rules refused the change as a whole: name the row whose attribute it mentions.
                let index =
                    rows.firstIndex { row in
                        schema.definition(id: row.attribute).map { error.message.contains($0.name) } ?? false
                    } ?? 0
                if rows.indices.contains(index) { rows[index].error = error.message }
            }
            return try await objectResponse(
                kind, request, signedIn, state, schema, status: .badRequest, editorRows: rows,
                summary: rows.isEmpty ? error.message : nil)
        }
        let notice = changes.count == 1 ? "1" : "\(changes.count)"
        return Self.redirect("/console/\(Self.segment(kind))/\(state.object.id)?saved=\(notice)", cookies: [signedIn.cookie])
    }

    /// What the script needs to build rows in place: the sets the caller may assign in, their
    /// available attributes with type, multiplicity and active predefined values, and the values
    /// the object holds now.
    static func editorSchema(_ form: AssignmentForm) -> String {
        let sets: [[String: Any]] = form.manageableSets.map { set in
            [
                "id": set.id,
                "attributes": form.schema.definitions(inSet: set.id).filter { $0.status == .available }.map { definition in
                    [
                        "id": definition.id, "name": definition.name, "type": definition.type.rawValue,
                        "multi": definition.isCollection,
                        "choices": definition.usePreDefinedValuesOnly
                            ? form.schema.allowedValues(of: definition).filter(\.isActive).map(\.id) : [],
                        "held": form.object.attributes.values(of: definition.id).map { ConsoleController.display([$0]) },
                    ] as [String: Any]
                },
            ]
        }
        return json(sets)
    }

    static func json(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }
}
