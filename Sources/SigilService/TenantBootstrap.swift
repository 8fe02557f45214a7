import Foundation
import SigilCore
import SigilStore

/// First-start set-up of a tenant: its id, the signing key and the bootstrap application.
public enum TenantBootstrap {
    public static let defaultDomain = "sigil.local"
    package static let tenantSetting = "tenant_id"
    package static let bootstrapSetting = "bootstrap_app_id"

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
        // Ten years: the bootstrap and demo applications are set up once and should not lapse.
        let credential = services.hasher.credential(
            for: secret, displayName: "Created by Sigil", until: Date().addingTimeInterval(10 * 365 * 24 * 3600))
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

/// ISO 8601 with seconds and `Z`, Graph's DateTimeOffset form.
public func graphTimestamp(_ date: Date) -> String {
    date.formatted(.iso8601)
}
