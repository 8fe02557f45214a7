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
