import Foundation
import SigilClient
import SigilCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A Graph API in miniature behind `URLProtocol`: each stub answers on its own host, so tests
/// running at once do not see each other's requests. Records every request it answers.
final class StubGraph: Sendable {
    struct Request: Sendable {
        let method: String
        /// The path and query under the version: `/users/x?$select=id`.
        let path: String
        let body: JSONValue?
    }

    typealias Handler = @Sendable (Request) -> (status: Int, body: JSONValue?)

    private static let stubs = Locked<[String: StubGraph]>([:])

    let host = "stub-\(UUID().uuidString.lowercased())"
    let handler: Handler
    private let log = Locked<[Request]>([])

    init(_ handler: @escaping Handler) {
        self.handler = handler
        Self.stubs.withLock { $0[host] = self }
    }

    /// A client whose every request this stub answers.
    var client: GraphAPIClient {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.protocolClasses = [StubProtocol.self]
        guard let server = URL(string: "http://\(host)") else { preconditionFailure("a stub host is a URL") }
        return GraphAPIClient(server: server, token: "token", session: URLSession(configuration: configuration))
    }

    var requests: [Request] { log.withLock { $0 } }

    /// The requests other than GETs, as `METHOD path`.
    var writes: [String] { requests.filter { $0.method != "GET" }.map { "\($0.method) \($0.path)" } }

    static func stub(for host: String?) -> StubGraph? {
        guard let host else { return nil }
        return stubs.withLock { $0[host] }
    }

    func answer(_ request: Request) -> (status: Int, body: JSONValue?) {
        log.withLock { $0.append(request) }
        return handler(request)
    }

    /// A page of a collection, as Graph writes it.
    static func page(_ items: [JSONValue]) -> JSONValue { .object(JSONObject([("value", .array(items))])) }

    /// Graph's error envelope.
    static func error(_ code: String, _ message: String) -> JSONValue {
        .object(JSONObject([("error", .object(JSONObject([("code", .string(code)), ("message", .string(message))])))]))
    }
}

final class StubProtocol: URLProtocol, @unchecked Sendable {
    override class func canInit(with request: URLRequest) -> Bool { StubGraph.stub(for: request.url?.host) != nil }
    override class func canonicalRequest(for request: URLRequest) -> URLRequest { request }

    override func startLoading() {
        guard let url = request.url, let stub = StubGraph.stub(for: url.host) else { return }
        var path = url.path
        if path.hasPrefix("/v1.0") { path.removeFirst("/v1.0".count) }
        if let query = url.query { path += "?" + query }
        var bytes = request.httpBody.map { Array($0) } ?? []
        if bytes.isEmpty, let stream = request.httpBodyStream {
            stream.open()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = stream.read(&buffer, maxLength: buffer.count)
                guard count > 0 else { break }
                bytes += buffer[0..<count]
            }
            stream.close()
        }
        let body = bytes.isEmpty ? nil : try? JSON.parse(bytes)
        let (status, reply) = stub.answer(StubGraph.Request(method: request.httpMethod ?? "GET", path: path, body: body))
        let response = HTTPURLResponse(url: url, statusCode: status, httpVersion: "HTTP/1.1", headerFields: ["Content-Type": "application/json"])
        if let response { client?.urlProtocol(self, didReceive: response, cacheStoragePolicy: .notAllowed) }
        if let reply { client?.urlProtocol(self, didLoad: Data(reply.serialized())) }
        client?.urlProtocolDidFinishLoading(self)
    }

    override func stopLoading() {}
}
