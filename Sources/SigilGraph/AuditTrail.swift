import Hummingbird
import SigilCore
import SigilService
import SigilStore

extension GraphContext {
    /// Who is acting in this request, for the audit records its changes write.
    public func audit(_ request: Request, caller: Caller) -> AuditContext {
        AuditContext(
            initiatedBy: caller.auditInitiator(ipAddress: clientAddress), correlationId: requestId,
            userAgent: request.headers[.userAgent])
    }

    /// The request's authenticated caller as the initiator of a use-case (401 without one).
    func initiator(_ request: Request) throws -> Initiator {
        let caller = try requireCaller()
        return Initiator(caller: caller, audit: audit(request, caller: caller), logger: logger)
    }
}

extension SigilServices {
    /// `recordingRefusal` for a request: the initiator is `caller`, else the request's caller.
    public func recordingRefusal<T>(
        _ activity: AuditActivity, target: @autoclosure () -> AuditTarget?, _ request: Request, _ context: GraphContext,
        caller: Caller? = nil, _ body: () async throws -> T
    ) async throws -> T {
        try await recordingRefusal(
            activity, target: target(), audit: (caller ?? context.caller).map { context.audit(request, caller: $0) },
            logger: context.logger, body)
    }
}
