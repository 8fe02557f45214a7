import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SigilCore
import SigilGraph
import SigilService
import SigilStore
import Testing

/// A fresh tenant on an in-memory SQLite store (or, with `SIGIL_TEST_DATABASE_URL` set, on a
/// fresh schema in that PostgreSQL cluster), with helpers to make principals holding roles and to
/// send Graph requests through the real router in-process.
public struct TestTenant: Sendable {
    public let services: SigilServices
    public let bootstrapClientId: String
    public let bootstrapSecret: String

    public static func make(publicURL: String? = nil) async throws -> TestTenant {
        let secret = "boot8Q~test-secret-0123456789abcdefghijklm"
        let start = try await TenantBootstrap.start(
            store: try await makeStore(), tenantId: nil, bootstrapClientId: nil, bootstrapSecret: secret,
            hasher: CredentialHasher(passwordRounds: 1_000), scheme: "http", publicURL: publicURL)
        return TestTenant(services: start.services, bootstrapClientId: start.bootstrapClientId, bootstrapSecret: secret)
    }

    /// The store the whole HTTP suite runs on: the parameter scripts/test sets for its second pass.
    public static func makeStore() async throws -> any DirectoryStore {
        guard let url = ProcessInfo.processInfo.environment["SIGIL_TEST_DATABASE_URL"], !url.isEmpty else {
            return try SQLiteStore()
        }
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        return try await PostgresStore(
            url: url + (url.contains("?") ? "&" : "?") + "schema=\(schema)", maximumConnections: 4,
            // Hundreds of tests share two cores here: a long wait for a pooled connection is load, not an outage.
            leaseTimeout: .seconds(120), keepsConnectionsOpen: false)
    }

    public var store: any DirectoryStore { services.store }
    public var tenantId: String { services.tenantId }

    /// A token for the bootstrap service principal (Global Administrator, Privileged Role Administrator).
    public func bootstrapToken() async throws -> String {
        guard let principal = try await store.servicePrincipal(appId: bootstrapClientId) else {
            throw GraphError.notFound(bootstrapClientId)
        }
        return try await services.tokens.issue(
            principalId: principal.id, isApp: true, appId: bootstrapClientId, userPrincipalName: nil)
    }

    /// A new application + service principal holding `grants`; returns its object id and a token.
    public func servicePrincipal(_ name: String = "Test App", grants: [RoleGrant] = []) async throws -> (id: String, token: String) {
        let appId = UUID().uuidString.lowercased()
        let principal = try await TenantBootstrap.createApplication(
            services: services, displayName: name, appId: appId, secret: "test8Q~\(appId)")
        for grant in grants {
            try await store.create(
                RoleAssignment(
                    id: UUID().uuidString.lowercased(), principalId: principal.id, role: grant.role, scope: grant.scope))
        }
        let token = try await services.tokens.issue(principalId: principal.id, isApp: true, appId: appId, userPrincipalName: nil)
        return (principal.id, token)
    }

    /// A new user (member or guest) holding `grants`; returns its object id and a token.
    public func user(_ name: String, guest: Bool = false, grants: [RoleGrant] = []) async throws -> (id: String, token: String) {
        let write = try DirectoryRules.create(
            .user,
            body: [
                "accountEnabled": true, "displayName": .string(name), "mailNickname": .string(name.lowercased()),
                "userPrincipalName": .string("\(name.lowercased())@sigil.test"), "userType": guest ? "Guest" : "Member",
                "passwordProfile": ["password": "Password-123!"],
            ])
        let user = DirectoryRules.newObject(.user, id: UUID().uuidString.lowercased(), write: write, serviceSet: JSONObject())
        try await store.create(user, passwordHash: try await services.hasher.hashPassword("Password-123!"))
        for grant in grants {
            try await store.create(
                RoleAssignment(id: UUID().uuidString.lowercased(), principalId: user.id, role: grant.role, scope: grant.scope))
        }
        let token = try await services.tokens.issue(
            principalId: user.id, isApp: false, appId: bootstrapClientId, userPrincipalName: user.userPrincipalName)
        return (user.id, token)
    }

    public func test(options: ServerOptions = ServerOptions(), _ body: @escaping @Sendable (GraphClient) async throws -> Void) async throws {
        let app = Application(router: buildRouter(services: services, options: options))
        try await app.test(.router) { client in try await body(GraphClient(client: client)) }
    }
}

/// One Graph reply: status, headers and the body parsed as JSON (when it is JSON).
public struct GraphReply: Sendable {
    public let status: HTTPResponse.Status
    public let headers: HTTPFields
    public let text: String

    public var json: JSONValue? { try? JSON.parse(text) }
    public var object: JSONObject { json?.objectValue ?? JSONObject() }
    public subscript(key: String) -> JSONValue? { object[key] }
    public var errorCode: String? { object["error"]?.objectValue?["code"]?.stringValue }
    public var errorMessage: String? { object["error"]?.objectValue?["message"]?.stringValue }
    public var values: [JSONValue] { object["value"]?.arrayValue ?? [] }
}

public struct GraphClient: Sendable {
    public let client: any TestClientProtocol

    public init(client: any TestClientProtocol) { self.client = client }

    public func send(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, body: String? = nil,
        headers extra: [String: String] = [:], contentType: String? = "application/json"
    ) async throws -> GraphReply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil, let contentType { headers[.contentType] = contentType }
        for (name, value) in extra {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return try await client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            GraphReply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    public func get(_ path: String, token: String?, headers: [String: String] = [:]) async throws -> GraphReply {
        try await send(.get, path, token: token, headers: headers)
    }

    public func post(_ path: String, token: String?, _ body: JSONValue, headers: [String: String] = [:]) async throws -> GraphReply {
        try await send(.post, path, token: token, body: body.serializedString, headers: headers)
    }

    public func patch(_ path: String, token: String?, _ body: JSONValue, headers: [String: String] = [:]) async throws -> GraphReply {
        try await send(.patch, path, token: token, body: body.serializedString, headers: headers)
    }

    public func delete(_ path: String, token: String?) async throws -> GraphReply {
        try await send(.delete, path, token: token)
    }
}

extension RoleGrant {
    public static func tenant(_ role: DirectoryRole) -> RoleGrant { RoleGrant(role: role, scope: .tenant) }
    public static func set(_ role: DirectoryRole, _ name: String) -> RoleGrant { RoleGrant(role: role, scope: .attributeSet(name)) }
}

// MARK: - Helpers for route tests

extension GraphReply {
    /// Checks Graph's error envelope: the status, `error.code` and, when given, `error.message`.
    public func expectError(
        _ status: Int, _ code: String, _ message: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(self.status.code == status, "\(self.status) \(text)", sourceLocation: sourceLocation)
        #expect(errorCode == code, "\(text)", sourceLocation: sourceLocation)
        if let message { #expect(errorMessage == message, "\(text)", sourceLocation: sourceLocation) }
    }

    /// A response header by name (names compare case-insensitively).
    public func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// The `id`s of the members of `value`, in order.
    public var valueIds: [String] { values.compactMap { $0.objectValue?["id"]?.stringValue } }

    /// `@odata.context` ends with `/{version}/$metadata#{fragment}` exactly.
    public func hasContext(_ fragment: String, version: String = "v1.0") -> Bool {
        self["@odata.context"]?.stringValue?.hasSuffix("/\(version)/$metadata#\(fragment)") == true
    }
}

extension GraphClient {
    /// `http://host/v1.0/x?y` -> `/v1.0/x?y`, so absolute links the server wrote can be followed in-process.
    public static func pathAndQuery(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        return String(rest[slash...])
    }

    /// GETs an absolute URL the server returned (an `@odata.nextLink`, a `jwks_uri`).
    public func follow(_ url: String, token: String?, headers: [String: String] = [:]) async throws -> GraphReply {
        try await get(Self.pathAndQuery(of: url), token: token, headers: headers)
    }

    /// POSTs an `application/x-www-form-urlencoded` body, as OAuth clients do.
    public func postForm(_ path: String, _ fields: [(String, String)]) async throws -> GraphReply {
        let body = fields.map { "\($0.0.formEncoded)=\($0.1.formEncoded)" }.joined(separator: "&")
        return try await send(.post, path, body: body, contentType: "application/x-www-form-urlencoded")
    }
}

extension String {
    /// Percent-encodes everything but letters and digits, for query values and form fields.
    public var formEncoded: String {
        addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? self
    }
}
