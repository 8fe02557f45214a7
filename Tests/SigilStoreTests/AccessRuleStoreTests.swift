import Foundation
import SigilCore
import Testing

@testable import SigilStore

/// Access rules are cached between decisions, and no cached copy outlives a change: made
/// through this store, inside a batch whose transaction others read around, or (PostgreSQL)
/// through another instance.
@Suite struct AccessRuleStoreTests {
    static func rule(_ id: String, name: String, condition: String? = nil) -> AccessRule {
        AccessRule(
            id: id, displayName: name, principals: .all, actions: ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
            condition: condition, conditionVersion: condition == nil ? nil : "2.0", createdDateTime: Date(timeIntervalSince1970: 1_700_000_000))
    }

    static func put(_ store: any DirectoryStore, _ rule: AccessRule?, id: String) async throws {
        _ = try await store.changeAccessRule(id: id) { _, _ in (rule, []) }
    }

    @Test(arguments: StoreKind.allCases) func everyChangeIsReadByTheNextCall(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { fixture.remove() }
        let store = fixture.store
        let id = newId()
        #expect(try await store.accessRules().isEmpty)  // cached now
        try await Self.put(store, Self.rule(id, name: "Readers"), id: id)
        #expect(try await store.accessRules().map(\.displayName) == ["Readers"])
        let condition = "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project] StringEquals 'Baker'"
        try await Self.put(store, Self.rule(id, name: "Baker readers", condition: condition), id: id)
        let read = try await store.accessRules()
        #expect(read.map(\.displayName) == ["Baker readers"])
        // The condition comes back parsed with the rule.
        #expect(read.first?.parsedCondition??.text == condition)
        try await Self.put(store, nil, id: id)
        #expect(try await store.accessRules().isEmpty)
    }

    /// A reader outside the batch caches the rules as committed before the batch's change; the
    /// batch's commit must move that copy aside. (A file: its readers do not wait for the writer.)
    @Test func aBatchsCommitReplacesRulesReadWhileItWasOpen() async throws {
        let fixture = try await StoreFixture(.file)
        defer { fixture.remove() }
        let store = fixture.store
        let id = newId()
        #expect(try await store.accessRules().isEmpty)
        try await store.sharingWrites { _ in
            try await Self.put(store, Self.rule(id, name: "Readers"), id: id)
            // The batch reads its own change; a reader outside it still sees none.
            #expect(try await store.accessRules().map(\.displayName) == ["Readers"])
            let outside = try await Task.detached { try await store.accessRules() }.value
            #expect(outside.isEmpty)
        }
        #expect(try await store.accessRules().map(\.displayName) == ["Readers"])
    }
}

@Suite(.enabled(if: StoreKind.postgresURL != nil, "needs SIGIL_TEST_DATABASE_URL (scripts/test's PostgreSQL pass)"))
struct PostgresAccessRuleTests {
    @Test func aSecondInstanceDecidesOnTheRulesChangedThroughTheFirst() async throws {
        let schema = PostgresStoreTests.schemaName()
        let first = try await freshPostgresStore(schema: schema)
        let second = try await freshPostgresStore(schema: schema)
        let id = newId()
        #expect(try await second.accessRules().isEmpty)  // cached now
        try await AccessRuleStoreTests.put(first, AccessRuleStoreTests.rule(id, name: "Readers"), id: id)
        #expect(try await second.accessRules().map(\.displayName) == ["Readers"])
        try await AccessRuleStoreTests.put(first, AccessRuleStoreTests.rule(id, name: "Writers"), id: id)
        #expect(try await second.accessRules().map(\.displayName) == ["Writers"])
        try await AccessRuleStoreTests.put(first, nil, id: id)
        #expect(try await second.accessRules().isEmpty)
    }
}
