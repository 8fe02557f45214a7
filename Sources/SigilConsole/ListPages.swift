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
        var filter = AttributeFilter(schema: schema, caller: signedIn.caller, query: query)
        var values = layout(signedIn, nav: Self.nav(kind))
        values["heading"] = Self.heading(kind)
        values["segment"] = Self.segment(kind)
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
        do {
            if let condition = try filter.expression() {
                expression = expression.map { .and($0, condition) } ?? condition
            }
            let (found, count) = try await lister.list(
                kind, filter: expression, advanced: true,
                .init(after: query["after"].flatMap(Int64.init), limit: Self.pageSize, count: true))
            rows = found.objects.map { object in
                ["id": object.id, "name": object.displayName ?? object.id, "cells": Self.cells(object)] as [String: Any]
            }
            let total = count ?? rows.count
            values["countText"] = "\(total) \(kind == .user ? (total == 1 ? "user" : "users") : (total == 1 ? "application" : "applications")) found"
            if let next = found.next {
                values["nextPage"] = Self.nextPage(request, path: "/console/\(Self.segment(kind))", after: next)
            }
        } catch let error as GraphError where error.status == 400 || error.status == 403 {
            filter.error = error.status == 403 ? "Your roles do not allow filtering on this attribute set." : error.message
        }
        values["rows"] = rows
        values["hasRows"] = !rows.isEmpty
        values.merge(filter.values) { _, new in new }
        return page("list", values, cookies: [signedIn.cookie])
    }
}

/// The "Add filter" controls: set, then attribute, then operator and a value widget that fits
/// the definition; only sets the caller may read values in are offered.
struct AttributeFilter {
    let schema: Schema
    let caller: Caller
    var set: AttributeSet?
    var definition: AttributeDefinition?
    var operation: String
    var value: String
    var error: String?

    static let operators = [("eq", "=="), ("ne", "!="), ("startsWith", "starts with")]

    init(schema: Schema, caller: Caller, query: [String: String]) {
        (self.schema, self.caller) = (schema, caller)
        operation = query["op"] ?? "eq"
        value = query["value"] ?? ""
        let readable = schema.sets.filter { AccessPolicy.allows(caller, .readAssignments, inSet: $0.id) }
        if let id = query["attribute"], let definition = schema.definition(id: id),
            readable.contains(where: { nameKey($0.id) == nameKey(definition.attributeSet) })
        {
            self.definition = definition
            set = schema.set(named: definition.attributeSet)
        } else if let name = query["set"] {
            set = readable.first { nameKey($0.id) == nameKey(name) }
        }
    }

    var readableSets: [AttributeSet] { schema.sets.filter { AccessPolicy.allows(caller, .readAssignments, inSet: $0.id) } }

    /// The condition, once an attribute and a value are chosen.
    func expression() throws(GraphError) -> FilterExpression? {
        guard let definition, !value.isEmpty else { return nil }
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
            guard definition.type == .string else { throw .badRequest("Starts with works on String attributes only.") }
            return .startsWith(path: path, prefix: literal)
        default: throw .badRequest("Choose ==, != or starts with.")
        }
    }

    var values: [String: Any] {
        var values: [String: Any] = [
            "filterSets": readableSets.map { ["id": $0.id, "selected": nameKey($0.id) == nameKey(set?.id ?? "")] },
            "canFilter": !readableSets.isEmpty,
        ]
        if let error { values["filterError"] = error }
        guard let set else { return values }
        values["filterSet"] = set.id
        values["filterAttributes"] = schema.definitions(inSet: set.id).filter(\.isSearchable).map {
            ["id": $0.id, "name": $0.name, "selected": nameKey($0.id) == nameKey(definition?.id ?? "")]
        }
        guard let definition else { return values }
        values["filterAttribute"] = definition.id
        values["filterOperators"] = Self.operators.filter { $0.0 != "startsWith" || definition.type == .string }.map {
            ["id": $0.0, "label": $0.1, "selected": $0.0 == operation]
        }
        let choices: [String]? =
            definition.usePreDefinedValuesOnly
            ? schema.allowedValues(of: definition).map(\.id) : definition.type == .boolean ? ["True", "False"] : nil
        if let choices {
            values["filterChoices"] = choices.map { ["id": $0, "selected": $0.lowercased() == value.lowercased()] }
            values["hasFilterChoices"] = true
        } else {
            values["filterInput"] = ["type": definition.type == .integer ? "number" : "text", "value": value]
        }
        if !value.isEmpty { values["filterActive"] = "\(definition.id) \(Self.operators.first { $0.0 == operation }?.1 ?? "") \(value)" }
        return values
    }
}
