import Foundation
import Hummingbird
import SigilCore
import SigilGraph
import SigilService
import SigilStore

/// Audit logs → Custom Security: the custom security attribute audit log, filtered by date and
/// activity, with each change's old and new values. Attribute Log Reader or Administrator only.
extension ConsoleController {
    func registerAuditPage(on console: RouterGroup<GraphContext>) {
        console.get("audit", use: auditPage)
    }

    static let auditPageSize = 50

    @Sendable func auditPage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let log = try AuditService(services: services).reader(for: signedIn.caller)
        let query = Self.query(request)
        var audit = AuditQuery()
        var error: String?
        let day = Date.ISO8601FormatStyle().year().month().day()
        if let from = query["from"], !from.isEmpty {
            if let date = try? day.parse(from) { audit.earliest = AuditRecord.timestamp(date) } else { error = "The start date is not a date." }
        }
        if let to = query["to"], !to.isEmpty {
            if let date = try? day.parse(to) {
                audit.latest = AuditRecord.timestamp(date.addingTimeInterval(86_400 - 0.000_000_1))
            } else {
                error = "The end date is not a date."
            }
        }
        let activity = AuditActivity.attributeActivities.first { $0.rawValue == query["activity"] }
        audit.activity = activity
        if query["result"] == "failure" { audit.result = .failure }
        let cursor = query["after"].flatMap(Int64.init)
        let found = error == nil ? try await log.records(audit, after: cursor, limit: Self.auditPageSize) : nil
        let rows = try (found?.records ?? []).map { try Self.auditRow($0) }
        var values = layout(signedIn, nav: "navAudit")
        values["rows"] = rows
        values["hasRows"] = !rows.isEmpty
        values["from"] = query["from"] ?? ""
        values["to"] = query["to"] ?? ""
        values["failuresOnly"] = query["result"] == "failure"
        values["activities"] = AuditActivity.attributeActivities.map { ["name": $0.rawValue, "selected": $0 == activity] }
        if let error { values["error"] = error }
        if let next = found?.next {
            values["nextPage"] = Self.nextPage(request, path: "/console/audit", after: next)
        }
        return page("audit", values, status: error == nil ? .ok : .badRequest, cookies: [signedIn.cookie])
    }

    static func auditRow(_ stored: StoredAuditRecord) throws -> [String: Any] {
        guard let record = (try? JSON.parse(stored.json))?.objectValue else {
            throw StoreError.corrupt("audit record \(stored.seq) is not a JSON object")
        }
        let initiator = record["initiatedBy"]?.objectValue
        let user = initiator?["user"]?.objectValue
        let app = initiator?["app"]?.objectValue
        let who =
            user.map { "\($0["displayName"]?.stringValue ?? "") \($0["userPrincipalName"]?.stringValue ?? "")" }
            ?? app.map { "\($0["displayName"]?.stringValue ?? "") (app \($0["appId"]?.stringValue ?? ""))" } ?? ""
        let target = record["targetResources"]?.arrayValue?.first?.objectValue
        let changes: [[String: Any]] = (target?["modifiedProperties"]?.arrayValue ?? []).compactMap { property in
            guard let property = property.objectValue, let name = property["displayName"]?.stringValue,
                name != "Included Updated Properties"
            else { return nil }
            return [
                "name": name, "old": property["oldValue"]?.stringValue ?? "(none)",
                "new": property["newValue"]?.stringValue ?? "(removed)",
            ]
        }
        let time = record["activityDateTime"]?.stringValue ?? ""
        return [
            "time": time.replacingOccurrences(of: "T", with: " ").prefix(19) + " UTC",
            "activity": record["activityDisplayName"]?.stringValue ?? "", "who": who,
            "target": target?["displayName"]?.stringValue ?? target?["id"]?.stringValue ?? "",
            "result": record["result"]?.stringValue ?? "", "reason": record["resultReason"]?.stringValue ?? "",
            "failed": record["result"]?.stringValue == "failure", "changes": changes,
        ]
    }
}
