import Foundation

/// The body of `POST /sigil/v1/conditions/evaluate` and `/validate`, read without I/O; the
/// service resolves the principal and checks access.
public struct ConditionRequest: Sendable {
    public enum Principal: Sendable, Equatable {
        case none
        /// A stored user or service principal.
        case stored(kind: DirectoryObjectKind, id: String)
        /// What-if values in Graph's `customSecurityAttributes` shape.
        case inline(JSONValue)
    }

    /// The condition; nil only when `ruleId` names a stored rule instead (`conditions/principals`).
    public let condition: String?
    public let ruleId: String?
    public let conditionVersion: String?
    public let action: String?
    public let subOperation: String?
    public let principal: Principal
    public let resource: JSONObject
    public let request: JSONObject
    public let environment: JSONObject

    static let members: Set<String> = [
        "condition", "ruleId", "conditionVersion", "action", "subOperation", "principal", "resource", "request", "environment",
    ]

    /// The condition text, for the routes that take no rule id.
    public func requireCondition() throws(GraphError) -> String {
        guard let condition else { throw .badRequest("Property 'condition' is required; 'ruleId' is for conditions/principals.") }
        return condition
    }

    public init(_ body: JSONValue) throws(GraphError) {
        guard case .object(let object) = body else { throw .badRequest("The request body must be a JSON object.") }
        if let unknown = object.keys.first(where: { !Self.members.contains($0) }) { throw .invalidProperty(unknown) }
        // `condition` and `ruleId` may be left out but not sent as null: the published schema
        // types them as strings, and a null there is more likely a client bug than a choice.
        func text(_ key: String, nullable: Bool = true) throws(GraphError) -> String? {
            switch object[key] {
            case nil: return nil
            case .null?: if nullable { return nil } else { throw .badRequest("Property '\(key)' must be a string.") }
            case .string(let s)?: return s
            default: throw .badRequest("Property '\(key)' must be a string.")
            }
        }
        func attributes(_ key: String) throws(GraphError) -> JSONObject {
            switch object[key] {
            case nil, .null?: return JSONObject()
            case .object(let o)?: return o
            default: throw .badRequest("Property '\(key)' must be an object of attribute values.")
            }
        }
        condition = try text("condition", nullable: false)
        ruleId = try text("ruleId", nullable: false)
        guard (condition == nil) != (ruleId == nil) else {
            throw .badRequest("Give exactly one of 'condition' and 'ruleId'.")
        }
        conditionVersion = try text("conditionVersion")
        action = try text("action")
        subOperation = try text("subOperation")
        resource = try attributes("resource")
        request = try attributes("request")
        environment = try attributes("environment")
        principal = try Self.principal(object["principal"])
    }

    /// `{"type": "user"|"servicePrincipal", "id": …}` or `{"customSecurityAttributes": {…}}`.
    static func principal(_ value: JSONValue?) throws(GraphError) -> Principal {
        guard let value, value != .null else { return .none }
        guard case .object(let o) = value else { throw .badRequest("Property 'principal' must be an object.") }
        if let attributes = o["customSecurityAttributes"] {
            guard o.count == 1 else {
                throw .badRequest("Give 'principal' either as {type, id} or as {customSecurityAttributes}, not both.")
            }
            return .inline(attributes)
        }
        if let unknown = o.keys.first(where: { $0 != "type" && $0 != "id" }) { throw .invalidProperty(unknown) }
        guard let id = o["id"]?.stringValue, !id.isEmpty else { throw .badRequest("Property 'principal.id' is required.") }
        let kind: DirectoryObjectKind
        switch o["type"]?.stringValue ?? "user" {
        case "user": kind = .user
        case "servicePrincipal": kind = .servicePrincipal
        default: throw .badRequest("Property 'principal.type' must be 'user' or 'servicePrincipal'.")
        }
        return .stored(kind: kind, id: id)
    }

    /// What-if values in Graph's shape, checked against the schema as a write would be (types,
    /// collections), but never stored and without the write's role checks.
    public static func whatIfAttributes(_ payload: JSONValue, schema: Schema) throws(GraphError) -> AttributeAssignments {
        guard case .object(let sets) = payload else {
            throw .badRequest("Property 'customSecurityAttributes' must be an object of attribute sets.")
        }
        var result = AttributeAssignments()
        for (setKey, setValue) in sets where !Payload.isAnnotation(setKey) {
            guard let set = schema.set(named: setKey) else { throw .invalidProperty(setKey) }
            guard case .object(let attributes) = setValue else {
                throw .badRequest("Attribute set '\(setKey)' must be an object of attribute values.")
            }
            for (key, value) in attributes where !key.utf8.contains(UInt8(ascii: "@")) {
                guard let definition = schema.definition(set: set.id, name: key) else { throw .invalidProperty(key) }
                result.set(definition.id, try AssignmentRules.parseValues(value, definition: definition))
            }
        }
        return result
    }

    /// The environment as a condition reads it: `UtcNow` is the evaluation time unless given.
    public static func environment(_ given: JSONObject, now: Date) -> JSONObject {
        guard !given.members.contains(where: { nameKey($0.key) == "utcnow" }) else { return given }
        var out = given
        out.append("UtcNow", .string(AuditRecord.timestamp(now)))
        return out
    }
}
