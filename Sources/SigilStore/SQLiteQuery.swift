import Foundation
import GRDB
import SigilCore

/// `$filter` on directory objects, compiled to SQL. Pages come from index range scans in rowid
/// order; counts come from maintained per-value counts (`eq`, and `ne` as total minus `eq`), from
/// in-memory prefix indexes (`startsWith` on single-valued String attributes), or from an index
/// range count, so that no common query walks its whole result set.
extension SQLiteStore {
    /// Matches at or under this many rows are paged by collecting and sorting them; above it, by
    /// walking objects in rowid order, where matches are dense enough to fill a page quickly.
    static let sortedDriverLimit = 20_000

    struct SQLPredicate {
        var sql: String
        var arguments: [(any DatabaseValueConvertible)?]
    }

    /// Compiles a predicate over `directory_objects o`. Attribute conditions are correlated
    /// `EXISTS` probes on the value table's primary key (object, definition).
    final class Compiler {
        let db: Database
        var aliases = 0
        init(db: Database) { self.db = db }

        func definitionSeq(_ definition: AttributeDefinition) throws -> Int64 {
            // An attribute with no row here cannot match: -1 never equals a seq.
            try Int64.fetchOne(
                db, sql: "SELECT seq FROM attribute_definitions WHERE key = ?", arguments: [nameKey(definition.id)])
                ?? -1
        }

        func compile(_ predicate: ObjectPredicate) throws -> SQLPredicate {
            switch predicate {
            case .and(let l, let r):
                let (a, b) = (try compile(l), try compile(r))
                return SQLPredicate(sql: "(\(a.sql) AND \(b.sql))", arguments: a.arguments + b.arguments)
            case .or(let l, let r):
                let (a, b) = (try compile(l), try compile(r))
                return SQLPredicate(sql: "(\(a.sql) OR \(b.sql))", arguments: a.arguments + b.arguments)
            case .not(let inner):
                let a = try compile(inner)
                return SQLPredicate(sql: "(NOT \(a.sql))", arguments: a.arguments)
            case .attribute(let definition, let match):
                aliases += 1
                let v = "v\(aliases)"
                let condition = SQLiteStore.valueCondition(match, alias: v, probe: true)
                return SQLPredicate(
                    sql:
                        "EXISTS (SELECT 1 FROM attribute_values \(v) WHERE \(v).object_rowid = o.rowid AND \(v).definition_seq = ? AND \(condition.sql))",
                    arguments: [try definitionSeq(definition)] + condition.arguments)
            case .property(let name, let match):
                return SQLiteStore.propertyCondition(name, match)
            }
        }
    }

    /// The condition on one value row for an attribute match. As a driver it is written so the
    /// value indexes apply; as a `probe` of one object, its value column is hidden from the
    /// planner (`+`) so the lookup goes by the primary key (object, definition) and never scans a
    /// whole value range once per object.
    static func valueCondition(_ match: AttributeMatch, alias: String, probe: Bool = false) -> SQLPredicate {
        let v = probe ? "+\(alias)" : alias
        switch match {
        case .equals(let value):
            switch StoredValue.columns(value) {
            case (let text?, _): return SQLPredicate(sql: "\(v).value_text = ?", arguments: [text])
            case (_, let int?): return SQLPredicate(sql: "\(v).value_int = ?", arguments: [int])
            default: return SQLPredicate(sql: "0", arguments: [])
            }
        case .startsWith(let prefix):
            guard let upper = StoredValue.prefixSuccessor(prefix) else {
                return SQLPredicate(sql: "\(v).value_text >= ?", arguments: [prefix])
            }
            return SQLPredicate(sql: "\(v).value_text >= ? AND \(v).value_text < ?", arguments: [prefix, upper])
        case .compare(let op, let bound):
            return SQLPredicate(sql: "\(v).value_int \(op.sql) ?", arguments: [Int64(bound)])
        }
    }

    /// Ordinary properties live in the JSON column; strings compare case-insensitively as in Graph.
    static func propertyCondition(_ name: String, _ match: PropertyMatch) -> SQLPredicate {
        let column: String =
            switch name {
            case "id": "o.id"
            case "userPrincipalName": "o.upn_key"
            case "appId": "o.app_id"
            default: "json_extract(o.properties, '$.\(name)')"
            }
        switch match {
        case .equals(nil):
            return SQLPredicate(sql: "(\(column) IS NULL)", arguments: [])
        case .equals(let text?):
            return SQLPredicate(sql: "(lower(\(column)) = lower(?))", arguments: [text])
        case .equalsBool(let flag):
            return SQLPredicate(sql: "(\(column) = ?)", arguments: [flag ? 1 : 0])
        case .startsWith(let prefix):
            return SQLPredicate(
                sql: "(substr(lower(\(column)), 1, length(?)) = lower(?))", arguments: [prefix, prefix])
        }
    }

    static func isSingleValuedString(_ definition: AttributeDefinition) -> Bool {
        definition.type == .string && !definition.isCollection
    }

    // MARK: Counting

    static func total(_ kind: DirectoryObjectKind, _ db: Database) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT objects FROM object_counts WHERE kind = ?"), arguments: [kind.rawValue]) ?? 0
    }

    /// The exact number of objects of `kind` matching `predicate`, by the cheapest exact means.
    func countMatches(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, _ db: Database) throws -> Int {
        guard let predicate else { return try Self.total(kind, db) }
        switch predicate {
        case .not(let inner):
            return try Self.total(kind, db) - countMatches(kind, inner, db)
        case .attribute(let definition, .equals(let value)):
            let seq = try Compiler(db: db).definitionSeq(definition)
            return try Int.fetchOne(
                db.cachedStatement(sql: "SELECT objects FROM attribute_value_counts WHERE kind = ? AND definition_seq = ? AND value_key = ?"),
                arguments: [kind.rawValue, seq, StoredValue.countKey(value)]) ?? 0
        case .attribute(let definition, let match):
            let seq = try Compiler(db: db).definitionSeq(definition)
            if case .startsWith(let prefix) = match, Self.isSingleValuedString(definition),
                let counted = prefixIndexes.withIndex(
                    PrefixIndexes.Key(kind: kind.rawValue, definition: nameKey(definition.id)), { $0.count(prefix: prefix) })
            {
                return counted
            }
            // A range count over the value index; DISTINCT because a collection may match twice.
            let condition = Self.valueCondition(match, alias: "v")
            return try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(DISTINCT v.object_rowid) FROM attribute_values v
                    JOIN directory_objects o ON o.rowid = v.object_rowid
                    WHERE v.definition_seq = ? AND \(condition.sql) AND o.kind = ?
                    """,
                arguments: StatementArguments([seq] + condition.arguments + [kind.rawValue])) ?? 0
        default:
            let compiled = try Compiler(db: db).compile(predicate)
            return try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM directory_objects o WHERE o.kind = ? AND \(compiled.sql)",
                arguments: StatementArguments([kind.rawValue] + compiled.arguments)) ?? 0
        }
    }

    /// Builds the prefix indexes a predicate's counts will use, inside a write transaction so no
    /// commit can slip between the snapshot and the index going live.
    func preparePrefixIndexes(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?) async throws {
        guard let predicate else { return }
        var wanted: [AttributeDefinition] = []
        func collect(_ p: ObjectPredicate) {
            switch p {
            case .attribute(let definition, .startsWith) where Self.isSingleValuedString(definition): wanted.append(definition)
            case .not(let inner): collect(inner)
            case .and(let l, let r), .or(let l, let r):
                collect(l)
                collect(r)
            default: break
            }
        }
        collect(predicate)
        for definition in wanted {
            let key = PrefixIndexes.Key(kind: kind.rawValue, definition: nameKey(definition.id))
            guard prefixIndexes.withIndex(key, { _ in () }) == nil else { continue }
            try await writer.write { db in
                let seq = try Compiler(db: db).definitionSeq(definition)
                guard self.prefixIndexes.withIndex(key, { _ in () }) == nil else { return }
                let values = try String.fetchAll(
                    db,
                    sql: """
                        SELECT v.value_text FROM attribute_values v JOIN directory_objects o ON o.rowid = v.object_rowid
                        WHERE v.definition_seq = ? AND v.value_text IS NOT NULL AND o.kind = ?
                        ORDER BY v.value_text
                        """,
                    arguments: [seq, kind.rawValue])
                self.prefixIndexes.install(SortedStrings(sorted: values), for: key)
            }
        }
    }

    // MARK: Paging

    public func query(
        _ kind: DirectoryObjectKind, matching predicate: ObjectPredicate?, reader: String?, order: ObjectOrder?,
        after cursor: Int64?, afterSortKey: String?, limit: Int, count: Bool, withAttributes: Bool
    ) async throws -> (page: DirectoryPage, count: Int?) {
        try await preparePrefixIndexes(kind, predicate)
        return try await writer.read { db in
            let (seen, adjustment) = try Self.asSeen(predicate, by: reader, kind, db)
            // Counted with the original predicate's fast paths, corrected by the reader's object.
            let matches = try count ? self.countMatches(kind, predicate, db) + adjustment : nil
            let rows =
                if let order {
                    try self.orderedRows(
                        kind, seen, order, after: cursor.map { (afterSortKey ?? "", $0) }, limit: limit + 1, db)
                } else {
                    try self.pageRows(
                        kind, seen, after: cursor ?? 0, limit: limit + 1, knownCount: adjustment == 0 ? matches : nil, db)
                }
            let page = rows.prefix(limit)
            let next: Int64? = rows.count > limit ? page.last.map { $0["rowid"] } : nil
            let objects = try page.map(Self.decodeObject)
            // SQLite's lower() is the ordering's truth, so the key comes from the row itself.
            let nextSortKey: String? = next != nil && order != nil ? page.last.flatMap { $0["sort_key"] } : nil
            let attributes =
                withAttributes
                ? try Self.loadAttributes(db, rowids: page.map { $0["rowid"] }, objectIds: objects.map(\.id)) : nil
            return (DirectoryPage(objects: objects, next: next, attributes: attributes, nextSortKey: nextSortKey), matches)
        }
    }

    /// `predicate` as `reader` may apply it, judged against the reader's own object and values in
    /// this same read.
    static func asSeen(_ predicate: ObjectPredicate?, by reader: String?, _ kind: DirectoryObjectKind, _ db: Database)
        throws -> (ObjectPredicate?, Int)
    {
        guard let predicate, let reader, predicate.mentionsAttributes else { return (predicate, 0) }
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT rowid, id, kind, properties FROM directory_objects WHERE id = ? AND kind = ?"),
                arguments: [reader, kind.rawValue])
        else { return (predicate, 0) }
        let object = try decodeObject(row)
        let values = try loadAttributes(db, rowids: [row["rowid"]], objectIds: [object.id])[object.id]
        let seen = predicate.asSeen(by: object, holding: values ?? AttributeAssignments())
        return (seen.predicate, seen.countAdjustment)
    }

    /// The display-name sort key in SQL; its index is `directory_objects_display_name`.
    static let displayNameKey = "lower(coalesce(json_extract(o.properties, '$.displayName'), ''))"

    /// A page in display-name order, continuing after (key, rowid): walks the display-name index
    /// and probes each object against the filter.
    func orderedRows(
        _ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, _ order: ObjectOrder, after: (String, Int64)?, limit: Int,
        _ db: Database
    ) throws -> [Row] {
        guard case .displayName(let descending) = order else { return [] }
        let key = Self.displayNameKey
        let compiled = try predicate.map { try Compiler(db: db).compile($0) } ?? SQLPredicate(sql: "1", arguments: [])
        let (op, direction) = descending ? ("<", "DESC") : (">", "ASC")
        var arguments: [(any DatabaseValueConvertible)?] = [kind.rawValue]
        var keyset = "1"
        if let (sortKey, rowid) = after {
            keyset = "(\(key) \(op) ? OR (\(key) = ? AND o.rowid \(op) ?))"
            arguments += [sortKey, sortKey, rowid]
        }
        return try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT o.rowid, o.id, o.kind, o.properties, \(key) AS sort_key FROM directory_objects o
                    WHERE o.kind = ? AND \(keyset) AND \(compiled.sql)
                    ORDER BY \(key) \(direction), o.rowid \(direction) LIMIT ?
                    """),
            arguments: StatementArguments(arguments + compiled.arguments + [limit]))
    }

    /// Attribute values of a page of objects in one statement, by their rowids in page order.
    static func loadAttributes(_ db: Database, rowids: [Int64], objectIds: [String]) throws -> [String: AttributeAssignments] {
        guard !rowids.isEmpty else { return [:] }
        var definitions: [Int64: (id: String, type: String)] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT seq, attribute_set, name, type FROM attribute_definitions")) {
            definitions[row[0]] = (AttributeDefinition.id(set: row[1], name: row[2]), row[3])
        }
        let idByRowid = Dictionary(uniqueKeysWithValues: zip(rowids, objectIds))
        let list = "[" + rowids.map(String.init).joined(separator: ",") + "]"
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT object_rowid, definition_seq, value_text, value_int FROM attribute_values
                    WHERE object_rowid IN (SELECT value FROM json_each(?))
                    ORDER BY object_rowid, definition_seq, ordinal
                    """),
            arguments: [list])
        var result: [String: [AssignedAttribute]] = [:]
        var currentRowid: Int64 = -1
        var current: [AssignedAttribute] = []
        var currentSeq: Int64 = -1
        func flush() {
            if !current.isEmpty, let id = idByRowid[currentRowid] { result[id] = current }
            current = []
        }
        while let row = try rows.next() {
            let rowid: Int64 = row[0]
            let seq: Int64 = row[1]
            guard let definition = definitions[seq] else { continue }
            if rowid != currentRowid {
                flush()
                currentRowid = rowid
                currentSeq = -1
            }
            let value: AttributeValue =
                switch definition.type {
                case "Integer": .integer(Int32(truncatingIfNeeded: row[3] as Int64))
                case "Boolean": .boolean((row[3] as Int64) != 0)
                default: .string(row[2])
                }
            if seq == currentSeq, let last = current.indices.last {
                current[last].values.append(value)
            } else {
                current.append(AssignedAttribute(definitionId: definition.id, values: [value]))
                currentSeq = seq
            }
        }
        flush()
        return result.mapValues { AttributeAssignments($0) }
    }

    func pageRows(
        _ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, after cursor: Int64, limit: Int, knownCount: Int?,
        _ db: Database
    ) throws -> [Row] {
        let columns = "o.rowid, o.id, o.kind, o.properties"
        guard let predicate else {
            return try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(columns) FROM directory_objects o WHERE o.kind = ? AND o.rowid > ? ORDER BY o.rowid LIMIT ?"),
                arguments: [kind.rawValue, cursor, limit])
        }
        let compiled = try Compiler(db: db).compile(predicate)
        let terms = predicate.conjuncts

        // An equality term: its index (definition, value, object) yields objects in rowid order.
        if case .attribute(let definition, .equals(let value))? = terms.first(where: {
            if case .attribute(_, .equals) = $0 { return true }
            return false
        }) {
            let condition = Self.valueCondition(.equals(value), alias: "d")
            let seq = try Compiler(db: db).definitionSeq(definition)
            return try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(columns) FROM attribute_values d JOIN directory_objects o ON o.rowid = d.object_rowid
                        WHERE d.definition_seq = ? AND \(condition.sql) AND d.object_rowid > ? AND o.kind = ? AND \(compiled.sql)
                        ORDER BY d.object_rowid LIMIT ?
                        """),
                arguments: StatementArguments(
                    [seq] + condition.arguments + [cursor, kind.rawValue] + compiled.arguments + [limit]))
        }

        // A selective range term: collect its objects, sort them, page.
        if case .attribute(let definition, let match)? = terms.first(where: {
            if case .attribute = $0 { return true }
            return false
        }) {
            let estimate = try (terms.count == 1 ? knownCount : nil) ?? countMatches(kind, .attribute(definition, match), db)
            if estimate <= Self.sortedDriverLimit {
                let condition = Self.valueCondition(match, alias: "d")
                let seq = try Compiler(db: db).definitionSeq(definition)
                return try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(columns) FROM directory_objects o
                        WHERE o.rowid IN (SELECT d.object_rowid FROM attribute_values d
                            WHERE d.definition_seq = ? AND \(condition.sql) AND d.object_rowid > ?)
                        AND o.kind = ? AND \(compiled.sql)
                        ORDER BY o.rowid LIMIT ?
                        """,
                    arguments: StatementArguments(
                        [seq] + condition.arguments + [cursor, kind.rawValue] + compiled.arguments + [limit]))
            }
        }

        // Dense or composite: walk objects in rowid order, probing each.
        return try Row.fetchAll(
            db,
            sql:
                "SELECT \(columns) FROM directory_objects o WHERE o.kind = ? AND o.rowid > ? AND \(compiled.sql) ORDER BY o.rowid LIMIT ?",
            arguments: StatementArguments([kind.rawValue, cursor] + compiled.arguments + [limit]))
    }
}
