import Foundation
import PostgresNIO
import SigilCore

/// The rowid sets of broad filter terms, kept in an instance's memory beside PostgreSQL, so an
/// `and`/`or`/`not` of terms is word-wise operations on sets at hand instead of hashing hundreds
/// of thousands of value rows per request (as `ValueSets` does for SQLite).
///
/// Several instances write one database, so a set cannot be changed by the writes that touch it
/// as SQLite's are. Instead each set carries the change-log number it describes, and a reader
/// brings it to its own snapshot's number: every write logs its objects' rowids in the same
/// transaction, and log numbers grow in commit order, so the objects whose membership can differ
/// between two numbers are exactly those logged between them. Their values are read in the
/// reader's snapshot and their bits set again. A reader whose snapshot is older than the set
/// finds the rowids in the log entries this instance has already read (entries committed after
/// its snapshot are invisible to it); when neither has them, the set is read from the rows again.
final class LoggedValueSets: Sendable {
    let minimumObjects: Int
    let byteBudget: Int
    /// Log entries remembered, and the most a reader brings a set forward by before reading it
    /// from the rows instead.
    let logWindow: Int

    init(minimumObjects: Int = 1024, byteBudget: Int = 64 << 20, logWindow: Int = 100_000) {
        self.minimumObjects = minimumObjects
        self.byteBudget = byteBudget
        self.logWindow = logWindow
    }

    struct Kept: Sendable {
        let bits: RowidBits
        /// The change-log number the set describes.
        let version: Int64
    }

    /// The object rowids of log entries `after + 1` through `after + rowids.count` (nil for an
    /// entry logged without one).
    struct RecentLog: Sendable {
        var after: Int64 = 0
        var rowids: [Int64?] = []

        var end: Int64 { after + Int64(rowids.count) }

        /// The rowids of entries `from + 1` through `through`, nil unless all are here with one.
        func rowids(after from: Int64, through: Int64) -> [Int64]? {
            guard from >= after, through <= end, from <= through else { return nil }
            var found: [Int64] = []
            for rowid in rowids[Int(from - after)..<Int(through - after)] {
                guard let rowid else { return nil }
                found.append(rowid)
            }
            return found
        }

        /// Adds entries `from + 1` onwards: appended when they continue the window, else they
        /// replace it when they are later; at most `limit` of the latest are kept.
        mutating func record(after from: Int64, _ entries: [Int64?], limit: Int) {
            let through = from + Int64(entries.count)
            if from <= end, from >= after {
                if through > end { rowids += entries[Int(end - from)...] }
            } else if from > end || through < after || rowids.isEmpty {
                guard through > end else { return }
                (after, rowids) = (from, entries)
            }
            if rowids.count > limit {
                let dropped = rowids.count - limit
                rowids.removeFirst(dropped)
                after += Int64(dropped)
            }
        }
    }

    private struct State {
        var sets: [ValueSets.Attribute: [ValueSets.Term: Kept]] = [:]
        var bytes = 0
        var log = RecentLog()
    }

    private let state = Locked(State())

    func kept(_ attribute: ValueSets.Attribute, _ term: ValueSets.Term) -> Kept? {
        state.withLock { $0.sets[attribute]?[term] }
    }

    /// Keeps `bits` as the term's set at `version`, unless a later one is kept already or it
    /// would go over the budget.
    func keep(_ bits: RowidBits, version: Int64, for attribute: ValueSets.Attribute, _ term: ValueSets.Term) {
        state.withLock { state in
            let current = state.sets[attribute]?[term]
            if let current, current.version >= version { return }
            let bytes = state.bytes - (current?.bits.byteCount ?? 0) + bits.byteCount
            guard bytes <= byteBudget else { return }
            state.sets[attribute, default: [:]][term] = Kept(bits: bits, version: version)
            state.bytes = bytes
        }
    }

    func recentRowids(after from: Int64, through: Int64) -> [Int64]? {
        state.withLock { $0.log.rowids(after: from, through: through) }
    }

    func record(after from: Int64, _ entries: [Int64?]) {
        state.withLock { $0.log.record(after: from, entries, limit: logWindow) }
    }

    var byteCount: Int { state.withLock { $0.bytes } }

    /// Every kept set, to be saved for the next start.
    func all() -> [(attribute: ValueSets.Attribute, term: ValueSets.Term, kept: Kept)] {
        state.withLock { state in
            state.sets.flatMap { attribute, terms in terms.map { (attribute, $0.key, $0.value) } }
        }
    }
}

extension PostgresStore {
    /// Sets saved when an instance stops, each with the log number it describes, so the next
    /// start (of any instance) brings them forward through the log instead of reading hundreds
    /// of thousands of value rows for its first requests. A saved set stays true of its number
    /// whatever happens later: every write after it is in the log.
    static let keptValueSetsSchema = [
        """
        CREATE TABLE kept_value_sets (
            kind text COLLATE "C" NOT NULL,
            definition_seq bigint NOT NULL,
            term bytea NOT NULL, -- ValueSets.Term.encoded
            bits bytea NOT NULL, -- RowidBits.bytes
            version bigint NOT NULL,
            PRIMARY KEY (kind, definition_seq, term)
        )
        """
    ]

    /// Saves this instance's sets where they are later than the saved ones.
    public func keepFilterStructures() async throws {
        let sets = keptSets.all()
        guard !sets.isEmpty else { return }
        try await withSession { s in
            for (attribute, term, kept) in sets {
                try await s.execute(
                    """
                    INSERT INTO kept_value_sets (kind, definition_seq, term, bits, version)
                    VALUES (\(attribute.kind), \(attribute.seq), \(Data(term.encoded)), \(Data(kept.bits.bytes)), \(kept.version))
                    ON CONFLICT (kind, definition_seq, term) DO UPDATE SET bits = excluded.bits, version = excluded.version
                    WHERE kept_value_sets.version < excluded.version
                    """)
            }
        }
    }

    /// Reads the saved sets, at start.
    func loadKeptValueSets() async throws {
        try await withSession { s in
            for try await row in try await s.query("SELECT kind, definition_seq, term, bits, version FROM kept_value_sets") {
                var columns = ColumnReader(row)
                let attribute = ValueSets.Attribute(kind: try columns.next(), seq: try columns.next())
                guard let term = ValueSets.Term(encoded: Array(try columns.next(Data.self))),
                    let bits = RowidBits(bytes: try columns.next(Data.self))
                else { continue }
                self.keptSets.keep(bits, version: try columns.next(), for: attribute, term)
            }
        }
    }

    /// What one snapshot's set reading needs: the snapshot's log number and largest rowid, and
    /// the value rows of objects read to bring sets to it (read once per request).
    final class SetReading {
        let kind: DirectoryObjectKind
        let head: Int64
        let maxRowid: Int64
        let total: Int
        let snapshot: SchemaSnapshot
        var rowsByObject: [Int64: [(seq: Int64, kind: String, text: String?, int: Int64?)]] = [:]
        var loaded: Set<Int64> = []

        init(kind: DirectoryObjectKind, head: Int64, maxRowid: Int64, total: Int, snapshot: SchemaSnapshot) {
            (self.kind, self.head, self.maxRowid, self.total, self.snapshot) = (kind, head, maxRowid, total, snapshot)
        }
    }

    /// The objects of `kind` matching an attribute-only predicate in this transaction's
    /// snapshot, as a set or its complement, with the number of objects of the kind.
    func matchingSet(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate, _ snapshot: SchemaSnapshot, _ s: Session)
        async throws -> (term: RowidTerm, total: Int)
    {
        var reading: SetReading?
        for try await (head, maxRowid, total) in try await s.query(
            """
            SELECT (SELECT seq FROM change_log_head WHERE id = 1), (SELECT COALESCE(max(rowid), 0) FROM directory_objects),
                (SELECT COALESCE(max(objects), 0) FROM object_counts WHERE kind = \(kind.rawValue))
            """
        ).decode((Int64, Int64, Int64).self) {
            reading = SetReading(kind: kind, head: head, maxRowid: maxRowid, total: Int(total), snapshot: snapshot)
        }
        guard let reading else { throw PostgresStoreError.corrupt("the change log has no head row") }
        return (try await term(predicate, reading, s), reading.total)
    }

    private func term(_ predicate: ObjectPredicate, _ reading: SetReading, _ s: Session) async throws -> RowidTerm {
        switch predicate {
        case .attribute(let definition, let match):
            return RowidTerm(bits: try await set(definition, match, reading, s), complemented: false)
        case .not(let inner): return try await term(inner, reading, s).negated
        case .and(let l, let r): return RowidTerm.and(try await term(l, reading, s), try await term(r, reading, s))
        case .or(let l, let r): return RowidTerm.or(try await term(l, reading, s), try await term(r, reading, s))
        case .property: throw PostgresStoreError.corrupt("a property term reached the set count")
        }
    }

    /// One term's set in the reader's snapshot: the kept one brought to it, else read from the
    /// value index (and kept from then on when it is broad).
    private func set(_ definition: AttributeDefinition, _ match: AttributeMatch, _ reading: SetReading, _ s: Session)
        async throws -> RowidBits
    {
        guard let seq = reading.snapshot.seq(definition.id) else { return RowidBits(maxRowid: reading.maxRowid) }
        // Writes to a kind the change log does not follow could not be seen; such sets are not kept.
        guard let term = ValueSets.Term(match), DirectoryChange.isTracked(reading.kind) else {
            return try await readSet(seq, match, reading, s)
        }
        let attribute = ValueSets.Attribute(kind: reading.kind.rawValue, seq: seq)
        if let kept = keptSets.kept(attribute, term) {
            if kept.version == reading.head { return kept.bits.fitted(to: reading.maxRowid) }
            let (from, through) = (min(kept.version, reading.head), max(kept.version, reading.head))
            if let touched = try await loggedRowids(after: from, through: through, reading, s) {
                var bits = kept.bits
                try await loadValues(of: touched, reading, s)
                for rowid in touched {
                    let holds = reading.rowsByObject[rowid, default: []].contains {
                        $0.seq == seq && $0.kind == attribute.kind && term.holds(text: $0.text, int: $0.int)
                    }
                    if holds { _ = bits.insertGrowing(rowid) } else { bits.remove(rowid) }
                }
                if kept.version < reading.head { keptSets.keep(bits, version: reading.head, for: attribute, term) }
                return bits.fitted(to: reading.maxRowid)
            }
        }
        let bits = try await readSet(seq, match, reading, s)
        if bits.count >= keptSets.minimumObjects { keptSets.keep(bits, version: reading.head, for: attribute, term) }
        return bits
    }

    /// The objects a term holds for, read from the value index in the reader's snapshot: one
    /// row per 64 rowids, each row's bits OR-ed together by the database.
    private func readSet(_ seq: Int64, _ match: AttributeMatch, _ reading: SetReading, _ s: Session) async throws -> RowidBits {
        let condition = Self.compiler(reading.snapshot).valueCondition(match, alias: "v")
        var bits = RowidBits(maxRowid: reading.maxRowid)
        for try await row in try await s.select(
            """
            SELECT v.object_rowid >> 6, bit_or(1::bigint << (v.object_rowid & 63)::integer) FROM attribute_values v
            WHERE v.definition_seq = \(seq) AND \(condition) AND v.kind = \(reading.kind.rawValue) GROUP BY 1
            """
        ) {
            var columns = ColumnReader(row)
            let index = try columns.next(Int64.self)
            bits.formUnion(word: UInt64(bitPattern: try columns.next(Int64.self)), at: Int(index))
        }
        return bits
    }

    /// The rowids of the objects logged after `from` through `through`; nil when the log cannot
    /// say (entries past this snapshot not seen by this instance, entries without a rowid, or so
    /// many that reading the set again is quicker).
    private func loggedRowids(after from: Int64, through: Int64, _ reading: SetReading, _ s: Session) async throws -> [Int64]? {
        if let known = keptSets.recentRowids(after: from, through: through) { return known }
        guard through <= reading.head, through - from <= Int64(keptSets.logWindow) else { return nil }
        var entries: [Int64?] = []
        var expected = from + 1
        for try await row in try await s.query(
            "SELECT seq, object_rowid FROM directory_changes WHERE seq > \(from) AND seq <= \(through) ORDER BY seq"
        ) {
            var columns = ColumnReader(row)
            guard try columns.next(Int64.self) == expected else { return nil }
            entries.append(try columns.next(Int64?.self))
            expected += 1
        }
        guard expected == through + 1 else { return nil }
        keptSets.record(after: from, entries)
        var rowids: [Int64] = []
        for entry in entries {
            guard let entry else { return nil }
            rowids.append(entry)
        }
        return rowids
    }

    /// Reads, once per request, the value rows of objects whose membership is being brought up to date.
    private func loadValues(of rowids: [Int64], _ reading: SetReading, _ s: Session) async throws {
        let missing = Array(Set(rowids).subtracting(reading.loaded))
        guard !missing.isEmpty else { return }
        for try await row in try await s.query(
            "SELECT object_rowid, definition_seq, kind, value_text, value_int FROM attribute_values WHERE object_rowid = ANY(\(missing))"
        ) {
            var columns = ColumnReader(row)
            let rowid = try columns.next(Int64.self)
            reading.rowsByObject[rowid, default: []].append(
                (try columns.next(), try columns.next(), try columns.next(), try columns.next()))
        }
        reading.loaded.formUnion(missing)
    }

    /// Up to `limit` rowids after `cursor` that a set (or its complement) holds, in order. A
    /// complement walks the kind's objects and skips the set's: most objects are in a complement.
    func rowids(of term: RowidTerm, _ kind: DirectoryObjectKind, after cursor: Int64, limit: Int, _ s: Session) async throws
        -> [Int64]
    {
        guard term.complemented else { return term.bits.rowids(after: cursor, limit: limit) }
        var found: [Int64] = []
        var after = cursor
        let chunk = max(limit * 4, 256)
        while found.count < limit {
            var read = 0
            for try await rowid in try await s.query(
                """
                SELECT rowid FROM directory_objects WHERE kind = \(kind.rawValue) AND rowid > \(after)
                ORDER BY rowid LIMIT \(Int64(chunk))
                """
            ).decode(Int64.self) {
                read += 1
                after = rowid
                if found.count < limit, !term.bits.contains(rowid) { found.append(rowid) }
            }
            if read < chunk { break }
        }
        return found
    }
}
