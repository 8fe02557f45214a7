import Hummingbird
import SigilCore
import SigilStore

extension GraphContext {
    /// Who is acting in this request, for the audit records its changes write.
    public func audit(_ request: Request, caller: Caller) -> AuditContext {
        AuditContext(
            initiatedBy: caller.auditInitiator(ipAddress: clientAddress), correlationId: requestId,
            userAgent: request.headers[.userAgent])
    }
}

extension SigilServices {
    /// Runs an audited change; when it is refused (400 or 403), writes a `failure` record naming
    /// the reason before passing the error on. The refused change wrote nothing, so the record
    /// gets a transaction of its own. `caller` is the context's (API) unless given (console).
    public func recordingRefusal<T>(
        _ activity: AuditActivity, target: @autoclosure () -> AuditTarget?, _ request: Request, _ context: GraphContext,
        caller: Caller? = nil, _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch let error as GraphError where error.status == 400 || error.status == 403 {
            if let caller = caller ?? context.caller {
                let record = AuditLog.failure(
                    activity, target: target(), reason: error.message, context: context.audit(request, caller: caller))
                do {
                    try await store.appendAudit([record])
                } catch {
                    context.logger.error(
                        "could not record a refused change in the audit log",
                        metadata: ["activity": "\(activity.rawValue)", "error": "\(error)"])
                }
            }
            throw error
        }
    }
}

/// A set or definition named in a request, as an audit target.
func schemaTarget(_ id: String?) -> AuditTarget? {
    id.map(AuditTarget.schemaItem)
}
