import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SigilConsole
import SigilGraph

/// A browser in miniature: keeps the cookies the console sets and sends them back.
public final class ConsoleBrowser: @unchecked Sendable {
    public let client: any TestClientProtocol
    public var cookies: [String: String] = [:]
    public var lastSetCookies: [String] = []

    public init(_ client: any TestClientProtocol) { self.client = client }

    public struct Page: Sendable {
        public let status: HTTPResponse.Status
        public let headers: HTTPFields
        public let html: String

        /// The anti-forgery token of the page's (first) form.
        public var csrf: String? {
            guard let range = html.range(of: #"name="_csrf" value=""#) else { return nil }
            return String(html[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    public func request(_ method: HTTPRequest.Method, _ path: String, form: [(String, String)]? = nil) async throws -> Page {
        var headers = HTTPFields()
        if !cookies.isEmpty {
            headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: form.map { "\($0.0.formEncoded)=\($0.1.formEncoded)" }.joined(separator: "&"))
        }
        let page = try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            Page(status: response.status, headers: response.headers, html: String(buffer: response.body))
        }
        lastSetCookies = page.headers[values: .setCookie]
        for cookie in lastSetCookies {
            let pair = cookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || cookie.contains("Max-Age=0") { cookies[String(pair[0])] = nil } else { cookies[String(pair[0])] = value }
        }
        return page
    }

    public func signIn(_ upn: String, _ password: String = "Password-123!") async throws -> Page {
        let form = try await request(.get, "/console/sign-in")
        return try await request(
            .post, "/console/sign-in",
            form: [("_csrf", form.csrf ?? ""), ("userPrincipalName", upn), ("password", password)])
    }
}

/// Runs `body` against the API and the console of `tenant`, in-process, with a fresh browser.
public func withConsole(
    _ tenant: TestTenant, _ body: @escaping @Sendable (ConsoleBrowser) async throws -> Void
) async throws {
    let console = try await ConsoleController.make(services: tenant.services)
    let app = Application(router: buildRouter(services: tenant.services, extensions: { console.register(on: $0) }))
    try await app.test(.router) { client in try await body(ConsoleBrowser(client)) }
}
