/// A member of a PATCH body that distinguishes "not sent" from "sent as null".
public enum PatchField<Value: Sendable & Equatable>: Sendable, Equatable {
    case absent
    case null
    case value(Value)

    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }
}

/// Reads one JSON request body strictly: each property by its declared type, and at the end
/// any property nobody read is refused by name. OData annotations (`@odata.type`, ...) pass.
public struct Payload: Sendable {
    public let object: JSONObject
    /// The resource type as error messages name it, e.g. `AttributeSet`.
    public let resource: String
    private var read: Set<String> = []

    public init(_ value: JSONValue, resource: String) throws(GraphError) {
        guard case .object(let object) = value else {
            throw .badRequest("The request body must be a JSON object describing a \(resource).")
        }
        self.object = object
        self.resource = resource
    }

    public init(object: JSONObject, resource: String) {
        self.object = object
        self.resource = resource
    }

    public func contains(_ key: String) -> Bool { object.contains(key) }

    private func invalidValue(_ key: String, expected: String) -> GraphError {
        .badRequest("Invalid value specified for property '\(key)' of resource '\(resource)': expected \(expected).")
    }

    /// The raw member, marked as read.
    public mutating func raw(_ key: String) -> JSONValue? {
        read.insert(key)
        return object[key]
    }

    public mutating func string(_ key: String) throws(GraphError) -> PatchField<String> {
        switch raw(key) {
        case nil: return .absent
        case .null: return .null
        case .string(let s): return .value(s)
        default: throw invalidValue(key, expected: "String")
        }
    }

    /// Graph's own examples send booleans as strings (`"isActive":"true"`); both are read.
    public mutating func bool(_ key: String) throws(GraphError) -> PatchField<Bool> {
        switch raw(key) {
        case nil: return .absent
        case .null: return .null
        case .bool(let b): return .value(b)
        case .string("true"), .string("True"): return .value(true)
        case .string("false"), .string("False"): return .value(false)
        default: throw invalidValue(key, expected: "Boolean")
        }
    }

    public mutating func int32(_ key: String) throws(GraphError) -> PatchField<Int32> {
        switch raw(key) {
        case nil: return .absent
        case .null: return .null
        case .integer(let i):
            guard let v = Int32(exactly: i) else { throw invalidValue(key, expected: "Int32") }
            return .value(v)
        default: throw invalidValue(key, expected: "Int32")
        }
    }

    public mutating func requiredString(_ key: String) throws(GraphError) -> String {
        guard case .value(let s) = try string(key) else { throw missing(key) }
        return s
    }

    public mutating func requiredBool(_ key: String) throws(GraphError) -> Bool {
        guard case .value(let b) = try bool(key) else { throw missing(key) }
        return b
    }

    public func missing(_ key: String) -> GraphError {
        .badRequest("Property '\(key)' of resource '\(resource)' is required.")
    }

    /// Refuses the first property that was not read and is not an OData annotation.
    public func rejectUnknownProperties() throws(GraphError) {
        for key in object.keys where !read.contains(key) && !Self.isAnnotation(key) {
            throw .invalidProperty(key)
        }
    }

    /// Refuses properties that exist but may not change, naming the first.
    public func rejectPresent(_ keys: [String], reason: String) throws(GraphError) {
        if let key = keys.first(where: { object.contains($0) }) {
            throw .badRequest("Property '\(key)' \(reason).")
        }
    }

    public static func isAnnotation(_ key: String) -> Bool {
        key.hasPrefix("@odata.") || key.hasPrefix("@microsoft.graph.")
    }
}
