import Foundation
import GRDB
import SigilCore

/// The embedded store: one SQLite file in WAL mode (readers never wait for the writer), through
/// GRDB. `synchronous=NORMAL` with WAL keeps every committed transaction across a process crash.
public final class SQLiteStore: DirectoryStore {
    /// GRDB's connections; reached through `writer`, which knows about batches.
    let pool: any DatabaseWriter
    var writer: SQLiteAccess { SQLiteAccess(store: self) }
    /// Ordinary writes and batches' open transactions take turns on the writer connection;
    /// a batch's transaction left idle this long while others wait is committed for them.
    let gate = WriterGate(idle: .milliseconds(5))
    /// A queue (the in-memory store) reads on the writer's connection too.
    var readsOnWriter: Bool { pool is DatabaseQueue }
    /// Connections for short reads on the calling thread (a database file only).
    let shortReaders: ShortReaders?
    /// Ordinary writes that wait for the writer commit together (`GroupCommit`).
    let groupCommit = GroupCommit()
    /// Checkpoints the write-ahead log off the writer's path (a database file only).
    let checkpointer: WALCheckpointer?
    /// A write's changes to `valueSets` and `prefixIndexes` while its savepoint (in a group's or a
    /// batch's transaction) is open; applied when it is released (nil otherwise: changes apply at once).
    let pendingMemoryChanges = Locked<PendingMemoryChanges?>(nil)
    /// While a batch holds a transaction: the schema as that transaction sees it, once read
    /// (`writeSchema`). Only the writer connection touches it.
    let heldSchema = Locked<(holding: Bool, schema: Schema?)>((false, nil))
    /// The committed schema as the writer connection last read it, outside batches
    /// (`writeSchema`). Only the writer connection touches it.
    let writerSchema = Locked<Schema?>(nil)
    /// Attribute definitions by number as committed, for decoding value rows without reading the
    /// definitions each time. A definition's number, name, set, type and collection flag never
    /// change once committed and definitions are never removed, so an entry stays true; it is
    /// filled only from read-only connections, which see committed data (a number taken by a
    /// transaction that rolls back can be taken again).
    let committedDefinitions = Locked(KeptDefinitions())
    let prefixIndexes = PrefixIndexes()
    let valueSets: ValueSets
    /// Whether this start read saved filter structures back (`loadKeptFilterStructures`); if
    /// not, `prepareFilterStructures` builds them.
    let keptFiltersRead = Locked(false)
    /// Whether prefix indexes and value sets are built in the background once the query that
    /// wanted them has answered (a database file), or before it returns (an in-memory store, for
    /// tests).
    let buildsInBackground: Bool
    /// `StoredValue.prefixCountRows`, lower in tests; a prefix spanning more distinct values is
    /// counted from a prefix index.
    let prefixCountRows: Int
    /// The schema is read on most requests and changes rarely.
    let schemaCache = VersionedCache<Schema>()
    /// Every access decision reads all the access rules (`accessRules()`).
    let rulesCache = VersionedCache<[AccessRule]>()
    /// One process owns the file, so the access version can live in memory; it is bumped after
    /// the change commits, and a cache compares it before resolving a caller.
    let accessCounter = Locked<Int64>(0)

    public func accessVersion() async throws -> Int64 { accessCounter.withLock { $0 } }

    /// Inside a batch, bumped again once the batch's transaction has ended, so no caller is
    /// cached from the state before the change.
    func bumpAccessVersion() {
        accessCounter.withLock { $0 += 1 }
        activeScope?.accessChanged()
    }

    deinit {
        checkpointer?.stop()
    }

    /// A write transaction committed (its log pages are checkpointed soon after).
    func committed() {
        checkpointer?.committed()
    }

    /// After a transaction that did not commit: the in-memory structures may hold its changes,
    /// and the writer's schema may be the one it saw. They are dropped and read again.
    func forgetUncommittedState() {
        prefixIndexes.dropAll()
        valueSets.dropAll()
        writerSchema.withLock { $0 = nil }
    }

    /// Opens (creating when needed) the database file at `path` and migrates it.
    public convenience init(path: String) throws {
        try self.init(path: path, prefixCountRows: StoredValue.prefixCountRows)
    }

    /// `prefixCountRows` lets a test reach the prefix index with few values.
    init(path: String, prefixCountRows: Int) throws {
        valueSets = ValueSets()
        buildsInBackground = true
        self.prefixCountRows = prefixCountRows
        Self.createPrivately(path)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        // A batch keeps its transaction open between accesses (`SQLiteWriteScope`).
        configuration.allowsUnsafeTransactions = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            if !db.configuration.readonly {
                // The writer's savepoints (a batch's writes) journal in memory, not in temporary files.
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(WALCheckpointer.backstopPages)")
            }
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        checkpointer = try WALCheckpointer(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
        shortReaders = try ShortReaders(path: path, count: max(2, ProcessInfo.processInfo.activeProcessorCount))
        try loadKeptFilterStructures()
    }

    /// Creates a missing database file readable by its owner only, whatever the umask. SQLite gives
    /// the -wal and -shm files the main file's mode, so they are private too.
    static func createPrivately(_ path: String) {
        guard !path.hasPrefix(":"), !path.hasPrefix("file:"), !FileManager.default.fileExists(atPath: path) else { return }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        // A failure (a race with another creator, a missing directory) is left to SQLite to report.
        if descriptor >= 0 { close(descriptor) }
    }

    /// A private in-memory database, for tests; `valueSets` lets a test keep every term's set.
    public convenience init() throws {
        try self.init(valueSets: ValueSets())
    }

    init(valueSets: ValueSets, prefixCountRows: Int = StoredValue.prefixCountRows) throws {
        self.valueSets = valueSets
        buildsInBackground = false
        self.prefixCountRows = prefixCountRows
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.allowsUnsafeTransactions = true
        pool = try DatabaseQueue(configuration: configuration)
        try Self.migrator.migrate(pool)
        shortReaders = nil
        checkpointer = nil
    }

    // MARK: Settings

    public func setting(_ key: String) async throws -> String? {
        try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key])
        }
    }

    public func settingIfAbsent(_ key: String, _ value: String) async throws -> String {
        try await writer.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", arguments: [key, value])
            return try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key]) ?? value
        }
    }

    public func updateSetting(_ key: String, _ change: @escaping @Sendable (String?) throws -> String) async throws -> String {
        try await writer.write { db in
            let current = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key])
            let value = try change(current)
            try db.execute(sql: "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", arguments: [key, value])
            return value
        }
    }
}

/// Committed attribute definitions by number (for decoding value rows) and by key (`nameKey` of
/// the id, for writes), set together from one read.
struct KeptDefinitions: Sendable {
    var bySeq: [Int64: StoredDefinition] = [:]
    var byKey: [String: StoredDefinition] = [:]

    init(_ definitions: [Int64: StoredDefinition] = [:]) {
        bySeq = definitions
        byKey = Dictionary(definitions.values.map { (nameKey($0.id), $0) }) { first, _ in first }
    }
}
