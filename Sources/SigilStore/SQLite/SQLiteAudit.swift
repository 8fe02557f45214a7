import GRDB
import SigilCore

extension SQLiteStore {
    /// Links and inserts records inside the caller's write transaction. SQLite has one writer,
    /// so reading the head and writing after it cannot race.
    static func append(_ records: [AuditRecord], _ db: Database) throws {
        guard !records.isEmpty else { return }
        guard let head = try Row.fetchOne(db.cachedStatement(sql: "SELECT head_seq, head_hash FROM audit_chain WHERE id = 1"))
        else {
            throw StoreError.corrupt("the audit chain has no head row")
        }
        let rows = AuditChain.link(records, afterSeq: head["head_seq"], hash: head["head_hash"])
        let insertRecord = try db.cachedStatement(
            sql: """
                INSERT INTO audit_records (seq, id, activity_date_time, activity, result, initiator_user_id,
                    initiator_app_id, target_id, record, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for row in rows {
            try insertRecord.execute(
                arguments: [
                    row.seq, row.columns.record.id, row.columns.timestamp, row.columns.record.activity.rawValue,
                    row.columns.record.result.rawValue, row.columns.initiatorUserId, row.columns.initiatorAppId,
                    row.columns.targetId, row.columns.canonical, row.previousHash, row.hash,
                ])
        }
        if let last = rows.last {
            try db.cachedStatement(sql: "UPDATE audit_chain SET head_seq = ?, head_hash = ? WHERE id = 1")
                .execute(arguments: [last.seq, last.hash])
        }
    }

    public func appendAudit(_ records: [AuditRecord]) async throws {
        try await writer.write { db in try Self.append(records, db) }
    }

    static func decodeAudit(_ row: Row) -> StoredAuditRecord {
        StoredAuditRecord(seq: row["seq"], json: row["record"], previousHash: row["previous_hash"], hash: row["hash"])
    }

    public func auditRecords(_ query: AuditQuery, after cursor: Int64?, limit: Int) async throws -> AuditPage {
        let request = SQLRequest<Row>(literal: AuditSQL.page(query, after: cursor, limit: limit).grdb)
        let records = try await writer.read { db in try Row.fetchAll(db, request).map(Self.decodeAudit) }
        return AuditSQL.page(records, limit: limit)
    }

    public func auditRecord(id: String) async throws -> StoredAuditRecord? {
        try await writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(AuditSQL.columns) FROM audit_records WHERE id = ?", arguments: [id.lowercased()]
            ).map(Self.decodeAudit)
        }
    }

    public func auditChain(after seq: Int64, limit: Int) async throws -> [StoredAuditRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(AuditSQL.columns) FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [seq, limit]
            ).map(Self.decodeAudit)
        }
    }

    public func auditEnds() async throws -> AuditChainEnds {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT anchor_seq, anchor_hash, head_seq, head_hash FROM audit_chain WHERE id = 1")
            else { throw StoreError.corrupt("the audit chain has no head row") }
            return AuditChainEnds(
                anchorSeq: row["anchor_seq"], anchorHash: row["anchor_hash"], headSeq: row["head_seq"],
                headHash: row["head_hash"])
        }
    }

    public func pruneAudit(before timestamp: String) async throws -> Int {
        try await writer.write { db in
            // Only a prefix of the chain goes, so what is left still links to the anchor.
            guard
                let last = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT seq, hash FROM audit_records
                        WHERE seq = (SELECT MAX(seq) FROM audit_records WHERE activity_date_time < ?)
                        """, arguments: [timestamp])
            else { return 0 }
            let seq: Int64 = last["seq"]
            try db.execute(sql: "DELETE FROM audit_records WHERE seq <= ?", arguments: [seq])
            let deleted = db.changesCount
            try db.execute(
                sql: "UPDATE audit_chain SET anchor_seq = ?, anchor_hash = ? WHERE id = 1",
                arguments: [seq, last["hash"] as String])
            return deleted
        }
    }
}
