import Foundation
import PostgresNIO
import SigilCore

extension PostgresStore {
    /// Inserts records inside the caller's transaction, unsealed: no lock, so audited writes on
    /// every instance commit side by side. `sealAudit` links them into the chain after commit.
    static func append(_ records: [AuditRecord], _ s: Session) async throws {
        guard !records.isEmpty else { return }
        let now = Date()
        let rows = records.map { AuditChain.Columns($0, at: now) }
        try await s.execute(
            """
            INSERT INTO audit_records (id, activity_date_time, activity, result, initiator_user_id, initiator_app_id,
                target_id, record)
            SELECT id, at, activity, result, NULLIF(usr, ''), NULLIF(app, ''), NULLIF(target, ''), record
            FROM unnest(\(rows.map(\.record.id))::text[], \(rows.map(\.timestamp))::text[],
                \(rows.map(\.record.activity.rawValue))::text[], \(rows.map(\.record.result.rawValue))::text[],
                \(rows.map { $0.initiatorUserId ?? "" })::text[], \(rows.map { $0.initiatorAppId ?? "" })::text[],
                \(rows.map { $0.targetId ?? "" })::text[], \(rows.map(\.canonical))::text[])
                AS r(id, at, activity, result, usr, app, target, record)
            """)
    }

    public func appendAudit(_ records: [AuditRecord]) async throws {
        try await transaction { s in try await Self.append(records, s) }
        sealRequests.yield()
    }

    /// Links every committed, unsealed record into the hash chain, in the order of their
    /// sequence numbers, under an advisory lock so one sealer runs at a time across instances.
    /// Each instance's sealer task runs it after audited commits (a burst coalesces into one
    /// run), every half second for what other instances left, and at start.
    public func sealAudit() async throws {
        // One cheap read when nothing waits (the usual case for the twice-a-second wake-up),
        // instead of a transaction with the advisory lock.
        let pending = try await withSession { s in
            try await s.scalar("SELECT EXISTS (SELECT 1 FROM audit_records WHERE chain_seq IS NULL)", Bool.self) ?? true
        }
        guard pending else { return }
        try await transaction { s in
            try await s.execute("SELECT pg_advisory_xact_lock(\(self.location.lockKey("audit")))")
            var head: (Int64, String)?
            for try await row in try await s.query("SELECT head_seq, head_hash FROM audit_chain WHERE id = 1")
                .decode((Int64, String).self)
            {
                head = row
            }
            guard var (chain, hash) = head else { throw StoreError.corrupt("the audit chain has no head row") }
            while true {
                var pending: [(Int64, String)] = []
                for try await row in try await s.query(
                    "SELECT seq, record FROM audit_records WHERE chain_seq IS NULL ORDER BY seq LIMIT 500"
                ).decode((Int64, String).self) {
                    pending.append(row)
                }
                guard !pending.isEmpty else { break }
                var (seqs, chains, previous, hashes): ([Int64], [Int64], [String], [String]) = ([], [], [], [])
                for (seq, record) in pending {
                    chain += 1
                    let next = AuditChain.hash(previous: hash, canonical: record)
                    seqs.append(seq)
                    chains.append(chain)
                    previous.append(hash)
                    hashes.append(next)
                    hash = next
                }
                try await s.execute(
                    """
                    UPDATE audit_records AS a SET chain_seq = u.chain, previous_hash = u.previous, hash = u.hash
                    FROM unnest(\(seqs)::int8[], \(chains)::int8[], \(previous)::text[], \(hashes)::text[])
                        AS u(seq, chain, previous, hash)
                    WHERE a.seq = u.seq
                    """)
                try await s.execute("UPDATE audit_chain SET head_seq = \(chain), head_hash = \(hash) WHERE id = 1")
                if pending.count < 500 { break }
            }
        }
    }

    /// Rows of (position, record, previous hash, hash); unsealed records have no hashes yet.
    static func auditRecords(_ rows: PostgresRowSequence) async throws -> [StoredAuditRecord] {
        var records: [StoredAuditRecord] = []
        for try await (seq, json, previous, hash) in rows.decode((Int64, String, String?, String?).self) {
            records.append(StoredAuditRecord(seq: seq, json: json, previousHash: previous ?? "", hash: hash ?? ""))
        }
        return records
    }

    public func auditRecords(_ query: AuditQuery, after cursor: Int64?, limit: Int) async throws -> AuditPage {
        let statement = AuditSQL.page(query, after: cursor, limit: limit)
        let records = try await withSession { s in try await Self.auditRecords(try await s.select(statement)) }
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
                    """
                    SELECT chain_seq, record, previous_hash, hash FROM audit_records
                    WHERE chain_seq > \(seq) ORDER BY chain_seq LIMIT \(limit)
                    """))
        }
    }

    public func auditEnds() async throws -> AuditChainEnds {
        try await withSession { s in
            for try await (anchorSeq, anchorHash, headSeq, headHash, unsealed) in try await s.query(
                """
                SELECT anchor_seq, anchor_hash, head_seq, head_hash,
                    (SELECT count(*) FROM audit_records WHERE chain_seq IS NULL)
                FROM audit_chain WHERE id = 1
                """
            ).decode((Int64, String, Int64, String, Int64).self) {
                return AuditChainEnds(
                    anchorSeq: anchorSeq, anchorHash: anchorHash, headSeq: headSeq, headHash: headHash, unsealed: Int(unsealed))
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
                SELECT chain_seq, hash FROM audit_records
                WHERE chain_seq = (SELECT max(chain_seq) FROM audit_records WHERE activity_date_time < \(timestamp))
                """
            ).decode((Int64, String).self) {
                last = row
            }
            guard let (seq, hash) = last else { return 0 }
            let deleted =
                try await s.scalar(
                    "WITH gone AS (DELETE FROM audit_records WHERE chain_seq <= \(seq) RETURNING 1) SELECT count(*) FROM gone",
                    Int64.self) ?? 0
            try await s.execute("UPDATE audit_chain SET anchor_seq = \(seq), anchor_hash = \(hash) WHERE id = 1")
            return Int(deleted)
        }
    }
}

/// The sealer task's reference to its store, which must not keep the store alive.
final class WeakStore: @unchecked Sendable {
    // Written once, in the store's init, before the sealer can read it.
    weak var store: PostgresStore?
}
