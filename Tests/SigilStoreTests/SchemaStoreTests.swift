import SigilCore
import Testing

@testable import SigilStore

@Suite struct SchemaStoreTests {
    @Test(arguments: StoreKind.allCases) func seededSchemaReadsBackAsCreated(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let schema = try await store.schema()
        #expect(schema.sets == seededSets)
        #expect(schema.definitions == seededDefinitions)
        #expect(schema.allowedValues == ["engineering_region": seededRegionValues])
    }

    @Test(arguments: StoreKind.allCases) func decideReceivesTheCurrentSchema(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let expected = try await store.schema()
        try await store.changeSchema { schema in
            guard schema == expected else { throw TestFailure(reason: "decide saw \(schema)") }
            return []
        }
        #expect(try await store.schema() == expected)
    }

    @Test(arguments: StoreKind.allCases) func throwingDecideWritesNothing(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let before = try await store.schema()
        await #expect(throws: TestFailure(reason: "no")) {
            try await store.changeSchema { _ in throw TestFailure(reason: "no") }
        }
        #expect(try await store.schema() == before)
    }

    /// A change that fails part-way takes the earlier changes of the same call with it.
    @Test(arguments: StoreKind.allCases) func failingChangeRollsBackTheWholeCall(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let before = try await store.schema()
        // The definition names a set that does not exist: a foreign key violation after two good changes.
        await #expect(throws: (any Error).self) {
            try await store.changeSchema { _ in
                [
                    .createSet(AttributeSet(id: "Marketing")),
                    .putAllowedValue(definitionId: Attr.region, AllowedValue(id: "South", isActive: true)),
                    .createDefinition(
                        AttributeDefinition(
                            attributeSet: "Nowhere", name: "Thing", type: .string, isCollection: false,
                            isSearchable: false, usePreDefinedValuesOnly: false),
                        allowedValues: []),
                ]
            }
        }
        #expect(try await store.schema() == before)
        #expect(try await store.schema().set(named: "Marketing") == nil)

        // A duplicate inside one call rolls back its first half too.
        await #expect(throws: (any Error).self) {
            try await store.changeSchema { _ in
                [.createSet(AttributeSet(id: "Sales")), .createSet(AttributeSet(id: "SALES"))]
            }
        }
        #expect(try await store.schema() == before)
    }

    @Test(arguments: StoreKind.allCases) func schemaKeepsCreationOrder(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let sets = ["Zeta", "alpha", "Mid"].map { AttributeSet(id: $0) }
        func definition(_ set: String, _ name: String) -> AttributeDefinition {
            AttributeDefinition(
                attributeSet: set, name: name, type: .string, isCollection: false, isSearchable: false,
                usePreDefinedValuesOnly: true)
        }
        let definitions = [
            definition("Zeta", "B"), definition("alpha", "A"), definition("Zeta", "A"), definition("Mid", "Z"),
        ]
        try await store.changeSchema { _ in [.createSet(sets[0]), .createSet(sets[1])] }
        try await store.changeSchema { _ in
            [
                .createSet(sets[2]),
                .createDefinition(
                    definitions[0],
                    allowedValues: [AllowedValue(id: "z", isActive: true), AllowedValue(id: "a", isActive: true)]),
                .createDefinition(definitions[1], allowedValues: []),
            ]
        }
        try await store.changeSchema { _ in
            [
                .createDefinition(definitions[2], allowedValues: []),
                .createDefinition(definitions[3], allowedValues: []),
                .putAllowedValue(definitionId: "Zeta_B", AllowedValue(id: "M", isActive: false)),
                .putAllowedValue(definitionId: "Zeta_B", AllowedValue(id: "b", isActive: true)),
                // An update keeps the value where it was.
                .putAllowedValue(definitionId: "Zeta_B", AllowedValue(id: "z", isActive: false)),
            ]
        }
        let schema = try await store.schema()
        #expect(schema.sets.map(\.id) == ["Zeta", "alpha", "Mid"])
        #expect(schema.definitions.map(\.id) == ["Zeta_B", "alpha_A", "Zeta_A", "Mid_Z"])
        #expect(schema.definitions(inSet: "zeta").map(\.name) == ["B", "A"])
        #expect(
            schema.allowedValues(of: definitions[0]) == [
                AllowedValue(id: "z", isActive: false), AllowedValue(id: "a", isActive: true),
                AllowedValue(id: "M", isActive: false), AllowedValue(id: "b", isActive: true),
            ])
    }

    @Test(arguments: StoreKind.allCases) func namesAreUniqueCaseInsensitively(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let before = try await store.schema()

        // The store refuses these itself, whatever the rules above it decided.
        await #expect(throws: (any Error).self) {
            try await store.changeSchema { _ in [.createSet(AttributeSet(id: "ENGINEERING"))] }
        }
        await #expect(throws: (any Error).self) {
            try await store.changeSchema { _ in
                [
                    .createDefinition(
                        AttributeDefinition(
                            attributeSet: "engineering", name: "PROJECT", type: .integer, isCollection: false,
                            isSearchable: false, usePreDefinedValuesOnly: false),
                        allowedValues: [])
                ]
            }
        }
        #expect(try await store.schema() == before)

        // Names stay as created; updates find them in any case.
        try await store.changeSchema { _ in
            [
                .updateSet(AttributeSet(id: "ENGINEERING", description: "Changed", maxAttributesPerSet: 30)),
                .updateDefinition(
                    AttributeDefinition(
                        attributeSet: "engineering", name: "project", description: "Renamed?", type: .string,
                        isCollection: false, isSearchable: true, status: .deprecated, usePreDefinedValuesOnly: false)),
            ]
        }
        let schema = try await store.schema()
        #expect(schema.sets.count == 2)
        #expect(schema.sets[0] == AttributeSet(id: "Engineering", description: "Changed", maxAttributesPerSet: 30))
        #expect(schema.definitions.count == seededDefinitions.count)
        let project = try #require(schema.definition(id: "ENGINEERING_PROJECT"))
        #expect(project.attributeSet == "Engineering")
        #expect(project.name == "Project")
        #expect(project.description == "Renamed?")
        #expect(project.status == .deprecated)
    }

    @Test(arguments: StoreKind.allCases) func allowedValuesUpsertByCaseSensitiveId(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let region = try #require(try await store.schema().definition(id: Attr.region))

        // Same id: isActive changes in place, no second row.
        try await store.changeSchema { _ in
            [.putAllowedValue(definitionId: Attr.region, AllowedValue(id: "East", isActive: true))]
        }
        #expect(
            try await store.schema().allowedValues(of: region) == [
                AllowedValue(id: "West", isActive: true), AllowedValue(id: "East", isActive: true),
            ])

        // Another case is another value; the definition id itself matches in any case.
        try await store.changeSchema { _ in
            [
                .putAllowedValue(definitionId: "engineering_REGION", AllowedValue(id: "west", isActive: false)),
                .putAllowedValue(definitionId: Attr.region, AllowedValue(id: "WEST", isActive: true)),
                .putAllowedValue(definitionId: "ENGINEERING_region", AllowedValue(id: "West", isActive: false)),
            ]
        }
        let values = try await store.schema().allowedValues(of: region)
        #expect(
            values == [
                AllowedValue(id: "West", isActive: false), AllowedValue(id: "East", isActive: true),
                AllowedValue(id: "west", isActive: false), AllowedValue(id: "WEST", isActive: true),
            ])
        #expect(try await store.schema().allowedValues.keys.sorted() == ["engineering_region"])
    }
}
