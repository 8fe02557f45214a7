import Foundation
import Hummingbird
import SigilCore
import SigilStore

/// `/users`, `/applications`, `/servicePrincipals` and `/me`: create, read, list, update and
/// delete, plus application secrets (`addPassword`, `removePassword`).
struct DirectoryController {
    let services: SigilServices
    let assignments: AssignmentController

    func register(on group: RouterGroup<GraphContext>) {
        for kind in DirectoryObjectKind.allCases {
            let set = kind.entitySet
            group.get(RouterPath(set), use: { try await list(kind, $0, $1) })
            group.post(RouterPath(set), use: { try await create(kind, $0, $1) })
            group.get(RouterPath("\(set)/$count"), use: { try await count(kind, $0, $1) })
            group.get(RouterPath("\(set)/:id"), use: { try await get(kind, $0, $1) })
            group.patch(RouterPath("\(set)/:id"), use: { try await update(kind, $0, $1) })
            group.delete(RouterPath("\(set)/:id"), use: { try await delete(kind, $0, $1) })
        }
        group.get("me", use: me)
        group.patch("me", use: updateMe)
        group.post("applications/:id/addPassword", use: addPassword)
        group.post("applications/:id/removePassword", use: removePassword)
    }

    static func capability(for kind: DirectoryObjectKind) -> Capability {
        kind == .user ? .manageUsers : .manageApplications
    }

    // MARK: Encoding

    /// Property names `$select` accepts for a kind.
    static func selectable(_ kind: DirectoryObjectKind) -> [String] {
        var names = ["id"] + DirectorySchema.properties(of: kind).map(\.name)
        switch kind {
        case .application: names.append("passwordCredentials")
        case .user, .servicePrincipal: names.append("customSecurityAttributes")
        }
        return names
    }

    static func encode(_ credential: PasswordCredential, secretText: String? = nil) -> JSONObject {
        JSONObject([
            ("customKeyIdentifier", .null), ("displayName", JSONValue(credential.displayName)),
            ("endDateTime", .string(graphTimestamp(credential.endDateTime))), ("hint", .string(credential.hint)),
            ("keyId", .string(credential.keyId)), ("secretText", JSONValue(secretText)),
            ("startDateTime", .string(graphTimestamp(credential.startDateTime))),
        ])
    }

    /// An object as a caller sees it: the default properties, or exactly the `$select`ed ones.
    func encode(_ object: DirectoryObject, selection: [String]?, caller: Caller) async throws -> JSONObject {
        try await encode([object], selection: selection, caller: caller).first ?? JSONObject()
    }

    /// Encodes a page of objects, reading attribute values for all of them at once.
    func encode(
        _ objects: [DirectoryObject], selection: [String]?, caller: Caller, preloaded: [String: AttributeAssignments]? = nil
    ) async throws -> [JSONObject] {
        let attributes =
            selection?.contains("customSecurityAttributes") == true
            ? try await assignments.readableAttributes(of: objects, caller: caller, preloaded: preloaded) : [:]
        var encoded: [JSONObject] = []
        for object in objects {
            encoded.append(try await encode(object, selection: selection, attributes: attributes[object.id] ?? .null))
        }
        return encoded
    }

    func encode(_ object: DirectoryObject, selection: [String]?, attributes: JSONValue) async throws -> JSONObject {
        var out = JSONObject()
        let names = selection ?? (["id"] + DirectorySchema.properties(of: object.kind).filter(\.isDefault).map(\.name))
        for name in names {
            switch name {
            case "id": out.append("id", .string(object.id))
            case "passwordCredentials":
                let credentials = try await services.store.passwordCredentials(applicationId: object.id)
                out.append(name, .array(credentials.map { .object(Self.encode($0)) }))
            case "customSecurityAttributes":
                out.append(name, attributes)
            default: out.append(name, object.properties[name] ?? .null)
            }
        }
        if selection == nil, object.kind == .application {
            let credentials = try await services.store.passwordCredentials(applicationId: object.id)
            out.append("passwordCredentials", .array(credentials.map { .object(Self.encode($0)) }))
        }
        return out
    }

    /// `users/$entity`, or `users(id,displayName)/$entity` under `$select`, as Graph writes it.
    func entityContext(_ request: Request, _ kind: DirectoryObjectKind, _ selection: [String]?, entity: Bool) -> String {
        let projection = selection.map { "(\($0.joined(separator: ",")))" } ?? ""
        return services.odataContext(request, kind.entitySet + projection + (entity ? "/$entity" : ""))
    }

    // MARK: Lookup

    /// Finds an object the caller may read; guests may read only themselves.
    func readable(_ kind: DirectoryObjectKind, id: String, caller: Caller) async throws -> DirectoryObject {
        try await readable(kind, id: id, caller: caller, withAttributes: false).object
    }

    /// As `readable`, optionally with the object's attribute values from the same read.
    func readable(_ kind: DirectoryObjectKind, id: String, caller: Caller, withAttributes: Bool) async throws
        -> (object: DirectoryObject, attributes: AttributeAssignments?)
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

    /// GET of one object (by id, or the caller itself for /me).
    func single(_ kind: DirectoryObjectKind, id: String, _ request: Request, caller: Caller) async throws -> Response {
        let options = try request.queryOptions()
        try options.reject(["filter", "top", "count", "orderby", "search", "skiptoken", "expand"])
        let selection = try options.selection(from: Self.selectable(kind))
        let wantsAttributes = selection?.contains("customSecurityAttributes") == true
        let (object, attributes) = try await readable(kind, id: id, caller: caller, withAttributes: wantsAttributes)
        let encoded = try await encode(
            [object], selection: selection, caller: caller, preloaded: attributes.map { [object.id: $0] })
        return GraphResponse.entity(encoded.first ?? JSONObject(), context: entityContext(request, kind, selection, entity: true))
    }

    // MARK: Routes

    /// The `$filter` of a list or count request as a checked predicate (nil without a filter).
    func predicate(_ kind: DirectoryObjectKind, _ options: QueryOptions, advanced: Bool, caller: Caller) async throws
        -> ObjectPredicate?
    {
        guard let filter = options.filter else { return nil }
        let query = DirectoryQuery(
            kind: kind, schema: try await services.store.schema(), caller: caller, isAdvanced: advanced,
            allowsRanges: services.allowsRangeFilters)
        return try query.compile(filter)
    }

    func list(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        try AccessPolicy.require(AccessPolicy.mayReadDirectory(caller))
        let options = try request.queryOptions()
        try options.reject(["expand", "search"])
        let selection = try options.selection(from: Self.selectable(kind))
        // Graph's advanced queries: `$count=true` together with `ConsistencyLevel: eventual`.
        let advanced = options.count && request.isEventualConsistency(options)
        let predicate = try await predicate(kind, options, advanced: advanced, caller: caller)
        let order = try options.orderBy.map { try ObjectOrder(orderBy: $0) }
        if order != nil, predicate != nil, !advanced {
            throw GraphError.unsupportedQuery("Sorting not supported for current query.")
        }
        // The token is bound to the query it pages, so it cannot be replayed on another.
        let pageKey = "\(options.filterText ?? "")|\(options.orderBy ?? "")"
        let (cursor, sortKey) = try Self.cursor(try services.pageTokens.payload(options.skipToken, query: pageKey))
        let (page, count) = try await services.store.query(
            kind, matching: predicate, reader: caller.principalId, order: order, after: cursor, afterSortKey: sortKey,
            limit: options.top ?? Limits.defaultPageSize, count: advanced && options.skipToken == nil,
            withAttributes: selection?.contains("customSecurityAttributes") == true)
        let items = try await encode(page.objects, selection: selection, caller: caller, preloaded: page.attributes)
            .map { JSONValue.object($0) }
        // @odata.count only on the first page, as Graph does.
        return GraphResponse.collection(
            items, context: entityContext(request, kind, selection, entity: false), count: count,
            nextLink: page.next.map { next in
                let payload = page.nextSortKey.map { "\(next):\($0)" } ?? String(next)
                return request.nextLink(origin: services.origin(request), skipToken: services.pageTokens.token(payload: payload, query: pageKey))
            })
    }

    /// A skip token's payload: `rowid`, or `rowid:sortKey` for ordered lists.
    static func cursor(_ payload: String?) throws -> (Int64?, String?) {
        guard let payload else { return (nil, nil) }
        let parts = payload.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let rowid = Int64(parts[0]), rowid >= 0 else {
            throw GraphError.badRequest("The $skiptoken is not valid for this request; use the @odata.nextLink of a previous page.")
        }
        return (rowid, parts.count == 2 ? String(parts[1]) : nil)
    }

    func count(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        try AccessPolicy.require(AccessPolicy.mayReadDirectory(caller))
        let options = try request.queryOptions()
        guard request.isEventualConsistency(options) else {
            throw GraphError.badRequest("$count is not currently supported.")
        }
        let predicate = try await predicate(kind, options, advanced: true, caller: caller)
        let (_, count) = try await services.store.query(
            kind, matching: predicate, reader: caller.principalId, after: nil, limit: 0, count: true)
        return GraphResponse.text(String(count ?? 0))
    }

    func get(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        return try await single(kind, id: try context.parameters.require("id"), request, caller: caller)
    }

    @Sendable func me(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try Self.signedInUser(context)
        return try await single(.user, id: caller.principalId, request, caller: caller)
    }

    /// PATCH /me is PATCH /users/{caller's id}: the same update, so the same rules apply.
    @Sendable func updateMe(_ request: Request, context: GraphContext) async throws -> Response {
        try await update(.user, id: try Self.signedInUser(context).principalId, request, context)
    }

    /// The caller of a /me route; an application has no /me, as in Graph.
    static func signedInUser(_ context: GraphContext) throws -> Caller {
        let caller = try context.requireCaller()
        guard caller.isUser else {
            throw GraphError.badRequest("/me request is only valid with delegated authentication flow.")
        }
        return caller
    }

    func create(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await request.jsonBody(context: context)
        // Values sent with a new object are an attribute activity; refusing them is recorded.
        guard kind != .application, body.objectValue?["customSecurityAttributes"] != nil else {
            return try await create(kind, body, request, context, caller: caller)
        }
        return try await services.recordingRefusal(AuditActivity.values(of: kind), target: nil, request, context) {
            try await create(kind, body, request, context, caller: caller)
        }
    }

    func create(
        _ kind: DirectoryObjectKind, _ body: JSONValue, _ request: Request, _ context: GraphContext, caller: Caller
    ) async throws -> Response {
        try AccessPolicy.require(AccessPolicy.allows(caller, Self.capability(for: kind)))
        let write = try DirectoryRules.create(kind, body: body)
        let id = SigilServices.newId()
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
        let object = DirectoryRules.newObject(kind, id: id, write: write, serviceSet: serviceSet)
        let passwordHash = try await write.password.asyncMap { try await services.hasher.hashPassword($0) }
        try await assignments.create(
            object, passwordHash: passwordHash, attributes: write.customSecurityAttributes, caller: caller,
            audit: context.audit(request, caller: caller))
        return GraphResponse.entity(
            try await encode(object, selection: nil, caller: caller),
            context: entityContext(request, kind, nil, entity: true), status: .created)
    }

    func update(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        try await update(kind, id: try context.parameters.require("id"), request, context)
    }

    func update(_ kind: DirectoryObjectKind, id: String, _ request: Request, _ context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await request.jsonBody(context: context)
        // The write itself finds the object (404 when missing); a separate read is needed only to
        // resolve a userPrincipalName or to let a guest update no one but themselves.
        let objectId =
            id.contains("@") || !AccessPolicy.mayReadDirectory(caller)
            ? try await readable(kind, id: id, caller: caller).id : id
        // A refused change of attribute values is recorded; other refused updates are not
        // attribute activity.
        guard kind != .application, body.objectValue?["customSecurityAttributes"] != nil else {
            try await update(kind, objectId, body, request, context, caller: caller)
            return GraphResponse.noContent
        }
        try await services.recordingRefusal(
            AuditActivity.values(of: kind), target: AuditTarget(id: objectId, displayName: nil, type: kind.resourceName),
            request, context
        ) {
            try await update(kind, objectId, body, request, context, caller: caller)
        }
        return GraphResponse.noContent
    }

    func update(
        _ kind: DirectoryObjectKind, _ objectId: String, _ body: JSONValue, _ request: Request, _ context: GraphContext,
        caller: Caller
    ) async throws {
        let write = try DirectoryRules.update(kind, body: body)
        if write.changesOrdinaryProperties || write.customSecurityAttributes == nil {
            try AccessPolicy.require(AccessPolicy.allows(caller, Self.capability(for: kind)))
        }
        let passwordHash = try await write.password.asyncMap { try await services.hasher.hashPassword($0) }
        try await assignments.update(
            kind, id: objectId, with: write, passwordHash: passwordHash, caller: caller,
            audit: context.audit(request, caller: caller))
    }

    func delete(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let object = try await readable(kind, id: try context.parameters.require("id"), caller: caller)
        try AccessPolicy.require(AccessPolicy.allows(caller, Self.capability(for: kind)))
        guard try await services.store.delete(kind, id: object.id) else { throw GraphError.notFound(object.id) }
        return GraphResponse.noContent
    }

    // MARK: Application secrets

    @Sendable func addPassword(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let application = try await readable(.application, id: try context.parameters.require("id"), caller: caller)
        try AccessPolicy.require(AccessPolicy.allows(caller, .manageApplications))
        let body = try await request.jsonBody(context: context)
        var payload = try Payload(body, resource: "addPassword")
        let credentialBody = payload.raw("passwordCredential")
        try payload.rejectUnknownProperties()
        var displayName: String?
        var end = Date().addingTimeInterval(2 * 365 * 24 * 3600)
        if let credentialBody, credentialBody != .null {
            var credential = try Payload(credentialBody, resource: "PasswordCredential")
            displayName = try credential.string("displayName").value
            if let text = try credential.string("endDateTime").value {
                guard let date = parseTimestamp(text), date > Date() else {
                    throw GraphError.badRequest("Property 'endDateTime' must be a future ISO 8601 date and time.")
                }
                end = date
            }
            try credential.rejectUnknownProperties()
        }
        let secret = SecretGenerator.make()
        let credential = PasswordCredential(
            keyId: SigilServices.newId(), displayName: displayName, hint: String(secret.prefix(3)), startDateTime: Date(),
            endDateTime: end, secretHash: services.hasher.hashSecret(secret))
        try await services.store.addPasswordCredential(credential, applicationId: application.id)
        return GraphResponse.entity(
            Self.encode(credential, secretText: secret),
            context: services.odataContext(request, "microsoft.graph.passwordCredential"))
    }

    @Sendable func removePassword(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let application = try await readable(.application, id: try context.parameters.require("id"), caller: caller)
        try AccessPolicy.require(AccessPolicy.allows(caller, .manageApplications))
        var payload = try Payload(try await request.jsonBody(context: context), resource: "removePassword")
        let keyId = try payload.requiredString("keyId")
        try payload.rejectUnknownProperties()
        guard try await services.store.removePasswordCredential(keyId: keyId, applicationId: application.id) else {
            throw GraphError.notFound(keyId)
        }
        return GraphResponse.noContent
    }
}

func parseTimestamp(_ text: String) -> Date? {
    (try? Date(text, strategy: .iso8601))
        ?? (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
