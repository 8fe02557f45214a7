import Foundation
import SigilCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A signed-in command line: the server, how to get a new token, and the current one. Kept in
/// `credentials.json` under the user's configuration directory (see `file`), readable only by its
/// owner. Client credentials are kept so the token can be renewed when it expires; a user's
/// password never is (sign in again).
public struct Credentials: Codable, Sendable, Equatable {
    public var server: String
    public var tenant: String
    public var clientId: String
    public var clientSecret: String?
    public var username: String?
    public var accessToken: String
    public var expiresAt: Date

    /// `$XDG_CONFIG_HOME/sigil/credentials.json`, else under `$HOME/.config`; the account's home
    /// directory from the password database only when neither is set (as for a service).
    public static func file(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        func nonEmpty(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let base = nonEmpty("XDG_CONFIG_HOME") ?? "\(nonEmpty("HOME") ?? NSHomeDirectory())/.config"
        return URL(fileURLWithPath: base).appendingPathComponent("sigil/credentials.json")
    }

    public static func load(from file: URL = Credentials.file()) throws -> Credentials {
        guard let data = try? Data(contentsOf: file) else { throw ClientError.notSignedIn }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(Credentials.self, from: data)
    }

    public func save(to file: URL = Credentials.file()) throws {
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
        try data.write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
    }

    /// Asks the token endpoint for a token: client credentials, or a user's password.
    public static func signIn(
        server: String, tenant: String, clientId: String, clientSecret: String?, username: String?, password: String?,
        session: URLSession = URLSession(configuration: .ephemeral)
    ) async throws -> Credentials {
        guard let url = URL(string: "\(server.trimmingTrailingSlash)/\(tenant)/oauth2/v2.0/token") else {
            throw ClientError.usage("--server must be a URL such as http://127.0.0.1:8080")
        }
        var fields = [("client_id", clientId), ("scope", "https://graph.microsoft.com/.default")]
        if let username {
            fields += [("grant_type", "password"), ("username", username), ("password", password ?? "")]
        } else {
            fields += [("grant_type", "client_credentials"), ("client_secret", clientSecret ?? "")]
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        request.httpBody = Data(
            fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
                .joined(separator: "&").utf8)
        let (data, response) = try await GraphAPIClient.load(session, request)
        guard let body = try GraphAPIClient.decode(data, response)?.objectValue,
            let token = body["access_token"]?.stringValue
        else { throw ClientError.usage("the token endpoint answered without a token") }
        var lifetime = 3599.0
        if case .integer(let seconds)? = body["expires_in"] { lifetime = Double(seconds) }
        return Credentials(
            server: server.trimmingTrailingSlash, tenant: tenant, clientId: clientId,
            clientSecret: username == nil ? clientSecret : nil, username: username, accessToken: token,
            expiresAt: Date().addingTimeInterval(lifetime - 60))
    }

    /// A client with a valid token: renewed with the kept client secret when it has expired.
    public func client(saving file: URL = Credentials.file()) async throws -> GraphAPIClient {
        guard let server = URL(string: server) else { throw ClientError.notSignedIn }
        if expiresAt > Date() { return GraphAPIClient(server: server, token: accessToken) }
        guard let clientSecret else {
            throw ClientError.usage("the session of \(username ?? clientId) has expired: run `sigil login` again")
        }
        let renewed = try await Self.signIn(
            server: self.server, tenant: tenant, clientId: clientId, clientSecret: clientSecret, username: nil, password: nil)
        try renewed.save(to: file)
        return GraphAPIClient(server: server, token: renewed.accessToken)
    }
}
