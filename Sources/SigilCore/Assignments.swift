/// One value of a custom security attribute.
public enum AttributeValue: Sendable, Hashable {
    case string(String)
    case integer(Int32)
    case boolean(Bool)

    public var json: JSONValue {
        switch self {
        case .string(let s): .string(s)
        case .integer(let i): .integer(Int64(i))
        case .boolean(let b): .bool(b)
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value as JSON, as `json` serialises.
    public func write(into out: inout [UInt8]) {
        switch self {
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .integer(let i): out.append(contentsOf: String(i).utf8)
        case .boolean(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        }
    }

    /// The form predefined values are written in (allowedValue ids are strings).
    public var predefinedForm: String {
        switch self {
        case .string(let s): s
        case .integer(let i): String(i)
        case .boolean(let b): b ? "true" : "false"
        }
    }
}

/// The values one attribute holds on one object (one element unless it is a collection).
public struct AssignedAttribute: Sendable, Equatable {
    /// The definition's id as created, e.g. `Engineering_Project`.
    public var definitionId: String
    public var values: [AttributeValue]

    public init(definitionId: String, values: [AttributeValue]) {
        self.definitionId = definitionId
        self.values = values
    }
}

/// All custom security attribute values of one user or service principal.
public struct AttributeAssignments: Sendable, Equatable {
    public private(set) var attributes: [AssignedAttribute]

    public init(_ attributes: [AssignedAttribute] = []) {
        self.attributes = attributes.filter { !$0.values.isEmpty }
    }

    public var isEmpty: Bool { attributes.isEmpty }
    public var valueCount: Int { attributes.reduce(0) { $0 + $1.values.count } }

    public func values(of definitionId: String) -> [AttributeValue] {
        let key = nameKey(definitionId)
        return attributes.first { nameKey($0.definitionId) == key }?.values ?? []
    }

    /// Replaces an attribute's values; an empty list removes the attribute.
    public mutating func set(_ definitionId: String, _ values: [AttributeValue]) {
        let key = nameKey(definitionId)
        if let i = attributes.firstIndex(where: { nameKey($0.definitionId) == key }) {
            if values.isEmpty { attributes.remove(at: i) } else { attributes[i].values = values }
        } else if !values.isEmpty {
            attributes.append(AssignedAttribute(definitionId: definitionId, values: values))
        }
    }
}

/// The rules of assigning, updating, removing and reading custom security attribute values
/// (docs/compatibility.md, "Assignments"). Pure: the caller supplies the schema and
/// the object's current values, read in the same transaction that will write the result.
public enum AssignmentRules {
    /// Both spellings clients send on a set object in a write.
    static let setTypeAnnotations: Set<String> = [
        "#microsoft.directoryservices.customsecurityattributevalue", "#microsoft.graph.customsecurityattributevalue",
    ]
    static let readSetType = "#microsoft.graph.customSecurityAttributeValue"

    /// Merges a `customSecurityAttributes` payload into the values `current` of object
    /// `objectId`: sets and attributes absent from the payload stay, a named attribute is replaced
    /// whole, `null` (or `[]` for a collection) removes it. Any invalid part fails the whole merge.
    /// Nobody changes their own values, whatever their roles: a set-scoped administrator could
    /// otherwise raise its own clearance.
    public static func merge(
        _ payload: JSONValue, into current: AttributeAssignments, of objectId: String, schema: Schema, caller: Caller
    ) throws(GraphError) -> AttributeAssignments {
        guard caller.principalId.lowercased() != objectId.lowercased() else { throw .ownAttributes }
        guard case .object(let sets) = payload else {
            if payload == .null {
                throw .badRequest(
                    "Property 'customSecurityAttributes' cannot be null; remove values one attribute at a time with null or [].")
            }
            throw .badRequest(
                "Invalid value specified for property 'customSecurityAttributes': expected an object of attribute sets.")
        }
        var result = current
        var seenSets: Set<String> = []
        for (setKey, setValue) in sets where !Payload.isAnnotation(setKey) {
            guard let set = schema.set(named: setKey) else { throw .invalidProperty(setKey) }
            guard seenSets.insert(nameKey(set.id)).inserted else {
                throw .badRequest("Attribute set '\(set.id)' appears more than once in 'customSecurityAttributes'.")
            }
            guard case .object(let attributes) = setValue else {
                if setValue == .null {
                    throw .badRequest(
                        "Attribute set '\(setKey)' cannot be null; remove its attributes one at a time with null or [].")
                }
                throw .badRequest(
                    "Invalid value specified for attribute set '\(setKey)': expected an object with \"@odata.type\":\"#Microsoft.DirectoryServices.CustomSecurityAttributeValue\"."
                )
            }
            guard let type = attributes["@odata.type"]?.stringValue, setTypeAnnotations.contains(type.lowercased()) else {
                throw .invalidProperty(setKey)
            }
            try AccessPolicy.require(AccessPolicy.allows(caller, .manageAssignments, inSet: set.id))
            try mergeSet(set, attributes, into: &result, current: current, schema: schema)
        }
        // The message names no count: the total includes values in sets the caller cannot read.
        guard result.valueCount <= Limits.valuesPerObject else {
            throw .badRequest(
                "An object can hold at most \(Limits.valuesPerObject) custom security attribute values in total, across all attribute sets; this change would exceed that."
            )
        }
        return result
    }

    static func mergeSet(
        _ set: AttributeSet, _ attributes: JSONObject, into result: inout AttributeAssignments, current: AttributeAssignments,
        schema: Schema
    ) throws(GraphError) {
        var seen: Set<String> = []
        for (key, value) in attributes where key != "@odata.type" {
            // Searched as bytes first: Foundation's `range(of:)` for every key showed in profiles.
            if key.utf8.contains(UInt8(ascii: "@")) {
                if let at = key.range(of: "@odata.type") {
                    // An annotation must describe an attribute sent beside it.
                    let attribute = String(key[..<at.lowerBound])
                    guard at.upperBound == key.endIndex, attributes.contains(attribute) else { throw .invalidProperty(key) }
                    continue
                }
                // Any other annotation, or an `@` in a name: attribute names have none.
                throw .invalidProperty(key)
            }
            guard let definition = schema.definition(set: set.id, name: key) else { throw .invalidProperty(key) }
            guard seen.insert(nameKey(definition.name)).inserted else {
                throw .badRequest("Attribute '\(definition.id)' appears more than once in attribute set '\(set.id)'.")
            }
            if let annotation = attributes["\(key)@odata.type"] {
                try checkAnnotation(annotation, key: key, definition: definition)
            }
            let values = try parseValues(value, definition: definition)
            try checkAssignable(values, definition: definition, held: current.values(of: definition.id), schema: schema)
            result.set(definition.id, values)
        }
    }

    /// The `customSecurityAttributes` PATCH payload that sets each attribute to its values (an
    /// empty list removes it), as a Graph client would send it.
    public static func payload(setting changes: [(definition: AttributeDefinition, values: [AttributeValue])]) -> JSONValue {
        var sets: [(name: String, members: JSONObject)] = []
        for (definition, values) in changes {
            var members =
                sets.first { nameKey($0.name) == nameKey(definition.attributeSet) }?.members
                ?? JSONObject([("@odata.type", .string("#Microsoft.DirectoryServices.CustomSecurityAttributeValue"))])
            if values.isEmpty {
                members.append(definition.name, .null)
            } else {
                members.append("\(definition.name)@odata.type", .string("#\(odataType(of: definition))"))
                members.append(definition.name, definition.isCollection ? .array(values.map(\.json)) : values[0].json)
            }
            if let index = sets.firstIndex(where: { nameKey($0.name) == nameKey(definition.attributeSet) }) {
                sets[index].members = members
            } else {
                sets.append((definition.attributeSet, members))
            }
        }
        return .object(JSONObject(sets.map { ($0.name, JSONValue.object($0.members)) }))
    }

    /// The OData type name of a definition's values, e.g. `Collection(Int32)`.
    static func odataType(of definition: AttributeDefinition) -> String {
        let element = elementType(of: definition)
        return definition.isCollection ? "Collection(\(element))" : element
    }

    static func elementType(of definition: AttributeDefinition) -> String {
        switch definition.type {
        case .string: "String"
        case .integer: "Int32"
        case .boolean: "Boolean"
        }
    }

    /// Annotations are optional, but when sent they must agree with the definition.
    static func checkAnnotation(_ annotation: JSONValue, key: String, definition: AttributeDefinition) throws(GraphError) {
        let element = elementType(of: definition)
        let accepted: Set<String> =
            definition.isCollection
            ? ["#Collection(\(element))", "#Collection(Edm.\(element))"] : ["#\(element)", "#Edm.\(element)"]
        guard case .string(let text) = annotation, accepted.contains(text) else {
            throw .badRequest(
                "The annotation '\(key)@odata.type' is \(annotation.serializedString), but attribute '\(definition.id)' is of type #\(odataType(of: definition))."
            )
        }
    }

    static func parseValues(_ value: JSONValue, definition: AttributeDefinition) throws(GraphError) -> [AttributeValue] {
        let expected = odataType(of: definition)
        func wrongType() -> GraphError {
            .badRequest(
                "Invalid value specified for attribute '\(definition.id)': expected \(expected), got \(value.typeName).")
        }
        if value == .null { return [] }
        if definition.isCollection {
            guard case .array(let elements) = value else { throw wrongType() }
            var values: [AttributeValue] = []
            // A set, not `values.contains`: a 1 MiB body holds tens of thousands of elements.
            var seen: Set<AttributeValue> = []
            for element in elements {
                guard let parsed = try parseScalar(element, definition: definition) else { throw wrongType() }
                guard seen.insert(parsed).inserted else {
                    throw .badRequest(
                        "Value \(element.serializedString) appears more than once for attribute '\(definition.id)'.")
                }
                values.append(parsed)
            }
            return values
        }
        guard let parsed = try parseScalar(value, definition: definition) else { throw wrongType() }
        return [parsed]
    }

    /// One element of the definition's type, or nil when the JSON type is wrong.
    static func parseScalar(_ value: JSONValue, definition: AttributeDefinition) throws(GraphError) -> AttributeValue? {
        switch (definition.type, value) {
        case (.string, .string(let s)):
            guard !s.isEmpty else { throw .badRequest("A value of attribute '\(definition.id)' must not be empty.") }
            guard s.count <= Limits.assignedValueLength else {
                throw .badRequest(
                    "A value of attribute '\(definition.id)' must be at most \(Limits.assignedValueLength) characters long; '\(s.prefix(20))…' has \(s.count)."
                )
            }
            return .string(s)
        case (.integer, .integer(let i)):
            guard let v = Int32(exactly: i) else {
                throw .badRequest(
                    "Value \(i) of attribute '\(definition.id)' is out of range for Int32 (-2147483648 to 2147483647).")
            }
            return .integer(v)
        case (.boolean, .bool(let b)):
            return .boolean(b)
        default:
            return nil
        }
    }

    /// Deprecated attributes and inactive predefined values take no new holders; an object that
    /// already holds a value may keep (re-send) it.
    static func checkAssignable(
        _ values: [AttributeValue], definition: AttributeDefinition, held: [AttributeValue], schema: Schema
    ) throws(GraphError) {
        let new = values.filter { !held.contains($0) }
        guard !new.isEmpty else { return }
        if definition.status == .deprecated {
            throw .badRequest(
                "Attribute '\(definition.id)' is deactivated (Deprecated): it can no longer be assigned new values; existing values can only be removed."
            )
        }
        guard definition.usePreDefinedValuesOnly else { return }
        let allowed = schema.allowedValues(of: definition)
        for value in new {
            guard let match = allowed.first(where: { $0.id == value.predefinedForm }) else {
                throw .badRequest(
                    "Value '\(value.predefinedForm)' is not one of the predefined values of attribute '\(definition.id)'.")
            }
            guard match.isActive else {
                throw .badRequest(
                    "Predefined value '\(match.id)' of attribute '\(definition.id)' is deactivated and cannot be assigned to more objects."
                )
            }
        }
    }

    /// The attributes of an object `caller` may read, with their definitions: never the caller's
    /// own, only in the sets its assignment roles reach (guests none).
    public static func visible(
        _ assignments: AttributeAssignments, objectId: String, schema: Schema, caller: Caller
    ) -> [(definition: AttributeDefinition, attribute: AssignedAttribute)] {
        assignments.attributes.compactMap { attribute in
            guard let definition = schema.definition(id: attribute.definitionId),
                readsValues(inSet: definition.attributeSet, of: objectId, caller: caller)
            else { return nil }
            return (definition, attribute)
        }
    }

    /// Whether `caller` may read an object's values in `set`: never its own, only the sets its
    /// assignment roles reach. Reads and change tracking (delta) both ask here.
    public static func readsValues(inSet set: String, of objectId: String, caller: Caller) -> Bool {
        caller.principalId.lowercased() != objectId.lowercased() && AccessPolicy.allows(caller, .readAssignments, inSet: set)
    }

    /// `customSecurityAttributes` as a read returns it to `caller`: never their own values, only
    /// the sets their assignment roles reach (guests none); each set annotated
    /// `#microsoft.graph.customSecurityAttributeValue`, collections preceded by `#Collection(...)`;
    /// `null` when nothing is left.
    public static func render(
        _ assignments: AttributeAssignments, objectId: String, schema: Schema, caller: Caller
    ) -> JSONValue {
        var renderer = AttributeRenderer(schema: schema, caller: caller)
        return renderer.render(assignments, objectId: objectId)
    }
}

/// Renders `customSecurityAttributes` of many objects for one caller (a page, a batch of reads)
/// as `AssignmentRules.render` describes. Whether the caller reads a definition's set is decided
/// once per definition and kept: deciding it per value was a tenth of a filter page's CPU.
public struct AttributeRenderer {
    let schema: Schema
    let caller: Caller
    private let callerKey: String
    /// By definition id as the values carry it: how the caller sees that attribute written, nil
    /// when the caller does not read its set (or the schema lacks it).
    private var resolved: [String: Member?] = [:]
    /// Sets met so far by key, numbered so members compare sets without comparing names.
    private var setNumbers: [String: Int] = [:]

    /// One readable attribute as it is written, its bytes prepared once per page.
    private struct Member {
        let set: Int
        /// `"Set":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue"`.
        let setOpening: [UInt8]
        /// `,"Name":`, or for a collection `,"Name@odata.type":"#Collection(Type)","Name":[`.
        let opening: [UInt8]
        let isCollection: Bool
    }

    public init(schema: Schema, caller: Caller) {
        self.schema = schema
        self.caller = caller
        self.callerKey = caller.principalId.lowercased()
    }

    /// The value `write` writes, parsed back: for callers that need it as a value.
    public mutating func render(_ assignments: AttributeAssignments, objectId: String) -> JSONValue {
        var out: [UInt8] = []
        write(assignments, objectId: objectId, into: &out)
        return (try? JSON.parse(out)) ?? .null
    }

    /// Writes `customSecurityAttributes` as JSON straight into `out`, without building a value
    /// per set and attribute (building them was most of a filtered page's rendering cost): sets
    /// in the order of their first value, each holding its attributes in the values' order.
    public mutating func write(_ assignments: AttributeAssignments, objectId: String, into out: inout [UInt8]) {
        guard !assignments.attributes.isEmpty, objectId.lowercased() != callerKey else {
            out.append(contentsOf: "null".utf8)
            return
        }
        var members = assignments.attributes.map { readable($0.definitionId) }
        guard members.contains(where: { $0 != nil }) else {
            out.append(contentsOf: "null".utf8)
            return
        }
        out.append(UInt8(ascii: "{"))
        var firstSet = true
        for first in members.indices {
            guard let set = members[first]?.set else { continue }
            if !firstSet { out.append(UInt8(ascii: ",")) }
            firstSet = false
            out.append(contentsOf: members[first]?.setOpening ?? [])
            // This set's members from here on; each is written once, then forgotten.
            for index in first..<members.count {
                guard let member = members[index], member.set == set else { continue }
                members[index] = nil
                let values = assignments.attributes[index].values
                if member.isCollection {
                    out.append(contentsOf: member.opening)
                    for (position, value) in values.enumerated() {
                        if position > 0 { out.append(UInt8(ascii: ",")) }
                        value.write(into: &out)
                    }
                    out.append(UInt8(ascii: "]"))
                } else if let value = values.first {
                    out.append(contentsOf: member.opening)
                    value.write(into: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
    }

    private mutating func readable(_ definitionId: String) -> Member? {
        if let known = resolved[definitionId] { return known }
        var found: Member?
        if let definition = schema.definition(id: definitionId),
            AccessPolicy.allows(caller, .readAssignments, inSet: definition.attributeSet)
        {
            let key = nameKey(definition.attributeSet)
            let set = setNumbers[key] ?? setNumbers.count
            setNumbers[key] = set
            var setOpening: [UInt8] = []
            JSONValue.writeString(definition.attributeSet, into: &setOpening)
            setOpening.append(contentsOf: #":{"@odata.type":"#.utf8)
            JSONValue.writeString(AssignmentRules.readSetType, into: &setOpening)
            var opening: [UInt8] = [UInt8(ascii: ",")]
            if definition.isCollection {
                JSONValue.writeString("\(definition.name)@odata.type", into: &opening)
                opening.append(UInt8(ascii: ":"))
                JSONValue.writeString("#\(AssignmentRules.odataType(of: definition))", into: &opening)
                opening.append(UInt8(ascii: ","))
            }
            JSONValue.writeString(definition.name, into: &opening)
            opening.append(contentsOf: (definition.isCollection ? ":[" : ":").utf8)
            found = Member(set: set, setOpening: setOpening, opening: opening, isCollection: definition.isCollection)
        }
        resolved[definitionId] = found
        return found
    }
}

extension AttributeValue {
    /// A value typed by its definition from text a person wrote: a console form field, a
    /// command-line word, a CSV cell. The one place such text is read, with one set of messages.
    public init(text: String, for definition: AttributeDefinition) throws(GraphError) {
        let attribute = "\(definition.attributeSet).\(definition.name)"
        switch definition.type {
        case .string:
            self = .string(text)
        case .integer:
            guard let number = Int32(text) else {
                throw .badRequest(
                    "\(attribute) takes whole numbers: '\(text)' is not a whole number between \(Int32.min) and \(Int32.max).")
            }
            self = .integer(number)
        case .boolean:
            switch text.lowercased() {
            case "true": self = .boolean(true)
            case "false": self = .boolean(false)
            default: throw .badRequest("\(attribute) takes true or false, not '\(text)'.")
            }
        }
    }
}
