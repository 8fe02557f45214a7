import Foundation
import HTTPTypes
import Hummingbird
import SigilCore
import SigilService
import SigilStore

/// `GET /users/delta` and `GET /servicePrincipals/delta` (also as `delta()`, the form the
/// SDKs send).
struct DeltaController {
    let services: SigilServices
    let assignments: AssignmentService
    let directory: DirectoryService
    let controller: DirectoryController

    init(services: SigilServices, assignments: AssignmentService, directory: DirectoryService) {
        self.services = services
        self.assignments = assignments
        self.directory = directory
        controller = DirectoryController(services: services, assignments: assignments, directory: directory)
    }

    func register(on group: RouterGroup<GraphContext>) {
        for kind in [DirectoryObjectKind.user, .servicePrincipal] {
            for name in ["delta", "delta()"] {
                group.get(RouterPath("\(kind.entitySet)/\(name)"), use: { try await delta(kind, $0, $1) })
            }
        }
    }

    /// The ids of Graph's `$filter=id eq '...' or id eq '...'` form, the only filter delta takes.
    static func ids(_ filter: FilterExpression?) throws -> [String]? {
        guard let filter else { return nil }
        let unsupported = GraphError.badRequest(
            "Delta queries support only $filter=id eq '{id}', several joined with 'or' (at most \(Limits.deltaFilterIds)).")
        func collect(_ expression: FilterExpression) throws -> [String] {
            switch expression {
            case .comparison(let path, .eq, .string(let id)) where path.count == 1 && path[0].lowercased() == "id":
                return [id.lowercased()]
            case .or(let left, let right): return try collect(left) + collect(right)
            default: throw unsupported
            }
        }
        let ids = try collect(filter)
        guard ids.count <= Limits.deltaFilterIds else { throw unsupported }
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }

    func delta(_ kind: DirectoryObjectKind, _ request: Request, _ context: GraphContext) async throws -> Response {
        let lister = try directory.lister(for: try context.requireCaller())
        var items = try request.apiQueryItems()
        let deltaTokens = items.filter { ["$deltatoken", "deltatoken"].contains($0.name.lowercased()) }
        items.removeAll { ["$deltatoken", "deltatoken"].contains($0.name.lowercased()) }
        guard deltaTokens.count <= 1 else {
            throw GraphError.badRequest("Query option '$deltatoken' was specified more than once; it may appear only once.")
        }
        let options = try QueryOptions.parse(items)
        try options.reject(["top", "count", "orderby", "search", "expand"])
        let deltaToken = deltaTokens.first?.value
        let tokenGiven = options.skipToken != nil || (deltaToken != nil && deltaToken != "latest")
        if tokenGiven, options.select != nil || options.filter != nil {
            throw GraphError.badRequest(
                "A state token carries the query of the initial request; send the @odata.nextLink or @odata.deltaLink unchanged, without $select or $filter."
            )
        }
        if options.skipToken != nil, deltaToken != nil {
            throw GraphError.badRequest("Send either $skiptoken or $deltatoken, not both.")
        }
        let selection = try options.selection(from: DirectoryController.selectable(kind))
        let ids = try Self.ids(options.filter)
        let deltaRequest: DeltaService.Request =
            if let skip = options.skipToken {
                .skipToken(skip)
            } else if let deltaToken {
                deltaToken == "latest" ? .latest(selection: selection, ids: ids) : .deltaToken(deltaToken)
            } else {
                .start(selection: selection, ids: ids)
            }
        let page = try await DeltaService(services: services).page(kind, deltaRequest, lister: lister)
        let minimal = Self.prefersMinimal(request)
        let body = try await render(page, kind: kind, request: request, caller: lister.caller, minimal: minimal)
        var response = GraphResponse.json(bytes: body)
        if minimal, let applied = HTTPField.Name("Preference-Applied") { response.headers[applied] = "return=minimal" }
        return response
    }

    /// `Prefer: return=minimal`: updated objects carry only what changed.
    static func prefersMinimal(_ request: Request) -> Bool {
        guard let name = HTTPField.Name("Prefer") else { return false }
        return request.headers[values: name].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "return=minimal" }
        }
    }

    func render(_ page: DeltaService.Page, kind: DirectoryObjectKind, request: Request, caller: Caller, minimal: Bool)
        async throws -> [UInt8]
    {
        let selection = page.selection
        let objects = page.entries.compactMap { entry -> (DirectoryObject, AttributeAssignments?)? in
            if case .object(let object, let attributes, _) = entry { return (object, attributes) }
            return nil
        }
        var preloaded: [String: AttributeAssignments] = [:]
        for (object, attributes) in objects { preloaded[object.id] = attributes ?? AttributeAssignments() }
        var writer = try await ObjectWriter(
            objects.map(\.0), selection: selection, caller: caller, preloaded: preloaded, controller: controller)
        let link = "\(services.origin(request))\(request.uri.path)"
        var body = GraphResponse.collectionStart(
            context: controller.entityContext(request, kind, selection, entity: false), count: nil,
            nextLink: page.skipToken.map { "\(link)?$skiptoken=\(Request.encode($0))" },
            deltaLink: page.deltaToken.map { "\(link)?$deltatoken=\(Request.encode($0))" })
        for (index, entry) in page.entries.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            switch entry {
            case .removed(let id):
                JSONValue.object(JSONObject([("id", .string(id)), ("@removed", ["reason": "deleted"])])).write(into: &body)
            case .object(let object, _, let changed):
                var names = writer.names(of: object)
                // Delta entries always carry their id, whatever `$select` says, so they can be matched.
                if !names.contains("id") { names.insert("id", at: 0) }
                if minimal, let changed {
                    names = names.filter { name in
                        name == "id" || changed.properties.contains(name)
                            || (name == "customSecurityAttributes" && changed.attributes)
                    }
                }
                writer.write(object, names: names, into: &body)
            }
        }
        GraphResponse.closeCollection(&body)
        return body
    }
}
