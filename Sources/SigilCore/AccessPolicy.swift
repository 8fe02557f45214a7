/// Directory roles Sigil knows, by Entra's role template ids.
public enum DirectoryRole: String, Sendable, CaseIterable {
    case attributeDefinitionAdministrator = "8424c6f0-a189-499e-bbd0-26c1753c96d4"
    case attributeDefinitionReader = "1d336d2c-4ae8-42ef-9711-b3604ce3fc2c"
    case attributeAssignmentAdministrator = "58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d"
    case attributeAssignmentReader = "ffd52fa5-98dc-465c-991d-fc073eb59f8f"
    case attributeLogAdministrator = "5b784334-f94b-471a-a387-e7219fc49ca2"
    case attributeLogReader = "9c99539d-8186-4804-835f-fd51ef9e2dcd"
    case attributeProvisioningAdministrator = "ecb2c6bf-0ab6-418e-bd87-7986f8d63bbe"
    case attributeProvisioningReader = "422218e4-db15-4ef9-bbe0-8afb41546d79"
    case globalAdministrator = "62e90394-69f5-4237-9190-012177145e10"
    case privilegedRoleAdministrator = "e8611ab8-c189-46e8-94e1-60213ab1f814"
    case userAdministrator = "fe930be7-5e62-47db-91af-98c3a49a38b1"
    case conditionalAccessAdministrator = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
    case securityAdministrator = "194ae4cb-b126-40b2-bd5b-6091b380977d"
    case securityReader = "5d6b6bb7-de71-4623-b4af-96380a352509"
    case globalReader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
    /// Sigil's own roles (not in Entra), with fixed template ids of Sigil's choosing.
    case attributeAccessAdministrator = "5a9c1e2b-7d43-4f08-9b6e-3c1d0a8f4e21"
    case attributeAccessEvaluator = "c47e0d93-2b18-4a6f-8e5d-91f3b2a6c7d0"

    public var templateId: String { rawValue }

    public var displayName: String {
        switch self {
        case .attributeDefinitionAdministrator: "Attribute Definition Administrator"
        case .attributeDefinitionReader: "Attribute Definition Reader"
        case .attributeAssignmentAdministrator: "Attribute Assignment Administrator"
        case .attributeAssignmentReader: "Attribute Assignment Reader"
        case .attributeLogAdministrator: "Attribute Log Administrator"
        case .attributeLogReader: "Attribute Log Reader"
        case .attributeProvisioningAdministrator: "Attribute Provisioning Administrator"
        case .attributeProvisioningReader: "Attribute Provisioning Reader"
        case .globalAdministrator: "Global Administrator"
        case .privilegedRoleAdministrator: "Privileged Role Administrator"
        case .userAdministrator: "User Administrator"
        case .conditionalAccessAdministrator: "Conditional Access Administrator"
        case .securityAdministrator: "Security Administrator"
        case .securityReader: "Security Reader"
        case .globalReader: "Global Reader"
        case .attributeAccessAdministrator: "Attribute Access Administrator"
        case .attributeAccessEvaluator: "Attribute Access Evaluator"
        }
    }

    public var roleDescription: String {
        switch self {
        case .attributeDefinitionAdministrator: "Define and manage the definition of custom security attributes."
        case .attributeDefinitionReader: "Read the definition of custom security attributes."
        case .attributeAssignmentAdministrator:
            "Assign custom security attribute keys and values to supported Microsoft Entra objects."
        case .attributeAssignmentReader: "Read custom security attribute keys and values for supported Microsoft Entra objects."
        case .attributeLogAdministrator:
            "Read audit logs and configure diagnostic settings for events related to custom security attributes."
        case .attributeLogReader: "Read audit logs related to custom security attributes."
        case .attributeProvisioningAdministrator:
            "Read and edit the provisioning configuration of all active custom security attributes for an application."
        case .attributeProvisioningReader:
            "Read the provisioning configuration of all active custom security attributes for an application."
        case .globalAdministrator:
            "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities."
        case .privilegedRoleAdministrator:
            "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management."
        case .userAdministrator: "Can manage all aspects of users and groups, including resetting passwords for limited admins."
        case .conditionalAccessAdministrator: "Can manage Conditional Access capabilities."
        case .securityAdministrator:
            "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365."
        case .securityReader: "Can read security information and reports in Microsoft Entra ID and Office 365."
        case .globalReader: "Can read everything that a Global Administrator can, but not update anything."
        case .attributeAccessAdministrator:
            "Create and manage access rules that grant data actions under conditions on custom security attributes (Sigil)."
        case .attributeAccessEvaluator: "Ask for access decisions on the stored access rules, as a policy enforcement point (Sigil)."
        }
    }

    /// Only the six attribute roles may be granted on one attribute set (`/attributeSets/{name}`).
    /// The provisioning roles act on whole users, so they are tenant-wide only.
    public var allowsAttributeSetScope: Bool {
        capabilities.contains(where: \.isAttributeCapability) && !capabilities.contains(.readProvisioning)
    }

    /// The role matrix (docs/security.md, "Who may read and write what"): what each role lets its holder do.
    public var capabilities: Set<Capability> { Self.matrix[self] ?? [] }

    /// Built once: access checks run for every attribute of every object a request renders.
    private static let matrix: [DirectoryRole: Set<Capability>] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0, $0.definedCapabilities) })

    private var definedCapabilities: Set<Capability> {
        switch self {
        case .attributeDefinitionAdministrator:
            [.readAttributeSets, .manageAttributeSets, .readDefinitions, .manageDefinitions, .readAllowedValue]
        case .attributeDefinitionReader:
            [.readAttributeSets, .readDefinitions, .readAllowedValue]
        case .attributeAssignmentAdministrator:
            [.readAttributeSets, .readDefinitions, .readAssignments, .manageAssignments]
        case .attributeAssignmentReader:
            [.readAttributeSets, .readDefinitions, .readAssignments]
        case .attributeLogAdministrator, .attributeLogReader:
            [.readAuditLogs]
        case .attributeProvisioningAdministrator:
            [
                .readAttributeSets, .readDefinitions, .readProvisioning, .provisionUsers, .readProvisioningLogs,
                .readProvisioningMapping, .manageProvisioningMapping,
            ]
        case .attributeProvisioningReader:
            [.readAttributeSets, .readDefinitions, .readProvisioning, .readProvisioningLogs, .readProvisioningMapping]
        case .globalAdministrator:
            [
                .manageUsers, .manageApplications, .manageRoleAssignments, .readConditionalAccess, .manageConditionalAccess,
                .readProvisioningLogs, .readProvisioningMapping, .manageProvisioningMapping,
            ]
        case .privilegedRoleAdministrator:
            [.manageRoleAssignments]
        case .userAdministrator:
            [.manageUsers]
        case .conditionalAccessAdministrator:
            [.readConditionalAccess, .manageConditionalAccess]
        case .securityAdministrator:
            [.readConditionalAccess, .manageConditionalAccess, .readProvisioningLogs]
        case .securityReader:
            [.readConditionalAccess, .readProvisioningLogs]
        case .globalReader:
            [.readConditionalAccess, .readProvisioningLogs, .readProvisioningMapping]
        case .attributeAccessAdministrator:
            [.readAccessRules, .manageAccessRules]
        case .attributeAccessEvaluator:
            [.readAccessRules, .evaluateAccess]
        }
    }
}

/// What a role grants. Attribute capabilities apply per attribute set; the rest tenant-wide.
public enum Capability: Sendable, Hashable {
    case readAttributeSets
    /// Create sets and change a set object; only a tenant-scoped grant gives it.
    case manageAttributeSets
    case readDefinitions
    case manageDefinitions
    /// `GET .../allowedValues/{id}`: Graph documents only the definition roles for it.
    case readAllowedValue
    case readAssignments
    case manageAssignments
    case readAuditLogs
    case manageUsers
    case manageApplications
    case manageRoleAssignments
    /// Conditional Access policies (`/identity/conditionalAccess/policies`); a policy whose
    /// filters read custom security attributes also needs `readDefinitions` in those sets.
    case readConditionalAccess
    case manageConditionalAccess
    /// Access rules (`/sigil/v1/accessRules`); changing one also needs `readAssignments` in every
    /// set its condition names. Tenant-wide.
    case readAccessRules
    case manageAccessRules
    /// Access decisions on the stored rules (`/access/v1/evaluation[s]`); tenant-wide.
    case evaluateAccess
    /// Read users through `/scim/v2`, their values included, and provisioning results; tenant-wide.
    case readProvisioning
    /// Create, change and delete users and their values through `/scim/v2` and bulkUpload; tenant-wide.
    case provisionUsers
    /// Read the provisioning logs (`/auditLogs/provisioning`); custom security attribute values
    /// in them also need `readProvisioning`. Tenant-wide.
    case readProvisioningLogs
    /// The inbound provisioning mapping (`/sigil/v1/provisioning/mapping`): which SCIM attribute
    /// matches users and which go to which custom security attributes. Tenant-wide.
    case readProvisioningMapping
    case manageProvisioningMapping

    /// Capabilities a grant on one attribute set can give (audit records belong to a set too).
    var isAttributeScoped: Bool {
        switch self {
        case .readAttributeSets, .readDefinitions, .manageDefinitions, .readAllowedValue, .readAssignments,
            .manageAssignments, .readAuditLogs:
            true
        default: false
        }
    }

    /// Access rules and decisions on them, which read attribute values; guests never get them.
    var isAccessRuleCapability: Bool { self == .readAccessRules || self == .manageAccessRules || self == .evaluateAccess }

    /// The provisioning mapping names custom security attributes; guests never get it.
    var isProvisioningMappingCapability: Bool { self == .readProvisioningMapping || self == .manageProvisioningMapping }

    /// What guests never get, whatever roles they were given.
    var isDeniedToGuests: Bool { isAttributeCapability || isAccessRuleCapability || isProvisioningMappingCapability }

    /// Everything about custom security attributes; guests never get any of it.
    var isAttributeCapability: Bool { isAttributeScoped || self == .manageAttributeSets }
}

/// Where a role assignment applies.
public enum RoleScope: Sendable, Hashable {
    case tenant
    case attributeSet(String)

    /// Parses a `directoryScopeId`: `/` or `/attributeSets/{name}`.
    public init?(directoryScopeId: String) {
        if directoryScopeId == "/" {
            self = .tenant
            return
        }
        let prefix = "/attributeSets/"
        guard directoryScopeId.lowercased().hasPrefix(prefix.lowercased()) else { return nil }
        let name = String(directoryScopeId.dropFirst(prefix.count))
        guard !name.isEmpty, !name.contains("/") else { return nil }
        self = .attributeSet(name)
    }

    public var directoryScopeId: String {
        switch self {
        case .tenant: "/"
        case .attributeSet(let name): "/attributeSets/\(name)"
        }
    }
}

public struct RoleGrant: Sendable, Hashable {
    public let role: DirectoryRole
    public let scope: RoleScope

    public init(role: DirectoryRole, scope: RoleScope) {
        self.role = role
        self.scope = scope
    }
}

/// Who is calling: the principal behind a validated access token, with its role grants.
public struct Caller: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case member
        case guest
        case servicePrincipal
    }

    public let principalId: String
    public let kind: Kind
    public let grants: [RoleGrant]
    /// Names for the audit log: display name, and the userPrincipalName (users) or appId
    /// (service principals).
    public let displayName: String?
    public let signInName: String?

    public init(
        principalId: String, kind: Kind, grants: [RoleGrant], displayName: String? = nil, signInName: String? = nil
    ) {
        self.principalId = principalId
        self.kind = kind
        self.grants = grants
        self.displayName = displayName
        self.signInName = signInName
    }

    /// The caller as the initiator of an audited change, seen from `ipAddress`.
    public func auditInitiator(ipAddress: String?) -> AuditInitiator {
        AuditInitiator(
            kind: isUser ? .user(userPrincipalName: signInName) : .app(appId: signInName), id: principalId,
            displayName: displayName, ipAddress: ipAddress)
    }

    public var isUser: Bool { kind != .servicePrincipal }
}

/// The single place that decides who may do what. Every front-end asks it.
public enum AccessPolicy {
    /// Whether the caller holds `capability` for the attribute set named `set`, or, when `set` is
    /// nil, tenant-wide. Set names match case-insensitively; tenant grants cover every set.
    public static func allows(_ caller: Caller, _ capability: Capability, inSet set: String? = nil) -> Bool {
        // Guests never touch custom security attributes, whatever roles they were given.
        if caller.kind == .guest, capability.isDeniedToGuests { return false }
        return caller.grants.contains { grant in
            guard grant.role.capabilities.contains(capability) else { return false }
            switch grant.scope {
            case .tenant: return true
            case .attributeSet(let scoped):
                // Set-scoped grants never reach tenant-wide actions such as creating sets.
                guard capability.isAttributeScoped, capability != .manageAttributeSets, let set else { return false }
                return nameKey(scoped) == nameKey(set)
            }
        }
    }

    /// Whether any grant gives `capability` somewhere (tenant or some set); for list routes that
    /// then filter item by item.
    public static func allowsAnywhere(_ caller: Caller, _ capability: Capability) -> Bool {
        if caller.kind == .guest, capability.isDeniedToGuests { return false }
        return caller.grants.contains { $0.role.capabilities.contains(capability) }
    }

    /// Ordinary directory reads (users, applications, service principals, roles): members and
    /// service principals; guests only read themselves.
    public static func mayReadDirectory(_ caller: Caller) -> Bool { caller.kind != .guest }

    public static func require(_ allowed: Bool) throws(GraphError) {
        guard allowed else { throw .forbidden }
    }
}

extension DirectoryRole {
    /// Reading the provisioning logs (`/auditLogs/provisioning`), as Entra names it.
    static let provisioningLogsRead = "microsoft.directory/provisioningLogs/allProperties/read"

    /// Sigil's provisioning mapping (`/sigil/v1/provisioning/mapping`), in Sigil's own namespace.
    static let provisioningMappingRead = "sigil.provisioning/mapping/allProperties/read"
    static let provisioningMappingManage = "sigil.provisioning/mapping/allProperties/allTasks"

    /// Entra's resource actions for the role, as `roleDefinitions` lists them, then Sigil's for
    /// the provisioning mapping.
    public var resourceActions: [String] {
        let mapping =
            capabilities.contains(.manageProvisioningMapping)
            ? [Self.provisioningMappingManage]
            : capabilities.contains(.readProvisioningMapping) ? [Self.provisioningMappingRead] : []
        return entraResourceActions + mapping
    }

    var entraResourceActions: [String] {
        switch self {
        case .attributeDefinitionAdministrator:
            [
                "microsoft.directory/attributeSets/allProperties/allTasks",
                "microsoft.directory/customSecurityAttributeDefinitions/allProperties/allTasks",
            ]
        case .attributeDefinitionReader:
            [
                "microsoft.directory/attributeSets/allProperties/read",
                "microsoft.directory/customSecurityAttributeDefinitions/allProperties/read",
            ]
        case .attributeAssignmentAdministrator:
            [
                "microsoft.directory/attributeSets/allProperties/read",
                "microsoft.directory/customSecurityAttributeDefinitions/allProperties/read",
                "microsoft.directory/users/customSecurityAttributes/read",
                "microsoft.directory/users/customSecurityAttributes/update",
                "microsoft.directory/servicePrincipals/customSecurityAttributes/read",
                "microsoft.directory/servicePrincipals/customSecurityAttributes/update",
            ]
        case .attributeAssignmentReader:
            [
                "microsoft.directory/attributeSets/allProperties/read",
                "microsoft.directory/customSecurityAttributeDefinitions/allProperties/read",
                "microsoft.directory/users/customSecurityAttributes/read",
                "microsoft.directory/servicePrincipals/customSecurityAttributes/read",
            ]
        case .attributeLogAdministrator:
            [
                "microsoft.directory/customSecurityAttributeAuditLogs/allProperties/read",
                "microsoft.azure.customSecurityAttributeDiagnosticSettings/allEntities/allProperties/allTasks",
            ]
        case .attributeLogReader:
            ["microsoft.directory/customSecurityAttributeAuditLogs/allProperties/read"]
        case .attributeProvisioningAdministrator, .attributeProvisioningReader:
            // The definition and provisioning log reads: the other provisioning actions are Sigil's
            // (/scim/v2, bulkUpload).
            [
                "microsoft.directory/attributeSets/allProperties/read",
                "microsoft.directory/customSecurityAttributeDefinitions/allProperties/read",
                Self.provisioningLogsRead,
            ]
        case .globalAdministrator:
            [
                "microsoft.directory/users/allProperties/allTasks", "microsoft.directory/applications/allProperties/allTasks",
                "microsoft.directory/servicePrincipals/allProperties/allTasks",
                "microsoft.directory/roleAssignments/allProperties/allTasks", Self.provisioningLogsRead,
            ]
        case .privilegedRoleAdministrator:
            [
                "microsoft.directory/roleAssignments/allProperties/allTasks",
                "microsoft.directory/roleDefinitions/allProperties/allTasks",
            ]
        case .userAdministrator:
            ["microsoft.directory/users/allProperties/allTasks"]
        case .conditionalAccessAdministrator:
            ["microsoft.directory/conditionalAccessPolicies/allProperties/allTasks"]
        case .securityAdministrator:
            ["microsoft.directory/conditionalAccessPolicies/allProperties/allTasks", Self.provisioningLogsRead]
        case .securityReader, .globalReader:
            ["microsoft.directory/conditionalAccessPolicies/allProperties/read", Self.provisioningLogsRead]
        case .attributeAccessAdministrator:
            ["sigil.access/accessRules/allProperties/allTasks"]
        case .attributeAccessEvaluator:
            ["sigil.access/accessRules/allProperties/read", "sigil.access/decisions/evaluate"]
        }
    }
}
