import Hummingbird
import SigilCore
import SigilService

/// `/identity/conditionalAccess/policies` (v1.0 and beta): parse, call the service, render.
public struct ConditionalAccessController: Sendable {
    let services: SigilServices
    var policies: ConditionalAccessService { ConditionalAccessService(services: services) }

    public init(services: SigilServices) { self.services = services }

    static let collectionPath = "identity/conditionalAccess/policies"

    func register(on group: RouterGroup<GraphContext>, version: String) {
        // Graph documents What-If on beta only.
        if version == "beta" { group.post("identity/conditionalAccess/evaluate", use: evaluate) }
        group.get("identity/conditionalAccess/policies", use: list)
        group.post("identity/conditionalAccess/policies", use: create)
        group.get("identity/conditionalAccess/policies/:id", use: get)
        group.patch("identity/conditionalAccess/policies/:id", use: update)
        group.delete("identity/conditionalAccess/policies/:id", use: delete)
    }

    /// Sigil's extension: `GET /sigil/v1/conditionalAccess/policies/{id}/targets`.
    func registerTargets(on group: RouterGroup<GraphContext>) {
        group.get("conditionalAccess/policies/:id/targets", use: targets)
    }

    /// The service principals a policy selects, each with `selectedAs` (`workloadIdentity`,
    /// `application`); `$top` (1 to 999, default 100) and `$skiptoken`, `@odata.count` on the
    /// first page.
    @Sendable func targets(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try context.parameters.require("id")
        let options = try request.queryOptions()
        try options.reject(["select", "filter", "expand", "count", "orderby", "search", "skip"])
        let binding = "conditionalAccess/policies/\(id.lowercased())/targets"
        let position = try services.pageTokens.payload(options.skipToken, query: binding)
        let limit = options.top ?? Limits.defaultPageSize
        let targets = try await policies.targets(id: id, caller: caller, limit: limit, position: position)
        var out = JSONObject()
        if let count = targets.count { out.append("@odata.count", .integer(Int64(count))) }
        out.append(
            "value",
            .array(
                targets.servicePrincipals.map { object, roles in
                    .object(
                        JSONObject([
                            ("id", .string(object.id)), ("appId", JSONValue(object.appId)),
                            ("displayName", JSONValue(object.displayName)),
                            ("selectedAs", .array(roles.map { .string($0.rawValue) })),
                        ]))
                }))
        if let next = targets.next {
            let token = services.pageTokens.token(payload: next, query: binding)
            out.append("@odata.nextLink", .string("\(services.origin(request))/sigil/v1/\(binding)?$top=\(limit)&$skiptoken=\(token)"))
        }
        return GraphResponse.json(.object(out))
    }

    @Sendable func list(_ request: Request, context: GraphContext) async throws -> Response {
        let visible = try await policies.list(caller: try context.requireCaller())
        try request.queryOptions().reject(["filter", "expand", "orderby", "search", "top", "skiptoken", "select", "count"])
        return GraphResponse.collection(
            visible.map { .object($0.json) }, context: services.odataContext(request, Self.collectionPath))
    }

    @Sendable func get(_ request: Request, context: GraphContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let visible = try await policies.policy(id: id, caller: try context.requireCaller())
        try request.queryOptions().reject(["filter", "expand", "orderby", "search", "top", "skiptoken", "select", "count"])
        return GraphResponse.entity(visible.json, context: services.odataContext(request, Self.collectionPath + "/$entity"))
    }

    @Sendable func create(_ request: Request, context: GraphContext) async throws -> Response {
        let created = try await policies.create(as: try context.initiator(request)) {
            try await request.jsonBody(context: context)
        }
        return GraphResponse.entity(
            created.json, context: services.odataContext(request, Self.collectionPath + "/$entity"), status: .created)
    }

    @Sendable func update(_ request: Request, context: GraphContext) async throws -> Response {
        try await policies.update(id: try context.parameters.require("id"), as: try context.initiator(request)) {
            try await request.jsonBody(context: context)
        }
        return GraphResponse.noContent
    }

    @Sendable func delete(_ request: Request, context: GraphContext) async throws -> Response {
        try await policies.delete(id: try context.parameters.require("id"), as: try context.initiator(request))
        return GraphResponse.noContent
    }

    @Sendable func evaluate(_ request: Request, context: GraphContext) async throws -> Response {
        let results = try await policies.whatIf(caller: try context.requireCaller()) {
            try await request.jsonBody(context: context)
        }
        return GraphResponse.collection(
            results.map { .object($0) },
            context: services.odataContext(request, "Collection(microsoft.graph.whatIfAnalysisResult)"))
    }
}
