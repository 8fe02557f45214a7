import Foundation
import GRDB
import SigilCore
import Testing

@testable import SigilStore

@Suite struct PersistenceTests {
    /// In registration order, sorted as the applied identifiers are read back ("v10-…" sorts after "v1-…").
    static let migrationIds = [
        "v1-directory-and-schema", "v2-query-counts", "v3-display-name-order", "v4-audit-log", "v5-change-log",
        "v6-conditional-access", "v7-access-rules", "v8-inbound-provisioning",
        "v9-provisioning-mapping", "v10-held-uploads", "v11-held-upload-claims", "v12-kept-filters",
    ].sorted()

    @Test func migrationsRunOnANewFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(!FileManager.default.fileExists(atPath: directory.databasePath))

        let store = try SQLiteStore(path: directory.databasePath)
        #expect(FileManager.default.fileExists(atPath: directory.databasePath))
        let applied = try await store.writer.read { db in
            try SQLiteStore.migrator.appliedIdentifiers(db).sorted()
        }
        #expect(applied == Self.migrationIds)
        let tables = try await store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        }
        for table in [
            "allowed_values", "attribute_definitions", "attribute_sets", "attribute_value_counts", "attribute_values",
            "directory_objects", "object_counts", "password_credentials", "role_assignments", "settings",
            "directory_changes", "subscriptions",
        ] {
            #expect(tables.contains(table), "missing table \(table)")
        }
        let journalMode = try await store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journalMode == "wal")
        #expect(try await store.schema() == Schema())
        for kind in DirectoryObjectKind.allCases { #expect(try await store.count(kind) == 0) }
        #expect(try await store.setting("tenantId") == nil)
    }

    @Test(arguments: [StoreKind.memory, .file]) func migrationsRunInMemory(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = try #require(fixture.store as? SQLiteStore)
        let applied = try await store.writer.read { db in
            try SQLiteStore.migrator.appliedIdentifiers(db).sorted()
        }
        #expect(applied == Self.migrationIds)
        let foreignKeys = try await store.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA foreign_keys") }
        #expect(foreignKeys == 1)
    }

    /// Everything written before the store is released is read back by a new store on the same file.
    @Test func reopeningTheFileKeepsEverything() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.databasePath

        let user = makeUser("Alice", upn: "Alice@Sigil.Test")
        let appId = newId()
        let application = makeApplication("Payroll", appId: appId)
        let principal = makeServicePrincipal("Payroll", appId: appId)
        let credentials = [makeCredential(start: 1_700_000_000), makeCredential(start: 1_700_000_100, hint: "xyz")]
        let assignments = [
            RoleAssignment(id: newId(), principalId: principal.id, role: .globalAdministrator, scope: .tenant),
            RoleAssignment(
                id: newId(), principalId: user.id, role: .attributeAssignmentReader, scope: .attributeSet("Engineering")),
        ]
        let userValues = AttributeAssignments([
            AssignedAttribute(definitionId: Attr.project, values: [.string("Apollo")]),
            AssignedAttribute(definitionId: Attr.tags, values: [.string("b"), .string("a"), .string("c")]),
            AssignedAttribute(definitionId: Attr.level, values: [.integer(Int32.min)]),
            AssignedAttribute(definitionId: Attr.codes, values: [.integer(Int32.max), .integer(-7), .integer(0)]),
            AssignedAttribute(definitionId: Attr.active, values: [.boolean(false)]),
            AssignedAttribute(definitionId: Attr.region, values: [.string("West")]),
        ])
        let principalValues = AttributeAssignments([
            AssignedAttribute(definitionId: Attr.cost, values: [.string("CC-1")])
        ])

        var expectedSchema = Schema()
        do {
            let store = try SQLiteStore(path: path)
            #expect(try await store.settingIfAbsent("tenantId", "tenant-1") == "tenant-1")
            try await seedSchema(store)
            try await store.changeSchema { _ in
                [
                    .putAllowedValue(definitionId: Attr.region, AllowedValue(id: "North", isActive: true)),
                    .putAllowedValue(definitionId: Attr.region, AllowedValue(id: "West", isActive: false)),
                    .updateSet(AttributeSet(id: "Finance", description: "Money", maxAttributesPerSet: 5)),
                ]
            }
            try await store.create(user, passwordHash: "pbkdf2$alice") { _ in userValues }
            try await store.create(application, passwordHash: nil)
            try await store.create(principal, passwordHash: nil) { _ in principalValues }
            for credential in credentials {
                try await store.addPasswordCredential(credential, applicationId: application.id)
            }
            for assignment in assignments { try await store.create(assignment) }
            expectedSchema = try await store.schema()
        }

        // The first store is gone; open the file again (twice, to see the migrations are not rerun destructively).
        for _ in 0..<2 {
            let store = try SQLiteStore(path: path)
            #expect(try await store.setting("tenantId") == "tenant-1")
            #expect(try await store.settingIfAbsent("tenantId", "tenant-2") == "tenant-1")

            let schema = try await store.schema()
            #expect(schema == expectedSchema)
            #expect(schema.sets == [seededSets[0], AttributeSet(id: "Finance", description: "Money", maxAttributesPerSet: 5)])
            #expect(schema.definitions == seededDefinitions)
            let region = try #require(schema.definition(id: Attr.region))
            #expect(
                schema.allowedValues(of: region) == [
                    AllowedValue(id: "West", isActive: false), AllowedValue(id: "East", isActive: false),
                    AllowedValue(id: "North", isActive: true),
                ])

            #expect(try await store.object(.user, id: user.id) == user)
            #expect(try await store.object(.user, id: "alice@sigil.test") == user)
            #expect(try await store.object(.application, id: application.id) == application)
            #expect(try await store.object(.servicePrincipal, id: principal.id) == principal)
            #expect(try await store.application(appId: appId) == application)
            #expect(try await store.servicePrincipal(appId: appId) == principal)
            #expect(try await store.count(.user) == 1)
            #expect(try await store.count(.application) == 1)
            #expect(try await store.count(.servicePrincipal) == 1)
            let credentialsOfUser = try await store.userCredentials(userPrincipalName: "ALICE@sigil.test")
            #expect(credentialsOfUser?.user == user)
            #expect(credentialsOfUser?.passwordHash == "pbkdf2$alice")

            #expect(try await store.passwordCredentials(applicationId: application.id) == credentials)
            #expect(try await store.roleAssignments(principalId: nil) == assignments)
            #expect(try await store.roleAssignment(id: assignments[1].id) == assignments[1])

            #expect(try await store.values(of: user.id) == userValues)
            #expect(try await store.values(of: principal.id) == principalValues)

            let applied = try await store.writer.read { db in
                try SQLiteStore.migrator.appliedIdentifiers(db).sorted()
            }
            #expect(applied == Self.migrationIds)
        }
    }

    /// The tenant's one provisioning mapping: the default until saved, replaced whole, and a
    /// refused change (an error from `decide`) leaves it as it was.
    @Test(arguments: StoreKind.allCases) func provisioningMappingIsReplacedWhole(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        #expect(try await store.provisioningMapping() == .default)
        let mapping = ProvisioningMapping(
            matchingIdentifier: .userName,
            attributeMappings: [.init(source: "urn:ietf:params:scim:schemas:extension:acme:2.0:User:costCenter", target: "Finance_Cost")])
        #expect(try await store.changeProvisioningMapping { _, _ in (mapping, []) } == mapping)
        #expect(try await store.provisioningMapping() == mapping)
        await #expect(throws: GraphError.self) {
            try await store.changeProvisioningMapping { current, _ in
                #expect(current == mapping)
                throw GraphError.badRequest("refused")
            }
        }
        #expect(try await store.provisioningMapping() == mapping)
        #expect(try await store.changeProvisioningMapping { _, _ in (.default, []) } == .default)
        #expect(try await store.provisioningMapping() == .default)
    }

    /// What a paused job holds: taken oldest first (by source key when asked), only held while
    /// the job is paused, dropped with the job; a job's state survives reopening as it was saved.
    @Test(arguments: StoreKind.allCases) func heldUploadsAreKeptForAPausedJobUntilTheirProcessingIsLogged(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        var job = SynchronizationJob(
            id: "API2AAD.0123456789abcdef0123456789abcdef.tenant", servicePrincipalId: "SP", templateId: "API2AAD", createdDateTime: Date(),
            state: .active)
        try await store.saveSynchronizationJob(job)
        func held(_ bulkId: String, _ source: String?) -> HeldUploadOperation {
            HeldUploadOperation(
                jobId: job.id, sourceKey: source, bulkId: bulkId, data: ["externalId": JSONValue(source)], cycleId: "cycle",
                uploaderId: "uploader", uploaderIsApp: true, correlationId: "request", ipAddress: "10.0.0.1", userAgent: nil,
                heldAt: Date(timeIntervalSince1970: 1_800_000_000))
        }
        #expect(try await store.holdUploads([held("a", "E1")], jobId: job.id) == false, "a running job holds nothing")
        #expect(try await store.holdUploads([held("a", "E1")], jobId: "API2AAD.missing") == false)
        job.state = .paused
        try await store.saveSynchronizationJob(job)
        #expect(try await store.synchronizationJob(id: job.id.uppercased())?.state == .paused)
        #expect(try await store.holdUploads([held("a", "E1"), held("b", "E2"), held("c", nil)], jobId: job.id))
        #expect(try await store.holdUploads([held("d", "e1")], jobId: job.id.uppercased()))
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        let later = now.addingTimeInterval(60)
        func claim(_ source: String?, at time: Date = now) async throws -> HeldUploadClaim? {
            try await store.claimHeldUpload(jobId: job.id, sourceKey: source, now: time, until: time.addingTimeInterval(60))
        }
        let a = try #require(try await claim("E1"))
        #expect(a.operation == held("a", "E1"))
        #expect(try await claim("e1")?.operation.bulkId == "d", "source keys compare case-insensitively; a claimed one is passed over")
        #expect(try await claim("E1") == nil, "both E1 operations are claimed")
        #expect(try await claim("E1", at: later)?.operation.bulkId == "a", "a claim that ran out frees the operation")
        try await store.finishHeldUpload(a, log: logEntry(job, source: "E1"))
        #expect(try await claim("E1", at: later.addingTimeInterval(60))?.operation.bulkId == "d", "a finished operation is gone")
        #expect(try await store.provisioningLog(ProvisioningLogQuery(), after: nil, limit: 10).entries.map(\.sourceId) == ["E1"])
        let b = try #require(try await claim(nil))
        #expect(b.operation.bulkId == "b")
        #expect(try await store.discardHeldUploads(jobId: job.id) == 3, "a discard takes claimed operations too")
        try await store.finishHeldUpload(b, log: logEntry(job, source: "E2"))
        #expect(try await store.provisioningLog(ProvisioningLogQuery(), after: nil, limit: 10).entries.count == 2)
        #expect(try await claim(nil, at: later.addingTimeInterval(600)) == nil)
        #expect(try await store.holdUploads([held("e", "E3")], jobId: job.id))
        #expect(try await store.deleteSynchronizationJob(id: job.id))
        #expect(try await claim(nil) == nil, "deleting the job drops what it held")
    }

    func logEntry(_ job: SynchronizationJob, source: String) -> ProvisioningLogEntry {
        ProvisioningLogEntry.make(
            .init(
                tenantId: "tenant", job: job, servicePrincipalName: "HR", cycleId: "cycle",
                initiator: AuditInitiator(kind: .app(appId: nil), id: "uploader", displayName: nil, ipAddress: nil)),
            at: Date(timeIntervalSince1970: 1_900_000_000), action: .create, status: .success, error: nil, source: (source, nil),
            target: (nil, nil), changes: [], duration: 1)
    }

    @Test(arguments: StoreKind.allCases) func settingIfAbsentKeepsTheFirstValue(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        #expect(try await store.setting("signingKey") == nil)
        #expect(try await store.settingIfAbsent("signingKey", "first") == "first")
        #expect(try await store.settingIfAbsent("signingKey", "second") == "first")
        #expect(try await store.setting("signingKey") == "first")
        // Keys are independent and exact.
        #expect(try await store.settingIfAbsent("SigningKey", "other") == "other")
        #expect(try await store.setting("signingKey") == "first")
        #expect(try await store.setting("SigningKey") == "other")
    }

    /// Concurrent first writers all see the one value that won.
    @Test(arguments: StoreKind.allCases) func settingIfAbsentRacesToOneValue(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<16 {
                group.addTask { try await store.settingIfAbsent("tenantId", "tenant-\(i)") }
            }
            var all: [String] = []
            for try await value in group { all.append(value) }
            return all
        }
        let stored = try #require(try await store.setting("tenantId"))
        #expect(results.count == 16)
        #expect(results.allSatisfy { $0 == stored })
    }
}
