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

    /// An attribute definition's row number, read in the caller's transaction.
    static func definitionSeq(_ definition: AttributeDefinition, _ db: Database) throws -> Int64 {
        // An attribute with no row here cannot match: -1 never equals a seq.
        // A cached statement: compiling it for each term of each filter was 2.5% of a page's CPU.
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT seq FROM attribute_definitions WHERE key = ?"), arguments: [nameKey(definition.id)])
            ?? -1
    }

    /// The filter compiler, with definitions looked up in `db`.
    static func compiler(_ db: Database) -> PredicateSQL {
        PredicateSQL(.sqlite) { try definitionSeq($0, db) }
    }

    static func isSingleValuedString(_ definition: AttributeDefinition) -> Bool {
        definition.type == .string && !definition.isCollection
    }

    // MARK: Counting

    static func total(_ kind: DirectoryObjectKind, _ db: Database) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT objects FROM object_counts WHERE kind = ?"), arguments: [kind.rawValue]) ?? 0
    }

    /// How many objects of each kind hold `value` of the definition numbered `seq` (the maintained counts).
    static func holders(of value: AttributeValue, _ seq: Int64, _ db: Database) throws -> [DirectoryObjectKind: Int] {
        let statement = try db.cachedStatement(
            sql: "SELECT objects FROM attribute_value_counts WHERE kind = ? AND definition_seq = ? AND value_key = ?")
        var holders: [DirectoryObjectKind: Int] = [:]
        for kind in DirectoryObjectKind.allCases {
            holders[kind] = try Int.fetchOne(statement, arguments: [kind.rawValue, seq, StoredValue.countKey(value)]) ?? 0
        }
        return holders
    }

    /// Whether objects of a kind other than `kind` hold values of the definition numbered `seq`
    /// (the maintained counts). When none do, every value row of it belongs to an object of
    /// `kind`, and a query over the value index need not read each row's object for its kind: at
    /// a million holders that join is most of building a prefix index or a value set.
    static func otherKindsHold(_ seq: Int64, besides kind: DirectoryObjectKind, _ db: Database) throws -> Bool {
        let statement = try db.cachedStatement(
            sql: "SELECT 1 FROM attribute_value_counts WHERE kind = ? AND definition_seq = ? AND objects > 0 LIMIT 1")
        for other in DirectoryObjectKind.allCases where other != kind {
            if try Int.fetchOne(statement, arguments: [other.rawValue, seq]) != nil { return true }
        }
        return false
    }

    /// The value rows of the definition numbered `seq` meeting `condition` whose objects are of
    /// `kind`, with the join to their objects only when another kind holds values of it too.
    static func valueRows(
        _ columns: SQLFragment, _ seq: Int64, _ condition: SQLFragment, of kind: DirectoryObjectKind, _ db: Database
    ) throws -> SQLFragment {
        guard try otherKindsHold(seq, besides: kind, db) else {
            return "SELECT \(columns) FROM attribute_values v WHERE v.definition_seq = \(seq) AND \(condition)"
        }
        return """
            SELECT \(columns) FROM attribute_values v JOIN directory_objects o ON o.rowid = v.object_rowid
            WHERE v.definition_seq = \(seq) AND \(condition) AND o.kind = \(kind.rawValue)
            """
    }

    /// The exact number of objects of `kind` matching `predicate`, by the cheapest exact means.
    func countMatches(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, _ db: Database) throws -> Int {
        guard let predicate else { return try Self.total(kind, db) }
        switch predicate {
        case .not(let inner):
            return try Self.total(kind, db) - countMatches(kind, inner, db)
        case .attribute(let definition, .equals(let value)):
            let seq = try Self.definitionSeq(definition, db)
            return try Int.fetchOne(
                db.cachedStatement(sql: "SELECT objects FROM attribute_value_counts WHERE kind = ? AND definition_seq = ? AND value_key = ?"),
                arguments: [kind.rawValue, seq, StoredValue.countKey(value)]) ?? 0
        case .attribute(let definition, let match):
            let seq = try Self.definitionSeq(definition, db)
            if case .startsWith(let prefix) = match, Self.isSingleValuedString(definition),
                let counted = try prefixCount(kind, definition, prefix, seq, db)
            {
                return counted
            }
            // A range count over the value index. A collection may match twice in one object, so
            // its rows are counted DISTINCT (a temporary B-tree: 90 ms against 20 ms for 600,000
            // rows); a single-valued attribute has one row per object.
            let statement = try Self.valueRows(
                definition.isCollection ? "COUNT(DISTINCT v.object_rowid)" : "COUNT(*)", seq,
                Self.compiler(db).valueCondition(match, alias: "v"), of: kind, db)
            return try Int.fetchOne(db, SQLRequest(literal: statement.grdb)) ?? 0
        default:
            if let counted = try equalitiesCount(kind, predicate, db) { return counted }
            if let counted = try countBySets(kind, predicate, db) { return counted }
            var compiler = Self.compiler(db)
            let compiled = try compiler.compile(predicate)
            let statement: SQLFragment = "SELECT COUNT(*) FROM directory_objects o WHERE o.kind = \(kind.rawValue) AND \(compiled)"
            return try Int.fetchOne(db, SQLRequest(literal: statement.grdb)) ?? 0
        }
    }

    /// The count of an `or` of equalities on one attribute (a filter's spellings), when the
    /// maintained per-value counts decide it; nil otherwise.
    func equalitiesCount(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate, _ db: Database) throws -> Int? {
        guard let (definition, keys) = predicate.equalityCountKeys else { return nil }
        let seq = try Self.definitionSeq(definition, db)
        let statement = try db.cachedStatement(
            sql: "SELECT objects FROM attribute_value_counts WHERE kind = ? AND definition_seq = ? AND value_key = ?")
        let counts = try keys.map { try Int.fetchOne(statement, arguments: [kind.rawValue, seq, $0]) ?? 0 }
        return StoredValue.disjointCount(counts, isCollection: definition.isCollection)
    }

    /// Counts an `and`/`or`/`not` combination of attribute terms as set algebra over the terms'
    /// rowids; nil when a term tests an ordinary property (those have no index to read a set
    /// from, and the probing count handles them).
    func countBySets(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate, _ db: Database) throws -> Int? {
        guard predicate.testsOnlyAttributes else { return nil }
        return try matchingSet(kind, predicate, db).count
    }

    /// The objects of `kind` matching an attribute-only predicate, as a set (or its complement)
    /// of rowids. Each term's set is the one `valueSets` keeps, else read from the value index;
    /// a broad term read from the index is noted in `wanted`, to be kept from then on.
    func matchingSet(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate, _ db: Database) throws -> MatchingSet {
        let maxRowid = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(rowid) FROM directory_objects")) ?? 0
        var wanted: [WantedSet] = []
        // Kept sets hold only this kind's objects; rows read from the index hold every kind's.
        var allKept = true
        func kept(_ definition: AttributeDefinition, _ match: AttributeMatch, seq: Int64) throws -> RowidBits? {
            guard let term = ValueSets.Term(match) else { return nil }
            let attribute = ValueSets.Attribute(kind: kind.rawValue, seq: seq)
            if let bits = valueSets.bits(attribute, term, upTo: maxRowid) { return bits }
            // The budget first: it costs a lock, the count a statement.
            if valueSets.hasRoom(upTo: maxRowid),
                try objects(kind, definition, match, seq, db).map({ $0 >= valueSets.minimumObjects }) == true
            {
                wanted.append(WantedSet(match: match, attribute: attribute, term: term))
            }
            return nil
        }
        func term(_ predicate: ObjectPredicate) throws -> RowidTerm {
            if case .or = predicate, let (definition, spelled) = predicate.disjunctionOnOneAttribute {
                let seq = try Self.definitionSeq(definition, db)
                // Terms the maintained counts say no object of this kind holds add nothing (a
                // case-insensitive filter's 32 spellings of 'Baker', of which one is held): left
                // out, the held ones may all be kept sets, and no value rows are read.
                let matches = try spelled.filter { try objects(kind, definition, $0, seq, db) != 0 }
                guard !matches.isEmpty else { return RowidTerm(bits: RowidBits(maxRowid: maxRowid), complemented: false) }
                let sets = try matches.map { try kept(definition, $0, seq: seq) }
                if let first = sets.first, var union = first, sets.allSatisfy({ $0 != nil }) {
                    for next in sets.dropFirst() { if let next { union.combine(next) { $0 | $1 } } }
                    return RowidTerm(bits: union, complemented: false)
                }
                // An `or` of terms on one attribute is one pass over its value rows into one set.
                return try rows(seq, Self.compiler(db).anyOf(matches, alias: "v"))
            }
            switch predicate {
            case .attribute(let definition, let match):
                let seq = try Self.definitionSeq(definition, db)
                if let bits = try kept(definition, match, seq: seq) { return RowidTerm(bits: bits, complemented: false) }
                return try rows(seq, Self.compiler(db).valueCondition(match, alias: "v"))
            case .not(let inner): return try term(inner).negated
            case .and(let l, let r): return RowidTerm.and(try term(l), try term(r))
            case .or(let l, let r): return RowidTerm.or(try term(l), try term(r))
            case .property: throw StoreError.corrupt("a property term reached the set count")
            }
        }
        func rows(_ seq: Int64, _ condition: SQLFragment) throws -> RowidTerm {
            allKept = false
            var bits = RowidBits(maxRowid: maxRowid)
            let statement: SQLFragment = "SELECT v.object_rowid FROM attribute_values v WHERE v.definition_seq = \(seq) AND \(condition)"
            let rows = try Int64.fetchCursor(db, SQLRequest(literal: statement.grdb))
            while let rowid = try rows.next() { bits.insert(rowid) }
            return RowidTerm(bits: bits, complemented: false)
        }
        var result = try term(predicate)
        let total = try Self.total(kind, db)
        if !allKept {
            // Value rows belong to objects of every kind: take out the other kinds' objects, or
            // keep only this kind's, whichever list is shorter.
            let all = try Int.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(SUM(objects), 0) FROM object_counts")) ?? total
            if all - total <= total {
                // `kind IN (…)` reads the (kind, rowid) index; `kind <> ?` would read every object's row.
                let otherKinds = DirectoryObjectKind.allCases.filter { $0 != kind }.map(\.rawValue)
                let others = try Int64.fetchCursor(
                    db, sql: "SELECT rowid FROM directory_objects WHERE kind IN (\(databaseQuestionMarks(count: otherKinds.count)))",
                    arguments: StatementArguments(otherKinds))
                while let rowid = try others.next() { result.bits.remove(rowid) }
            } else {
                var mine = RowidBits(maxRowid: maxRowid)
                let rows = try Int64.fetchCursor(
                    db, sql: "SELECT rowid FROM directory_objects WHERE kind = ?", arguments: [kind.rawValue])
                while let rowid = try rows.next() { mine.insert(rowid) }
                result.bits.combine(mine) { $0 & $1 }
            }
        }
        return MatchingSet(term: result, total: total, wanted: wanted)
    }

    /// The number of objects of `kind` a term holds for, when the maintained counts or the prefix
    /// index know it without reading rows.
    func objects(_ kind: DirectoryObjectKind, _ definition: AttributeDefinition, _ match: AttributeMatch, _ seq: Int64, _ db: Database)
        throws -> Int?
    {
        switch match {
        case .equals(let value):
            return try Int.fetchOne(
                db.cachedStatement(sql: "SELECT objects FROM attribute_value_counts WHERE kind = ? AND definition_seq = ? AND value_key = ?"),
                arguments: [kind.rawValue, seq, StoredValue.countKey(value)]) ?? 0
        case .startsWith(let prefix) where Self.isSingleValuedString(definition):
            return try prefixCount(kind, definition, prefix, seq, db)
        default:
            return nil
        }
    }

    /// How many objects of `kind` hold a value of a single-valued String attribute starting with
    /// `prefix`: from its prefix index, else from the maintained per-value counts when the prefix
    /// spans few distinct values; nil when neither knows.
    func prefixCount(_ kind: DirectoryObjectKind, _ definition: AttributeDefinition, _ prefix: String, _ seq: Int64, _ db: Database)
        throws -> Int?
    {
        let key = PrefixIndexes.Key(kind: kind.rawValue, definition: nameKey(definition.id))
        if let counted = prefixIndexes.withIndex(key, { $0.count(prefix: prefix) }) { return counted }
        return try prefixCountFromValueCounts(kind, seq, prefix, db)
    }

    /// A prefix count summed from the maintained per-value counts, when the prefix spans at most
    /// `prefixCountRows` distinct values; nil when it spans more. A value with few spellings (a
    /// date, a code) has a few rows there where the value index has one per object, and the
    /// counts are per kind, so no value row is read for its object's kind.
    func prefixCountFromValueCounts(_ kind: DirectoryObjectKind, _ seq: Int64, _ prefix: String, _ db: Database)
        throws -> Int?
    {
        let (low, high) = StoredValue.prefixKeyRange(prefix)
        let statement = try db.cachedStatement(
            sql: """
                SELECT count(*), coalesce(sum(objects), 0) FROM (
                    SELECT objects FROM attribute_value_counts
                    WHERE kind = ? AND definition_seq = ? AND value_key >= ? AND value_key < ? LIMIT ?)
                """)
        guard let row = try Row.fetchOne(statement, arguments: [kind.rawValue, seq, low, high, prefixCountRows + 1]) else {
            return nil
        }
        let values: Int = row[0]
        return values <= prefixCountRows ? row[1] : nil
    }

    /// Builds, inside a write transaction, the sets a query found broad enough to keep.
    func keepValueSets(_ wanted: [WantedSet], _ kind: DirectoryObjectKind) async throws {
        guard !wanted.isEmpty else { return }
        try await writer.write { db in
            let maxRowid = try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM directory_objects") ?? 0
            for set in wanted where !self.valueSets.contains(set.attribute, set.term) && self.valueSets.hasRoom(upTo: maxRowid) {
                var bits = RowidBits(maxRowid: maxRowid)
                let statement = try Self.valueRows(
                    "v.object_rowid", set.attribute.seq, Self.compiler(db).valueCondition(set.match, alias: "v"), of: kind, db)
                let rows = try Int64.fetchCursor(db, SQLRequest(literal: statement.grdb))
                while let rowid = try rows.next() { bits.insert(rowid) }
                self.valueSets.install(bits, for: set.attribute, set.term)
            }
        }
    }

    /// A predicate's `startsWith` terms on single-valued String attributes.
    static func prefixTerms(_ predicate: ObjectPredicate?) -> [(definition: AttributeDefinition, prefix: String)] {
        switch predicate {
        case .attribute(let definition, .startsWith(let prefix))? where isSingleValuedString(definition): [(definition, prefix)]
        case .not(let inner)?: prefixTerms(inner)
        case .and(let l, let r)?, .or(let l, let r)?: prefixTerms(l) + prefixTerms(r)
        default: []
        }
    }

    /// Whether a predicate's `startsWith` counts want a prefix index that is not built yet: one
    /// whose prefix the maintained counts do not answer.
    func prefixIndexWanted(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, _ db: Database) throws -> Bool {
        try Self.prefixTerms(predicate).contains { definition, prefix in
            let key = PrefixIndexes.Key(kind: kind.rawValue, definition: nameKey(definition.id))
            guard prefixIndexes.withIndex(key, { _ in () }) == nil else { return false }
            return try self.prefixCountFromValueCounts(kind, Self.definitionSeq(definition, db), prefix, db) == nil
        }
    }

    /// Builds the prefix indexes a predicate's counts will use, inside a write transaction so no
    /// commit can slip between the snapshot and the index going live.
    func preparePrefixIndexes(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?) async throws {
        for (definition, prefix) in Self.prefixTerms(predicate) {
            let key = PrefixIndexes.Key(kind: kind.rawValue, definition: nameKey(definition.id))
            guard prefixIndexes.withIndex(key, { _ in () }) == nil else { continue }
            try await writer.write { db in
                let seq = try Self.definitionSeq(definition, db)
                guard self.prefixIndexes.withIndex(key, { _ in () }) == nil else { return }
                // The maintained counts answer this prefix: no index of every value is needed for it.
                guard try self.prefixCountFromValueCounts(kind, seq, prefix, db) == nil else { return }
                try self.installPrefixIndex(key, kind, seq: seq, db)
            }
        }
    }

    /// Reads every text value of the definition numbered `seq` held by objects of `kind`, in
    /// order, into its prefix index; called inside a write transaction.
    func installPrefixIndex(_ key: PrefixIndexes.Key, _ kind: DirectoryObjectKind, seq: Int64, _ db: Database) throws {
        let rows = try Self.valueRows("v.value_text", seq, "v.value_text IS NOT NULL", of: kind, db)
        let ordered: SQLFragment = "\(rows) ORDER BY v.value_text"
        let values = try String.fetchAll(db, SQLRequest(literal: ordered.grdb))
        prefixIndexes.install(SortedStrings(sorted: values), for: key)
    }

    public func heldTexts(_ kind: DirectoryObjectKind, of definition: AttributeDefinition, limit: Int) async throws -> [String]? {
        try await writer.shortRead { db in
            let (low, high) = StoredValue.prefixKeyRange("")
            let keys = try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT value_key FROM attribute_value_counts
                        WHERE kind = ? AND definition_seq = ? AND value_key >= ? AND value_key < ? AND objects > 0 LIMIT ?
                        """),
                arguments: [kind.rawValue, try Self.definitionSeq(definition, db), low, high, limit + 1])
            return keys.count <= limit ? keys.map { String($0.dropFirst(2)) } : nil
        }
    }

    // MARK: Paging

    public func query(
        _ kind: DirectoryObjectKind, matching predicate: ObjectPredicate?, reader: String?, order: ObjectOrder?,
        after cursor: Int64?, afterSortKey: String?, limit: Int, count: Bool, withAttributes: Bool
    ) async throws -> (page: DirectoryPage, count: Int?) {
        let read: @Sendable (Database) throws -> ((page: DirectoryPage, count: Int?), [WantedSet], Bool) = { db in
            let wantsPrefixIndex = try count && self.prefixIndexWanted(kind, predicate, db)
            let (seen, adjustment) = try self.asSeen(predicate, by: reader, kind, db)
            let read: (objects: [(rowid: Int64, object: DirectoryObject)], next: Int64?, nextSortKey: String?)
            let matches: Int?
            var wanted: [WantedSet] = []
            // An `or` of one attribute's values is counted by the maintained counts (once: the count
            // below reuses it). It pages from the value index (a selective one) or by walking
            // objects (one held by at least one object in 50), without reading every holder into a
            // set first; others are read as a set.
            let counted =
                try count && adjustment == 0 && predicate?.isCombination == true
                ? predicate.flatMap { try self.equalitiesCount(kind, $0, db) } : nil
            let pagesWithoutSet =
                try counted.map { equalities in
                    try equalities <= Self.sortedDriverLimit
                        || StoredValue.pagesByWalking(holders: equalities, among: Self.total(kind, db))
                } ?? false
            if count, !pagesWithoutSet, order == nil, adjustment == 0, let predicate, predicate.isCombination,
                predicate.testsOnlyAttributes
            {
                // A combination of terms: one set answers both the count and the page.
                let set = try self.matchingSet(kind, predicate, db)
                (matches, wanted) = (set.count, set.wanted)
                read = try Self.objects(rowids: try set.rowids(after: cursor ?? 0, limit: limit + 1, kind, db), limit: limit, db)
            } else {
                // Counted with the original predicate's fast paths, corrected by the reader's object.
                matches = try count ? counted ?? self.countMatches(kind, predicate, db) + adjustment : nil
                let (statement, cached) = try self.pageStatement(
                    kind, seen, order, after: cursor, afterSortKey: afterSortKey, limit: limit + 1,
                    knownCount: adjustment == 0 ? matches : nil, db)
                let (sql, arguments) = statement.sqlite
                read = try Self.page(
                    cached ? db.cachedStatement(sql: sql) : db.makeStatement(sql: sql), arguments, limit: limit,
                    sorted: order != nil)
            }
            var attributes: [String: AttributeAssignments]?
            if withAttributes {
                let byRowid = try self.loadAttributes(db, rowids: read.objects.map(\.rowid))
                attributes = [:]
                for (rowid, object) in read.objects { attributes?[object.id] = byRowid[rowid] }
            }
            let page = DirectoryPage(
                objects: read.objects.map(\.object), next: read.next, attributes: attributes, nextSortKey: read.nextSortKey)
            return ((page, matches), wanted, wantsPrefixIndex)
        }
        // An unfiltered page (a listing, a delta round) reads its rows by rowid or by the
        // displayName index: short enough for the calling thread.
        let (result, wanted, wantsPrefixIndex) = try await predicate == nil ? writer.shortRead(read) : writer.read(read)
        // Broad terms read from rows this time are kept from now on, and prefixes counted from
        // the value index get their prefix index; the answer is already exact.
        if wantsPrefixIndex { try await build { try await self.preparePrefixIndexes(kind, predicate) } }
        if !wanted.isEmpty { try await build { try await self.keepValueSets(wanted, kind) } }
        return result
    }

    /// Builds in-memory structures a query found missing: in the background for a database file,
    /// so the first request after start answers from the value index instead of waiting for the
    /// build; at once for an in-memory store, so tests see them built.
    func build(_ work: @escaping @Sendable () async throws -> Void) async throws {
        guard buildsInBackground else { return try await work() }
        // A failed build installs nothing; the next query that needs it tries again.
        Task.detached(priority: .utility) { try? await work() }
    }

    /// A page of the objects with these rowids, in rowid order (`page`).
    static func objects(rowids: [Int64], limit: Int, _ db: Database) throws
        -> (objects: [(rowid: Int64, object: DirectoryObject)], next: Int64?, nextSortKey: String?)
    {
        guard !rowids.isEmpty else { return ([], nil, nil) }
        let list = "[" + rowids.map(String.init).joined(separator: ",") + "]"
        return try page(
            db.cachedStatement(
                sql: """
                    SELECT o.rowid, o.id, o.kind, o.properties FROM directory_objects o
                    WHERE o.rowid IN (SELECT value FROM json_each(?)) ORDER BY o.rowid
                    """),
            [list], limit: limit, sorted: false)
    }

    /// Up to `limit` objects from a page's statement (columns as `objectColumns`, then
    /// `sort_key` when `sorted`), decoded as the statement steps: copying every row first was a
    /// tenth of a filtered page's CPU. A row after them means another page, which starts after
    /// the last one here (and, sorted, after its sort key: SQLite's `lower()` is the ordering's
    /// truth, so the key comes from the row itself).
    static func page(_ statement: Statement, _ arguments: StatementArguments, limit: Int, sorted: Bool) throws
        -> (objects: [(rowid: Int64, object: DirectoryObject)], next: Int64?, nextSortKey: String?)
    {
        var objects: [(rowid: Int64, object: DirectoryObject)] = []
        objects.reserveCapacity(limit)
        var sortKey: String?
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        while let row = try rows.next() {
            guard objects.count < limit else { return (objects, objects.last?.rowid, sortKey) }
            objects.append((row[0], try decodeObject(row)))
            if sorted { sortKey = row["sort_key"] }
        }
        return (objects, nil, nil)
    }

    /// `predicate` as `reader` may apply it, judged against the reader's own object and values in
    /// this same read.
    func asSeen(_ predicate: ObjectPredicate?, by reader: String?, _ kind: DirectoryObjectKind, _ db: Database)
        throws -> (ObjectPredicate?, Int)
    {
        guard let predicate, let reader, predicate.mentionsAttributes else { return (predicate, 0) }
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT rowid, id, kind, properties FROM directory_objects WHERE id = ? AND kind = ?"),
                arguments: [reader, kind.rawValue])
        else { return (predicate, 0) }
        let object = try Self.decodeObject(row)
        let rowid: Int64 = row["rowid"]
        let values = try loadAttributes(db, rowids: [rowid])[rowid]
        let seen = predicate.asSeen(by: object, holding: values ?? AttributeAssignments())
        return (seen.predicate, seen.countAdjustment)
    }

    /// The display-name sort key in SQL; its index is `directory_objects_display_name`.
    static let displayNameKey = "lower(coalesce(json_extract(o.properties, '$.displayName'), ''))"

    /// Every attribute definition by number.
    static func definitions(_ db: Database) throws -> [Int64: StoredDefinition] {
        var definitions: [Int64: StoredDefinition] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: StoredDefinition.select)) {
            definitions[row[0]] = StoredDefinition(seq: row[0], set: row[1], name: row[2], type: row[3], isCollection: row[4])
        }
        return definitions
    }

    /// Value rows decoded against `committedDefinitions`; when a row's definition is not among
    /// them, the definitions are read from `db` (and kept, when `db` reads committed data; when
    /// it is the writer, whose transaction may hold definitions that roll back, they are read
    /// again from a read-only connection and those are kept).
    func decodeCommitted(_ reader: ValueReader, _ db: Database) throws -> [Int64: AttributeAssignments] {
        if let decoded = reader.finish(committedDefinitions.withLock { $0.bySeq }) { return decoded }
        let definitions = try Self.definitions(db)
        if db.configuration.readonly {
            keep(definitions)
        } else {
            keepCommittedDefinitions()
        }
        return reader.finish(definitions, skippingUnknown: true) ?? [:]
    }

    /// Fills `committedDefinitions` from a read-only connection. Writes that read no object
    /// outside the writer (a server taking only `PATCH`es, a `$batch`) otherwise read every
    /// definition for each write: 4.5% of a batch's CPU.
    func keepCommittedDefinitions() {
        guard let connection = shortReaders?.take() else { return }
        defer { shortReaders?.put(connection) }
        // A failed read keeps nothing; the next write tries again.
        guard let definitions = try? connection.read({ try Self.definitions($0) }) else { return }
        keep(definitions)
    }

    /// Keeps `definitions`, read from committed data, by number and by key.
    func keep(_ definitions: [Int64: StoredDefinition]) {
        let kept = KeptDefinitions(definitions)
        committedDefinitions.withLock { $0 = kept }
    }

    /// Attribute values of objects by rowid, in one statement, decoded with the committed
    /// definitions (`decodeCommitted`).
    func loadAttributes(_ db: Database, rowids: [Int64]) throws -> [Int64: AttributeAssignments] {
        guard !rowids.isEmpty else { return [:] }
        let list = "[" + rowids.map(String.init).joined(separator: ",") + "]"
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: "\(ValueReader.select) WHERE object_rowid IN (SELECT value FROM json_each(?)) \(ValueReader.order)"),
            arguments: [list])
        var reader = ValueReader()
        while let row = try rows.next() { reader.add(rowid: row[0], seq: row[1], text: row[2], int: row[3]) }
        return try decodeCommitted(reader, db)
    }

    /// The statement for one page, and whether GRDB should cache it: in display-name order along
    /// its index, probing each object; else in rowid order, driven by an `eq` term's (definition,
    /// value, object) index, by a selective range term's objects collected and sorted, or by
    /// walking objects and probing each.
    func pageStatement(
        _ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, _ order: ObjectOrder?, after cursor: Int64?,
        afterSortKey: String?, limit: Int, knownCount: Int?, _ db: Database
    ) throws -> (SQLFragment, cached: Bool) {
        let columns = "o.rowid, o.id, o.kind, o.properties"
        var compiler = Self.compiler(db)
        if case .displayName(let descending)? = order {
            let key = Self.displayNameKey
            let compiled = try predicate.map { try compiler.compile($0) } ?? "1"
            let (op, direction) = descending ? ("<", "DESC") : (">", "ASC")
            var keyset: SQLFragment = "1"
            if let cursor {
                let sortKey = afterSortKey ?? ""
                keyset = "(\(sql: key) \(sql: op) \(sortKey) OR (\(sql: key) = \(sortKey) AND o.rowid \(sql: op) \(cursor)))"
            }
            return (
                """
                SELECT \(sql: columns), \(sql: key) AS sort_key FROM directory_objects o
                WHERE o.kind = \(kind.rawValue) AND \(keyset) AND \(compiled)
                ORDER BY \(sql: key) \(sql: direction), o.rowid \(sql: direction) LIMIT \(Int64(limit))
                """, true
            )
        }
        let cursor = cursor ?? 0
        guard let predicate else {
            return (
                """
                SELECT \(sql: columns) FROM directory_objects o WHERE o.kind = \(kind.rawValue) AND o.rowid > \(cursor) \
                ORDER BY o.rowid LIMIT \(Int64(limit))
                """, true
            )
        }
        let compiled = try compiler.compile(predicate)
        let terms = predicate.conjuncts

        // An equality term: its index (definition, value, object) yields objects in rowid order.
        if case .attribute(let definition, .equals(let value))? = terms.first(where: {
            if case .attribute(_, .equals) = $0 { return true }
            return false
        }) {
            let condition = compiler.valueCondition(.equals(value), alias: "d")
            let seq = try Self.definitionSeq(definition, db)
            // The index holds every kind's objects: when no object of this kind holds the value,
            // there is nothing to read; when other kinds' objects holding it outnumber this kind's
            // objects (service principals asked for a value a third of the users hold), walking
            // this kind's objects reads fewer rows than walking the value's.
            let holders = try Self.holders(of: value, seq, db)
            let here = holders[kind] ?? 0
            if here == 0 { return ("SELECT \(sql: columns) FROM directory_objects o WHERE 0", true) }
            if try Self.total(kind, db) < holders.values.reduce(0, +) - here {
                return (
                    """
                    SELECT \(sql: columns) FROM directory_objects o WHERE o.kind = \(kind.rawValue) AND o.rowid > \(cursor) \
                    AND \(compiled) ORDER BY o.rowid LIMIT \(Int64(limit))
                    """, false
                )
            }
            return (
                """
                SELECT \(sql: columns) FROM attribute_values d JOIN directory_objects o ON o.rowid = d.object_rowid
                WHERE d.definition_seq = \(seq) AND \(condition) AND d.object_rowid > \(cursor) \
                AND o.kind = \(kind.rawValue) AND \(compiled)
                ORDER BY d.object_rowid LIMIT \(Int64(limit))
                """, true
            )
        }

        // A selective range term: collect its objects, sort them, page.
        if case .attribute(let definition, let match)? = terms.first(where: {
            if case .attribute = $0 { return true }
            return false
        }) {
            let estimate = try (terms.count == 1 ? knownCount : nil) ?? countMatches(kind, .attribute(definition, match), db)
            if estimate <= Self.sortedDriverLimit {
                let condition = compiler.valueCondition(match, alias: "d")
                let seq = try Self.definitionSeq(definition, db)
                return (
                    """
                    SELECT \(sql: columns) FROM directory_objects o
                    WHERE o.rowid IN (SELECT d.object_rowid FROM attribute_values d
                        WHERE d.definition_seq = \(seq) AND \(condition) AND d.object_rowid > \(cursor))
                    AND o.kind = \(kind.rawValue) AND \(compiled)
                    ORDER BY o.rowid LIMIT \(Int64(limit))
                    """, false
                )
            }
        }

        // An `or` of terms on one attribute, when selective: the same over the union of their rows.
        if let union = terms.first(where: { ($0.disjunctionOnOneAttribute?.matches.count ?? 0) > 1 }),
            let (definition, matches) = union.disjunctionOnOneAttribute,
            try (terms.count == 1 ? knownCount : nil) ?? countMatches(kind, union, db) <= Self.sortedDriverLimit
        {
            let seq = try Self.definitionSeq(definition, db)
            return (
                """
                SELECT \(sql: columns) FROM directory_objects o
                WHERE o.rowid IN (SELECT d.object_rowid FROM attribute_values d
                    WHERE d.definition_seq = \(seq) AND \(compiler.anyOf(matches, alias: "d")) AND d.object_rowid > \(cursor))
                AND o.kind = \(kind.rawValue) AND \(compiled)
                ORDER BY o.rowid LIMIT \(Int64(limit))
                """, false
            )
        }

        // Dense or composite: walk objects in rowid order, probing each.
        return (
            """
            SELECT \(sql: columns) FROM directory_objects o WHERE o.kind = \(kind.rawValue) AND o.rowid > \(cursor) \
            AND \(compiled) ORDER BY o.rowid LIMIT \(Int64(limit))
            """, false
        )
    }
}

/// A broad term a query read from rows, to be kept in `ValueSets` from then on.
struct WantedSet {
    let match: AttributeMatch
    let attribute: ValueSets.Attribute
    let term: ValueSets.Term
}

/// The objects of one kind a predicate matches, as a rowid set or its complement.
struct MatchingSet {
    let term: RowidTerm
    /// The number of objects of the kind.
    let total: Int
    let wanted: [WantedSet]

    var count: Int { term.count(among: total) }

    /// Up to `limit` matching rowids after `cursor`, in order. A complement walks the kind's
    /// objects and skips the set's, which is quick because a complement is most objects.
    func rowids(after cursor: Int64, limit: Int, _ kind: DirectoryObjectKind, _ db: Database) throws -> [Int64] {
        guard term.complemented else { return term.bits.rowids(after: cursor, limit: limit) }
        var found: [Int64] = []
        let rows = try Int64.fetchCursor(
            db.cachedStatement(sql: "SELECT rowid FROM directory_objects WHERE kind = ? AND rowid > ? ORDER BY rowid"),
            arguments: [kind.rawValue, cursor])
        while found.count < limit, let rowid = try rows.next() {
            if !term.bits.contains(rowid) { found.append(rowid) }
        }
        return found
    }
}
