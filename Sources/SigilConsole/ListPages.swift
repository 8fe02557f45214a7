import Foundation
import Hummingbird
import SigilCore
import SigilGraph
import SigilService
import SigilStore

/// All users and Enterprise applications: search by name, paging, and the admin center's
/// "Add filter" on a custom security attribute (`==`, `!=`, starts with), compiled by the same
/// query engine as `$filter`, with the number of matches.
extension ConsoleController {
    func registerLists(on console: RouterGroup<GraphContext>) {
        for kind in [DirectoryObjectKind.user, .servicePrincipal] {
            console.get(RouterPath(Self.segment(kind)), use: { try await list(kind, $0, $1) })
        }
    }

    static func heading(_ kind: DirectoryObjectKind) -> String { kind == .user ? "Users" : "Enterprise applications" }
    static func nav(_ kind: DirectoryObjectKind) -> String { kind == .user ? "navUsers" : "navApps" }

    static func columns(_ kind: DirectoryObjectKind) -> [String] {
        kind == .user
            ? ["Display name", "User principal name", "User type", "Account enabled"]
            : ["Name", "Application ID", "Object ID", "Enabled"]
    }

    static func cells(_ object: DirectoryObject) -> [String] {
        let enabled = object.accountEnabled ? "Yes" : "No"
        return object.kind == .user
            ? [object.userPrincipalName ?? "", object.string("userType") ?? "Member", enabled]
            : [object.appId ?? "", object.id, enabled]
    }

    func list(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let lister = try DirectoryService(services: services).lister(for: signedIn.caller)
        let query = Self.query(request)
        let search = (query["search"] ?? "").trimmingCharacters(in: .whitespaces)
        let schema = try await services.store.schema()
        var filters = AttributeFilters(schema: schema, caller: signedIn.caller, items: request.queryItems)
        let segment = Self.segment(kind)
        var values = layout(signedIn, nav: Self.nav(kind))
        values["heading"] = Self.heading(kind)
        values["segment"] = segment
        values["columns"] = Self.columns(kind)
        values["search"] = search
        var expression: FilterExpression?
        if !search.isEmpty {
            guard search.count <= Limits.displayNameLength else {
                throw GraphError.badRequest("The search text is longer than \(Limits.displayNameLength) characters.")
            }
            expression = .startsWith(path: ["displayName"], prefix: .string(search))
        }
        var rows: [[String: Any]] = []
        let trail = (query["back"] ?? "").split(separator: ",").map(String.init)
        let after = query["after"].flatMap(Int64.init)
        // Every link keeps the search and the applied filters in one canonical form.
        let kept = (search.isEmpty ? [] : [("search", search)]) + filters.applied.map { ("f", $0.parameter) }
        do {
            if let condition = try filters.expression() {
                expression = expression.map { .and($0, condition) } ?? condition
            }
            let (found, count) = try await lister.list(
                kind, filter: expression, advanced: true, .init(after: after, limit: Self.pageSize, count: true))
            rows = found.objects.map { object in
                ["id": object.id, "name": object.displayName ?? object.id, "cells": Self.cells(object)] as [String: Any]
            }
            let total = count ?? rows.count
            values["countText"] = "\(total) \(kind == .user ? (total == 1 ? "user" : "users") : (total == 1 ? "application" : "applications")) found"
            if let next = found.next {
                let back = trail + [after.map(String.init) ?? "-"]
                values["nextPage"] = Self.link(segment, kept + [("after", String(next)), ("back", back.joined(separator: ","))])
            }
            if let previous = trail.last {
                let back = trail.dropLast().joined(separator: ",")
                values["previousPage"] = Self.link(
                    segment, kept + (previous == "-" ? [] : [("after", previous)]) + (back.isEmpty ? [] : [("back", back)]))
            }
        } catch let error as GraphError where error.status == 400 || error.status == 403 {
            filters.error = error.status == 403 ? "Your roles do not allow filtering on this attribute set." : error.message
        }
        values["rows"] = rows
        values["hasRows"] = !rows.isEmpty
        values["chips"] = filters.applied.enumerated().map { index, filter in
            [
                "text": filter.text, "parameter": filter.parameter,
                "removeLink": Self.link(
                    segment,
                    (search.isEmpty ? [] : [("search", search)])
                        + filters.applied.enumerated().filter { $0.offset != index }.map { ("f", $0.element.parameter) }),
            ] as [String: Any]
        }
        values["clearLink"] = Self.link(segment, search.isEmpty ? [] : [("search", search)])
        values.merge(filters.values) { _, new in new }
        return page("list", values, cookies: [signedIn.cookie])
    }

    /// A list address with these parameters, percent-encoded.
    static func link(_ segment: String, _ parameters: [(String, String)]) -> String {
        let query = parameters.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        return "/console/\(segment)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }
}

/// One applied attribute condition: a definition, `eq`, `ne` or `startsWith`, and the value as typed.
struct AppliedFilter {
    let definition: AttributeDefinition
    let operation: String
    let value: String

    /// The `f` query parameter that carries it between pages: `<attribute id>~<op>~<value>`
    /// (ids and operators never hold `~`, so the value may).
    var parameter: String { "\(definition.id)~\(operation)~\(value)" }

    /// The chip's words: set and attribute names as the admin center shows them, never the id.
    var text: String {
        "\(definition.attributeSet) › \(definition.name) \(AttributeFilters.label(operation)) \(value)"
    }

    func expression() throws(GraphError) -> FilterExpression {
        let path = ["customSecurityAttributes", definition.attributeSet, definition.name]
        let literal: FilterLiteral =
            switch try AttributeValue(text: value, for: definition) {
            case .string(let text): .string(text)
            case .integer(let number): .integer(Int64(number))
            case .boolean(let flag): .boolean(flag)
            }
        switch operation {
        case "eq": return .comparison(path: path, op: .eq, value: literal)
        case "ne": return .comparison(path: path, op: .ne, value: literal)
        case "startsWith":
            guard definition.type == .string else {
                throw .badRequest("Starts with works on String attributes only ('\(definition.name)' is \(definition.type.rawValue)).")
            }
            return .startsWith(path: path, prefix: literal)
        default: throw .badRequest("Choose ==, != or starts with.")
        }
    }
}

/// The filter pane of the lists: conditions already applied (`f`, shown as chips) and the rows of
/// the pane (`set`, `attribute`, `op`, `value`, repeated in that order, one group per row), all
/// joined by `and`. Without JavaScript the pane offers every searchable attribute grouped by set;
/// an attribute that is not in the chosen set is refused, never silently swapped.
struct AttributeFilters {
    let schema: Schema
    let caller: Caller
    var applied: [AppliedFilter] = []
    /// A row of the pane that is not complete yet (set or attribute chosen, no value), shown again.
    var pending: (set: AttributeSet?, definition: AttributeDefinition?, operation: String, value: String)?
    var error: String?

    static let operators = [("eq", "=="), ("ne", "!="), ("startsWith", "starts with")]
    /// More than this many conditions are refused: far beyond what a person builds by hand.
    static let maximum = 10

    static func label(_ operation: String) -> String { operators.first { $0.0 == operation }?.1 ?? operation }

    init(schema: Schema, caller: Caller, items: [(name: String, value: String)]) {
        (self.schema, self.caller) = (schema, caller)
        for item in items where item.name == "f" {
            let parts = item.value.split(separator: "~", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else {
                error = "A filter in the address is not complete; remove it and add it again."
                continue
            }
            guard let definition = readable(parts[0]) else {
                error = "'\(parts[0])' is not an attribute you can filter on."
                continue
            }
            applied.append(AppliedFilter(definition: definition, operation: parts[1], value: parts[2]))
        }
        // The pane's rows: each starts at `set`; a row's fields follow it in the query.
        var row: [String: String]?
        var rowsSeen: [[String: String]] = []
        for item in items where ["set", "attribute", "op", "value"].contains(item.name) {
            if item.name == "set" || row == nil || row?[item.name] != nil {
                if let row { rowsSeen.append(row) }
                row = [:]
            }
            row?[item.name] = item.value.trimmingCharacters(in: .whitespaces)
        }
        if let row { rowsSeen.append(row) }
        for fields in rowsSeen { addRow(fields) }
        if applied.count > Self.maximum {
            error = "At most \(Self.maximum) filters can be applied at once."
            applied = Array(applied.prefix(Self.maximum))
        }
    }

    var readableSets: [AttributeSet] { schema.sets.filter { AccessPolicy.allows(caller, .readAssignments, inSet: $0.id) } }

    func readable(_ id: String) -> AttributeDefinition? {
        guard let definition = schema.definition(id: id), definition.isSearchable,
            readableSets.contains(where: { nameKey($0.id) == nameKey(definition.attributeSet) })
        else { return nil }
        return definition
    }

    mutating func addRow(_ fields: [String: String]) {
        let setName = fields["set"] ?? "", id = fields["attribute"] ?? "", value = fields["value"] ?? ""
        let operation = fields["op"] ?? "eq"
        if setName.isEmpty, id.isEmpty, value.isEmpty { return }
        let set = readableSets.first { nameKey($0.id) == nameKey(setName) }
        let definition = id.isEmpty ? nil : readable(id)
        if !id.isEmpty, definition == nil {
            pending = (set, nil, operation, value)
            error = "'\(id)' is not an attribute you can filter on."
            return
        }
        if let definition, let set, nameKey(set.id) != nameKey(definition.attributeSet) {
            // The set was changed after the attribute was picked: say so rather than guess.
            pending = (set, nil, operation, value)
            error = "\(definition.name) is in the set \(definition.attributeSet), not \(set.id). Choose an attribute of \(set.id)."
            return
        }
        guard let definition, !value.isEmpty else {
            pending = (definition.flatMap { schema.set(named: $0.attributeSet) } ?? set, definition, operation, value)
            return
        }
        applied.append(AppliedFilter(definition: definition, operation: operation, value: value))
    }

    /// All conditions joined by `and`, or nil when none is applied.
    func expression() throws(GraphError) -> FilterExpression? {
        var combined: FilterExpression?
        for filter in applied {
            let next = try filter.expression()
            combined = combined.map { .and($0, next) } ?? next
        }
        return combined
    }

    var values: [String: Any] {
        let set = pending?.set, definition = pending?.definition
        let operation = pending?.operation ?? "eq", value = pending?.value ?? ""
        var values: [String: Any] = [
            "filterSets": readableSets.map { ["id": $0.id, "selected": nameKey($0.id) == nameKey(set?.id ?? "")] },
            "canFilter": !readableSets.isEmpty, "filterOpen": pending != nil || error != nil,
            "applied": applied.map { ["parameter": $0.parameter] },
            "hasFilters": !applied.isEmpty,
        ]
        if let error { values["filterError"] = error }
        // Grouped by set; a chosen set lists its own group only (the script does the same in place).
        values["filterGroups"] = readableSets.filter { set == nil || nameKey($0.id) == nameKey(set?.id ?? "") }.map { group in
            [
                "set": group.id,
                "attributes": schema.definitions(inSet: group.id).filter(\.isSearchable).map {
                    ["id": $0.id, "name": $0.name, "selected": nameKey($0.id) == nameKey(definition?.id ?? "")]
                },
            ] as [String: Any]
        }
        values["filterOperators"] = Self.operators.filter { $0.0 != "startsWith" || (definition?.type ?? .string) == .string }
            .map { ["id": $0.0, "label": $0.1, "selected": $0.0 == operation] }
        let choices: [String]? =
            definition.map { definition in
                definition.usePreDefinedValuesOnly
                    ? schema.allowedValues(of: definition).map(\.id) : definition.type == .boolean ? ["True", "False"] : nil
            } ?? nil
        if let choices {
            values["filterChoices"] = choices.map { ["id": $0, "selected": $0.lowercased() == value.lowercased()] }
            values["hasFilterChoices"] = true
        } else {
            values["filterInput"] = ["type": definition?.type == .integer ? "number" : "text", "value": value]
        }
        values["filterSchema"] = schemaJSON
        return values
    }

    /// What the script needs to fill the pane in place: each readable set's searchable attributes,
    /// their type and predefined values.
    var schemaJSON: String {
        let sets: [[String: Any]] = readableSets.map { set in
            [
                "id": set.id,
                "attributes": schema.definitions(inSet: set.id).filter(\.isSearchable).map { definition in
                    [
                        "id": definition.id, "name": definition.name, "type": definition.type.rawValue,
                        "choices": definition.usePreDefinedValuesOnly
                            ? schema.allowedValues(of: definition).map(\.id)
                            : definition.type == .boolean ? ["True", "False"] : [],
                    ] as [String: Any]
                },
            ]
        }
        return ConsoleController.json(sets)
    }
}
