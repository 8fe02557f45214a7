import Foundation
import Testing

@testable import SigilCore

/// "Which service principals does this policy select": the store-side plan must bound exactly
/// what the token endpoint's per-object decision selects, whatever the rule and lists say.
@Suite struct ConditionalAccessTargetsTests {
    static let schema = Schema(
        sets: [AttributeSet(id: "Engineering"), AttributeSet(id: "ConditionalAccessTest")],
        definitions: [
            AttributeDefinition(
                attributeSet: "Engineering", name: "Project", type: .string, isCollection: false, isSearchable: true,
                usePreDefinedValuesOnly: false),
            AttributeDefinition(
                attributeSet: "ConditionalAccessTest", name: "policyRequirement", type: .string, isCollection: true,
                isSearchable: true, usePreDefinedValuesOnly: false),
        ])

    /// Case variants, text without letters, the Kelvin sign (lower case `k`), U+0130 (lower case
    /// `i` and a combining dot), a combining mark after a prefix, and non-ASCII text.
    static let words = [
        "Baker", "baker", "BAKER", "Ba\u{212A}er", "Cascade", "2024", "2024-01", "GS1", "gs10", "requireMFA", "", "i",
        "\u{0130}stanbul", "Istanbul", "e\u{0301}te", "\u{00E9}te", "Stra\u{00DF}e", "STRASSE",
    ]

    static func policy(_ conditions: JSONObject) -> ConditionalAccessPolicy {
        ConditionalAccessPolicy(
            id: "p", displayName: "p", state: .enabled, createdDateTime: Date(timeIntervalSince1970: 0), conditions: conditions)
    }

    static func filter(_ mode: String, _ rule: String) -> JSONValue {
        .object(JSONObject([("mode", .string(mode)), ("rule", .string(rule))]))
    }

    static func bound(_ bound: ConditionPushdown.Bound, _ object: DirectoryObject, _ values: AttributeAssignments) -> Bool {
        switch bound {
        case .all: true
        case .none: false
        case .matching(let predicate): predicate.matches(object, values)
        }
    }

    static func randomRule(_ g: inout SplitMix64) -> String {
        let attributes = ["Engineering_Project", "ConditionalAccessTest_policyRequirement"]
        let ops = ["-eq", "-ne", "-startsWith", "-notStartsWith", "-endsWith", "-notEndsWith", "-contains", "-notContains", "-in", "-notIn"]
        func term() -> String {
            let op = ops.randomElement(using: &g) ?? "-eq"
            let attribute = attributes.randomElement(using: &g) ?? attributes[0]
            func word() -> String { "\"\(words.randomElement(using: &g) ?? "")\"" }
            let operand = op.lowercased().hasSuffix("in") ? "[\(word()), \(word())]" : word()
            return "CustomSecurityAttribute.\(attribute) \(op) \(operand)"
        }
        var rule = term()
        for _ in 0..<Int.random(in: 0...2, using: &g) {
            rule = Bool.random(using: &g) ? "(\(rule)) -and \(term())" : "\(rule) -or \(term())"
        }
        return rule
    }

    /// Lower bound ⊆ selected ⊆ upper bound, and an exact plan is the selection, over random
    /// service principals and random policies (lists, filters in both modes, both sections).
    @Test(arguments: [UInt64(1), 2, 3])
    func planBoundsTheTokenEndpointsDecision(seed: UInt64) throws {
        var g = SplitMix64(state: seed)
        let objects: [(DirectoryObject, AttributeAssignments)] = (0..<40).map { index in
            let object = DirectoryObject(
                kind: .servicePrincipal, id: "00000000-0000-0000-0000-\(String(format: "%012d", index))",
                properties: JSONObject([("appId", .string("app-\(index)")), ("displayName", .string("App \(index)"))]))
            var assigned: [AssignedAttribute] = []
            if Bool.random(using: &g) {
                assigned.append(AssignedAttribute(definitionId: "Engineering_Project", values: [.string(Self.words.randomElement(using: &g) ?? "")]))
            }
            if Bool.random(using: &g) {
                let picked = (0..<Int.random(in: 1...3, using: &g)).compactMap { _ in Self.words.randomElement(using: &g) }
                assigned.append(
                    AssignedAttribute(definitionId: "ConditionalAccessTest_policyRequirement", values: Array(Set(picked)).sorted().map { .string($0) }))
            }
            return (object, AttributeAssignments(assigned))
        }
        var heldTexts: [String: [String]] = [:]
        for (_, values) in objects {
            for assigned in values.attributes {
                let texts = assigned.values.compactMap(\.stringValue)
                heldTexts[nameKey(assigned.definitionId), default: []].append(contentsOf: texts)
            }
        }
        // Distinct as the store keeps them, by bytes: Swift's == would take "e\u{0301}te" for "\u{00E9}te".
        heldTexts = heldTexts.mapValues { texts in
            var seen = Set<[UInt8]>()
            return texts.filter { seen.insert(Array($0.utf8)).inserted }
        }
        var exactPlans = 0
        for _ in 0..<150 {
            var client = JSONObject()
            var applications = JSONObject()
            let someIds = { (prefix: String) -> JSONValue in
                .array(
                    (0..<Int.random(in: 0...3, using: &g)).map { _ in
                        let index = Int.random(in: 0..<40, using: &g)
                        return .string(prefix == "id" ? objects[index].0.id : "APP-\(index)")
                    })
            }
            switch Int.random(in: 0...2, using: &g) {
            case 0: client.append("includeServicePrincipals", ["ServicePrincipalsInMyTenant"])
            case 1: client.append("includeServicePrincipals", someIds("id"))
            default: break
            }
            client.append("excludeServicePrincipals", someIds("id"))
            if Bool.random(using: &g) {
                client.append("servicePrincipalFilter", Self.filter(Bool.random(using: &g) ? "include" : "exclude", Self.randomRule(&g)))
            }
            applications.append("includeApplications", Bool.random(using: &g) ? ["All"] : someIds("app"))
            applications.append("excludeApplications", someIds("app"))
            if Bool.random(using: &g) {
                applications.append("applicationFilter", Self.filter(Bool.random(using: &g) ? "include" : "exclude", Self.randomRule(&g)))
            }
            let policy = Self.policy(JSONObject([("clientApplications", .object(client)), ("applications", .object(applications))]))
            let targets = ConditionalAccessTargets(policy: policy, schema: Self.schema)
            if targets.plan.isExact { exactPlans += 1 }
            // With the texts the objects hold, as the store reads them: every plan is exact.
            let held = ConditionalAccessTargets(policy: policy, schema: Self.schema, heldTexts: heldTexts)
            #expect(held.plan.isExact, "\(policy.conditions) with the held texts")
            for targets in [targets, held] {
                for (object, values) in objects {
                    let selected = !targets.roles(of: object, values).isEmpty
                    let lower = Self.bound(targets.plan.lower, object, values)
                    let upper = Self.bound(targets.plan.upper, object, values)
                    #expect(!lower || selected, "\(policy.conditions) admits \(object.id) below but not in truth")
                    #expect(!selected || upper, "\(policy.conditions) selects \(object.id) outside the upper bound")
                    if targets.plan.isExact { #expect(lower == selected, "\(policy.conditions) exact but wrong on \(object.id)") }
                }
            }
        }
        #expect(exactPlans > 10, "the random policies should include exact plans")
    }

    /// ASCII text goes to the store exactly, as the `or` of its spellings; other text needs the
    /// per-object check, since filters ignore case and the query engine does not.
    @Test func caselessTextIsExact() {
        func plan(_ rule: String) -> ConditionPushdown.Plan {
            let conditions = JSONObject([
                ("clientApplications", .object(JSONObject([("servicePrincipalFilter", Self.filter("include", rule))])))
            ])
            return ConditionalAccessTargets(policy: Self.policy(conditions), schema: Self.schema).plan
        }
        #expect(plan(#"CustomSecurityAttribute.Engineering_Project -startsWith "2024""#).isExact)
        #expect(plan(#"CustomSecurityAttribute.Engineering_Project -notIn ["2024", "2025"]"#).isExact)
        #expect(plan(#"CustomSecurityAttribute.Engineering_Project -eq "Baker""#).isExact)
        #expect(plan(#"CustomSecurityAttribute.Engineering_Project -startsWith "Bak""#).isExact)
        #expect(!plan(#"CustomSecurityAttribute.Engineering_Project -eq "Straße""#).isExact, "not ASCII")
        #expect(!plan(#"CustomSecurityAttribute.Engineering_Project -eq "EngineeringTeam""#).isExact, "2^15 spellings")
        #expect(!plan(#"CustomSecurityAttribute.Engineering_Project -endsWith "24""#).isExact)
        // With the spellings objects hold, any text and operator is exact: the or of those that satisfy it.
        let held = [nameKey("Engineering_Project"): ["Straße", "STRASSE", "EngineeringTeam", "Baker", "2024"]]
        func heldPlan(_ rule: String) -> ConditionPushdown.Plan {
            let conditions = JSONObject([
                ("clientApplications", .object(JSONObject([("servicePrincipalFilter", Self.filter("include", rule))])))
            ])
            return ConditionalAccessTargets(policy: Self.policy(conditions), schema: Self.schema, heldTexts: held).plan
        }
        let straße = ConditionPushdown.Bound.matching(.attribute(Self.schema.definitions[0], .equals(.string("Straße"))))
        #expect(heldPlan(#"CustomSecurityAttribute.Engineering_Project -eq "straße""#) == ConditionPushdown.Plan(lower: straße, upper: straße))
        #expect(heldPlan(#"CustomSecurityAttribute.Engineering_Project -eq "engineeringteam""#).isExact)
        #expect(heldPlan(#"CustomSecurityAttribute.Engineering_Project -endsWith "24""#).isExact)
        #expect(heldPlan(#"CustomSecurityAttribute.Engineering_Project -eq "Nobody""#) == ConditionPushdown.Plan(lower: .none, upper: .none))
        #expect(ConditionalAccessTargets.caseVariants("Bak")?.sorted() == ["BAK", "BA\u{212A}", "BAk", "BaK", "Ba\u{212A}", "Bak", "bAK", "bA\u{212A}", "bAk", "baK", "ba\u{212A}", "bak"].sorted())
        // A rule that no longer checks against the schema selects nothing, as at the token endpoint.
        #expect(plan(#"CustomSecurityAttribute.Engineering_Gone -eq "x""#) == ConditionPushdown.Plan(lower: .none, upper: .none))
    }

    @Test func rolesNameBothSections() {
        let sp = DirectoryObject(kind: .servicePrincipal, id: "a", properties: JSONObject([("appId", .string("app-a"))]))
        let both = Self.policy(
            JSONObject([
                ("clientApplications", .object(JSONObject([("includeServicePrincipals", ["a"])]))),
                ("applications", .object(JSONObject([("includeApplications", ["APP-A"])]))),
            ]))
        #expect(ConditionalAccessTargets(policy: both, schema: Self.schema).roles(of: sp, AttributeAssignments()) == [.workloadIdentity, .application])
        let none = Self.policy(JSONObject([("users", .object(JSONObject([("includeUsers", ["All"])])))]))
        let targets = ConditionalAccessTargets(policy: none, schema: Self.schema)
        #expect(targets.roles(of: sp, AttributeAssignments()).isEmpty)
        #expect(targets.plan == ConditionPushdown.Plan(lower: .none, upper: .none))
    }
}
