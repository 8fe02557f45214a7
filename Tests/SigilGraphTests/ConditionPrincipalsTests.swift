import Foundation
import SigilCore
import SigilStore
import Testing

@testable import SigilGraph
@testable import SigilService

/// `POST /sigil/v1/conditions/principals`: "who would this condition admit", checked against
/// brute-force evaluation of every principal for random conditions over a random tenant (on the
/// store the suite runs on: SQLite, or PostgreSQL with SIGIL_TEST_DATABASE_URL).
@Suite struct ConditionPrincipalsTests {
    static let prefix = "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Prop_"

    /// A small deterministic generator, so a failure repeats.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
        mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
    }

    static func term(_ g: inout Generator) -> String {
        let p = prefix
        return g.pick([
            "\(p)Name] StringEquals '\(g.pick(["a", "ab", "b"]))'",
            "\(p)Name] StringNotEquals '\(g.pick(["a", "ab", "b"]))'",
            "\(p)Name] StringStartsWith '\(g.pick(["a", "b", ""]))'",
            "\(p)Name] StringNotStartsWith '\(g.pick(["a", "b"]))'",
            "\(p)Name] StringEqualsIgnoreCase 'A'",
            "\(p)Name] StringLike 'a*'",
            "\(p)Name] StringEquals @Resource[name]",
            "\(p)Tags] ForAnyOfAnyValues:StringEquals {\(g.pick(["'x'", "'x', 'y'", "'z'"]))}",
            "\(p)Tags] ForAllOfAnyValues:StringEquals {\(g.pick(["'x'", "'x', 'y'"]))}",
            "\(p)Tags] ForAnyOfAnyValues:StringNotEquals {\(g.pick(["'x'", "'x', 'y'"]))}",
            "\(p)Tags] ForAnyOfAllValues:StringEquals {\(g.pick(["'x'", "'x', 'y'"]))}",
            "\(p)Tags] ForAllOfAllValues:StringNotEquals {'y'}",
            "\(p)Level] NumericEquals \(g.pick([1, 2, 3]))",
            "\(p)Level] NumericNotEquals \(g.pick([1, 2]))",
            "\(p)Level] NumericGreaterThan 1",
            "\(p)Level] ForAnyOfAnyValues:NumericEquals {1, 3}",
            "\(p)Flag] BoolEquals \(g.pick(["true", "false"]))",
            "\(p)Flag] BoolNotEquals true",
            "Exists \(p)\(g.pick(["Name", "Tags", "Level", "Flag"]))]",
            "ActionMatches{'\(g.pick(["read", "write"]))'}",
        ])
    }

    static func condition(_ g: inout Generator, depth: Int) -> String {
        guard depth > 0, g.chance(65) else { return term(&g) }
        switch g.next() % 3 {
        case 0: return "NOT (\(condition(&g, depth: depth - 1)))"
        case 1: return "(\(condition(&g, depth: depth - 1))) AND (\(condition(&g, depth: depth - 1)))"
        default: return "(\(condition(&g, depth: depth - 1))) OR (\(condition(&g, depth: depth - 1)))"
        }
    }

    static func values(_ g: inout Generator) -> JSONValue {
        var members = JSONObject([("@odata.type", "#Microsoft.DirectoryServices.CustomSecurityAttributeValue")])
        if g.chance(70) { members["Name"] = .string(g.pick(["a", "ab", "b", "A", "ba"])) }
        if g.chance(70) {
            members["Tags@odata.type"] = "#Collection(String)"
            members["Tags"] = .array([["x"], ["y"], ["x", "y"], ["z", "x"]][Int(g.next() % 4)].map { .string($0) })
        }
        if g.chance(70) {
            members["Level@odata.type"] = "#Int32"
            members["Level"] = .integer(Int64(g.pick([1, 2, 3])))
        }
        if g.chance(70) { members["Flag"] = .bool(g.chance(50)) }
        return ["customSecurityAttributes": ["Prop": .object(members)]]
    }

    static func seed(_ tenant: TestTenant) async throws {
        let bodies: [JSONValue] = [
            ["id": "Prop", "description": "Property test", "maxAttributesPerSet": 25],
            DemoData.definition("Prop", "Name", "Name", type: "String", collection: false),
            DemoData.definition("Prop", "Tags", "Tags", type: "String", collection: true),
            DemoData.definition("Prop", "Level", "Level", type: "Integer", collection: false),
            DemoData.definition("Prop", "Flag", "Flag", type: "Boolean", collection: false),
        ]
        try await tenant.store.changeSchema { schema in try DemoData.schemaChanges(creating: bodies, in: schema) }
    }

    /// Every principal the condition admits, in memory: the reference.
    static func bruteForce(_ condition: AccessCondition, _ input: ConditionInput, store: any DirectoryStore, reader: String)
        async throws -> Set<String>
    {
        var admitted: Set<String> = []
        for kind in [DirectoryObjectKind.user, .servicePrincipal] {
            var cursor: Int64?
            repeat {
                let page = try await store.objects(kind, after: cursor, limit: 500)
                let values = try await store.attributes(of: page.objects.map(\.id))
                for object in page.objects {
                    var principal = input
                    principal.principal = object.id == reader ? AttributeAssignments() : values[object.id] ?? AttributeAssignments()
                    if ConditionEvaluator.evaluate(condition, principal) { admitted.insert(object.id) }
                }
                cursor = page.next
            } while cursor != nil
        }
        return admitted
    }

    @Test func admittedPrincipalsEqualBruteForce() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        let admin = try await tenant.servicePrincipal("Assigner", grants: [.tenant(.attributeAssignmentAdministrator)])
        let reader = try await tenant.servicePrincipal("Asker", grants: [.tenant(.attributeAssignmentReader)])
        var g = Generator(state: 0x5167_11)
        var ids: [String] = [reader.id]
        for i in 0..<14 { ids.append(try await tenant.user("User\(i)").id) }
        for i in 0..<6 { ids.append(try await tenant.servicePrincipal("App\(i)").id) }
        var bodies: [(String, JSONValue)] = []
        for id in ids where !g.chance(15) { bodies.append((id, Self.values(&g))) }
        let conditions = (0..<60).map { _ in Self.condition(&g, depth: 3) }
        let pending = bodies
        let caller = try await tenant.services.caller(principalId: reader.id, isApp: true)
        try await tenant.test { client in
            for (id, body) in pending {
                let kind = try await tenant.store.object(.user, id: id) == nil ? "servicePrincipals" : "users"
                let reply = try await client.patch("/v1.0/\(kind)/\(id)", token: admin.token, body)
                #expect(reply.status.code == 204, "\(reply.text)")
            }
            let tester = try ConditionService(services: tenant.services).tester(for: caller)
            var pushed = 0
            for text in conditions {
                let request = try ConditionRequest(["condition": .string(text), "action": "read", "resource": ["name": "a"]])
                let parsed = try ConditionParser.parse(text)
                let input = ConditionInput(action: "read", resource: JSONObject([("name", "a")]))
                let expected = try await Self.bruteForce(parsed, input, store: tenant.store, reader: reader.id)
                var seen: [String] = []
                var position: String?
                var count: Int?
                var pages = 0
                repeat {
                    let page = try await tester.principals(request, limit: 4, position: position)
                    if position == nil {
                        count = page.count
                        if page.pushedDown { pushed += 1 }
                    }
                    seen += page.principals.map(\.id)
                    position = page.next
                    pages += 1
                } while position != nil && pages < 100
                #expect(Set(seen) == expected, "\(text)")
                #expect(seen.count == Set(seen).count, "no principal twice: \(text)")
                #expect(count == expected.count, "\(text)")
            }
            // The engine answers most of these alone; the rest exercise the per-candidate path.
            #expect(pushed > 10)
            #expect(pushed < conditions.count)
        }
    }

    @Test func routePagesWithCountAndRefusesUnreadableSets() async throws {
        let tenant = try await TestTenant.make()
        try await Self.seed(tenant)
        let admin = try await tenant.servicePrincipal("Assigner", grants: [.tenant(.attributeAssignmentAdministrator)])
        let reader = try await tenant.servicePrincipal("Asker", grants: [.tenant(.attributeAssignmentReader)])
        let outsider = try await tenant.servicePrincipal("Outsider", grants: [.set(.attributeAssignmentReader, "Other")])
        var ids: [String] = []
        for i in 0..<5 { ids.append(try await tenant.user("Member\(i)").id) }
        let users = ids
        try await tenant.test { client in
            for id in users {
                let body: JSONValue = [
                    "customSecurityAttributes": [
                        "Prop": ["@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue", "Name": "a"]
                    ]
                ]
                #expect(try await client.patch("/v1.0/users/\(id)", token: admin.token, body).status.code == 204)
            }
            let body: JSONValue = ["condition": .string("\(Self.prefix)Name] StringEquals 'a'")]
            let first = try await client.post("/sigil/v1/conditions/principals?$top=2", token: reader.token, body)
            #expect(first.status == .ok, "\(first.text)")
            #expect(first["@odata.count"] == 5)
            var seen = first.values.compactMap { $0.objectValue?["id"]?.stringValue }
            var link = first["@odata.nextLink"]?.stringValue
            while let next = link {
                let page = try await client.post(GraphClient.pathAndQuery(of: next), token: reader.token, body)
                #expect(page.status == .ok, "\(page.text)")
                #expect(page["@odata.count"] == nil)
                seen += page.values.compactMap { $0.objectValue?["id"]?.stringValue }
                link = page["@odata.nextLink"]?.stringValue
            }
            #expect(Set(seen) == Set(users))
            // A token is bound to its body.
            if let next = first["@odata.nextLink"]?.stringValue {
                let other = try await client.post(
                    GraphClient.pathAndQuery(of: next), token: reader.token, ["condition": .string("\(Self.prefix)Name] StringEquals 'b'")])
                #expect(other.status.code == 400)
            }
            try await client.post("/sigil/v1/conditions/principals", token: outsider.token, body).expectError(403, "Authorization_RequestDenied")
        }
    }
}
