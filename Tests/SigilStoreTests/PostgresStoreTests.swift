import Foundation
import PostgresNIO
import SigilCore
import Testing

@testable import SigilStore

/// What only the PostgreSQL store has: migrations shared by instances, several stores on one
/// database, and query plans. Runs in scripts/test's PostgreSQL pass.
@Suite(.enabled(if: StoreKind.postgresURL != nil, "needs SIGIL_TEST_DATABASE_URL (scripts/test's PostgreSQL pass)"))
struct PostgresStoreTests {
    static func schemaName() -> String { "t_" + newId().replacingOccurrences(of: "-", with: "") }

    static func appliedMigrations(_ store: PostgresStore) async throws -> [String] {
        try await store.withSession { s in
            var ids: [String] = []
            for try await id in try await s.query("SELECT id FROM sigil_migrations ORDER BY id").decode(String.self) {
                ids.append(id)
            }
            return ids
        }
    }

    @Test func instancesStartingTogetherMigrateOnce() async throws {
        let schema = Self.schemaName()
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<4 { group.addTask { try await freshPostgresStore(schema: schema) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        for store in stores {
            #expect(try await Self.appliedMigrations(store) == PostgresMigrations.steps.map(\.id).sorted())
        }
        // They share one database: what one writes, the others read.
        try await seedSchema(stores[0])
        let user = makeUser("Shared")
        try await stores[1].create(user, passwordHash: "hash")
        #expect(try await stores[2].schema().definitions.count == seededDefinitions.count)
        #expect(try await stores[3].object(.user, id: user.id) == user)
        #expect(try await stores[3].userCredentials(userPrincipalName: "shared@sigil.test")?.passwordHash == "hash")
    }

    /// Three instances writing at once on one database extend one audit chain: the head row's
    /// lock orders them, so no two records claim the same place.
    @Test func instancesWritingTogetherKeepOneAuditChain() async throws {
        let schema = Self.schemaName()
        let stores = [
            try await freshPostgresStore(schema: schema), try await freshPostgresStore(schema: schema),
            try await freshPostgresStore(schema: schema),
        ]
        try await seedSchema(stores[0])
        let users = (0..<9).map { makeUser("Writer\($0)") }
        for user in users { try await stores[0].create(user, passwordHash: nil) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, user) in users.enumerated() {
                group.addTask {
                    for round in 0..<4 {
                        try await AuditStoreTests.setProject(stores[index % 3], user.id, "R\(round)")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await stores[1].verifyAuditChain() == .intact(records: 36, headHash: try await stores[2].auditEnds().headHash))
    }

    /// A record committed by an instance that stops before sealing it is pending, not a broken
    /// link, and is sealed by the time the next instance has started.
    @Test func recordsLeftUnsealedAreSealedAtTheNextStart() async throws {
        let schema = Self.schemaName()
        // Records written straight through the store's transaction: nothing wakes its sealer, so
        // only the explicit seal below links the first one.
        let store = try await freshPostgresStore(schema: schema, sealsPendingAudit: false)
        let first = AuditLog.failure(.addAttributeSet, target: nil, reason: "sealed", context: AuditStoreTests.context)
        try await store.transaction { s in try await PostgresStore.append([first], s) }
        try await store.sealAudit()
        // As an instance that stopped between commit and seal leaves it.
        let orphan = AuditLog.failure(.addAttributeSet, target: nil, reason: "crashed before sealing", context: AuditStoreTests.context)
        try await store.transaction { s in try await PostgresStore.append([orphan], s) }
        #expect(try await store.auditEnds().unsealed == 1)
        guard case .intact(1, _, 1) = try await store.verifyAuditChain(sealingPending: false) else {
            throw TestFailure(reason: "pending not reported")
        }
        store.close()
        let restarted = try await freshPostgresStore(schema: schema)
        #expect(try await restarted.auditEnds().unsealed == 0)
        guard case .intact(2, _, 0) = try await restarted.verifyAuditChain(sealingPending: false) else {
            throw TestFailure(reason: "not sealed")
        }
    }

    /// A schema name that needs quoting works for migrations and for every pooled connection.
    @Test func mixedCaseSchemaNames() async throws {
        let schema = "Tenant \"A\" " + newId().prefix(8)
        let store = try await freshPostgresStore(schema: schema)
        try await seedSchema(store)
        let user = makeUser("Quoted")
        try await store.create(user, passwordHash: nil)
        #expect(try await store.object(.user, id: user.id) == user)
        let reopened = try await freshPostgresStore(schema: schema)
        #expect(try await reopened.object(.user, id: user.id) == user)
        #expect(try await reopened.schema().definitions.count == seededDefinitions.count)
    }

    @Test func aSecondStoreSeesSchemaChangesAtOnce() async throws {
        let schema = Self.schemaName()
        let first = try await freshPostgresStore(schema: schema)
        let second = try await freshPostgresStore(schema: schema)
        #expect(try await second.schema() == Schema())  // cached now
        try await seedSchema(first)
        #expect(try await second.schema() == first.schema())
        try await first.changeSchema { _ in [.updateSet(AttributeSet(id: "Finance", description: "changed"))] }
        #expect(try await second.schema().sets.first { $0.id == "Finance" }?.description == "changed")
    }

    /// A definition created and assigned through one instance is read at once through another
    /// whose cached schema (trusted for a moment after each access check) predates it.
    @Test func valuesOfADefinitionNewerThanTheCachedSchemaAreRead() async throws {
        let schema = Self.schemaName()
        let first = try await freshPostgresStore(schema: schema)
        let second = try await freshPostgresStore(schema: schema)
        try await first.changeSchema { _ in [.createSet(AttributeSet(id: "Engineering"))] }
        let user = makeUser("Fresh")
        try await first.create(user, passwordHash: nil)
        _ = try await second.schema()
        _ = try await second.accessVersion()  // the cached schema is now trusted for reads
        let definition = try #require(seededDefinitions.first { $0.id == Attr.project })
        try await first.changeSchema { _ in [.createDefinition(definition, allowedValues: [])] }
        try await first.modify(.user, id: user.id, passwordHash: nil) { state, _ in
            var next = state
            next.attributes.set(Attr.project, [.string("Apollo")])
            return next
        }
        #expect(try await second.objectState(.user, id: user.id)?.attributes.values(of: Attr.project) == [.string("Apollo")])
        #expect(try await second.values(of: user.id).values(of: Attr.project) == [.string("Apollo")])
    }

    @Test func accessVersionGrowsWithRoleAndPrincipalChangesThroughAnyStore() async throws {
        let schema = Self.schemaName()
        let first = try await freshPostgresStore(schema: schema)
        let second = try await freshPostgresStore(schema: schema)
        let user = makeUser("Role Holder")
        try await first.create(user, passwordHash: nil)
        var version = try await second.accessVersion()
        let assignment = RoleAssignment(
            id: newId(), principalId: user.id, role: .attributeAssignmentReader, scope: .tenant)
        try await first.create(assignment)
        #expect(try await second.accessVersion() > version)
        version = try await second.accessVersion()
        // Attribute values alone do not touch what a caller may do.
        try await seedSchema(first)
        try await first.modify(.user, id: user.id, passwordHash: nil) { state, _ in
            var next = state
            next.attributes.set(Attr.project, [.string("Apollo")])
            return next
        }
        #expect(try await second.accessVersion() == version)
        try await first.modify(.user, id: user.id, passwordHash: nil) { state, _ in
            var next = state
            next.object.properties["accountEnabled"] = .bool(false)
            return next
        }
        #expect(try await second.accessVersion() > version)
        version = try await second.accessVersion()
        #expect(try await first.deleteRoleAssignment(id: assignment.id))
        #expect(try await second.accessVersion() > version)
    }

    /// Two stores (as two instances) each make 100 read-modify-write changes to one user, on
    /// different attributes and on one shared counter: every change survives.
    @Test func interleavedModifiesThroughTwoStoresLoseNoUpdate() async throws {
        let schema = Self.schemaName()
        let stores = [try await freshPostgresStore(schema: schema), try await freshPostgresStore(schema: schema)]
        try await seedSchema(stores[0])
        let user = makeUser("Contended")
        try await stores[0].create(user, passwordHash: nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for side in 0..<2 {
                for i in 0..<100 {
                    group.addTask {
                        try await stores[side].modify(.user, id: user.id, passwordHash: nil) { state, _ in
                            var next = state
                            let own = side == 0 ? Attr.project : Attr.cost
                            // Each side appends to its own attribute; both bump the shared counter.
                            let previous = next.attributes.values(of: own).compactMap(\.stringValue).first
                            next.attributes.set(own, [.string(previous.map { "\($0),\(i)" } ?? "\(i)")])
                            var level: Int32 = 0
                            if case .integer(let n)? = next.attributes.values(of: Attr.level).first { level = n }
                            next.attributes.set(Attr.level, [.integer(level + 1)])
                            return next
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let values = try await stores[1].values(of: user.id)
        #expect(values.values(of: Attr.level) == [.integer(200)])
        for own in [Attr.project, Attr.cost] {
            let written = values.values(of: own).compactMap(\.stringValue).first?.split(separator: ",").compactMap { Int($0) }
            #expect(written?.sorted() == Array(0..<100), "\(own)")
        }
        // The maintained counts followed every change.
        let counted = try await stores[0].query(
            .user, matching: .attribute(try #require(seededDefinitions.first { $0.id == Attr.level }), .equals(.integer(200))),
            after: nil, limit: 10, count: true)
        #expect(counted.count == 1)
        #expect(counted.page.objects.map(\.id) == [user.id])
    }

    /// At 100k users the planner answers eq and startsWith from the value index, never by
    /// scanning the value table.
    @Test func filtersUseTheValueIndexAt100kUsers() async throws {
        let store = try await freshPostgresStore()
        try await seedSchema(store)
        let projects = ["Apollo", "Gemini", "Mercury", "Artemis", "Skylab"]
        var index = 0
        while index < 100_000 {
            let batch = (index..<index + 5_000).map { i in
                NewObject(
                    object: makeUser("User \(i)", upn: "user\(i)@sigil.test"),
                    attributes: AttributeAssignments([
                        AssignedAttribute(definitionId: Attr.project, values: [.string("\(projects[i % 5])-\(i % 997)")]),
                        AssignedAttribute(definitionId: Attr.level, values: [.integer(Int32(i % 50))]),
                    ]))
            }
            try await store.createAll(batch)
            index += 5_000
        }
        try await store.withSession { s in try await s.execute("ANALYZE") }
        let project = try #require(seededDefinitions.first { $0.id == Attr.project })
        let level = try #require(seededDefinitions.first { $0.id == Attr.level })
        let plans = [
            ("eq page", try await store.explain(.user, .attribute(project, .equals(.string("Gemini-12"))))),
            ("eq integer page", try await store.explain(.user, .attribute(level, .equals(.integer(7))))),
            ("startsWith page", try await store.explain(.user, .attribute(project, .startsWith("Gemini-12")))),
            ("startsWith count", try await store.explain(.user, .attribute(project, .startsWith("Gem")), countOnly: true)),
        ]
        for (name, plan) in plans {
            #expect(plan.contains("attribute_values_text") || plan.contains("attribute_values_int"), "\(name):\n\(plan)")
            #expect(!plan.contains("Seq Scan on attribute_values"), "\(name):\n\(plan)")
        }
        let matches = try await store.query(
            .user, matching: .attribute(project, .startsWith("Gemini-12")), after: nil, limit: 100, count: true)
        // Gemini is i % 5 == 1; "-12", "-120".."-129" of i % 997.
        let expected = (0..<100_000).filter { $0 % 5 == 1 && "\($0 % 997)".hasPrefix("12") }.count
        #expect(matches.count == expected)
    }
}
