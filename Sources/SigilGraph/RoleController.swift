import Hummingbird
import SigilCore
import SigilService
import SigilStore

/// `/roleManagement/directory/roleDefinitions` and `/roleAssignments`.
public struct RoleController: Sendable {
    let services: SigilServices
    var roles: RoleService { RoleService(services: services) }

    public init(services: SigilServices) { self.services = services }

    func register(on group: RouterGroup<GraphContext>) {
        group.get("roleManagement/directory/roleDefinitions", use: listDefinitions)
        group.get("roleManagement/directory/roleDefinitions/:id", use: getDefinition)
        group.get("roleManagement/directory/roleAssignments", use: listAssignments)
        group.post("roleManagement/directory/roleAssignments", use: createAssignment)
        group.get("roleManagement/directory/roleAssignments/:id", use: getAssignment)
        group.delete("roleManagement/directory/roleAssignments/:id", use: deleteAssignment)
    }

    static func encode(_ role: DirectoryRole) -> JSONObject {
        JSONObject([
            ("id", .string(role.templateId)), ("description", .string(role.roleDescription)),
            ("displayName", .string(role.displayName)), ("isBuiltIn", true), ("isEnabled", true),
            ("templateId", .string(role.templateId)), ("version", "1"),
            (
                "rolePermissions",
                [["allowedResourceActions": .array(role.resourceActions.map { .string($0) }), "condition": nil]]
            ),
        ])
    }

    static func encode(_ assignment: RoleAssignment) -> JSONObject {
        JSONObject([
            ("id", .string(assignment.id)), ("principalId", .string(assignment.principalId)),
            ("roleDefinitionId", .string(assignment.role.templateId)),
            ("directoryScopeId", .string(assignment.scope.directoryScopeId)), ("appScopeId", .null),
        ])
    }

    @Sendable func listDefinitions(_ request: Request, context: GraphContext) async throws -> Response {
        let known = try roles.definitions(caller: try context.requireCaller())
        try request.queryOptions().reject(["filter", "expand", "orderby", "search", "top", "skiptoken"])
        return GraphResponse.collection(
            known.map { .object(Self.encode($0)) },
            context: services.odataContext(request, "roleManagement/directory/roleDefinitions"))
    }

    @Sendable func getDefinition(_ request: Request, context: GraphContext) async throws -> Response {
        let known = try roles.definitions(caller: try context.requireCaller())
        let id = try context.parameters.require("id")
        guard let role = known.first(where: { $0.templateId == id.lowercased() }) else { throw GraphError.notFound(id) }
        return GraphResponse.entity(
            Self.encode(role), context: services.odataContext(request, "roleManagement/directory/roleDefinitions/$entity"))
    }

    /// Supports `$filter=principalId eq '…'` and `roleDefinitionId eq '…'`, combined with `and`.
    @Sendable func listAssignments(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let options = try request.queryOptions()
        try options.reject(["expand", "orderby", "search", "top", "skiptoken"])
        var conditions: [(String, String)] = []
        func collect(_ expression: FilterExpression) throws {
            switch expression {
            case .and(let l, let r):
                try collect(l)
                try collect(r)
            case .comparison(let path, .eq, .string(let value))
            where path.count == 1 && ["principalId", "roleDefinitionId", "directoryScopeId"].contains(path[0]):
                conditions.append((path[0], value))
            default:
                throw GraphError.unsupportedQuery(
                    "Unsupported Query: role assignments can be filtered with 'eq' on principalId, roleDefinitionId and directoryScopeId, combined with 'and'."
                )
            }
        }
        if let filter = options.filter { try collect(filter) }
        let principal = conditions.first { $0.0 == "principalId" }?.1
        let assignments = try await roles.assignments(principalId: principal, caller: caller).filter { assignment in
            conditions.allSatisfy { name, value in
                switch name {
                case "principalId": assignment.principalId == value.lowercased()
                case "roleDefinitionId": assignment.role.templateId == value.lowercased()
                default: nameKey(assignment.scope.directoryScopeId) == nameKey(value)
                }
            }
        }
        return GraphResponse.collection(
            assignments.map { .object(Self.encode($0)) },
            context: services.odataContext(request, "roleManagement/directory/roleAssignments"))
    }

    @Sendable func createAssignment(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let body = try await request.jsonBody(context: context)
        let assignment = try await roles.grant(caller: caller) {
            let (principalId, role, scope) = try DirectoryRules.roleAssignment(body)
            return (principalId, role, scope)
        }
        return GraphResponse.entity(
            Self.encode(assignment), context: services.odataContext(request, "roleManagement/directory/roleAssignments/$entity"),
            status: .created)
    }

    @Sendable func getAssignment(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let assignment = try await roles.assignment(id: try context.parameters.require("id"), caller: caller)
        return GraphResponse.entity(
            Self.encode(assignment), context: services.odataContext(request, "roleManagement/directory/roleAssignments/$entity"))
    }

    @Sendable func deleteAssignment(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let id = try context.parameters.require("id")
        guard try await roles.revoke(id: id, caller: caller) else { throw GraphError.notFound(id) }
        return GraphResponse.noContent
    }
}
