import SigilCore

/// Where the two stores' SQL differs in the filter compiler.
enum SQLDialect: Sendable {
    case sqlite
    case postgres

    var `true`: String { self == .sqlite ? "1" : "true" }
    var `false`: String { self == .sqlite ? "0" : "false" }

    /// A property kept in the object's JSON text.
    func jsonProperty(_ name: String) -> SQLFragment {
        switch self {
        case .sqlite: SQLFragment(pieces: [.text("json_extract(o.properties, '$.\(name)')")])
        case .postgres: "(o.properties::json ->> \(name))"
        }
    }

    /// A JSON Boolean as the JSON access above returns it: SQLite's 1/0, PostgreSQL's text.
    func jsonBoolean(_ flag: Bool) -> SQLFragment {
        switch self {
        case .sqlite: "\(Int64(flag ? 1 : 0))"
        case .postgres: "\(flag ? "true" : "false")"
        }
    }

    /// Case-insensitive `startsWith` on a text column.
    func startsWith(_ column: SQLFragment, _ prefix: String) -> SQLFragment {
        switch self {
        case .sqlite: "(substr(lower(\(column)), 1, length(\(prefix))) = lower(\(prefix)))"
        case .postgres: "starts_with(lower(\(column)), lower(\(prefix)))"
        }
    }
}

/// `$filter` predicates compiled to SQL over `directory_objects o`, once for both stores.
/// Attribute conditions are correlated `EXISTS` probes on the value table's primary key
/// (object, definition); text compares in byte order (SQLite's BINARY, PostgreSQL's `COLLATE
/// "C"`), so `eq` and `startsWith` are ranges on the value indexes.
struct PredicateSQL {
    let dialect: SQLDialect
    /// The row number of a definition; -1 (never a seq) for one without a row, which matches nothing.
    let seq: (AttributeDefinition) throws -> Int64
    private var aliases = 0

    init(_ dialect: SQLDialect, seq: @escaping (AttributeDefinition) throws -> Int64) {
        self.dialect = dialect
        self.seq = seq
    }

    mutating func compile(_ predicate: ObjectPredicate) throws -> SQLFragment {
        switch predicate {
        case .and(let l, let r):
            return "(\(try compile(l)) AND \(try compile(r)))"
        case .or(let l, let r):
            if let (definition, matches) = predicate.disjunctionOnOneAttribute {
                aliases += 1
                let v = "v\(aliases)"
                let seq = try self.seq(definition)
                return """
                    EXISTS (SELECT 1 FROM attribute_values \(sql: v) WHERE \(sql: v).object_rowid = o.rowid \
                    AND \(sql: v).definition_seq = \(seq) AND \(anyOf(matches, alias: v, probe: true)))
                    """
            }
            return "(\(try compile(l)) OR \(try compile(r)))"
        case .not(let inner):
            return "(NOT \(try compile(inner)))"
        case .attribute(let definition, let match):
            aliases += 1
            let v = "v\(aliases)"
            let seq = try self.seq(definition)
            let condition = valueCondition(match, alias: v, probe: true)
            return """
                EXISTS (SELECT 1 FROM attribute_values \(sql: v) WHERE \(sql: v).object_rowid = o.rowid \
                AND \(sql: v).definition_seq = \(seq) AND \(condition))
                """
        case .property(let name, let match):
            return propertyCondition(name, match)
        }
    }

    /// The conditions of several matches on one value row, any of which holds: a flat `OR`, since
    /// nesting each pair would nest as deep as there are matches.
    func anyOf(_ matches: [AttributeMatch], alias: String, probe: Bool = false) -> SQLFragment {
        var joined: SQLFragment = "(\(valueCondition(matches[0], alias: alias, probe: probe))"
        for match in matches.dropFirst() { joined = "\(joined) OR \(valueCondition(match, alias: alias, probe: probe))" }
        return "\(joined))"
    }

    /// The condition on one value row for an attribute match. As a driver it is written so the
    /// value indexes apply; as a `probe` of one object, SQLite's planner is kept off the value
    /// column (`+`) so the lookup goes by the primary key and never scans a whole value range once
    /// per object.
    func valueCondition(_ match: AttributeMatch, alias: String, probe: Bool = false) -> SQLFragment {
        let v = probe && dialect == .sqlite ? "+\(alias)" : alias
        switch match {
        case .equals(let value):
            switch StoredValue.columns(value) {
            case (let text?, _): return "\(sql: v).value_text = \(text)"
            case (_, let int?): return "\(sql: v).value_int = \(int)"
            default: return "\(sql: dialect.false)"
            }
        case .startsWith(let prefix):
            guard let upper = StoredValue.prefixSuccessor(prefix) else { return "\(sql: v).value_text >= \(prefix)" }
            return "\(sql: v).value_text >= \(prefix) AND \(sql: v).value_text < \(upper)"
        case .compare(let op, let bound):
            return "\(sql: v).value_int \(sql: op.sql) \(Int64(bound))"
        }
    }

    /// Ordinary properties live in the JSON text; strings compare case-insensitively as in Graph.
    func propertyCondition(_ name: String, _ match: PropertyMatch) -> SQLFragment {
        let column: SQLFragment =
            switch name {
            case "id": "o.id"
            case "userPrincipalName": "o.upn_key"
            case "appId": "o.app_id"
            default: dialect.jsonProperty(name)
            }
        switch match {
        case .equals(nil): return "(\(column) IS NULL)"
        case .equals(let text?): return "(lower(\(column)) = lower(\(text)))"
        case .equalsBool(let flag): return "(\(column) = \(dialect.jsonBoolean(flag)))"
        case .startsWith(let prefix): return dialect.startsWith(column, prefix)
        }
    }
}
