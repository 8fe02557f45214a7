import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import SigilCore
import SigilStore

/// The routes of a Sigil server; `sigil serve` and the tests build the same one. `extensions`
/// adds front-ends that live in other modules (the web console).
public func buildRouter(
    services: SigilServices, extensions: (Router<GraphContext>) -> Void = { _ in }
) -> Router<GraphContext> {
    let router = Router(context: GraphContext.self)
    router.middlewares.add(GraphErrorMiddleware())
    extensions(router)
    IdentityController(services: services).register(on: router)
    router.get("openapi.yaml") { _, _ in OpenAPIDocument.response() }
    let assignments = AssignmentController(services: services)
    for version in ["v1.0", "beta"] {
        let group = router.group(RouterPath(version)).add(middleware: AuthenticationMiddleware(services: services))
        SchemaController(services: services).register(on: group)
        DirectoryController(services: services, assignments: assignments).register(on: group)
        RoleController(services: services).register(on: group)
        // Graph serves the custom security attribute audit log on beta only.
        if version == "beta" { AuditController(services: services).register(on: group) }
    }
    return router
}

/// The HTTP server around `buildRouter`. `onListening` receives the bound port (useful with
/// port 0, which asks the system for a free one).
/// With `tls` (PEM certificate chain and private key files) it serves HTTPS only.
public func buildApplication(
    services: SigilServices, host: String, port: Int, logger: Logger, tls: (certificatePath: String, keyPath: String)? = nil,
    extensions: (Router<GraphContext>) -> Void = { _ in }, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    var server = HTTPServerBuilder.http1()
    if let tls {
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: tls.keyPath, format: .pem)
        server = try .tls(
            .http1(), tlsConfiguration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
    }
    return Application(
        router: buildRouter(services: services, extensions: extensions), server: server,
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
