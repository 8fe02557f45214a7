/// The rules of attribute sets, definitions and allowed values (docs/api.md and docs/compatibility.md list them):
/// each request body becomes validated `SchemaChange`s against a snapshot, or a `GraphError`.
public enum SchemaRules {
    /// Characters Entra forbids in set and attribute names (space included).
    static let forbiddenNameCharacters = Set(" `~!@#$%^&*()_-+={[}]|\\:;\"'<,>.?/")

    /// Checks a set or attribute name: 1–32 characters, no forbidden or invisible characters,
    /// not starting with a digit.
    public static func validateName(_ name: String, property: String) throws(GraphError) {
        guard !name.isEmpty else { throw .badRequest("Property '\(property)' must not be empty.") }
        guard name.count <= Limits.nameLength else {
            throw .badRequest("Property '\(property)' must be at most \(Limits.nameLength) characters long.")
        }
        if let first = name.unicodeScalars.first,
            [.decimalNumber, .letterNumber, .otherNumber].contains(first.properties.generalCategory)
        {
            throw .badRequest("Property '\(property)' must not start with a number.")
        }
        for character in name {
            if forbiddenNameCharacters.contains(character)
                || character.unicodeScalars.contains(where: {
                    $0.properties.isWhitespace || [.control, .format].contains($0.properties.generalCategory)
                })
            {
                throw .badRequest(
                    "Property '\(property)' contains the character '\(character)', which is not allowed: use letters and digits only."
                )
            }
        }
    }

    /// Refuses a new set or attribute name that looks like an existing one (`Confusables`), as a
    /// duplicate, naming the object it collides with: the two would be told apart by no reader.
    static func refuseLookAlike(
        _ name: String, property: String, among existing: [(name: String, description: String)]
    ) throws(GraphError) {
        let keys = Confusables.keys(name)
        guard let match = existing.first(where: { !Confusables.keys($0.name).isDisjoint(with: keys) }) else { return }
        throw .badRequest(
            "Another object with a look-alike value for property \(property) already exists: '\(name)' looks like \(match.description)."
        )
    }

    static func validateDescription(_ description: String?, property: String = "description") throws(GraphError) {
        guard let description else { return }
        guard description.count <= Limits.descriptionLength else {
            throw .badRequest("Property '\(property)' must be at most \(Limits.descriptionLength) characters long.")
        }
    }

    static func validateMaxAttributes(_ value: Int32?) throws(GraphError) {
        guard let value else { return }
        guard value >= 1, value <= Limits.maxAttributesPerSetCeiling else {
            throw .badRequest("Property 'maxAttributesPerSet' must be between 1 and \(Limits.maxAttributesPerSetCeiling).")
        }
    }

    public static func validateAllowedValueId(_ id: String) throws(GraphError) {
        guard !id.isEmpty, id.trimmingSpaces == id else {
            throw .badRequest("Property 'id' of resource 'AllowedValue' must not be empty or start or end with a space.")
        }
        guard id.count <= Limits.allowedValueLength else {
            throw .badRequest(
                "Property 'id' of resource 'AllowedValue' must be at most \(Limits.allowedValueLength) characters long.")
        }
        guard !id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badRequest("Property 'id' of resource 'AllowedValue' must not contain control characters.")
        }
    }

    // MARK: Attribute sets

    public static func createSet(_ body: JSONValue, in schema: Schema) throws(GraphError) -> SchemaChange {
        var payload = try Payload(body, resource: "AttributeSet")
        let id = try payload.requiredString("id")
        let description = try payload.string("description").value
        let maxAttributes = try payload.int32("maxAttributesPerSet").value
        try payload.rejectUnknownProperties()
        try validateName(id, property: "id")
        try validateDescription(description)
        try validateMaxAttributes(maxAttributes)
        guard schema.set(named: id) == nil else { throw .duplicateId }
        try refuseLookAlike(id, property: "id", among: schema.sets.map { ($0.id, "attribute set '\($0.id)'") })
        guard schema.sets.count < Limits.attributeSetsPerTenant else {
            throw .badRequest("The tenant already has the maximum of \(Limits.attributeSetsPerTenant) attribute sets.")
        }
        return .createSet(AttributeSet(id: id, description: description, maxAttributesPerSet: maxAttributes))
    }

    public static func updateSet(_ set: AttributeSet, with body: JSONValue, in schema: Schema) throws(GraphError) -> SchemaChange {
        var payload = try Payload(body, resource: "AttributeSet")
        try payload.rejectPresent(["id"], reason: "of resource 'AttributeSet' cannot be changed")
        var updated = set
        switch try payload.string("description") {
        case .absent: break
        case .null: updated.description = nil
        case .value(let d): updated.description = d
        }
        switch try payload.int32("maxAttributesPerSet") {
        case .absent: break
        case .null: updated.maxAttributesPerSet = nil
        case .value(let m): updated.maxAttributesPerSet = m
        }
        try payload.rejectUnknownProperties()
        try validateDescription(updated.description)
        try validateMaxAttributes(updated.maxAttributesPerSet)
        if let max = updated.maxAttributesPerSet, schema.definitions(inSet: set.id).count > Int(max) {
            throw .badRequest(
                "Property 'maxAttributesPerSet' cannot be lower than the \(schema.definitions(inSet: set.id).count) attributes the set already has."
            )
        }
        return .updateSet(updated)
    }

    // MARK: Definitions

    static let definitionImmutable = ["id", "attributeSet", "name", "type", "isCollection", "isSearchable"]

    public static func createDefinition(_ body: JSONValue, in schema: Schema) throws(GraphError) -> SchemaChange {
        var payload = try Payload(body, resource: "CustomSecurityAttributeDefinition")
        try payload.rejectPresent(["id"], reason: "is generated by the service and cannot be set")
        let setName = try payload.requiredString("attributeSet")
        let name = try payload.requiredString("name")
        let description = try payload.string("description").value
        let typeName = try payload.requiredString("type")
        let isCollection = try payload.requiredBool("isCollection")
        let isSearchable = try payload.requiredBool("isSearchable")
        let statusName = try payload.requiredString("status")
        let predefinedOnly = try payload.requiredBool("usePreDefinedValuesOnly")
        let allowedValuesBody = payload.raw("allowedValues")
        try payload.rejectUnknownProperties()

        guard let set = schema.set(named: setName) else {
            throw .badRequest("Attribute set '\(setName)' named by property 'attributeSet' does not exist.")
        }
        try validateName(name, property: "name")
        try validateDescription(description)
        guard let type = AttributeType(rawValue: typeName) else {
            throw .badRequest("Property 'type' must be one of String, Integer, Boolean.")
        }
        guard let status = DefinitionStatus(rawValue: statusName) else {
            throw .badRequest("Property 'status' must be Available or Deprecated.")
        }
        if type == .boolean, isCollection {
            throw .badRequest("Property 'isCollection' must be false for attributes of type Boolean.")
        }
        if type == .boolean, predefinedOnly {
            throw .badRequest("Property 'usePreDefinedValuesOnly' must be false for attributes of type Boolean.")
        }
        guard schema.definition(set: set.id, name: name) == nil else { throw .duplicateId }
        try refuseLookAlike(
            name, property: "name", among: schema.definitions(inSet: set.id).map { ($0.name, "attribute '\($0.name)' of attribute set '\(set.id)'") })
        if let max = set.maxAttributesPerSet, schema.definitions(inSet: set.id).count >= Int(max) {
            throw .badRequest("Attribute set '\(set.id)' already has its maximum of \(max) attributes (maxAttributesPerSet).")
        }
        if status == .available, schema.activeDefinitionCount >= Limits.activeDefinitionsPerTenant {
            throw .badRequest(
                "The tenant already has the maximum of \(Limits.activeDefinitionsPerTenant) active attribute definitions; deactivate one first."
            )
        }

        var values: [AllowedValue] = []
        switch allowedValuesBody {
        case nil, .null: break
        case .array(let elements):
            var ids: Set<String> = []
            for element in elements {
                let value = try allowedValue(from: element)
                guard ids.insert(value.id).inserted else { throw .duplicateId }
                values.append(value)
            }
        default:
            throw .badRequest("Invalid value specified for property 'allowedValues': expected an array of allowedValue.")
        }
        try checkAllowedValues(values, type: type)

        let definition = AttributeDefinition(
            attributeSet: set.id, name: name, description: description, type: type, isCollection: isCollection,
            isSearchable: isSearchable, status: status, usePreDefinedValuesOnly: predefinedOnly)
        return .createDefinition(definition, allowedValues: values)
    }

    /// Predefined values exist only for String and Integer attributes; an Integer's must parse.
    static func checkAllowedValues(_ values: [AllowedValue], type: AttributeType) throws(GraphError) {
        guard values.count <= Limits.allowedValuesPerDefinition else {
            throw .badRequest("An attribute can have at most \(Limits.allowedValuesPerDefinition) predefined values.")
        }
        for value in values {
            switch type {
            case .boolean:
                throw .badRequest("Attributes of type Boolean cannot have predefined values.")
            case .integer where Int32(value.id) == nil:
                throw .badRequest("Predefined value '\(value.id)' is not a 32-bit integer, as the attribute's type requires.")
            default: break
            }
        }
    }

    static func allowedValue(from body: JSONValue) throws(GraphError) -> AllowedValue {
        var payload = try Payload(body, resource: "AllowedValue")
        let id = try payload.requiredString("id")
        let isActive = try payload.requiredBool("isActive")
        try payload.rejectUnknownProperties()
        try validateAllowedValueId(id)
        return AllowedValue(id: id, isActive: isActive)
    }

    /// PATCH of a definition: description, status, usePreDefinedValuesOnly (true -> false only),
    /// and `allowedValues@delta` (an upsert, which needs `OData-Version: 4.01`).
    public static func updateDefinition(
        _ definition: AttributeDefinition, with body: JSONValue, odataVersion: String?, in schema: Schema
    ) throws(GraphError) -> [SchemaChange] {
        var payload = try Payload(body, resource: "CustomSecurityAttributeDefinition")
        try payload.rejectPresent(
            definitionImmutable, reason: "of resource 'CustomSecurityAttributeDefinition' cannot be changed")
        var updated = definition
        switch try payload.string("description") {
        case .absent: break
        case .null: updated.description = nil
        case .value(let d): updated.description = d
        }
        switch try payload.string("status") {
        case .absent: break
        case .null: throw .badRequest("Property 'status' must be Available or Deprecated.")
        case .value(let s):
            guard let status = DefinitionStatus(rawValue: s) else {
                throw .badRequest("Property 'status' must be Available or Deprecated.")
            }
            updated.status = status
        }
        switch try payload.bool("usePreDefinedValuesOnly") {
        case .absent: break
        case .null: throw .badRequest("Property 'usePreDefinedValuesOnly' must be true or false.")
        case .value(let v):
            if v, !definition.usePreDefinedValuesOnly {
                throw .badRequest(
                    "Property 'usePreDefinedValuesOnly' can change from true to false only, never from false to true.")
            }
            updated.usePreDefinedValuesOnly = v
        }
        let delta = payload.raw("allowedValues@delta")
        if payload.contains("allowedValues") {
            throw .badRequest(
                "Property 'allowedValues' cannot be replaced; send 'allowedValues@delta' with header OData-Version: 4.01.")
        }
        try payload.rejectUnknownProperties()
        try validateDescription(updated.description)
        if definition.status == .deprecated, updated.status == .available,
            schema.activeDefinitionCount >= Limits.activeDefinitionsPerTenant
        {
            throw .badRequest(
                "The tenant already has the maximum of \(Limits.activeDefinitionsPerTenant) active attribute definitions; deactivate one first."
            )
        }

        var changes: [SchemaChange] = []
        if updated != definition { changes.append(.updateDefinition(updated)) }
        if let delta {
            guard odataVersion?.trimmingSpaces == "4.01" else {
                throw .badRequest("Property 'allowedValues@delta' requires the request header OData-Version: 4.01.")
            }
            guard case .array(let elements) = delta else {
                throw .badRequest(
                    "Invalid value specified for property 'allowedValues@delta': expected an array of allowedValue.")
            }
            var values = schema.allowedValues(of: definition)
            var positions = Dictionary(values.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
            var seen: Set<String> = []
            for element in elements {
                let value = try allowedValue(from: element)
                guard seen.insert(value.id).inserted else {
                    throw .badRequest("Predefined value '\(value.id)' appears more than once in 'allowedValues@delta'.")
                }
                if let i = positions[value.id] {
                    values[i] = value
                } else {
                    positions[value.id] = values.count
                    values.append(value)
                }
                changes.append(.putAllowedValue(definitionId: definition.id, value))
            }
            try checkAllowedValues(values, type: definition.type)
        }
        return changes
    }

    // MARK: Allowed values

    public static func createAllowedValue(
        _ body: JSONValue, for definition: AttributeDefinition, in schema: Schema
    ) throws(GraphError) -> SchemaChange {
        let value = try allowedValue(from: body)
        let existing = schema.allowedValues(of: definition)
        guard !existing.contains(where: { $0.id == value.id }) else { throw .duplicateId }
        try checkAllowedValues(existing + [value], type: definition.type)
        return .putAllowedValue(definitionId: definition.id, value)
    }

    public static func updateAllowedValue(
        _ value: AllowedValue, of definition: AttributeDefinition, with body: JSONValue
    ) throws(GraphError) -> SchemaChange {
        var payload = try Payload(body, resource: "AllowedValue")
        try payload.rejectPresent(["id"], reason: "of resource 'AllowedValue' cannot be changed")
        var updated = value
        switch try payload.bool("isActive") {
        case .absent: break
        case .null: throw .badRequest("Property 'isActive' must be true or false.")
        case .value(let v): updated.isActive = v
        }
        try payload.rejectUnknownProperties()
        return .putAllowedValue(definitionId: definition.id, updated)
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first?.isWhitespace == true { scalars.removeFirst() }
        while scalars.last?.isWhitespace == true { scalars.removeLast() }
        return String(scalars)
    }
}
