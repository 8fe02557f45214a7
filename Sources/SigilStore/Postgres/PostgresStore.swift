import Foundation
import Logging
import PostgresNIO
import SigilCore

/// The server store: PostgreSQL through a pooled `PostgresClient`. Everything an instance needs is
/// in the database (settings, keys, schema, roles), so several `sigil serve` processes on one
/// database behave as one; the caches an instance keeps are checked against version counters that
/// every change bumps in its own transaction.
public final class PostgresStore: DirectoryStore {
    let client: PostgresClient
    let location: PostgresLocation
    let logger: Logger
    private let runTask: Task<Void, Never>
    private let watchdogTask: Task<Void, Never>
    /// Wakes the audit sealer after an audited commit; bursts coalesce into one seal.
    let sealRequests: AsyncStream<Void>.Continuation
    private let sealerTask: Task<Void, Never>
    /// Operations still waiting for a pooled connection; the watchdog cancels those waiting
    /// longer than `leaseTimeout`. (A timer per operation would cost far more: a cancelled
    /// `Task.sleep` keeps its memory until its deadline.)
    let waitingLeases = WaitingLeases()
    let schemaCache = Locked<SchemaSnapshot?>(nil)
    /// Broad filter terms' rowid sets, brought to each reader's snapshot through the change log.
    let keptSets: LoggedValueSets
    /// The access rules with the `access-rules` version they were read at (`accessRules()`).
    let rulesCache = Locked<(version: Int64, rules: [AccessRule])?>(nil)
    /// The schema version as last read with the access version, which every authenticated
    /// request reads first: reads within `versionReuse` of it trust it instead of asking again.
    let schemaVersionSeen = Locked<(version: Int64, at: ContinuousClock.Instant)?>(nil)
    static let versionReuse: Duration = .milliseconds(250)
    /// How long a request waits for a pooled connection before it answers 503.
    let leaseTimeout: Duration

    /// Connects to the database at `url`, checks it answers, and applies pending migrations.
    /// `sealsPendingAudit` false leaves records other instances committed unsealed until this
    /// instance writes its own (for tests that need a pending record to stay pending).
    /// `keepsConnectionsOpen` false closes connections idle for 30 s (test suites; see below).
    /// Throws `PostgresStoreError.unreachable` (one line naming host and port) when it cannot.
    public convenience init(
        url: String, maximumConnections: Int = 20, connectTimeout: Duration = .seconds(10),
        leaseTimeout: Duration = .seconds(5), logger: Logger = PostgresStore.warningsOnly,
        sealsPendingAudit: Bool = true, keepsConnectionsOpen: Bool = true
    ) async throws {
        try await self.init(
            url: url, maximumConnections: maximumConnections, connectTimeout: connectTimeout, leaseTimeout: leaseTimeout,
            logger: logger, sealsPendingAudit: sealsPendingAudit, keepsConnectionsOpen: keepsConnectionsOpen,
            keptSets: LoggedValueSets())
    }

    /// `keptSets` chooses which filter terms' sets are kept (tests keep every one).
    init(
        url: String, maximumConnections: Int, connectTimeout: Duration, leaseTimeout: Duration, logger: Logger,
        sealsPendingAudit: Bool, keepsConnectionsOpen: Bool, keptSets: LoggedValueSets
    ) async throws {
        self.keptSets = keptSets
        location = try PostgresLocation(url: url)
        self.logger = logger
        self.leaseTimeout = leaseTimeout
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: location.tls)
        configuration.options.maximumConnections = max(2, location.poolSize ?? maximumConnections)
        configuration.options.connectTimeout = connectTimeout
        // Every connection stays open, with no keep-alive query: the pool starts an idle-timeout
        // timer and a keep-alive timer each time a connection goes back idle, and each timer task
        // lives its whole period (30 s) even when the connection is leased again at once. At 4,700
        // requests/s that was 3 KB more memory per request (`heaptrack`: 72,250 live timer tasks
        // after 8 s); without them the server's memory stays flat. A dead connection shows on its
        // next use, as it would between two keep-alive queries. Test suites, which open hundreds
        // of short-lived stores on one cluster, let idle connections close instead.
        configuration.options.keepAliveBehavior = nil
        if keepsConnectionsOpen {
            configuration.options.minimumConnections = configuration.options.maximumConnections
        } else {
            configuration.options.connectionIdleTimeout = .seconds(30)
        }
        if let schema = location.schema {
            configuration.options.additionalStartupParameters = [("search_path", PostgresMigrations.quoteIdentifier(schema))]
        }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runTask = Task { await client.run() }
        let (waiting, timeout) = (waitingLeases, leaseTimeout)
        let (requests, sealRequests) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.sealRequests = sealRequests
        watchdogTask = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                waiting.cancelOlder(than: timeout)
                // Also seals, twice a second, what another instance committed last.
                if sealsPendingAudit { sealRequests.yield() }
            }
        }
        let sealer = WeakStore()
        sealerTask = Task {
            for await _ in requests {
                guard let store = sealer.store else { return }
                do {
                    try await store.sealAudit()
                } catch {
                    store.logger.warning("could not seal audit records; retrying", metadata: ["error": "\(error)"])
                }
            }
        }
        do {
            // A direct connection, so an unreachable server fails in connectTimeout, not by waiting on the pool.
            let connection = try await PostgresConnection.connect(
                configuration: PostgresConnection.Configuration(
                    host: location.host, port: location.port, username: location.username, password: location.password,
                    database: location.database, tls: try location.connectionTLS()),
                id: 0, logger: logger)
            defer { Task { try? await connection.close() } }
            if let schema = location.schema {
                try await connection.query(
                    PostgresQuery(unsafeSQL: "SET search_path TO \(PostgresMigrations.quoteIdentifier(schema))"), logger: logger)
            }
            try await PostgresMigrations.migrate(connection, location, logger: logger)
        } catch {
            runTask.cancel()
            watchdogTask.cancel()
            throw PostgresStoreError.unreachable(location.host, location.port, Self.reason(error))
        }
        sealer.store = self
        // Records an instance committed but could not seal before it stopped.
        try await sealAudit()
        try await loadKeptValueSets()
    }

    deinit {
        runTask.cancel()
        watchdogTask.cancel()
        sealRequests.finish()
        sealerTask.cancel()
    }

    /// For stores opened without a logger (tools, tests): problems only.
    public static var warningsOnly: Logger {
        var logger = Logger(label: "sigil.postgres")
        logger.logLevel = .warning
        return logger
    }

    /// Closes the pool; requests after this fail.
    public func close() {
        sealRequests.finish()
        sealerTask.cancel()
        runTask.cancel()
        watchdogTask.cancel()
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            guard let underlying = error.underlying else {
                return error.code == .serverClosedConnection || error.code == .connectionError
                    ? "no answer (connection timed out or closed)" : error.code.description
            }
            let text = String(describing: underlying)
            for (needle, reason) in [
                ("Connection refused", "connection refused"), ("No route to host", "no route to host"),
                ("timed out", "connection timed out"), ("resolve", "host name not found"),
            ] where text.contains(needle) {
                return reason
            }
            return text
        }
        return String(describing: error)
    }

    // MARK: Connections and transactions

    /// Runs `body` on a pooled connection. Waits at most `leaseTimeout` for one; a database that
    /// is gone answers `GraphError.serviceNotAvailable` and the pool reconnects by itself.
    func withSession<T: Sendable>(_ body: @escaping @Sendable (Session) async throws -> T) async throws -> T {
        do {
            return try await lease(body)
        } catch {
            throw Self.translate(error)
        }
    }

    private func lease<T: Sendable>(_ body: @escaping @Sendable (Session) async throws -> T) async throws -> T {
        let logger = logger
        let waiting = waitingLeases
        let id = waiting.begin()
        defer { waiting.end(id) }
        let operation = Task {
            try await self.client.withConnection { connection in
                waiting.leased(id)
                return try await body(Session(connection: connection, logger: logger))
            }
        }
        waiting.attach(id) { operation.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await operation.value
            } onCancel: {
                operation.cancel()
            }
        } catch  where waiting.timedOut(id) {
            throw GraphError.serviceNotAvailable
        }
    }

    /// A read-write transaction (READ COMMITTED with row locks where a rule needs them), retried
    /// on deadlock or serialization failure; `body` must be safe to run again.
    func transaction<T: Sendable>(
        readOnly: Bool = false, _ body: @escaping @Sendable (Session) async throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await lease { session in
                    try await session.execute(
                        readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN ISOLATION LEVEL READ COMMITTED")
                    do {
                        let result = try await body(session)
                        try await session.execute("COMMIT")
                        return result
                    } catch {
                        try? await session.execute("ROLLBACK")
                        throw error
                    }
                }
            } catch let error as PSQLError where Self.isRetryable(error) && attempt < 8 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
            } catch {
                throw Self.translate(error)
            }
        }
    }

    static func sqlState(_ error: PSQLError) -> String? { error.serverInfo?[.sqlState] }

    static func isRetryable(_ error: PSQLError) -> Bool {
        error.code == .server && ["40001", "40P01"].contains(sqlState(error) ?? "")
    }

    /// Connection-level failures become 503 `serviceNotAvailable`; the rest pass through.
    static func translate(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        if error.code == .server {
            let state = sqlState(error) ?? ""
            // 08: connection exceptions; 57P0x: shutdown, crash, cannot connect now; 53300: too many connections.
            if state.hasPrefix("08") || state.hasPrefix("57P0") || state == "53300" { return GraphError.serviceNotAvailable }
            return error
        }
        let unavailable: [PSQLError.Code] = [
            .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown,
        ]
        return unavailable.contains(error.code) ? GraphError.serviceNotAvailable : error
    }

    /// One connection leased to one operation.
    struct Session: Sendable {
        let connection: PostgresConnection
        let logger: Logger

        func execute(_ query: PostgresQuery) async throws {
            _ = try await connection.query(query, logger: logger)
        }

        func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
            try await connection.query(query, logger: logger)
        }

        func select(_ statement: SQLFragment) async throws -> PostgresRowSequence {
            try await connection.query(statement.postgres, logger: logger)
        }

        /// A statement prepared once per pooled connection: the hot paths skip parsing and planning.
        func execute<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row] {
            var rows: [Statement.Row] = []
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }

        func scalar<T: PostgresDecodable>(_ query: PostgresQuery, _ type: T.Type) async throws -> T? {
            for try await value in try await connection.query(query, logger: logger).decode(T.self) { return value }
            return nil
        }
    }

    // MARK: Settings

    public func setting(_ key: String) async throws -> String? {
        try await withSession { s in
            try await s.scalar("SELECT value FROM settings WHERE key = \(key)", String.self)
        }
    }

    public func settingIfAbsent(_ key: String, _ value: String) async throws -> String {
        try await transaction { s in
            try await s.execute("INSERT INTO settings (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO NOTHING")
            return try await s.scalar("SELECT value FROM settings WHERE key = \(key)", String.self) ?? value
        }
    }

    public func updateSetting(_ key: String, _ change: @escaping @Sendable (String?) throws -> String) async throws -> String {
        try await transaction { s in
            // The empty insert makes the row exist, so FOR UPDATE always has a row to lock.
            try await s.execute("INSERT INTO settings (key, value) VALUES (\(key), '') ON CONFLICT (key) DO NOTHING")
            let current = try await s.scalar("SELECT value FROM settings WHERE key = \(key) FOR UPDATE", String.self)
            let value = try change(current?.isEmpty == false ? current : nil)
            try await s.execute("UPDATE settings SET value = \(value) WHERE key = \(key)")
            return value
        }
    }

    /// Holds a session advisory lock on one pooled connection while `body` runs on others.
    public func exclusively<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withSession { s in
            try await s.execute("SELECT pg_advisory_lock(\(self.location.lockKey("startup")))")
            do {
                let result = try await body()
                try await s.execute("SELECT pg_advisory_unlock(\(self.location.lockKey("startup")))")
                return result
            } catch {
                try? await s.execute("SELECT pg_advisory_unlock(\(self.location.lockKey("startup")))")
                throw error
            }
        }
    }

    /// Refreshes the planner's statistics and the visibility map after a bulk load.
    public func vacuumAnalyze() async throws {
        try await withSession { s in try await s.execute("VACUUM ANALYZE") }
    }

    // MARK: Cache versions

    /// Bumped in the same transaction as any change to roles or to principals, so an instance
    /// can tell that a cached caller is stale.
    public func accessVersion() async throws -> Int64 {
        let now = ContinuousClock.now
        let versions = try await withSession { s in
            Dictionary(try await s.execute(StoreVersions()), uniquingKeysWith: { $1 })
        }
        if let schema = versions["schema"] { schemaVersionSeen.withLock { $0 = (schema, now) } }
        return versions["access"] ?? 0
    }

    static func bump(_ name: String, _ s: Session) async throws {
        try await s.execute("UPDATE store_versions SET version = version + 1 WHERE name = \(name)")
    }
}

/// Why the PostgreSQL store could not start.
public enum PostgresStoreError: Error, CustomStringConvertible {
    case invalidURL(String)
    case unreachable(String, Int, String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .invalidURL(let reason): "invalid --database-url: \(reason)"
        case .unreachable(let host, let port, let reason): "cannot use PostgreSQL at \(host):\(port): \(reason)"
        case .corrupt(let reason): "corrupt database: \(reason)"
        }
    }
}

/// Both cache version counters (the access check on every request).
struct StoreVersions: PostgresPreparedStatement {
    static let sql = "SELECT name, version FROM store_versions"
    typealias Row = (String, Int64)
    func makeBindings() throws -> PostgresBindings { PostgresBindings() }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// Operations waiting for a pooled connection, with how to cancel each.
final class WaitingLeases: Sendable {
    private struct Entry {
        let started: ContinuousClock.Instant
        var cancel: (@Sendable () -> Void)?
        var leased = false
        var timedOut = false
    }
    private let entries = Locked<(next: UInt64, byId: [UInt64: Entry])>((0, [:]))

    func begin() -> UInt64 {
        entries.withLock { state in
            state.next += 1
            state.byId[state.next] = Entry(started: .now)
            return state.next
        }
    }

    /// Registers the cancellation; an entry already past its time is cancelled at once.
    func attach(_ id: UInt64, _ cancel: @escaping @Sendable () -> Void) {
        let cancelNow = entries.withLock { state -> Bool in
            state.byId[id]?.cancel = cancel
            return state.byId[id]?.timedOut == true
        }
        if cancelNow { cancel() }
    }

    func leased(_ id: UInt64) { entries.withLock { $0.byId[id]?.leased = true } }

    func timedOut(_ id: UInt64) -> Bool { entries.withLock { $0.byId[id]?.timedOut == true } }

    func end(_ id: UInt64) { _ = entries.withLock { $0.byId.removeValue(forKey: id) } }

    func cancelOlder(than timeout: Duration) {
        let deadline = ContinuousClock.now - timeout
        let overdue = entries.withLock { state -> [@Sendable () -> Void] in
            var cancels: [@Sendable () -> Void] = []
            for (id, entry) in state.byId where !entry.leased && !entry.timedOut && entry.started < deadline {
                state.byId[id]?.timedOut = true
                if let cancel = entry.cancel { cancels.append(cancel) }
            }
            return cancels
        }
        for cancel in overdue { cancel() }
    }
}
