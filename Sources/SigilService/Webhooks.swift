import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// What a webhook answered.
public struct WebhookReply: Sendable {
    public var status: Int
    public var body: String
}

/// POSTs to subscribers' endpoints. Redirects are not followed (a notification goes to the URL
/// that passed validation, nowhere else); every call has a deadline.
public struct Webhooks: Sendable {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init() {}

    public func post(_ url: String, contentType: String, body: [UInt8], timeout: Duration) async throws -> WebhookReply {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "User-Agent", value: "Sigil-Notifications")
        request.body = .bytes(ByteBuffer(bytes: body))
        let seconds = Int64(timeout.components.seconds)
        let response = try await Self.client.execute(request, timeout: .seconds(max(1, seconds)))
        let text = try await response.body.collect(upTo: 64 * 1024)
        return WebhookReply(status: Int(response.status.code), body: String(buffer: text))
    }
}
