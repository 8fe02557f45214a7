import Hummingbird
import Logging
import NIOCore
import SigilCore

/// Outermost middleware: gives every response `request-id` and `client-request-id` headers and
/// turns every failure into Graph's error envelope, so no client ever sees a bare 500 or 404.
struct GraphErrorMiddleware: RouterMiddleware {
    typealias Context = GraphContext

    func handle(_ request: Request, context: GraphContext, next: (Request, GraphContext) async throws -> Response) async throws
        -> Response
    {
        var context = context
        if let clientRequestId = request.headers[.clientRequestId], !clientRequestId.isEmpty, clientRequestId.count <= 128 {
            context.clientRequestId = clientRequestId
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let graphError = graphError(for: error, request: request, context: context)
            response = GraphResponse.error(graphError, context: context)
            // The Graph SDKs' retry handlers honour Retry-After on 503.
            if graphError.status == 503 { response.headers[.retryAfter] = "2" }
        }
        response.headers[.requestId] = context.requestId
        response.headers[.clientRequestId] = context.clientRequestId ?? context.requestId
        return response
    }

    func graphError(for error: any Error, request: Request, context: GraphContext) -> GraphError {
        switch error {
        case let error as GraphError:
            return error
        case let error as HTTPError where error.status == .notFound:
            let segment = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
            return GraphError(status: 400, code: .badRequest, message: "Resource not found for the segment '\(segment)'.")
        case let error as HTTPError where error.status == .methodNotAllowed:
            return .methodNotAllowed
        case is NIOTooManyBytesError:
            return GraphError(
                status: 413, code: .entityTooLarge,
                message: "The request body is larger than the limit of \(Limits.requestBodyBytes) bytes.")
        default:
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return .internalError
        }
    }
}

/// Turns a bearer token into a `Caller` with its current role grants; every Graph route sits
/// behind it. Grants are read per request, so a new role assignment takes effect at once.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = GraphContext
    let services: SigilServices

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
        context.caller = try await services.caller(forToken: String(parts[1]))
        return try await next(request, context)
    }
}
