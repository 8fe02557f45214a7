import Foundation
import GRDB
import SigilCore
import Testing

@testable import SigilStore

/// The value sets and prefix indexes a SQLite store saves when the server stops come back at the
/// next start, and only while no value or object has changed since. Its stores count every prefix
/// from a prefix index (`prefixCountRows: 0`), which the maintained counts would otherwise answer
/// for so few values.
@Suite struct KeptFiltersTests {
    static let employeeId = QueryPropertyTests.definitions[0]
    static let holders = 1_100
    static let gs = ObjectPredicate.attribute(employeeId, .startsWith("GS"))
    static let prefixKey = PrefixIndexes.Key(kind: DirectoryObjectKind.user.rawValue, definition: nameKey(employeeId.id))

    static func user(_ index: Int) -> DirectoryObject {
        DirectoryObject(
            kind: .user, id: UUID().uuidString.lowercased(),
            properties: JSONObject([("displayName", .string("User\(index)")), ("userPrincipalName", .string("u\(index)@x.test"))]))
    }

    /// A kept `startsWith GS` set (the term of a combination, held by more than 1,024 users).
    static func gsSet(_ store: SQLiteStore) async throws -> (ValueSets.Attribute, ValueSets.Term) {
        let seq = try await store.writer.read { db in try SQLiteStore.definitionSeq(employeeId, db) }
        return (ValueSets.Attribute(kind: DirectoryObjectKind.user.rawValue, seq: seq), .prefix(Array("GS".utf8)))
    }

    static func waitUntil(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<500 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("a background build did not finish in 5 s")
    }

    /// Waits until every connection to the file has closed (the last one to close removes the
    /// write-ahead log). A store lives on while work it started in the background finishes, and
    /// a connection that closes as the file's last one locks it for its final checkpoint: the
    /// next store opened on the file meanwhile could find it locked.
    static func waitUntilClosed(_ path: String) async throws {
        try await waitUntil { !FileManager.default.fileExists(atPath: path + "-wal") }
    }

    /// Opens the store on `path` again once the last connection has let go: that connection
    /// removes the write-ahead log before it releases its lock, so under load (the clean-clone
    /// run of the PostgreSQL pass) an opener could still meet the lock.
    static func reopen(_ path: String) async throws -> SQLiteStore {
        try await waitUntilClosed(path)
        for _ in 0..<100 {
            do {
                return try SQLiteStore(path: path, prefixCountRows: 0)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        return try SQLiteStore(path: path, prefixCountRows: 0)
    }

    static func counts(_ store: SQLiteStore) async throws -> [Int?] {
        let combined = ObjectPredicate.and(gs, .not(.attribute(employeeId, .equals(.string("GS1")))))
        var counts: [Int?] = []
        for predicate in [gs, combined] {
            counts.append(try await store.query(.user, matching: predicate, after: nil, limit: 5, count: true).count)
        }
        return counts
    }

    @Test func savedStructuresReturnAtTheNextStartUntilSomethingChanges() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.databasePath
        var ids: [String] = []
        do {
            let store = try SQLiteStore(path: path, prefixCountRows: 0)
            try await store.changeSchema { _ in
                [.createSet(AttributeSet(id: "Marketing")), .createDefinition(Self.employeeId, allowedValues: [])]
            }
            for index in 0..<Self.holders {
                let object = Self.user(index)
                ids.append(object.id)
                try await store.create(object, passwordHash: nil) { _ in
                    AttributeAssignments([AssignedAttribute(definitionId: "Marketing_EmployeeId", values: [.string("GS\(index)")])])
                }
            }
            // Built after the answers, in the background: the prefix index first, then the set.
            let (attribute, term) = try await Self.gsSet(store)
            try await Self.waitUntil { () async throws -> Bool in
                #expect(try await Self.counts(store) == [Self.holders, Self.holders - 1])
                return store.valueSets.contains(attribute, term) && store.prefixIndexes.withIndex(Self.prefixKey, { _ in () }) != nil
            }
            // A refused write (its change throws inside the transaction) leaves them alone: its
            // changes are held until its savepoint is released, which it never is.
            await #expect(throws: GraphError.self) {
                try await store.modify(.user, id: ids[0], passwordHash: nil) { _, _ in throw GraphError.badRequest("refused") }
            }
            #expect(store.valueSets.contains(attribute, term))
            #expect(store.prefixIndexes.withIndex(Self.prefixKey, { $0.count(prefix: "GS") }) == Self.holders)
            try await store.keepFilterStructures()
        }
        let (attribute, term) = try await Self.gsSet(try await Self.reopen(path))
        do {
            let store = try await Self.reopen(path)
            // There before any query, and answering as before; nothing left to prepare.
            #expect(store.keptFiltersRead.withLock { $0 })
            #expect(store.valueSets.contains(attribute, term))
            #expect(store.valueSets.bits(attribute, term, upTo: Int64(Self.holders + 10))?.count == Self.holders)
            #expect(store.prefixIndexes.withIndex(Self.prefixKey, { $0.count(prefix: "GS") }) == Self.holders)
            #expect(try await Self.counts(store) == [Self.holders, Self.holders - 1])
            // A change, then a stop without saving (a crash).
            try await store.modify(.user, id: ids[0], passwordHash: nil) { state, _ in
                ObjectState(
                    object: state.object,
                    attributes: AttributeAssignments([AssignedAttribute(definitionId: "Marketing_EmployeeId", values: [.string("KX")])]))
            }
            #expect(try await Self.counts(store) == [Self.holders - 1, Self.holders - 2])
        }
        do {
            let store = try await Self.reopen(path)
            // What was saved no longer describes the database: built again from the rows.
            #expect(!store.keptFiltersRead.withLock { $0 })
            #expect(!store.valueSets.contains(attribute, term))
            #expect(store.prefixIndexes.withIndex(Self.prefixKey, { _ in () }) == nil)
            #expect(try await Self.counts(store) == [Self.holders - 1, Self.holders - 2])
            try await store.keepFilterStructures()
        }
        try await Self.waitUntilClosed(path)

        // Another program's write to the file also makes the saved structures stale.
        let other = try DatabaseQueue(path: path)
        #expect(try await other.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM kept_filters_current") } == 1)
        try await other.write { db in
            try db.execute(sql: "DELETE FROM attribute_values WHERE object_rowid = (SELECT min(object_rowid) FROM attribute_values)")
        }
        #expect(try await other.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM kept_filters_current") } == 0)
    }

    /// A store that starts with nothing kept (after a bulk load, after a crash) builds the set
    /// of every value held by at least `minimumObjects` objects, and the prefix index of a
    /// single-valued String attribute with more distinct values than the counts sum, before any
    /// query asks; the filters then count from them.
    @Test func structuresNotKeptAreBuiltBeforeAnyQuery() async throws {
        let (employeeId, country, certification) =
            (Self.employeeId, QueryPropertyTests.definitions[1], QueryPropertyTests.definitions[4])
        let store = try SQLiteStore(valueSets: ValueSets(minimumObjects: 3), prefixCountRows: 2)
        try await store.changeSchema { _ in
            [.createSet(AttributeSet(id: "Marketing")), .createSet(AttributeSet(id: "Engineering"))]
                + [employeeId, country, certification].map { .createDefinition($0, allowedValues: []) }
        }
        // Six users: Canada held by all, Chile by two of them; Certification true by three, false by three.
        for index in 0..<6 {
            try await store.create(Self.user(index), passwordHash: nil) { _ in
                AttributeAssignments([
                    AssignedAttribute(definitionId: employeeId.id, values: [.string("GS\(index)")]),
                    AssignedAttribute(
                        definitionId: country.id, values: index < 2 ? [.string("Canada"), .string("Chile")] : [.string("Canada")]),
                    AssignedAttribute(definitionId: certification.id, values: [.boolean(index % 2 == 0)]),
                ])
            }
        }
        #expect(store.valueSets.isEmpty)
        try await store.prepareFilterStructures()
        let seqs = try await store.writer.read { db in
            try [employeeId, country, certification].map { try SQLiteStore.definitionSeq($0, db) }
        }
        let user = DirectoryObjectKind.user.rawValue
        func kept(_ seq: Int64, _ value: AttributeValue) -> Int? {
            let term = ValueSets.Term(.equals(value))
            return term.flatMap { store.valueSets.bits(ValueSets.Attribute(kind: user, seq: seq), $0, upTo: 100)?.count }
        }
        #expect(kept(seqs[1], .string("Canada")) == 6)
        #expect(kept(seqs[1], .string("Chile")) == nil)
        #expect(kept(seqs[2], .boolean(true)) == 3)
        #expect(kept(seqs[2], .boolean(false)) == 3)
        #expect(kept(seqs[0], .string("GS0")) == nil)
        let prefixKey = PrefixIndexes.Key(kind: user, definition: nameKey(employeeId.id))
        #expect(store.prefixIndexes.withIndex(prefixKey, { $0.count(prefix: "GS") }) == 6)

        // Kept in step with a later write, and counting exactly.
        let certified = ObjectPredicate.and(.attribute(country, .equals(.string("Canada"))), .attribute(certification, .equals(.boolean(true))))
        #expect(try await store.query(.user, matching: certified, after: nil, limit: 5, count: true).count == 3)
        try await store.create(Self.user(6), passwordHash: nil) { _ in
            AttributeAssignments([
                AssignedAttribute(definitionId: country.id, values: [.string("Canada")]),
                AssignedAttribute(definitionId: certification.id, values: [.boolean(true)]),
            ])
        }
        #expect(kept(seqs[2], .boolean(true)) == 4)
        #expect(try await store.query(.user, matching: certified, after: nil, limit: 5, count: true).count == 4)
    }

    @Test func setsAndValueListsReadBackAsWritten() throws {
        var bits = RowidBits(maxRowid: 700)
        for rowid: Int64 in [0, 1, 63, 64, 65, 511, 700] { bits.insert(rowid) }
        let read = try #require(RowidBits(bytes: bits.bytes))
        #expect(read.words == bits.words)
        #expect(RowidBits(bytes: Array(bits.bytes.dropLast())) == nil)

        let values = ["", "GS1", "GS10", "e\u{301}", "é", "日本", String(repeating: "x", count: 1_000)]
        let sorted = values.sorted(by: SortedStrings.precedes)
        let list = SortedStrings(sorted: sorted)
        let back = try #require(SortedStrings(encoded: list.encoded))
        #expect(back.chunks.flatMap { $0 } == sorted)
        #expect(back.count(prefix: "GS1") == 2)
        #expect(SortedStrings(encoded: Array(list.encoded.dropLast())) == nil)

        // Over a megabyte, the list is read in parts side by side; it comes back whole, in order.
        let many = (0..<120_000).map { String(format: "GS%06d", $0) }
        let large = SortedStrings(sorted: many)
        let encoded = large.encoded
        #expect(encoded.count > 1 << 20)
        let whole = try #require(SortedStrings(encoded: encoded))
        #expect(whole.count == many.count)
        // Compared as one Bool: a failure would otherwise print both lists.
        let inOrder = whole.chunks.flatMap { $0 } == many
        #expect(inOrder)
        #expect(whole.count(prefix: "GS0599") == 100)
        #expect(SortedStrings(encoded: Array(encoded.dropLast())) == nil)

        for term in [ValueSets.Term.equals(Array("s:Chile".utf8)), .prefix(Array("GS".utf8)), .prefix([])] {
            #expect(ValueSets.Term(encoded: term.encoded) == term)
        }
    }
}
