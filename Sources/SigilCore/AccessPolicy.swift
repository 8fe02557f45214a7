/// Directory roles Sigil knows, by Entra's role template ids.
public enum DirectoryRole: String, Sendable, CaseIterable {
    case attributeDefinitionAdministrator = "8424c6f0-a189-499e-bbd0-26c1753c96d4"
    case attributeDefinitionReader = "1d336d2c-4ae8-42ef-9711-b3604ce3fc2c"
    case attributeAssignmentAdministrator = "58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d"
    case attributeAssignmentReader = "ffd52fa5-98dc-465c-991d-fc073eb59f8f"
    case attributeLogAdministrator = "5b784334-f94b-471a-a387-e7219fc49ca2"
    case attributeLogReader = "9c99539d-8186-4804-835f-fd51ef9e2dcd"
    case globalAdministrator = "62e90394-69f5-4237-9190-012177145e10"
    case privilegedRoleAdministrator = "e8611ab8-c189-46e8-94e1-60213ab1f814"
    case userAdministrator = "fe930be7-5e62-47db-91af-98c3a49a38b1"

    public var templateId: String { rawValue }

    public var displayName: String {
        switch self {
        case .attributeDefinitionAdministrator: "Attribute Definition Administrator"
        case .attributeDefinitionReader: "Attribute Definition Reader"
        case .attributeAssignmentAdministrator: "Attribute Assignment Administrator"
        case .attributeAssignmentReader: "Attribute Assignment Reader"
        case .attributeLogAdministrator: "Attribute Log Administrator"
        case .attributeLogReader: "Attribute Log Reader"
        case .globalAdministrator: "Global Administrator"
        case .privilegedRoleAdministrator: "Privileged Role Administrator"
        case .userAdministrator: "User Administrator"
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
        case .globalAdministrator:
            "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities."
        case .privilegedRoleAdministrator:
            "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management."
        case .userAdministrator: "Can manage all aspects of users and groups, including resetting passwords for limited admins."
        }
    }

    /// Only the six attribute roles may be granted on one attribute set (`/attributeSets/{name}`).
    public var allowsAttributeSetScope: Bool { capabilities.contains(where: \.isAttributeCapability) }

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
        case .globalAdministrator:
            [.manageUsers, .manageApplications, .manageRoleAssignments]
        case .privilegedRoleAdministrator:
            [.manageRoleAssignments]
        case .userAdministrator:
            [.manageUsers]
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

    /// Capabilities a grant on one attribute set can give (audit records belong to a set too).
    var isAttributeScoped: Bool {
        switch self {
        case .readAttributeSets, .readDefinitions, .manageDefinitions, .readAllowedValue, .readAssignments,
            .manageAssignments, .readAuditLogs:
            true
        default: false
        }
    }

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
        if caller.kind == .guest, capability.isAttributeCapability { return false }
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
        if caller.kind == .guest, capability.isAttributeCapability { return false }
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
    /// Entra's resource actions for the role, as `roleDefinitions` lists them.
    public var resourceActions: [String] {
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
        case .globalAdministrator:
            [
                "microsoft.directory/users/allProperties/allTasks", "microsoft.directory/applications/allProperties/allTasks",
                "microsoft.directory/servicePrincipals/allProperties/allTasks",
                "microsoft.directory/roleAssignments/allProperties/allTasks",
            ]
        case .privilegedRoleAdministrator:
            [
                "microsoft.directory/roleAssignments/allProperties/allTasks",
                "microsoft.directory/roleDefinitions/allProperties/allTasks",
            ]
        case .userAdministrator:
            ["microsoft.directory/users/allProperties/allTasks"]
        }
    }
}
