import Foundation
import Hummingbird
import SigilCore
import SigilService
import SigilStore

/// `/users`, `/applications`, `/servicePrincipals` and `/me`: create, read, list, update and
/// delete, plus application secrets (`addPassword`, `removePassword`).
struct DirectoryController {
    let services: SigilServices
    let assignments: AssignmentService
    let directory: DirectoryService

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

    /// Writes objects as a caller sees them, comma-separated: the default properties, or exactly
    /// the `$select`ed ones, each object opened by `leading` members (an entity's `@odata.context`).
    func write(
        _ objects: [DirectoryObject], selection: [String]?, caller: Caller, preloaded: [String: AttributeAssignments]? = nil,
        leading: JSONObject = JSONObject(), into out: inout [UInt8]
    ) async throws {
        var writer = try await ObjectWriter(objects, selection: selection, caller: caller, preloaded: preloaded, controller: self)
        for (index, object) in objects.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            writer.write(object, leading: leading, into: &out)
        }
    }

    /// The members an object of `kind` is written with: the `$select`ed ones, or `id` and the
    /// default ones.
    static func names(of kind: DirectoryObjectKind, selection: [String]?) -> [String] {
        if let selection { return selection }
        var names = ["id"] + DirectorySchema.properties(of: kind).filter(\.isDefault).map(\.name)
        if kind == .application { names.append("passwordCredentials") }
        return names
    }

    /// One object as an entity body, its `@odata.context` first.
    func entity(
        _ object: DirectoryObject, selection: [String]?, caller: Caller, preloaded: [String: AttributeAssignments]? = nil,
        context: String, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        var body: [UInt8] = []
        try await write(
            [object], selection: selection, caller: caller, preloaded: preloaded,
            leading: JSONObject([("@odata.context", .string(context))]), into: &body)
        return GraphResponse.json(bytes: body, status: status)
    }

    /// `users/$entity`, or `users(id,displayName)/$entity` under `$select`, as Graph writes it.
    func entityContext(_ request: Request, _ kind: DirectoryObjectKind, _ selection: [String]?, entity: Bool) -> String {
        let projection = selection.map { "(\($0.joined(separator: ",")))" } ?? ""
        return services.odataContext(request, kind.entitySet + projection + (entity ? "/$entity" : ""))
    }

    // MARK: Lookup

    /// Finds an object the caller may read; guests may read only themselves.
    func readable(_ kind: DirectoryObjectKind, id: String, caller: Caller) async throws -> DirectoryObject {
        try await directory.readable(kind, id: id, caller: caller).object
    }

    func readable(_ kind: DirectoryObjectKind, id: String, caller: Caller, withAttributes: Bool) async throws
        -> (object: DirectoryObject, attributes: AttributeAssignments?)
    {
        try await directory.readable(kind, id: id, caller: caller, withAttributes: withAttributes)
    }

    /// GET of one object (by id, or the caller itself for /me).
    func single(_ kind: DirectoryObjectKind, id: String, _ request: Request, caller: Caller) async throws -> Response {
        let options = try request.queryOptions()
        try options.reject(["filter", "top", "count", "orderby", "search", "skiptoken", "expand"])
        let selection = try options.selection(from: Self.selectable(kind))
        let wantsAttributes = selection?.contains("customSecurityAttributes") == true
        let (object, attributes) = try await readable(kind, id: id, caller: caller, withAttributes: wantsAttributes)
        return try await entity(
            object, selection: selection, caller: caller, preloaded: attributes.map { [object.id: $0] },
            context: entityContext(request, kind, selection, entity: true))
    }

    // MARK: Routes

    func list(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let lister = try directory.lister(for: caller)
        let options = try request.queryOptions()
        try options.reject(["expand", "search"])
        let selection = try options.selection(from: Self.selectable(kind))
        // Graph's advanced queries: `$count=true` together with `ConsistencyLevel: eventual`.
        let advanced = options.count && request.isEventualConsistency(options)
        let order = try options.orderBy.map { try ObjectOrder(orderBy: $0) }
        // The token is bound to the query it pages, so it cannot be replayed on another.
        let pageKey = "\(options.filterText ?? "")|\(options.orderBy ?? "")"
        let (cursor, sortKey) = try Self.cursor(try services.pageTokens.payload(options.skipToken, query: pageKey))
        let (page, count) = try await lister.list(
            kind, filter: options.filter, advanced: advanced,
            .init(
                order: order, after: cursor, afterSortKey: sortKey, limit: options.top ?? Limits.defaultPageSize,
                count: advanced && options.skipToken == nil,
                withAttributes: selection?.contains("customSecurityAttributes") == true))
        // @odata.count only on the first page, as Graph does.
        var body = GraphResponse.collectionStart(
            context: entityContext(request, kind, selection, entity: false), count: count,
            nextLink: page.next.map { next in
                let payload = page.nextSortKey.map { "\(next):\($0)" } ?? String(next)
                return request.nextLink(origin: services.origin(request), skipToken: services.pageTokens.token(payload: payload, query: pageKey))
            })
        try await write(page.objects, selection: selection, caller: caller, preloaded: page.attributes, into: &body)
        GraphResponse.closeCollection(&body)
        return GraphResponse.json(bytes: body)
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
        let lister = try directory.lister(for: try context.requireCaller())
        let options = try request.queryOptions()
        guard request.isEventualConsistency(options) else {
            throw GraphError.badRequest("$count is not currently supported.")
        }
        let (_, count) = try await lister.list(kind, filter: options.filter, advanced: true, .init(limit: 0, count: true))
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
        let initiator = try context.initiator(request)
        let object = try await directory.create(kind, try await request.jsonBody(context: context), as: initiator)
        return try await entity(
            object, selection: nil, caller: initiator.caller, context: entityContext(request, kind, nil, entity: true),
            status: .created)
    }

    func update(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        try await update(kind, id: try context.parameters.require("id"), request, context)
    }

    func update(_ kind: DirectoryObjectKind, id: String, _ request: Request, _ context: GraphContext) async throws -> Response {
        let initiator = try context.initiator(request)
        try await directory.update(kind, id: id, try await request.jsonBody(context: context), as: initiator)
        return GraphResponse.noContent
    }

    func delete(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        try await directory.delete(kind, id: try context.parameters.require("id"), caller: try context.requireCaller())
        return GraphResponse.noContent
    }

    // MARK: Application secrets

    @Sendable func addPassword(_ request: Request, context: GraphContext) async throws -> Response {
        let (credential, secret) = try await directory.addPassword(
            toApplication: try context.parameters.require("id"), caller: try context.requireCaller()
        ) {
            var payload = try Payload(try await request.jsonBody(context: context), resource: "addPassword")
            let credentialBody = payload.raw("passwordCredential")
            try payload.rejectUnknownProperties()
            var displayName: String?
            var end = Date().addingTimeInterval(CredentialHasher.secretLifetime)
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
            return (displayName, end)
        }
        return GraphResponse.entity(
            Self.encode(credential, secretText: secret),
            context: services.odataContext(request, "microsoft.graph.passwordCredential"))
    }

    @Sendable func removePassword(_ request: Request, context: GraphContext) async throws -> Response {
        try await directory.removePassword(
            fromApplication: try context.parameters.require("id"), caller: try context.requireCaller()
        ) {
            var payload = try Payload(try await request.jsonBody(context: context), resource: "removePassword")
            let keyId = try payload.requiredString("keyId")
            try payload.rejectUnknownProperties()
            return keyId
        }
        return GraphResponse.noContent
    }
}

func parseTimestamp(_ text: String) -> Date? {
    (try? Date(text, strategy: .iso8601))
        ?? (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
}
