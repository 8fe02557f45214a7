import Logging
import SigilCore
import SigilStore

extension SigilServices {
    /// Runs a change and, when it is refused (400 or 403), records the refusal in the audit log
    /// as a failure naming `target`, then rethrows. Without an `audit` context (no known
    /// initiator, as for a 401) nothing is recorded. A record that cannot be written is logged and
    /// does not hide the refusal.
    public func recordingRefusal<T>(
        _ activity: AuditActivity, target: @autoclosure () -> AuditTarget?, audit: AuditContext?, logger: Logger,
        _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch let error as GraphError where error.status == 400 || error.status == 403 {
            if let audit {
                let record = AuditLog.failure(activity, target: target(), reason: error.message, context: audit)
                do {
                    try await store.appendAudit([record])
                } catch {
                    logger.error(
                        "could not record a refused change in the audit log",
                        metadata: ["activity": "\(activity.rawValue)", "error": "\(error)"])
                }
            }
            throw error
        }
    }
}

/// A set or definition named in a request, as an audit target.
public func schemaTarget(_ id: String?) -> AuditTarget? {
    id.map(AuditTarget.schemaItem)
}
