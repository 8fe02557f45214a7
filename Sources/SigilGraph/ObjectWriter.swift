import SigilCore
import SigilService

/// Writes directory objects as a caller sees them straight into a body's bytes: what they need
/// besides themselves (attribute values, an application's credentials) is read once for all of
/// them, and `customSecurityAttributes` are written by one `AttributeRenderer`. Building a JSON
/// value per object, set and attribute was most of a filtered page's rendering cost.
struct ObjectWriter {
    private var renderer: AttributeRenderer?
    private let values: [String: AttributeAssignments]
    private let credentials: [String: [PasswordCredential]]
    /// Each kind's members under this selection, decided once rather than per object.
    private let namesByKind: [DirectoryObjectKind: [String]]

    /// Prepared for `objects` written with `selection` (nil: the default properties).
    init(
        _ objects: [DirectoryObject], selection: [String]?, caller: Caller, preloaded: [String: AttributeAssignments]?,
        controller: DirectoryController
    ) async throws {
        let wantsAttributes = selection?.contains("customSecurityAttributes") == true
        renderer = wantsAttributes ? try await controller.assignments.attributeRenderer(for: caller) : nil
        values =
            if renderer == nil { [:] } else if let preloaded { preloaded } else {
                try await controller.services.store.attributes(of: objects.map(\.id))
            }
        let namesByKind = Dictionary(
            Set(objects.map(\.kind)).map { ($0, DirectoryController.names(of: $0, selection: selection)) },
            uniquingKeysWith: { first, _ in first })
        var credentials: [String: [PasswordCredential]] = [:]
        for object in objects where namesByKind[object.kind]?.contains("passwordCredentials") == true {
            credentials[object.id] = try await controller.services.store.passwordCredentials(applicationId: object.id)
        }
        (self.credentials, self.namesByKind) = (credentials, namesByKind)
    }

    /// The members `object` is written with under this writer's selection.
    func names(of object: DirectoryObject) -> [String] { namesByKind[object.kind] ?? [] }

    /// One object with the members `names` (by default its own, `names(of:)`) after `leading`
    /// ones, in that order.
    mutating func write(
        _ object: DirectoryObject, names: [String]? = nil, leading: JSONObject = JSONObject(), into out: inout [UInt8]
    ) {
        let names = names ?? self.names(of: object)
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ name: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONValue.writeString(name, into: &out)
            out.append(UInt8(ascii: ":"))
        }
        for member in leading {
            key(member.key)
            member.value.write(into: &out)
        }
        for name in names {
            key(name)
            switch name {
            case "id": JSONValue.writeString(object.id, into: &out)
            case "passwordCredentials":
                JSONValue.array((credentials[object.id] ?? []).map { .object(DirectoryController.encode($0)) }).write(into: &out)
            case "customSecurityAttributes":
                if renderer == nil {
                    out.append(contentsOf: "null".utf8)
                } else {
                    renderer?.write(values[object.id] ?? AttributeAssignments(), objectId: object.id, into: &out)
                }
            default: (object.properties[name] ?? .null).write(into: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }
}
