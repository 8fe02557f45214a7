import Testing

@testable import SigilCore

/// The provisioning mapping as a value: its JSON form, validation and what it reads from a SCIM user.
@Suite struct ProvisioningMappingValueTests {
    static let acme = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
    static let schema = Schema(
        sets: [AttributeSet(id: "Engineering")],
        definitions: [
            AttributeDefinition(
                attributeSet: "Engineering", name: "CostCenter", type: .integer, isCollection: true, isSearchable: true,
                usePreDefinedValuesOnly: false),
            AttributeDefinition(
                attributeSet: "Engineering", name: "Title", type: .string, isCollection: false, isSearchable: true,
                usePreDefinedValuesOnly: false),
        ])

    @Test func theJSONFormRoundTripsAndTargetsTakeTheSchemasSpelling() throws {
        let body: JSONValue = [
            "matchingIdentifier": "userName",
            "attributeMappings": [["source": .string("\(Self.acme):costCenter"), "target": "engineering_costcenter"]],
        ]
        let mapping = try ProvisioningMapping.parse(body, schema: Self.schema)
        #expect(mapping.matchingIdentifier == .userName)
        #expect(mapping.attributeMappings == [.init(source: "\(Self.acme):costCenter", target: "Engineering_CostCenter")])
        #expect(try ProvisioningMapping(document: mapping.document) == mapping)
        #expect(try ProvisioningMapping.parse([:], schema: Self.schema) == .default)
        #expect(ProvisioningMapping.MatchingIdentifier.userName.property == "userPrincipalName")
    }

    @Test(arguments: [
        "urn:acme", "urn::x:attr", "urn:x:y:", "urn:x:y:1attr", "urn:x y:z:attr", "a.b.c", "name..given", "", "9lives",
    ])
    func malformedSourcesAreRefused(_ source: String) {
        #expect(throws: GraphError.self) {
            try ProvisioningMapping.parse(["attributeMappings": [["source": .string(source), "target": "Engineering_Title"]]], schema: nil)
        }
    }

    @Test func aSourceReadsExtensionsCoreAttributesAndPrimarySubAttributes() throws {
        let user: JSONObject = try #require(
            ([
                "userType": "Employee", "name": ["givenName": "Ada"],
                "emails": [["value": "a@x.test"], ["value": "primary@x.test", "primary": true]],
                Self.acme: ["costCenter": [1001]],
                "urn:ietf:params:scim:schemas:core:2.0:User:title": "ignored: core attributes are read at the top level",
            ] as JSONValue).objectValue)
        func read(_ source: String) throws -> JSONValue? { try SourcePath(source).value(in: user) }
        #expect(try read("\(Self.acme.uppercased()):COSTCENTER") == [1001])
        #expect(try read("userType") == "Employee")
        #expect(try read("urn:ietf:params:scim:schemas:core:2.0:User:userType") == "Employee")
        #expect(try read("name.givenName") == "Ada")
        #expect(try read("emails.value") == "primary@x.test")
        #expect(try read("nickName") == nil)
    }

    @Test func mappedValuesAreTypedByTheirTargets() throws {
        let mapping = ProvisioningMapping(attributeMappings: [
            .init(source: "\(Self.acme):costCenter", target: "Engineering_CostCenter"), .init(source: "title", target: "Engineering_Title"),
        ])
        let good = try #require(([Self.acme: ["costCenter": [7]], "title": "Engineer"] as JSONValue).objectValue)
        let values = try mapping.values(in: good, schema: Self.schema)
        #expect(values.map(\.definition.id) == ["Engineering_CostCenter", "Engineering_Title"])
        let wrong = try #require(([Self.acme: ["costCenter": "many"]] as JSONValue).objectValue)
        #expect(throws: ScimError.self) { try mapping.values(in: wrong, schema: Self.schema) }
        #expect(mapping.isSource("\(Self.acme):COSTCENTER"))
        #expect(!mapping.isSource("\(Self.acme):other"))
    }
}
