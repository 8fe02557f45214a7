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
    /// The schema version as last read with the access version, which every authenticated
    /// request reads first: reads within `versionReuse` of it trust it instead of asking again.
    let schemaVersionSeen = Locked<(version: Int64, at: ContinuousClock.Instant)?>(nil)
    static let versionReuse: Duration = .milliseconds(250)
    /// How long a request waits for a pooled connection before it answers 503.
    let leaseTimeout: Duration

    /// Connects to the database at `url`, checks it answers, and applies pending migrations.
    /// `sealsPendingAudit` false leaves records other instances committed unsealed until this
    /// instance writes its own (for tests that need a pending record to stay pending).
    /// Throws `PostgresStoreError.unreachable` (one line naming host and port) when it cannot.
    public init(
        url: String, maximumConnections: Int = 20, connectTimeout: Duration = .seconds(10),
        leaseTimeout: Duration = .seconds(5), logger: Logger = PostgresStore.warningsOnly,
        sealsPendingAudit: Bool = true
    ) async throws {
        location = try PostgresLocation(url: url)
        self.logger = logger
        self.leaseTimeout = leaseTimeout
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: location.tls)
        configuration.options.maximumConnections = max(2, location.poolSize ?? maximumConnections)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.connectionIdleTimeout = .seconds(30)
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

        func query(_ statement: SQLStatement) async throws -> PostgresRowSequence {
            try await connection.query(statement.query, logger: logger)
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

    // MARK: Schema

    /// The schema with the row numbers that key its values, as of one version.
    struct SchemaSnapshot: Sendable {
        let version: Int64
        let schema: Schema
        let definitionsBySeq: [Int64: (id: String, type: AttributeType, isCollection: Bool)]
        let seqByKey: [String: Int64]

        func seq(_ definitionId: String) -> Int64? { seqByKey[nameKey(definitionId)] }
    }

    /// The schema an operation decides against: the cached copy when the database's schema
    /// version still matches it, else read afresh (on the same session, so inside its transaction).
    /// A read (`fresh: false`) trusts the version the request read with its access version, so a
    /// schema change through another instance reaches reads within `versionReuse`; writes and
    /// this instance's own changes are never stale.
    func snapshot(_ s: Session, fresh: Bool = true) async throws -> SchemaSnapshot {
        if !fresh, let trusted = trustedSnapshot() { return trusted }
        let version = try await s.scalar("SELECT version FROM store_versions WHERE name = 'schema'", Int64.self) ?? 0
        if let cached = schemaCache.withLock({ $0 }), cached.version == version { return cached }
        let fresh = try await Self.loadSnapshot(s, version: version)
        schemaCache.withLock { current in
            if (current?.version ?? -1) < version { current = fresh }
        }
        return fresh
    }

    /// The cached schema when the version read with the last access check still names it.
    func trustedSnapshot() -> SchemaSnapshot? {
        guard let seen = schemaVersionSeen.withLock({ $0 }), ContinuousClock.now - seen.at < Self.versionReuse,
            let cached = schemaCache.withLock({ $0 }), cached.version == seen.version
        else { return nil }
        return cached
    }

    static func loadSnapshot(_ s: Session, version: Int64) async throws -> SchemaSnapshot {
        var sets: [AttributeSet] = []
        for try await (id, description, max) in try await s.query(
            "SELECT id, description, max_attributes FROM attribute_sets ORDER BY seq"
        ).decode((String, String?, Int?).self) {
            sets.append(AttributeSet(id: id, description: description, maxAttributesPerSet: max.map { Int32(truncatingIfNeeded: $0) }))
        }
        var definitions: [AttributeDefinition] = []
        var bySeq: [Int64: (id: String, type: AttributeType, isCollection: Bool)] = [:]
        var seqByKey: [String: Int64] = [:]
        for try await (seq, set, name, description, type, collection, searchable, status, predefined) in try await s.query(
            """
            SELECT seq, attribute_set, name, description, type, is_collection, is_searchable, status, predefined_only
            FROM attribute_definitions ORDER BY seq
            """
        ).decode((Int64, String, String, String?, String, Bool, Bool, String, Bool).self) {
            let definition = AttributeDefinition(
                attributeSet: set, name: name, description: description, type: AttributeType(rawValue: type) ?? .string,
                isCollection: collection, isSearchable: searchable, status: DefinitionStatus(rawValue: status) ?? .available,
                usePreDefinedValuesOnly: predefined)
            definitions.append(definition)
            bySeq[seq] = (definition.id, definition.type, collection)
            seqByKey[nameKey(definition.id)] = seq
        }
        var allowed: [String: [AllowedValue]] = [:]
        for try await (key, id, active) in try await s.query(
            "SELECT definition_key, id, is_active FROM allowed_values ORDER BY seq"
        ).decode((String, String, Bool).self) {
            allowed[key, default: []].append(AllowedValue(id: id, isActive: active))
        }
        return SchemaSnapshot(
            version: version, schema: Schema(sets: sets, definitions: definitions, allowedValues: allowed),
            definitionsBySeq: bySeq, seqByKey: seqByKey)
    }

    /// Serialises schema changes against each other (exclusive) and against value writes (shared),
    /// so a limit or a deactivation is decided on a schema no one is changing.
    var schemaLockKey: Int64 { location.lockKey("schema") }

    public func schema() async throws -> Schema {
        // Most requests read the schema right after their access check: no connection needed.
        if let trusted = trustedSnapshot() { return trusted.schema }
        return try await withSession { s in try await self.snapshot(s).schema }
    }

    public func changeSchema(audit: AuditContext?, _ decide: @escaping @Sendable (Schema) throws -> [SchemaChange])
        async throws
    {
        let audited = try await transaction { s -> Bool in
            try await s.execute("SELECT pg_advisory_xact_lock(\(self.schemaLockKey))")
            let version = try await s.scalar("SELECT version FROM store_versions WHERE name = 'schema'", Int64.self) ?? 0
            let current = try await Self.loadSnapshot(s, version: version)
            let changes = try decide(current.schema)
            for change in changes { try await Self.apply(change, s) }
            if !changes.isEmpty { try await Self.bump("schema", s) }
            guard let audit else { return false }
            let records = AuditLog.records(for: changes, before: current.schema, context: audit)
            try await Self.append(records, s)
            return !records.isEmpty
        }
        schemaCache.withLock { $0 = nil }
        if audited { sealRequests.yield() }
    }

    static func apply(_ change: SchemaChange, _ s: Session) async throws {
        switch change {
        case .createSet(let set):
            try await s.execute(
                """
                INSERT INTO attribute_sets (key, id, description, max_attributes)
                VALUES (\(nameKey(set.id)), \(set.id), \(set.description), \(set.maxAttributesPerSet))
                """)
        case .updateSet(let set):
            try await s.execute(
                """
                UPDATE attribute_sets SET description = \(set.description), max_attributes = \(set.maxAttributesPerSet)
                WHERE key = \(nameKey(set.id))
                """)
        case .createDefinition(let d, let values):
            try await s.execute(
                """
                INSERT INTO attribute_definitions (key, set_key, attribute_set, name, description, type,
                    is_collection, is_searchable, status, predefined_only)
                VALUES (\(nameKey(d.id)), \(nameKey(d.attributeSet)), \(d.attributeSet), \(d.name), \(d.description),
                    \(d.type.rawValue), \(d.isCollection), \(d.isSearchable), \(d.status.rawValue), \(d.usePreDefinedValuesOnly))
                """)
            for value in values { try await putAllowedValue(value, definitionId: d.id, s) }
        case .updateDefinition(let d):
            try await s.execute(
                """
                UPDATE attribute_definitions SET description = \(d.description), status = \(d.status.rawValue),
                    predefined_only = \(d.usePreDefinedValuesOnly)
                WHERE key = \(nameKey(d.id))
                """)
        case .putAllowedValue(let definitionId, let value):
            try await putAllowedValue(value, definitionId: definitionId, s)
        }
    }

    static func putAllowedValue(_ value: AllowedValue, definitionId: String, _ s: Session) async throws {
        try await s.execute(
            """
            INSERT INTO allowed_values (definition_key, id, is_active) VALUES (\(nameKey(definitionId)), \(value.id), \(value.isActive))
            ON CONFLICT (definition_key, id) DO UPDATE SET is_active = excluded.is_active
            """)
    }

    // MARK: Directory objects

    static let objectColumns = "o.rowid, o.id, o.kind, o.properties"

    static func decodeObject(id: String, kind: String, properties: String) throws -> DirectoryObject {
        guard case .object(let members) = try JSON.parse(properties) else {
            throw PostgresStoreError.corrupt("directory object \(id) has corrupt properties")
        }
        return DirectoryObject(kind: DirectoryObjectKind(rawValue: kind) ?? .user, id: id, properties: members)
    }

    static func objects(_ rows: PostgresRowSequence) async throws -> [(rowid: Int64, object: DirectoryObject)] {
        var result: [(rowid: Int64, object: DirectoryObject)] = []
        for try await (rowid, id, kind, properties) in rows.decode((Int64, String, String, String).self) {
            result.append((rowid, try decodeObject(id: id, kind: kind, properties: properties)))
        }
        return result
    }

    public func create(
        _ object: DirectoryObject, passwordHash: String?, audit: AuditContext?,
        attributes: @escaping @Sendable (Schema) throws -> AttributeAssignments
    ) async throws {
        let audited = try await transaction { s -> Bool in
            try await s.execute("SELECT pg_advisory_xact_lock_shared(\(self.schemaLockKey))")
            let snapshot = try await self.snapshot(s)
            let values = try attributes(snapshot.schema)
            try await self.insert([NewObject(object: object, passwordHash: passwordHash, attributes: values)], snapshot, s)
            guard let audit,
                let record = AuditLog.record(valuesOf: object, before: AttributeAssignments(), after: values, context: audit)
            else { return false }
            try await Self.append([record], s)
            return true
        }
        if audited { sealRequests.yield() }
    }

    public func createAll(_ objects: [NewObject]) async throws {
        guard !objects.isEmpty else { return }
        try await transaction { s in
            try await s.execute("SELECT pg_advisory_xact_lock_shared(\(self.schemaLockKey))")
            try await self.insert(objects, try await self.snapshot(s), s)
        }
    }

    /// Inserts objects and their values with one statement per table (arrays through unnest;
    /// empty strings stand for NULL there, as a bound text[] cannot carry NULLs).
    func insert(_ objects: [NewObject], _ snapshot: SchemaSnapshot, _ s: Session) async throws {
        var rowids: [String: Int64] = [:]
        do {
            let rows = try await s.query(
                """
                INSERT INTO directory_objects (id, kind, upn_key, app_id, properties, password_hash)
                SELECT id, kind, NULLIF(upn, ''), NULLIF(app, ''), properties, NULLIF(hash, '')
                FROM unnest(\(objects.map(\.object.id))::text[], \(objects.map(\.object.kind.rawValue))::text[],
                    \(objects.map { $0.object.userPrincipalName.map(nameKey) ?? "" })::text[],
                    \(objects.map { $0.object.appId ?? "" })::text[],
                    \(objects.map { JSONValue.object($0.object.properties).serializedString })::text[],
                    \(objects.map { $0.passwordHash ?? "" })::text[]) AS n(id, kind, upn, app, properties, hash)
                RETURNING rowid, id
                """)
            for try await (rowid, id) in rows.decode((Int64, String).self) { rowids[id] = rowid }
        } catch let error as PSQLError where error.code == .server && Self.sqlState(error) == "23505" {
            throw GraphError.conflictingObject
        }
        var deltas = CountDeltas()
        var rows = ValueRows()
        for new in objects {
            guard let rowid = rowids[new.object.id] else { continue }
            deltas.objects[new.object.kind.rawValue, default: 0] += 1
            try rows.add(new.attributes, previous: AttributeAssignments(), rowid: rowid, kind: new.object.kind, snapshot, &deltas)
        }
        try await rows.write(s)
        try await deltas.apply(s)
    }

    public func object(_ kind: DirectoryObjectKind, id: String) async throws -> DirectoryObject? {
        try await objectState(kind, id: id, withAttributes: false)?.object
    }

    public func objectState(_ kind: DirectoryObjectKind, id: String) async throws -> ObjectState? {
        try await objectState(kind, id: id, withAttributes: true)
    }

    /// An object (by id, or a user by userPrincipalName) and its values in one statement, so one snapshot.
    func objectState(_ kind: DirectoryObjectKind, id: String, withAttributes: Bool) async throws -> ObjectState? {
        let byName = kind == .user && id.contains("@")
        let key = byName ? nameKey(id) : id.lowercased()
        let column = byName ? "upn_key" : "id"
        return try await withSession { s in
            var statement = SQLStatement()
            let keyBind = statement.bind(key)
            let kindBind = statement.bind(kind.rawValue)
            statement.sql =
                withAttributes
                ? """
                SELECT o.id, o.kind, o.properties, v.definition_seq, v.value_text, v.value_int
                FROM directory_objects o LEFT JOIN attribute_values v ON v.object_rowid = o.rowid
                WHERE o.\(column) = \(keyBind) AND o.kind = \(kindBind) ORDER BY v.definition_seq, v.ordinal
                """
                : """
                SELECT o.id, o.kind, o.properties, NULL::bigint, NULL::text, NULL::bigint FROM directory_objects o
                WHERE o.\(column) = \(keyBind) AND o.kind = \(kindBind)
                """
            var object: DirectoryObject?
            var values = ValueReader()
            var rows: [ObjectStateById.Row] = []
            if withAttributes && !byName {
                rows = try await s.execute(ObjectStateById(id: key, kind: kind.rawValue))
            } else {
                for try await row in try await s.query(statement).decode(ObjectStateById.Row.self) { rows.append(row) }
            }
            for (id, kind, properties, seq, text, int) in rows {
                if object == nil { object = try Self.decodeObject(id: id, kind: kind, properties: properties) }
                if let seq { values.add(rowid: 0, seq: seq, text: text, int: int) }
            }
            guard let object else { return nil }
            return ObjectState(object: object, attributes: try await self.decode(values, s)[0] ?? AttributeAssignments())
        }
    }

    public func objects(_ kind: DirectoryObjectKind, after cursor: Int64?, limit: Int) async throws -> DirectoryPage {
        try await query(kind, matching: nil, after: cursor, limit: limit, count: false).page
    }

    public func count(_ kind: DirectoryObjectKind) async throws -> Int {
        try await withSession { s in try await Self.total(kind, s) }
    }

    /// An object and its rowid, row-locked until the transaction ends.
    static func lockObject(_ kind: DirectoryObjectKind, id: String, _ s: Session) async throws -> (Int64, DirectoryObject)? {
        try await objects(
            s.query(
                """
                SELECT \(unescaped: objectColumns) FROM directory_objects o
                WHERE o.id = \(id.lowercased()) AND o.kind = \(kind.rawValue) FOR UPDATE
                """)
        ).first.map { ($0.rowid, $0.object) }
    }

    public func modify(
        _ kind: DirectoryObjectKind, id: String, passwordHash: String?, audit: AuditContext?,
        _ change: @escaping @Sendable (ObjectState, Schema) throws -> ObjectState
    ) async throws {
        let audited = try await transaction { s -> Bool in
            try await s.execute("SELECT pg_advisory_xact_lock_shared(\(self.schemaLockKey))")
            // The row lock serialises writers of one object across instances: no lost update.
            guard
                let (rowid, object) = try await Self.lockObject(kind, id: id, s)
            else { throw GraphError.notFound(id) }
            let snapshot = try await self.snapshot(s)
            let before = ObjectState(
                object: object, attributes: try await self.loadAttributes(s, rowids: [rowid])[rowid] ?? AttributeAssignments())
            let after = try change(before, snapshot.schema)
            if after.object != before.object || passwordHash != nil {
                do {
                    try await s.execute(
                        """
                        UPDATE directory_objects SET upn_key = \(after.object.userPrincipalName.map(nameKey)),
                            properties = \(JSONValue.object(after.object.properties).serializedString),
                            password_hash = COALESCE(\(passwordHash), password_hash)
                        WHERE rowid = \(rowid)
                        """)
                } catch let error as PSQLError where error.code == .server && Self.sqlState(error) == "23505" {
                    throw GraphError.conflictingObject
                }
                if after.object != before.object { try await Self.bump("access", s) }
            }
            var deltas = CountDeltas()
            var rows = ValueRows()
            try rows.add(after.attributes, previous: before.attributes, rowid: rowid, kind: kind, snapshot, &deltas)
            try await rows.write(s)
            try await deltas.apply(s)
            guard let audit,
                let record = AuditLog.record(
                    valuesOf: after.object, before: before.attributes, after: after.attributes, context: audit)
            else { return false }
            try await Self.append([record], s)
            return true
        }
        if audited { sealRequests.yield() }
    }

    public func attributes(of objectIds: [String]) async throws -> [String: AttributeAssignments] {
        guard !objectIds.isEmpty else { return [:] }
        return try await transaction(readOnly: true) { s in
            var idByRowid: [Int64: String] = [:]
            for try await (rowid, id) in try await s.query(
                "SELECT rowid, id FROM directory_objects WHERE id = ANY(\(objectIds.map { $0.lowercased() }))"
            ).decode((Int64, String).self) {
                idByRowid[rowid] = id
            }
            let values = try await self.loadAttributes(s, rowids: Array(idByRowid.keys))
            var byId: [String: AttributeAssignments] = [:]
            for (rowid, assignments) in values { if let id = idByRowid[rowid] { byId[id] = assignments } }
            // Keyed by the ids as the caller gave them.
            var result: [String: AttributeAssignments] = [:]
            for objectId in objectIds { result[objectId] = byId[objectId.lowercased()] }
            return result
        }
    }

    /// Value rows decoded against the schema; a definition the cached schema does not know yet
    /// (created through another instance a moment ago) makes it read the schema afresh.
    func decode(_ values: ValueReader, _ s: Session) async throws -> [Int64: AttributeAssignments] {
        guard !values.isEmpty else { return [:] }
        if let decoded = values.finish(try await snapshot(s, fresh: false)) { return decoded }
        return values.finish(try await snapshot(s, fresh: true), skippingUnknown: true) ?? [:]
    }

    /// Attribute values of objects by rowid, in one statement.
    func loadAttributes(_ s: Session, rowids: [Int64]) async throws -> [Int64: AttributeAssignments] {
        guard !rowids.isEmpty else { return [:] }
        var reader = ValueReader()
        for try await (rowid, seq, text, int) in try await s.query(
            """
            SELECT object_rowid, definition_seq, value_text, value_int FROM attribute_values
            WHERE object_rowid = ANY(\(rowids)) ORDER BY object_rowid, definition_seq, ordinal
            """
        ).decode((Int64, Int64, String?, Int64?).self) {
            reader.add(rowid: rowid, seq: seq, text: text, int: int)
        }
        return try await decode(reader, s)
    }

    public func delete(_ kind: DirectoryObjectKind, id: String) async throws -> Bool {
        try await transaction { s in
            guard
                let (rowid, object) = try await Self.lockObject(kind, id: id, s)
            else { return false }
            var doomed = [(rowid, object)]
            if kind == .application, let appId = object.appId {
                doomed += try await Self.objects(
                    s.query(
                        """
                        SELECT \(unescaped: Self.objectColumns) FROM directory_objects o
                        WHERE o.kind = 'servicePrincipal' AND o.app_id = \(appId.lowercased()) FOR UPDATE
                        """))
            }
            let snapshot = try await self.snapshot(s)
            let values = try await self.loadAttributes(s, rowids: doomed.map(\.0))
            var deltas = CountDeltas()
            var rows = ValueRows()
            for (rowid, object) in doomed {
                // Through the same path as a write, so the counts follow.
                try rows.add(
                    AttributeAssignments(), previous: values[rowid] ?? AttributeAssignments(), rowid: rowid, kind: object.kind,
                    snapshot, &deltas)
                deltas.objects[object.kind.rawValue, default: 0] -= 1
            }
            try await rows.write(s)
            try await s.execute("DELETE FROM directory_objects WHERE rowid = ANY(\(doomed.map(\.0)))")
            try await deltas.apply(s)
            try await Self.bump("access", s)
            return true
        }
    }

    private func objectByAppId(_ kind: DirectoryObjectKind, _ appId: String) async throws -> DirectoryObject? {
        try await withSession { s in
            try await Self.objects(
                s.query(
                    """
                    SELECT \(unescaped: Self.objectColumns) FROM directory_objects o
                    WHERE o.kind = \(kind.rawValue) AND o.app_id = \(appId.lowercased())
                    """)
            ).first?.object
        }
    }

    public func servicePrincipal(appId: String) async throws -> DirectoryObject? {
        try await objectByAppId(.servicePrincipal, appId)
    }

    public func application(appId: String) async throws -> DirectoryObject? {
        try await objectByAppId(.application, appId)
    }

    public func userCredentials(userPrincipalName: String) async throws -> (user: DirectoryObject, passwordHash: String?)? {
        let found = try await withSession { s -> (String, String, String, String?)? in
            for try await row in try await s.query(
                """
                SELECT id, kind, properties, password_hash FROM directory_objects
                WHERE upn_key = \(nameKey(userPrincipalName)) AND kind = 'user'
                """
            ).decode((String, String, String, String?).self) {
                return row
            }
            return nil
        }
        guard let (id, kind, properties, hash) = found else { return nil }
        return (try Self.decodeObject(id: id, kind: kind, properties: properties), hash)
    }

    // MARK: Application secrets

    public func passwordCredentials(applicationId: String) async throws -> [PasswordCredential] {
        try await withSession { s in
            var result: [PasswordCredential] = []
            for try await (keyId, name, hint, start, end, hash) in try await s.query(
                """
                SELECT key_id, display_name, hint, start_time, end_time, secret_hash FROM password_credentials
                WHERE application_id = \(applicationId.lowercased()) ORDER BY start_time
                """
            ).decode((String, String?, String, Double, Double, String).self) {
                result.append(
                    PasswordCredential(
                        keyId: keyId, displayName: name, hint: hint, startDateTime: Date(timeIntervalSince1970: start),
                        endDateTime: Date(timeIntervalSince1970: end), secretHash: hash))
            }
            return result
        }
    }

    public func addPasswordCredential(_ credential: PasswordCredential, applicationId: String) async throws {
        let applicationId = applicationId.lowercased()
        try await transaction { s in
            // Locking the application serialises concurrent additions, so the limit holds.
            _ = try await s.scalar("SELECT rowid FROM directory_objects WHERE id = \(applicationId) FOR UPDATE", Int64.self)
            let count =
                try await s.scalar("SELECT count(*) FROM password_credentials WHERE application_id = \(applicationId)", Int64.self) ?? 0
            guard count < Limits.passwordCredentialsPerApplication else {
                throw GraphError.badRequest(
                    "The application already has the maximum of \(Limits.passwordCredentialsPerApplication) password credentials."
                )
            }
            try await s.execute(
                """
                INSERT INTO password_credentials (application_id, key_id, display_name, hint, start_time, end_time, secret_hash)
                VALUES (\(applicationId), \(credential.keyId), \(credential.displayName), \(credential.hint),
                    \(credential.startDateTime.timeIntervalSince1970), \(credential.endDateTime.timeIntervalSince1970),
                    \(credential.secretHash))
                """)
        }
    }

    public func removePasswordCredential(keyId: String, applicationId: String) async throws -> Bool {
        try await withSession { s in
            try await s.scalar(
                """
                WITH gone AS (DELETE FROM password_credentials
                    WHERE application_id = \(applicationId.lowercased()) AND lower(key_id) = \(keyId.lowercased()) RETURNING 1)
                SELECT count(*) FROM gone
                """, Int64.self) ?? 0 > 0
        }
    }

    // MARK: Role assignments

    public func create(_ assignment: RoleAssignment) async throws {
        try await transaction { s in
            do {
                try await s.execute(
                    """
                    INSERT INTO role_assignments (id, principal_id, role_id, scope, scope_key)
                    VALUES (\(assignment.id), \(assignment.principalId), \(assignment.role.rawValue),
                        \(assignment.scope.directoryScopeId), \(nameKey(assignment.scope.directoryScopeId)))
                    """)
            } catch let error as PSQLError where error.code == .server && Self.sqlState(error) == "23505" {
                throw GraphError.conflictingObject
            } catch let error as PSQLError where error.code == .server && Self.sqlState(error) == "23503" {
                throw GraphError.notFound(assignment.principalId)
            }
            try await Self.bump("access", s)
        }
    }

    static func assignments(_ rows: PostgresRowSequence) async throws -> [RoleAssignment] {
        var result: [RoleAssignment] = []
        for try await (id, principal, roleId, scopeId) in rows.decode((String, String, String, String).self) {
            guard let role = DirectoryRole(rawValue: roleId), let scope = RoleScope(directoryScopeId: scopeId) else { continue }
            result.append(RoleAssignment(id: id, principalId: principal, role: role, scope: scope))
        }
        return result
    }

    public func roleAssignments(principalId: String?) async throws -> [RoleAssignment] {
        try await withSession { s in
            if let principalId {
                return try await Self.assignments(
                    s.query(
                        """
                        SELECT id, principal_id, role_id, scope FROM role_assignments
                        WHERE principal_id = \(principalId.lowercased()) ORDER BY seq
                        """))
            }
            return try await Self.assignments(s.query("SELECT id, principal_id, role_id, scope FROM role_assignments ORDER BY seq"))
        }
    }

    public func roleAssignment(id: String) async throws -> RoleAssignment? {
        try await withSession { s in
            try await Self.assignments(
                s.query("SELECT id, principal_id, role_id, scope FROM role_assignments WHERE id = \(id.lowercased())")
            ).first
        }
    }

    public func deleteRoleAssignment(id: String) async throws -> Bool {
        try await transaction { s in
            let deleted =
                try await s.scalar(
                    "WITH gone AS (DELETE FROM role_assignments WHERE id = \(id.lowercased()) RETURNING 1) SELECT count(*) FROM gone",
                    Int64.self) ?? 0
            if deleted > 0 { try await Self.bump("access", s) }
            return deleted > 0
        }
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

/// One object with its value rows (GET of an object, the hottest read).
struct ObjectStateById: PostgresPreparedStatement {
    static let sql = """
        SELECT o.id, o.kind, o.properties, v.definition_seq, v.value_text, v.value_int
        FROM directory_objects o LEFT JOIN attribute_values v ON v.object_rowid = o.rowid
        WHERE o.id = $1 AND o.kind = $2 ORDER BY v.definition_seq, v.ordinal
        """
    typealias Row = (String, String, String, Int64?, String?, Int64?)
    let id: String
    let kind: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(id)
        bindings.append(kind)
        return bindings
    }

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
