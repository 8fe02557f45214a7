import Foundation
import SigilCore
import SigilStore

/// Users, applications and service principals: lookups as a caller may see them, creates,
/// updates (ordinary properties and attribute values in one transaction), deletes and client
/// secrets. A refused change of attribute values is recorded in the audit log here, once, for the
/// API and the console alike.
public struct DirectoryService: Sendable {
    let services: SigilServices
    let assignments: AssignmentService

    public init(services: SigilServices) {
        self.services = services
        self.assignments = AssignmentService(services: services)
    }

    /// The role an object kind's own writes need (ordinary properties, create, delete).
    public static func capability(for kind: DirectoryObjectKind) -> Capability {
        kind == .user ? .manageUsers : .manageApplications
    }

    // MARK: Lookup

    /// An object the caller may read (by id, or a user by userPrincipalName), optionally with its
    /// attribute values from the same read; guests may read only themselves.
    public func readable(_ kind: DirectoryObjectKind, id: String, caller: Caller, withAttributes: Bool = false)
        async throws -> (object: DirectoryObject, attributes: AttributeAssignments?)
    {
        let found: (DirectoryObject, AttributeAssignments?)? =
            if withAttributes {
                try await services.store.objectState(kind, id: id).map { ($0.object, $0.attributes) }
            } else {
                try await services.store.object(kind, id: id).map { ($0, nil) }
            }
        guard let (object, attributes) = found else {
            throw AccessPolicy.mayReadDirectory(caller) ? GraphError.notFound(id) : GraphError.forbidden
        }
        try AccessPolicy.require(AccessPolicy.mayReadDirectory(caller) || object.id == caller.principalId)
        return (object, attributes)
    }

    /// A principal as an administrator names it: a user by object id or user principal name, a
    /// service principal by object id or application id (`appId`), read as `readable` reads it.
    /// Graph's routes address a service principal by object id only; this is for Sigil's own forms.
    public func principal(_ kind: DirectoryObjectKind, named name: String, caller: Caller) async throws -> DirectoryObject {
        if kind == .servicePrincipal, try await services.store.object(.servicePrincipal, id: name) == nil,
            let byAppId = try await services.store.servicePrincipal(appId: name)
        {
            return try await readable(.servicePrincipal, id: byAppId.id, caller: caller).object
        }
        return try await readable(kind, id: name, caller: caller).object
    }

    // MARK: Lists

    /// What a list asks for besides its filter.
    public struct ListRequest: Sendable {
        public var order: ObjectOrder?
        public var after: Int64?
        public var afterSortKey: String?
        public var limit: Int
        public var count: Bool
        public var withAttributes: Bool

        public init(
            order: ObjectOrder? = nil, after: Int64? = nil, afterSortKey: String? = nil, limit: Int, count: Bool,
            withAttributes: Bool = false
        ) {
            (self.order, self.after, self.afterSortKey, self.limit, self.count, self.withAttributes) =
                (order, after, afterSortKey, limit, count, withAttributes)
        }
    }

    /// Lists as `caller` may read them: members and service principals list the directory,
    /// guests do not. Checking once hands back the handle every list goes through.
    public func lister(for caller: Caller) throws(GraphError) -> Lister {
        try AccessPolicy.require(AccessPolicy.mayReadDirectory(caller))
        return Lister(services: services, caller: caller)
    }

    public struct Lister: Sendable {
        let services: SigilServices
        public let caller: Caller

        /// A page of the objects of `kind` matching `filter`: Graph's rules for the filter
        /// (advanced queries, operators, searchable attributes, readable sets), and the caller's
        /// own object judged as holding no values it could not read.
        public func list(
            _ kind: DirectoryObjectKind, filter: FilterExpression?, advanced: Bool, _ list: ListRequest
        ) async throws -> (page: DirectoryPage, count: Int?) {
            let predicate = try await filter.asyncMap { filter in
                try DirectoryQuery(
                    kind: kind, schema: try await services.store.schema(), caller: caller, isAdvanced: advanced,
                    allowsRanges: services.allowsRangeFilters
                ).compile(filter)
            }
            if list.order != nil, predicate != nil, !advanced {
                throw GraphError.unsupportedQuery("Sorting not supported for current query.")
            }
            // Only a list of the caller's own kind can hold the caller; other lists skip the read.
            let ownKind: DirectoryObjectKind = caller.isUser ? .user : .servicePrincipal
            return try await services.store.query(
                kind, matching: predicate, reader: kind == ownKind ? caller.principalId : nil, order: list.order,
                after: list.after,
                afterSortKey: list.afterSortKey, limit: list.limit, count: list.count, withAttributes: list.withAttributes)
        }
    }

    // MARK: Writes

    /// Creates an object from Graph's body; values sent with it are written in the same
    /// transaction, and a refusal of them is recorded.
    /// `passwordRequired` false (provisioning): a user created without `passwordProfile` has no
    /// password.
    public func create(_ kind: DirectoryObjectKind, _ body: JSONValue, as initiator: Initiator, passwordRequired: Bool = true)
        async throws -> DirectoryObject
    {
        guard kind != .application, body.objectValue?["customSecurityAttributes"] != nil else {
            return try await createObject(kind, body, as: initiator, passwordRequired: passwordRequired)
        }
        return try await services.recordingRefusal(
            AuditActivity.values(of: kind), target: nil, audit: initiator.audit, logger: initiator.logger
        ) {
            try await createObject(kind, body, as: initiator, passwordRequired: passwordRequired)
        }
    }

    func createObject(_ kind: DirectoryObjectKind, _ body: JSONValue, as initiator: Initiator, passwordRequired: Bool = true)
        async throws -> DirectoryObject
    {
        let caller = initiator.caller
        try AccessPolicy.require(AccessPolicy.allows(caller, Self.capability(for: kind)))
        let write = try DirectoryRules.create(kind, body: body, passwordRequired: passwordRequired)
        var serviceSet = JSONObject()
        switch kind {
        case .user:
            serviceSet["createdDateTime"] = .string(graphTimestamp(Date()))
        case .application:
            serviceSet["appId"] = .string(SigilServices.newId())
            serviceSet["createdDateTime"] = .string(graphTimestamp(Date()))
            serviceSet["publisherDomain"] = .string(TenantBootstrap.defaultDomain)
        case .servicePrincipal:
            let appId = write.properties["appId"]?.stringValue ?? ""
            guard let application = try await services.store.application(appId: appId) else {
                throw GraphError.badRequest(
                    "The appId '\(appId)' of the service principal does not reference a valid application object.")
            }
            serviceSet["appId"] = .string(application.appId ?? appId.lowercased())
            serviceSet["appDisplayName"] = JSONValue(application.displayName)
            if write.properties["displayName"] == nil { serviceSet["displayName"] = JSONValue(application.displayName) }
            serviceSet["appOwnerOrganizationId"] = .string(services.tenantId)
            serviceSet["servicePrincipalNames"] = [.string(application.appId ?? appId)]
        }
        let object = DirectoryRules.newObject(kind, id: SigilServices.newId(), write: write, serviceSet: serviceSet)
        let passwordHash = try await write.password.asyncMap { try await services.hasher.hashPassword($0) }
        try await assignments.create(
            object, passwordHash: passwordHash, attributes: write.customSecurityAttributes, caller: caller,
            audit: initiator.audit)
        return object
    }

    /// Updates object `id` (or a user by userPrincipalName) from Graph's PATCH body: ordinary
    /// properties need the object's write role, `customSecurityAttributes` the assignment role
    /// per set; all or nothing.
    public func update(_ kind: DirectoryObjectKind, id: String, _ body: JSONValue, as initiator: Initiator) async throws {
        let caller = initiator.caller
        // The write itself finds the object (404 when missing); a separate read is needed only to
        // resolve a userPrincipalName or to let a guest update no one but themselves.
        let objectId =
            kind.isPrincipalName(id) || !AccessPolicy.mayReadDirectory(caller)
            ? try await readable(kind, id: id, caller: caller).object.id : id
        // A refused change of attribute values is recorded; other refused updates are not
        // attribute activity.
        guard kind != .application, body.objectValue?["customSecurityAttributes"] != nil else {
            return try await updateObject(kind, objectId, body, as: initiator)
        }
        try await services.recordingRefusal(
            AuditActivity.values(of: kind), target: AuditTarget(id: objectId, displayName: nil, type: kind.resourceName),
            audit: initiator.audit, logger: initiator.logger
        ) {
            try await updateObject(kind, objectId, body, as: initiator)
        }
    }

    func updateObject(_ kind: DirectoryObjectKind, _ objectId: String, _ body: JSONValue, as initiator: Initiator)
        async throws
    {
        let caller = initiator.caller
        let write = try DirectoryRules.update(kind, body: body)
        if write.changesOrdinaryProperties || write.customSecurityAttributes == nil {
            try AccessPolicy.require(AccessPolicy.allows(caller, Self.capability(for: kind)))
        }
        let passwordHash = try await write.password.asyncMap { try await services.hasher.hashPassword($0) }
        try await assignments.update(
            kind, id: objectId, with: write, passwordHash: passwordHash, caller: caller, audit: initiator.audit)
    }

    /// Writes attribute values from a form (a `customSecurityAttributes` payload built by the
    /// console), with the same rules, permissions and audit record as the API's PATCH. `payload`
    /// runs inside, so a value it cannot read is recorded as refused too.
    public func assign(
        _ object: DirectoryObject, payload: () throws -> JSONValue, as initiator: Initiator
    ) async throws {
        try await services.recordingRefusal(
            AuditActivity.values(of: object.kind), target: AuditLog.target(object), audit: initiator.audit,
            logger: initiator.logger
        ) {
            try await assignments.assign(
                object.kind, id: object.id, payload: try payload(), caller: initiator.caller, audit: initiator.audit)
        }
    }

    public func delete(_ kind: DirectoryObjectKind, id: String, caller: Caller) async throws {
        let object = try await readable(kind, id: id, caller: caller).object
        try AccessPolicy.require(AccessPolicy.allows(caller, Self.capability(for: kind)))
        guard try await services.store.delete(kind, id: object.id) else { throw GraphError.notFound(object.id) }
    }

    // MARK: Application secrets

    /// Adds a generated client secret to an application; returns it with its one-time text.
    /// `details` (display name and expiry) is read after the access check, so a caller without
    /// the role learns nothing from validation messages.
    public func addPassword(
        toApplication id: String, caller: Caller, details: () async throws -> (displayName: String?, endDateTime: Date)
    ) async throws -> (credential: PasswordCredential, secretText: String) {
        let application = try await readable(.application, id: id, caller: caller).object
        try AccessPolicy.require(AccessPolicy.allows(caller, .manageApplications))
        let (displayName, endDateTime) = try await details()
        let secret = SecretGenerator.make()
        let credential = services.hasher.credential(for: secret, displayName: displayName, until: endDateTime)
        try await services.store.addPasswordCredential(credential, applicationId: application.id)
        return (credential, secret)
    }

    public func removePassword(fromApplication id: String, caller: Caller, keyId: () async throws -> String) async throws {
        let application = try await readable(.application, id: id, caller: caller).object
        try AccessPolicy.require(AccessPolicy.allows(caller, .manageApplications))
        let keyId = try await keyId()
        guard try await services.store.removePasswordCredential(keyId: keyId, applicationId: application.id) else {
            throw GraphError.notFound(keyId)
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
