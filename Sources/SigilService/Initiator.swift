import Logging
import SigilCore
import SigilStore

/// Who is acting in a use-case: the resolved caller, what the audit records of its changes say
/// about it (address, user agent, correlation id), and where failures are logged. Every front end
/// builds one per request and hands it to the service.
public struct Initiator: Sendable {
    public let caller: Caller
    public let audit: AuditContext
    public let logger: Logger

    public init(caller: Caller, audit: AuditContext, logger: Logger) {
        self.caller = caller
        self.audit = audit
        self.logger = logger
    }
}
