import Foundation
import PostgresNIO
import SigilCore

/// Inbound provisioning in PostgreSQL: synchronization jobs and the provisioning log, one row
/// each with the job or entry as a JSON document. Every read goes to the database, so all
/// instances see a job's change at once.
extension PostgresStore {
    static let provisioningSchema = [
        """
        CREATE TABLE synchronization_jobs (
            seq bigserial PRIMARY KEY,
            job_key text COLLATE "C" NOT NULL UNIQUE,
            service_principal_id text COLLATE "C" NOT NULL,
            document text NOT NULL
        )
        """,
        "CREATE INDEX synchronization_jobs_principal ON synchronization_jobs (service_principal_id, seq)",
        """
        CREATE TABLE provisioning_log (
            seq bigserial PRIMARY KEY,
            id text COLLATE "C" NOT NULL UNIQUE,
            job_key text COLLATE "C" NOT NULL,
            activity_date_time text COLLATE "C" NOT NULL,
            status text COLLATE "C" NOT NULL,
            source_id text COLLATE "C",
            document text NOT NULL
        )
        """,
        "CREATE INDEX provisioning_log_job ON provisioning_log (job_key, seq)",
        "CREATE INDEX provisioning_log_source ON provisioning_log (source_id, seq) WHERE source_id IS NOT NULL",
        "CREATE INDEX provisioning_log_time ON provisioning_log (activity_date_time)",
    ]

    public func synchronizationJobs(servicePrincipalId: String) async throws -> [SynchronizationJob] {
        try await withSession { s in
            var jobs: [SynchronizationJob] = []
            for try await document in try await s.query(
                "SELECT document FROM synchronization_jobs WHERE service_principal_id = \(servicePrincipalId.lowercased()) ORDER BY seq"
            ).decode(String.self) {
                jobs.append(try SynchronizationJob(document: document))
            }
            return jobs
        }
    }

    public func synchronizationJob(id: String) async throws -> SynchronizationJob? {
        try await withSession { s in
            try await s.scalar("SELECT document FROM synchronization_jobs WHERE job_key = \(id.lowercased())", String.self)
                .map(SynchronizationJob.init(document:))
        }
    }

    public func saveSynchronizationJob(_ job: SynchronizationJob) async throws {
        try await withSession { s in
            try await s.execute(
                """
                INSERT INTO synchronization_jobs (job_key, service_principal_id, document)
                VALUES (\(job.key), \(job.servicePrincipalId.lowercased()), \(job.document))
                ON CONFLICT (job_key) DO UPDATE SET document = excluded.document
                """)
        }
    }

    public func deleteSynchronizationJob(id: String) async throws -> Bool {
        try await withSession { s in
            try await s.scalar(
                """
                WITH held AS (DELETE FROM held_uploads WHERE job_key = \(id.lowercased())),
                    gone AS (DELETE FROM synchronization_jobs WHERE job_key = \(id.lowercased()) RETURNING 1)
                SELECT count(*) FROM gone
                """,
                Int64.self) ?? 0 > 0
        }
    }

    public func appendProvisioningLog(_ entries: [ProvisioningLogEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await withSession { s in try await Self.insertProvisioningLog(entries, s) }
    }

    static func insertProvisioningLog(_ entries: [ProvisioningLogEntry], _ s: Session) async throws {
        try await s.execute(
            """
            INSERT INTO provisioning_log (id, job_key, activity_date_time, status, source_id, document)
            SELECT id, job, at, status, NULLIF(source, ''), document
            FROM unnest(\(entries.map(\.id))::text[], \(entries.map { $0.jobId.lowercased() })::text[],
                \(entries.map(\.activityDateTime))::text[], \(entries.map(\.status.rawValue))::text[],
                \(entries.map { $0.sourceId ?? "" })::text[],
                \(entries.map { JSONValue.object($0.document).serializedString })::text[])
                AS e(id, job, at, status, source, document)
            """)
    }

    public func provisioningLog(_ query: ProvisioningLogQuery, after cursor: Int64?, limit: Int) async throws -> ProvisioningLogPage {
        let statement = ProvisioningSQL.page(query, after: cursor, limit: limit)
        let rows = try await withSession { s in
            var rows: [(seq: Int64, entry: ProvisioningLogEntry)] = []
            for try await (seq, id, job, at, status, source, document) in try await s.select(statement)
                .decode((Int64, String, String, String, String, String?, String).self)
            {
                rows.append(
                    (
                        seq,
                        try ProvisioningSQL.entry(id: id, jobKey: job, at: at, status: status, sourceId: source, document: document)
                    ))
            }
            return rows
        }
        return ProvisioningSQL.page(rows, limit: limit)
    }
}

/// The provisioning mapping in PostgreSQL: one row (tenant-wide), the mapping as a JSON document.
extension PostgresStore {
    static let provisioningMappingSchema = [
        """
        CREATE TABLE provisioning_mapping (
            id integer PRIMARY KEY CHECK (id = 1),
            document text NOT NULL
        )
        """
    ]

    public func provisioningMapping() async throws -> ProvisioningMapping {
        try await withSession { s in
            try await s.scalar("SELECT document FROM provisioning_mapping WHERE id = 1", String.self)
                .map(ProvisioningMapping.init(document:)) ?? .default
        }
    }

    public func changeProvisioningMapping(
        _ decide: @escaping @Sendable (ProvisioningMapping, Schema) throws -> (ProvisioningMapping, [AuditRecord])
    ) async throws -> ProvisioningMapping {
        let (written, audited) = try await transaction { s -> (ProvisioningMapping, Bool) in
            // The row is made first (if missing) so that FOR UPDATE serialises concurrent changes.
            try await s.execute(
                """
                INSERT INTO provisioning_mapping (id, document) VALUES (1, \(ProvisioningMapping.default.document))
                ON CONFLICT (id) DO NOTHING
                """)
            let stored = try await s.scalar("SELECT document FROM provisioning_mapping WHERE id = 1 FOR UPDATE", String.self)
            let current = try stored.map(ProvisioningMapping.init(document:)) ?? .default
            let version = try await s.scalar("SELECT version FROM store_versions WHERE name = 'schema'", Int64.self) ?? 0
            let (next, records) = try decide(current, try await Self.loadSchema(s, version: version).schema)
            try await s.execute("UPDATE provisioning_mapping SET document = \(next.document) WHERE id = 1")
            try await Self.append(records, s)
            return (next, !records.isEmpty)
        }
        if audited { sealRequests.yield() }
        return written
    }
}

/// What paused jobs hold in PostgreSQL: one row per bulkUpload operation, in upload order. A hold
/// locks the job's row, as a change of its state does, so the two never interleave.
extension PostgresStore {
    static let heldUploadsSchema = [
        """
        CREATE TABLE held_uploads (
            seq bigserial PRIMARY KEY,
            job_key text COLLATE "C" NOT NULL,
            source_key text COLLATE "C",
            document text NOT NULL
        )
        """,
        "CREATE INDEX held_uploads_job ON held_uploads (job_key, seq)",
        "CREATE INDEX held_uploads_source ON held_uploads (job_key, source_key, seq) WHERE source_key IS NOT NULL",
    ]

    /// Seconds since 1970 until which a claim keeps the row from other callers.
    static let heldUploadClaimsSchema = ["ALTER TABLE held_uploads ADD COLUMN claimed_until double precision"]

    public func holdUploads(_ operations: [HeldUploadOperation], jobId: String) async throws -> Bool {
        let key = jobId.lowercased()
        return try await transaction { s in
            guard let job = try await s.scalar("SELECT document FROM synchronization_jobs WHERE job_key = \(key) FOR UPDATE", String.self),
                try SynchronizationJob(document: job).state == .paused
            else { return false }
            try await s.execute(
                """
                INSERT INTO held_uploads (job_key, source_key, document)
                SELECT \(key), NULLIF(source, ''), document
                FROM unnest(\(operations.map { $0.sourceKey ?? "" })::text[], \(operations.map(\.document))::text[])
                    WITH ORDINALITY AS h(source, document, n)
                ORDER BY n
                """)
            return true
        }
    }

    public func claimHeldUpload(jobId: String, sourceKey: String?, now: Date, until: Date) async throws -> HeldUploadClaim? {
        let key = jobId.lowercased()
        let (nowSeconds, untilSeconds) = (now.timeIntervalSince1970, until.timeIntervalSince1970)
        let row = try await withSession { s in
            // SKIP LOCKED: two callers at once claim different operations.
            let statement: PostgresQuery =
                if let sourceKey {
                    """
                    UPDATE held_uploads SET claimed_until = \(untilSeconds) WHERE seq = (
                        SELECT seq FROM held_uploads
                        WHERE job_key = \(key) AND source_key = \(sourceKey.lowercased())
                            AND (claimed_until IS NULL OR claimed_until <= \(nowSeconds))
                        ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
                    RETURNING seq, document
                    """
                } else {
                    """
                    UPDATE held_uploads SET claimed_until = \(untilSeconds) WHERE seq = (
                        SELECT seq FROM held_uploads
                        WHERE job_key = \(key) AND (claimed_until IS NULL OR claimed_until <= \(nowSeconds))
                        ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
                    RETURNING seq, document
                    """
                }
            var found: (Int64, String)?
            for try await row in try await s.query(statement).decode((Int64, String).self) { found = row }
            return found
        }
        return try row.map { HeldUploadClaim(seq: $0.0, operation: try HeldUploadOperation(document: $0.1)) }
    }

    public func finishHeldUpload(_ claim: HeldUploadClaim, log entry: ProvisioningLogEntry) async throws {
        try await transaction { s in
            try await Self.insertProvisioningLog([entry], s)
            try await s.execute("DELETE FROM held_uploads WHERE seq = \(claim.seq)")
        }
    }

    public func discardHeldUploads(jobId: String) async throws -> Int {
        try await withSession { s in
            Int(
                try await s.scalar(
                    "WITH gone AS (DELETE FROM held_uploads WHERE job_key = \(jobId.lowercased()) RETURNING 1) SELECT count(*) FROM gone",
                    Int64.self) ?? 0)
        }
    }
}
