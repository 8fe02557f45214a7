import Hummingbird
import SigilCore
import SigilService
import SigilStore

/// The custom security attribute audit log (`/beta/auditLogs/customSecurityAttributeAudits`,
/// beta only, as in Graph) and Sigil's per-object history of attribute values.
struct AuditController {
    let services: SigilServices

    static let auditsPath = "auditLogs/customSecurityAttributeAudits"
    static let historySegment = "customSecurityAttributeHistory"

    func register(on group: RouterGroup<GraphContext>) {
        group.get(RouterPath(Self.auditsPath), use: list)
        group.get(RouterPath(Self.auditsPath + "/:id"), use: get)
        for kind in [DirectoryObjectKind.user, .servicePrincipal] {
            group.get(RouterPath("\(kind.entitySet)/:id/\(Self.historySegment)"), use: { try await history(kind, $0, $1) })
        }
    }

    /// The options these routes take. `$filter` has its own grammar here (lambda `any`, bare
    /// date-times), so the query string is read directly rather than through `QueryOptions`.
    struct Options {
        var filter: String?
        var orderBy: String?
        var top = Limits.auditPageSize
        var skipToken: String?

        init(_ request: Request, allowed: Set<String>) throws {
            for (rawName, value) in try request.apiQueryItems() {
                let name = rawName.lowercased().hasPrefix("$") ? String(rawName.lowercased().dropFirst()) : rawName.lowercased()
                guard allowed.contains(name) else {
                    if rawName.hasPrefix("$") {
                        throw GraphError.badRequest("Query option '\(rawName)' is not supported on this resource.")
                    }
                    continue
                }
                switch name {
                case "filter": filter = value
                case "orderby": orderBy = value
                case "skiptoken": skipToken = value
                case "top":
                    guard let top = Int(value.filter { $0 != " " }), (1...Limits.auditPageSize).contains(top) else {
                        throw GraphError.badRequest(
                            "Invalid page size specified: '\(value)'. Must be between 1 and \(Limits.auditPageSize) inclusive.")
                    }
                    self.top = top
                default: break
                }
            }
        }
    }

    static func decode(_ record: StoredAuditRecord) throws -> JSONObject {
        guard let object = (try? JSON.parse(record.json))?.objectValue else {
            throw StoreError.corrupt("audit record \(record.seq) is not a JSON object")
        }
        return object
    }

    // MARK: The audit log

    @Sendable func list(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        try AccessPolicy.require(AccessPolicy.allows(caller, .readAuditLogs))
        let options = try Options(request, allowed: ["filter", "orderby", "top", "skiptoken"])
        let query = try AuditQuery.parse(filter: options.filter, orderBy: options.orderBy.map { [$0] })
        let binding = "audits|\(options.filter ?? "")|\(options.orderBy ?? "")"
        let cursor = try services.pageTokens.position(options.skipToken, query: binding)
        let page = try await services.store.auditRecords(query, after: cursor, limit: options.top)
        return GraphResponse.collection(
            try page.records.map { .object(try Self.decode($0)) },
            context: services.odataContext(request, Self.auditsPath),
            nextLink: page.next.map {
                request.nextLink(origin: services.origin(request), skipToken: services.pageTokens.token(for: $0, query: binding))
            })
    }

    @Sendable func get(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        try AccessPolicy.require(AccessPolicy.allows(caller, .readAuditLogs))
        _ = try Options(request, allowed: [])
        let id = try context.parameters.require("id")
        guard let record = try await services.store.auditRecord(id: id) else { throw GraphError.notFound(id) }
        return GraphResponse.entity(try Self.decode(record), context: services.odataContext(request, Self.auditsPath + "/$entity"))
    }

    // MARK: Per-object history (a Sigil extension)

    /// The changes to one object's attribute values, newest first, showing only the attributes
    /// the caller may read; a change that touched none of those is left out.
    func history(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let options = try Options(request, allowed: ["top", "skiptoken"])
        let id = try context.parameters.require("id")
        guard let object = try await services.store.object(kind, id: id) else {
            throw AccessPolicy.mayReadDirectory(caller) ? GraphError.notFound(id) : GraphError.forbidden
        }
        try AccessPolicy.require(AccessPolicy.mayReadDirectory(caller) || object.id == caller.principalId)
        try AccessPolicy.require(AccessPolicy.allowsAnywhere(caller, .readAssignments))
        var query = AuditQuery()
        query.activity = AuditActivity.values(of: kind)
        query.result = .success
        query.targetId = object.id.lowercased()
        let binding = "history|\(kind.rawValue)|\(object.id)"
        var cursor = try services.pageTokens.position(options.skipToken, query: binding)
        let schema = try await services.store.schema()
        var items: [JSONValue] = []
        var last: Int64?
        var exhausted = false
        // Hidden records can thin a page out: read on until it is full or the history ends.
        repeat {
            let page = try await services.store.auditRecords(query, after: cursor, limit: options.top)
            var consumedAll = true
            for record in page.records {
                guard items.count < options.top else {
                    consumedAll = false
                    break
                }
                if let visible = Self.visible(try Self.decode(record), objectId: object.id, schema: schema, caller: caller) {
                    items.append(.object(visible))
                }
                last = record.seq
            }
            cursor = page.next
            exhausted = consumedAll && page.next == nil
        } while items.count < options.top && cursor != nil
        let next = exhausted ? nil : last
        let fragment = "\(kind.entitySet)('\(object.id)')/\(Self.historySegment)"
        return GraphResponse.collection(
            items, context: services.odataContext(request, fragment),
            nextLink: next.map {
                request.nextLink(origin: services.origin(request), skipToken: services.pageTokens.token(for: $0, query: binding))
            })
    }

    /// The record with only the modified properties whose attribute set the caller may read
    /// values in; nil when none is left. A caller never reads its own values (as in Graph).
    static func visible(_ record: JSONObject, objectId: String, schema: Schema, caller: Caller) -> JSONObject? {
        guard caller.principalId != objectId, case .array(let targets)? = record["targetResources"] else { return nil }
        var filtered: [JSONValue] = []
        var anyVisible = false
        for case .object(var target) in targets {
            if case .array(let properties)? = target["modifiedProperties"] {
                let kept = properties.filter { property in
                    guard let name = property.objectValue?["displayName"]?.stringValue,
                        let definition = schema.definition(id: name)
                    else { return false }
                    return AccessPolicy.allows(caller, .readAssignments, inSet: definition.attributeSet)
                }
                anyVisible = anyVisible || !kept.isEmpty
                target["modifiedProperties"] = .array(kept)
            }
            filtered.append(.object(target))
        }
        guard anyVisible else { return nil }
        var result = record
        result["targetResources"] = .array(filtered)
        return result
    }
}
