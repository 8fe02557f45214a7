import Hummingbird
import Logging
import NIOCore
import SigilCore
import SigilService

/// Outermost middleware: gives every response `request-id` and `client-request-id` headers and
/// turns every failure into Graph's error envelope, so no client ever sees a bare 500 or 404.
struct GraphErrorMiddleware: RouterMiddleware {
    typealias Context = GraphContext
    /// Logs one info line per answered request (`ServerOptions.accessLog`).
    var accessLog = false
    var trustedProxies: [IPRange] = []

    func handle(_ request: Request, context: GraphContext, next: (Request, GraphContext) async throws -> Response) async throws
        -> Response
    {
        var context = context
        if let clientRequestId = request.headers[.clientRequestId], !clientRequestId.isEmpty, clientRequestId.count <= 128 {
            context.clientRequestId = clientRequestId
        }
        if !trustedProxies.isEmpty {
            context.forwardedClient = forwardedClient(
                peer: context.peer?.ipAddress, forwardedFor: request.headers[values: .xForwardedFor], trusted: trustedProxies)
        }
        // Every line logged while serving this request carries its id.
        context.logger[metadataKey: "request_id"] = .string(context.requestId)
        let start = ContinuousClock.now
        var response: Response
        do {
            try Self.checkHeaderSize(request.headers)
            response = try await next(request, context)
        } catch let error as HTTPError where ScimController.owns(request.uri.path) {
            // No SCIM route matched: SCIM's error schema, 405 on a known path.
            response = ScimErrorMiddleware.response(ScimController.unmatched(request.uri.path, error))
        } catch {
            let graphError = graphError(for: error, request: request, context: context)
            response = GraphResponse.error(graphError, context: context)
            // The Graph SDKs' retry handlers honour Retry-After on 429 and 503.
            if let seconds = graphError.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        }
        response.headers[.requestId] = context.requestId
        response.headers[.clientRequestId] = context.clientRequestId ?? context.requestId
        if accessLog { Self.log(request, response, context: context, since: start) }
        return response
    }

    /// Method, route template (never the path's ids or the query string, which can hold
    /// attribute values), status and duration.
    static func log(_ request: Request, _ response: Response, context: GraphContext, since start: ContinuousClock.Instant) {
        let milliseconds = (ContinuousClock.now - start) / .milliseconds(1)
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "route": .string(context.endpointPath ?? "unmatched"),
                "status": .stringConvertible(response.status.code), "duration_ms": .string(String(format: "%.2f", milliseconds)),
            ])
    }

    /// Refuses headers larger than `Limits.requestHeaderBytes` in all.
    static func checkHeaderSize(_ headers: HTTPFields) throws(GraphError) {
        var bytes = 0
        for field in headers { bytes += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        guard bytes <= Limits.requestHeaderBytes else {
            throw GraphError(
                status: 431, code: .headersTooLarge,
                message: "The request headers are \(bytes) bytes; the limit is \(Limits.requestHeaderBytes).")
        }
    }

    func graphError(for error: any Error, request: Request, context: GraphContext) -> GraphError {
        switch error {
        case let error as GraphError:
            return error
        case is CancellationError:
            // Only the deadline cancels a request; the client has gone otherwise.
            return .serviceNotAvailable
        case let error as HTTPError where error.status == .notFound:
            do {
                let segment = try decodePathSegment(request.uri.path.split(separator: "/").last ?? "")
                return GraphError(status: 400, code: .badRequest, message: "Resource not found for the segment '\(segment)'.")
            } catch {
                return error
            }
        case let error as HTTPError where error.status == .methodNotAllowed:
            return .methodNotAllowed
        case is NIOTooManyBytesError:
            return GraphError(
                status: 413, code: .entityTooLarge,
                message: "The request body is larger than the limit of \(Limits.requestBodyBytes) bytes.")
        default:
            // The route template, as the access log has it: the path itself names users (UPNs)
            // and allowed values.
            context.logger.error(
                "request failed",
                metadata: [
                    "error": "\(error)", "method": .string(request.method.rawValue),
                    "route": .string(context.endpointPath ?? "unmatched"),
                ])
            return .internalError
        }
    }
}

/// Turns a bearer token into a `Caller` with its current role grants; every Graph route sits
/// behind it. Grants are read per request, so a new role assignment takes effect at once.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = GraphContext
    let services: SigilServices
    /// Off unless `--rate-limit` is given.
    let limiter: RateLimiter?

    func handle(_ request: Request, context: GraphContext, next: (Request, GraphContext) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization], !header.isEmpty else {
            throw GraphError.unauthenticated("Access token is empty.")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw GraphError.unauthenticated(
                "Access token validation failure. The Authorization header must be 'Bearer <token>'.")
        }
        var context = context
        let caller = try await services.caller(forToken: String(parts[1]))
        if let limiter, let seconds = limiter.admit(caller.principalId) { throw GraphError.tooManyRequests(retryAfterSeconds: seconds) }
        context.caller = caller
        return try await next(request, context)
    }
}
