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

    var audit: AuditService { AuditService(services: services) }

    // MARK: The audit log

    @Sendable func list(_ request: Request, context: GraphContext) async throws -> Response {
        let log = try audit.reader(for: try context.requireCaller())
        let options = try Options(request, allowed: ["filter", "orderby", "top", "skiptoken"])
        let query = try AuditQuery.parse(filter: options.filter, orderBy: options.orderBy.map { [$0] })
        let binding = "audits|\(options.filter ?? "")|\(options.orderBy ?? "")"
        let cursor = try services.pageTokens.position(options.skipToken, query: binding)
        let page = try await log.records(query, after: cursor, limit: options.top)
        return GraphResponse.collection(
            try page.records.map { .object(try AuditService.decode($0)) },
            context: services.odataContext(request, Self.auditsPath),
            nextLink: page.next.map {
                request.nextLink(origin: services.origin(request), skipToken: services.pageTokens.token(for: $0, query: binding))
            })
    }

    @Sendable func get(_ request: Request, context: GraphContext) async throws -> Response {
        let log = try audit.reader(for: try context.requireCaller())
        _ = try Options(request, allowed: [])
        let record = try await log.record(id: try context.parameters.require("id"))
        return GraphResponse.entity(record, context: services.odataContext(request, Self.auditsPath + "/$entity"))
    }

    // MARK: Per-object history (a Sigil extension)

    /// The changes to one object's attribute values, newest first, showing only the attributes
    /// the caller may read.
    func history(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let options = try Options(request, allowed: ["top", "skiptoken"])
        let page = try await audit.history(
            kind, id: try context.parameters.require("id"), limit: options.top, caller: caller
        ) { object in
            try services.pageTokens.position(options.skipToken, query: Self.historyBinding(kind, object))
        }
        let fragment = "\(kind.entitySet)('\(page.object.id)')/\(Self.historySegment)"
        return GraphResponse.collection(
            page.records.map { .object($0) }, context: services.odataContext(request, fragment),
            nextLink: page.next.map {
                request.nextLink(
                    origin: services.origin(request),
                    skipToken: services.pageTokens.token(for: $0, query: Self.historyBinding(kind, page.object)))
            })
    }

    /// What a history page token is bound to: the object, so it cannot page another's.
    static func historyBinding(_ kind: DirectoryObjectKind, _ object: DirectoryObject) -> String {
        "history|\(kind.rawValue)|\(object.id)"
    }
}
