import Crypto
import Foundation
import SigilCore

/// The audit log's hash chain: each record's hash covers the previous record's hash and the
/// record's canonical JSON, so editing, removing or reordering a record breaks every later link.
public enum AuditChain {
    /// The `previousHash` of the very first record.
    public static let genesis = String(repeating: "0", count: 64)

    public static func hash(previous: String, canonical: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Data(previous.utf8))
        hasher.update(data: Data([0x0A]))
        hasher.update(data: Data(canonical.utf8))
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in hasher.finalize() {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// A record stamped with the time it is stored, its canonical JSON, and the columns a
    /// store keeps beside that JSON so filters can use indexes. Both stores insert these.
    struct Columns {
        let record: AuditRecord
        let canonical: String
        let timestamp: String

        init(_ record: AuditRecord, at now: Date) {
            var record = record
            record.activityDateTime = now
            self.record = record
            canonical = record.json.serializedString
            timestamp = AuditRecord.timestamp(now)
        }

        var initiatorUserId: String? {
            if case .user = record.initiatedBy.kind { return record.initiatedBy.id.lowercased() }
            return nil
        }

        var initiatorAppId: String? {
            if case .app(let appId) = record.initiatedBy.kind { return appId?.lowercased() }
            return nil
        }

        /// Every activity acts on one object (failures may name none): one column, one index.
        var targetId: String? { record.targets.first?.id.lowercased() }
    }

    /// Stored columns with their place in the chain (SQLite links as it inserts).
    struct Row {
        let seq: Int64
        let columns: Columns
        let previousHash: String
        let hash: String
    }

    /// Links `records` after the head (`seq`, `hash`), stamped with the time they join the chain
    /// (under the store's head lock), so time order and chain order agree.
    static func link(_ records: [AuditRecord], afterSeq seq: Int64, hash: String, at now: Date = Date()) -> [Row] {
        var (seq, hash) = (seq, hash)
        return records.map { record in
            let columns = Columns(record, at: now)
            let next = Self.hash(previous: hash, canonical: columns.canonical)
            seq += 1
            defer { hash = next }
            return Row(seq: seq, columns: columns, previousHash: hash, hash: next)
        }
    }
}

/// A record as stored: its place in the chain, its JSON as hashed, and the links.
public struct StoredAuditRecord: Sendable, Equatable {
    public let seq: Int64
    public let json: String
    public let previousHash: String
    public let hash: String

    public init(seq: Int64, json: String, previousHash: String, hash: String) {
        self.seq = seq
        self.json = json
        self.previousHash = previousHash
        self.hash = hash
    }
}

public struct AuditPage: Sendable {
    public let records: [StoredAuditRecord]
    /// Cursor for the following page; nil on the last page.
    public let next: Int64?

    public init(records: [StoredAuditRecord], next: Int64?) {
        self.records = records
        self.next = next
    }
}

/// Where the chain begins (the anchor left by pruning, or the genesis), its current head, and
/// how many committed records wait to be sealed into it (PostgreSQL seals after commit).
public struct AuditChainEnds: Sendable, Equatable {
    public let anchorSeq: Int64
    public let anchorHash: String
    public let headSeq: Int64
    public let headHash: String
    public let unsealed: Int

    public init(anchorSeq: Int64, anchorHash: String, headSeq: Int64, headHash: String, unsealed: Int = 0) {
        self.anchorSeq = anchorSeq
        self.anchorHash = anchorHash
        self.headSeq = headSeq
        self.headHash = headHash
        self.unsealed = unsealed
    }
}

/// What walking the chain found.
public enum AuditVerification: Sendable, Equatable {
    /// Every sealed record links; `unsealed` more were committed but not linked yet.
    case intact(records: Int, headHash: String, unsealed: Int = 0)
    /// The first record (by sequence number) whose link does not hold, and why.
    case broken(seq: Int64, recordId: String?, reason: String)
}

extension DirectoryStore {
    /// Walks the chain from its anchor to its head, recomputing every hash; first seals what is
    /// committed but not linked yet, unless `sealingPending` is false.
    public func verifyAuditChain(pageSize: Int = 1000, sealingPending: Bool = true) async throws -> AuditVerification {
        if sealingPending { try await sealAudit() }
        let ends = try await auditEnds()
        var (seq, hash, count) = (ends.anchorSeq, ends.anchorHash, 0)
        while true {
            let page = try await auditChain(after: seq, limit: pageSize)
            for record in page {
                let id = (try? JSON.parse(Array(record.json.utf8)))?.objectValue?["id"]?.stringValue
                guard record.seq == seq + 1 else {
                    return .broken(seq: seq + 1, recordId: nil, reason: "record \(seq + 1) is missing (the next is \(record.seq))")
                }
                guard record.previousHash == hash else {
                    return .broken(seq: record.seq, recordId: id, reason: "its previous hash does not match the record before it")
                }
                guard AuditChain.hash(previous: hash, canonical: record.json) == record.hash else {
                    return .broken(seq: record.seq, recordId: id, reason: "its content does not match its hash (edited)")
                }
                (seq, hash, count) = (record.seq, record.hash, count + 1)
            }
            if page.count < pageSize { break }
        }
        guard seq == ends.headSeq, hash == ends.headHash else {
            return .broken(
                seq: seq + 1, recordId: nil,
                reason: "the chain ends at record \(seq) but its head says \(ends.headSeq): later records were removed")
        }
        return .intact(records: count, headHash: hash, unsealed: ends.unsealed)
    }
}

/// The audit log's tables and queries, written once for both stores.
enum AuditSQL {
    static let columns = "seq, record, previous_hash, hash"

    /// A page of `query` in its order, one row more than `limit` to tell whether another page
    /// follows.
    static func page(_ query: AuditQuery, after cursor: Int64?, limit: Int) -> SQLFragment {
        var conditions: [SQLFragment] = []
        // Records of other categories (Conditional Access policies) are never listed here.
        let activities = query.activities
        if query.activity != nil || query.activityPrefix != nil || activities.count < AuditActivity.allCases.count {
            if activities.isEmpty {
                conditions.append("1 = 0")
            } else {
                conditions.append("activity IN (\(activities.map { "\($0.rawValue)" as SQLFragment }.joined(separator: ", ")))")
            }
        }
        func add(_ column: String, _ op: String, _ value: String?) {
            guard let value else { return }
            conditions.append("\(sql: column) \(sql: op) \(value)")
        }
        add("activity_date_time", ">=", query.earliest)
        add("activity_date_time", "<=", query.latest)
        add("initiator_user_id", "=", query.initiatorUserId)
        add("initiator_app_id", "=", query.initiatorAppId)
        add("result", "=", query.result?.rawValue)
        add("target_id", "=", query.targetId)
        if let cursor { conditions.append("\(sql: query.newestFirst ? "seq < \(cursor)" : "seq > \(cursor)")") }
        let clause: SQLFragment = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return """
            SELECT \(sql: columns) FROM audit_records\(clause) ORDER BY seq \(sql: query.newestFirst ? "DESC" : "ASC") \
            LIMIT \(sql: String(limit + 1))
            """
    }

    static func page(_ records: [StoredAuditRecord], limit: Int) -> AuditPage {
        records.count > limit
            ? AuditPage(records: Array(records.prefix(limit)), next: records[limit - 1].seq)
            : AuditPage(records: records, next: nil)
    }
}
