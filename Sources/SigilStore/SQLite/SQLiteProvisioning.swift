import Foundation
import GRDB
import SigilCore

/// Inbound provisioning in SQLite: synchronization jobs and the provisioning log, one row each
/// with the job or entry as a JSON document.
extension SQLiteStore {
    static let provisioningSchema = """
        CREATE TABLE synchronization_jobs (
            seq INTEGER PRIMARY KEY,
            job_key TEXT NOT NULL UNIQUE, -- the id, lower-cased
            service_principal_id TEXT NOT NULL, -- lower-cased
            document TEXT NOT NULL
        );
        CREATE INDEX synchronization_jobs_principal ON synchronization_jobs(service_principal_id, seq);

        CREATE TABLE provisioning_log (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            job_key TEXT NOT NULL,
            activity_date_time TEXT NOT NULL, -- AuditRecord.timestamp: sorts as text
            status TEXT NOT NULL,
            source_id TEXT,
            document TEXT NOT NULL
        );
        CREATE INDEX provisioning_log_job ON provisioning_log(job_key, seq);
        CREATE INDEX provisioning_log_source ON provisioning_log(source_id, seq) WHERE source_id IS NOT NULL;
        CREATE INDEX provisioning_log_time ON provisioning_log(activity_date_time);
        """

    /// Registered after the other migrations, under a name of its own.
    static func registerProvisioningMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8-inbound-provisioning") { db in
            try db.execute(sql: provisioningSchema)
        }
    }

    public func synchronizationJobs(servicePrincipalId: String) async throws -> [SynchronizationJob] {
        try await writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT document FROM synchronization_jobs WHERE service_principal_id = ? ORDER BY seq",
                arguments: [servicePrincipalId.lowercased()]
            ).map(SynchronizationJob.init(document:))
        }
    }

    public func synchronizationJob(id: String) async throws -> SynchronizationJob? {
        try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT document FROM synchronization_jobs WHERE job_key = ?", arguments: [id.lowercased()])
                .map(SynchronizationJob.init(document:))
        }
    }

    public func saveSynchronizationJob(_ job: SynchronizationJob) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO synchronization_jobs (job_key, service_principal_id, document) VALUES (?, ?, ?)
                    ON CONFLICT (job_key) DO UPDATE SET document = excluded.document
                    """,
                arguments: [job.key, job.servicePrincipalId.lowercased(), job.document])
        }
    }

    public func deleteSynchronizationJob(id: String) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM held_uploads WHERE job_key = ?", arguments: [id.lowercased()])
            try db.execute(sql: "DELETE FROM synchronization_jobs WHERE job_key = ?", arguments: [id.lowercased()])
            return db.changesCount > 0
        }
    }

    public func appendProvisioningLog(_ entries: [ProvisioningLogEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await writer.write { db in try Self.insertProvisioningLog(entries, db) }
    }

    static func insertProvisioningLog(_ entries: [ProvisioningLogEntry], _ db: Database) throws {
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO provisioning_log (id, job_key, activity_date_time, status, source_id, document)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
        for entry in entries {
            try insert.execute(
                arguments: [
                    entry.id, entry.jobId.lowercased(), entry.activityDateTime, entry.status.rawValue, entry.sourceId,
                    JSONValue.object(entry.document).serializedString,
                ])
        }
    }

    public func provisioningLog(_ query: ProvisioningLogQuery, after cursor: Int64?, limit: Int) async throws -> ProvisioningLogPage {
        let request = SQLRequest<Row>(literal: ProvisioningSQL.page(query, after: cursor, limit: limit).grdb)
        let rows = try await writer.read { db in
            try Row.fetchAll(db, request).map { row in
                (
                    seq: row["seq"] as Int64,
                    entry: try ProvisioningSQL.entry(
                        id: row["id"], jobKey: row["job_key"], at: row["activity_date_time"], status: row["status"],
                        sourceId: row["source_id"], document: row["document"])
                )
            }
        }
        return ProvisioningSQL.page(rows, limit: limit)
    }
}

/// The provisioning mapping in SQLite: one row (tenant-wide), the mapping as a JSON document.
extension SQLiteStore {
    static let provisioningMappingSchema = """
        CREATE TABLE provisioning_mapping (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            document TEXT NOT NULL
        );
        """

    /// Registered after the other migrations, under a name of its own.
    static func registerProvisioningMappingMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v9-provisioning-mapping") { db in
            try db.execute(sql: provisioningMappingSchema)
        }
    }

    public func provisioningMapping() async throws -> ProvisioningMapping {
        try await writer.read { db in try Self.loadMapping(db) }
    }

    public func changeProvisioningMapping(
        _ decide: @escaping @Sendable (ProvisioningMapping, Schema) throws -> (ProvisioningMapping, [AuditRecord])
    ) async throws -> ProvisioningMapping {
        try await writer.write { db in
            let (next, records) = try decide(try Self.loadMapping(db), try Self.loadSchema(db).schema)
            try db.execute(
                sql: """
                    INSERT INTO provisioning_mapping (id, document) VALUES (1, ?)
                    ON CONFLICT (id) DO UPDATE SET document = excluded.document
                    """,
                arguments: [next.document])
            try Self.append(records, db)
            return next
        }
    }

    static func loadMapping(_ db: Database) throws -> ProvisioningMapping {
        try String.fetchOne(db, sql: "SELECT document FROM provisioning_mapping WHERE id = 1")
            .map(ProvisioningMapping.init(document:)) ?? .default
    }
}

/// What paused jobs hold in SQLite: one row per bulkUpload operation, in upload order.
extension SQLiteStore {
    static let heldUploadsSchema = """
        CREATE TABLE held_uploads (
            seq INTEGER PRIMARY KEY,
            job_key TEXT NOT NULL, -- the job's id, lower-cased
            source_key TEXT, -- the operation's matching identifier, lower-cased
            document TEXT NOT NULL
        );
        CREATE INDEX held_uploads_job ON held_uploads(job_key, seq);
        CREATE INDEX held_uploads_source ON held_uploads(job_key, source_key, seq) WHERE source_key IS NOT NULL;
        """

    /// Registered after the other migrations, under names of their own.
    static func registerHeldUploadsMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10-held-uploads") { db in
            try db.execute(sql: heldUploadsSchema)
        }
        migrator.registerMigration("v11-held-upload-claims") { db in
            // Seconds since 1970 until which a claim keeps the row from other callers.
            try db.execute(sql: "ALTER TABLE held_uploads ADD COLUMN claimed_until REAL")
        }
    }

    public func holdUploads(_ operations: [HeldUploadOperation], jobId: String) async throws -> Bool {
        let key = jobId.lowercased()
        return try await writer.write { db in
            guard let job = try String.fetchOne(db, sql: "SELECT document FROM synchronization_jobs WHERE job_key = ?", arguments: [key]),
                try SynchronizationJob(document: job).state == .paused
            else { return false }
            let insert = try db.cachedStatement(sql: "INSERT INTO held_uploads (job_key, source_key, document) VALUES (?, ?, ?)")
            for operation in operations {
                try insert.execute(arguments: [key, operation.sourceKey, operation.document])
            }
            return true
        }
    }

    public func claimHeldUpload(jobId: String, sourceKey: String?, now: Date, until: Date) async throws -> HeldUploadClaim? {
        try await writer.write { db in
            let free = "job_key = ? AND (claimed_until IS NULL OR claimed_until <= ?)"
            let row =
                if let sourceKey {
                    try Row.fetchOne(
                        db, sql: "SELECT seq, document FROM held_uploads WHERE \(free) AND source_key = ? ORDER BY seq LIMIT 1",
                        arguments: [jobId.lowercased(), now.timeIntervalSince1970, sourceKey.lowercased()])
                } else {
                    try Row.fetchOne(
                        db, sql: "SELECT seq, document FROM held_uploads WHERE \(free) ORDER BY seq LIMIT 1",
                        arguments: [jobId.lowercased(), now.timeIntervalSince1970])
                }
            guard let row else { return nil }
            let seq: Int64 = row["seq"]
            try db.execute(
                sql: "UPDATE held_uploads SET claimed_until = ? WHERE seq = ?", arguments: [until.timeIntervalSince1970, seq])
            return HeldUploadClaim(seq: seq, operation: try HeldUploadOperation(document: row["document"]))
        }
    }

    public func finishHeldUpload(_ claim: HeldUploadClaim, log entry: ProvisioningLogEntry) async throws {
        try await writer.write { db in
            try Self.insertProvisioningLog([entry], db)
            try db.execute(sql: "DELETE FROM held_uploads WHERE seq = ?", arguments: [claim.seq])
        }
    }

    public func discardHeldUploads(jobId: String) async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM held_uploads WHERE job_key = ?", arguments: [jobId.lowercased()])
            return db.changesCount
        }
    }
}
