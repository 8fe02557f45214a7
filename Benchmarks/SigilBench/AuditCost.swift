import ArgumentParser
import Foundation
import SigilCore
import SigilService
import SigilStore

/// What the audit write costs a change of values: the store's `modify` (one Integer attribute,
/// the bench's PATCH) with and without its audit record, in interleaved rounds so drift in the
/// machine hits both alike.
struct AuditCost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-cost", abstract: "Value changes per second with and without the audit record.")

    @Option(help: "A postgres:// URL (use a schema of its own); default: a SQLite file in a temporary directory.")
    var databaseURL: String?
    @Option(help: "Users to spread the changes over.") var users = 10_000
    @Option(help: "Concurrent writers.") var concurrency = 32
    @Option(help: "Seconds per round.") var seconds = 5.0
    @Option(help: "Rounds per mode (off and on alternate).") var rounds = 3

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sigil-audit-cost-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store: any DirectoryStore
        if let databaseURL {
            store = try await PostgresStore(url: databaseURL, maximumConnections: concurrency)
        } else {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try SQLiteStore(path: directory.appendingPathComponent("sigil.sqlite").path)
        }
        let level = AttributeDefinition(
            attributeSet: "Engineering", name: "NumVendors", type: .integer, isCollection: false, isSearchable: true,
            usePreDefinedValuesOnly: false)
        try await store.changeSchema { _ in
            [.createSet(AttributeSet(id: "Engineering")), .createDefinition(level, allowedValues: [])]
        }
        let ids = (0..<users).map { _ in UUID().uuidString.lowercased() }
        for start in stride(from: 0, to: users, by: 5_000) {
            try await store.createAll(
                ids[start..<min(start + 5_000, users)].enumerated().map { offset, id in
                    NewObject(
                        object: DirectoryObject(
                            kind: .user, id: id,
                            properties: JSONObject([
                                ("displayName", .string("User \(start + offset)")),
                                ("userPrincipalName", .string("user\(start + offset)@bench.sigil.local")),
                            ])))
                })
        }
        let context = AuditContext(
            initiatedBy: AuditInitiator(kind: .app(appId: "bench"), id: "bench", displayName: "Bench", ipAddress: "127.0.0.1"),
            correlationId: UUID().uuidString.lowercased(), userAgent: "sigil-bench")
        var rates: [Bool: [Double]] = [false: [], true: []]
        // Off, on, on, off, …: each mode runs as often first as second, so whatever drifts
        // during a run (WAL size, checkpoints, caches) does not favour one.
        for round in 0..<(2 * rounds) {
            let audited = [false, true, true, false][round % 4]
            let rate = try await measure(store, ids: ids, audit: audited ? context : nil)
            rates[audited, default: []].append(rate)
            print("  round \(round / 2 + 1), audit \(audited ? "on " : "off"): \(Int(rate)) changes/s")
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let (off, on) = (median(rates[false] ?? [0]), median(rates[true] ?? [0]))
        print(
            "\(databaseURL == nil ? "SQLite" : "PostgreSQL"): \(Int(off)) changes/s without the audit record, \(Int(on)) with it "
                + "(\(String(format: "%.1f", (1 - on / off) * 100))% fewer; median of \(rounds) rounds of \(seconds) s, "
                + "\(concurrency) writers, \(users) users)")
        if case .intact(let records, _, _) = try await store.verifyAuditChain() {
            print("  audit chain intact: \(records) records")
        } else {
            throw ValidationError("the audit chain does not verify")
        }
    }

    func measure(_ store: any DirectoryStore, ids: [String], audit: AuditContext?) async throws -> Double {
        let deadline = Date().addingTimeInterval(seconds)
        let began = Date()
        let done = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var count = 0
                    while Date() < deadline {
                        let id = ids.randomElement() ?? ""
                        let value = AttributeValue.integer(Int32.random(in: 0...1_000_000))
                        try await store.modify(.user, id: id, passwordHash: nil, audit: audit) { state, _ in
                            var next = state
                            next.attributes.set("Engineering_NumVendors", [value])
                            return next
                        }
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(done) / Date().timeIntervalSince(began)
    }
}
