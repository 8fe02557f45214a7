import Foundation

/// The kinds of directory object Sigil keeps.
public enum DirectoryObjectKind: String, Sendable, CaseIterable {
    case user
    case application
    case servicePrincipal

    /// Whether `id` names an object of this kind by userPrincipalName rather than by object id,
    /// as Graph allows for users (`/users/chandra@sigil.local`). Searched as bytes: Foundation's
    /// `String.contains` showed in every point read's profile.
    public func isPrincipalName(_ id: String) -> Bool {
        self == .user && id.utf8.contains(UInt8(ascii: "@"))
    }

    /// The entity set name in URLs and `@odata.context`.
    public var entitySet: String {
        switch self {
        case .user: "users"
        case .application: "applications"
        case .servicePrincipal: "servicePrincipals"
        }
    }

    public var resourceName: String {
        switch self {
        case .user: "User"
        case .application: "Application"
        case .servicePrincipal: "ServicePrincipal"
        }
    }

    public var odataType: String { "#microsoft.graph.\(rawValue)" }
}

/// A declared property of a directory object and how clients may use it.
public struct PropertySpec: Sendable {
    public enum ValueType: Sendable, Equatable {
        case string(maxLength: Int)
        case boolean
        case stringCollection(maxLength: Int)
    }

    public enum Access: Sendable, Equatable {
        case readWrite
        /// Set on create only.
        case createOnly
        /// Set by the service; sending it is refused.
        case readOnly
    }

    public let name: String
    public let type: ValueType
    public let access: Access
    public let requiredOnCreate: Bool
    /// Returned when the request has no `$select`.
    public let isDefault: Bool

    init(_ name: String, _ type: ValueType, _ access: Access = .readWrite, required: Bool = false, isDefault: Bool = false) {
        self.name = name
        self.type = type
        self.access = access
        self.requiredOnCreate = required
        self.isDefault = isDefault
    }
}

/// A user, application or service principal: an id and its declared properties, kept as JSON
/// in declaration order. Secrets live apart from it and never appear in `properties`.
public struct DirectoryObject: Sendable, Equatable {
    public let kind: DirectoryObjectKind
    public let id: String
    public var properties: JSONObject

    public init(kind: DirectoryObjectKind, id: String, properties: JSONObject) {
        self.kind = kind
        self.id = id
        self.properties = properties
    }

    public func string(_ name: String) -> String? { properties[name]?.stringValue }
    public var displayName: String? { string("displayName") }
    public var userPrincipalName: String? { string("userPrincipalName") }
    public var appId: String? { string("appId") }
    public var isGuest: Bool { string("userType") == "Guest" }
    public var accountEnabled: Bool { properties["accountEnabled"]?.boolValue ?? true }
}

/// A client secret of an application. `secretText` is only ever returned by addPassword.
public struct PasswordCredential: Sendable, Equatable {
    public var keyId: String
    public var displayName: String?
    public var hint: String
    public var startDateTime: Date
    public var endDateTime: Date
    /// Salted hash of the secret (see `SecretHash`).
    public var secretHash: String

    public init(keyId: String, displayName: String?, hint: String, startDateTime: Date, endDateTime: Date, secretHash: String) {
        self.keyId = keyId
        self.displayName = displayName
        self.hint = hint
        self.startDateTime = startDateTime
        self.endDateTime = endDateTime
        self.secretHash = secretHash
    }
}

/// A role granted to a principal at a scope.
public struct RoleAssignment: Sendable, Equatable {
    public let id: String
    public let principalId: String
    public let role: DirectoryRole
    public let scope: RoleScope

    public init(id: String, principalId: String, role: DirectoryRole, scope: RoleScope) {
        self.id = id
        self.principalId = principalId
        self.role = role
        self.scope = scope
    }

    public var grant: RoleGrant { RoleGrant(role: role, scope: scope) }
}

/// The declared properties of each kind: what create and update accept, what reads return.
public enum DirectorySchema {
    static let shortText = 256
    static let longText = 1024

    public static func properties(of kind: DirectoryObjectKind) -> [PropertySpec] {
        switch kind {
        case .user: userProperties
        case .application: applicationProperties
        case .servicePrincipal: servicePrincipalProperties
        }
    }

    public static func property(_ name: String, of kind: DirectoryObjectKind) -> PropertySpec? {
        properties(of: kind).first { $0.name == name }
    }

    static let userProperties: [PropertySpec] = [
        PropertySpec("accountEnabled", .boolean, required: true),
        PropertySpec("businessPhones", .stringCollection(maxLength: 64), isDefault: true),
        PropertySpec("city", .string(maxLength: 128)),
        PropertySpec("companyName", .string(maxLength: 64)),
        PropertySpec("country", .string(maxLength: 128)),
        PropertySpec("createdDateTime", .string(maxLength: 64), .readOnly),
        PropertySpec("department", .string(maxLength: 64)),
        PropertySpec("displayName", .string(maxLength: Limits.displayNameLength), required: true, isDefault: true),
        PropertySpec("employeeId", .string(maxLength: 16)),
        PropertySpec("givenName", .string(maxLength: 64), isDefault: true),
        PropertySpec("jobTitle", .string(maxLength: 128), isDefault: true),
        PropertySpec("mail", .string(maxLength: 256), isDefault: true),
        PropertySpec("mailNickname", .string(maxLength: 64), required: true),
        PropertySpec("mobilePhone", .string(maxLength: 64), isDefault: true),
        PropertySpec("officeLocation", .string(maxLength: 128), isDefault: true),
        PropertySpec("postalCode", .string(maxLength: 40)),
        PropertySpec("preferredLanguage", .string(maxLength: 16), isDefault: true),
        PropertySpec("state", .string(maxLength: 128)),
        PropertySpec("streetAddress", .string(maxLength: 1024)),
        PropertySpec("surname", .string(maxLength: 64), isDefault: true),
        PropertySpec("usageLocation", .string(maxLength: 2)),
        PropertySpec("userPrincipalName", .string(maxLength: Limits.userPrincipalNameLength), required: true, isDefault: true),
        PropertySpec("userType", .string(maxLength: 16)),
    ]

    static let applicationProperties: [PropertySpec] = [
        PropertySpec("appId", .string(maxLength: 36), .readOnly, isDefault: true),
        PropertySpec("createdDateTime", .string(maxLength: 64), .readOnly, isDefault: true),
        PropertySpec("description", .string(maxLength: longText), isDefault: true),
        PropertySpec("displayName", .string(maxLength: shortText), required: true, isDefault: true),
        PropertySpec("identifierUris", .stringCollection(maxLength: shortText), isDefault: true),
        PropertySpec("notes", .string(maxLength: longText), isDefault: true),
        PropertySpec("publisherDomain", .string(maxLength: shortText), .readOnly, isDefault: true),
        PropertySpec("signInAudience", .string(maxLength: 64), isDefault: true),
        PropertySpec("tags", .stringCollection(maxLength: shortText), isDefault: true),
    ]

    static let servicePrincipalProperties: [PropertySpec] = [
        PropertySpec("accountEnabled", .boolean, isDefault: true),
        PropertySpec("appDisplayName", .string(maxLength: shortText), .readOnly, isDefault: true),
        PropertySpec("appId", .string(maxLength: 36), .createOnly, required: true, isDefault: true),
        PropertySpec("appOwnerOrganizationId", .string(maxLength: 36), .readOnly, isDefault: true),
        PropertySpec("description", .string(maxLength: longText), isDefault: true),
        PropertySpec("displayName", .string(maxLength: shortText), isDefault: true),
        PropertySpec("notes", .string(maxLength: longText), isDefault: true),
        PropertySpec("servicePrincipalNames", .stringCollection(maxLength: shortText), .readOnly, isDefault: true),
        PropertySpec("servicePrincipalType", .string(maxLength: 64), .readOnly, isDefault: true),
        PropertySpec("tags", .stringCollection(maxLength: shortText), isDefault: true),
    ]
}
