import Testing

@testable import SigilCore

private let blobRead = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"

private func parse(_ text: String, schema: Schema? = nil) throws -> AccessCondition {
    try ConditionParser.parse(text, schema: schema)
}

private func holds(_ text: String, _ input: ConditionInput = ConditionInput(action: blobRead)) throws -> Bool {
    ConditionEvaluator.evaluate(try parse(text), input)
}

private func error(_ text: String, schema: Schema? = nil) -> ConditionError? {
    do {
        _ = try ConditionParser.parse(text, schema: schema)
        return nil
    } catch {
        return error
    }
}

private let engineering = Schema(
    sets: [AttributeSet(id: "Engineering")],
    definitions: [
        AttributeDefinition(attributeSet: "Engineering", name: "Project", type: .string, isCollection: false, isSearchable: true, usePreDefinedValuesOnly: false),
        AttributeDefinition(attributeSet: "Engineering", name: "Skills", type: .string, isCollection: true, isSearchable: true, usePreDefinedValuesOnly: false),
        AttributeDefinition(attributeSet: "Engineering", name: "Level", type: .integer, isCollection: false, isSearchable: true, usePreDefinedValuesOnly: false),
        AttributeDefinition(attributeSet: "Engineering", name: "Cleared", type: .boolean, isCollection: false, isSearchable: true, usePreDefinedValuesOnly: false),
    ])

private func resource(_ members: [(String, JSONValue)]) -> JSONObject { JSONObject(members.map { (key: $0.0, value: $0.1) }) }

/// "Azure role assignment condition format and syntax": the operator tables and the examples.
@Suite struct ConditionFormatAndSyntaxTests {
    @Test func operatorExamplesTable() throws {
        // Cross product comparison operators, each example with the result the page gives.
        let table: [(String, Bool)] = [
            ("{'red', 'blue'} ForAnyOfAnyValues:StringEquals {'blue', 'green'}", true),
            ("{'red', 'blue'} ForAnyOfAnyValues:StringEquals {'orange', 'green'}", false),
            ("{'red', 'blue'} ForAllOfAnyValues:StringEquals {'orange', 'red', 'blue'}", true),
            ("{'red', 'blue'} ForAllOfAnyValues:StringEquals {'red', 'green'}", false),
            ("{10, 20} ForAnyOfAllValues:NumericLessThan {15, 18}", true),
            ("{10, 20} ForAllOfAllValues:NumericLessThan {5, 15, 18}", false),
            ("{10, 20} ForAllOfAllValues:NumericLessThan {25, 30}", true),
            ("{10, 20} ForAllOfAllValues:NumericLessThan {15, 25, 30}", false),
        ]
        for (text, expected) in table {
            #expect(try holds(text) == expected, "\(text)")
        }
    }

    @Test func actionMatchesExamples() throws {
        let write = ConditionInput(action: "Microsoft.Authorization/roleAssignments/write")
        #expect(try holds("ActionMatches{'Microsoft.Authorization/roleAssignments/*'}", write))
        #expect(try !holds("ActionMatches{'Microsoft.Authorization/roleDefinitions/*'}", write))
        #expect(try holds("ActionMatches{'\(blobRead)'}"))
    }

    @Test func stringLikeExamples() throws {
        let abcd = ConditionInput(action: blobRead, resource: resource([("name1", "abcd")]))
        #expect(try holds("@Resource[name1] StringLike 'a*c?'", abcd))
        #expect(try !holds("@Resource[name1] StringLike 'A*C?'", abcd))
        #expect(try !holds("@Resource[name1] StringLike 'a*c'", abcd))
        #expect(try holds("@Resource[name1] StringLikeIgnoreCase 'A*C?'", abcd))
        #expect(try holds("@Resource[name1] StringNotLike 'a*c'", abcd))
        // The special characters table: `\*` and `\?` match themselves.
        let star = ConditionInput(action: blobRead, resource: resource([("name1", "a*c?")]))
        #expect(try holds(#"@Resource[name1] StringLike 'a\*c\?'"#, star))
        #expect(try !holds(#"@Resource[name1] StringLike 'a\*c\?'"#, abcd))
    }

    /// `ConditionValues.like` takes shortcuts for patterns without wildcards and with one `*` at
    /// the end: for random values and patterns it answers as a plain glob match does (`*` any
    /// run, `?` one character, `\*` and `\?` literal when escapes count), accents and case included.
    @Test func likeAnswersAsAGlobMatch() {
        func reference(_ value: [Character], _ pattern: [Character], _ escapes: Bool) -> Bool {
            guard let first = pattern.first else { return value.isEmpty }
            if escapes, first == "\\", pattern.count > 1, pattern[1] == "*" || pattern[1] == "?" {
                return value.first == pattern[1] && reference(Array(value.dropFirst()), Array(pattern.dropFirst(2)), escapes)
            }
            switch first {
            case "*": return (0...value.count).contains { reference(Array(value.dropFirst($0)), Array(pattern.dropFirst()), escapes) }
            case "?": return !value.isEmpty && reference(Array(value.dropFirst()), Array(pattern.dropFirst()), escapes)
            default: return value.first == first && reference(Array(value.dropFirst()), Array(pattern.dropFirst()), escapes)
            }
        }
        var rng = SplitMix64(state: 17)
        let alphabet: [Character] = ["a", "b", "A", "é", "e\u{301}", "/", "*", "?", "\\"]
        for _ in 0..<4_000 {
            let value = String((0..<Int.random(in: 0...5, using: &rng)).map { _ in alphabet[Int.random(in: 0..<6, using: &rng)] })
            let pattern = String((0..<Int.random(in: 0...5, using: &rng)).map { _ in alphabet.randomElement(using: &rng) ?? "a" })
            for escapes in [false, true] {
                #expect(
                    ConditionValues.like(value, pattern: pattern, escapes: escapes) == reference(Array(value), Array(pattern), escapes),
                    "\(value) like \(pattern), escapes \(escapes)")
            }
        }
        #expect(ConditionValues.like(blobRead, pattern: "Microsoft.Storage/*", escapes: false))
        #expect(!ConditionValues.like(blobRead, pattern: "Microsoft.Storage/*/write", escapes: false))
    }

    /// The string comparison table: each operator and its IgnoreCase and Not forms.
    @Test func stringOperators() throws {
        let input = ConditionInput(action: blobRead, resource: resource([("name", "Cascade")]))
        let table: [(String, Bool)] = [
            ("StringEquals 'Cascade'", true), ("StringEquals 'cascade'", false),
            ("StringEqualsIgnoreCase 'cascade'", true), ("StringNotEquals 'cascade'", true),
            ("StringNotEqualsIgnoreCase 'cascade'", false), ("StringStartsWith 'Cas'", true),
            ("StringStartsWith 'cas'", false), ("StringStartsWithIgnoreCase 'cas'", true),
            ("StringNotStartsWith 'Cas'", false), ("StringNotStartsWithIgnoreCase 'x'", true),
            ("StringLike 'C*e'", true), ("StringNotLikeIgnoreCase 'c*E'", false),
        ]
        for (tail, expected) in table {
            #expect(try holds("@Resource[name] \(tail)", input) == expected, "\(tail)")
        }
    }

    @Test func numericBoolGuidAndDateTimeOperators() throws {
        let input = ConditionInput(
            action: blobRead,
            resource: resource([
                ("n", 10), ("flag", true), ("id", "5E467623-BB1F-42F4-A55D-6E525E11384B"),
                ("versionId", "2022-06-01T00:00:00.0Z"),
            ]))
        let table: [(String, Bool)] = [
            ("@Resource[n] NumericEquals 10", true), ("@Resource[n] NumericNotEquals 10", false),
            ("@Resource[n] NumericGreaterThan 9", true), ("@Resource[n] NumericGreaterThanEquals 10", true),
            ("@Resource[n] NumericLessThan 10", false), ("@Resource[n] NumericLessThanEquals 10", true),
            ("@Resource[flag] BoolEquals true", true), ("@Resource[flag] BoolNotEquals true", false),
            // GUIDs compare case-insensitively, quoted or bare.
            ("@Resource[id] GuidEquals 5e467623-bb1f-42f4-a55d-6e525e11384b", true),
            ("@Resource[id] GuidNotEquals '5e467623-bb1f-42f4-a55d-6e525e11384b'", false),
            ("@Resource[id] ForAnyOfAnyValues:GuidEquals {5e467623-bb1f-42f4-a55d-6e525e11384b, a795c7a0-d4a2-40c1-ae25-d81f01202912}", true),
            // Full precision: seven fractional digits.
            ("@Resource[versionId] DateTimeEquals '2022-06-01T00:00:00.0Z'", true),
            ("@Resource[versionId] DateTimeEquals '2022-06-01T00:00:00.0000001Z'", false),
            ("@Resource[versionId] DateTimeNotEquals '2022-06-01T00:00:00Z'", false),
            ("@Resource[versionId] DateTimeGreaterThan '2022-05-31T23:59:59.9999999Z'", true),
            ("@Resource[versionId] DateTimeGreaterThanEquals '2022-06-01T00:00:00Z'", true),
            ("@Resource[versionId] DateTimeLessThan '2022-06-01T00:00:00Z'", false),
            ("@Resource[versionId] DateTimeLessThanEquals '2024-02-29T00:00:00Z'", true),
        ]
        for (text, expected) in table {
            #expect(try holds(text, input) == expected, "\(text)")
        }
    }

    @Test func logicalOperatorsBothSpellings() throws {
        let t = "{1} ForAnyOfAnyValues:NumericEquals {1}"
        let f = "{1} ForAnyOfAnyValues:NumericEquals {2}"
        #expect(try holds("\(t) AND \(t)"))
        #expect(try !holds("\(t) && \(f)"))
        #expect(try holds("\(f) OR \(t)"))
        #expect(try holds("\(f) || \(t)"))
        #expect(try holds("NOT \(f)"))
        #expect(try holds("!(\(f))"))
        #expect(try holds("\(t) and \(t)"), "keywords are case-insensitive")
    }

    @Test func existsAndItsOrExample() throws {
        let versioned = ConditionInput(
            action: blobRead, request: resource([("Microsoft.Storage/storageAccounts/blobServices/containers/blobs:versionId", "2022-06-01T00:00:00.0Z")]))
        let text =
            "@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:versionId] DateTimeEquals '2022-06-01T00:00:00.0Z' OR NOT Exists @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:versionId]"
        #expect(try holds(text, versioned))
        #expect(try holds(text), "no version id: NOT Exists holds")
        #expect(try holds("Exists @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:snapshot]") == false)
    }

    @Test func simpleConditionAndHowItIsEvaluated() throws {
        let text = """
            (
                (
                    !(ActionMatches{'\(blobRead)'})
                )
                OR
                (
                    @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]
                    StringEquals 'blobs-example-container'
                )
            )
            """
        let named = resource([("Microsoft.Storage/storageAccounts/blobServices/containers:name", "blobs-example-container")])
        #expect(try holds(text, ConditionInput(action: blobRead, resource: named)))
        #expect(try !holds(text, ConditionInput(action: blobRead, resource: resource([("name", "other")]))))
        // Another action is not restricted by this condition.
        #expect(try holds(text, ConditionInput(action: "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write")))
    }

    @Test func subOperations() throws {
        let text = "!(ActionMatches{'\(blobRead)'} AND NOT SubOperationMatches{'Blob.List'})"
        #expect(try holds(text, ConditionInput(action: blobRead, subOperation: "Blob.List")))
        #expect(try !holds(text, ConditionInput(action: blobRead)))
        // The older spelling through @Request[subOperation].
        #expect(try holds("@Request[subOperation] ForAnyOfAnyValues:StringEqualsIgnoreCase {'blob.list'}", ConditionInput(action: blobRead, subOperation: "Blob.List")))
    }

    @Test func groupingAndPrecedenceNeedsParentheses() throws {
        let a = "{1} ForAnyOfAnyValues:NumericEquals {1}"
        let failure = try #require(error("\(a) AND \(a) OR \(a)"))
        #expect(failure.description.hasPrefix("The given role assignment condition is invalid."))
        #expect(failure.position == 2 * a.count + 7)
        #expect(failure.reason.contains("parentheses"))
        _ = try parse("(\(a) AND \(a)) OR \(a)")
        _ = try parse("\(a) AND (\(a) OR \(a))")
        _ = try parse("\(a) AND \(a) AND \(a)")
    }

    @Test func keyCaseSensitiveTags() throws {
        let tags = ConditionInput(action: blobRead, resource: resource([("tags", ["Project": "Cascade"])]))
        let sensitive = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>] StringEquals 'Cascade'"
        #expect(try holds(sensitive, tags))
        #expect(try !holds("@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:project<$key_case_sensitive$>] StringEquals 'Cascade'", tags))
        #expect(try holds("@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:project] StringEquals 'Cascade'", tags))
    }
}

/// "Example Azure role assignment conditions for Blob Storage".
@Suite struct BlobStorageConditionExampleTests {
    @Test func readAfterADate() throws {
        let text = """
            (
             (
              !(ActionMatches{'\(blobRead)'})
             )
             OR
             (
              @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'container1'
              AND
              @Environment[UtcNow] DateTimeGreaterThan '2023-05-01T13:00:00.000Z'
             )
            )
            """
        let container = resource([("name", "container1")])
        #expect(try holds(text, ConditionInput(action: blobRead, resource: container, environment: resource([("UtcNow", "2024-01-01T00:00:00Z")]))))
        #expect(try !holds(text, ConditionInput(action: blobRead, resource: container, environment: resource([("UtcNow", "2023-05-01T13:00:00Z")]))))
        // Only DateTimeGreaterThan and DateTimeLessThan apply to UTC now.
        #expect(error("@Environment[UtcNow] DateTimeEquals '2023-05-01T13:00:00Z'")?.reason.contains("UtcNow") == true)
    }

    @Test func encryptionScopeNames() throws {
        let text = "@Resource[Microsoft.Storage/storageAccounts/encryptionScopes:name] ForAnyOfAnyValues:StringEquals {'validScope1', 'validScope2'}"
        #expect(try holds(text, ConditionInput(action: blobRead, resource: resource([("name", "validScope2")]))))
        #expect(try !holds(text, ConditionInput(action: blobRead, resource: resource([("name", "other")]))))
    }

    @Test func tagsForAllOfAnyValues() throws {
        let text = "@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>] ForAllOfAnyValues:StringEquals {'Cascade', 'Baker', 'Skagit'}"
        #expect(try holds(text, ConditionInput(action: blobRead, request: resource([("tags", ["Project": ["Baker", "Skagit"]])]))))
        #expect(try !holds(text, ConditionInput(action: blobRead, request: resource([("tags", ["Project": ["Baker", "Rainier"]])]))))
    }

    @Test func hierarchicalNamespace() throws {
        #expect(try holds("@Resource[Microsoft.Storage/storageAccounts:isHnsEnabled] BoolEquals true", ConditionInput(action: blobRead, resource: resource([("isHnsEnabled", true)]))))
    }
}

/// "Allow read access to blobs based on tags and custom security attributes".
@Suite struct CustomSecurityAttributeConditionTests {
    let text = """
        (
         (
          !(ActionMatches{'\(blobRead)'} AND NOT SubOperationMatches{'Blob.List'})
         )
         OR
         (
          @Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project] StringEquals @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>]
         )
        )
        """

    func input(project: String?, tag: String) -> ConditionInput {
        var principal = AttributeAssignments()
        if let project { principal.set("Engineering_Project", [.string(project)]) }
        return ConditionInput(action: blobRead, principal: principal, resource: resource([("tags", ["Project": .string(tag)])]))
    }

    @Test func cascadeUserReadsCascadeNotBaker() throws {
        let condition = try parse(text, schema: engineering)
        #expect(ConditionEvaluator.evaluate(condition, input(project: "Cascade", tag: "Cascade")))
        #expect(!ConditionEvaluator.evaluate(condition, input(project: "Cascade", tag: "Baker")))
        #expect(!ConditionEvaluator.evaluate(condition, input(project: nil, tag: "Cascade")), "no value, no access")
        #expect(condition.principalAttributeSets == ["Engineering"])
    }

    @Test func schemaChecks() {
        #expect(error("@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Missing] StringEquals 'x'", schema: engineering)?.reason.contains("does not exist") == true)
        #expect(error("@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Level] StringEquals 'x'", schema: engineering)?.reason.contains("Integer") == true)
        #expect(error("@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Skills] StringEquals 'x'", schema: engineering)?.reason.contains("several values") == true)
        #expect(error("@Principal[Engineering_Project] StringEquals 'x'")?.position == 1)
    }

    @Test func typedPrincipalValues() throws {
        var principal = AttributeAssignments()
        principal.set("Engineering_Skills", [.string("swift"), .string("sql")])
        principal.set("Engineering_Level", [.integer(3)])
        principal.set("Engineering_Cleared", [.boolean(true)])
        let input = ConditionInput(action: blobRead, principal: principal)
        let p = "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_"
        #expect(try holds("\(p)Skills] ForAnyOfAnyValues:StringEquals {'sql', 'go'}", input))
        #expect(try !holds("\(p)Skills] ForAllOfAnyValues:StringEquals {'sql', 'go'}", input))
        #expect(try holds("\(p)Level] NumericGreaterThanEquals 3", input))
        #expect(try holds("\(p)Cleared] BoolEquals true", input))
        // A missing value makes every comparison false, the negated ones too.
        #expect(try !holds("\(p)Project] StringNotEquals 'x'", input))
        #expect(try holds("NOT Exists \(p)Project]", input))
    }
}

@Suite struct ConditionErrorTests {
    @Test func positionsAndReasons() {
        let cases: [(String, Int, String)] = [
            ("", 1, "empty"),
            ("@Resource[x] StringEquals", 26, "Expected an attribute or a value"),
            ("@Resource[x] StringEqual 'a'", 14, "Unknown operator"),
            ("@Resource[x] NumericEquals 'a'", 28, "integer"),
            ("@Resource[x] StringEquals {'a', 'b'}", 27, "ForAnyOf"),
            ("@Resource[x] StringEquals 'a", 27, "not closed"),
            ("@Nowhere[x] StringEquals 'a'", 1, "Unknown attribute source"),
            ("(@Resource[x] StringEquals 'a'", 31, "')'"),
            ("@Resource[x] StringEquals 'a' & @Resource[y] StringEquals 'b'", 31, "'&&'"),
            ("@Resource[x] ForSomeValues:StringEquals {'a'}", 14, "Unknown operator"),
            ("@Resource[x] ForAnyOfAnyValues:BoolEquals {true}", 14, "quantifier"),
            ("@Resource[x] StringEquals 'a' )", 31, "Unexpected"),
        ]
        for (text, position, reason) in cases {
            let failure = error(text)
            #expect(failure?.position == position, "\(text): \(String(describing: failure))")
            #expect(failure?.reason.contains(reason) == true, "\(text): \(String(describing: failure))")
            #expect(failure?.graphError.message.hasPrefix(ConditionError.azureMessage) == true)
        }
    }

    @Test func eightKilobyteLimit() throws {
        let clause = "@Resource[x] StringEquals 'a' OR "
        var text = String(repeating: clause, count: Limits.conditionBytes / clause.count)
        text += "@Resource[x] StringEquals 'a'"
        #expect(text.utf8.count > Limits.conditionBytes)
        #expect(error(text)?.reason.contains("8192 bytes") == true)
        let fits = String(text.suffix(Limits.conditionBytes))
        #expect(fits.utf8.count <= Limits.conditionBytes)
    }

    @Test func depthLimit() {
        let deep = String(repeating: "(", count: 100) + "@Resource[x] StringEquals 'a'" + String(repeating: ")", count: 100)
        #expect(error(deep)?.reason.contains("deeper") == true)
    }

    @Test func versionMustBeTwo() {
        #expect(throws: ConditionError.self) { try ConditionParser.checkVersion("1.0") }
        #expect(throws: Never.self) { try ConditionParser.checkVersion("2.0") }
        #expect(throws: Never.self) { try ConditionParser.checkVersion(nil) }
    }
}

@Suite struct ConditionTraceTests {
    @Test func everySubExpressionHasItsValue() throws {
        let condition = try parse("!(ActionMatches{'\(blobRead)'}) OR @Resource[name] StringEquals 'a'")
        let (result, trace) = ConditionEvaluator.trace(condition, ConditionInput(action: blobRead, resource: resource([("name", "a")])))
        #expect(result)
        #expect(
            trace.map(\.expression) == [
                "(ActionMatches{'\(blobRead)'})", "!(ActionMatches{'\(blobRead)'})", "@Resource[name] StringEquals 'a'",
                "!(ActionMatches{'\(blobRead)'}) OR @Resource[name] StringEquals 'a'",
            ])
        #expect(trace.map(\.value) == [true, false, true, true])
    }
}
