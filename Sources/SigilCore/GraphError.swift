/// The error codes Sigil answers with, in Graph's directory family (`Request_*`, `Authorization_*`).
public enum GraphErrorCode: String, Sendable {
    case badRequest = "Request_BadRequest"
    case unsupportedQuery = "Request_UnsupportedQuery"
    case resourceNotFound = "Request_ResourceNotFound"
    case authorizationDenied = "Authorization_RequestDenied"
    case invalidAuthenticationToken = "InvalidAuthenticationToken"
    case methodNotAllowed = "Request_MethodNotAllowed"
    case entityTooLarge = "Request_EntityTooLarge"
    case conflict = "Request_Conflict"
    case internalServerError = "Service_InternalServerError"
    case serviceNotAvailable = "serviceNotAvailable"
    /// Graph's throttling answer (429), with a Retry-After header.
    case tooManyRequests = "TooManyRequests"
    case requestTimeout = "Request_Timeout"
    case headersTooLarge = "Request_HeadersTooLarge"
    /// A batched request not run because a request it depends on failed (424).
    case failedDependency = "FailedDependency"
}

/// A failure that reaches the caller as Graph's error envelope. Core decides the status and the
/// wording; the HTTP layer only renders it, so every front-end says the same thing.
public struct GraphError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    public let code: GraphErrorCode
    public let message: String
    /// Seconds the client should wait before retrying, sent as `Retry-After` (429, 503).
    public let retryAfterSeconds: Int?

    public init(status: Int, code: GraphErrorCode, message: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(status) \(code.rawValue): \(message)" }

    public static func badRequest(_ message: String) -> GraphError {
        GraphError(status: 400, code: .badRequest, message: message)
    }

    public static func invalidProperty(_ name: String) -> GraphError {
        .badRequest("Invalid property '\(name)'.")
    }

    public static func unsupportedQuery(_ message: String) -> GraphError {
        GraphError(status: 400, code: .unsupportedQuery, message: message)
    }

    public static func notFound(_ id: String) -> GraphError {
        GraphError(
            status: 404, code: .resourceNotFound,
            message: "Resource '\(id)' does not exist or one of its queried reference-property objects are not present.")
    }

    public static let forbidden = GraphError(
        status: 403, code: .authorizationDenied, message: "Insufficient privileges to complete the operation.")

    /// A principal writing custom security attribute values on itself (a user on its own user, an
    /// application on its own service principal).
    public static let ownAttributes = GraphError(
        status: 403, code: .authorizationDenied,
        message:
            "Insufficient privileges to complete the operation: no principal can assign, change or remove its own custom security attributes."
    )

    public static func unauthenticated(_ message: String) -> GraphError {
        GraphError(status: 401, code: .invalidAuthenticationToken, message: message)
    }

    /// Graph answers DELETE on the attribute configuration resources this way.
    public static let methodNotAllowed = GraphError(
        status: 405, code: .badRequest, message: "Specified HTTP method is not allowed for the request uri.")

    public static let duplicateId = GraphError.badRequest(
        "Another object with the same value for property id already exists.")

    public static let conflictingObject = GraphError.badRequest(
        "A conflicting object with one or more of the specified property values is present in the directory.")

    /// The store cannot reach its database; the request changed nothing and may be retried.
    public static let serviceNotAvailable = GraphError(
        status: 503, code: .serviceNotAvailable,
        message: "The service is temporarily unavailable: its database did not answer in time. Retry the request shortly.",
        retryAfterSeconds: 2)

    public static func tooManyRequests(retryAfterSeconds: Int) -> GraphError {
        GraphError(
            status: 429, code: .tooManyRequests,
            message: "Too many requests from this client. Retry after \(retryAfterSeconds) seconds.",
            retryAfterSeconds: retryAfterSeconds)
    }

    /// The request did not finish in time and was cancelled: a write still in its transaction is
    /// rolled back, one that had committed stays.
    public static func requestTimeout(seconds: Int) -> GraphError {
        GraphError(
            status: 504, code: .requestTimeout,
            message: "The request did not complete within \(seconds) seconds and was cancelled.")
    }

    public static let internalError = GraphError(
        status: 500, code: .internalServerError, message: "Encountered an internal server error.")
}
