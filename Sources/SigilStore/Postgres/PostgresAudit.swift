import PostgresNIO
import SigilCore

extension PostgresStore {
    /// Links and inserts records inside the caller's transaction. The head row's lock makes
    /// writers on every instance append one after another; callers append last, just before
    /// COMMIT, so the lock is held for one round trip.
    static func append(_ records: [AuditRecord], _ s: Session) async throws {
        guard !records.isEmpty else { return }
        var head: (Int64, String)?
        for try await row in try await s.query("SELECT head_seq, head_hash FROM audit_chain WHERE id = 1 FOR UPDATE")
            .decode((Int64, String).self)
        {
            head = row
        }
        guard let (headSeq, headHash) = head else { throw StoreError.corrupt("the audit chain has no head row") }
        let rows = AuditChain.link(records, afterSeq: headSeq, hash: headHash)
        guard let last = rows.last else { return }
        try await s.execute(
            """
            WITH records AS (
                INSERT INTO audit_records (seq, id, activity_date_time, activity, result, initiator_user_id,
                    initiator_app_id, target_id, record, previous_hash, hash)
                SELECT seq, id, at, activity, result, NULLIF(usr, ''), NULLIF(app, ''), NULLIF(target, ''), record,
                    previous, hash
                FROM unnest(\(rows.map(\.seq))::int8[], \(rows.map(\.record.id))::text[], \(rows.map(\.timestamp))::text[],
                    \(rows.map(\.record.activity.rawValue))::text[], \(rows.map(\.record.result.rawValue))::text[],
                    \(rows.map { $0.initiatorUserId ?? "" })::text[], \(rows.map { $0.initiatorAppId ?? "" })::text[],
                    \(rows.map { $0.targetId ?? "" })::text[], \(rows.map(\.canonical))::text[],
                    \(rows.map(\.previousHash))::text[], \(rows.map(\.hash))::text[])
                    AS r(seq, id, at, activity, result, usr, app, target, record, previous, hash)
            )
            UPDATE audit_chain SET head_seq = \(last.seq), head_hash = \(last.hash) WHERE id = 1
            """)
    }

    public func appendAudit(_ records: [AuditRecord]) async throws {
        try await transaction { s in try await Self.append(records, s) }
    }

    static func auditRecords(_ rows: PostgresRowSequence) async throws -> [StoredAuditRecord] {
        var records: [StoredAuditRecord] = []
        for try await (seq, json, previous, hash) in rows.decode((Int64, String, String, String).self) {
            records.append(StoredAuditRecord(seq: seq, json: json, previousHash: previous, hash: hash))
        }
        return records
    }

    public func auditRecords(_ query: AuditQuery, after cursor: Int64?, limit: Int) async throws -> AuditPage {
        let (sql, arguments) = AuditSQL.page(query, after: cursor, limit: limit)
        var statement = SQLStatement()
        // AuditSQL writes `?` only as placeholders.
        for part in sql.split(separator: "?", omittingEmptySubsequences: false).enumerated() {
            if part.offset > 0 { statement.sql += statement.bind(arguments[part.offset - 1]) }
            statement.sql += part.element
        }
        let query = statement
        let records = try await withSession { s in try await Self.auditRecords(try await s.query(query)) }
        return AuditSQL.page(records, limit: limit)
    }

    public func auditRecord(id: String) async throws -> StoredAuditRecord? {
        try await withSession { s in
            try await Self.auditRecords(
                try await s.query(
                    "SELECT seq, record, previous_hash, hash FROM audit_records WHERE id = \(id.lowercased())")
            ).first
        }
    }

    public func auditChain(after seq: Int64, limit: Int) async throws -> [StoredAuditRecord] {
        try await withSession { s in
            try await Self.auditRecords(
                try await s.query(
                    "SELECT seq, record, previous_hash, hash FROM audit_records WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)"
                ))
        }
    }

    public func auditEnds() async throws -> AuditChainEnds {
        try await withSession { s in
            for try await (anchorSeq, anchorHash, headSeq, headHash) in try await s.query(
                "SELECT anchor_seq, anchor_hash, head_seq, head_hash FROM audit_chain WHERE id = 1"
            ).decode((Int64, String, Int64, String).self) {
                return AuditChainEnds(anchorSeq: anchorSeq, anchorHash: anchorHash, headSeq: headSeq, headHash: headHash)
            }
            throw StoreError.corrupt("the audit chain has no head row")
        }
    }

    public func pruneAudit(before timestamp: String) async throws -> Int {
        try await transaction { s in
            // Only a prefix of the chain goes, so what is left still links to the anchor.
            var last: (Int64, String)?
            for try await row in try await s.query(
                """
                SELECT seq, hash FROM audit_records
                WHERE seq = (SELECT max(seq) FROM audit_records WHERE activity_date_time < \(timestamp))
                """
            ).decode((Int64, String).self) {
                last = row
            }
            guard let (seq, hash) = last else { return 0 }
            let deleted =
                try await s.scalar(
                    "WITH gone AS (DELETE FROM audit_records WHERE seq <= \(seq) RETURNING 1) SELECT count(*) FROM gone",
                    Int64.self) ?? 0
            try await s.execute("UPDATE audit_chain SET anchor_seq = \(seq), anchor_hash = \(hash) WHERE id = 1")
            return Int(deleted)
        }
    }
}
