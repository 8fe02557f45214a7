import SigilCore
import Testing

@testable import SigilStore

@Suite struct ObjectStoreTests {
    @Test(arguments: StoreKind.allCases) func createAndReadByIdAndUserPrincipalName(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let alice = makeUser("Alice", upn: "Alice.Smith@Sigil.Test")
        try await store.create(alice, passwordHash: nil)

        #expect(try await store.object(.user, id: alice.id) == alice)
        #expect(try await store.object(.user, id: alice.id.uppercased()) == alice)
        #expect(try await store.object(.user, id: "alice.smith@sigil.test") == alice)
        #expect(try await store.object(.user, id: "ALICE.SMITH@SIGIL.TEST") == alice)
        // Stored as created.
        #expect(try await store.object(.user, id: alice.id)?.userPrincipalName == "Alice.Smith@Sigil.Test")
        #expect(try await store.object(.user, id: "bob@sigil.test") == nil)
        #expect(try await store.object(.user, id: newId()) == nil)
        // Other kinds are not found by a user's id.
        #expect(try await store.object(.application, id: alice.id) == nil)
        #expect(try await store.object(.servicePrincipal, id: alice.id) == nil)
    }

    /// The distinct texts one kind holds for an attribute, byte for byte as stored (two spellings
    /// Swift's == would take for one stay two), only while some object holds them, and nil past
    /// the limit.
    @Test(arguments: StoreKind.allCases) func heldTextsAreTheStoredSpellingsOfOneKind(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let project = seededDefinitions[0]
        var principals: [DirectoryObject] = []
        for text in ["Baker", "BAKER", "e\u{0301}te", "\u{00E9}te", "Baker"] {
            let principal = makeServicePrincipal("App \(principals.count)", appId: newId())
            try await store.create(principal, passwordHash: nil) { _ in
                AttributeAssignments([AssignedAttribute(definitionId: project.id, values: [.string(text)])])
            }
            principals.append(principal)
        }
        // A user's value is not a service principal's.
        try await store.create(makeUser("Ada"), passwordHash: nil) { _ in
            AttributeAssignments([AssignedAttribute(definitionId: project.id, values: [.string("Cascade")])])
        }
        func held(limit: Int = 10) async throws -> [[UInt8]]? {
            let texts = try await store.heldTexts(.servicePrincipal, of: project, limit: limit)
            return texts.map { $0.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) } }
        }
        let expected = ["BAKER", "Baker", "e\u{0301}te", "\u{00E9}te"].map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(try await held() == expected)
        #expect(try await held(limit: 3) == nil)
        #expect(try await store.heldTexts(.user, of: project, limit: 10) == ["Cascade"])
        // Once no object holds a text, it is not held.
        _ = try await store.modify(.servicePrincipal, id: principals[1].id, passwordHash: nil) { state, _ in
            ObjectState(object: state.object, attributes: AttributeAssignments())
        }
        #expect(try await held() == expected.filter { $0 != Array("BAKER".utf8) })
    }

    @Test(arguments: StoreKind.allCases) func applicationsAndServicePrincipalsByAppId(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let appId = newId()
        let application = makeApplication("Payroll", appId: appId)
        let principal = makeServicePrincipal("Payroll", appId: appId)
        try await store.create(application, passwordHash: nil)
        try await store.create(principal, passwordHash: nil)
        #expect(try await store.application(appId: appId) == application)
        #expect(try await store.application(appId: appId.uppercased()) == application)
        #expect(try await store.servicePrincipal(appId: appId) == principal)
        #expect(try await store.servicePrincipal(appId: appId.uppercased()) == principal)
        #expect(try await store.application(appId: newId()) == nil)
        #expect(try await store.object(.application, id: application.id) == application)
        #expect(try await store.object(.servicePrincipal, id: principal.id) == principal)
    }

    @Test(arguments: StoreKind.allCases) func clashesAreConflictingObject(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let alice = makeUser("Alice", upn: "alice@sigil.test")
        try await store.create(alice, passwordHash: "h1")

        await #expect(throws: GraphError.conflictingObject) {
            try await store.create(makeUser("Other", upn: "ALICE@Sigil.test"), passwordHash: nil)
        }
        await #expect(throws: GraphError.conflictingObject) {
            try await store.create(makeUser("Twin", id: alice.id, upn: "twin@sigil.test"), passwordHash: nil)
        }
        let appId = newId()
        try await store.create(makeApplication("One", appId: appId), passwordHash: nil)
        await #expect(throws: GraphError.conflictingObject) {
            try await store.create(makeApplication("Two", appId: appId), passwordHash: nil)
        }
        // A service principal shares its application's appId, but two principals cannot.
        try await store.create(makeServicePrincipal("One", appId: appId), passwordHash: nil)
        await #expect(throws: GraphError.conflictingObject) {
            try await store.create(makeServicePrincipal("Two", appId: appId), passwordHash: nil)
        }

        #expect(try await store.count(.user) == 1)
        #expect(try await store.count(.application) == 1)
        #expect(try await store.count(.servicePrincipal) == 1)
        #expect(try await store.object(.user, id: "alice@sigil.test") == alice)
        #expect(try await store.userCredentials(userPrincipalName: "alice@sigil.test")?.passwordHash == "h1")
    }

    @Test(arguments: StoreKind.allCases) func createAllIsAllOrNothing(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let existing = makeUser("Existing")
        try await store.create(existing, passwordHash: nil)

        let batch = (0..<5).map { makeUser("Bulk\($0)") }
        let values = AttributeAssignments([AssignedAttribute(definitionId: Attr.project, values: [.string("Bulk")])])
        await #expect(throws: GraphError.conflictingObject) {
            try await store.createAll(
                batch.map { NewObject(object: $0, attributes: values) }
                    + [NewObject(object: makeUser("Clash", upn: "EXISTING@sigil.test"))])
        }
        #expect(try await store.count(.user) == 1)
        #expect(try await store.allObjects(.user) == [existing])
        #expect(try await store.attributes(of: batch.map(\.id)).isEmpty)

        try await store.createAll(batch.map { NewObject(object: $0, passwordHash: "p-\($0.id)", attributes: values) })
        #expect(try await store.count(.user) == 6)
        #expect(try await store.allObjects(.user) == [existing] + batch)
        let stored = try await store.attributes(of: batch.map(\.id))
        #expect(stored.count == 5)
        #expect(stored.values.allSatisfy { $0 == values })
        let credentials = try await store.userCredentials(userPrincipalName: "bulk3@sigil.test")
        #expect(credentials?.passwordHash == "p-\(batch[3].id)")
    }

    @Test(arguments: StoreKind.allCases) func createWithThrowingAttributesWritesNothing(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let user = makeUser("Alice")
        await #expect(throws: TestFailure(reason: "invalid")) {
            try await store.create(user, passwordHash: nil) { _ in throw TestFailure(reason: "invalid") }
        }
        // Values of an unknown attribute fail after the object row was inserted.
        await #expect(throws: GraphError.invalidProperty("engineering_missing")) {
            try await store.create(user, passwordHash: nil) { _ in
                AttributeAssignments([AssignedAttribute(definitionId: "Engineering_Missing", values: [.string("x")])])
            }
        }
        #expect(try await store.object(.user, id: user.id) == nil)
        #expect(try await store.count(.user) == 0)

        // The closure is given the schema of the transaction.
        try await store.create(user, passwordHash: nil) { schema in
            guard let level = schema.definition(id: "engineering_level") else { throw TestFailure(reason: "no schema") }
            return AttributeAssignments([AssignedAttribute(definitionId: level.id, values: [.integer(3)])])
        }
        #expect(try await store.values(of: user.id).values(of: Attr.level) == [.integer(3)])
        #expect(try await store.count(.user) == 1)
    }

    @Test(arguments: StoreKind.allCases, [1, 4, 7, 25, 26, 100])
    func pagingVisitsEveryObjectOnceInAStableOrder(_ kind: StoreKind, limit: Int) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        var users: [DirectoryObject] = []
        for i in 0..<25 {
            // Ids in random order: paging must not depend on them.
            let user = makeUser("User\(i)")
            users.append(user)
            try await store.create(user, passwordHash: nil)
            if i % 6 == 0 { try await store.create(makeApplication("App\(i)"), passwordHash: nil) }
        }

        func walk() async throws -> (objects: [DirectoryObject], pages: Int) {
            var seen: [DirectoryObject] = []
            var cursor: Int64? = nil
            var pages = 0
            repeat {
                let page = try await store.objects(.user, after: cursor, limit: limit)
                pages += 1
                #expect(page.objects.count <= limit)
                if page.next != nil { #expect(page.objects.count == limit) }
                seen += page.objects
                cursor = page.next
            } while cursor != nil && pages <= 100
            return (seen, pages)
        }

        let first = try await walk()
        #expect(first.objects == users)
        #expect(first.pages == max(1, (users.count + limit - 1) / limit))
        #expect(Set(first.objects.map(\.id)).count == users.count)
        #expect(try await walk().objects == users)
        #expect(try await store.count(.user) == 25)
        #expect(try await store.count(.application) == 5)

        // Deleting objects between pages neither repeats nor skips the others.
        let page = try await store.objects(.user, after: nil, limit: 10)
        #expect(page.objects == Array(users.prefix(10)))
        let cursor = try #require(page.next)
        #expect(try await store.delete(.user, id: users[3].id))
        #expect(try await store.delete(.user, id: users[12].id))
        var rest: [DirectoryObject] = []
        var next: Int64? = cursor
        while let after = next {
            let more = try await store.objects(.user, after: after, limit: limit)
            rest += more.objects
            next = more.next
        }
        #expect(rest == Array(users[10...]).filter { $0.id != users[12].id })
    }

    /// The value index holds every kind's objects: asking one kind for a value that many objects
    /// of another kind hold finds exactly this kind's holders, page by page, and none when it has none.
    @Test(arguments: StoreKind.allCases) func anEqualityQueryFindsOnlyItsKindsHolders(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let project = try #require(try await store.schema().definition(id: Attr.project))
        func holding(_ value: String) -> AttributeAssignments {
            AttributeAssignments([AssignedAttribute(definitionId: Attr.project, values: [.string(value)])])
        }
        let users = (0..<12).map { makeUser("Holder\($0)") }
        try await store.createAll(users.map { NewObject(object: $0, attributes: holding("Cascade")) })
        let principals = (0..<3).map { makeServicePrincipal("App\($0)", appId: newId()) }
        for (index, principal) in principals.enumerated() {
            let values = index == 1 ? AttributeAssignments() : holding(index == 0 ? "Cascade" : "Baker")
            try await store.create(principal, passwordHash: nil) { _ in values }
        }
        func ids(_ kind: DirectoryObjectKind, _ value: String, pageSize: Int) async throws -> (ids: [String], count: Int?) {
            var seen: [String] = []
            var cursor: Int64?
            var counted: Int?
            repeat {
                let (page, count) = try await store.query(
                    kind, matching: .attribute(project, .equals(.string(value))), after: cursor, limit: pageSize, count: cursor == nil)
                if cursor == nil { counted = count }
                seen += page.objects.map(\.id)
                cursor = page.next
            } while cursor != nil
            return (seen, counted)
        }
        for pageSize in [1, 2, 100] {
            let cascade = try await ids(.servicePrincipal, "Cascade", pageSize: pageSize)
            #expect(cascade.ids == [principals[0].id] && cascade.count == 1)
            #expect(try await ids(.servicePrincipal, "Baker", pageSize: pageSize).ids == [principals[2].id])
            let holders = try await ids(.user, "Cascade", pageSize: pageSize)
            #expect(Set(holders.ids) == Set(users.map(\.id)) && holders.ids.count == 12 && holders.count == 12)
            #expect(try await ids(.user, "Baker", pageSize: pageSize).ids.isEmpty)
            #expect(try await ids(.application, "Cascade", pageSize: pageSize).ids.isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func emptyKindHasOneEmptyPage(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await store.create(makeUser("Alice"), passwordHash: nil)
        let page = try await store.objects(.servicePrincipal, after: nil, limit: 10)
        #expect(page.objects.isEmpty)
        #expect(page.next == nil)
    }

    @Test(arguments: StoreKind.allCases) func countFollowsCreatesAndDeletes(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        for kind in DirectoryObjectKind.allCases { #expect(try await store.count(kind) == 0) }
        let users = (0..<3).map { makeUser("U\($0)") }
        for user in users { try await store.create(user, passwordHash: nil) }
        try await store.createAll([NewObject(object: makeUser("Bulk"))])
        let appId = newId()
        try await store.create(makeApplication("A", appId: appId), passwordHash: nil)
        try await store.create(makeServicePrincipal("A", appId: appId), passwordHash: nil)
        #expect(try await store.count(.user) == 4)
        #expect(try await store.count(.application) == 1)
        #expect(try await store.count(.servicePrincipal) == 1)
        #expect(try await store.delete(.user, id: users[1].id))
        #expect(try await store.delete(.user, id: users[1].id) == false)
        #expect(try await store.count(.user) == 3)
        #expect(try await store.count(.application) == 1)
    }

    @Test(arguments: StoreKind.allCases) func deletingAnApplicationTakesItsPrincipalSecretsAndRoles(_ kind: StoreKind)
        async throws
    {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let appId = newId()
        let application = makeApplication("Doomed", appId: appId)
        let principal = makeServicePrincipal("Doomed", appId: appId)
        let otherAppId = newId()
        let otherApplication = makeApplication("Kept", appId: otherAppId)
        let otherPrincipal = makeServicePrincipal("Kept", appId: otherAppId)
        let user = makeUser("Alice")
        for object in [application, principal, otherApplication, otherPrincipal, user] {
            try await store.create(object, passwordHash: nil)
        }
        let values = AttributeAssignments([
            AssignedAttribute(definitionId: Attr.project, values: [.string("Apollo")]),
            AssignedAttribute(definitionId: Attr.tags, values: [.string("x"), .string("y")]),
        ])
        try await store.modify(.servicePrincipal, id: principal.id, passwordHash: nil) { state, _ in
            ObjectState(object: state.object, attributes: values)
        }
        try await store.modify(.servicePrincipal, id: otherPrincipal.id, passwordHash: nil) { state, _ in
            ObjectState(object: state.object, attributes: values)
        }
        let doomedCredentials = [makeCredential(start: 1), makeCredential(start: 2)]
        for credential in doomedCredentials {
            try await store.addPasswordCredential(credential, applicationId: application.id)
        }
        let keptCredential = makeCredential(start: 3)
        try await store.addPasswordCredential(keptCredential, applicationId: otherApplication.id)
        let doomedRoles = [
            RoleAssignment(id: newId(), principalId: principal.id, role: .globalAdministrator, scope: .tenant),
            RoleAssignment(
                id: newId(), principalId: principal.id, role: .attributeAssignmentAdministrator,
                scope: .attributeSet("Engineering")),
        ]
        let keptRoles = [
            RoleAssignment(id: newId(), principalId: otherPrincipal.id, role: .globalAdministrator, scope: .tenant),
            RoleAssignment(id: newId(), principalId: user.id, role: .userAdministrator, scope: .tenant),
        ]
        for assignment in doomedRoles + keptRoles { try await store.create(assignment) }

        #expect(try await store.delete(.application, id: application.id))

        #expect(try await store.object(.application, id: application.id) == nil)
        #expect(try await store.object(.servicePrincipal, id: principal.id) == nil)
        #expect(try await store.application(appId: appId) == nil)
        #expect(try await store.servicePrincipal(appId: appId) == nil)
        #expect(try await store.passwordCredentials(applicationId: application.id) == [])
        #expect(try await store.roleAssignments(principalId: principal.id) == [])
        for assignment in doomedRoles { #expect(try await store.roleAssignment(id: assignment.id) == nil) }
        #expect(try await store.attributes(of: [principal.id]).isEmpty)

        // Everything else stays.
        #expect(try await store.object(.application, id: otherApplication.id) == otherApplication)
        #expect(try await store.servicePrincipal(appId: otherAppId) == otherPrincipal)
        #expect(try await store.passwordCredentials(applicationId: otherApplication.id) == [keptCredential])
        #expect(try await store.roleAssignments(principalId: nil) == keptRoles)
        #expect(try await store.values(of: otherPrincipal.id) == values)
        #expect(try await store.count(.application) == 1)
        #expect(try await store.count(.servicePrincipal) == 1)
        #expect(try await store.count(.user) == 1)

        // The same appId can be registered again.
        try await store.create(makeApplication("Again", appId: appId), passwordHash: nil)
        #expect(try await store.application(appId: appId)?.displayName == "Again")
    }

    @Test(arguments: StoreKind.allCases) func deletingAServicePrincipalKeepsItsApplication(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let appId = newId()
        let application = makeApplication("App", appId: appId)
        let principal = makeServicePrincipal("App", appId: appId)
        try await store.create(application, passwordHash: nil)
        try await store.create(principal, passwordHash: nil)
        let credential = makeCredential()
        try await store.addPasswordCredential(credential, applicationId: application.id)
        let role = RoleAssignment(id: newId(), principalId: principal.id, role: .globalAdministrator, scope: .tenant)
        try await store.create(role)

        #expect(try await store.delete(.servicePrincipal, id: principal.id))
        #expect(try await store.servicePrincipal(appId: appId) == nil)
        #expect(try await store.roleAssignment(id: role.id) == nil)
        #expect(try await store.application(appId: appId) == application)
        #expect(try await store.passwordCredentials(applicationId: application.id) == [credential])
    }

    @Test(arguments: StoreKind.allCases) func deletingAUserTakesItsValuesAndRoles(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        let alice = makeUser("Alice")
        let bob = makeUser("Bob")
        let values = AttributeAssignments([AssignedAttribute(definitionId: Attr.level, values: [.integer(5)])])
        try await store.create(alice, passwordHash: "h") { _ in values }
        try await store.create(bob, passwordHash: nil) { _ in values }
        let role = RoleAssignment(id: newId(), principalId: alice.id, role: .userAdministrator, scope: .tenant)
        try await store.create(role)

        #expect(try await store.delete(.user, id: alice.id))
        #expect(try await store.object(.user, id: alice.id) == nil)
        #expect(try await store.object(.user, id: "alice@sigil.test") == nil)
        #expect(try await store.userCredentials(userPrincipalName: "alice@sigil.test") == nil)
        #expect(try await store.attributes(of: [alice.id, bob.id]).keys.sorted() == [bob.id])
        #expect(try await store.roleAssignments(principalId: nil) == [])
        // Its userPrincipalName is free again.
        try await store.create(makeUser("Alice2", upn: "Alice@sigil.test"), passwordHash: nil)
        #expect(try await store.object(.user, id: "alice@sigil.test")?.displayName == "Alice2")
    }

    @Test(arguments: StoreKind.allCases) func deleteReturnsFalseForUnknownIds(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let appId = newId()
        let application = makeApplication("App", appId: appId)
        try await store.create(application, passwordHash: nil)
        for kind in DirectoryObjectKind.allCases {
            #expect(try await store.delete(kind, id: newId()) == false)
        }
        // An id of another kind is unknown too, and its object stays.
        #expect(try await store.delete(.user, id: application.id) == false)
        #expect(try await store.delete(.servicePrincipal, id: application.id) == false)
        #expect(try await store.object(.application, id: application.id) == application)
        #expect(try await store.count(.application) == 1)
        #expect(try await store.count(.user) == 0)
    }

    /// A page read with its objects' values holds each object's values exactly as a read of
    /// those objects does (collections in order, Integers, Booleans, objects without values), in
    /// either order and on every page.
    @Test(arguments: StoreKind.allCases) func pagesWithValuesHoldEachObjectsValues(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await seedSchema(store)
        var users: [DirectoryObject] = []
        for index in 0..<7 {
            let user = makeUser("User \(index % 3)", upn: "user\(index)@sigil.test")
            try await store.create(user, passwordHash: nil) { _ in
                var values = AttributeAssignments()
                guard index % 4 != 3 else { return values }
                values.set(Attr.project, [.string("P\(index)")])
                values.set(Attr.tags, ["z", "", "a\(index)"].map { .string($0) })
                values.set(Attr.codes, [.integer(Int32(index * 7)), .integer(-1)])
                values.set(Attr.active, [.boolean(index % 2 == 0)])
                return values
            }
            users.append(user)
        }
        let expected = try await store.attributes(of: users.map(\.id))
        #expect(expected.count == 6)  // user 3 holds none
        for order in [nil, ObjectOrder.displayName(descending: true)] {
            var seen: [String: AttributeAssignments] = [:]
            var ids: [String] = []
            var cursor: Int64?
            var sortKey: String?
            repeat {
                let (page, _) = try await store.query(
                    .user, matching: nil, reader: nil, order: order, after: cursor, afterSortKey: sortKey, limit: 3,
                    count: false, withAttributes: true)
                ids += page.objects.map(\.id)
                seen.merge(page.attributes ?? [:]) { first, _ in first }
                (cursor, sortKey) = (page.next, page.nextSortKey)
            } while cursor != nil
            #expect(Set(ids) == Set(users.map(\.id)), "every user once, order \(String(describing: order))")
            #expect(ids.count == users.count)
            #expect(seen == expected, "values, order \(String(describing: order))")
        }
    }
}
