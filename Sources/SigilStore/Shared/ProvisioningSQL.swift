import Foundation
import SigilCore

/// One page of provisioning log entries, newest first, and where the next begins.
public struct ProvisioningLogPage: Sendable {
    public let entries: [ProvisioningLogEntry]
    /// The sequence number to continue after; nil on the last page.
    public let next: Int64?
}

/// The provisioning log's SQL, written once for both stores: entries are kept as their
/// `provisioningObjectSummary` document, the other columns only serve filters.
enum ProvisioningSQL {
    static let logColumns = "seq, id, job_key, activity_date_time, status, source_id, document"

    /// A page of `query`, newest first, one row more than `limit` to tell whether another follows.
    static func page(_ query: ProvisioningLogQuery, after cursor: Int64?, limit: Int) -> SQLFragment {
        var conditions: [SQLFragment] = []
        func add(_ column: String, _ op: String, _ value: String?) {
            guard let value else { return }
            conditions.append("\(sql: column) \(sql: op) \(value)")
        }
        add("job_key", "=", query.jobId)
        add("status", "=", query.status?.rawValue)
        add("source_id", "=", query.sourceId)
        add("activity_date_time", ">=", query.earliest)
        add("activity_date_time", "<=", query.latest)
        if let cursor { conditions.append("seq < \(cursor)") }
        let clause: SQLFragment = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return """
            SELECT \(sql: logColumns) FROM provisioning_log\(clause) ORDER BY seq DESC LIMIT \(sql: String(limit + 1))
            """
    }

    /// An entry from its row.
    static func entry(id: String, jobKey: String, at: String, status: String, sourceId: String?, document: String) throws
        -> ProvisioningLogEntry
    {
        guard let object = try JSON.parse(document).objectValue, let status = ProvisioningLogEntry.Status(rawValue: status) else {
            throw StoreError.corrupt("provisioning log entry \(id) is not a JSON object")
        }
        return ProvisioningLogEntry(
            id: id, jobId: object["jobId"]?.stringValue ?? jobKey, activityDateTime: at, status: status, sourceId: sourceId,
            document: object)
    }

    static func page(_ rows: [(seq: Int64, entry: ProvisioningLogEntry)], limit: Int) -> ProvisioningLogPage {
        rows.count > limit
            ? ProvisioningLogPage(entries: rows.prefix(limit).map(\.entry), next: rows[limit - 1].seq)
            : ProvisioningLogPage(entries: rows.map(\.entry), next: nil)
    }
}
