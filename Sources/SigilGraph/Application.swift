import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import SigilCore
import SigilStore

/// The routes of a Sigil server; `sigil serve` and the tests build the same one. `extensions`
/// adds front-ends that live in other modules (the web console).
public func buildRouter(
    services: SigilServices, options: ServerOptions = ServerOptions(), extensions: (Router<GraphContext>) -> Void = { _ in }
) -> Router<GraphContext> {
    let router = Router(context: GraphContext.self)
    // Outermost, so it counts every answer with its final status, Graph errors included.
    _ = SigilMetrics.registry
    router.middlewares.add(MetricsMiddleware())
    router.middlewares.add(GraphErrorMiddleware(accessLog: options.accessLog, trustedProxies: options.trustedProxies))
    router.middlewares.add(RequestDeadlineMiddleware(timeout: options.requestTimeout))
    extensions(router)
    OperationsController(services: services).register(on: router)
    IdentityController(services: services).register(on: router)
    router.get("openapi.yaml") { _, _ in OpenAPIDocument.response() }
    let assignments = AssignmentController(services: services)
    let limiter = options.rateLimit.map(RateLimiter.init)
    for version in ["v1.0", "beta"] {
        let group = router.group(RouterPath(version)).add(
            middleware: AuthenticationMiddleware(services: services, limiter: limiter))
        SchemaController(services: services).register(on: group)
        DirectoryController(services: services, assignments: assignments).register(on: group)
        RoleController(services: services).register(on: group)
        // Graph serves the custom security attribute audit log on beta only.
        if version == "beta" { AuditController(services: services).register(on: group) }
    }
    return router
}

/// The certificate and key an https server presents, read from their files at start and again
/// on `reload()` (SIGHUP). Each new connection takes the current pair; open ones keep theirs.
public final class TLSCredentials: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let current: Locked<([NIOSSLCertificateSource], NIOSSLPrivateKeySource)>

    public init(certificatePath: String, keyPath: String) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        current = Locked(try Self.read(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// Reads both files again. On failure the pair in use stays and the error is thrown.
    public func reload() throws {
        let pair = try Self.read(certificatePath: certificatePath, keyPath: keyPath)
        current.withLock { $0 = pair }
    }

    var pair: ([NIOSSLCertificateSource], NIOSSLPrivateKeySource) { current.withLock { $0 } }

    static func read(certificatePath: String, keyPath: String) throws -> ([NIOSSLCertificateSource], NIOSSLPrivateKeySource) {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        guard !chain.isEmpty else { throw TLSFailure.noCertificate(certificatePath) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        return (chain, .privateKey(key))
    }

    /// TLS 1.2 and 1.3 only; the certificate is chosen per handshake, so a reload needs no restart.
    var serverConfiguration: TLSConfiguration {
        let (chain, key) = pair
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        configuration.minimumTLSVersion = .tlsv12
        configuration.sslContextCallback = { [self] _, promise in
            var override = NIOSSLContextConfigurationOverride()
            (override.certificateChain, override.privateKey) = self.pair
            promise.succeed(override)
        }
        return configuration
    }

    public enum TLSFailure: Error, CustomStringConvertible {
        case noCertificate(String)
        public var description: String {
            switch self {
            case .noCertificate(let path): "\(path) holds no PEM certificate."
            }
        }
    }
}

/// The HTTP server around `buildRouter`. `onListening` receives the bound port (useful with
/// port 0, which asks the system for a free one).
/// With `tls` it serves HTTPS only.
public func buildApplication(
    services: SigilServices, host: String, port: Int, logger: Logger, tls: TLSCredentials? = nil,
    options: ServerOptions = ServerOptions(), extensions: (Router<GraphContext>) -> Void = { _ in },
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let idle = TimeAmount.nanoseconds(Int64(options.idleTimeout.components.seconds) * 1_000_000_000)
    var server = HTTPServerBuilder.http1(configuration: .init(idleTimeout: idle))
    if let tls {
        server = try .tls(server, tlsConfiguration: tls.serverConfiguration)
    }
    return Application(
        router: buildRouter(services: services, options: options, extensions: extensions), server: server,
        configuration: .init(address: .hostname(host, port: port), serverName: "Sigil"),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
        logger: logger)
}

/// First-start set-up of a tenant: its id, the signing key and the bootstrap application.
public enum TenantBootstrap {
    public static let defaultDomain = "sigil.local"
    static let tenantSetting = "tenant_id"
    static let bootstrapSetting = "bootstrap_app_id"

    /// What start-up tells the operator.
    public struct Result: Sendable {
        public let services: SigilServices
        public let bootstrapClientId: String
        /// Set only on the start that created the bootstrap application with a generated secret.
        public let generatedSecret: String?
    }

    public enum Failure: Error, CustomStringConvertible {
        case tenantMismatch(stored: String, requested: String)
        case invalidClientId(String)

        public var description: String {
            switch self {
            case .tenantMismatch(let stored, let requested):
                "This Sigil database belongs to tenant \(stored), not \(requested). Use another --data-dir or --database-url, or drop --tenant-id."
            case .invalidClientId(let id):
                "CSA_BOOTSTRAP_CLIENT_ID '\(id)' is not a GUID."
            }
        }
    }

    /// Opens the tenant in `store`, creating on first start what does not exist yet.
    public static func start(
        store: any DirectoryStore, tenantId requested: String?, bootstrapClientId: String?, bootstrapSecret: String?,
        hasher: CredentialHasher, scheme: String, allowsRangeFilters: Bool = false, publicURL: String? = nil
    ) async throws -> Result {
        let tenantId = try await store.settingIfAbsent(tenantSetting, (requested ?? SigilServices.newId()).lowercased())
        if let requested, requested.lowercased() != tenantId {
            throw Failure.tenantMismatch(stored: tenantId, requested: requested)
        }
        let tokens = try await TokenService.load(store: store, tenantId: tenantId)
        let services = SigilServices(
            store: store, tokens: tokens, hasher: hasher, scheme: scheme, pageTokens: try await PageTokens.load(store: store),
            allowsRangeFilters: allowsRangeFilters, publicURL: publicURL)
        if let existing = try await store.setting(bootstrapSetting) {
            return Result(services: services, bootstrapClientId: existing, generatedSecret: nil)
        }
        let clientId = (bootstrapClientId ?? SigilServices.newId()).lowercased()
        guard UUID(uuidString: clientId) != nil else { throw Failure.invalidClientId(clientId) }
        let secret = bootstrapSecret ?? SecretGenerator.make()
        let principal = try await createApplication(
            services: services, displayName: "Sigil Bootstrap", appId: clientId, secret: secret)
        for role in [DirectoryRole.globalAdministrator, .privilegedRoleAdministrator] {
            try await store.create(
                RoleAssignment(id: SigilServices.newId(), principalId: principal.id, role: role, scope: .tenant))
        }
        _ = try await store.settingIfAbsent(bootstrapSetting, clientId)
        return Result(services: services, bootstrapClientId: clientId, generatedSecret: bootstrapSecret == nil ? secret : nil)
    }

    /// Creates an application with one client secret and its service principal; returns the
    /// service principal.
    @discardableResult
    public static func createApplication(
        services: SigilServices, displayName: String, appId: String, secret: String
    ) async throws -> DirectoryObject {
        let now = graphTimestamp(Date())
        let application = DirectoryRules.newObject(
            .application, id: SigilServices.newId(),
            write: DirectoryWrite(properties: JSONObject([("displayName", .string(displayName))])),
            serviceSet: JSONObject([
                ("appId", .string(appId)), ("createdDateTime", .string(now)), ("publisherDomain", .string(defaultDomain)),
            ]))
        try await services.store.create(application, passwordHash: nil)
        let credential = PasswordCredential(
            keyId: SigilServices.newId(), displayName: "Created by Sigil", hint: String(secret.prefix(3)),
            startDateTime: Date(), endDateTime: Date().addingTimeInterval(10 * 365 * 24 * 3600),
            secretHash: services.hasher.hashSecret(secret))
        try await services.store.addPasswordCredential(credential, applicationId: application.id)
        let principal = DirectoryRules.newObject(
            .servicePrincipal, id: SigilServices.newId(), write: DirectoryWrite(),
            serviceSet: JSONObject([
                ("appDisplayName", .string(displayName)), ("appId", .string(appId)),
                ("appOwnerOrganizationId", .string(services.tenantId)), ("displayName", .string(displayName)),
                ("servicePrincipalNames", [.string(appId)]),
            ]))
        try await services.store.create(principal, passwordHash: nil)
        return principal
    }
}
