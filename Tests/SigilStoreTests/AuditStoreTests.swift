import Foundation
import GRDB
import PostgresNIO
import SigilCore
import Testing

@testable import SigilStore

/// The audit log in both stores: records committed with their change and only with it, one
/// hash chain even under concurrent writers, tamper detection, pruning with an anchor.
@Suite struct AuditStoreTests {
    static let context = AuditContext(
        initiatedBy: AuditInitiator(kind: .user(userPrincipalName: "ada@sigil.test"), id: newId(), displayName: "Ada", ipAddress: "127.0.0.1"),
        correlationId: newId(), userAgent: "AuditStoreTests")

    /// Runs SQL straight against the store's database, behind the store's back.
    static func execute(_ store: any DirectoryStore, sqlite: String, postgres: [String]? = nil) async throws {
        if let store = store as? PostgresStore {
            // One statement per query in PostgreSQL's extended protocol.
            for sql in postgres ?? [sqlite] {
                try await store.withSession { s in try await s.execute(PostgresQuery(unsafeSQL: sql)) }
            }
            return
        }
        guard let store = store as? SQLiteStore else { throw TestFailure(reason: "unknown store") }
        try await store.writer.write { db in try db.execute(sql: sqlite) }
    }

    static func project(_ value: String) -> AttributeAssignments {
        AttributeAssignments([AssignedAttribute(definitionId: Attr.project, values: [.string(value)])])
    }

    static func setProject(_ store: any DirectoryStore, _ id: String, _ value: String, audit: AuditContext? = context)
        async throws
    {
        try await store.modify(.user, id: id, passwordHash: nil, audit: audit) { state, _ in
            var next = state
            next.attributes = project(value)
            return next
        }
    }

    /// Every record, oldest first, sealed into the chain (PostgreSQL seals after commit).
    static func all(_ store: any DirectoryStore) async throws -> [StoredAuditRecord] {
        try await store.sealAudit()
        var query = AuditQuery()
        query.newestFirst = false
        return try await store.auditRecords(query, after: nil, limit: 1000).records
    }

    @Test(arguments: StoreKind.allCases) func changesAndRecordsCommitTogether(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await store.changeSchema(audit: Self.context) { _ in
            seededSets.map { SchemaChange.createSet($0) } + seededDefinitions.map { .createDefinition($0, allowedValues: []) }
        }
        let records = try await Self.all(store)
        // One record per set and per definition the change touched.
        #expect(records.count == seededSets.count + seededDefinitions.count)
        let alice = makeUser("Alice")
        try await store.create(alice, passwordHash: nil, audit: Self.context) { _ in Self.project("Apollo") }
        try await Self.setProject(store, alice.id, "Gemini")
        // No change of values, no record.
        try await Self.setProject(store, alice.id, "Gemini")
        let after = try await Self.all(store)
        #expect(after.count == records.count + 2)
        let last = try JSON.parse(after.last?.json ?? "").objectValue
        #expect(last?["correlationId"]?.stringValue == Self.context.correlationId)
        #expect(last?["targetResources"]?.arrayValue?.first?.objectValue?["id"]?.stringValue == alice.id)
        #expect(try await store.auditRecord(id: last?["id"]?.stringValue ?? "")?.seq == after.last?.seq)
        #expect(try await store.verifyAuditChain() == .intact(records: after.count, headHash: after.last?.hash ?? ""))
    }

    /// The audit insert failing (here: a trigger refusing it) takes the change down with it.
    @Test(arguments: StoreKind.allCases) func aFailedAuditInsertRollsTheChangeBack(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let alice = makeUser("Alice")
        try await store.create(alice, passwordHash: nil) { _ in Self.project("Apollo") }
        try await Self.execute(
            store,
            sqlite: """
                CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_records
                BEGIN SELECT RAISE(ABORT, 'audit insert refused'); END
                """,
            postgres: [
                """
                CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit insert refused'; END $$
                """,
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
            ])
        await #expect(throws: (any Error).self) { try await Self.setProject(store, alice.id, "Gemini") }
        #expect(try await store.values(of: alice.id) == Self.project("Apollo"))
        let bob = makeUser("Bob")
        await #expect(throws: (any Error).self) {
            try await store.create(bob, passwordHash: nil, audit: Self.context) { _ in Self.project("Mercury") }
        }
        #expect(try await store.object(.user, id: bob.id) == nil)
        await #expect(throws: (any Error).self) {
            try await store.changeSchema(audit: Self.context) { _ in [.createSet(AttributeSet(id: "Legal"))] }
        }
        #expect(try await store.schema().set(named: "Legal") == nil)
        // Queries see the values as they are (SQLite's in-memory prefix indexes were dropped too).
        let definition = try #require(try await store.schema().definition(id: Attr.project))
        let match = try await store.query(
            .user, matching: .attribute(definition, .startsWith("Gem")), after: nil, limit: 10, count: true)
        #expect(match.count == 0)
        #expect(try await Self.all(store).isEmpty)
        // The same change without an audit context goes through: only the audit insert failed.
        try await Self.setProject(store, alice.id, "Gemini", audit: nil)
        #expect(try await store.values(of: alice.id) == Self.project("Gemini"))
    }

    @Test(arguments: StoreKind.allCases) func verifyFindsEditedRemovedAndTruncatedRecords(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        for name in ["Alpha", "Bravo", "Charlie", "Delta"] {
            try await store.changeSchema(audit: Self.context) { _ in [.createSet(AttributeSet(id: name))] }
        }
        guard case .intact(4, _, _) = try await store.verifyAuditChain() else { throw TestFailure(reason: "chain not intact") }
        // From here on the database is edited behind the store's back.

        // An edit of a record's content, even one the hash column does not know of.
        try await Self.execute(store, sqlite: "UPDATE audit_records SET record = replace(record, 'Bravo', 'Brav0') WHERE seq = 2")
        guard case .broken(2, let id, let reason) = try await store.verifyAuditChain() else {
            throw TestFailure(reason: "edit not found")
        }
        #expect(id != nil)
        #expect(reason.contains("edited"))
        try await Self.execute(store, sqlite: "UPDATE audit_records SET record = replace(record, 'Brav0', 'Bravo') WHERE seq = 2")
        guard case .intact = try await store.verifyAuditChain() else { throw TestFailure(reason: "restored chain broken") }

        // A record taken out of the middle.
        try await Self.execute(store, sqlite: "DELETE FROM audit_records WHERE seq = 3")
        guard case .broken(3, _, let missing) = try await store.verifyAuditChain() else {
            throw TestFailure(reason: "removal not found")
        }
        #expect(missing.contains("missing"))

        // The newest records dropped (and the rest relinked would still disagree with the head).
        let fresh = try await StoreFixture(kind)
        defer { fresh.remove() }
        for name in ["Alpha", "Bravo"] {
            try await fresh.store.changeSchema(audit: Self.context) { _ in [.createSet(AttributeSet(id: name))] }
        }
        try await fresh.store.sealAudit()
        try await Self.execute(fresh.store, sqlite: "DELETE FROM audit_records WHERE seq = 2")
        guard case .broken(2, _, let truncated) = try await fresh.store.verifyAuditChain() else {
            throw TestFailure(reason: "truncation not found")
        }
        #expect(truncated.contains("removed"))
    }

    @Test(arguments: StoreKind.allCases) func pruningLeavesAVerifiableChain(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        for name in ["Alpha", "Bravo", "Charlie"] {
            try await store.changeSchema(audit: Self.context) { _ in [.createSet(AttributeSet(id: name))] }
        }
        try await Task.sleep(for: .milliseconds(20))
        let cutoff = AuditRecord.timestamp(Date())
        try await Task.sleep(for: .milliseconds(20))
        for name in ["Delta", "Echo"] {
            try await store.changeSchema(audit: Self.context) { _ in [.createSet(AttributeSet(id: name))] }
        }
        let before = try await Self.all(store)
        #expect(try await store.pruneAudit(before: cutoff) == 3)
        #expect(try await store.pruneAudit(before: cutoff) == 0)
        let ends = try await store.auditEnds()
        #expect(ends.anchorSeq == 3)
        #expect(ends.anchorHash == before[2].hash)
        #expect(try await store.verifyAuditChain() == .intact(records: 2, headHash: before[4].hash))
        // The chain goes on after the anchor.
        try await store.changeSchema(audit: Self.context) { _ in [.createSet(AttributeSet(id: "Foxtrot"))] }
        guard case .intact(3, _, _) = try await store.verifyAuditChain() else { throw TestFailure(reason: "chain broken") }
    }

    /// Writers racing on many objects still build one unbroken chain, in time order.
    @Test(arguments: StoreKind.allCases) func concurrentWritersShareOneChain(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let users = (0..<12).map { makeUser("User\($0)") }
        for user in users { try await store.create(user, passwordHash: nil) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, user) in users.enumerated() {
                group.addTask {
                    for round in 0..<3 { try await Self.setProject(store, user.id, "P\(index)-\(round)") }
                }
            }
            try await group.waitForAll()
        }
        let records = try await Self.all(store)
        #expect(records.count == 36)
        #expect(records.map(\.seq) == records.map(\.seq).sorted())
        if store is SQLiteStore {
            // One writer stamps and links in the same step: time order is chain order.
            let times = records.compactMap { try? JSON.parse($0.json).objectValue?["activityDateTime"]?.stringValue }
            #expect(times == times.sorted())
        }
        #expect(try await store.verifyAuditChain() == .intact(records: 36, headHash: records.last?.hash ?? ""))
    }
}
