import Foundation
import Hummingbird
import SigilCore
import SigilGraph
import SigilService
import SigilStore

/// Roles and administrators: who holds the six attribute roles, at tenant or attribute-set
/// scope; Global and Privileged Role Administrators grant and remove them (as in the API).
extension ConsoleController {
    static let attributeRoles: [DirectoryRole] = [
        .attributeAssignmentAdministrator, .attributeAssignmentReader, .attributeDefinitionAdministrator,
        .attributeDefinitionReader, .attributeLogAdministrator, .attributeLogReader,
    ]

    func registerRolePages(on console: RouterGroup<GraphContext>) {
        console.get("roles", use: rolesPage)
        console.post("roles", use: grantRole)
        console.post("roles/remove", use: removeRole)
    }

    @Sendable func rolesPage(_ request: Request, context: GraphContext) async throws -> Response {
        try await renderRoles(request, error: nil, entered: [:])
    }

    func renderRoles(_ request: Request, error: String?, entered: [String: String]) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let assignments = try await RoleService(services: services).assignments(principalId: nil, caller: signedIn.caller)
            .filter { Self.attributeRoles.contains($0.role) }
        var rows: [[String: Any]] = []
        for assignment in assignments {
            let principal =
                if let user = try await services.store.object(.user, id: assignment.principalId) { user } else {
                    try await services.store.object(.servicePrincipal, id: assignment.principalId)
                }
            rows.append([
                "id": assignment.id, "principal": principal?.displayName ?? assignment.principalId,
                "signIn": principal?.userPrincipalName ?? principal?.appId ?? "", "role": assignment.role.displayName,
                "scope": Self.scopeText(assignment.scope),
            ])
        }
        rows.sort { "\($0["role"] ?? "")\($0["principal"] ?? "")" < "\($1["role"] ?? "")\($1["principal"] ?? "")" }
        let schema = try await services.store.schema()
        var values = layout(signedIn, nav: "navRoles")
        values["rows"] = rows
        values["hasRows"] = !rows.isEmpty
        values["canManage"] = AccessPolicy.allows(signedIn.caller, .manageRoleAssignments)
        values["roles"] = Self.attributeRoles.map { ["id": $0.templateId, "name": $0.displayName, "selected": entered["role"] == $0.templateId] }
        values["scopes"] =
            [["id": "/", "name": "Tenant (all attribute sets)", "selected": false] as [String: Any]]
            + schema.sets.map {
                ["id": "/attributeSets/\($0.id)", "name": "Attribute set \($0.id)", "selected": entered["scope"] == "/attributeSets/\($0.id)"]
            }
        values["entered"] = entered
        if let error { values["error"] = error }
        if request.queryItems.contains(where: { $0.name == "saved" }) { values["notice"] = "Saved." }
        return page("roles", values, status: error == nil ? .ok : .badRequest, cookies: [signedIn.cookie])
    }

    static func scopeText(_ scope: RoleScope) -> String {
        switch scope {
        case .tenant: "Tenant"
        case .attributeSet(let name): "Attribute set \(name)"
        }
    }

    @Sendable func grantRole(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        do {
            _ = try await RoleService(services: services).grant(caller: signedIn.caller) {
                let who = (fields.first("principal") ?? "").trimmingCharacters(in: .whitespaces)
                guard let role = DirectoryRole(rawValue: fields.first("role") ?? ""), Self.attributeRoles.contains(role),
                    let scope = RoleScope(directoryScopeId: fields.first("scope") ?? "")
                else { throw GraphError.badRequest("Choose a role and a scope.") }
                // A user principal name, an object id, or an application's appId.
                let principal =
                    if let user = try await services.store.object(.user, id: who) {
                        user
                    } else if let app = try await services.store.object(.servicePrincipal, id: who) {
                        app
                    } else {
                        try await services.store.servicePrincipal(appId: who)
                    }
                guard let principal, !who.isEmpty else {
                    throw GraphError.badRequest("No user or enterprise application '\(who)' was found.")
                }
                return (principal.id, role, scope)
            }
        } catch let error as GraphError where error.status == 400 {
            return try await renderRoles(request, error: error.message, entered: fields.dictionary)
        }
        return Self.redirect("/console/roles?saved=1", cookies: [signedIn.cookie])
    }

    @Sendable func removeRole(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        let id = fields.first("id") ?? ""
        guard try await RoleService(services: services).revoke(id: id, caller: signedIn.caller) else {
            throw GraphError.notFound(id)
        }
        return Self.redirect("/console/roles?saved=1", cookies: [signedIn.cookie])
    }
}
