import Testing

@testable import SigilCore

/// The domain rules of docs/api.md and docs/security.md, each with an accepting and a refusing case.
@Suite struct CoreRulesTests {
    static func set(_ id: String, max: Int64? = nil) -> JSONValue {
        var body: JSONObject = JSONObject([("id", .string(id))])
        if let max { body["maxAttributesPerSet"] = .integer(max) }
        return .object(body)
    }

    static func definition(
        _ name: String, set: String = "Engineering", type: String = "String", collection: Bool = false,
        predefined: Bool = false, status: String = "Available"
    ) -> JSONValue {
        [
            "attributeSet": .string(set), "name": .string(name), "type": .string(type), "isCollection": .bool(collection),
            "isSearchable": true, "status": .string(status), "usePreDefinedValuesOnly": .bool(predefined),
        ]
    }

    static func schema(_ bodies: [JSONValue]) throws -> Schema {
        var schema = Schema()
        for body in bodies {
            schema.apply(
                body.objectValue?["attributeSet"] == nil
                    ? try SchemaRules.createSet(body, in: schema) : try SchemaRules.createDefinition(body, in: schema))
        }
        return schema
    }

    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as GraphError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    // MARK: Names

    @Test(arguments: ["Engineering", "A", String(repeating: "a", count: 32), "Ingénierie", "Sales2"])
    func validNamesAreAccepted(name: String) throws {
        try SchemaRules.validateName(name, property: "id")
    }

    @Test(arguments: [
        String(repeating: "a", count: 33), "", "2Fast", "Has space", "Under_score", "Hyp-hen", "Dot.ted", "Sl/ash", "At@",
        "Quote'", "Tab\t",
    ])
    func invalidNamesAreRefused(name: String) {
        #expect(throws: GraphError.self) { try SchemaRules.validateName(name, property: "id") }
    }

    // MARK: Sets

    @Test func setsAreUniqueCaseInsensitivelyAndKeepTheirCasing() throws {
        let schema = try Self.schema([Self.set("Engineering")])
        #expect(schema.set(named: "ENGINEERING")?.id == "Engineering")
        #expect(
            message { _ = try SchemaRules.createSet(Self.set("engineering"), in: schema) }
                == "Another object with the same value for property id already exists.")
    }

    @Test func descriptionsAreLimitedTo128Characters() throws {
        let ok: JSONValue = ["id": "A", "description": .string(String(repeating: "d", count: 128))]
        let long: JSONValue = ["id": "A", "description": .string(String(repeating: "d", count: 129))]
        _ = try SchemaRules.createSet(ok, in: Schema())
        #expect(message { _ = try SchemaRules.createSet(long, in: Schema()) }?.contains("description") == true)
    }

    @Test func fiveHundredSetsAtMost() throws {
        var schema = Schema()
        for i in 0..<Limits.attributeSetsPerTenant { schema.apply(try SchemaRules.createSet(Self.set("S\(i)"), in: schema)) }
        #expect(throws: GraphError.self) { _ = try SchemaRules.createSet(Self.set("OneMore"), in: schema) }
    }

    @Test func unknownPropertiesAreRefusedByName() {
        #expect(message { _ = try SchemaRules.createSet(["id": "A", "colour": "red"], in: Schema()) } == "Invalid property 'colour'.")
        // OData annotations are not properties.
        #expect(message { _ = try SchemaRules.createSet(["id": "A", "@odata.type": "#microsoft.graph.attributeSet"], in: Schema()) } == nil)
    }

    @Test func maxAttributesPerSetCapsDefinitions() throws {
        let schema = try Self.schema([Self.set("Engineering", max: 2), Self.definition("A"), Self.definition("B")])
        #expect(message { _ = try SchemaRules.createDefinition(Self.definition("C"), in: schema) }?.contains("maxAttributesPerSet") == true)
    }

    // MARK: Definitions

    @Test func definitionIdIsSetAndNameAndCannotBeSent() throws {
        let schema = try Self.schema([Self.set("Engineering")])
        guard case .createDefinition(let d, _) = try SchemaRules.createDefinition(Self.definition("ProjectDate"), in: schema) else {
            Issue.record("not a definition")
            return
        }
        #expect(d.id == "Engineering_ProjectDate")
        var withId = Self.definition("X").objectValue ?? JSONObject()
        withId["id"] = "Engineering_X"
        #expect(throws: GraphError.self) { _ = try SchemaRules.createDefinition(.object(withId), in: schema) }
    }

    @Test func booleanCannotBeCollectionOrPredefined() throws {
        let schema = try Self.schema([Self.set("Engineering")])
        #expect(throws: GraphError.self) {
            _ = try SchemaRules.createDefinition(Self.definition("B", type: "Boolean", collection: true), in: schema)
        }
        #expect(throws: GraphError.self) {
            _ = try SchemaRules.createDefinition(Self.definition("B", type: "Boolean", predefined: true), in: schema)
        }
        _ = try SchemaRules.createDefinition(Self.definition("B", type: "Boolean"), in: schema)
    }

    @Test func fiveHundredActiveDefinitionsAtMostDeprecatedOnesDoNotCount() throws {
        var schema = try Self.schema((0..<2).map { Self.set("S\($0)") })
        for i in 0..<Limits.activeDefinitionsPerTenant {
            schema.apply(try SchemaRules.createDefinition(Self.definition("A\(i)", set: "S\(i % 2)"), in: schema))
        }
        #expect(throws: GraphError.self) { _ = try SchemaRules.createDefinition(Self.definition("Extra", set: "S0"), in: schema) }
        let deprecated = try SchemaRules.createDefinition(Self.definition("Old", set: "S0", status: "Deprecated"), in: schema)
        schema.apply(deprecated)
        // Reactivating it would make 501.
        guard let old = schema.definition(id: "S0_Old") else { throw GraphError.notFound("S0_Old") }
        #expect(throws: GraphError.self) {
            _ = try SchemaRules.updateDefinition(old, with: ["status": "Available"], odataVersion: nil, in: schema)
        }
    }

    @Test(arguments: ["type", "isCollection", "isSearchable", "name", "attributeSet"])
    func frozenDefinitionPropertiesCannotChange(property: String) throws {
        let schema = try Self.schema([Self.set("Engineering"), Self.definition("P")])
        guard let definition = schema.definition(id: "Engineering_P") else { throw GraphError.notFound("P") }
        let body = JSONValue.object(JSONObject([(property, "x")]))
        #expect(throws: GraphError.self) { _ = try SchemaRules.updateDefinition(definition, with: body, odataVersion: nil, in: schema) }
    }

    @Test func usePreDefinedValuesOnlyMayOnlyGoFromTrueToFalse() throws {
        let schema = try Self.schema([
            Self.set("Engineering"), Self.definition("Closed", predefined: true), Self.definition("Open"),
        ])
        guard let closed = schema.definition(id: "Engineering_Closed"), let open = schema.definition(id: "Engineering_Open") else {
            throw GraphError.notFound("definitions")
        }
        let changes = try SchemaRules.updateDefinition(closed, with: ["usePreDefinedValuesOnly": false], odataVersion: nil, in: schema)
        #expect(changes.count == 1)
        #expect(throws: GraphError.self) {
            _ = try SchemaRules.updateDefinition(open, with: ["usePreDefinedValuesOnly": true], odataVersion: nil, in: schema)
        }
    }

    @Test func allowedValuesDeltaNeedsODataVersionAndUpserts() throws {
        var schema = try Self.schema([Self.set("Engineering")])
        var body = Self.definition("Project", collection: true, predefined: true).objectValue ?? JSONObject()
        body["allowedValues"] = [["id": "Alpine", "isActive": true], ["id": "Baker", "isActive": true]]
        schema.apply(try SchemaRules.createDefinition(.object(body), in: schema))
        guard let project = schema.definition(id: "Engineering_Project") else { throw GraphError.notFound("Project") }
        let delta: JSONValue = ["allowedValues@delta": [["id": "Baker", "isActive": false], ["id": "Skagit", "isActive": true]]]
        #expect(
            message { _ = try SchemaRules.updateDefinition(project, with: delta, odataVersion: nil, in: schema) }?.contains(
                "OData-Version: 4.01") == true)
        for change in try SchemaRules.updateDefinition(project, with: delta, odataVersion: "4.01", in: schema) {
            schema.apply(change)
        }
        #expect(
            schema.allowedValues(of: project) == [
                AllowedValue(id: "Alpine", isActive: true), AllowedValue(id: "Baker", isActive: false),
                AllowedValue(id: "Skagit", isActive: true),
            ])
    }

    @Test func allowedValuesAreCaseSensitiveLimitedAndStringBooleansAccepted() throws {
        var schema = try Self.schema([Self.set("Engineering"), Self.definition("P", predefined: true)])
        guard let p = schema.definition(id: "Engineering_P") else { throw GraphError.notFound("P") }
        schema.apply(try SchemaRules.createAllowedValue(["id": "Baker", "isActive": "true"], for: p, in: schema))
        schema.apply(try SchemaRules.createAllowedValue(["id": "baker", "isActive": true], for: p, in: schema))
        #expect(throws: GraphError.self) { _ = try SchemaRules.createAllowedValue(["id": "Baker", "isActive": true], for: p, in: schema) }
        #expect(throws: GraphError.self) {
            _ = try SchemaRules.createAllowedValue(["id": .string(String(repeating: "v", count: 65)), "isActive": true], for: p, in: schema)
        }
        for i in 2..<Limits.allowedValuesPerDefinition {
            schema.apply(try SchemaRules.createAllowedValue(["id": .string("V\(i)"), "isActive": true], for: p, in: schema))
        }
        #expect(schema.allowedValues(of: p).count == 100)
        #expect(throws: GraphError.self) { _ = try SchemaRules.createAllowedValue(["id": "V101", "isActive": true], for: p, in: schema) }
    }

    // MARK: Access policy

    static let engineeringAdmin = Caller(
        principalId: "a", kind: .servicePrincipal, grants: [RoleGrant(role: .attributeDefinitionAdministrator, scope: .attributeSet("Engineering"))])

    @Test func setScopedGrantsReachOnlyTheirSet() {
        let caller = Self.engineeringAdmin
        #expect(AccessPolicy.allows(caller, .manageDefinitions, inSet: "engineering"))
        #expect(!AccessPolicy.allows(caller, .manageDefinitions, inSet: "Marketing"))
        #expect(!AccessPolicy.allows(caller, .manageAttributeSets, inSet: "Engineering"))
        #expect(!AccessPolicy.allows(caller, .manageAttributeSets))
    }

    @Test func globalAdministratorHasNoAttributeAccess() {
        let admin = Caller(principalId: "g", kind: .member, grants: [RoleGrant(role: .globalAdministrator, scope: .tenant)])
        for capability in [Capability.readAttributeSets, .readDefinitions, .manageDefinitions, .readAssignments, .manageAssignments, .readAuditLogs] {
            #expect(!AccessPolicy.allows(admin, capability, inSet: "Engineering"))
        }
        #expect(AccessPolicy.allows(admin, .manageUsers))
    }

    @Test func guestsGetNoAttributeAccessWhateverTheirRoles() {
        let guest = Caller(principalId: "x", kind: .guest, grants: [RoleGrant(role: .attributeAssignmentAdministrator, scope: .tenant)])
        #expect(!AccessPolicy.allows(guest, .readAssignments, inSet: "Engineering"))
        #expect(!AccessPolicy.allowsAnywhere(guest, .readAssignments))
    }

    @Test func roleScopesParse() {
        #expect(RoleScope(directoryScopeId: "/") == .tenant)
        #expect(RoleScope(directoryScopeId: "/attributeSets/Engineering") == .attributeSet("Engineering"))
        #expect(RoleScope(directoryScopeId: "/administrativeUnits/x") == nil)
        #expect(RoleScope(directoryScopeId: "/attributeSets/") == nil)
        #expect(DirectoryRole.attributeLogReader.allowsAttributeSetScope)
        #expect(DirectoryRole.attributeAssignmentReader.allowsAttributeSetScope)
        #expect(DirectoryRole.globalAdministrator.allowsAttributeSetScope == false)
    }

    // MARK: Filters

    @Test func filterParserBuildsTheTree() throws {
        #expect(
            try FilterParser.parse("customSecurityAttributes/Marketing/AppCountry eq 'O''Brien'")
                == .comparison(path: ["customSecurityAttributes", "Marketing", "AppCountry"], op: .eq, value: .string("O'Brien")))
        #expect(
            try FilterParser.parse("not(a eq 1) and (b ne true or startsWith(c,'x'))")
                == .and(
                    .not(.comparison(path: ["a"], op: .eq, value: .integer(1))),
                    .or(.comparison(path: ["b"], op: .ne, value: .boolean(true)), .startsWith(path: ["c"], prefix: .string("x")))))
        for bad in ["a eq", "eq 1", "a eq 'x", "(a eq 1", "a eq 1 b", "endsWith(a,'x')", "a eq 1.5"] {
            #expect(throws: GraphError.self) { _ = try FilterParser.parse(bad) }
        }
    }

    @Test func filterErrorsPointAtTheOffendingPosition() {
        #expect(message { _ = try FilterParser.parse("displayName eq") } == "Invalid filter clause: expected a value at the end at position 15.")
        #expect(message { _ = try FilterParser.parse("a eq 1 b") } == "Invalid filter clause: unexpected 'b' at position 8.")
        #expect(message { _ = try FilterParser.parse("a ~ 1") } == "Invalid filter clause: unexpected character '~' at position 3.")
        #expect(message { _ = try FilterParser.parse("a eq 'x") } == "Invalid filter clause: unterminated string literal starting at position 6.")
    }

    @Test func documentedDefinitionFiltersMatch() throws {
        let project = AttributeDefinition(
            attributeSet: "Engineering", name: "Project", type: .string, isCollection: true, isSearchable: true,
            usePreDefinedValuesOnly: true)
        #expect(try project.matches(FilterParser.parse("name eq 'Project' and status eq 'Available'")))
        #expect(try project.matches(FilterParser.parse("attributeSet eq 'Engineering' and status eq 'Available' and type eq 'String'")))
        #expect(try !project.matches(FilterParser.parse("type eq 'Integer'")))
    }

    @Test func queryOptionsBoundsAndSpellings() throws {
        #expect(try QueryOptions.parse([("$TOP", "999")]).top == 999)
        #expect(try QueryOptions.parse([("top", "5"), ("select", "id, displayName")]).select == ["id", "displayName"])
        for bad in [("$top", "0"), ("$top", "1000"), ("$count", "yes"), ("$bogus", "1")] {
            #expect(throws: GraphError.self) { _ = try QueryOptions.parse([bad]) }
        }
        #expect(throws: GraphError.self) { _ = try QueryOptions.parse([("$top", "1"), ("top", "2")]) }
    }

    @Test func attributeFiltersNeedAdvancedQueryAndReadAccess() throws {
        let schema = try Self.schema([Self.set("Marketing"), Self.definition("AppCountry", set: "Marketing", collection: true)])
        let reader = Caller(principalId: "r", kind: .servicePrincipal, grants: [RoleGrant(role: .attributeAssignmentReader, scope: .tenant)])
        let filter = try FilterParser.parse("customSecurityAttributes/Marketing/AppCountry ne 'Canada'")
        let plain = DirectoryQuery(kind: .user, schema: schema, caller: reader, isAdvanced: false)
        #expect(
            message { _ = try plain.compile(filter) }
                == "Unsupported or invalid query filter clause specified for property 'Marketing_AppCountry' of resource 'CustomSecurityAttributeValue'.")
        let advanced = DirectoryQuery(kind: .user, schema: schema, caller: reader, isAdvanced: true)
        guard case .not(.attribute(_, .equals(.string("Canada")))) = try advanced.compile(filter) else {
            Issue.record("ne must compile to not(eq)")
            return
        }
        let outsider = DirectoryQuery(kind: .user, schema: schema, caller: Self.engineeringAdmin, isAdvanced: true)
        #expect(message { _ = try outsider.compile(filter) } == "Insufficient privileges to complete the operation.")
        #expect(throws: GraphError.self) {
            _ = try advanced.compile(try FilterParser.parse("customSecurityAttributes/Marketing/AppCountry gt 'A'"))
        }
    }

    // MARK: JSON

    @Test func jsonKeepsOrderAndNumberKinds() throws {
        let text = #"{"b":1,"a":[true,null,-2.5,"x\u00e9\n"],"c":{"z":9007199254740993}}"#
        let value = try JSON.parse(text)
        #expect(value.objectValue?.keys == ["b", "a", "c"])
        #expect(value.objectValue?["c"]?.objectValue?["z"] == .integer(9_007_199_254_740_993))
        #expect(try JSON.parse(value.serializedString) == value)
        for bad in [#"{"a":1,"a":2}"#, "[1,]", "{} x", "\"\\ud800\"", String(repeating: "[", count: 100) + String(repeating: "]", count: 100)] {
            #expect(throws: JSONParseError.self) { _ = try JSON.parse(bad) }
        }
    }

    // MARK: Rendering a page

    /// One renderer serves a page: each object as `render` writes it alone, the caller's own
    /// object null (whatever its id's case), a set the caller cannot read left out of every object.
    @Test func aPageRendererWritesEachObjectAsRenderDoes() throws {
        let schema = try Self.schema([
            Self.set("Engineering"), Self.set("Marketing"), Self.definition("Project"),
            Self.definition("Tags", collection: true), Self.definition("AppCountry", set: "Marketing"),
        ])
        let reader = Caller(
            principalId: "R", kind: .servicePrincipal,
            grants: [RoleGrant(role: .attributeAssignmentReader, scope: .attributeSet("Engineering"))])
        let values = AttributeAssignments([
            AssignedAttribute(definitionId: "Engineering_Project", values: [.string("Baker")]),
            AssignedAttribute(definitionId: "Marketing_AppCountry", values: [.string("Chile")]),
            AssignedAttribute(definitionId: "Engineering_Tags", values: [.string("a"), .string("b")]),
        ])
        let engineering = JSONObject([
            ("@odata.type", "#microsoft.graph.customSecurityAttributeValue"), ("Project", "Baker"),
            ("Tags@odata.type", "#Collection(String)"), ("Tags", ["a", "b"]),
        ])
        var renderer = AttributeRenderer(schema: schema, caller: reader)
        for id in ["u1", "r", "u2", "R"] {
            let rendered = renderer.render(values, objectId: id)
            #expect(rendered == AssignmentRules.render(values, objectId: id, schema: schema, caller: reader))
            #expect(rendered == (id.lowercased() == "r" ? .null : .object(JSONObject([("Engineering", .object(engineering))]))))
        }
        #expect(renderer.render(AttributeAssignments(), objectId: "u3") == .null)
    }

    /// The bytes a page is written with: sets in order of their first value (whichever way
    /// their values interleave), each annotated and holding its attributes in the values' order, `Int32` and `Boolean` values as JSON numbers
    /// and literals (a collection's type named before it), strings escaped.
    @Test func aRendererWritesSetsAndTypedValuesAsCompactJSON() throws {
        let schema = try Self.schema([
            Self.set("Engineering"), Self.set("Marketing"), Self.definition("Vendors", type: "Integer"),
            Self.definition("Certified", type: "Boolean"), Self.definition("Levels", type: "Integer", collection: true),
            Self.definition("Motto", set: "Marketing"), Self.definition("Region", set: "Marketing"),
        ])
        let reader = Caller(
            principalId: "R", kind: .servicePrincipal, grants: [RoleGrant(role: .attributeAssignmentReader, scope: .tenant)])
        let values = AttributeAssignments([
            AssignedAttribute(definitionId: "Marketing_Motto", values: [.string("say \"hi\"\n")]),
            AssignedAttribute(definitionId: "Engineering_Vendors", values: [.integer(-4)]),
            AssignedAttribute(definitionId: "Marketing_Region", values: [.string("EMEA")]),
            AssignedAttribute(definitionId: "Engineering_Certified", values: [.boolean(false)]),
            AssignedAttribute(definitionId: "Engineering_Levels", values: [.integer(1), .integer(2)]),
        ])
        var renderer = AttributeRenderer(schema: schema, caller: reader)
        var out: [UInt8] = []
        renderer.write(values, objectId: "u1", into: &out)
        let type = "\"@odata.type\":\"#microsoft.graph.customSecurityAttributeValue\""
        #expect(
            String(decoding: out, as: UTF8.self)
                == "{\"Marketing\":{\(type),\"Motto\":\"say \\\"hi\\\"\\n\",\"Region\":\"EMEA\"},\"Engineering\":{\(type),\"Vendors\":-4,"
                + "\"Certified\":false,\"Levels@odata.type\":\"#Collection(Int32)\",\"Levels\":[1,2]}}")
        out = []
        renderer.write(values, objectId: "r", into: &out)
        #expect(out == Array("null".utf8))
    }

    /// Inside a set, `Name@odata.type` is an annotation of the attribute `Name` sent beside it;
    /// any other key holding `@` (another annotation, an annotation of nothing, `@` in a name)
    /// is refused naming the key, and changes nothing.
    @Test func keysHoldingAnAtSignAreAnnotationsOfAnAttributeBesideThemOrRefused() throws {
        let schema = try Self.schema([Self.set("Engineering"), Self.definition("Project"), Self.definition("Tags", collection: true)])
        let admin = Caller(
            principalId: "A", kind: .servicePrincipal, grants: [RoleGrant(role: .attributeAssignmentAdministrator, scope: .tenant)])
        func merge(_ engineering: JSONObject) throws(GraphError) -> AttributeAssignments {
            try AssignmentRules.merge(
                .object(JSONObject([("Engineering", .object(engineering))])), into: AttributeAssignments(), of: "u1", schema: schema,
                caller: admin)
        }
        let merged = try merge(
            JSONObject([
                ("@odata.type", "#microsoft.graph.customSecurityAttributeValue"), ("Tags@odata.type", "#Collection(String)"),
                ("Tags", ["a", "b"]), ("Project", "Baker"),
            ]))
        #expect(merged.values(of: "Engineering_Tags") == [.string("a"), .string("b")])
        for key in ["Project@odata.typeX", "Ghost@odata.type", "Pro@ject", "@odata.context", "Project@odata.type@odata.type"] {
            #expect(throws: GraphError.invalidProperty(key)) {
                _ = try merge(
                    JSONObject([("@odata.type", "#microsoft.graph.customSecurityAttributeValue"), (key, "#String"), ("Project", "Baker")]))
            }
        }
    }
}
