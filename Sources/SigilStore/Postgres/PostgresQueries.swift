import Foundation
import PostgresNIO
import SigilCore

/// `$filter` on directory objects in PostgreSQL. Attribute conditions are `EXISTS` probes on the
/// value table, `eq` pages are driven from the (definition, value, object) index in object
/// order, and counts come from the maintained counts (`eq`, `ne`) or from index range scans.
extension PostgresStore {
    /// The filter compiler, with definitions looked up in `snapshot`.
    static func compiler(_ snapshot: SchemaSnapshot) -> PredicateSQL {
        PredicateSQL(.postgres) { snapshot.seq($0.id) ?? -1 }
    }

    // MARK: Counting

    static func total(_ kind: DirectoryObjectKind, _ s: Session) async throws -> Int {
        Int(try await s.scalar("SELECT objects FROM object_counts WHERE kind = \(kind.rawValue)", Int64.self) ?? 0)
    }

    /// The exact number of objects of `kind` matching `predicate`, by the cheapest exact means.
    func countMatches(
        _ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, _ snapshot: SchemaSnapshot, _ s: Session
    ) async throws -> Int {
        guard let predicate else { return try await Self.total(kind, s) }
        switch predicate {
        case .not(let inner):
            return try await Self.total(kind, s) - countMatches(kind, inner, snapshot, s)
        case .attribute(let definition, .equals(let value)):
            return Int(
                try await s.scalar(
                    """
                    SELECT objects FROM attribute_value_counts
                    WHERE kind = \(kind.rawValue) AND definition_seq = \(snapshot.seq(definition.id) ?? -1)
                        AND value_key = \(StoredValue.countKey(value))
                    """, Int64.self) ?? 0)
        case .attribute(let definition, let match):
            if case .startsWith(let prefix) = match, definition.type == .string, !definition.isCollection,
                let counted = try await Self.prefixCountFromValueCounts(kind, snapshot.seq(definition.id) ?? -1, prefix, s)
            {
                return counted
            }
            // By its set: a broad term's is kept, and counts in microseconds where the index
            // range of a broad `startsWith` takes a row per holder; the first reading costs
            // what that range count would, and keeps the set.
            if ValueSets.Term(match) != nil, DirectoryChange.isTracked(kind) {
                return try await matchingSet(kind, predicate, snapshot, s).term.bits.count
            }
            return try await Self.count(Self.rangeCount(kind, definition, match, snapshot), s)
        default:
            if let counted = try await equalitiesCount(kind, predicate, snapshot, s) { return counted }
            if predicate.testsOnlyAttributes {
                let (term, total) = try await matchingSet(kind, predicate, snapshot, s)
                return term.count(among: total)
            }
            var compiler = Self.compiler(snapshot)
            let condition = try compiler.compile(predicate)
            return try await Self.count(
                "SELECT count(*) FROM directory_objects o WHERE o.kind = \(kind.rawValue) AND \(condition)", s)
        }
    }

    /// The count of an `or` of equalities on one attribute (a filter's spellings), when the
    /// maintained per-value counts decide it; nil otherwise.
    func equalitiesCount(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate, _ snapshot: SchemaSnapshot, _ s: Session)
        async throws -> Int?
    {
        guard let (definition, keys) = predicate.equalityCountKeys else { return nil }
        var counts: [Int] = []
        let rows = try await s.query(
            """
            SELECT objects FROM attribute_value_counts
            WHERE kind = \(kind.rawValue) AND definition_seq = \(snapshot.seq(definition.id) ?? -1) AND value_key = ANY(\(keys))
            """)
        for try await objects in rows.decode(Int64.self) { counts.append(Int(objects)) }
        return StoredValue.disjointCount(counts, isCollection: definition.isCollection)
    }

    /// A `startsWith` count on a single-valued String attribute summed from the maintained
    /// per-value counts, when the prefix spans at most `StoredValue.prefixCountRows` distinct
    /// values (a date, a code: a few rows where the value index has one per object); nil when
    /// it spans more.
    static func prefixCountFromValueCounts(_ kind: DirectoryObjectKind, _ seq: Int64, _ prefix: String, _ s: Session)
        async throws -> Int?
    {
        let (low, high) = StoredValue.prefixKeyRange(prefix)
        let rows = try await s.query(
            """
            SELECT count(*), coalesce(sum(objects), 0)::bigint FROM (
                SELECT objects FROM attribute_value_counts
                WHERE kind = \(kind.rawValue) AND definition_seq = \(seq)
                    AND value_key >= \(low) AND value_key < \(high) LIMIT \(Int64(StoredValue.prefixCountRows + 1))) AS held
            """)
        for try await (values, objects) in rows.decode((Int64, Int64).self) {
            return values <= StoredValue.prefixCountRows ? Int(objects) : nil
        }
        return nil
    }

    /// A count over one range of the value index (the value rows carry their object's kind);
    /// DISTINCT only for collections, where one object may match twice.
    static func rangeCount(
        _ kind: DirectoryObjectKind, _ definition: AttributeDefinition, _ match: AttributeMatch, _ snapshot: SchemaSnapshot
    ) -> SQLFragment {
        let condition = compiler(snapshot).valueCondition(match, alias: "v")
        let counted = definition.isCollection ? "count(DISTINCT v.object_rowid)" : "count(*)"
        return """
            SELECT \(sql: counted) FROM attribute_values v
            WHERE v.definition_seq = \(snapshot.seq(definition.id) ?? -1) AND \(condition) AND v.kind = \(kind.rawValue)
            """
    }

    static func count(_ statement: SQLFragment, _ s: Session) async throws -> Int {
        for try await value in try await s.select(statement).decode(Int64.self) { return Int(value) }
        return 0
    }

    public func heldTexts(_ kind: DirectoryObjectKind, of definition: AttributeDefinition, limit: Int) async throws -> [String]? {
        try await transaction(readOnly: true) { s in
            let seq = try await self.snapshot(s, fresh: false).seq(definition.id) ?? -1
            let (low, high) = StoredValue.prefixKeyRange("")
            var texts: [String] = []
            for try await key in try await s.query(
                """
                SELECT value_key FROM attribute_value_counts
                WHERE kind = \(kind.rawValue) AND definition_seq = \(seq) AND value_key >= \(low) AND value_key < \(high)
                    AND objects > 0
                LIMIT \(Int64(limit + 1))
                """
            ).decode(String.self) {
                texts.append(String(key.dropFirst(2)))
            }
            return texts.count <= limit ? texts : nil
        }
    }

    // MARK: Paging

    public func query(
        _ kind: DirectoryObjectKind, matching predicate: ObjectPredicate?, reader: String?, order: ObjectOrder?,
        after cursor: Int64?, afterSortKey: String?, limit: Int, count: Bool, withAttributes: Bool
    ) async throws -> (page: DirectoryPage, count: Int?) {
        try await transaction(readOnly: true) { s in
            let snapshot = try await self.snapshot(s, fresh: false)
            let (seen, adjustment) = try await self.asSeen(predicate, by: reader, kind, s)
            let matches: Int?
            var statement: SQLFragment
            // An `or` of one attribute's values is counted by the maintained counts (once: the count
            // below reuses it). Held by at least one object in 50, it pages by walking objects
            // (about 50 per row of the page) without reading every holder into a set first; a
            // rarer one is read as a set.
            var counted: Int?
            if count, adjustment == 0, let predicate, predicate.isCombination {
                counted = try await self.equalitiesCount(kind, predicate, snapshot, s)
            }
            var pagesWithoutSet = false
            if let counted { pagesWithoutSet = StoredValue.pagesByWalking(holders: counted, among: try await Self.total(kind, s)) }
            if count, !pagesWithoutSet, order == nil, adjustment == 0, let predicate, predicate.isCombination,
                predicate.testsOnlyAttributes
            {
                // A combination of terms: one set answers both the count and the page.
                let (term, total) = try await self.matchingSet(kind, predicate, snapshot, s)
                matches = term.count(among: total)
                let rowids = try await self.rowids(of: term, kind, after: cursor ?? 0, limit: limit + 1, s)
                // Integers only, so written into the statement as an array literal.
                let list = "'{" + rowids.map(String.init).joined(separator: ",") + "}'::bigint[]"
                statement = "SELECT \(sql: Self.pageColumns) FROM directory_objects o WHERE o.rowid = ANY(\(sql: list)) ORDER BY o.rowid"
            } else {
                // Counted with the original predicate's fast paths, corrected by the reader's object.
                if let counted {
                    matches = counted
                } else {
                    matches = count ? try await self.countMatches(kind, predicate, snapshot, s) + adjustment : nil
                }
                statement = try Self.pageStatement(
                    kind, seen, order, after: cursor, afterSortKey: afterSortKey, limit: limit + 1, snapshot)
            }
            if withAttributes {
                // The page's values in the same statement, one row of arrays per object.
                let ordering =
                    switch order {
                    case .displayName(let descending)?: descending ? "p.display_key DESC, p.rowid DESC" : "p.display_key, p.rowid"
                    case nil: "p.rowid"
                    }
                statement = """
                    SELECT p.*, vals.* FROM (\(statement)) AS p LEFT JOIN LATERAL (
                        SELECT \(sql: Self.valueArrays) FROM attribute_values v WHERE v.object_rowid = p.rowid) AS vals ON true
                    ORDER BY \(sql: ordering)
                    """
            }
            var rows: [(rowid: Int64, object: DirectoryObject, sortKey: String)] = []
            var values = ValueReader()
            for try await row in try await s.select(statement) {
                var columns = ColumnReader(row)
                let (rowid, id, kind) = (try columns.next(Int64.self), try columns.next(String.self), try columns.next(String.self))
                let object = try Self.decodeObject(id: id, kind: kind, properties: try columns.next())
                rows.append((rowid, object, try columns.next()))
                if withAttributes, rows.count <= limit { try Self.readValueArrays(of: rowid, &columns, into: &values) }
            }
            let page = rows.prefix(limit)
            let next = rows.count > limit ? page.last?.rowid : nil
            let attributes: [String: AttributeAssignments]?
            if withAttributes {
                let byRowid = try await self.decode(values, s)
                var byId: [String: AttributeAssignments] = [:]
                for row in page { byId[row.object.id] = byRowid[row.rowid] }
                attributes = byId
            } else {
                attributes = nil
            }
            return (
                DirectoryPage(
                    objects: page.map(\.object), next: next, attributes: attributes,
                    nextSortKey: next != nil && order != nil ? page.last?.sortKey : nil),
                matches
            )
        }
    }

    /// `predicate` as `reader` may apply it, judged against the reader's own object and values in
    /// this same transaction.
    func asSeen(_ predicate: ObjectPredicate?, by reader: String?, _ kind: DirectoryObjectKind, _ s: Session) async throws
        -> (ObjectPredicate?, Int)
    {
        guard let predicate, let reader, predicate.mentionsAttributes else { return (predicate, 0) }
        let found = try await Self.objects(
            s.query(
                """
                SELECT \(unescaped: Self.objectColumns) FROM directory_objects o
                WHERE o.id = \(reader.lowercased()) AND o.kind = \(kind.rawValue)
                """)
        ).first
        guard let (rowid, object) = found else { return (predicate, 0) }
        let values = try await loadAttributes(s, rowids: [rowid])[rowid]
        let seen = predicate.asSeen(by: object, holding: values ?? AttributeAssignments())
        return (seen.predicate, seen.countAdjustment)
    }

    /// The columns of a page's rows, in the order `query` decodes them.
    static let pageColumns = "o.rowid, o.id, o.kind, o.properties, o.display_key"

    /// The statement for one page: in display-name order along its index, else in rowid order,
    /// driven by an `eq` term's (definition, value, object) index when there is one.
    static func pageStatement(
        _ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, _ order: ObjectOrder?, after cursor: Int64?,
        afterSortKey: String?, limit: Int, _ snapshot: SchemaSnapshot
    ) throws -> SQLFragment {
        var compiler = Self.compiler(snapshot)
        let columns = pageColumns
        if case .displayName(let descending)? = order {
            let condition = try predicate.map { try compiler.compile($0) } ?? "true"
            let (op, direction) = descending ? ("<", "DESC") : (">", "ASC")
            var keyset: SQLFragment = "true"
            if let cursor { keyset = "(o.display_key, o.rowid) \(sql: op) (\(afterSortKey ?? ""), \(cursor))" }
            return """
                SELECT \(sql: columns) FROM directory_objects o WHERE o.kind = \(kind.rawValue) AND \(keyset) AND \(condition)
                ORDER BY o.display_key \(sql: direction), o.rowid \(sql: direction) LIMIT \(Int64(limit))
                """
        }
        let after = cursor ?? 0
        let terms = predicate?.conjuncts ?? []
        if let index = terms.firstIndex(where: {
            if case .attribute(_, .equals) = $0 { return true }
            return false
        }), case .attribute(let definition, .equals(let value)) = terms[index] {
            // The driving term is the index range itself; only the others are checked per object.
            var rest = terms
            rest.remove(at: index)
            let others = try rest.map { try compiler.compile($0) }
            let driver = compiler.valueCondition(.equals(value), alias: "d")
            return """
                SELECT \(sql: columns) FROM attribute_values d JOIN directory_objects o ON o.rowid = d.object_rowid
                WHERE d.definition_seq = \(snapshot.seq(definition.id) ?? -1) AND \(driver) AND d.kind = \(kind.rawValue) \
                AND d.object_rowid > \(after) AND \((others + ["true"]).joined(separator: " AND "))
                ORDER BY d.object_rowid LIMIT \(Int64(limit))
                """
        }
        let condition = try predicate.map { try compiler.compile($0) } ?? "true"
        return """
            SELECT \(sql: columns) FROM directory_objects o WHERE o.kind = \(kind.rawValue) AND o.rowid > \(after) AND \(condition)
            ORDER BY o.rowid LIMIT \(Int64(limit))
            """
    }

    /// The plan PostgreSQL chooses for a page or count query (for tests and diagnosis).
    func explain(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, countOnly: Bool = false) async throws -> String {
        try await withSession { s in
            let snapshot = try await self.snapshot(s)
            let statement =
                if countOnly, case .attribute(let definition, let match)? = predicate {
                    Self.rangeCount(kind, definition, match, snapshot)
                } else {
                    try Self.pageStatement(kind, predicate, nil, after: nil, afterSortKey: nil, limit: 101, snapshot)
                }
            var lines: [String] = []
            for try await line in try await s.select("EXPLAIN \(statement)").decode(String.self) { lines.append(line) }
            return lines.joined(separator: "\n")
        }
    }
}
