import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import SigilCore
import SigilService
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
    let assignments = AssignmentService(services: services)
    let limiter = options.rateLimit.map(RateLimiter.init)
    // Filled with the finished router below: a batch's inner requests take the same path as direct ones.
    let batches = BatchDispatcher()
    for version in ["v1.0", "beta"] {
        let group = router.group(RouterPath(version)).add(
            middleware: AuthenticationMiddleware(services: services, limiter: limiter))
        SchemaController(services: services).register(on: group)
        // Before the directory's `:id` routes, so `users/delta` is not read as an id.
        DeltaController(services: services, assignments: assignments, directory: DirectoryService(services: services)).register(on: group)
        DirectoryController(services: services, assignments: assignments, directory: DirectoryService(services: services)).register(on: group)
        RoleController(services: services).register(on: group)
        ConditionalAccessController(services: services).register(on: group, version: version)
        SubscriptionController(services: services).register(on: group)
        SynchronizationController(services: services).register(on: group)
        BatchController(services: services, dispatcher: batches).register(on: group)
        // Graph serves the custom security attribute audit log on beta only.
        if version == "beta" { AuditController(services: services).register(on: group) }
    }
    // Sigil's own extensions, outside Graph's namespace.
    let sigil = router.group("sigil/v1").add(middleware: AuthenticationMiddleware(services: services, limiter: limiter))
    ConditionController(services: services).register(on: sigil)
    ConditionalAccessController(services: services).registerTargets(on: sigil)
    SynchronizationController(services: services).registerMapping(on: sigil)
    let access = AccessController(services: services)
    access.registerRules(on: sigil)
    access.registerDecisions(
        on: router.group("access/v1").add(middleware: AuthenticationMiddleware(services: services, limiter: limiter)))
    access.registerMetadata(on: router)
    // SCIM 2.0 for provisioning from HR systems; its own error schema, Graph's tokens.
    ScimController(services: services, provisioning: ProvisioningService(services: services)).register(on: router, limiter: limiter)
    // Last, after every route (keep new registrations above this line).
    batches.install(router)
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
