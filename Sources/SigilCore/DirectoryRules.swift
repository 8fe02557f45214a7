import Foundation

/// A validated create or update of a directory object's declared properties.
public struct DirectoryWrite: Sendable, Equatable {
    /// Properties to set; `.null` clears one.
    public var properties: JSONObject
    /// The new password of a user (`passwordProfile.password`), to be hashed by the caller.
    public var password: String?
    /// The raw `customSecurityAttributes` member, when the body carried one.
    public var customSecurityAttributes: JSONValue?

    public init(properties: JSONObject = JSONObject(), password: String? = nil, customSecurityAttributes: JSONValue? = nil) {
        self.properties = properties
        self.password = password
        self.customSecurityAttributes = customSecurityAttributes
    }

    /// Whether anything other than custom security attributes changes (needs the object's own
    /// write permission, apart from the attribute permission).
    public var changesOrdinaryProperties: Bool { !properties.isEmpty || password != nil }
}

/// Validation of user, application and service principal bodies against `DirectorySchema`.
public enum DirectoryRules {
    /// `passwordRequired` false: a user provisioned without a password (SCIM) gets none, so it
    /// cannot sign in with one.
    public static func create(_ kind: DirectoryObjectKind, body: JSONValue, passwordRequired: Bool = true) throws(GraphError)
        -> DirectoryWrite
    {
        try write(kind, body: body, isCreate: true, passwordRequired: passwordRequired)
    }

    public static func update(_ kind: DirectoryObjectKind, body: JSONValue) throws(GraphError) -> DirectoryWrite {
        try write(kind, body: body, isCreate: false)
    }

    static func write(_ kind: DirectoryObjectKind, body: JSONValue, isCreate: Bool, passwordRequired: Bool = true) throws(GraphError)
        -> DirectoryWrite
    {
        var payload = try Payload(body, resource: kind.resourceName)
        var result = DirectoryWrite()
        for spec in DirectorySchema.properties(of: kind) {
            guard let value = payload.raw(spec.name) else {
                if isCreate, spec.requiredOnCreate { throw payload.missing(spec.name) }
                continue
            }
            switch spec.access {
            case .readOnly:
                throw .badRequest("Property '\(spec.name)' is read-only and cannot be set.")
            case .createOnly where !isCreate:
                throw .badRequest("Property '\(spec.name)' cannot be changed after the object is created.")
            default: break
            }
            if value == .null, spec.requiredOnCreate {
                throw .badRequest("Property '\(spec.name)' of resource '\(kind.resourceName)' cannot be null.")
            }
            result.properties.append(spec.name, try checked(value, against: spec, resource: kind.resourceName))
        }
        if kind == .user {
            result.password = try password(from: payload.raw("passwordProfile"), isCreate: isCreate && passwordRequired)
        }
        if kind == .user || kind == .servicePrincipal, let attributes = payload.raw("customSecurityAttributes") {
            result.customSecurityAttributes = attributes
        }
        try payload.rejectUnknownProperties()
        try checkSemantics(kind, result.properties)
        return result
    }

    static func checked(_ value: JSONValue, against spec: PropertySpec, resource: String) throws(GraphError) -> JSONValue {
        func invalid(_ expected: String) -> GraphError {
            .badRequest("Invalid value specified for property '\(spec.name)' of resource '\(resource)': expected \(expected).")
        }
        if value == .null { return .null }
        switch spec.type {
        case .boolean:
            guard case .bool = value else { throw invalid("Boolean") }
        case .string(let maxLength):
            guard case .string(let s) = value else { throw invalid("String") }
            guard s.count <= maxLength else { throw invalid("at most \(maxLength) characters") }
        case .stringCollection(let maxLength):
            guard case .array(let elements) = value else { throw invalid("a collection of String") }
            for element in elements {
                guard case .string(let s) = element, s.count <= maxLength else {
                    throw invalid("a collection of String of at most \(maxLength) characters each")
                }
            }
        }
        return value
    }

    static func password(from value: JSONValue?, isCreate: Bool) throws(GraphError) -> String? {
        guard let value else {
            if isCreate { throw .badRequest("Property 'passwordProfile' of resource 'User' is required.") }
            return nil
        }
        var profile = try Payload(value, resource: "PasswordProfile")
        let password = try profile.string("password")
        _ = try profile.bool("forceChangePasswordNextSignIn")
        _ = try profile.bool("forceChangePasswordNextSignInWithMfa")
        try profile.rejectUnknownProperties()
        guard case .value(let text) = password else {
            throw .badRequest("Property 'password' of resource 'PasswordProfile' is required.")
        }
        guard text.count >= Limits.passwordMinimumLength, text.count <= Limits.passwordLength else {
            throw .badRequest(
                "The specified password does not comply with password complexity requirements: use \(Limits.passwordMinimumLength) to \(Limits.passwordLength) characters."
            )
        }
        return text
    }

    static func checkSemantics(_ kind: DirectoryObjectKind, _ properties: JSONObject) throws(GraphError) {
        if let upn = properties["userPrincipalName"]?.stringValue, !isValidUserPrincipalName(upn) {
            throw .badRequest("Property userPrincipalName is invalid: expected alias@domain with no spaces.")
        }
        if let nickname = properties["mailNickname"]?.stringValue,
            nickname.isEmpty || nickname.contains(where: { $0.isWhitespace || "@()\\[]\";:<>,".contains($0) })
        {
            throw .badRequest("Property mailNickname is invalid: it must not be empty or contain spaces or @()\\[]\";:<>,.")
        }
        if let userType = properties["userType"]?.stringValue, userType != "Member", userType != "Guest" {
            throw .badRequest("Property userType must be Member or Guest.")
        }
        if let name = properties["displayName"]?.stringValue, name.trimmingSpaces.isEmpty {
            throw .badRequest("Property displayName must not be empty.")
        }
        if let audience = properties["signInAudience"]?.stringValue,
            !["AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"].contains(
                audience)
        {
            throw .badRequest(
                "Property signInAudience must be AzureADMyOrg, AzureADMultipleOrgs, AzureADandPersonalMicrosoftAccount or PersonalMicrosoftAccount."
            )
        }
    }

    public static func isValidUserPrincipalName(_ upn: String) -> Bool {
        let parts = upn.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last else { return false }
        let localAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.-_!#^~")
        guard !local.isEmpty, local.count <= 64, local.allSatisfy({ localAllowed.contains($0) }),
            !local.hasPrefix("."), !local.hasSuffix(".")
        else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }

    /// The stored properties of a new object: the validated write, the defaults Graph fills in,
    /// and service-set values, ordered as `DirectorySchema` declares them.
    public static func newObject(
        _ kind: DirectoryObjectKind, id: String, write: DirectoryWrite, serviceSet: JSONObject
    ) -> DirectoryObject {
        var defaults = JSONObject()
        switch kind {
        case .user:
            defaults["userType"] = "Member"
            defaults["businessPhones"] = .array([])
        case .application:
            defaults["signInAudience"] = "AzureADMyOrg"
            defaults["identifierUris"] = .array([])
            defaults["tags"] = .array([])
        case .servicePrincipal:
            defaults["accountEnabled"] = true
            defaults["tags"] = .array([])
            defaults["servicePrincipalType"] = "Application"
        }
        var properties = JSONObject()
        for spec in DirectorySchema.properties(of: kind) {
            if let value = serviceSet[spec.name] ?? write.properties[spec.name] ?? defaults[spec.name] {
                properties.append(spec.name, value)
            }
        }
        return DirectoryObject(kind: kind, id: id, properties: properties)
    }

    /// Applies an update's properties to an object, keeping declaration order.
    public static func applying(_ write: DirectoryWrite, to object: DirectoryObject) -> DirectoryObject {
        var merged = object.properties
        for (key, value) in write.properties { merged[key] = value }
        var ordered = JSONObject()
        for spec in DirectorySchema.properties(of: object.kind) {
            if let value = merged[spec.name] { ordered.append(spec.name, value) }
        }
        return DirectoryObject(kind: object.kind, id: object.id, properties: ordered)
    }

    /// Role assignment create body: `principalId`, `roleDefinitionId`, `directoryScopeId`.
    public static func roleAssignment(_ body: JSONValue) throws(GraphError) -> (
        principalId: String, role: DirectoryRole, scope: RoleScope
    ) {
        var payload = try Payload(body, resource: "UnifiedRoleAssignment")
        let principalId = try payload.requiredString("principalId")
        let roleId = try payload.requiredString("roleDefinitionId")
        let scopeId = try payload.requiredString("directoryScopeId")
        if let appScope = payload.raw("appScopeId"), appScope != .null {
            throw .badRequest("Property 'appScopeId' is not supported; use directoryScopeId.")
        }
        try payload.rejectUnknownProperties()
        guard let role = DirectoryRole(rawValue: roleId.lowercased()) else {
            throw .badRequest("The role definition '\(roleId)' named by property 'roleDefinitionId' does not exist.")
        }
        guard let scope = RoleScope(directoryScopeId: scopeId) else {
            throw .badRequest("Property 'directoryScopeId' must be '/' or '/attributeSets/{attributeSetName}'.")
        }
        try checkScope(role, scope)
        return (principalId, role, scope)
    }

    /// Only the attribute roles may be scoped to an attribute set.
    public static func checkScope(_ role: DirectoryRole, _ scope: RoleScope) throws(GraphError) {
        if case .attributeSet = scope, !role.allowsAttributeSetScope {
            throw .badRequest("The role '\(role.displayName)' can only be assigned at the tenant scope '/'.")
        }
    }
}
