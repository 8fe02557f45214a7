import Foundation
import GRDB
import SigilCore
import Testing

@testable import SigilStore

/// SQLite's group commit: writes that wait for the writer share a transaction, a savepoint each.
/// Whatever the grouping, a write answered as done is in the database and a write answered with
/// an error left nothing behind; a group that cannot commit fails every write in it.
@Suite struct GroupCommitTests {
    struct Refused: Error {}

    /// A store on a file, with a table the tests write to; its deferred foreign key lets a write
    /// pass its own savepoint and still make the commit fail.
    static func store(_ directory: TemporaryDirectory) async throws -> SQLiteStore {
        let store = try SQLiteStore(path: directory.databasePath)
        try await store.writer.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE probe_parent (id INTEGER PRIMARY KEY);
                    CREATE TABLE probe (
                        id INTEGER PRIMARY KEY,
                        parent INTEGER REFERENCES probe_parent(id) DEFERRABLE INITIALLY DEFERRED)
                    """)
        }
        return store
    }

    /// Sends writes `1...count` while the writer is held, so that they queue up as one group;
    /// the ids of those answered as done. A write answers false for the error it expects.
    static func queuedWrites(
        _ store: SQLiteStore, _ count: Int, _ write: @escaping @Sendable (Int) async throws -> Bool
    ) async throws -> Set<Int> {
        let holder = Task { try await store.writer.write { _ in Thread.sleep(forTimeInterval: 0.2) } }
        try await Task.sleep(for: .milliseconds(50))
        let writes = (1...count).map { id in Task { try await write(id) } }
        var answered: Set<Int> = []
        for (index, write) in writes.enumerated() where try await write.value { answered.insert(index + 1) }
        try await holder.value
        return answered
    }

    /// The probe ids in the database, read through a connection of its own.
    static func written(_ directory: TemporaryDirectory) throws -> Set<Int> {
        let reader = try DatabaseQueue(path: directory.databasePath)
        return Set(try reader.read { db in try Int.fetchAll(db, sql: "SELECT id FROM probe") })
    }

    static func insert(_ id: Int, parent: Int? = nil) -> @Sendable (Database) throws -> Void {
        { db in try db.execute(sql: "INSERT INTO probe (id, parent) VALUES (?, ?)", arguments: [id, parent]) }
    }

    @Test func eachWriteOfAGroupSucceedsOrFailsAlone() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await Self.store(directory)
        // Every third write inserts its row and then throws: its savepoint is rolled back.
        let answered = try await Self.queuedWrites(store, 30) { id in
            do {
                try await store.writer.write { db in
                    try Self.insert(id)(db)
                    if id % 3 == 0 { throw Refused() }
                }
                return true
            } catch is Refused {
                return false
            }
        }
        #expect(answered == Set((1...30).filter { $0 % 3 != 0 }))
        #expect(try Self.written(directory) == answered)
    }

    @Test func aGroupThatCannotCommitFailsEveryWriteInIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await Self.store(directory)
        // Write 5 names a parent that does not exist: its savepoint is released, the commit fails.
        let answered = try await Self.queuedWrites(store, 10) { id in
            do {
                try await store.writer.write(Self.insert(id, parent: id == 5 ? 99 : nil))
                return true
            } catch let error as DatabaseError {
                #expect(error.resultCode == .SQLITE_CONSTRAINT)
                return false
            }
        }
        // All ten waited for the held writer, so they were one group and share its fate.
        #expect(answered.isEmpty)
        #expect(try Self.written(directory).isEmpty)
        // The writer goes on: the next write commits.
        try await store.writer.write(Self.insert(11))
        #expect(try Self.written(directory) == [11])
    }

    /// A write alone in its transaction runs without a savepoint (under one, SQLite's statement
    /// journal made a write of thousands of objects quadratic); its failure, in its body or at
    /// the commit, still leaves nothing behind, and the writer goes on.
    @Test func aWriteAloneNeedsNoSavepointAndStillFailsWhole() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await Self.store(directory)
        try await store.writer.write { db in
            #expect(throws: DatabaseError.self) { try db.execute(sql: "RELEASE shared_write") }
            try Self.insert(1)(db)
        }
        await #expect(throws: Refused.self) {
            try await store.writer.write { db in
                try Self.insert(2)(db)
                throw Refused()
            }
        }
        await #expect(throws: DatabaseError.self) { try await store.writer.write(Self.insert(3, parent: 99)) }
        try await store.writer.write(Self.insert(4))
        #expect(try Self.written(directory) == [1, 4])
    }

    /// A read that throws ends its transaction: every reader connection serves the reads after it.
    @Test func aFailedReadLeavesItsConnectionUsable() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await Self.store(directory)
        try await store.writer.write(Self.insert(1))
        for _ in 0..<8 {
            await #expect(throws: Refused.self) {
                try await store.writer.read { db in
                    _ = try Int.fetchAll(db, sql: "SELECT id FROM probe")
                    throw Refused()
                }
            }
            await #expect(throws: Refused.self) {
                try await store.writer.shortRead { db in
                    _ = try Int.fetchAll(db, sql: "SELECT id FROM probe")
                    throw Refused()
                }
            }
        }
        for _ in 0..<8 {
            #expect(try await store.writer.read { db in try Int.fetchAll(db, sql: "SELECT id FROM probe") } == [1])
            #expect(try await store.writer.shortRead { db in try Int.fetchAll(db, sql: "SELECT id FROM probe") } == [1])
        }
    }

    /// The log's pages reach the database file without a writer copying them: the writer's own
    /// checkpoint waits for `WALCheckpointer.backstopPages`, far more than these writes make.
    @Test func theLogIsCheckpointedOffTheWritersPath() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try await Self.store(directory)
        let fileSize = { () throws -> Int in
            try FileManager.default.attributesOfItem(atPath: directory.databasePath)[.size] as? Int ?? 0
        }
        try await Task.sleep(for: .milliseconds(200))
        let before = try fileSize()
        // About 200 pages of rows, well under the backstop.
        for start in stride(from: 1, to: 4_001, by: 400) {
            try await store.writer.write { db in
                for id in start..<start + 400 {
                    try db.execute(
                        sql: "INSERT INTO probe (id) VALUES (?)", arguments: [id])
                    try db.execute(
                        sql: "INSERT INTO settings (key, value) VALUES (?, ?)",
                        arguments: ["probe-\(id)", String(repeating: "x", count: 160)])
                }
            }
        }
        var after = try fileSize()
        for _ in 0..<200 where after <= before {
            try await Task.sleep(for: .milliseconds(10))
            after = try fileSize()
        }
        #expect(after > before + 100 * 4_096, "the database file grew from \(before) to \(after) bytes")
    }
}
