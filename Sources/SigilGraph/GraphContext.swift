import Foundation
import Hummingbird
import NIOCore
import SigilCore

/// Per-request state: the ids Graph echoes in headers and errors, and the authenticated caller.
public struct GraphContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestId: String
    public var clientRequestId: String?
    public var caller: Caller?
    /// The connection's peer; formatted only when a request is audited, not on every request.
    let peer: SocketAddress?
    /// Set when the peer is a trusted proxy (`--trusted-proxy`): the client it forwarded for.
    var forwardedClient: String?
    /// The client's IP address, for the audit log and the sign-in throttle.
    public var clientAddress: String? { forwardedClient ?? peer?.ipAddress }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestId = UUID().uuidString.lowercased()
        peer = source.channel.remoteAddress
    }

    /// Bodies are read by `GraphRequest.jsonBody`, which applies `Limits.requestBodyBytes`.
    public var maxUploadSize: Int { Limits.requestBodyBytes }

    /// The authenticated caller; routes behind `AuthenticationMiddleware` always have one.
    func requireCaller() throws -> Caller {
        guard let caller else { throw GraphError.unauthenticated("Access token is empty.") }
        return caller
    }
}
