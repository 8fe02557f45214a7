import ArgumentParser
import Foundation
import SigilCore
import SigilService
import SigilStore

@main
struct SigilBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sigil-bench",
        abstract: "Benchmark data for Sigil.",
        subcommands: [Generate.self, AuditCost.self, TargetsBench.self])
}

extension Generate {
    /// What bench.json holds; `scripts/bench` regenerates a cached tenant written by an older version.
    /// 2: `filters` with their texts, every count computed from `BenchFilter`, bench-restore.tsv.
    static let factsVersion = 2
}

/// Loads N users with realistic custom security attributes straight through the store, and
/// writes what the load scripts need: credentials, sample ids (with each one's generated
/// NumVendors, so the bench can undo its PATCH load), and each `BenchFilter` with its true count.
/// As `sigil serve` does, it takes the bootstrap application's credentials from
/// CSA_BOOTSTRAP_CLIENT_ID and CSA_BOOTSTRAP_CLIENT_SECRET when set (a bench that needs a Global
/// Administrator on the generated tenant knows them then).
struct Generate: AsyncParsableCommand {
    @Option(help: "Data directory of the tenant to create (must not exist).") var dataDir: String
    @Option(help: "Number of users.") var users = 1_000_000
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "A postgres:// URL to load into instead of <data-dir>/sigil.sqlite (the data directory keeps the facts).")
    var databaseURL: String?

    /// 30 countries with skew: United States ~25% of users, Canada ~8%, Chile ~1%.
    static let countries: [(String, Double)] = [
        ("United States", 25), ("India", 12), ("Germany", 9), ("Canada", 8), ("United Kingdom", 7), ("France", 6),
        ("Japan", 5), ("Brazil", 4), ("Mexico", 3.5), ("Australia", 3), ("Spain", 2.5), ("Italy", 2.2),
        ("Netherlands", 2), ("Sweden", 1.8), ("Poland", 1.6), ("Korea", 1.5), ("Singapore", 1.4), ("Ireland", 1.3),
        ("Chile", 1), ("Norway", 0.9), ("Denmark", 0.8), ("Finland", 0.7), ("Belgium", 0.7), ("Austria", 0.6),
        ("Portugal", 0.5), ("Israel", 0.5), ("Argentina", 0.4), ("Colombia", 0.4), ("Turkey", 0.3), ("Egypt", 0.3),
    ]

    typealias Random = SplitMix64

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: dataDir) else {
            throw ValidationError("\(dataDir) exists; the generator creates a fresh tenant.")
        }
        // Owner only: sigil serve refuses a data directory other users can read.
        try FileManager.default.createDirectory(
            atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let store: any DirectoryStore =
            if let databaseURL {
                try await PostgresStore(url: databaseURL)
            } else {
                try SQLiteStore(path: (dataDir as NSString).appendingPathComponent("sigil.sqlite"))
            }
        let environment = ProcessInfo.processInfo.environment
        let start = try await TenantBootstrap.start(
            store: store, tenantId: nil, bootstrapClientId: environment["CSA_BOOTSTRAP_CLIENT_ID"],
            bootstrapSecret: environment["CSA_BOOTSTRAP_CLIENT_SECRET"],
            hasher: CredentialHasher(passwordRounds: 1_000), scheme: "http")
        let services = start.services
        // The demo's sets and definitions, through the real rules.
        let demo = try await DemoData.load(services: services)

        var rng = Random(state: seed)
        let total = Self.countries.reduce(0) { $0 + $1.1 }
        func country() -> String {
            var pick = Double.random(in: 0..<total, using: &rng)
            for (name, weight) in Self.countries {
                pick -= weight
                if pick < 0 { return name }
            }
            return "United States"
        }
        var truth: [String: Int] = [:]
        var sampleIds: [String] = []
        var restore: [String] = []
        for filter in BenchFilter.all { truth[filter.name] = 0 }
        func count(_ user: BenchUser) {
            for filter in BenchFilter.all where filter.matches(user) { truth[filter.name, default: 0] += 1 }
        }
        let began = Date()
        let batchSize = 5_000
        var index = 0
        while index < users {
            var batch: [NewObject] = []
            for i in index..<min(index + batchSize, users) {
                let id = UUID().uuidString.lowercased()
                let sampled = i % max(1, users / 10_000) == 0
                if sampled { sampleIds.append(id) }
                var values = AttributeAssignments()
                var user = BenchUser()
                var held = Set<String>()
                for _ in 0..<(1 + Int.random(in: 0..<3, using: &rng)) { held.insert(country()) }
                values.set("Marketing_AppCountry", held.sorted().map { .string($0) })
                user.countries = held
                // Unique ids: 60% GS, 40% KX; 'GS10000' matches a handful.
                let employeeId = (i % 5 < 3 ? "GS" : "KX") + String(i)
                values.set("Marketing_EmployeeId", [.string(employeeId)])
                user.employeeId = employeeId
                let projects = ["Alpine", "Baker", "Cascade"].filter { _ in Int.random(in: 0..<3, using: &rng) == 0 }
                values.set("Engineering_Project", projects.map { .string($0) })
                let numVendors = Int32.random(in: 0...20, using: &rng)
                values.set("Engineering_NumVendors", [.integer(numVendors)])
                let certification = Bool.random(using: &rng)
                values.set("Engineering_Certification", [.boolean(certification)])
                (user.projects, user.numVendors, user.certification) = (projects, Int(numVendors), certification)
                count(user)
                if sampled { restore.append("\(id)\t\(numVendors)") }
                let object = DirectoryRules.newObject(
                    .user, id: id,
                    write: DirectoryWrite(
                        properties: JSONObject([
                            ("accountEnabled", true), ("displayName", .string("User \(i)")), ("mailNickname", .string("user\(i)")),
                            ("userPrincipalName", .string("user\(i)@bench.sigil.local")),
                        ])),
                    serviceSet: JSONObject())
                batch.append(NewObject(object: object, attributes: values))
            }
            try await store.createAll(batch)
            index += batch.count
            if index % 100_000 == 0 || index == users {
                let rate = Double(index) / Date().timeIntervalSince(began)
                print("  \(index) users loaded (\(Int(rate)) users/s)")
            }
        }
        // The demo's seven users are in the tenant too.
        BenchUser.demo.forEach(count)
        truth["users"] = users + DemoData.userNames.count
        // Statistics and the visibility map, so the planner knows the data and can scan indexes only.
        if let postgres = store as? PostgresStore { try await postgres.vacuumAnalyze() }
        let elapsed = Date().timeIntervalSince(began)
        // The first start reads the filter structures as after a graceful stop, instead of building them.
        let preparing = Date()
        try await store.prepareFilterStructures()
        try await store.keepFilterStructures()
        print("Filter structures built and kept in \(String(format: "%.1f", Date().timeIntervalSince(preparing))) s.")
        let facts: JSONValue = [
            "tenantId": .string(services.tenantId), "clientId": .string(demo.clientId),
            "version": .integer(Int64(Self.factsVersion)),
            "clientSecret": JSONValue(demo.clientSecret), "users": .integer(Int64(users)),
            "loadSeconds": .double(elapsed), "usersPerSecond": .double(Double(users) / elapsed),
            "truth": .object(JSONObject(truth.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.integer(Int64($0.value))) })),
            "filters": .object(JSONObject(BenchFilter.all.map { ($0.name, JSONValue.string($0.filter)) })),
        ]
        try Data(facts.serialized()).write(to: URL(fileURLWithPath: (dataDir as NSString).appendingPathComponent("bench.json")))
        try (sampleIds.joined(separator: "\n") + "\n").write(
            toFile: (dataDir as NSString).appendingPathComponent("bench-ids.txt"), atomically: true, encoding: .utf8)
        try (restore.joined(separator: "\n") + "\n").write(
            toFile: (dataDir as NSString).appendingPathComponent("bench-restore.tsv"), atomically: true, encoding: .utf8)
        print("Generated \(users) users in \(String(format: "%.1f", elapsed)) s (\(Int(Double(users) / elapsed)) users/s).")
    }
}
