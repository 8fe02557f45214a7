/// The type of an attribute's values, PascalCase as on the wire.
public enum AttributeType: String, Sendable, Equatable, CaseIterable {
    case string = "String"
    case integer = "Integer"
    case boolean = "Boolean"
}

/// Definitions are never deleted, only deactivated (`Deprecated`) and reactivated.
public enum DefinitionStatus: String, Sendable, Equatable, CaseIterable {
    case available = "Available"
    case deprecated = "Deprecated"
}

/// A named group of attribute definitions, e.g. `Engineering`.
public struct AttributeSet: Sendable, Equatable {
    public var id: String
    public var description: String?
    public var maxAttributesPerSet: Int32?

    public init(id: String, description: String? = nil, maxAttributesPerSet: Int32? = nil) {
        self.id = id
        self.description = description
        self.maxAttributesPerSet = maxAttributesPerSet
    }
}

/// A typed attribute inside a set; its id is `{set}_{name}`, which is unambiguous because
/// neither part may contain an underscore.
public struct AttributeDefinition: Sendable, Equatable {
    public var attributeSet: String
    public var name: String
    public var description: String?
    public var type: AttributeType
    public var isCollection: Bool
    public var isSearchable: Bool
    public var status: DefinitionStatus
    public var usePreDefinedValuesOnly: Bool

    public init(
        attributeSet: String, name: String, description: String? = nil, type: AttributeType,
        isCollection: Bool, isSearchable: Bool, status: DefinitionStatus = .available,
        usePreDefinedValuesOnly: Bool
    ) {
        self.attributeSet = attributeSet
        self.name = name
        self.description = description
        self.type = type
        self.isCollection = isCollection
        self.isSearchable = isSearchable
        self.status = status
        self.usePreDefinedValuesOnly = usePreDefinedValuesOnly
    }

    public var id: String { Self.id(set: attributeSet, name: name) }

    public static func id(set: String, name: String) -> String { "\(set)_\(name)" }

    /// Splits `{set}_{name}`; nil when the id cannot be one.
    public static func split(id: String) -> (set: String, name: String)? {
        let parts = id.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}

/// A predefined value of a definition. Its id is the value itself, compared case-sensitively.
public struct AllowedValue: Sendable, Equatable {
    public var id: String
    public var isActive: Bool

    public init(id: String, isActive: Bool) {
        self.id = id
        self.isActive = isActive
    }
}

/// Names of sets and attributes are matched case-insensitively but stored as created.
public func nameKey(_ name: String) -> String { name.lowercased() }

/// The tenant's whole attribute schema. It is small (hundreds of rows), so the rules are
/// decided against a complete snapshot read inside the writing transaction.
public struct Schema: Sendable, Equatable {
    public private(set) var sets: [AttributeSet]
    public private(set) var definitions: [AttributeDefinition]
    /// Keyed by `nameKey(definition.id)`, values in creation order.
    public private(set) var allowedValues: [String: [AllowedValue]]
    /// Positions by `nameKey`: every request resolves names, so lookups must not scan.
    private var setPositions: [String: Int] = [:]
    private var definitionPositions: [String: Int] = [:]

    public init(sets: [AttributeSet] = [], definitions: [AttributeDefinition] = [], allowedValues: [String: [AllowedValue]] = [:]) {
        self.sets = sets
        self.definitions = definitions
        self.allowedValues = allowedValues
        reindex()
    }

    private mutating func reindex() {
        setPositions = Dictionary(sets.enumerated().map { (nameKey($1.id), $0) }, uniquingKeysWith: { first, _ in first })
        definitionPositions = Dictionary(
            definitions.enumerated().map { (nameKey($1.id), $0) }, uniquingKeysWith: { first, _ in first })
    }

    public static func == (lhs: Schema, rhs: Schema) -> Bool {
        lhs.sets == rhs.sets && lhs.definitions == rhs.definitions && lhs.allowedValues == rhs.allowedValues
    }

    public func set(named name: String) -> AttributeSet? {
        setPositions[nameKey(name)].map { sets[$0] }
    }

    public func definition(id: String) -> AttributeDefinition? {
        definitionPositions[nameKey(id)].map { definitions[$0] }
    }

    public func definition(set: String, name: String) -> AttributeDefinition? {
        definition(id: AttributeDefinition.id(set: set, name: name))
    }

    public func definitions(inSet set: String) -> [AttributeDefinition] {
        let key = nameKey(set)
        return definitions.filter { nameKey($0.attributeSet) == key }
    }

    public func allowedValues(of definition: AttributeDefinition) -> [AllowedValue] {
        allowedValues[nameKey(definition.id)] ?? []
    }

    public var activeDefinitionCount: Int { definitions.count { $0.status == .available } }

    /// Applies changes to this snapshot the way a store applies them to its tables.
    public mutating func apply(_ change: SchemaChange) {
        switch change {
        case .createSet(let set):
            sets.append(set)
        case .updateSet(let set):
            if let i = sets.firstIndex(where: { nameKey($0.id) == nameKey(set.id) }) { sets[i] = set }
        case .createDefinition(let definition, let values):
            definitions.append(definition)
            allowedValues[nameKey(definition.id)] = values
        case .updateDefinition(let definition):
            if let i = definitions.firstIndex(where: { nameKey($0.id) == nameKey(definition.id) }) {
                definitions[i] = definition
            }
        case .putAllowedValue(let definitionId, let value):
            var values = allowedValues[nameKey(definitionId)] ?? []
            if let i = values.firstIndex(where: { $0.id == value.id }) { values[i] = value } else { values.append(value) }
            allowedValues[nameKey(definitionId)] = values
        }
        reindex()
    }
}

/// One validated change to the schema, for a store to persist.
public enum SchemaChange: Sendable, Equatable {
    case createSet(AttributeSet)
    case updateSet(AttributeSet)
    case createDefinition(AttributeDefinition, allowedValues: [AllowedValue])
    case updateDefinition(AttributeDefinition)
    /// Inserts the value, or updates `isActive` of the value with the same (case-sensitive) id.
    case putAllowedValue(definitionId: String, AllowedValue)
}
