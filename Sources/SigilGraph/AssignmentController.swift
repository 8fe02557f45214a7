import SigilCore
import SigilStore

/// Custom security attribute values on users and service principals: the part of a create or
/// update that touches `customSecurityAttributes`, and what each caller may read of them.
struct AssignmentController {
    let services: SigilServices

    /// What `customSecurityAttributes` reads as for this caller.
    func readableAttributes(of object: DirectoryObject, caller: Caller) async throws -> JSONValue {
        .null
    }

    func create(_ object: DirectoryObject, passwordHash: String?, attributes: JSONValue?, caller: Caller) async throws {
        if attributes != nil { throw GraphError.invalidProperty("customSecurityAttributes") }
        try await services.store.create(object, passwordHash: passwordHash)
    }

    func update(_ object: DirectoryObject, with write: DirectoryWrite, passwordHash: String?, caller: Caller) async throws {
        if write.customSecurityAttributes != nil { throw GraphError.invalidProperty("customSecurityAttributes") }
        try await services.store.update(DirectoryRules.applying(write, to: object), passwordHash: passwordHash)
    }
}
