import Foundation
import GRDB
import SigilCore
import Testing

@testable import SigilStore

/// `sharingWrites`, the store side of a JSON batch: each write succeeds or fails alone, with its
/// audit record in one unbroken chain; the batch's reads see its writes; a transaction that does
/// not commit names every request whose work was in it. On SQLite the writes share one
/// transaction (a savepoint each); PostgreSQL commits each write on its own, with the same results.
@Suite struct WriteBatchStoreTests {
    typealias Audit = AuditStoreTests
    static let projectDefinition = seededDefinitions[0]

    static func project(_ store: any DirectoryStore, _ id: String) async throws -> String? {
        try await store.objectState(.user, id: id)?.attributes.values(of: Attr.project).first?.stringValue
    }

    static func prepared(_ kind: StoreKind) async throws -> (StoreFixture, [DirectoryObject]) {
        let fixture = try await StoreFixture(kind)
        try await seedSchema(fixture.store)
        var users: [DirectoryObject] = []
        for name in ["Ada", "Bo", "Cy"] {
            let user = makeUser(name)
            try await fixture.store.create(user, passwordHash: nil) { _ in Audit.project("Start") }
            users.append(user)
        }
        return (fixture, users)
    }

    @Test(arguments: StoreKind.allCases) func aFailingWriteInTheMiddleLeavesTheOthersCommitted(_ kind: StoreKind) async throws {
        let (fixture, users) = try await Self.prepared(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let before = try await Audit.all(store).count
        let batch = try await store.sharingWrites { batch in
            try await batch.unit(0) { try await Audit.setProject(store, users[0].id, "Apollo") }
            await batch.unit(1) {
                await #expect(throws: GraphError.self) {
                    try await store.modify(.user, id: users[1].id, passwordHash: nil, audit: Audit.context) { state, _ in
                        var next = state
                        next.attributes = Audit.project("Refused")
                        // Decided, then refused: nothing of it may remain.
                        throw GraphError.badRequest("refused")
                    }
                }
            }
            // Its refusal is recorded, as a direct request's is.
            try await batch.unit(1) {
                try await store.appendAudit([
                    AuditLog.failure(
                        .values(of: .user), target: AuditTarget(id: users[1].id, displayName: nil, type: "user"),
                        reason: "refused", context: Audit.context)
                ])
            }
            try await batch.unit(2) { try await Audit.setProject(store, users[2].id, "Gemini") }
            return batch
        }
        #expect(batch.failedUnits.isEmpty)
        #expect(try await Self.project(store, users[0].id) == "Apollo")
        #expect(try await Self.project(store, users[1].id) == "Start")
        #expect(try await Self.project(store, users[2].id) == "Gemini")
        // One record per request, in order, in one intact chain.
        let records = try await Audit.all(store)
        #expect(records.count == before + 3)
        let results = records.suffix(3).compactMap { try? JSON.parse($0.json).objectValue?["result"]?.stringValue }
        #expect(results == ["success", "failure", "success"])
        #expect(try await store.verifyAuditChain() == .intact(records: records.count, headHash: records.last?.hash ?? ""))
        // The value counts followed only the writes that stayed.
        let (_, count) = try await store.query(
            .user, matching: .attribute(Self.projectDefinition, .equals(.string("Start"))), after: nil, limit: 10, count: true)
        #expect(count == 1)
        // The changes were logged for delta and notifications, the refused one not.
        let changes = try await store.changes(ChangeQuery(kind: .user, after: 0, through: try await store.latestChange(), limit: 1000))
        #expect(changes.filter { $0.objectId == users[1].id }.count == 1)
        #expect(changes.filter { $0.objectId == users[2].id }.count == 2)
    }

    @Test(arguments: StoreKind.allCases) func readsInsideTheBatchSeeItsEarlierWrites(_ kind: StoreKind) async throws {
        let (fixture, users) = try await Self.prepared(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let seen = try await store.sharingWrites { batch in
            try await batch.unit(0) { try await Audit.setProject(store, users[0].id, "Apollo") }
            let created = makeUser("Dee")
            try await batch.unit(1) { try await store.create(created, passwordHash: nil) { _ in Audit.project("Apollo") } }
            return try await batch.unit(2) {
                let (page, count) = try await store.query(
                    .user, matching: .attribute(Self.projectDefinition, .equals(.string("Apollo"))), after: nil, limit: 10,
                    count: true)
                return (try await Self.project(store, users[0].id), try await store.object(.user, id: created.id)?.id, count, page.objects.count)
            }
        }
        #expect(seen.0 == "Apollo")
        #expect(seen.1 != nil)
        #expect(seen.2 == 2)
        #expect(seen.3 == 2)
    }

    /// SQLite only (PostgreSQL commits each write alone): a commit that fails (here a foreign key
    /// checked at commit) reports every request whose work was in the transaction, and none of
    /// it remains.
    @Test(arguments: StoreKind.allCases.filter { $0 != .postgres })
    func aFailedCommitReportsEveryRequestOfItsTransaction(_ kind: StoreKind) async throws {
        let (fixture, users) = try await Self.prepared(kind)
        defer { fixture.remove() }
        guard let store = fixture.store as? SQLiteStore else { throw TestFailure(reason: "not SQLite") }
        let batch = try await store.sharingWrites { batch in
            try await batch.unit(0) { try await Audit.setProject(store, users[0].id, "Apollo") }
            try await batch.unit(1) {
                try await store.writer.write { db in try db.execute(sql: "PRAGMA defer_foreign_keys = ON") }
                // Accepted now, refused at the commit: the principal does not exist.
                try await store.create(
                    RoleAssignment(id: newId(), principalId: newId(), role: .attributeAssignmentReader, scope: .tenant))
            }
            _ = try await batch.unit(2) { try await Self.project(store, users[0].id) }
            return batch
        }
        #expect(batch.failedUnits == [0, 1, 2])
        #expect(batch.failure != nil)
        #expect(try await Self.project(store, users[0].id) == "Start")
        #expect(try await store.roleAssignments(principalId: nil).isEmpty)
        // The store still writes afterwards, and its chain and counts are whole.
        try await Audit.setProject(store, users[1].id, "Gemini")
        let (_, count) = try await store.query(
            .user, matching: .attribute(Self.projectDefinition, .equals(.string("Start"))), after: nil, limit: 10, count: true)
        #expect(count == 2)
        guard case .intact = try await store.verifyAuditChain() else { throw TestFailure(reason: "chain broken") }
    }

    /// SQLite: requests of a batch running side by side (as `$batch` runs those without
    /// `dependsOn`) each have their own work attributed to them: when the transaction fails at
    /// its commit, exactly the requests whose work was in it are named, not one that touched no
    /// data while the others wrote.
    @Test(arguments: StoreKind.allCases.filter { $0 != .postgres })
    func requestsRunningSideBySideAreToldApart(_ kind: StoreKind) async throws {
        let (fixture, users) = try await Self.prepared(kind)
        defer { fixture.remove() }
        guard let store = fixture.store as? SQLiteStore else { throw TestFailure(reason: "not SQLite") }
        let batch = try await store.sharingWrites { batch in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (unit, user) in users.enumerated() {
                    group.addTask {
                        try await batch.unit(unit) {
                            for round in 0..<5 {
                                try await Audit.setProject(store, user.id, "Round \(round)")
                                await Task.yield()
                            }
                        }
                    }
                }
                group.addTask {
                    await batch.unit(users.count) {
                        for _ in 0..<20 { await Task.yield() }
                    }
                }
                try await group.waitForAll()
            }
            try await batch.unit(users.count + 1) {
                try await store.writer.write { db in try db.execute(sql: "PRAGMA defer_foreign_keys = ON") }
                try await store.create(
                    RoleAssignment(id: newId(), principalId: newId(), role: .attributeAssignmentReader, scope: .tenant))
            }
            return batch
        }
        #expect(batch.failedUnits == Set(users.indices).union([users.count + 1]))
        for user in users { #expect(try await Self.project(store, user.id) == "Start") }
    }

    /// SQLite: a batch holding its transaction does not keep another writer waiting for long
    /// once it leaves the transaction idle (slow work between its writes).
    @Test(arguments: StoreKind.allCases.filter { $0 != .postgres })
    func anIdleBatchTransactionIsCommittedForAWaitingWriter(_ kind: StoreKind) async throws {
        let (fixture, users) = try await Self.prepared(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let batch = try await store.sharingWrites { batch in
            try await batch.unit(0) { try await Audit.setProject(store, users[0].id, "Apollo") }
            // Another task writes while the batch is busy elsewhere: it gets through, and sees
            // the batch's committed write.
            let other = Task {
                try await Audit.setProject(store, users[1].id, "Gemini")
                return try await Self.project(store, users[0].id)
            }
            #expect(try await other.value == "Apollo")
            try await batch.unit(1) { try await Audit.setProject(store, users[2].id, "Mercury") }
            return batch
        }
        #expect(batch.failedUnits.isEmpty)
        #expect(try await Self.project(store, users[2].id) == "Mercury")
        let records = try await Audit.all(store)
        #expect(try await store.verifyAuditChain() == .intact(records: records.count, headHash: records.last?.hash ?? ""))
    }

    /// SQLite: batches arriving back to back (several clients sending `$batch`) do not keep an
    /// ordinary write out until they stop: it goes in as soon as one batch's transaction ends.
    @Test(arguments: StoreKind.allCases.filter { $0 != .postgres })
    func aStreamOfBatchesLetsAnOrdinaryWriteThrough(_ kind: StoreKind) async throws {
        let (fixture, users) = try await Self.prepared(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let batchesDone = Locked(0)
        let batchesEach = 100
        let clients = (0..<8).map { client in
            Task {
                for round in 0..<batchesEach {
                    _ = try await store.sharingWrites { batch in
                        for unit in 0..<5 {
                            try await batch.unit(unit) { try await Audit.setProject(store, users[client % 2].id, "R\(round)-\(unit)") }
                        }
                        return batch
                    }
                    batchesDone.withLock { $0 += 1 }
                    // A client waits for its answer between batches; without a suspension here,
                    // one task would run all its batches before any other task ran at all.
                    await Task.yield()
                }
            }
        }
        // Once the batches are flowing, an ordinary write. It waits for the batch transaction
        // under way, and the next ones wait for it: a few batches at most finish meanwhile (here
        // 1 to 4), where without its turn it waited for 42 to 790 of them.
        while batchesDone.withLock({ $0 }) < 8 { try await Task.sleep(for: .milliseconds(1)) }
        let before = batchesDone.withLock { $0 }
        try await Audit.setProject(store, users[2].id, "Ordinary")
        let waited = batchesDone.withLock { $0 } - before
        for client in clients { try await client.value }
        #expect(waited < 24, "the ordinary write waited while \(waited) batches finished")
        #expect(try await Self.project(store, users[2].id) == "Ordinary")
    }
}
