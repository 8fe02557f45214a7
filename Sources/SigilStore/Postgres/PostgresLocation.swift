import Foundation
import PostgresNIO

/// Where the PostgreSQL database is: parsed from a `postgres://user:password@host:port/database`
/// URL with optional query parameters:
/// - `sslmode`: `disable`, `prefer` (the default) or `require` encrypt without checking the
///   server's certificate, as libpq does; `verify-ca` checks its chain, `verify-full` its chain
///   and host name;
/// - `sslrootcert`: a PEM file of trusted CAs for the verify modes (else the system's);
/// - `schema`: Sigil's tables in a schema of their own, created when missing;
/// - `pool_size`: connections per instance (default 20).
public struct PostgresLocation: Sendable {
    public let host: String
    public let port: Int
    public let username: String
    public let password: String?
    public let database: String?
    public let schema: String?
    public let sslMode: String
    public let sslRootCertificate: String?
    public let poolSize: Int?

    static let sslModes = ["disable", "prefer", "require", "verify-ca", "verify-full"]
    static let parameters = ["sslmode", "sslrootcert", "schema", "pool_size"]

    public static func isPostgresURL(_ url: String) -> Bool {
        let lowered = url.lowercased()
        return lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://")
    }

    public init(url: String) throws {
        guard Self.isPostgresURL(url), let components = URLComponents(string: url) else {
            throw PostgresStoreError.invalidURL("expected postgres://user:password@host:port/database")
        }
        guard let host = components.host, !host.isEmpty else { throw PostgresStoreError.invalidURL("the URL names no host") }
        self.host = host
        port = components.port ?? 5432
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw PostgresStoreError.invalidURL("the URL names no user")
        }
        username = user
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        let items = components.queryItems ?? []
        if let unknown = items.first(where: { !Self.parameters.contains($0.name) }) {
            throw PostgresStoreError.invalidURL(
                "unknown parameter '\(unknown.name)' (Sigil reads \(Self.parameters.joined(separator: ", ")))")
        }
        let query = Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        schema = query["schema"].flatMap { $0.isEmpty ? nil : $0 }
        sslMode = query["sslmode"] ?? "prefer"
        guard Self.sslModes.contains(sslMode) else {
            throw PostgresStoreError.invalidURL("sslmode must be one of \(Self.sslModes.joined(separator: ", "))")
        }
        sslRootCertificate = query["sslrootcert"].flatMap { $0.isEmpty ? nil : $0 }
        if let size = query["pool_size"] {
            guard let value = Int(size), (2...1000).contains(value) else {
                throw PostgresStoreError.invalidURL("pool_size must be a number from 2 to 1000")
            }
            poolSize = value
        } else {
            poolSize = nil
        }
    }

    func tlsConfiguration() -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case "verify-full": tls.certificateVerification = .fullVerification
        case "verify-ca": tls.certificateVerification = .noHostnameVerification
        default: tls.certificateVerification = .none
        }
        if let sslRootCertificate { tls.trustRoots = .file(sslRootCertificate) }
        return tls
    }

    var tls: PostgresClient.Configuration.TLS {
        switch sslMode {
        case "disable": .disable
        case "prefer": .prefer(tlsConfiguration())
        default: .require(tlsConfiguration())
        }
    }

    func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        switch sslMode {
        case "disable": .disable
        case "prefer": .prefer(try .init(configuration: tlsConfiguration()))
        default: .require(try .init(configuration: tlsConfiguration()))
        }
    }

    /// The URL without its password, for messages.
    public var redacted: String { "postgres://\(username)@\(host):\(port)/\(database ?? username)" }

    /// An advisory lock key for `purpose`, distinct per schema, so tenants in different schemas
    /// of one database never wait on each other (FNV-1a of the names).
    func lockKey(_ purpose: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "sigil/\(schema ?? "")/\(purpose)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
