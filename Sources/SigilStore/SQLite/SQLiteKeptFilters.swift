import Foundation
import GRDB
import SigilCore

/// The value sets and prefix indexes kept across a restart. Built from a million value rows, a
/// structure costs its first request tens to hundreds of milliseconds; saved when the server
/// stops and read back when it starts, it costs a few.
///
/// What was saved is used only while it still describes the database: the save writes a marker
/// row, and triggers delete that marker in the same transaction as any later change to a value
/// row or an object (whatever process or code path writes), so a server that changed values and
/// then crashed, or a file changed by another program, starts without them and builds them again.
extension SQLiteStore {
    static let keptFiltersSchema = """
        CREATE TABLE kept_value_sets (
            kind TEXT NOT NULL,
            definition_seq INTEGER NOT NULL,
            term BLOB NOT NULL, -- ValueSets.Term.encoded
            bits BLOB NOT NULL, -- RowidBits.bytes
            PRIMARY KEY (kind, definition_seq, term)
        );
        CREATE TABLE kept_prefix_indexes (
            kind TEXT NOT NULL,
            definition TEXT NOT NULL, -- nameKey of the definition id
            value_list BLOB NOT NULL, -- SortedStrings.encoded
            PRIMARY KEY (kind, definition)
        );
        -- One row while the two tables above describe the database.
        CREATE TABLE kept_filters_current (id INTEGER PRIMARY KEY CHECK (id = 1));
        CREATE TRIGGER kept_filters_value_insert AFTER INSERT ON attribute_values BEGIN DELETE FROM kept_filters_current; END;
        CREATE TRIGGER kept_filters_value_update AFTER UPDATE ON attribute_values BEGIN DELETE FROM kept_filters_current; END;
        CREATE TRIGGER kept_filters_value_delete AFTER DELETE ON attribute_values BEGIN DELETE FROM kept_filters_current; END;
        CREATE TRIGGER kept_filters_object_insert AFTER INSERT ON directory_objects BEGIN DELETE FROM kept_filters_current; END;
        CREATE TRIGGER kept_filters_object_kind AFTER UPDATE OF kind ON directory_objects BEGIN DELETE FROM kept_filters_current; END;
        CREATE TRIGGER kept_filters_object_delete AFTER DELETE ON directory_objects BEGIN DELETE FROM kept_filters_current; END;
        """

    static func registerKeptFiltersMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v12-kept-filters") { db in
            try db.execute(sql: keptFiltersSchema)
        }
    }

    /// Saves the value sets and prefix indexes, inside a write transaction so that no write
    /// commits between them and the marker. Skipped while a batch's write is open (its changes
    /// are not applied yet); the next start then builds them again.
    public func keepFilterStructures() async throws {
        try await writer.write { db in
            guard self.pendingMemoryChanges.withLock({ $0?.isEmpty ?? true }) else { return }
            try db.execute(sql: "DELETE FROM kept_value_sets; DELETE FROM kept_prefix_indexes; DELETE FROM kept_filters_current")
            let set = try db.makeStatement(sql: "INSERT INTO kept_value_sets (kind, definition_seq, term, bits) VALUES (?, ?, ?, ?)")
            for (attribute, term, bits) in self.valueSets.all() {
                try set.execute(arguments: [attribute.kind, attribute.seq, Data(term.encoded), Data(bits.bytes)])
            }
            let index = try db.makeStatement(sql: "INSERT INTO kept_prefix_indexes (kind, definition, value_list) VALUES (?, ?, ?)")
            for (key, values) in self.prefixIndexes.all() {
                try index.execute(arguments: [key.kind, key.definition, Data(values.encoded)])
            }
            try db.execute(sql: "INSERT INTO kept_filters_current (id) VALUES (1)")
        }
    }

    /// Builds, when this start read no saved filter structures back (none were kept, as after a
    /// bulk load or a crash), what answers broad terms before a query asks for it: the set of
    /// every value that at least `ValueSets.minimumObjects` objects of a kind hold, most held
    /// first while the budget lasts, and the prefix index of every single-valued String attribute
    /// whose values the maintained counts cannot sum. Otherwise each such term's first query
    /// reads its value rows: hundreds of milliseconds at a million objects. Each structure is
    /// built in a write transaction of its own, so a write waits for one at most; one a query has
    /// built meanwhile is left as it is.
    public func prepareFilterStructures() async throws {
        guard !keptFiltersRead.withLock({ $0 }) else { return }
        let (broad, indexed) = try await writer.read { db in
            let broad = try Row.fetchAll(
                db,
                sql: """
                    SELECT kind, definition_seq, value_key FROM attribute_value_counts
                    WHERE objects >= ? ORDER BY objects DESC
                    """,
                arguments: [self.valueSets.minimumObjects]
            ).compactMap { row -> (DirectoryObjectKind, WantedSet)? in
                guard let kind = DirectoryObjectKind(rawValue: row[0]), let value = StoredValue.value(countKey: row[2]) else {
                    return nil
                }
                let match = AttributeMatch.equals(value)
                guard let term = ValueSets.Term(match) else { return nil }
                return (kind, WantedSet(match: match, attribute: ValueSets.Attribute(kind: kind.rawValue, seq: row[1]), term: term))
            }
            let strings = try Row.fetchAll(db, sql: StoredDefinition.select).map {
                StoredDefinition(seq: $0[0], set: $0[1], name: $0[2], type: $0[3], isCollection: $0[4])
            }.filter(\.isSingleValuedString)
            // The empty prefix spans every value: when the counts cannot sum it, some prefix wants the index.
            let indexed = try DirectoryObjectKind.allCases.flatMap { kind in
                try strings.filter { try self.prefixCountFromValueCounts(kind, $0.seq, "", db) == nil }.map { (kind, $0) }
            }
            return (broad, indexed)
        }
        for (kind, set) in broad {
            try Task.checkCancellation()
            try await keepValueSets([set], kind)
        }
        for (kind, definition) in indexed {
            try Task.checkCancellation()
            let key = PrefixIndexes.Key(kind: kind.rawValue, definition: nameKey(definition.id))
            try await writer.write { db in
                guard self.prefixIndexes.withIndex(key, { _ in () }) == nil else { return }
                try self.installPrefixIndex(key, kind, seq: definition.seq, db)
            }
        }
    }

    /// Reads back what `keepFilterStructures` saved, if nothing has changed since; before the
    /// store serves anything, so no write can come between.
    func loadKeptFilterStructures() throws {
        try pool.read { db in
            guard try Int.fetchOne(db, sql: "SELECT id FROM kept_filters_current") != nil else { return }
            keptFiltersRead.withLock { $0 = true }
            let sets = try Row.fetchCursor(db, sql: "SELECT kind, definition_seq, term, bits FROM kept_value_sets")
            while let row = try sets.next() {
                let term: Data = row[2]
                let bits: Data = row[3]
                guard let term = ValueSets.Term(encoded: Array(term)), let bits = RowidBits(bytes: bits) else { continue }
                valueSets.install(bits, for: ValueSets.Attribute(kind: row[0], seq: row[1]), term)
            }
            let indexes = try Row.fetchCursor(db, sql: "SELECT kind, definition, value_list FROM kept_prefix_indexes")
            while let row = try indexes.next() {
                let list: Data = row[2]
                guard let values = SortedStrings(encoded: list) else { continue }
                prefixIndexes.install(values, for: PrefixIndexes.Key(kind: row[0], definition: row[1]))
            }
        }
    }
}
