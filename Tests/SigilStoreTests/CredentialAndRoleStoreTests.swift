import Foundation
import SigilCore
import Testing

@testable import SigilStore

@Suite struct CredentialAndRoleStoreTests {
    // MARK: Password credentials

    @Test(arguments: StoreKind.allCases) func passwordCredentialsAddListRemove(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let application = makeApplication("App")
        let other = makeApplication("Other")
        try await store.create(application, passwordHash: nil)
        try await store.create(other, passwordHash: nil)
        #expect(try await store.passwordCredentials(applicationId: application.id) == [])

        // Added out of order; listed by start time.
        let late = makeCredential(start: 1_800_000_000, hint: "lat")
        let early = PasswordCredential(
            keyId: newId(), displayName: nil, hint: "ear", startDateTime: Date(timeIntervalSince1970: 1_600_000_000.5),
            endDateTime: Date(timeIntervalSince1970: 1_700_000_000.25), secretHash: "salt$hash")
        let middle = makeCredential(start: 1_700_000_000, hint: "mid")
        for credential in [late, early, middle] {
            try await store.addPasswordCredential(credential, applicationId: application.id)
        }
        let otherCredential = makeCredential()
        try await store.addPasswordCredential(otherCredential, applicationId: other.id)

        #expect(try await store.passwordCredentials(applicationId: application.id) == [early, middle, late])
        #expect(try await store.passwordCredentials(applicationId: application.id.uppercased()) == [early, middle, late])
        #expect(try await store.passwordCredentials(applicationId: other.id) == [otherCredential])

        // Removing needs the right application.
        #expect(try await store.removePasswordCredential(keyId: middle.keyId, applicationId: other.id) == false)
        #expect(try await store.removePasswordCredential(keyId: newId(), applicationId: application.id) == false)
        #expect(try await store.removePasswordCredential(keyId: middle.keyId, applicationId: application.id))
        #expect(try await store.removePasswordCredential(keyId: middle.keyId, applicationId: application.id) == false)
        #expect(try await store.passwordCredentials(applicationId: application.id) == [early, late])
        // A key id compares case-insensitively, as GUIDs do.
        #expect(try await store.removePasswordCredential(keyId: late.keyId.uppercased(), applicationId: application.id))
        #expect(try await store.passwordCredentials(applicationId: application.id) == [early])
        #expect(try await store.passwordCredentials(applicationId: other.id) == [otherCredential])
    }

    /// `removePasswordCredential` lowercases the key id it is given, so a credential stored with
    /// capitals in its key id must be found that way too (or be stored lowercased).
    @Test(arguments: StoreKind.allCases) func passwordCredentialWithCapitalsInItsKeyIdCanBeRemoved(_ kind: StoreKind)
        async throws
    {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let application = makeApplication("App")
        try await store.create(application, passwordHash: nil)
        let credential = makeCredential(UUID().uuidString)  // Foundation's form: upper case
        try await store.addPasswordCredential(credential, applicationId: application.id)
        #expect(try await store.passwordCredentials(applicationId: application.id).map(\.keyId) == [credential.keyId])

        #expect(try await store.removePasswordCredential(keyId: credential.keyId, applicationId: application.id))
        #expect(try await store.passwordCredentials(applicationId: application.id) == [])
    }

    @Test(arguments: StoreKind.allCases) func passwordCredentialsForAMissingApplicationAreRefused(_ kind: StoreKind)
        async throws
    {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await store.create(makeApplication("Present"), passwordHash: nil)
        let missing = newId()
        await #expect(throws: (any Error).self) {
            try await store.addPasswordCredential(makeCredential(), applicationId: missing)
        }
        #expect(try await store.passwordCredentials(applicationId: missing) == [])
    }

    @Test(arguments: StoreKind.allCases) func passwordCredentialsAreLimitedPerApplication(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let application = makeApplication("App")
        let other = makeApplication("Other")
        try await store.create(application, passwordHash: nil)
        try await store.create(other, passwordHash: nil)
        let limit = Limits.passwordCredentialsPerApplication
        #expect(limit == 20)
        let credentials = (0..<limit).map { makeCredential(start: 1_700_000_000 + Double($0)) }
        for credential in credentials {
            try await store.addPasswordCredential(credential, applicationId: application.id)
        }
        await #expect(
            throws: GraphError.badRequest("The application already has the maximum of 20 password credentials.")
        ) {
            try await store.addPasswordCredential(makeCredential(start: 1_900_000_000), applicationId: application.id)
        }
        #expect(try await store.passwordCredentials(applicationId: application.id) == credentials)

        // The limit is per application.
        try await store.addPasswordCredential(makeCredential(), applicationId: other.id)
        #expect(try await store.passwordCredentials(applicationId: other.id).count == 1)

        // Removing one makes room for one.
        #expect(try await store.removePasswordCredential(keyId: credentials[0].keyId, applicationId: application.id))
        let replacement = makeCredential(start: 1_900_000_000)
        try await store.addPasswordCredential(replacement, applicationId: application.id)
        #expect(try await store.passwordCredentials(applicationId: application.id) == credentials.dropFirst() + [replacement])
        await #expect(throws: GraphError.self) {
            try await store.addPasswordCredential(makeCredential(start: 2_000_000_000), applicationId: application.id)
        }
    }

    /// Concurrent adds cannot both pass the limit check.
    @Test(arguments: StoreKind.allCases) func passwordCredentialLimitHoldsUnderConcurrency(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let application = makeApplication("App")
        try await store.create(application, passwordHash: nil)
        let added = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<30 {
                group.addTask {
                    do {
                        try await store.addPasswordCredential(
                            makeCredential(start: 1_700_000_000 + Double(i)), applicationId: application.id)
                        return true
                    } catch {
                        return false
                    }
                }
            }
            var count = 0
            for await success in group where success { count += 1 }
            return count
        }
        #expect(added == Limits.passwordCredentialsPerApplication)
        #expect(
            try await store.passwordCredentials(applicationId: application.id).count
                == Limits.passwordCredentialsPerApplication)
    }

    // MARK: Role assignments

    @Test(arguments: StoreKind.allCases) func roleAssignmentsCreateListGetDelete(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let alice = makeUser("Alice")
        let principal = makeServicePrincipal("App", appId: newId())
        try await store.create(alice, passwordHash: nil)
        try await store.create(principal, passwordHash: nil)
        #expect(try await store.roleAssignments(principalId: nil) == [])

        let a1 = RoleAssignment(
            id: newId(), principalId: principal.id, role: .globalAdministrator, scope: .tenant)
        let a2 = RoleAssignment(
            id: newId(), principalId: alice.id, role: .attributeAssignmentAdministrator, scope: .attributeSet("Engineering"))
        let a3 = RoleAssignment(
            id: newId(), principalId: principal.id, role: .attributeDefinitionReader, scope: .attributeSet("Finance"))
        for assignment in [a1, a2, a3] { try await store.create(assignment) }

        #expect(try await store.roleAssignments(principalId: nil) == [a1, a2, a3])
        #expect(try await store.roleAssignments(principalId: principal.id) == [a1, a3])
        #expect(try await store.roleAssignments(principalId: principal.id.uppercased()) == [a1, a3])
        #expect(try await store.roleAssignments(principalId: alice.id) == [a2])
        #expect(try await store.roleAssignments(principalId: newId()) == [])
        #expect(try await store.roleAssignment(id: a2.id) == a2)
        #expect(try await store.roleAssignment(id: a2.id)?.scope.directoryScopeId == "/attributeSets/Engineering")
        #expect(try await store.roleAssignment(id: newId()) == nil)

        #expect(try await store.deleteRoleAssignment(id: a1.id))
        #expect(try await store.deleteRoleAssignment(id: a1.id) == false)
        #expect(try await store.deleteRoleAssignment(id: newId()) == false)
        #expect(try await store.roleAssignment(id: a1.id) == nil)
        #expect(try await store.roleAssignments(principalId: nil) == [a2, a3])
        #expect(try await store.roleAssignments(principalId: principal.id) == [a3])
    }

    @Test(arguments: StoreKind.allCases) func duplicateRoleAssignmentsConflict(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let alice = makeUser("Alice")
        let bob = makeUser("Bob")
        try await store.create(alice, passwordHash: nil)
        try await store.create(bob, passwordHash: nil)
        let original = RoleAssignment(
            id: newId(), principalId: alice.id, role: .attributeAssignmentReader, scope: .attributeSet("Engineering"))
        try await store.create(original)

        // Same principal, role and scope (the set name in any case).
        await #expect(throws: GraphError.conflictingObject) {
            try await store.create(
                RoleAssignment(
                    id: newId(), principalId: alice.id, role: .attributeAssignmentReader,
                    scope: .attributeSet("Engineering")))
        }
        await #expect(throws: GraphError.conflictingObject) {
            try await store.create(
                RoleAssignment(
                    id: newId(), principalId: alice.id, role: .attributeAssignmentReader,
                    scope: .attributeSet("ENGINEERING")))
        }
        // Same id.
        await #expect(throws: GraphError.conflictingObject) {
            try await store.create(
                RoleAssignment(id: original.id, principalId: bob.id, role: .userAdministrator, scope: .tenant))
        }
        #expect(try await store.roleAssignments(principalId: nil) == [original])

        // Any one part different is another assignment.
        let others = [
            RoleAssignment(
                id: newId(), principalId: bob.id, role: .attributeAssignmentReader, scope: .attributeSet("Engineering")),
            RoleAssignment(
                id: newId(), principalId: alice.id, role: .attributeAssignmentAdministrator, scope: .attributeSet("Engineering")),
            RoleAssignment(id: newId(), principalId: alice.id, role: .attributeAssignmentReader, scope: .attributeSet("Finance")),
            RoleAssignment(id: newId(), principalId: alice.id, role: .attributeAssignmentReader, scope: .tenant),
        ]
        for assignment in others { try await store.create(assignment) }
        #expect(try await store.roleAssignments(principalId: nil) == [original] + others)
    }

    @Test(arguments: StoreKind.allCases) func roleAssignmentForAMissingPrincipalIsNotFound(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        try await store.create(makeUser("Present"), passwordHash: nil)
        let missing = newId()
        await #expect(throws: GraphError.notFound(missing)) {
            try await store.create(RoleAssignment(id: newId(), principalId: missing, role: .globalAdministrator, scope: .tenant))
        }
        #expect(try await store.roleAssignments(principalId: nil) == [])
    }
}
