import Foundation
import PostgresNIO
import SigilCore

/// The attribute schema in PostgreSQL: a snapshot cached per schema version, and changes under
/// an advisory lock.
extension PostgresStore {

    /// The schema an operation decides against: the cached copy when the database's schema
    /// version still matches it, else read afresh (on the same session, so inside its transaction).
    /// A read (`fresh: false`) trusts the version the request read with its access version, so a
    /// schema change through another instance reaches reads within `versionReuse`; writes and
    /// this instance's own changes are never stale.
    func snapshot(_ s: Session, fresh: Bool = true) async throws -> SchemaSnapshot {
        if !fresh, let trusted = trustedSnapshot() { return trusted }
        let version = try await s.scalar("SELECT version FROM store_versions WHERE name = 'schema'", Int64.self) ?? 0
        if let cached = schemaCache.withLock({ $0 }), cached.version == version { return cached }
        let fresh = try await Self.loadSchema(s, version: version)
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

    /// The schema with its definitions' row numbers, read on `s` (in its transaction).
    static func loadSchema(_ s: Session, version: Int64) async throws -> SchemaSnapshot {
        var rows = SchemaRows()
        for try await (id, description, max) in try await s.query(PostgresQuery(unsafeSQL: SchemaSQL.sets)).decode(
            (String, String?, Int?).self)
        {
            rows.addSet(id: id, description: description, maxAttributes: max)
        }
        for try await (seq, set, name, description, type, collection, searchable, status, predefined) in try await s.query(
            PostgresQuery(unsafeSQL: SchemaSQL.definitions)
        ).decode((Int64, String, String, String?, String, Bool, Bool, String, Bool).self) {
            rows.addDefinition(
                seq: seq, set: set, name: name, description: description, type: type, isCollection: collection,
                isSearchable: searchable, status: status, predefinedOnly: predefined)
        }
        for try await (key, id, active) in try await s.query(PostgresQuery(unsafeSQL: SchemaSQL.allowedValues)).decode(
            (String, String, Bool).self)
        {
            rows.addAllowedValue(definitionKey: key, id: id, isActive: active)
        }
        return rows.snapshot(version: version)
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
            let current = try await Self.loadSchema(s, version: version)
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
        for statement in SchemaSQL.statements(for: change) { try await s.execute(statement.postgres) }
    }
}
