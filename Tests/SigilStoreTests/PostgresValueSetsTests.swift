import Foundation
import PostgresNIO
import SigilCore
import Testing

@testable import SigilStore

/// PostgreSQL's kept value sets follow writes made through any instance, by the change log.
@Suite(.enabled(if: StoreKind.postgresURL != nil, "needs SIGIL_TEST_DATABASE_URL (scripts/test's PostgreSQL pass)"))
struct PostgresValueSetsTests {
    static let project = seededDefinitions.first { $0.id == Attr.project }
    static let level = seededDefinitions.first { $0.id == Attr.level }

    /// `Project eq 'Apollo' and not Level eq 3`, `Project startsWith 'A' or Level eq 3`.
    static func predicates() throws -> [ObjectPredicate] {
        let project = try #require(Self.project)
        let level = try #require(Self.level)
        let apollo = ObjectPredicate.attribute(project, .equals(.string("Apollo")))
        let three = ObjectPredicate.attribute(level, .equals(.integer(3)))
        return [.and(apollo, .not(three)), .or(.attribute(project, .startsWith("A")), three)]
    }

    static func values(_ index: Int) -> AttributeAssignments {
        var values = AttributeAssignments()
        values.set(Attr.project, [.string(["Apollo", "Artemis", "Gemini"][index % 3])])
        if index % 2 == 0 { values.set(Attr.level, [.integer(Int32(index % 5))]) }
        return values
    }

    /// The count and every id a store answers for `predicate`, over pages of 7.
    static func answer(_ store: PostgresStore, _ predicate: ObjectPredicate) async throws -> (count: Int?, ids: Set<String>) {
        var ids: Set<String> = []
        var cursor: Int64?
        var counted: Int?
        repeat {
            let (page, count) = try await store.query(
                .user, matching: predicate, reader: nil, order: nil, after: cursor, afterSortKey: nil, limit: 7, count: true,
                withAttributes: false)
            counted = counted ?? count
            ids.formUnion(page.objects.map(\.id))
            cursor = page.next
        } while cursor != nil
        return (counted, ids)
    }

    struct Tenant {
        var values: [String: AttributeAssignments] = [:]

        func matching(_ predicate: ObjectPredicate) -> Set<String> {
            Set(values.filter { predicate.matches(makeUser("x", id: $0.key), $0.value, reader: nil) }.map(\.key))
        }
    }

    static func expectAnswers(_ store: PostgresStore, _ tenant: Tenant, _ comment: Comment) async throws {
        for predicate in try predicates() {
            let (count, ids) = try await answer(store, predicate)
            let expected = tenant.matching(predicate)
            #expect(count == expected.count, comment)
            #expect(ids == expected, comment)
        }
    }

    /// A reader keeping every set however small, and a writer, on one new database schema
    /// holding `users` users with `values(index)`.
    static func twoInstances(users: Int) async throws -> (reader: PostgresStore, writer: PostgresStore, tenant: Tenant) {
        let schema = PostgresStoreTests.schemaName()
        let reader = try await freshPostgresStore(schema: schema, keptSets: LoggedValueSets(minimumObjects: 0))
        let writer = try await freshPostgresStore(schema: schema)
        try await seedSchema(writer)
        var tenant = Tenant()
        for index in 0..<users {
            let user = makeUser("User \(index)")
            try await writer.create(user, passwordHash: nil) { _ in Self.values(index) }
            tenant.values[user.id] = Self.values(index)
        }
        return (reader, writer, tenant)
    }

    /// Two instances on one database, sets kept however small: the reader's kept sets, built
    /// before the writer's creates, changes and deletes, answer exactly afterwards.
    @Test func keptSetsFollowAnotherInstancesWrites() async throws {
        let (reader, writer, seeded) = try await Self.twoInstances(users: 40)
        var tenant = seeded
        try await Self.expectAnswers(reader, tenant, "before any write")
        #expect(reader.keptSets.byteCount > 0)

        let ids = tenant.values.keys.sorted()
        for (offset, id) in ids.prefix(10).enumerated() {
            let next = Self.values(offset + 1)
            try await writer.modify(.user, id: id, passwordHash: nil) { state, _ in
                ObjectState(object: state.object, attributes: next)
            }
            tenant.values[id] = next
        }
        for id in ids.suffix(5) {
            #expect(try await writer.delete(.user, id: id))
            tenant.values[id] = nil
        }
        for index in 40..<45 {
            let user = makeUser("User \(index)")
            try await writer.create(user, passwordHash: nil) { _ in Self.values(index) }
            tenant.values[user.id] = Self.values(index)
        }
        try await Self.expectAnswers(reader, tenant, "after the writer's changes")
    }

    /// Log entries written before the log carried rowids (or any without one) cannot say which
    /// objects changed: the sets are read from the rows again, and still answer exactly.
    @Test func entriesWithoutARowidReadTheSetsAgain() async throws {
        let (reader, writer, seeded) = try await Self.twoInstances(users: 20)
        var tenant = seeded
        try await Self.expectAnswers(reader, tenant, "before")
        for id in tenant.values.keys.sorted().prefix(6) {
            #expect(try await writer.delete(.user, id: id))
            tenant.values[id] = nil
        }
        try await writer.withSession { s in try await s.execute("UPDATE directory_changes SET object_rowid = NULL") }
        try await Self.expectAnswers(reader, tenant, "after deletes logged without rowids")
    }

    /// A reader whose snapshot predates a set that another request has already brought forward
    /// takes the set back to its own snapshot, from the log entries this instance has read.
    @Test func aReaderOlderThanTheKeptSetAnswersForItsOwnSnapshot() async throws {
        let (reader, writer, tenant) = try await Self.twoInstances(users: 20)
        let ids = Array(tenant.values.keys)
        let predicate = try #require(try Self.predicates().first)
        let counts = try await reader.transaction(readOnly: true) { s -> [Int] in
            let snapshot = try await reader.snapshot(s, fresh: false)
            let (before, total) = try await reader.matchingSet(.user, predicate, snapshot, s)
            // Every user becomes an Apollo user without level 3, committed after this snapshot.
            for id in ids {
                try await writer.modify(.user, id: id, passwordHash: nil) { state, _ in
                    var next = state
                    next.attributes.set(Attr.project, [.string("Apollo")])
                    next.attributes.set(Attr.level, [.integer(1)])
                    return next
                }
            }
            let (_, now) = try await Self.answer(reader, predicate)  // brings the kept sets forward
            let (after, _) = try await reader.matchingSet(.user, predicate, snapshot, s)
            return [before.complemented ? total - before.bits.count : before.bits.count, after.bits.count, now.count]
        }
        #expect(counts[0] == 6)  // indexes 0, 3, …, 18 hold Apollo; 18 also holds level 3
        #expect(counts[1] == counts[0])
        #expect(counts[2] == 20)
    }

    /// Sets saved when an instance stops are read by the next instance to start, and brought
    /// forward through the writes made in between.
    @Test func savedSetsServeTheNextStartAfterLaterWrites() async throws {
        let (reader, writer, seeded) = try await Self.twoInstances(users: 30)
        var tenant = seeded
        try await Self.expectAnswers(reader, tenant, "before saving")
        try await reader.keepFilterStructures()
        for id in tenant.values.keys.sorted().prefix(8) {
            try await writer.modify(.user, id: id, passwordHash: nil) { state, _ in
                ObjectState(object: state.object, attributes: Self.values(0))
            }
            tenant.values[id] = Self.values(0)
        }
        let next = try await freshPostgresStore(schema: reader.location.schema ?? "", keptSets: LoggedValueSets(minimumObjects: 0))
        let saved = reader.keptSets.all().map { "\($0.attribute)\($0.term)" }.sorted()
        #expect(next.keptSets.all().map { "\($0.attribute)\($0.term)" }.sorted() == saved)
        #expect(!saved.isEmpty)
        try await Self.expectAnswers(next, tenant, "read back, after later writes")
    }
}
