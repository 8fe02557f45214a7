import Foundation
import SigilCore
import Testing

@testable import SigilStore

/// Where a store under test keeps its data. With `SIGIL_TEST_DATABASE_URL` set (scripts/test
/// sets it to a throwaway cluster) the suite runs on PostgreSQL; without it, on SQLite both ways.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `SQLiteStore()`: a private in-memory database (a GRDB DatabaseQueue).
    case memory
    /// `SQLiteStore(path:)`: a file in a fresh temporary directory (a GRDB DatabasePool in WAL mode).
    case file
    /// `PostgresStore(url:)`: a fresh schema of its own in the test cluster.
    case postgres

    static var allCases: [StoreKind] { postgresURL == nil ? [.memory, .file] : [.postgres] }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["SIGIL_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var testDescription: String { rawValue }
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sigil-store-tests-\(UUID().uuidString.lowercased())", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var databasePath: String { url.appendingPathComponent("sigil.sqlite").path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A new, empty store of `kind`; `remove()` deletes its files (call it in a `defer`).
struct StoreFixture {
    let store: any DirectoryStore
    let directory: TemporaryDirectory?

    init(_ kind: StoreKind) async throws {
        switch kind {
        case .memory:
            store = try SQLiteStore()
            directory = nil
        case .file:
            let directory = try TemporaryDirectory()
            store = try SQLiteStore(path: directory.databasePath)
            self.directory = directory
        case .postgres:
            store = try await freshPostgresStore()
            directory = nil
        }
    }

    func remove() { directory?.remove() }
}

/// A PostgresStore on a schema no other test uses (the cluster is thrown away after the run).
/// `keptSets` as the server's unless a test keeps every set.
func freshPostgresStore(
    schema: String = "t_" + newId().replacingOccurrences(of: "-", with: ""), sealsPendingAudit: Bool = true,
    keptSets: LoggedValueSets = LoggedValueSets()
) async throws -> PostgresStore {
    guard let url = StoreKind.postgresURL else { throw TestFailure(reason: "SIGIL_TEST_DATABASE_URL is not set") }
    return try await PostgresStore(
        url: url + (url.contains("?") ? "&" : "?") + "schema=\(schema.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? schema)",
        maximumConnections: 4, connectTimeout: .seconds(10),
        // Hundreds of tests share two cores here: a long wait for a pooled connection is load, not an outage.
        leaseTimeout: .seconds(120), logger: PostgresStore.warningsOnly, sealsPendingAudit: sealsPendingAudit,
        keepsConnectionsOpen: false, keptSets: keptSets)
}

struct TestFailure: Error, Equatable {
    let reason: String
}

func newId() -> String { UUID().uuidString.lowercased() }

// MARK: Directory objects

func makeUser(_ name: String, id: String = newId(), upn: String? = nil) -> DirectoryObject {
    DirectoryObject(
        kind: .user, id: id,
        properties: JSONObject([
            ("accountEnabled", .bool(true)),
            ("displayName", .string(name)),
            ("mailNickname", .string(name.lowercased())),
            ("userPrincipalName", .string(upn ?? "\(name.lowercased())@sigil.test")),
        ]))
}

func makeApplication(_ name: String, appId: String = newId(), id: String = newId()) -> DirectoryObject {
    DirectoryObject(
        kind: .application, id: id,
        properties: JSONObject([
            ("appId", .string(appId)),
            ("displayName", .string(name)),
            ("tags", .array([.string("one"), .string("two")])),
        ]))
}

func makeServicePrincipal(_ name: String, appId: String, id: String = newId()) -> DirectoryObject {
    DirectoryObject(
        kind: .servicePrincipal, id: id,
        properties: JSONObject([
            ("accountEnabled", .bool(true)),
            ("appId", .string(appId)),
            ("displayName", .string(name)),
        ]))
}

func makeCredential(_ keyId: String = newId(), start: TimeInterval = 1_700_000_000, hint: String = "abc")
    -> PasswordCredential
{
    PasswordCredential(
        keyId: keyId, displayName: "Secret \(keyId.prefix(4))", hint: hint,
        startDateTime: Date(timeIntervalSince1970: start), endDateTime: Date(timeIntervalSince1970: start + 86_400 * 365),
        secretHash: "hash-\(keyId)")
}

// MARK: Attribute schema

/// The definitions `seedSchema` creates, by id.
enum Attr {
    static let project = "Engineering_Project"  // String, single, free-form
    static let tags = "Engineering_Tags"  // String, collection, free-form
    static let level = "Engineering_Level"  // Integer, single
    static let codes = "Engineering_Codes"  // Integer, collection
    static let active = "Engineering_Active"  // Boolean, single
    static let region = "Engineering_Region"  // String, single, predefined values
    static let cost = "Finance_CostCenter"  // String, single, other set
}

let seededSets = [
    AttributeSet(id: "Engineering", description: "Engineering attributes", maxAttributesPerSet: 25),
    AttributeSet(id: "Finance", description: nil, maxAttributesPerSet: nil),
]

let seededDefinitions = [
    AttributeDefinition(
        attributeSet: "Engineering", name: "Project", description: "Current project", type: .string, isCollection: false,
        isSearchable: true, usePreDefinedValuesOnly: false),
    AttributeDefinition(
        attributeSet: "Engineering", name: "Tags", type: .string, isCollection: true, isSearchable: false,
        usePreDefinedValuesOnly: false),
    AttributeDefinition(
        attributeSet: "Engineering", name: "Level", type: .integer, isCollection: false, isSearchable: true,
        usePreDefinedValuesOnly: false),
    AttributeDefinition(
        attributeSet: "Engineering", name: "Codes", type: .integer, isCollection: true, isSearchable: false,
        usePreDefinedValuesOnly: false),
    AttributeDefinition(
        attributeSet: "Engineering", name: "Active", type: .boolean, isCollection: false, isSearchable: false,
        usePreDefinedValuesOnly: false),
    AttributeDefinition(
        attributeSet: "Engineering", name: "Region", description: "Sales region", type: .string, isCollection: false,
        isSearchable: true, status: .deprecated, usePreDefinedValuesOnly: true),
    AttributeDefinition(
        attributeSet: "Finance", name: "CostCenter", type: .string, isCollection: false, isSearchable: true,
        usePreDefinedValuesOnly: false),
]

let seededRegionValues = [AllowedValue(id: "West", isActive: true), AllowedValue(id: "East", isActive: false)]

/// Creates `seededSets` and `seededDefinitions` (Region with `seededRegionValues`) in one change.
func seedSchema(_ store: some DirectoryStore) async throws {
    try await store.changeSchema { _ in
        seededSets.map { SchemaChange.createSet($0) }
            + seededDefinitions.map { definition in
                .createDefinition(definition, allowedValues: definition.id == Attr.region ? seededRegionValues : [])
            }
    }
}

extension DirectoryStore {
    /// The custom security attribute values of one object (empty when it has none).
    func values(of objectId: String) async throws -> AttributeAssignments {
        try await attributes(of: [objectId])[objectId] ?? AttributeAssignments()
    }

    /// Every object of `kind`, page by page.
    func allObjects(_ kind: DirectoryObjectKind, pageSize: Int = 1000) async throws -> [DirectoryObject] {
        var all: [DirectoryObject] = []
        var cursor: Int64? = nil
        repeat {
            let page = try await objects(kind, after: cursor, limit: pageSize)
            all += page.objects
            cursor = page.next
        } while cursor != nil
        return all
    }
}
