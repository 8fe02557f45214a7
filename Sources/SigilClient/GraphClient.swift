import Foundation
import SigilCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A small async client for Sigil's Graph API (or Microsoft Graph's), used by the `sigil`
/// command line: JSON in and out, Graph error envelopes turned into `ClientError.graph`.
public struct GraphAPIClient: Sendable {
    public let server: URL
    public let token: String
    let session: URLSession

    public init(server: URL, token: String, session: URLSession = URLSession(configuration: .ephemeral)) {
        self.server = server
        self.token = token
        self.session = session
    }

    /// Sends a request to `path` (with its query) under `/v1.0` (or `version`); returns the JSON
    /// body (nil for 204).
    @discardableResult
    public func send(
        _ method: String, _ path: String, body: JSONValue? = nil, version: String = "v1.0", headers: [String: String] = [:]
    ) async throws -> JSONValue? {
        guard let url = URL(string: "\(server.absoluteString.trimmingTrailingSlash)/\(version)\(path)") else {
            throw ClientError.usage("'\(path)' does not make a valid URL.")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.serialized())
        }
        let (data, response) = try await Self.load(session, request)
        return try Self.decode(data, response)
    }

    /// Every page of a Sigil extension's list (`/sigil/v1…`), following `@odata.nextLink`: the
    /// first page's `@odata.count` and all items. A POST list sends the same body for each page.
    public func sigilPages(_ method: String, _ path: String, body: JSONValue? = nil) async throws -> (count: Int64?, items: [JSONValue]) {
        var items: [JSONValue] = []
        var count: Int64?
        var next: String? = path
        while let path = next {
            let page = try await send(method, path, body: body, version: "sigil/v1")?.objectValue
            if count == nil, case .integer(let total)? = page?["@odata.count"] { count = total }
            items += page?["value"]?.arrayValue ?? []
            next = page?["@odata.nextLink"]?.stringValue.flatMap { link in
                link.range(of: "/sigil/v1").map { String(link[$0.upperBound...]) }
            }
        }
        return (count, items)
    }

    /// Every request the command line makes goes through here, so each carries its User-Agent.
    static func load(_ session: URLSession, _ request: URLRequest) async throws -> (Data, URLResponse) {
        var request = request
        request.setValue(SigilVersion.userAgent, forHTTPHeaderField: "User-Agent")
        do {
            return try await session.data(for: request)
        } catch {
            throw ClientError.unreachable(request.url?.host ?? "the server", error.localizedDescription)
        }
    }

    static func decode(_ data: Data, _ response: URLResponse) throws -> JSONValue? {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = data.isEmpty ? nil : try? JSON.parse(Array(data))
        guard (200..<300).contains(status) else {
            let error = json?.objectValue?["error"]
            let code = error?.objectValue?["code"]?.stringValue ?? error?.stringValue ?? "HTTP \(status)"
            let message =
                error?.objectValue?["message"]?.stringValue ?? json?.objectValue?["error_description"]?.stringValue
                ?? String(decoding: data, as: UTF8.self)
            throw ClientError.graph(status: status, code: code, message: message)
        }
        return json
    }

    /// Every page of a collection, following `@odata.nextLink`.
    public func all(_ path: String, headers: [String: String] = [:]) async throws -> [JSONValue] {
        var items: [JSONValue] = []
        var next: String? = path
        while let current = next {
            let page: JSONValue?
            if current.hasPrefix("http") {
                guard let url = URL(string: current) else { break }
                var request = URLRequest(url: url)
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
                let (data, response) = try await Self.load(session, request)
                page = try Self.decode(data, response)
            } else {
                page = try await send("GET", current, headers: headers)
            }
            items += page?.objectValue?["value"]?.arrayValue ?? []
            next = page?.objectValue?["@odata.nextLink"]?.stringValue
        }
        return items
    }
}

/// What can go wrong for a command-line user, each with a message worth printing.
public enum ClientError: Error, CustomStringConvertible {
    /// The request was refused: Graph's status, code and message.
    case graph(status: Int, code: String, message: String)
    case unreachable(String, String)
    case notSignedIn
    case usage(String)

    public var description: String {
        switch self {
        case .graph(let status, let code, let message): "\(message) (\(status) \(code))"
        case .unreachable(let host, let reason): "cannot reach \(host): \(reason)"
        case .notSignedIn: "not signed in: run `sigil login` first"
        case .usage(let message): message
        }
    }
}

extension String {
    var trimmingTrailingSlash: String { hasSuffix("/") ? String(dropLast()) : self }
}

/// One request of a JSON batch (`GraphAPIClient.batch`).
public struct BatchPart: Sendable {
    public let id: String
    public let method: String
    /// Under the version, as for `send`: `/users/{id}`.
    public let path: String
    public let body: JSONValue?

    public init(id: String, method: String, path: String, body: JSONValue? = nil) {
        self.id = id
        self.method = method
        self.path = path
        self.body = body
    }
}

extension GraphAPIClient {
    /// Sends up to `Limits.batchRequests` requests as one `POST /$batch` and returns each
    /// answer by id: nil for 2xx, else the error as `send` would throw it. Returns nil when the
    /// server offers no `$batch`: 404, or the 400 an unknown segment gets from servers that
    /// answer it as Graph does.
    public func batch(_ parts: [BatchPart], version: String = "v1.0") async throws -> [String: ClientError?]? {
        let requests: [JSONValue] = parts.map { part in
            var request = JSONObject([("id", .string(part.id)), ("method", .string(part.method)), ("url", .string(part.path))])
            if let body = part.body {
                request.append("headers", .object(JSONObject([("Content-Type", "application/json")])))
                request.append("body", body)
            }
            return .object(request)
        }
        let reply: JSONValue?
        do {
            reply = try await send("POST", "/$batch", body: .object(JSONObject([("requests", .array(requests))])), version: version)
        } catch ClientError.graph(let status, _, let message)
            where status == 404 || (status == 400 && message.contains("segment '$batch'"))
        {
            return nil
        }
        var answers: [String: ClientError?] = [:]
        for response in reply?.objectValue?["responses"]?.arrayValue ?? [] {
            guard let object = response.objectValue, let id = object["id"]?.stringValue else { continue }
            let status: Int
            if case .integer(let code)? = object["status"] { status = Int(code) } else { status = 0 }
            guard !(200..<300).contains(status) else {
                answers[id] = .some(nil)
                continue
            }
            let error = object["body"]?.objectValue?["error"]?.objectValue
            answers[id] = ClientError.graph(
                status: status, code: error?["code"]?.stringValue ?? "HTTP \(status)",
                message: error?["message"]?.stringValue ?? "The batched request failed.")
        }
        // A request the server did not answer counts as failed, never as written.
        for part in parts where answers[part.id] == nil {
            answers[part.id] = ClientError.graph(status: 0, code: "NoResponse", message: "The batch returned no response for this request.")
        }
        return answers
    }
}
