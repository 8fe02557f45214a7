import GRDB
import SigilCore
import Testing

@testable import SigilStore

@Suite struct ModifyStoreTests {
    /// Value rows of one object in the database, however the store reads them.
    static func valueRowCount(_ store: any DirectoryStore, objectId: String) async throws -> Int {
        if let store = store as? PostgresStore {
            return try await store.withSession { s in
                Int(
                    try await s.scalar(
                        """
                        SELECT count(*) FROM attribute_values v JOIN directory_objects o ON o.rowid = v.object_rowid
                        WHERE o.id = \(objectId)
                        """, Int64.self) ?? -1)
            }
        }
        guard let store = store as? SQLiteStore else { throw TestFailure(reason: "unknown store") }
        return try await store.writer.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM attribute_values v JOIN directory_objects o ON o.rowid = v.object_rowid
                    WHERE o.id = ?
                    """, arguments: [objectId]) ?? -1
        }
    }

    @Test(arguments: StoreKind.allCases) func modifyChangesPropertiesAndValuesTogether(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let alice = makeUser("Alice")
        try await store.create(alice, passwordHash: nil) { _ in
            AttributeAssignments([AssignedAttribute(definitionId: Attr.project, values: [.string("Apollo")])])
        }
        try await store.modify(.user, id: alice.id, passwordHash: nil) { state, schema in
            guard state.object == alice, state.attributes.values(of: Attr.project) == [.string("Apollo")],
                schema.definition(id: Attr.level) != nil
            else { throw TestFailure(reason: "unexpected state \(state)") }
            var next = state
            next.object.properties["displayName"] = .string("Alice Smith")
            next.object.properties["jobTitle"] = .string("Engineer")
            next.attributes.set(Attr.project, [.string("Gemini")])
            next.attributes.set(Attr.level, [.integer(7)])
            return next
        }
        let stored = try #require(try await store.object(.user, id: alice.id))
        #expect(stored.displayName == "Alice Smith")
        #expect(stored.string("jobTitle") == "Engineer")
        #expect(stored.properties.keys == ["accountEnabled", "displayName", "mailNickname", "userPrincipalName", "jobTitle"])
        #expect(
            try await store.values(of: alice.id)
                == AttributeAssignments([
                    AssignedAttribute(definitionId: Attr.project, values: [.string("Gemini")]),
                    AssignedAttribute(definitionId: Attr.level, values: [.integer(7)]),
                ]))
    }

    @Test(arguments: StoreKind.allCases) func throwingChangeWritesNeither(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let alice = makeUser("Alice")
        let values = AttributeAssignments([AssignedAttribute(definitionId: Attr.tags, values: [.string("a")])])
        try await store.create(alice, passwordHash: "old") { _ in values }

        await #expect(throws: TestFailure(reason: "refused")) {
            try await store.modify(.user, id: alice.id, passwordHash: "new") { _, _ in
                throw TestFailure(reason: "refused")
            }
        }
        // A change that fails while writing (an unknown attribute) after the properties were updated.
        await #expect(throws: GraphError.invalidProperty("engineering_unknown")) {
            try await store.modify(.user, id: alice.id, passwordHash: "new") { state, _ in
                var next = state
                next.object.properties["displayName"] = .string("Changed")
                next.object.properties["userPrincipalName"] = .string("changed@sigil.test")
                next.attributes.set(Attr.tags, [.string("a"), .string("b")])
                next.attributes.set("Engineering_Unknown", [.string("x")])
                return next
            }
        }
        #expect(try await store.object(.user, id: alice.id) == alice)
        #expect(try await store.object(.user, id: "changed@sigil.test") == nil)
        #expect(try await store.values(of: alice.id) == values)
        #expect(try await store.userCredentials(userPrincipalName: "alice@sigil.test")?.passwordHash == "old")
        #expect(try await Self.valueRowCount(store, objectId: alice.id) == 1)
    }

    @Test(arguments: StoreKind.allCases) func modifyOfAMissingObjectIsNotFound(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let missing = newId()
        await #expect(throws: GraphError.notFound(missing)) {
            try await store.modify(.user, id: missing, passwordHash: nil) { state, _ in state }
        }
        // An object of another kind is missing too.
        let application = makeApplication("App")
        try await store.create(application, passwordHash: nil)
        await #expect(throws: GraphError.notFound(application.id)) {
            try await store.modify(.servicePrincipal, id: application.id, passwordHash: nil) { state, _ in state }
        }
    }

    @Test(arguments: StoreKind.allCases) func modifyMovesTheUserPrincipalName(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let alice = makeUser("Alice")
        let bob = makeUser("Bob")
        try await store.create(alice, passwordHash: nil)
        try await store.create(bob, passwordHash: nil)

        await #expect(throws: GraphError.conflictingObject) {
            try await store.modify(.user, id: alice.id, passwordHash: nil) { state, _ in
                var next = state
                next.object.properties["userPrincipalName"] = .string("BOB@sigil.test")
                return next
            }
        }
        #expect(try await store.object(.user, id: "alice@sigil.test") == alice)

        try await store.modify(.user, id: alice.id, passwordHash: nil) { state, _ in
            var next = state
            next.object.properties["userPrincipalName"] = .string("Alice.New@Sigil.Test")
            return next
        }
        #expect(try await store.object(.user, id: "alice@sigil.test") == nil)
        #expect(try await store.object(.user, id: "alice.new@sigil.test")?.id == alice.id)
        #expect(try await store.userCredentials(userPrincipalName: "ALICE.NEW@sigil.test")?.user.id == alice.id)
        // The old name is free.
        try await store.create(makeUser("Carol", upn: "alice@sigil.test"), passwordHash: nil)
    }

    @Test(arguments: StoreKind.allCases) func passwordHashIsReplacedOnlyWhenGiven(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let alice = makeUser("Alice")
        try await store.create(alice, passwordHash: "h1")
        #expect(try await store.userCredentials(userPrincipalName: "Alice@Sigil.Test")?.passwordHash == "h1")

        try await store.modify(.user, id: alice.id, passwordHash: nil) { state, _ in
            var next = state
            next.object.properties["displayName"] = .string("Renamed")
            return next
        }
        #expect(try await store.userCredentials(userPrincipalName: "alice@sigil.test")?.passwordHash == "h1")

        // A new hash with no other change.
        try await store.modify(.user, id: alice.id, passwordHash: "h2") { state, _ in state }
        let credentials = try await store.userCredentials(userPrincipalName: "alice@sigil.test")
        #expect(credentials?.passwordHash == "h2")
        #expect(credentials?.user.displayName == "Renamed")
        #expect(try await store.userCredentials(userPrincipalName: "nobody@sigil.test") == nil)
    }

    @Test(arguments: StoreKind.allCases) func valuesRoundTripWithTypeAndOrder(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let alice = makeUser("Alice")
        let principal = makeServicePrincipal("App", appId: newId())
        try await store.create(alice, passwordHash: nil)
        try await store.create(principal, passwordHash: nil)
        let longest = String(repeating: "é", count: 63) + "!"
        // Given out of definition order; read back in definition order.
        let written = AttributeAssignments([
            AssignedAttribute(definitionId: Attr.active, values: [.boolean(true)]),
            AssignedAttribute(
                definitionId: Attr.codes,
                values: [.integer(42), .integer(Int32.min), .integer(0), .integer(Int32.max), .integer(-1), .integer(42)]),
            AssignedAttribute(definitionId: Attr.level, values: [.integer(Int32.max)]),
            AssignedAttribute(
                definitionId: Attr.tags,
                values: [.string("zeta"), .string("Alpha"), .string("alpha"), .string("ünïcødé 🚀"), .string(longest)]),
            AssignedAttribute(definitionId: Attr.project, values: [.string("Apollo")]),
        ])
        for (objectKind, id) in [(DirectoryObjectKind.user, alice.id), (.servicePrincipal, principal.id)] {
            try await store.modify(objectKind, id: id, passwordHash: nil) { state, _ in
                ObjectState(object: state.object, attributes: written)
            }
        }
        let expected = AttributeAssignments([
            AssignedAttribute(definitionId: Attr.project, values: [.string("Apollo")]),
            AssignedAttribute(
                definitionId: Attr.tags,
                values: [.string("zeta"), .string("Alpha"), .string("alpha"), .string("ünïcødé 🚀"), .string(longest)]),
            AssignedAttribute(definitionId: Attr.level, values: [.integer(Int32.max)]),
            AssignedAttribute(
                definitionId: Attr.codes,
                values: [.integer(42), .integer(Int32.min), .integer(0), .integer(Int32.max), .integer(-1), .integer(42)]),
            AssignedAttribute(definitionId: Attr.active, values: [.boolean(true)]),
        ])
        let stored = try await store.attributes(of: [alice.id, principal.id, newId()])
        #expect(stored == [alice.id: expected, principal.id: expected])

        // The state given to the next change is the same, and the other scalar extremes survive too.
        try await store.modify(.user, id: alice.id, passwordHash: nil) { state, _ in
            guard state.attributes == expected else { throw TestFailure(reason: "read \(state.attributes)") }
            var next = state
            next.attributes.set(Attr.level, [.integer(Int32.min)])
            next.attributes.set(Attr.active, [.boolean(false)])
            next.attributes.set(Attr.codes, [.integer(Int32.max), .integer(Int32.min)])
            return next
        }
        let after = try await store.values(of: alice.id)
        #expect(after.values(of: Attr.level) == [.integer(Int32.min)])
        #expect(after.values(of: Attr.active) == [.boolean(false)])
        #expect(after.values(of: Attr.codes) == [.integer(Int32.max), .integer(Int32.min)])
        #expect(after.values(of: Attr.tags) == expected.values(of: Attr.tags))
        #expect(try await store.values(of: principal.id) == expected)
    }

    @Test(arguments: StoreKind.allCases) func removingAnAttributeDeletesItsRows(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let alice = makeUser("Alice")
        try await store.create(alice, passwordHash: nil) { _ in
            AttributeAssignments([
                AssignedAttribute(definitionId: Attr.project, values: [.string("Apollo")]),
                AssignedAttribute(definitionId: Attr.tags, values: [.string("a"), .string("b"), .string("c")]),
                AssignedAttribute(definitionId: Attr.cost, values: [.string("CC")]),
            ])
        }
        #expect(try await Self.valueRowCount(store, objectId: alice.id) == 5)

        func change(_ body: @escaping @Sendable (inout AttributeAssignments) -> Void) async throws {
            try await store.modify(.user, id: alice.id, passwordHash: nil) { state, _ in
                var next = state
                body(&next.attributes)
                return next
            }
        }

        // A shorter collection leaves no stale values behind.
        try await change { $0.set(Attr.tags, [.string("c")]) }
        #expect(try await store.values(of: alice.id).values(of: Attr.tags) == [.string("c")])
        #expect(try await Self.valueRowCount(store, objectId: alice.id) == 3)

        try await change { $0.set(Attr.tags, []) }
        #expect(
            try await store.values(of: alice.id)
                == AttributeAssignments([
                    AssignedAttribute(definitionId: Attr.project, values: [.string("Apollo")]),
                    AssignedAttribute(definitionId: Attr.cost, values: [.string("CC")]),
                ]))
        #expect(try await Self.valueRowCount(store, objectId: alice.id) == 2)

        // Named in another case.
        try await change { $0.set("engineering_project", []) }
        try await change { $0.set("FINANCE_COSTCENTER", []) }
        #expect(try await store.attributes(of: [alice.id]).isEmpty)
        #expect(try await Self.valueRowCount(store, objectId: alice.id) == 0)
        #expect(try await store.object(.user, id: alice.id) == alice)
    }

    /// Read-modify-write inside `modify` loses no update however the writers interleave. The
    /// 50-values rule is AssignmentRules', so the store takes all 400 values.
    @Test(arguments: StoreKind.allCases) func concurrentModifiesLoseNoUpdate(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let alice = makeUser("Alice")
        try await store.create(alice, passwordHash: nil)
        let tasks = 8
        let perTask = 50

        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for i in 0..<perTask {
                        try await store.modify(.user, id: alice.id, passwordHash: nil) { state, _ in
                            var next = state
                            next.attributes.set(
                                Attr.tags, state.attributes.values(of: Attr.tags) + [.string("task\(task)-value\(i)")])
                            return next
                        }
                    }
                }
            }
            try await group.waitForAll()
        }

        let values = try await store.values(of: alice.id).values(of: Attr.tags).compactMap(\.stringValue)
        #expect(values.count == tasks * perTask)
        let expected = Set((0..<tasks).flatMap { task in (0..<perTask).map { "task\(task)-value\($0)" } })
        #expect(Set(values) == expected)
        // Each task's values appear in the order it appended them.
        for task in 0..<tasks {
            #expect(values.filter { $0.hasPrefix("task\(task)-") } == (0..<perTask).map { "task\(task)-value\($0)" })
        }
        #expect(try await Self.valueRowCount(store, objectId: alice.id) == tasks * perTask)
    }

    /// Of concurrent creates with one userPrincipalName exactly one wins.
    @Test(arguments: StoreKind.allCases) func concurrentCreatesOfOneNameConflict(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let outcomes = await withTaskGroup(of: Result<String, GraphError>.self) { group in
            for i in 0..<8 {
                group.addTask {
                    let user = makeUser("Racer\(i)", upn: "racer@sigil.test")
                    do {
                        try await store.create(user, passwordHash: nil)
                        return .success(user.id)
                    } catch let error as GraphError {
                        return .failure(error)
                    } catch {
                        return .failure(.internalError)
                    }
                }
            }
            var all: [Result<String, GraphError>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let winners = outcomes.compactMap { try? $0.get() }
        let failures = outcomes.compactMap { outcome -> GraphError? in
            if case .failure(let error) = outcome { return error }
            return nil
        }
        #expect(winners.count == 1)
        #expect(failures == Array(repeating: GraphError.conflictingObject, count: 7))
        let stored = try await store.object(.user, id: "racer@sigil.test")
        #expect(stored?.id == winners.first)
        #expect(try await store.count(.user) == 1)
    }

    /// The writer keeps the schema it last read between writes; a schema change must reach the
    /// very next write, on every store.
    @Test(arguments: StoreKind.allCases) func theNextWriteSeesASchemaChange(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let alice = makeUser("Alice")
        try await store.create(alice, passwordHash: nil)
        let site = "Engineering_Site"
        try await store.modify(.user, id: alice.id, passwordHash: nil) { state, schema in
            guard schema.definition(id: site) == nil else { throw TestFailure(reason: "Site exists before it is created") }
            var next = state
            next.attributes.set(Attr.level, [.integer(1)])
            return next
        }
        try await store.changeSchema { _ in
            [
                .createDefinition(
                    AttributeDefinition(
                        attributeSet: "Engineering", name: "Site", type: .string, isCollection: false, isSearchable: true,
                        usePreDefinedValuesOnly: false),
                    allowedValues: [])
            ]
        }
        try await store.modify(.user, id: alice.id, passwordHash: nil) { state, schema in
            guard schema.definition(id: site) != nil else { throw TestFailure(reason: "the write saw the schema before the change") }
            var next = state
            next.attributes.set(site, [.string("Oslo")])
            return next
        }
        #expect(try await store.values(of: alice.id).values(of: site) == [.string("Oslo")])
    }

    /// Point reads decode values with the definitions they remember from committed reads: one
    /// created since is read when first met, and one seen only inside a batch whose transaction
    /// rolled back (its number then taken by another definition) is never remembered.
    @Test(arguments: StoreKind.allCases.filter { $0 != .postgres })
    func pointReadsMeetNewDefinitionsAndForgetRolledBackOnes(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let alice = try await Self.aliceAtLevel3(store)
        #expect(try await store.objectState(.user, id: alice.id)?.attributes.values(of: Attr.level) == [.integer(3)])
        @Sendable func define(_ name: String, _ type: AttributeType) -> SchemaChange {
            .createDefinition(
                AttributeDefinition(
                    attributeSet: "Engineering", name: name, type: type, isCollection: false, isSearchable: true,
                    usePreDefinedValuesOnly: false),
                allowedValues: [])
        }
        @Sendable func assign(_ id: String, _ value: AttributeValue) async throws {
            try await store.modify(.user, id: alice.id, passwordHash: nil) { state, _ in
                var next = state
                next.attributes.set(id, [value])
                return next
            }
        }
        struct Abandoned: Error {}
        await #expect(throws: Abandoned.self) {
            try await store.sharingWrites { batch in
                try await batch.unit(0) {
                    let site = define("Site", .string)
                    try await store.changeSchema { _ in [site] }
                    try await assign("Engineering_Site", .string("Oslo"))
                    let inside = try await store.objectState(.user, id: alice.id)
                    #expect(inside?.attributes.values(of: "Engineering_Site") == [.string("Oslo")])
                }
                throw Abandoned()
            }
        }
        // The rolled-back definition's number goes to an Integer definition of another name.
        let floor = define("Floor", .integer)
        try await store.changeSchema { _ in [floor] }
        try await assign("Engineering_Floor", .integer(7))
        let state = try await store.objectState(.user, id: alice.id)
        #expect(state?.attributes.values(of: "Engineering_Floor") == [.integer(7)])
        #expect(state?.attributes.values(of: "Engineering_Site").isEmpty == true)
        #expect(state?.attributes.values(of: Attr.level) == [.integer(3)])
    }

    /// Alice, created holding Level 3.
    static func aliceAtLevel3(_ store: any DirectoryStore) async throws -> DirectoryObject {
        let alice = makeUser("Alice")
        try await store.create(alice, passwordHash: nil) { _ in
            var values = AttributeAssignments()
            values.set(Attr.level, [.integer(3)])
            return values
        }
        return alice
    }

    /// Writes that read objects only on the writer keep the committed definitions too, read from
    /// a read-only connection: never one that exists only in the writer's open transaction.
    @Test func writesOnTheWriterKeepOnlyCommittedDefinitions() async throws {
        let fixture = try await StoreFixture(.file)
        defer { fixture.remove() }
        guard let store = fixture.store as? SQLiteStore else { throw TestFailure(reason: "not a SQLite store") }
        try await seedSchema(store)
        let alice = try await Self.aliceAtLevel3(store)
        @Sendable func assign(_ id: String, _ value: AttributeValue) async throws {
            try await store.modify(.user, id: alice.id, passwordHash: nil) { state, _ in
                var next = state
                next.attributes.set(id, [value])
                return next
            }
        }
        store.committedDefinitions.withLock { $0 = KeptDefinitions() }
        try await assign(Attr.level, .integer(4))
        #expect(store.committedDefinitions.withLock { $0.bySeq.values.contains { $0.id == Attr.level } })

        struct Abandoned: Error {}
        await #expect(throws: Abandoned.self) {
            try await store.sharingWrites { batch in
                try await batch.unit(0) {
                    let site = SchemaChange.createDefinition(
                        AttributeDefinition(
                            attributeSet: "Engineering", name: "Site", type: .string, isCollection: false, isSearchable: true,
                            usePreDefinedValuesOnly: false),
                        allowedValues: [])
                    try await store.changeSchema { _ in [site] }
                    try await assign("Engineering_Site", .string("Oslo"))
                    store.committedDefinitions.withLock { $0 = KeptDefinitions() }
                    // Decoding Alice's Site value on the writer reads the definitions again.
                    try await assign(Attr.level, .integer(5))
                    #expect(store.committedDefinitions.withLock { $0.bySeq.values.contains { $0.id == Attr.level } })
                    #expect(!store.committedDefinitions.withLock { $0.bySeq.values.contains { $0.id == "Engineering_Site" } })
                }
                throw Abandoned()
            }
        }
    }

    /// Point reads take a reader of their own without waiting; many more at once than there are
    /// readers all answer, and each sees the last committed write.
    @Test(arguments: StoreKind.allCases) func manyConcurrentPointReadsSeeTheLastCommit(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let alice = makeUser("Alice")
        try await store.create(alice, passwordHash: nil)
        for round in 1...3 {
            try await store.modify(.user, id: alice.id, passwordHash: nil) { state, _ in
                var next = state
                next.attributes.set(Attr.level, [.integer(Int32(round))])
                return next
            }
            let seen = try await withThrowingTaskGroup(of: [AttributeValue].self) { group in
                for _ in 0..<64 {
                    group.addTask { try await store.objectState(.user, id: alice.id)?.attributes.values(of: Attr.level) ?? [] }
                }
                return try await group.reduce(into: [[AttributeValue]]()) { $0.append($1) }
            }
            #expect(seen.count == 64)
            #expect(seen.allSatisfy { $0 == [.integer(Int32(round))] })
        }
    }
}
