import Testing

@testable import SigilCore

// MARK: - Fixtures

private let engineering = AttributeSet(id: "Engineering", description: "Attributes for engineering team", maxAttributesPerSet: 25)
private let marketing = AttributeSet(id: "Marketing")

private func definition(
    _ name: String, set: String = "Engineering", type: AttributeType = .string, isCollection: Bool = false, isSearchable: Bool = true,
    status: DefinitionStatus = .available, predefinedOnly: Bool = false
) -> AttributeDefinition {
    AttributeDefinition(
        attributeSet: set, name: name, description: nil, type: type, isCollection: isCollection, isSearchable: isSearchable, status: status,
        usePreDefinedValuesOnly: predefinedOnly)
}

private let project = definition("Project", isCollection: true, predefinedOnly: true)
private let costCenter = definition("CostCenter", type: .integer, predefinedOnly: true)
private let onCall = definition("OnCall", type: .boolean)
private let projectValues = [AllowedValue(id: "Alpine", isActive: true), AllowedValue(id: "Baker", isActive: true), AllowedValue(id: "Cascade", isActive: true)]

/// Engineering (max 25) with Project (predefined Alpine, Baker, Cascade), CostCenter (Integer), OnCall (Boolean); Marketing empty.
private let baseSchema = Schema(sets: [engineering, marketing], definitions: [project, costCenter, onCall], allowedValues: ["engineering_project": projectValues])

/// The documented D3 body for a free-form String attribute, with members replaced (nil removes, new ones are appended).
private func definitionBody(_ changes: [(String, JSONValue?)] = []) -> JSONValue {
    var object = JSONObject([
        (key: "attributeSet", value: "Engineering"), (key: "description", value: "Target completion date"), (key: "isCollection", value: false),
        (key: "isSearchable", value: true), (key: "name", value: "ProjectDate"), (key: "status", value: "Available"), (key: "type", value: "String"),
        (key: "usePreDefinedValuesOnly", value: false),
    ])
    for (key, value) in changes { object[key] = value }
    return .object(object)
}

private func values(_ ids: [String], isActive: Bool = true) -> JSONValue {
    .array(ids.map { ["id": .string($0), "isActive": .bool(isActive)] })
}

/// A tenant whose `Bulk` set (no per-set maximum) holds `active` Available and `deprecated` Deprecated definitions.
private func bulkSchema(active: Int, deprecated: Int = 0) -> Schema {
    let bulk = AttributeSet(id: "Bulk")
    let definitions =
        (0..<active).map { definition("Active\($0)", set: "Bulk") }
        + (0..<deprecated).map { definition("Old\($0)", set: "Bulk", status: .deprecated) }
    return Schema(sets: [bulk, engineering], definitions: definitions)
}

private let activeLimitMessage = "The tenant already has the maximum of 500 active attribute definitions; deactivate one first."

// MARK: - Names

@Suite struct NameRuleTests {
    @Test(arguments: ["Engineering", "A", String(repeating: "a", count: 32), "Sales2", "Q4Planning", "Ingeniería", "工程", "Инженерия", "Ñandú", "ΔTeam"])
    func validNamesAreAccepted(_ name: String) throws {
        try SchemaRules.validateName(name, property: "id")
    }

    @Test func thirtyTwoCharactersAcceptedThirtyThreeRefused() throws {
        try SchemaRules.validateName(String(repeating: "E", count: 32), property: "name")
        #expect(throws: GraphError.badRequest("Property 'name' must be at most 32 characters long.")) {
            try SchemaRules.validateName(String(repeating: "E", count: 33), property: "name")
        }
    }

    /// The limit counts Unicode characters, not UTF-8 bytes.
    @Test func lengthCountsCharactersNotBytes() throws {
        try SchemaRules.validateName(String(repeating: "é", count: 32), property: "id")
        try SchemaRules.validateName(String(repeating: "工", count: 32), property: "id")
        #expect(throws: GraphError.badRequest("Property 'id' must be at most 32 characters long.")) {
            try SchemaRules.validateName(String(repeating: "工", count: 33), property: "id")
        }
    }

    @Test func emptyNameIsRefused() {
        #expect(throws: GraphError.badRequest("Property 'id' must not be empty.")) { try SchemaRules.validateName("", property: "id") }
    }

    /// Every character of the Entra limits table (docs/api.md), in the middle of a name.
    @Test(arguments: Array(" `~!@#$%^&*()_-+={[}]|\\:;\"'<,>.?/"))
    func forbiddenCharactersAreRefused(_ character: Character) {
        #expect(
            throws: GraphError.badRequest("Property 'id' contains the character '\(character)', which is not allowed: use letters and digits only.")
        ) {
            try SchemaRules.validateName("Eng\(character)ineering", property: "id")
        }
    }

    @Test(arguments: ["\t", "\n", "\u{00A0}", "\u{3000}", "\u{0007}"])
    func whitespaceAndControlCharactersAreRefused(_ character: String) {
        #expect(throws: GraphError.self) { try SchemaRules.validateName("Eng\(character)ineering", property: "name") }
    }

    @Test(arguments: ["1Engineering", "0", "9Lives", "٣Team", "½Share"])
    func startingWithANumberIsRefused(_ name: String) {
        #expect(throws: GraphError.badRequest("Property 'name' must not start with a number.")) { try SchemaRules.validateName(name, property: "name") }
    }

    /// BUG: CJK ideographs such as 一 ("one"), 三 or 万 are letters (category Lo), but carry a Unihan numeric value,
    /// so `numericType != nil` refuses names like 一般 ("General") or 三井 as if they started with a digit.
    @Test(arguments: ["一般", "三井", "万博"])
    func letterStartingNamesWithANumericValueAreAccepted(_ name: String) throws {
        try SchemaRules.validateName(name, property: "id")
    }

    /// BUG: `validateName` documents "no forbidden or invisible characters", but format characters (Cf) such as a
    /// zero-width space pass, so `Engi<ZWSP>neering` can sit beside `Engineering`.
    @Test(arguments: ["\u{200B}", "\u{200D}", "\u{00AD}", "\u{FEFF}"])
    func invisibleFormatCharactersAreRefused(_ character: String) {
        #expect(throws: GraphError.self) { try SchemaRules.validateName("Engi\(character)neering", property: "id") }
    }
}

// MARK: - Attribute sets

@Suite struct AttributeSetRuleTests {
    @Test func documentedCreateIsAccepted() throws {
        let body: JSONValue = ["id": "Engineering", "description": "Attributes for engineering team", "maxAttributesPerSet": 25]
        let change = try SchemaRules.createSet(body, in: Schema())
        #expect(change == .createSet(AttributeSet(id: "Engineering", description: "Attributes for engineering team", maxAttributesPerSet: 25)))
    }

    @Test func optionalMembersMayBeAbsentOrNullAndODataTypePasses() throws {
        #expect(try SchemaRules.createSet(["id": "Sales"], in: baseSchema) == .createSet(AttributeSet(id: "Sales")))
        let annotated: JSONValue = ["@odata.type": "#microsoft.graph.attributeSet", "id": "Sales", "description": nil, "maxAttributesPerSet": nil]
        #expect(try SchemaRules.createSet(annotated, in: baseSchema) == .createSet(AttributeSet(id: "Sales")))
    }

    @Test func thirtyTwoCharacterIdAcceptedThirtyThreeRefused() throws {
        let ok = String(repeating: "S", count: 32)
        #expect(try SchemaRules.createSet(["id": .string(ok)], in: baseSchema) == .createSet(AttributeSet(id: ok)))
        #expect(throws: GraphError.badRequest("Property 'id' must be at most 32 characters long.")) {
            try SchemaRules.createSet(["id": .string(ok + "S")], in: baseSchema)
        }
    }

    @Test(arguments: ["Eng ineering", "Eng_ineering", "Eng-ineering", "Eng.ineering", "Eng/ineering", "Eng@ineering"])
    func setIdWithForbiddenCharacterIsRefused(_ id: String) {
        #expect(throws: GraphError.self) { try SchemaRules.createSet(["id": .string(id)], in: baseSchema) }
    }

    @Test func setIdStartingWithDigitIsRefused() {
        #expect(throws: GraphError.badRequest("Property 'id' must not start with a number.")) { try SchemaRules.createSet(["id": "2024Projects"], in: baseSchema) }
    }

    @Test func unicodeSetIdIsAcceptedAsWritten() throws {
        #expect(try SchemaRules.createSet(["id": "Ingeniería"], in: baseSchema) == .createSet(AttributeSet(id: "Ingeniería")))
    }

    @Test func description128AcceptedAnd129Refused() throws {
        let ok = String(repeating: "d", count: 128)
        #expect(try SchemaRules.createSet(["id": "Sales", "description": .string(ok)], in: baseSchema) == .createSet(AttributeSet(id: "Sales", description: ok)))
        #expect(throws: GraphError.badRequest("Property 'description' must be at most 128 characters long.")) {
            try SchemaRules.createSet(["id": "Sales", "description": .string(ok + "d")], in: baseSchema)
        }
    }

    @Test func descriptionMayContainSpacesAndUnicode() throws {
        let description = "Attributs pour l'équipe d'ingénierie — 工程"
        #expect(try SchemaRules.createSet(["id": "Sales", "description": .string(description)], in: baseSchema) == .createSet(AttributeSet(id: "Sales", description: description)))
    }

    @Test(arguments: [Int64(1), 25, 500])
    func maxAttributesPerSetInRangeIsAccepted(_ max: Int64) throws {
        let change = try SchemaRules.createSet(["id": "Sales", "maxAttributesPerSet": .integer(max)], in: baseSchema)
        #expect(change == .createSet(AttributeSet(id: "Sales", maxAttributesPerSet: Int32(max))))
    }

    @Test(arguments: [Int64(0), -1, 501])
    func maxAttributesPerSetOutOfRangeIsRefused(_ max: Int64) {
        #expect(throws: GraphError.badRequest("Property 'maxAttributesPerSet' must be between 1 and 500.")) {
            try SchemaRules.createSet(["id": "Sales", "maxAttributesPerSet": .integer(max)], in: baseSchema)
        }
    }

    @Test(arguments: [JSONValue.string("25"), .double(2.5), .integer(2_147_483_648), .bool(true)])
    func maxAttributesPerSetOfTheWrongTypeIsRefused(_ value: JSONValue) {
        #expect(throws: GraphError.badRequest("Invalid value specified for property 'maxAttributesPerSet' of resource 'AttributeSet': expected Int32.")) {
            try SchemaRules.createSet(["id": "Sales", "maxAttributesPerSet": value], in: baseSchema)
        }
    }

    @Test func missingOrNonStringIdIsRefused() {
        #expect(throws: GraphError.badRequest("Property 'id' of resource 'AttributeSet' is required.")) { try SchemaRules.createSet(["description": "x"], in: baseSchema) }
        #expect(throws: GraphError.badRequest("Property 'id' of resource 'AttributeSet' is required.")) { try SchemaRules.createSet(["id": nil], in: baseSchema) }
        #expect(throws: GraphError.badRequest("Invalid value specified for property 'id' of resource 'AttributeSet': expected String.")) {
            try SchemaRules.createSet(["id": 5], in: baseSchema)
        }
    }

    @Test func unknownPropertyIsRefusedByName() {
        #expect(throws: GraphError.badRequest("Invalid property 'name'.")) { try SchemaRules.createSet(["id": "Sales", "name": "Sales"], in: baseSchema) }
    }

    @Test func duplicateSetIsRefusedCaseInsensitively() {
        for id in ["Engineering", "engineering", "ENGINEERING", "eNgInEeRiNg"] {
            #expect(throws: GraphError.badRequest("Another object with the same value for property id already exists.")) {
                try SchemaRules.createSet(["id": .string(id)], in: baseSchema)
            }
        }
        #expect(GraphError.duplicateId.status == 400)
        #expect(GraphError.duplicateId.code == .badRequest)
        #expect(GraphError.duplicateId.code.rawValue == "Request_BadRequest")
    }

    @Test func storedCasingIsKeptAndLookupIsCaseInsensitive() throws {
        var schema = Schema()
        schema.apply(try SchemaRules.createSet(["id": "engineering"], in: schema))
        #expect(schema.sets == [AttributeSet(id: "engineering")])
        #expect(schema.set(named: "ENGINEERING")?.id == "engineering")
        #expect(throws: GraphError.duplicateId) { try SchemaRules.createSet(["id": "Engineering"], in: schema) }
    }

    @Test func fiveHundredSetsIsTheLimit() throws {
        let almost = Schema(sets: (0..<499).map { AttributeSet(id: "Set\($0)") })
        #expect(try SchemaRules.createSet(["id": "Last"], in: almost) == .createSet(AttributeSet(id: "Last")))
        let full = Schema(sets: (0..<500).map { AttributeSet(id: "Set\($0)") })
        #expect(throws: GraphError.badRequest("The tenant already has the maximum of 500 attribute sets.")) { try SchemaRules.createSet(["id": "OneMore"], in: full) }
    }

    @Test func documentedUpdateIsAccepted() throws {
        let change = try SchemaRules.updateSet(engineering, with: ["description": "Attributes for engineering team", "maxAttributesPerSet": 20], in: baseSchema)
        #expect(change == .updateSet(AttributeSet(id: "Engineering", description: "Attributes for engineering team", maxAttributesPerSet: 20)))
    }

    @Test func updateClearsWithNullAndKeepsAbsentMembers() throws {
        #expect(try SchemaRules.updateSet(engineering, with: ["description": nil], in: baseSchema) == .updateSet(AttributeSet(id: "Engineering", maxAttributesPerSet: 25)))
        #expect(
            try SchemaRules.updateSet(engineering, with: ["maxAttributesPerSet": nil], in: baseSchema)
                == .updateSet(AttributeSet(id: "Engineering", description: "Attributes for engineering team")))
    }

    @Test func updateCannotChangeTheId() {
        #expect(throws: GraphError.badRequest("Property 'id' of resource 'AttributeSet' cannot be changed.")) {
            try SchemaRules.updateSet(engineering, with: ["id": "Engineering2"], in: baseSchema)
        }
    }

    @Test func updateValidatesDescriptionAndMaximum() {
        #expect(throws: GraphError.badRequest("Property 'description' must be at most 128 characters long.")) {
            try SchemaRules.updateSet(engineering, with: ["description": .string(String(repeating: "x", count: 129))], in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Property 'maxAttributesPerSet' must be between 1 and 500.")) {
            try SchemaRules.updateSet(engineering, with: ["maxAttributesPerSet": 0], in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Invalid property 'name'.")) { try SchemaRules.updateSet(engineering, with: ["name": "x"], in: baseSchema) }
    }

    @Test func maximumCannotDropBelowTheSetsDefinitions() throws {
        // Engineering holds three definitions.
        #expect(try SchemaRules.updateSet(engineering, with: ["maxAttributesPerSet": 3], in: baseSchema) == .updateSet(AttributeSet(id: "Engineering", description: engineering.description, maxAttributesPerSet: 3)))
        #expect(throws: GraphError.badRequest("Property 'maxAttributesPerSet' cannot be lower than the 3 attributes the set already has.")) {
            try SchemaRules.updateSet(engineering, with: ["maxAttributesPerSet": 2], in: baseSchema)
        }
    }
}

// MARK: - Definitions: create

@Suite struct DefinitionCreateRuleTests {
    @Test func documentedFreeFormDefinitionIsAccepted() throws {
        let change = try SchemaRules.createDefinition(definitionBody(), in: baseSchema)
        let expected = AttributeDefinition(
            attributeSet: "Engineering", name: "ProjectDate", description: "Target completion date", type: .string, isCollection: false, isSearchable: true,
            status: .available, usePreDefinedValuesOnly: false)
        #expect(change == .createDefinition(expected, allowedValues: []))
        #expect(expected.id == "Engineering_ProjectDate")
    }

    @Test func documentedPredefinedDefinitionKeepsInlineValuesInOrder() throws {
        let body = definitionBody([
            ("name", "Skills"), ("isCollection", true), ("usePreDefinedValuesOnly", true), ("allowedValues", values(["Cascade", "Alpine", "Baker"])),
        ])
        guard case .createDefinition(let created, let allowed) = try SchemaRules.createDefinition(body, in: baseSchema) else {
            Issue.record("expected a createDefinition change")
            return
        }
        #expect(created.name == "Skills")
        #expect(created.isCollection)
        #expect(created.usePreDefinedValuesOnly)
        #expect(allowed == [AllowedValue(id: "Cascade", isActive: true), AllowedValue(id: "Alpine", isActive: true), AllowedValue(id: "Baker", isActive: true)])
    }

    @Test func odataTypeAnnotationIsAccepted() throws {
        let change = try SchemaRules.createDefinition(definitionBody([("@odata.type", "#microsoft.graph.customSecurityAttributeDefinition")]), in: baseSchema)
        guard case .createDefinition(let created, _) = change else {
            Issue.record("expected a createDefinition change")
            return
        }
        #expect(created.id == "Engineering_ProjectDate")
    }

    @Test func idSentOnCreateIsRefused() {
        #expect(throws: GraphError.badRequest("Property 'id' is generated by the service and cannot be set.")) {
            try SchemaRules.createDefinition(definitionBody([("id", "Engineering_ProjectDate")]), in: baseSchema)
        }
    }

    @Test func unknownSetIsRefused() {
        #expect(throws: GraphError.badRequest("Attribute set 'Finance' named by property 'attributeSet' does not exist.")) {
            try SchemaRules.createDefinition(definitionBody([("attributeSet", "Finance")]), in: baseSchema)
        }
    }

    @Test func setIsResolvedCaseInsensitivelyAndStoredWithItsOwnCasing() throws {
        guard case .createDefinition(let created, _) = try SchemaRules.createDefinition(definitionBody([("attributeSet", "eNGINEERING")]), in: baseSchema) else {
            Issue.record("expected a createDefinition change")
            return
        }
        #expect(created.attributeSet == "Engineering")
        #expect(created.id == "Engineering_ProjectDate")
    }

    @Test(arguments: ["attributeSet", "name", "type", "isCollection", "isSearchable", "status", "usePreDefinedValuesOnly"])
    func requiredPropertiesMustBeSent(_ property: String) {
        #expect(throws: GraphError.badRequest("Property '\(property)' of resource 'CustomSecurityAttributeDefinition' is required.")) {
            try SchemaRules.createDefinition(definitionBody([(property, nil)]), in: baseSchema)
        }
    }

    @Test func descriptionIsOptional() throws {
        guard case .createDefinition(let created, _) = try SchemaRules.createDefinition(definitionBody([("description", nil)]), in: baseSchema) else {
            Issue.record("expected a createDefinition change")
            return
        }
        #expect(created.description == nil)
    }

    @Test func nameRulesApply() throws {
        _ = try SchemaRules.createDefinition(definitionBody([("name", .string(String(repeating: "n", count: 32)))]), in: baseSchema)
        #expect(throws: GraphError.badRequest("Property 'name' must be at most 32 characters long.")) {
            try SchemaRules.createDefinition(definitionBody([("name", .string(String(repeating: "n", count: 33)))]), in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Property 'name' contains the character '_', which is not allowed: use letters and digits only.")) {
            try SchemaRules.createDefinition(definitionBody([("name", "Project_Date")]), in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Property 'name' must not start with a number.")) { try SchemaRules.createDefinition(definitionBody([("name", "2Date")]), in: baseSchema) }
    }

    @Test func description128AcceptedAnd129Refused() throws {
        _ = try SchemaRules.createDefinition(definitionBody([("description", .string(String(repeating: "d", count: 128)))]), in: baseSchema)
        #expect(throws: GraphError.badRequest("Property 'description' must be at most 128 characters long.")) {
            try SchemaRules.createDefinition(definitionBody([("description", .string(String(repeating: "d", count: 129)))]), in: baseSchema)
        }
    }

    @Test(arguments: ["string", "Int32", "Date", ""])
    func unknownTypeIsRefused(_ type: String) {
        #expect(throws: GraphError.badRequest("Property 'type' must be one of String, Integer, Boolean.")) {
            try SchemaRules.createDefinition(definitionBody([("type", .string(type))]), in: baseSchema)
        }
    }

    @Test(arguments: ["Active", "available", "Deactivated"])
    func unknownStatusIsRefused(_ status: String) {
        #expect(throws: GraphError.badRequest("Property 'status' must be Available or Deprecated.")) {
            try SchemaRules.createDefinition(definitionBody([("status", .string(status))]), in: baseSchema)
        }
    }

    @Test func booleanAttributeRules() throws {
        _ = try SchemaRules.createDefinition(definitionBody([("name", "Remote"), ("type", "Boolean")]), in: baseSchema)
        #expect(throws: GraphError.badRequest("Property 'isCollection' must be false for attributes of type Boolean.")) {
            try SchemaRules.createDefinition(definitionBody([("name", "Remote"), ("type", "Boolean"), ("isCollection", true)]), in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Property 'usePreDefinedValuesOnly' must be false for attributes of type Boolean.")) {
            try SchemaRules.createDefinition(definitionBody([("name", "Remote"), ("type", "Boolean"), ("usePreDefinedValuesOnly", true)]), in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Attributes of type Boolean cannot have predefined values.")) {
            try SchemaRules.createDefinition(definitionBody([("name", "Remote"), ("type", "Boolean"), ("allowedValues", values(["true"]))]), in: baseSchema)
        }
    }

    @Test func integerPredefinedValuesMustBeInt32() throws {
        _ = try SchemaRules.createDefinition(definitionBody([("name", "Level"), ("type", "Integer"), ("allowedValues", values(["1", "-2147483648", "2147483647"]))]), in: baseSchema)
        #expect(throws: GraphError.badRequest("Predefined value '2147483648' is not a 32-bit integer, as the attribute's type requires.")) {
            try SchemaRules.createDefinition(definitionBody([("name", "Level"), ("type", "Integer"), ("allowedValues", values(["1", "2147483648"]))]), in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Predefined value 'one' is not a 32-bit integer, as the attribute's type requires.")) {
            try SchemaRules.createDefinition(definitionBody([("name", "Level"), ("type", "Integer"), ("allowedValues", values(["one"]))]), in: baseSchema)
        }
    }

    @Test func duplicateDefinitionIsRefusedCaseInsensitively() {
        for name in ["Project", "project", "PROJECT"] {
            #expect(throws: GraphError.duplicateId) { try SchemaRules.createDefinition(definitionBody([("name", .string(name))]), in: baseSchema) }
        }
    }

    @Test func sameNameInAnotherSetIsAccepted() throws {
        _ = try SchemaRules.createDefinition(definitionBody([("attributeSet", "Marketing"), ("name", "Project")]), in: baseSchema)
    }

    @Test func fiveHundredActiveDefinitionsIsTheLimitButDeprecatedOnesAreFree() throws {
        let almost = bulkSchema(active: 499, deprecated: 40)
        #expect(almost.activeDefinitionCount == 499)
        _ = try SchemaRules.createDefinition(definitionBody(), in: almost)

        let full = bulkSchema(active: 500)
        #expect(throws: GraphError.badRequest(activeLimitMessage)) { try SchemaRules.createDefinition(definitionBody(), in: full) }
        guard case .createDefinition(let created, _) = try SchemaRules.createDefinition(definitionBody([("status", "Deprecated")]), in: full) else {
            Issue.record("expected a createDefinition change")
            return
        }
        #expect(created.status == .deprecated)
    }

    @Test func maxAttributesPerSetIsEnforced() throws {
        let capped = AttributeSet(id: "Engineering", maxAttributesPerSet: 2)
        let one = Schema(sets: [capped], definitions: [definition("A")])
        _ = try SchemaRules.createDefinition(definitionBody(), in: one)
        let two = Schema(sets: [capped], definitions: [definition("A"), definition("B")])
        #expect(throws: GraphError.badRequest("Attribute set 'Engineering' already has its maximum of 2 attributes (maxAttributesPerSet).")) {
            try SchemaRules.createDefinition(definitionBody(), in: two)
        }
        // Another set of the same tenant is unaffected.
        let withOther = Schema(sets: [capped, marketing], definitions: [definition("A"), definition("B")])
        _ = try SchemaRules.createDefinition(definitionBody([("attributeSet", "Marketing")]), in: withOther)
    }

    @Test func hundredPredefinedValuesAcceptedAndHundredAndOneRefused() throws {
        let hundred = (1...100).map { "V\($0)" }
        let change = try SchemaRules.createDefinition(definitionBody([("usePreDefinedValuesOnly", true), ("allowedValues", values(hundred))]), in: baseSchema)
        guard case .createDefinition(_, let allowed) = change else {
            Issue.record("expected a createDefinition change")
            return
        }
        #expect(allowed.count == 100)
        #expect(throws: GraphError.badRequest("An attribute can have at most 100 predefined values.")) {
            try SchemaRules.createDefinition(definitionBody([("allowedValues", values(hundred + ["V101"]))]), in: baseSchema)
        }
    }

    @Test func allowedValueId64AcceptedAnd65Refused() throws {
        _ = try SchemaRules.createDefinition(definitionBody([("allowedValues", values([String(repeating: "v", count: 64)]))]), in: baseSchema)
        #expect(throws: GraphError.badRequest("Property 'id' of resource 'AllowedValue' must be at most 64 characters long.")) {
            try SchemaRules.createDefinition(definitionBody([("allowedValues", values([String(repeating: "v", count: 65)]))]), in: baseSchema)
        }
    }

    @Test func duplicateInlineValuesAreRefusedButCaseMatters() throws {
        #expect(throws: GraphError.duplicateId) {
            try SchemaRules.createDefinition(definitionBody([("allowedValues", values(["Alpine", "Baker", "Alpine"]))]), in: baseSchema)
        }
        guard case .createDefinition(_, let allowed) = try SchemaRules.createDefinition(definitionBody([("allowedValues", values(["Alpine", "alpine", "ALPINE"]))]), in: baseSchema) else {
            Issue.record("expected a createDefinition change")
            return
        }
        #expect(allowed.map(\.id) == ["Alpine", "alpine", "ALPINE"])
    }

    @Test func inlineValuesAcceptStringBooleans() throws {
        let inline: JSONValue = [["id": "Alpine", "isActive": "true"], ["id": "Baker", "isActive": "false"]]
        guard case .createDefinition(_, let allowed) = try SchemaRules.createDefinition(definitionBody([("allowedValues", inline)]), in: baseSchema) else {
            Issue.record("expected a createDefinition change")
            return
        }
        #expect(allowed == [AllowedValue(id: "Alpine", isActive: true), AllowedValue(id: "Baker", isActive: false)])
    }

    @Test func malformedInlineValuesAreRefused() {
        #expect(throws: GraphError.badRequest("Invalid value specified for property 'allowedValues': expected an array of allowedValue.")) {
            try SchemaRules.createDefinition(definitionBody([("allowedValues", "Alpine")]), in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Invalid property 'value'.")) {
            try SchemaRules.createDefinition(definitionBody([("allowedValues", [["id": "Alpine", "isActive": true, "value": 1]])]), in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Property 'isActive' of resource 'AllowedValue' is required.")) {
            try SchemaRules.createDefinition(definitionBody([("allowedValues", [["id": "Alpine"]])]), in: baseSchema)
        }
    }

    @Test func nullAllowedValuesMeansNone() throws {
        guard case .createDefinition(_, let allowed) = try SchemaRules.createDefinition(definitionBody([("allowedValues", nil as JSONValue)]), in: baseSchema) else {
            Issue.record("expected a createDefinition change")
            return
        }
        #expect(allowed.isEmpty)
    }

    @Test func unknownPropertyIsRefusedByName() {
        #expect(throws: GraphError.badRequest("Invalid property 'color'.")) { try SchemaRules.createDefinition(definitionBody([("color", "blue")]), in: baseSchema) }
    }

    @Test func wronglyTypedPropertiesAreRefused() {
        #expect(throws: GraphError.badRequest("Invalid value specified for property 'isCollection' of resource 'CustomSecurityAttributeDefinition': expected Boolean.")) {
            try SchemaRules.createDefinition(definitionBody([("isCollection", 0)]), in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Invalid value specified for property 'name' of resource 'CustomSecurityAttributeDefinition': expected String.")) {
            try SchemaRules.createDefinition(definitionBody([("name", ["ProjectDate"])]), in: baseSchema)
        }
    }
}

// MARK: - Definitions: update

@Suite struct DefinitionUpdateRuleTests {
    @Test func documentedDescriptionUpdate() throws {
        var expected = project
        expected.description = "Target completion date (YYYY/MM/DD)"
        let changes = try SchemaRules.updateDefinition(project, with: ["description": "Target completion date (YYYY/MM/DD)"], odataVersion: nil, in: baseSchema)
        #expect(changes == [.updateDefinition(expected)])
    }

    @Test func deactivateAndClearDescription() throws {
        var expected = project
        expected.status = .deprecated
        #expect(try SchemaRules.updateDefinition(project, with: ["status": "Deprecated"], odataVersion: nil, in: baseSchema) == [.updateDefinition(expected)])
        var described = project
        described.description = "x"
        #expect(try SchemaRules.updateDefinition(described, with: ["description": nil], odataVersion: nil, in: baseSchema) == [.updateDefinition(project)])
    }

    @Test func emptyOrUnchangedBodyChangesNothing() throws {
        #expect(try SchemaRules.updateDefinition(project, with: [:], odataVersion: nil, in: baseSchema) == [])
        #expect(try SchemaRules.updateDefinition(project, with: ["status": "Available", "@odata.type": "#x"], odataVersion: nil, in: baseSchema) == [])
    }

    @Test(arguments: [
        ("type", JSONValue.string("Integer")), ("isCollection", .bool(false)), ("isSearchable", .bool(false)), ("name", .string("Projects")),
        ("attributeSet", .string("Marketing")), ("id", .string("Engineering_Project")),
    ])
    func immutablePropertiesAreRefused(_ property: String, _ value: JSONValue) {
        #expect(throws: GraphError.badRequest("Property '\(property)' of resource 'CustomSecurityAttributeDefinition' cannot be changed.")) {
            try SchemaRules.updateDefinition(project, with: .object(JSONObject([(key: property, value: value)])), odataVersion: nil, in: baseSchema)
        }
    }

    @Test func usePreDefinedValuesOnlyMayGoFromTrueToFalseOnly() throws {
        var freed = project
        freed.usePreDefinedValuesOnly = false
        #expect(try SchemaRules.updateDefinition(project, with: ["usePreDefinedValuesOnly": false], odataVersion: nil, in: baseSchema) == [.updateDefinition(freed)])
        #expect(try SchemaRules.updateDefinition(project, with: ["usePreDefinedValuesOnly": "false"], odataVersion: nil, in: baseSchema) == [.updateDefinition(freed)])
        #expect(try SchemaRules.updateDefinition(project, with: ["usePreDefinedValuesOnly": true], odataVersion: nil, in: baseSchema) == [])
        #expect(try SchemaRules.updateDefinition(freed, with: ["usePreDefinedValuesOnly": false], odataVersion: nil, in: baseSchema) == [])
        #expect(throws: GraphError.badRequest("Property 'usePreDefinedValuesOnly' can change from true to false only, never from false to true.")) {
            try SchemaRules.updateDefinition(freed, with: ["usePreDefinedValuesOnly": true], odataVersion: nil, in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Property 'usePreDefinedValuesOnly' must be true or false.")) {
            try SchemaRules.updateDefinition(project, with: ["usePreDefinedValuesOnly": nil], odataVersion: nil, in: baseSchema)
        }
    }

    @Test func statusMustBeKnown() {
        for status: JSONValue in ["Active", "deprecated", nil] {
            #expect(throws: GraphError.badRequest("Property 'status' must be Available or Deprecated.")) {
                try SchemaRules.updateDefinition(project, with: ["status": status], odataVersion: nil, in: baseSchema)
            }
        }
    }

    @Test func descriptionLimitOnUpdate() throws {
        _ = try SchemaRules.updateDefinition(project, with: ["description": .string(String(repeating: "d", count: 128))], odataVersion: nil, in: baseSchema)
        #expect(throws: GraphError.badRequest("Property 'description' must be at most 128 characters long.")) {
            try SchemaRules.updateDefinition(project, with: ["description": .string(String(repeating: "d", count: 129))], odataVersion: nil, in: baseSchema)
        }
    }

    @Test func reactivatingAtTheLimitIsRefused() throws {
        let full = bulkSchema(active: 500, deprecated: 1)
        let old = try #require(full.definition(set: "Bulk", name: "Old0"))
        #expect(old.status == .deprecated)
        #expect(throws: GraphError.badRequest(activeLimitMessage)) {
            try SchemaRules.updateDefinition(old, with: ["status": "Available"], odataVersion: nil, in: full)
        }
        // Changing something else on the deprecated definition is still fine.
        _ = try SchemaRules.updateDefinition(old, with: ["description": "kept"], odataVersion: nil, in: full)
        // An active definition at the limit may be deactivated, or "reactivated" as a no-op.
        let active = try #require(full.definition(set: "Bulk", name: "Active0"))
        #expect(try SchemaRules.updateDefinition(active, with: ["status": "Available"], odataVersion: nil, in: full) == [])
        #expect(try SchemaRules.updateDefinition(active, with: ["status": "Deprecated"], odataVersion: nil, in: full).count == 1)
    }

    @Test func reactivatingBelowTheLimitIsAccepted() throws {
        let schema = bulkSchema(active: 499, deprecated: 1)
        let old = try #require(schema.definition(set: "Bulk", name: "Old0"))
        var expected = old
        expected.status = .available
        #expect(try SchemaRules.updateDefinition(old, with: ["status": "Available"], odataVersion: nil, in: schema) == [.updateDefinition(expected)])
    }

    @Test func allowedValuesDeltaNeedsODataVersion401() {
        let body: JSONValue = ["allowedValues@delta": [["id": "Baker", "isActive": false], ["id": "Skagit", "isActive": true]]]
        for version in [nil, "4.0", "4", ""] as [String?] {
            #expect(throws: GraphError.badRequest("Property 'allowedValues@delta' requires the request header OData-Version: 4.01.")) {
                try SchemaRules.updateDefinition(project, with: body, odataVersion: version, in: baseSchema)
            }
        }
    }

    @Test func allowedValuesDeltaUpsertsWithODataVersion401() throws {
        let body: JSONValue = ["allowedValues@delta": [["id": "Baker", "isActive": false], ["id": "Skagit", "isActive": true]]]
        let changes = try SchemaRules.updateDefinition(project, with: body, odataVersion: "4.01", in: baseSchema)
        #expect(
            changes == [
                .putAllowedValue(definitionId: "Engineering_Project", AllowedValue(id: "Baker", isActive: false)),
                .putAllowedValue(definitionId: "Engineering_Project", AllowedValue(id: "Skagit", isActive: true)),
            ])
        var schema = baseSchema
        for change in changes { schema.apply(change) }
        #expect(
            schema.allowedValues(of: project) == [
                AllowedValue(id: "Alpine", isActive: true), AllowedValue(id: "Baker", isActive: false), AllowedValue(id: "Cascade", isActive: true),
                AllowedValue(id: "Skagit", isActive: true),
            ])
    }

    @Test func deltaAlongsideADescriptionChangeReturnsBoth() throws {
        var described = project
        described.description = "Projects"
        let body: JSONValue = ["description": "Projects", "allowedValues@delta": [["id": "Skagit", "isActive": "true"]]]
        #expect(
            try SchemaRules.updateDefinition(project, with: body, odataVersion: " 4.01 ", in: baseSchema) == [
                .updateDefinition(described), .putAllowedValue(definitionId: "Engineering_Project", AllowedValue(id: "Skagit", isActive: true)),
            ])
    }

    @Test func deltaIdsAreCaseSensitive() throws {
        let changes = try SchemaRules.updateDefinition(project, with: ["allowedValues@delta": [["id": "alpine", "isActive": false]]], odataVersion: "4.01", in: baseSchema)
        var schema = baseSchema
        for change in changes { schema.apply(change) }
        #expect(schema.allowedValues(of: project).map(\.id) == ["Alpine", "Baker", "Cascade", "alpine"])
        #expect(schema.allowedValues(of: project).first == AllowedValue(id: "Alpine", isActive: true))
    }

    @Test func deltaCountsAgainstTheHundredValueLimit() throws {
        let ninetyNine = (1...99).map { AllowedValue(id: "V\($0)", isActive: true) }
        let schema99 = Schema(sets: [engineering], definitions: [project], allowedValues: ["engineering_project": ninetyNine])
        _ = try SchemaRules.updateDefinition(project, with: ["allowedValues@delta": [["id": "V1", "isActive": false], ["id": "V100", "isActive": true]]], odataVersion: "4.01", in: schema99)
        #expect(throws: GraphError.badRequest("An attribute can have at most 100 predefined values.")) {
            try SchemaRules.updateDefinition(project, with: ["allowedValues@delta": [["id": "V100", "isActive": true], ["id": "V101", "isActive": true]]], odataVersion: "4.01", in: schema99)
        }
    }

    @Test func deltaIsValidated() {
        #expect(throws: GraphError.badRequest("Predefined value 'Skagit' appears more than once in 'allowedValues@delta'.")) {
            try SchemaRules.updateDefinition(
                project, with: ["allowedValues@delta": [["id": "Skagit", "isActive": true], ["id": "Skagit", "isActive": false]]], odataVersion: "4.01", in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Invalid value specified for property 'allowedValues@delta': expected an array of allowedValue.")) {
            try SchemaRules.updateDefinition(project, with: ["allowedValues@delta": ["id": "Skagit", "isActive": true]], odataVersion: "4.01", in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Property 'id' of resource 'AllowedValue' must be at most 64 characters long.")) {
            try SchemaRules.updateDefinition(
                project, with: ["allowedValues@delta": [["id": .string(String(repeating: "v", count: 65)), "isActive": true]]], odataVersion: "4.01", in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Attributes of type Boolean cannot have predefined values.")) {
            try SchemaRules.updateDefinition(onCall, with: ["allowedValues@delta": [["id": "true", "isActive": true]]], odataVersion: "4.01", in: baseSchema)
        }
    }

    @Test func wholesaleAllowedValuesAndUnknownPropertiesAreRefused() {
        #expect(throws: GraphError.badRequest("Property 'allowedValues' cannot be replaced; send 'allowedValues@delta' with header OData-Version: 4.01.")) {
            try SchemaRules.updateDefinition(project, with: ["allowedValues": [["id": "Skagit", "isActive": true]]], odataVersion: "4.01", in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Invalid property 'displayName'.")) {
            try SchemaRules.updateDefinition(project, with: ["displayName": "Project"], odataVersion: nil, in: baseSchema)
        }
    }
}

// MARK: - Allowed values

@Suite struct AllowedValueRuleTests {
    @Test func createAcceptsTheDocumentedStringBoolean() throws {
        #expect(
            try SchemaRules.createAllowedValue(["id": "Denali", "isActive": "true"], for: project, in: baseSchema)
                == .putAllowedValue(definitionId: "Engineering_Project", AllowedValue(id: "Denali", isActive: true)))
        #expect(
            try SchemaRules.createAllowedValue(["id": "New York", "isActive": false], for: project, in: baseSchema)
                == .putAllowedValue(definitionId: "Engineering_Project", AllowedValue(id: "New York", isActive: false)))
    }

    @Test func duplicateIdIsRefusedButOtherCaseIsAccepted() throws {
        #expect(throws: GraphError.badRequest("Another object with the same value for property id already exists.")) {
            try SchemaRules.createAllowedValue(["id": "Alpine", "isActive": true], for: project, in: baseSchema)
        }
        #expect(
            try SchemaRules.createAllowedValue(["id": "alpine", "isActive": true], for: project, in: baseSchema)
                == .putAllowedValue(definitionId: "Engineering_Project", AllowedValue(id: "alpine", isActive: true)))
    }

    @Test func hundredthValueAcceptedHundredAndFirstRefused() throws {
        let ninetyNine = Schema(sets: [engineering], definitions: [project], allowedValues: ["engineering_project": (1...99).map { AllowedValue(id: "V\($0)", isActive: true) }])
        var schema = ninetyNine
        schema.apply(try SchemaRules.createAllowedValue(["id": "V100", "isActive": true], for: project, in: schema))
        #expect(schema.allowedValues(of: project).count == 100)
        #expect(throws: GraphError.badRequest("An attribute can have at most 100 predefined values.")) {
            try SchemaRules.createAllowedValue(["id": "V101", "isActive": true], for: project, in: schema)
        }
    }

    @Test func id64AcceptedAnd65Refused() throws {
        _ = try SchemaRules.createAllowedValue(["id": .string(String(repeating: "é", count: 64)), "isActive": true], for: project, in: baseSchema)
        #expect(throws: GraphError.badRequest("Property 'id' of resource 'AllowedValue' must be at most 64 characters long.")) {
            try SchemaRules.createAllowedValue(["id": .string(String(repeating: "é", count: 65)), "isActive": true], for: project, in: baseSchema)
        }
    }

    @Test(arguments: ["", " Alpine", "Alpine ", " ", "Al\u{0007}pine", "Al\npine"])
    func badIdsAreRefused(_ id: String) {
        #expect(throws: GraphError.self) { try SchemaRules.createAllowedValue(["id": .string(id), "isActive": true], for: project, in: baseSchema) }
    }

    @Test func specialCharactersAreAllowedInValues() throws {
        try SchemaRules.validateAllowedValueId("Project #1: Alpine/Baker (v2.0) & co.")
        try SchemaRules.validateAllowedValueId("Ingénierie 工程")
    }

    @Test func integerDefinitionNeedsInt32Values() throws {
        _ = try SchemaRules.createAllowedValue(["id": "42", "isActive": true], for: costCenter, in: baseSchema)
        #expect(throws: GraphError.badRequest("Predefined value 'abc' is not a 32-bit integer, as the attribute's type requires.")) {
            try SchemaRules.createAllowedValue(["id": "abc", "isActive": true], for: costCenter, in: baseSchema)
        }
    }

    @Test func booleanDefinitionHasNoValues() {
        #expect(throws: GraphError.badRequest("Attributes of type Boolean cannot have predefined values.")) {
            try SchemaRules.createAllowedValue(["id": "true", "isActive": true], for: onCall, in: baseSchema)
        }
    }

    @Test func createRefusesUnknownAndMissingProperties() {
        #expect(throws: GraphError.badRequest("Invalid property 'description'.")) {
            try SchemaRules.createAllowedValue(["id": "Denali", "isActive": true, "description": "x"], for: project, in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Property 'isActive' of resource 'AllowedValue' is required.")) {
            try SchemaRules.createAllowedValue(["id": "Denali"], for: project, in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Property 'id' of resource 'AllowedValue' is required.")) {
            try SchemaRules.createAllowedValue(["isActive": true], for: project, in: baseSchema)
        }
        #expect(throws: GraphError.badRequest("Invalid value specified for property 'isActive' of resource 'AllowedValue': expected Boolean.")) {
            try SchemaRules.createAllowedValue(["id": "Denali", "isActive": "yes"], for: project, in: baseSchema)
        }
    }

    @Test func updateTogglesIsActive() throws {
        let alpine = AllowedValue(id: "Alpine", isActive: true)
        #expect(try SchemaRules.updateAllowedValue(alpine, of: project, with: ["isActive": "false"]) == .putAllowedValue(definitionId: "Engineering_Project", AllowedValue(id: "Alpine", isActive: false)))
        #expect(try SchemaRules.updateAllowedValue(alpine, of: project, with: ["isActive": false]) == .putAllowedValue(definitionId: "Engineering_Project", AllowedValue(id: "Alpine", isActive: false)))
        #expect(try SchemaRules.updateAllowedValue(alpine, of: project, with: [:]) == .putAllowedValue(definitionId: "Engineering_Project", alpine))
    }

    @Test func updateRefusesIdNullAndUnknown() {
        let alpine = AllowedValue(id: "Alpine", isActive: true)
        #expect(throws: GraphError.badRequest("Property 'id' of resource 'AllowedValue' cannot be changed.")) {
            try SchemaRules.updateAllowedValue(alpine, of: project, with: ["id": "Alps", "isActive": true])
        }
        #expect(throws: GraphError.badRequest("Property 'isActive' must be true or false.")) { try SchemaRules.updateAllowedValue(alpine, of: project, with: ["isActive": nil]) }
        #expect(throws: GraphError.badRequest("Invalid property 'active'.")) { try SchemaRules.updateAllowedValue(alpine, of: project, with: ["active": false]) }
    }
}

// MARK: - Schema snapshot and limits

@Suite struct SchemaSnapshotTests {
    @Test func lookupsAreCaseInsensitive() {
        #expect(baseSchema.set(named: "engineering") == engineering)
        #expect(baseSchema.set(named: "Finance") == nil)
        #expect(baseSchema.definition(id: "ENGINEERING_project") == project)
        #expect(baseSchema.definition(set: "engineering", name: "costcenter") == costCenter)
        #expect(baseSchema.definitions(inSet: "ENGINEERING") == [project, costCenter, onCall])
        #expect(baseSchema.definitions(inSet: "Marketing") == [])
        #expect(baseSchema.allowedValues(of: project) == projectValues)
        #expect(baseSchema.allowedValues(of: costCenter) == [])
    }

    @Test func applyUpdatesInPlace() throws {
        var schema = baseSchema
        schema.apply(.updateSet(AttributeSet(id: "Engineering", description: "new", maxAttributesPerSet: 30)))
        #expect(schema.sets.map(\.id) == ["Engineering", "Marketing"])
        #expect(schema.set(named: "Engineering")?.maxAttributesPerSet == 30)
        var deprecated = costCenter
        deprecated.status = .deprecated
        schema.apply(.updateDefinition(deprecated))
        #expect(schema.activeDefinitionCount == 2)
        #expect(schema.definitions.map(\.name) == ["Project", "CostCenter", "OnCall"])
        schema.apply(.putAllowedValue(definitionId: "engineering_project", AllowedValue(id: "Baker", isActive: false)))
        #expect(schema.allowedValues(of: project)[1] == AllowedValue(id: "Baker", isActive: false))
        #expect(schema.allowedValues(of: project).count == 3)
    }

    @Test func definitionIdsSplitOnTheOnlyUnderscore() {
        #expect(AttributeDefinition.id(set: "Engineering", name: "Project") == "Engineering_Project")
        let split = AttributeDefinition.split(id: "Engineering_Project")
        #expect(split?.set == "Engineering")
        #expect(split?.name == "Project")
        for bad in ["EngineeringProject", "_Project", "Engineering_", "A_B_C", "", "_"] {
            #expect(AttributeDefinition.split(id: bad) == nil, "\(bad)")
        }
    }

    @Test func documentedLimits() {
        #expect(Limits.nameLength == 32)
        #expect(Limits.descriptionLength == 128)
        #expect(Limits.attributeSetsPerTenant == 500)
        #expect(Limits.activeDefinitionsPerTenant == 500)
        #expect(Limits.allowedValuesPerDefinition == 100)
        #expect(Limits.allowedValueLength == 64)
        #expect(Limits.assignedValueLength == 64)
        #expect(Limits.valuesPerObject == 50)
        #expect(Limits.maxPageSize == 999)
        #expect(Limits.defaultPageSize == 100)
    }

    @Test func errorEnvelopesHaveGraphsStatusesAndCodes() {
        #expect(GraphError.invalidProperty("x") == GraphError(status: 400, code: .badRequest, message: "Invalid property 'x'."))
        #expect(GraphError.forbidden.status == 403)
        #expect(GraphError.forbidden.code.rawValue == "Authorization_RequestDenied")
        #expect(GraphError.forbidden.message == "Insufficient privileges to complete the operation.")
        #expect(GraphError.methodNotAllowed == GraphError(status: 405, code: .badRequest, message: "Specified HTTP method is not allowed for the request uri."))
        #expect(GraphError.notFound("abc").status == 404)
        #expect(GraphError.notFound("abc").code.rawValue == "Request_ResourceNotFound")
        #expect(GraphError.unsupportedQuery("q").code.rawValue == "Request_UnsupportedQuery")
        #expect(GraphError.duplicateId.description == "400 Request_BadRequest: Another object with the same value for property id already exists.")
    }
}
