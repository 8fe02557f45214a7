import Testing

@testable import SigilCore

/// `BatchRules`: targets, the run order with and without dependsOn, and cycles of any length.
@Suite struct BatchRulesTests {
    static func step(_ id: String, _ url: String = "/users", dependsOn: [String] = []) -> JSONValue {
        ["id": .string(id), "method": "GET", "url": .string(url), "dependsOn": .array(dependsOn.map { .string($0) })]
    }

    static func parse(_ steps: [JSONValue], version: String = "v1.0") throws -> [BatchStep] {
        try BatchRules.parse(["requests": .array(steps)], version: version)
    }

    @Test func targetsRunUnderTheBatchVersionUnlessTheyNameOne() throws {
        let steps = try Self.parse(
            [Self.step("1", "users?$top=1"), Self.step("2", "/beta/users"), Self.step("3", "/v1.0/me"), Self.step("4", "/betamax")],
            version: "beta")
        #expect(steps.map(\.target) == ["/beta/users?$top=1", "/beta/users", "/v1.0/me", "/beta/betamax"])
    }

    @Test func withoutDependenciesTheListedOrderRuns() throws {
        let steps = try Self.parse((0..<20).map { Self.step("s\($0)") })
        #expect(BatchRules.executionOrder(steps) == Array(0..<20))
    }

    @Test func dependenciesRunFirstAndTheRestKeepTheirPlace() throws {
        let steps = try Self.parse([
            Self.step("a", dependsOn: ["d"]), Self.step("b"), Self.step("c", dependsOn: ["A", "b"]), Self.step("d"),
        ])
        #expect(steps[2].dependsOn == [0, 1])
        #expect(BatchRules.executionOrder(steps) == [1, 3, 0, 2])
    }

    @Test func bothSpellingsOfDependsOnAreReadAndChecked() throws {
        let steps = try Self.parse([
            Self.step("a"), Self.step("b"), ["id": "c", "method": "GET", "url": "/users", "dependsOn": ["a"], "depends_on": ["b"]],
        ])
        #expect(steps[2].dependsOn == [0, 1])
        for bad: JSONValue in [[.object(JSONObject())], [""], "a", [1]] {
            #expect(throws: GraphError.self) {
                try Self.parse([Self.step("a"), ["id": "c", "method": "GET", "url": "/users", "dependsOn": [], "depends_on": bad]])
            }
        }
    }

    @Test func cyclesOfAnyLengthAreRefused() {
        for length in 2...20 {
            let steps = (0..<length).map { Self.step("s\($0)", dependsOn: ["s\(($0 + 1) % length)"]) }
            #expect(throws: GraphError.self) { try Self.parse(steps) }
        }
        // A diamond is not a cycle.
        #expect(throws: Never.self) {
            try Self.parse([
                Self.step("top"), Self.step("l", dependsOn: ["top"]), Self.step("r", dependsOn: ["top"]),
                Self.step("bottom", dependsOn: ["l", "r"]),
            ])
        }
    }
}
