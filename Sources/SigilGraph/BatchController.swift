import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SigilCore

/// The router as a whole, for a batch's inner requests. Installed once every route is
/// registered (`buildRouter`), so an inner request meets exactly what a direct request meets:
/// metrics, the error envelope, the deadline, authentication, throttling, the controller, the
/// service's permission check and its audit record.
final class BatchDispatcher: Sendable {
    private let responder = Locked<RouterResponder<GraphContext>?>(nil)

    func install(_ router: Router<GraphContext>) {
        let built = router.buildResponder()
        responder.withLock { $0 = built }
    }

    func respond(to request: Request, context: GraphContext) async throws -> Response {
        guard let responder = responder.withLock({ $0 }) else { throw GraphError.internalError }
        return try await responder.respond(to: request, context: context)
    }
}

/// `POST /{version}/$batch`: Graph's JSON batching. Each inner request is dispatched through the
/// router with the batch's own Authorization header, one at a time, dependencies first, and its
/// response captured; the batch answers 200 with the responses in the order the client listed.
struct BatchController: Sendable {
    let dispatcher: BatchDispatcher

    func register(on group: RouterGroup<GraphContext>) {
        group.post("$batch", use: batch)
    }

    @Sendable func batch(_ request: Request, context: GraphContext) async throws -> Response {
        _ = try context.requireCaller()
        let steps = try BatchRules.parse(try await request.jsonBody(context: context), version: request.apiVersion)
        var responses = [JSONValue?](repeating: nil, count: steps.count)
        var succeeded = [Bool](repeating: false, count: steps.count)
        for index in BatchRules.executionOrder(steps) {
            let step = steps[index]
            var response: Response
            if let failed = step.dependsOn.first(where: { !succeeded[$0] }) {
                // Answered here, not by the router, so the ids the middleware adds are added here.
                let inner = innerContext(of: context, step: step)
                response = GraphResponse.error(.failedDependency(id: step.id, dependency: steps[failed].id), context: inner)
                response.headers[.requestId] = inner.requestId
                response.headers[.clientRequestId] = inner.clientRequestId ?? inner.requestId
            } else {
                response = try await dispatcher.respond(
                    to: innerRequest(step, outer: request), context: innerContext(of: context, step: step))
            }
            succeeded[index] = (200..<300).contains(response.status.code)
            responses[index] = try await Self.render(response, id: step.id)
        }
        return GraphResponse.json(["responses": .array(responses.compactMap { $0 })])
    }

    /// The inner request: its own method, path, headers and body; the batch's Authorization
    /// (and forwarding header, which only a trusted proxy sets) replace any the client put inside.
    func innerRequest(_ step: BatchStep, outer: Request) -> Request {
        var fields = HTTPFields()
        for (name, value) in step.headers {
            guard let field = HTTPField.Name(name), field != .authorization, field != .xForwardedFor else { continue }
            fields.append(HTTPField(name: field, value: value))
        }
        for name in [HTTPField.Name.authorization, .xForwardedFor] {
            if let value = outer.headers[name] { fields[name] = value }
        }
        let head = HTTPRequest(
            method: HTTPRequest.Method(step.method) ?? .get, scheme: outer.head.scheme, authority: outer.head.authority,
            path: step.target, headerFields: fields)
        let body = step.body.map { RequestBody(buffer: ByteBuffer(bytes: $0)) } ?? RequestBody(buffer: ByteBuffer())
        return Request(head: head, body: body)
    }

    /// The connection's context with a request id of the inner request's own and no caller yet:
    /// authentication runs again for it.
    func innerContext(of outer: GraphContext, step: BatchStep) -> GraphContext {
        var context = outer
        context.requestId = UUID().uuidString.lowercased()
        context.clientRequestId = step.headers.first { $0.name.lowercased() == "client-request-id" }?.value
        context.caller = nil
        context.forwardedClient = nil
        context.logger[metadataKey: "request_id"] = .string(context.requestId)
        return context
    }

    /// `{id, status, headers, body}`: a JSON body embedded as JSON, any other body base64 encoded.
    static func render(_ response: Response, id: String) async throws -> JSONValue {
        // Names as written (`Content-Type`); repeated fields joined as one, as HTTP allows.
        var headers = JSONObject()
        for name in Set(response.headers.map(\.name)).sorted(by: { $0.canonicalName < $1.canonicalName }) {
            headers.append(name.rawName, .string(response.headers[values: name].joined(separator: ", ")))
        }
        var object = JSONObject([("id", .string(id)), ("status", .integer(Int64(response.status.code)))])
        object.append("headers", .object(headers))
        let collector = BodyCollector()
        try await response.body.write(collector)
        let bytes = collector.bytes.withLock { $0 }
        if !bytes.isEmpty {
            let isJSON = response.headers[.contentType]?.lowercased().hasPrefix("application/json") == true
            if isJSON, let value = try? JSON.parse(bytes) {
                object.append("body", value)
            } else {
                object.append("body", .string(Data(bytes).base64EncodedString()))
            }
        }
        return .object(object)
    }
}

/// Collects a response body in memory (an inner response is at most a page of JSON).
struct BodyCollector: ResponseBodyWriter {
    let bytes = Locked<[UInt8]>([])

    mutating func write(_ buffer: ByteBuffer) async throws {
        bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

extension GraphError {
    /// A batched request whose dependency did not succeed is not run.
    static func failedDependency(id: String, dependency: String) -> GraphError {
        GraphError(
            status: 424, code: .failedDependency,
            message: "Request '\(id)' was not run because request '\(dependency)', which it depends on, did not succeed.")
    }
}
