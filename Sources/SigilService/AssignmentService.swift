import SigilCore
import SigilStore

/// Custom security attribute values on users and service principals: the part of a create or
/// update that touches `customSecurityAttributes`, and what each caller may read of them.
public struct AssignmentService: Sendable {
    package let services: SigilServices

    public init(services: SigilServices) { self.services = services }

    /// Applies a `customSecurityAttributes` payload (Graph's PATCH shape) to one object, with the
    /// same rules, permissions and audit record as the API's PATCH; all or nothing.
    public func assign(
        _ kind: DirectoryObjectKind, id: String, payload: JSONValue, caller: Caller, audit: AuditContext
    ) async throws {
        try await services.store.modify(kind, id: id, passwordHash: nil, audit: audit) { state, schema in
            var next = state
            next.attributes = try AssignmentRules.merge(
                payload, into: state.attributes, of: state.object.id, schema: schema, caller: caller)
            return next
        }
    }

    /// What renders `customSecurityAttributes` as `caller` may see them (`AttributeRenderer`);
    /// nil when the caller reads no set anywhere, so every object's value is null and none
    /// needs reading.
    package func attributeRenderer(for caller: Caller) async throws -> AttributeRenderer? {
        guard AccessPolicy.allowsAnywhere(caller, .readAssignments) else { return nil }
        return AttributeRenderer(schema: try await services.store.schema(), caller: caller)
    }

    package func create(
        _ object: DirectoryObject, passwordHash: String?, attributes: JSONValue?, caller: Caller, audit: AuditContext
    ) async throws {
        guard let attributes else {
            try await services.store.create(object, passwordHash: passwordHash)
            return
        }
        try await services.store.create(object, passwordHash: passwordHash, audit: audit) { schema in
            try AssignmentRules.merge(
                attributes, into: AttributeAssignments(), of: object.id, schema: schema, caller: caller)
        }
    }

    /// Applies ordinary properties and attribute values in one transaction: a failure in either
    /// writes nothing.
    package func update(
        _ kind: DirectoryObjectKind, id: String, with write: DirectoryWrite, passwordHash: String?, caller: Caller,
        audit: AuditContext
    ) async throws {
        try await services.store.modify(kind, id: id, passwordHash: passwordHash, audit: audit) { state, schema in
            var next = state
            next.object = DirectoryRules.applying(write, to: state.object)
            if let payload = write.customSecurityAttributes {
                next.attributes = try AssignmentRules.merge(
                    payload, into: state.attributes, of: state.object.id, schema: schema, caller: caller)
            }
            return next
        }
    }
}
