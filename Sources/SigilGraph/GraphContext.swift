import Foundation
import Hummingbird
import NIOCore
import SigilCore
import SigilService

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
    /// An inner request of a JSON batch (`BatchController`).
    var isBatched = false
    /// An inner request's JSON body as the batch carried it, parsed and checked with the batch.
    var batchedBody: JSONValue?
    /// The client's IP address, for the audit log and the sign-in throttle.
    public var clientAddress: String? { forwardedClient ?? peer?.ipAddress }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestId = RandomId.uuid()
        peer = source.channel.remoteAddress
    }

    /// Bodies are read by `GraphRequest.jsonBody`, which applies `Limits.requestBodyBytes`.
    public var maxUploadSize: Int { Limits.requestBodyBytes }

    /// The route's parameters, percent-decoded. Hummingbird hands them over as written in the path
    /// (`chandra%40sigil.local`); this shadows its `parameters` so that every handler reading a
    /// parameter from a `GraphContext` gets the decoded value and no route can forget to decode.
    public var parameters: PathParameters { PathParameters(raw: coreContext.parameters) }

    /// The authenticated caller; routes behind `AuthenticationMiddleware` always have one.
    func requireCaller() throws -> Caller {
        guard let caller else { throw GraphError.unauthenticated("Access token is empty.") }
        return caller
    }
}

/// A route's parameters, each decoded exactly once when read (`decodePathSegment`). Routing split
/// the path on its literal slashes, so an encoded slash (`%2F`) stays inside its segment.
public struct PathParameters: Sendable {
    let raw: Parameters

    /// The decoded parameter; 400 when its percent escapes are malformed, not UTF-8 or hold NUL.
    public func require(_ name: String) throws -> String {
        guard let segment = raw[name[...]] else { throw MissingParameter(name: name) }
        return try decodePathSegment(segment)
    }

    /// A handler asked for a parameter its route template does not name: a programming error,
    /// answered 500 and logged.
    struct MissingParameter: Error {
        let name: String
    }
}
