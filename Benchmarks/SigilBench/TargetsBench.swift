import ArgumentParser
import Foundation
import SigilCore
import SigilService
import SigilStore

/// "Which service principals does this policy select" at scale, through the use-case layer (no
/// HTTP): N service principals with the demo's Engineering values, one policy per filter rule,
/// and the first page of 100 with its exact count timed `repeats` times per rule.
struct TargetsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca-targets", abstract: "Time GET …/conditionalAccess/policies/{id}/targets at scale (service layer).")

    @Option(help: "Number of service principals.") var servicePrincipals = 1_000_000
    @Option(help: "Timed requests per rule.") var repeats = 20
    @Option(help: "Random seed.") var seed: UInt64 = 7
    @Option(help: "A postgres:// URL to load into instead of a temporary SQLite file.") var databaseURL: String?

    /// Rules with one term: case-free text, text with letters (five: 32 spellings; seven: more
    /// than the 64 spellings a term is planned with, so exact only through the texts held), and
    /// the two shapes Entra's walkthrough uses.
    static let rules = [
        #"CustomSecurityAttribute.Engineering_ProjectDate -startsWith "2024-0""#,
        #"CustomSecurityAttribute.Engineering_ProjectDate -eq "2024-05-01""#,
        #"CustomSecurityAttribute.Engineering_Project -contains "Baker""#,
        #"CustomSecurityAttribute.Engineering_Project -contains "Cascade""#,
        #"CustomSecurityAttribute.Engineering_Datacenter -eq "Rack42""#,
    ]

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sigil-targets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store: any DirectoryStore =
            if let databaseURL { try await PostgresStore(url: databaseURL) } else {
                try SQLiteStore(path: directory.appendingPathComponent("sigil.sqlite").path)
            }
        let services = try await TenantBootstrap.start(
            store: store, tenantId: nil, bootstrapClientId: nil, bootstrapSecret: nil,
            hasher: CredentialHasher(passwordRounds: 1_000), scheme: "http"
        ).services
        _ = try await DemoData.load(services: services)

        var rng = SplitMix64(state: seed)
        let began = Date()
        var index = 0
        while index < servicePrincipals {
            var batch: [NewObject] = []
            for i in index..<min(index + 5_000, servicePrincipals) {
                var values = AttributeAssignments()
                let month = 1 + Int.random(in: 0..<24, using: &rng)
                values.set("Engineering_ProjectDate", [.string(String(format: "%04d-%02d-01", 2023 + month / 13, 1 + month % 12))])
                let projects = ["Alpine", "Baker", "Cascade"].filter { _ in Int.random(in: 0..<3, using: &rng) == 0 }
                values.set("Engineering_Project", projects.map { .string($0) })
                if Int.random(in: 0..<1_000, using: &rng) == 0 { values.set("Engineering_Datacenter", [.string("Rack42")]) }
                let appId = UUID().uuidString.lowercased()
                let object = DirectoryRules.newObject(
                    .servicePrincipal, id: SigilServices.newId(), write: DirectoryWrite(),
                    serviceSet: JSONObject([
                        ("appId", .string(appId)), ("displayName", .string("Workload \(i)")), ("servicePrincipalNames", [.string(appId)]),
                    ]))
                batch.append(NewObject(object: object, attributes: values))
            }
            try await store.createAll(batch)
            index += batch.count
        }
        if let postgres = store as? PostgresStore { try await postgres.vacuumAnalyze() }
        print("loaded \(servicePrincipals) service principals in \(Int(Date().timeIntervalSince(began))) s")

        let caller = Caller(
            principalId: SigilServices.newId(), kind: .servicePrincipal,
            grants: [
                RoleGrant(role: .securityReader, scope: .tenant), RoleGrant(role: .attributeAssignmentReader, scope: .tenant),
            ])
        let policies = ConditionalAccessService(services: services)
        print("rule | selected | exact plan | first page p50 ms | p99 ms")
        for rule in Self.rules {
            let id = SigilServices.newId()
            let body: JSONValue = [
                "displayName": .string(rule), "state": "enabled",
                "conditions": [
                    "clientAppTypes": ["all"], "applications": ["includeApplications": []],
                    "clientApplications": ["includeServicePrincipals": [], "servicePrincipalFilter": ["mode": "include", "rule": .string(rule)]],
                ],
                "grantControls": ["operator": "OR", "builtInControls": ["block"]],
            ]
            let policy = try await store.changeConditionalAccessPolicy(id: id) { _, schema in
                (try ConditionalAccessRules.create(body, id: id, schema: schema, at: Date()), [])
            }
            guard let policy else { throw ValidationError("the policy for \(rule) was not stored") }
            let exact = try await policies.plannedTargets(policy, schema: try await store.schema()).plan.isExact
            var times: [Double] = []
            var selected = 0
            for _ in 0..<repeats {
                let start = Date()
                let page = try await policies.targets(id: id, caller: caller, limit: 100, position: nil)
                times.append(Date().timeIntervalSince(start) * 1_000)
                selected = page.count ?? 0
            }
            times.sort()
            let p50 = times[times.count / 2]
            let p99 = times[min(times.count - 1, Int(Double(times.count) * 0.99))]
            print("\(rule) | \(selected) | \(exact) | \(String(format: "%.1f", p50)) | \(String(format: "%.1f", p99))")
        }
    }
}
