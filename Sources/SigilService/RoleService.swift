import SigilCore
import SigilStore

/// Granting and removing directory roles: the one place the API and the console do it.
public struct RoleService: Sendable {
    let services: SigilServices

    public init(services: SigilServices) { self.services = services }

    /// The directory roles Sigil knows, as role definitions: any member or service principal reads them.
    public func definitions(caller: Caller) throws(GraphError) -> [DirectoryRole] {
        try AccessPolicy.require(AccessPolicy.mayReadDirectory(caller))
        return DirectoryRole.allCases
    }

    /// Role assignments, all or one principal's: any member or service principal reads them.
    public func assignments(principalId: String?, caller: Caller) async throws -> [RoleAssignment] {
        try AccessPolicy.require(AccessPolicy.mayReadDirectory(caller))
        return try await services.store.roleAssignments(principalId: principalId)
    }

    public func assignment(id: String, caller: Caller) async throws -> RoleAssignment {
        try AccessPolicy.require(AccessPolicy.mayReadDirectory(caller))
        guard let assignment = try await services.store.roleAssignment(id: id) else { throw GraphError.notFound(id) }
        return assignment
    }

    /// Assigns a role to a user or service principal at tenant or attribute-set scope: the one
    /// place both the API and the console grant roles through. `request` (which principal,
    /// role and scope) is read after the access check, so a caller without the role learns
    /// nothing from its validation.
    public func grant(
        caller: Caller, _ request: () async throws -> (principalId: String, role: DirectoryRole, scope: RoleScope)
    ) async throws -> RoleAssignment {
        try AccessPolicy.require(AccessPolicy.allows(caller, .manageRoleAssignments))
        let (principalId, role, requestedScope) = try await request()
        var scope = requestedScope
        try DirectoryRules.checkScope(role, requestedScope)
        if case .attributeSet(let name) = requestedScope {
            guard let set = try await services.store.schema().set(named: name) else {
                throw GraphError.badRequest("The attribute set '\(name)' named by property 'directoryScopeId' does not exist.")
            }
            scope = .attributeSet(set.id)
        }
        let principal: DirectoryObject? =
            if let user = try await services.store.object(.user, id: principalId) { user } else {
                try await services.store.object(.servicePrincipal, id: principalId)
            }
        guard let principal else {
            throw GraphError.badRequest(
                "The principal '\(principalId)' named by property 'principalId' does not exist; it must be a user or a service principal."
            )
        }
        let assignment = RoleAssignment(id: SigilServices.newId(), principalId: principal.id, role: role, scope: scope)
        try await services.store.create(assignment)
        return assignment
    }

    /// Removes a role assignment; false when there was none with that id.
    public func revoke(id: String, caller: Caller) async throws -> Bool {
        try AccessPolicy.require(AccessPolicy.allows(caller, .manageRoleAssignments))
        return try await services.store.deleteRoleAssignment(id: id)
    }
}
