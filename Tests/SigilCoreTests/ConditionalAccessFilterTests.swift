import Testing

@testable import SigilCore

private typealias Rule = ConditionalAccessRule

private func term(_ subject: String, _ property: String, _ op: Rule.Operator, _ operand: Rule.Operand) -> Rule.Expression {
    .term(Rule.Term(subject: subject, property: property, op: op, operand: operand))
}

/// The message a rule is refused with while parsing, nil when it parses.
private func refusal(_ text: String) -> String? {
    do {
        _ = try ConditionalAccessRule(parsing: text)
        return nil
    } catch { return error.message }
}

/// The message a rule is refused with as an application filter, nil when it is accepted.
private func appRefusal(_ text: String) -> String? {
    do {
        _ = try ApplicationFilterRule(text, schema: schema)
        return nil
    } catch { return error.message }
}

/// The schema of Entra's walkthrough in "Conditional Access: Filter for applications" (set
/// ConditionalAccessTest, multi-valued predefined policyRequirement), plus attributes of each
/// kind a filter must refuse.
private let schema = Schema(
    sets: [AttributeSet(id: "ConditionalAccessTest"), AttributeSet(id: "Engineering")],
    definitions: [
        AttributeDefinition(
            attributeSet: "ConditionalAccessTest", name: "policyRequirement", type: .string, isCollection: true,
            isSearchable: true, usePreDefinedValuesOnly: true),
        AttributeDefinition(
            attributeSet: "Engineering", name: "Project", type: .string, isCollection: false, isSearchable: true,
            usePreDefinedValuesOnly: false),
        AttributeDefinition(
            attributeSet: "Engineering", name: "CostCenter", type: .integer, isCollection: false, isSearchable: true,
            usePreDefinedValuesOnly: false),
        AttributeDefinition(
            attributeSet: "Engineering", name: "Certified", type: .boolean, isCollection: false, isSearchable: true,
            usePreDefinedValuesOnly: false),
        AttributeDefinition(
            attributeSet: "Engineering", name: "Legacy", type: .string, isCollection: false, isSearchable: true,
            status: .deprecated, usePreDefinedValuesOnly: false),
    ])

private func values(_ pairs: [(String, [String])]) -> AttributeAssignments {
    AttributeAssignments(pairs.map { AssignedAttribute(definitionId: $0.0, values: $0.1.map { .string($0) }) })
}

private func selects(_ text: String, _ assignments: AttributeAssignments) throws -> Bool {
    try ApplicationFilterRule(text, schema: schema).matches(assignments)
}

@Suite struct ConditionalAccessFilterGrammarTests {
    /// "Conditional Access: Filter for devices", the table of supported device attributes: every
    /// example parses to the term it shows. They read `device.` properties, which an application
    /// filter refuses.
    @Test func everyExampleOfFilterForDevicesParses() throws {
        let examples: [(String, Rule.Expression)] = [
            (#"device.extensionAttribute1 -ne "SAW""#, term("device", "extensionAttribute1", .ne, .string("SAW"))),
            (
                #"(device.deviceid -eq "aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb")"#,
                term("device", "deviceid", .eq, .string("aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb"))
            ),
            (#"(device.displayName -contains "ABC")"#, term("device", "displayName", .contains, .string("ABC"))),
            (#"(device.deviceOwnership -eq "Company")"#, term("device", "deviceOwnership", .eq, .string("Company"))),
            (
                #"(device.enrollmentProfileName -startsWith "AutoPilot Profile")"#,
                term("device", "enrollmentProfileName", .startsWith, .string("AutoPilot Profile"))
            ),
            (#"(device.isCompliant -eq "True")"#, term("device", "isCompliant", .eq, .string("True"))),
            (#"(device.manufacturer -startsWith "Microsoft")"#, term("device", "manufacturer", .startsWith, .string("Microsoft"))),
            (
                #"(device.mdmAppId -in ["00001111-aaaa-2222-bbbb-3333cccc4444"])"#,
                term("device", "mdmAppId", .in, .list(["00001111-aaaa-2222-bbbb-3333cccc4444"]))
            ),
            (#"(device.model -notContains "Surface")"#, term("device", "model", .notContains, .string("Surface"))),
            (#"(device.operatingSystem -eq "Windows")"#, term("device", "operatingSystem", .eq, .string("Windows"))),
            (
                #"(device.operatingSystemVersion -in ["10.0.18363", "10.0.19041", "10.0.19042", "10.0.22000"])"#,
                term("device", "operatingSystemVersion", .in, .list(["10.0.18363", "10.0.19041", "10.0.19042", "10.0.22000"]))
            ),
            (#"(device.physicalIds -contains "[ZTDId]:value")"#, term("device", "physicalIds", .contains, .string("[ZTDId]:value"))),
            (#"(device.profileType -eq "Printer")"#, term("device", "profileType", .eq, .string("Printer"))),
            (#"(device.systemLabels -contains "M365Managed")"#, term("device", "systemLabels", .contains, .string("M365Managed"))),
            (#"(device.trustType -eq "ServerAD")"#, term("device", "trustType", .eq, .string("ServerAD"))),
            (#"(device.extensionAttribute1 -eq "SAW")"#, term("device", "extensionAttribute1", .eq, .string("SAW"))),
        ]
        for (text, expected) in examples {
            #expect(try Rule(parsing: text).expression == expected, "\(text)")
            #expect(
                appRefusal(text)?.contains("may only read custom security attributes")
                    == true, "\(text)")
        }
    }

    /// The same page's scenario prose writes `device.operatingSystem == 'Windows'` and
    /// `device.operatingSystemVersion startsWith '10.0'`: not rule syntax, so refused with the
    /// operator named. An earlier revision's `(device.profileType -notIn ["Printer", "Shared", "IoT"]`
    /// lacks its closing parenthesis.
    @Test func proseAndBrokenExamplesOfFilterForDevicesAreRefused() throws {
        #expect(
            refusal("device.operatingSystem == 'Windows'")?.hasPrefix(
                "'==' is not a supported operator") == true)
        #expect(
            refusal("device.operatingSystemVersion startsWith '10.0'")?
                .hasPrefix("'startsWith' is not a supported operator") == true)
        #expect(
            refusal(#"(device.profileType -notIn ["Printer", "Shared", "IoT"]"#)?
                .contains("missing ')'") == true)
        #expect(
            try Rule(parsing: #"(device.profileType -notIn ["Printer", "Shared", "IoT"])"#).expression
                == term("device", "profileType", .notIn, .list(["Printer", "Shared", "IoT"])))
    }

    /// "Conditional Access: Filter for applications": attribute policyRequirement of set
    /// ConditionalAccessTest, operator Contains, value requireMFA; a multi-valued attribute, so
    /// `-contains` matches a whole assigned value.
    @Test func theFilterForApplicationsWalkthrough() throws {
        let text = #"CustomSecurityAttribute.ConditionalAccessTest_policyRequirement -contains "requireMFA""#
        let rule = try ApplicationFilterRule(text, schema: schema)
        #expect(rule.definitionIds == ["ConditionalAccessTest_policyRequirement"])
        #expect(rule.attributeSets == ["ConditionalAccessTest"])
        let id = "ConditionalAccessTest_policyRequirement"
        #expect(rule.matches(values([(id, ["blockGuestUsers", "requireMFA"])])))
        #expect(!rule.matches(values([(id, ["requireCompliantApp"])])))
        #expect(!rule.matches(values([(id, ["requireMFAx"])])), "membership, not substring, on a collection")
        #expect(!rule.matches(values([])))
        let negated = #"CustomSecurityAttribute.ConditionalAccessTest_policyRequirement -notContains "requireMFA""#
        #expect(try selects(negated, values([])))
        #expect(!(try selects(negated, values([(id, ["requireMFA"])]))))
    }

    /// The same page: filters only work with String attributes; Boolean (and Integer) ones are refused.
    @Test func onlyStringAttributes() {
        for name in ["Engineering_Certified", "Engineering_CostCenter"] {
            #expect(
                appRefusal("CustomSecurityAttribute.\(name) -eq \"1\"")?
                    .contains("only support String attributes") == true)
        }
    }

    @Test func unknownAndDeactivatedAttributesAreRefused() {
        #expect(
            appRefusal(#"CustomSecurityAttribute.Engineering_Nope -eq "x""#)
                == "The filter rule names 'Engineering_Nope', which is not a custom security attribute.")
        #expect(
            appRefusal(#"CustomSecurityAttribute.Project -eq "x""#)?
                .contains("not a custom security attribute") == true)
        #expect(
            appRefusal(#"CustomSecurityAttribute.Engineering_Legacy -eq "x""#)
                == "The filter rule names 'Engineering_Legacy', a deactivated custom security attribute.")
    }

    /// Each operator on a single-valued String attribute (the issue's `Engineering_Project -eq "Baker"`).
    @Test func everyOperatorOnASingleValue() throws {
        let baker = values([("Engineering_Project", ["Baker"])])
        let cases: [(String, Bool)] = [
            (#"-eq "Baker""#, true), (#"-eq "baker""#, true), (#"-eq "Bake""#, false), (#"-ne "Baker""#, false),
            (#"-ne "Cascade""#, true), (#"-startsWith "Bak""#, true), (#"-notStartsWith "Bak""#, false),
            (#"-endsWith "KER""#, true), (#"-notEndsWith "ker""#, false), (#"-contains "ake""#, true),
            (#"-notContains "ake""#, false), (#"-in ["Alpine", "Baker"]"#, true), (#"-notIn ["Alpine", "Baker"]"#, false),
            (#"-in ["Alpine"]"#, false), (#"-notIn ["Alpine"]"#, true), (#"-EQ "Baker""#, true),
        ]
        for (tail, expected) in cases {
            #expect(try selects("CustomSecurityAttribute.Engineering_Project \(tail)", baker) == expected, "\(tail)")
        }
        // Without the attribute, positive operators fail and negative ones hold.
        #expect(!(try selects(#"CustomSecurityAttribute.Engineering_Project -eq "Baker""#, values([]))))
        #expect(try selects(#"CustomSecurityAttribute.Engineering_Project -notIn ["Baker"]"#, values([])))
    }

    @Test func andBindsTighterThanOrAndParenthesesGroup() throws {
        let a = #"CustomSecurityAttribute.Engineering_Project -eq "Baker""#
        let b = #"CustomSecurityAttribute.ConditionalAccessTest_policyRequirement -contains "requireMFA""#
        let c = #"CustomSecurityAttribute.Engineering_Project -eq "Cascade""#
        let onlyC = values([("Engineering_Project", ["Cascade"])])
        #expect(try selects("\(a) -and \(b) -or \(c)", onlyC))
        #expect(!(try selects("\(a) -and (\(b) -or \(c))", onlyC)))
        #expect(try selects("(\(c)) -OR (\(a))", onlyC))
        let parsed = try Rule(parsing: "x.a -eq \"1\" -or x.b -eq \"2\" -and x.c -eq \"3\"").expression
        guard case .or(_, .and) = parsed else {
            Issue.record("expected or(a, and(b, c)), got \(parsed)")
            return
        }
    }

    @Test func lengthLimitIsEntras() throws {
        let head = #"CustomSecurityAttribute.Engineering_Project -eq ""#
        let fits = head + String(repeating: "a", count: Limits.conditionalAccessRuleLength - head.count - 1) + "\""
        #expect(fits.count == 3072)
        _ = try ApplicationFilterRule(fits, schema: schema)
        #expect(
            refusal(fits + " ")
                == "The filter rule is 3073 characters long; the maximum is 3072.")
    }

    @Test func malformedRulesNameTheProblem() {
        let cases: [(String, String)] = [
            ("", "The filter rule is empty."),
            (#"CustomSecurityAttribute.Engineering_Project -eq "Baker"#, "The string starting at position 49 is not closed."),
            (#"CustomSecurityAttribute.Engineering_Project -like "Baker""#, "'-like' is not a supported operator"),
            (#"CustomSecurityAttribute.Engineering_Project -in "Baker""#, "'-in' takes a list"),
            (#"CustomSecurityAttribute.Engineering_Project -eq ["Baker"]"#, "'-eq' takes one quoted string"),
            (#"CustomSecurityAttribute.Engineering_Project -eq "a" -and"#, "The filter rule ends unexpectedly."),
            (#"CustomSecurityAttribute.Engineering_Project -eq "a" "b""#, "unexpected '\"' at position 53"),
            (#"Engineering_Project -eq "a""#, "is not a property"),
            (#"CustomSecurityAttribute.Engineering_Project -in []"#, "is empty"),
        ]
        for (text, expected) in cases {
            let got = refusal(text)
            #expect(got?.contains(expected) == true, "\(text): \(got ?? "accepted")")
        }
        #expect(
            appRefusal("CustomSecurityAttribute.Engineering_Project -eq Baker")
                == "The value 'Baker' compared with 'Engineering_Project' must be a quoted string.")
        let deep = String(repeating: "(", count: Limits.filterDepth + 1) + "x.a -eq \"1\"" + String(repeating: ")", count: Limits.filterDepth + 1)
        #expect(refusal(deep)?.contains("deeper than") == true)
    }

    @Test func backtickEscapesAQuote() throws {
        #expect(try Rule(parsing: #"x.a -eq "say `"hi`"""#).expression == term("x", "a", .eq, .string(#"say "hi""#)))
        #expect(try Rule(parsing: "x.a -eq 'single'").expression == term("x", "a", .eq, .string("single")))
    }
}
