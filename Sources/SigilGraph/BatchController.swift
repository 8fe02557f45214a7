import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SigilCore
import SigilService
import SigilStore

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
/// router with the batch's own Authorization header, each after the requests it depends on (a few
/// side by side), and its response captured; the batch answers 200 with the responses in the
/// order the client listed.
///
/// The inner requests run inside `SigilServices.sharingWrites`, so on SQLite their writes share
/// a transaction (a savepoint each) that commits before the batch answers; an inner request whose
/// work did not commit answers 500 instead of what it would have answered.
struct BatchController: Sendable {
    let services: SigilServices
    let dispatcher: BatchDispatcher

    func register(on group: RouterGroup<GraphContext>) {
        group.post("$batch", use: batch)
    }

    @Sendable func batch(_ request: Request, context: GraphContext) async throws -> Response {
        _ = try context.requireCaller()
        let steps = try BatchRules.parse(try await request.jsonBody(context: context), version: request.apiVersion)
        let contexts = steps.map { innerContext(of: context, step: $0) }
        let (captured, batch) = try await services.sharingWrites { batch in
            (try await run(steps, contexts: contexts, outer: request, batch: batch), batch)
        }
        // Nothing is reported as done that did not commit.
        let failed = batch.failedUnits
        if !failed.isEmpty {
            context.logger.error(
                "a batch's shared transaction did not commit",
                metadata: ["error": "\(batch.failure.map { "\($0)" } ?? "unknown")", "requests": "\(failed.count)"])
        }
        var rendered: [JSONValue] = []
        for (index, response) in captured.enumerated() {
            guard let response else { continue }
            let answer = failed.contains(index) ? Self.answer(.internalError, context: contexts[index]) : response
            rendered.append(try await Self.render(answer, id: steps[index].id))
        }
        return GraphResponse.json(["responses": .array(rendered)])
    }

    /// Runs the steps, each once its dependencies have answered, up to `Limits.batchConcurrency`
    /// side by side (Graph runs requests without `dependsOn` in any order, possibly in parallel):
    /// one request's routing, checks and rendering overlap another's database work. A step whose
    /// dependency did not succeed is answered 424 without running.
    private func run(_ steps: [BatchStep], contexts: [GraphContext], outer request: Request, batch: WriteBatch)
        async throws -> [Response?]
    {
        var responses = [Response?](repeating: nil, count: steps.count)
        var answered = [Bool](repeating: false, count: steps.count)
        var succeeded = [Bool](repeating: false, count: steps.count)
        var started = [Bool](repeating: false, count: steps.count)
        let order = BatchRules.executionOrder(steps)
        try await withThrowingTaskGroup(of: (Int, Response).self) { group in
            var running = 0
            while true {
                // In dependency order, so one pass also answers a chain of failed dependencies.
                for index in order where !started[index] && running < Limits.batchConcurrency {
                    let step = steps[index]
                    guard step.dependsOn.allSatisfy({ answered[$0] }) else { continue }
                    // The batch's deadline stops it between requests (a held transaction's work is not interrupted).
                    try Task.checkCancellation()
                    started[index] = true
                    if let failed = step.dependsOn.first(where: { !succeeded[$0] }) {
                        // Answered here, not by the router, so the ids the middleware adds are added here.
                        responses[index] = Self.answer(
                            .failedDependency(id: step.id, dependency: steps[failed].id), context: contexts[index])
                        answered[index] = true
                        continue
                    }
                    running += 1
                    let inner = innerRequest(step, outer: request)
                    let context = contexts[index]
                    group.addTask {
                        (index, try await batch.unit(index) { try await dispatcher.respond(to: inner, context: context) })
                    }
                }
                guard let (index, response) = try await group.next() else { break }
                running -= 1
                responses[index] = response
                answered[index] = true
                succeeded[index] = (200..<300).contains(response.status.code)
            }
        }
        return responses
    }

    /// An inner answer made here rather than by the router, with the ids the middleware adds.
    static func answer(_ error: GraphError, context: GraphContext) -> Response {
        var response = GraphResponse.error(error, context: context)
        response.headers[.requestId] = context.requestId
        response.headers[.clientRequestId] = context.clientRequestId ?? context.requestId
        return response
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
        context.requestId = RandomId.uuid()
        context.clientRequestId = step.headers.first { $0.name.lowercased() == "client-request-id" }?.value
        context.caller = nil
        context.forwardedClient = nil
        context.isBatched = true
        context.batchedBody = step.json
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
