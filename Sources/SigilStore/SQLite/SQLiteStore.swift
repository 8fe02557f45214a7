import Foundation
import GRDB
import SigilCore

/// The embedded store: one SQLite file in WAL mode (readers never wait for the writer), through
/// GRDB. `synchronous=NORMAL` with WAL keeps every committed transaction across a process crash.
public final class SQLiteStore: DirectoryStore {
    let writer: any DatabaseWriter
    let prefixIndexes = PrefixIndexes()
    let valueSets: ValueSets
    /// Whether prefix indexes and value sets are built after the query that wanted them
    /// answers (a database file) or before (an in-memory store, for tests).
    let buildsInBackground: Bool
    /// The schema is read on most requests and changes rarely: cached, with a version so a read
    /// that raced a change never installs a stale copy.
    let schemaCache = Locked<(version: Int, schema: Schema?)>((0, nil))
    /// One process owns the file, so the access version can live in memory; it is bumped after
    /// the change commits, and a cache compares it before resolving a caller.
    let accessCounter = Locked<Int64>(0)

    public func accessVersion() async throws -> Int64 { accessCounter.withLock { $0 } }

    func bumpAccessVersion() { accessCounter.withLock { $0 += 1 } }

    /// Opens (creating when needed) the database file at `path` and migrates it.
    public init(path: String) throws {
        valueSets = ValueSets()
        buildsInBackground = true
        Self.createPrivately(path)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        writer = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(writer)
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

    init(valueSets: ValueSets) throws {
        self.valueSets = valueSets
        buildsInBackground = false
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        writer = try DatabaseQueue(configuration: configuration)
        try Self.migrator.migrate(writer)
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
