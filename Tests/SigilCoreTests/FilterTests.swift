import Testing

@testable import SigilCore

private func filter(_ text: String) throws -> FilterExpression { try FilterParser.parse(text) }

private func eq(_ path: String, _ value: FilterLiteral) -> FilterExpression {
    .comparison(path: path.split(separator: "/").map(String.init), op: .eq, value: value)
}

private func options(_ items: [(String, String)]) throws(GraphError) -> QueryOptions {
    try QueryOptions.parse(items.map { (name: $0.0, value: $0.1) })
}

private func pageSizeMessage(_ value: String) -> String { "Invalid page size specified: '\(value)'. Must be between 1 and 999 inclusive." }

@Suite struct FilterParserTests {
    @Test func equality() throws {
        #expect(try filter("name eq 'Project'") == .comparison(path: ["name"], op: .eq, value: .string("Project")))
    }

    @Test func everyComparisonOperator() throws {
        for op in ComparisonOperator.allCases {
            #expect(try filter("a \(op.rawValue) 1") == .comparison(path: ["a"], op: op, value: .integer(1)))
        }
        #expect(try filter("customSecurityAttributes/Engineering/Project ne 'Baker'") == .comparison(path: ["customSecurityAttributes", "Engineering", "Project"], op: .ne, value: .string("Baker")))
    }

    @Test func keywordsAreCaseInsensitive() throws {
        #expect(try filter("a EQ 'x' AND b Ne 1 oR NOT c eq TRUE") == .or(.and(eq("a", .string("x")), .comparison(path: ["b"], op: .ne, value: .integer(1))), .not(eq("c", .boolean(true)))))
    }

    /// Deep filters are refused before they are built (a 5,000-deep one overflowed the stack and
    /// ended the server; 84 `and`s overflowed SQLite's parser).
    @Test func depthIsLimited() throws {
        let limit = Limits.filterDepth
        func chain(_ clauses: Int) -> String { Array(repeating: "a eq 1", count: clauses).joined(separator: " and ") }
        #expect(try filter(chain(limit + 1)).depth == limit)
        #expect(throws: GraphError.self) { try filter(chain(limit + 2)) }
        #expect(try filter(String(repeating: "not ", count: limit) + "a eq 1").depth == limit)
        #expect(throws: GraphError.self) { try filter(String(repeating: "not ", count: limit + 1) + "a eq 1") }
        #expect(try filter(String(repeating: "(", count: limit) + "a eq 1" + String(repeating: ")", count: limit)).depth == 0)
        // As deep as the length limit allows.
        let deep = String(repeating: "(", count: 2_000) + "a eq 1" + String(repeating: ")", count: 2_000)
        do {
            _ = try filter(deep)
            Issue.record("a 2,000-deep filter was accepted")
        } catch let error as GraphError {
            #expect(error.status == 400)
            #expect(error.message.contains("nested more than \(limit) levels deep"), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func startsWith() throws {
        #expect(
            try filter("startsWith(customSecurityAttributes/Engineering/ProjectDate,'2024')")
                == .startsWith(path: ["customSecurityAttributes", "Engineering", "ProjectDate"], prefix: .string("2024")))
        #expect(try filter("startswith( displayName , 'Ad' )") == .startsWith(path: ["displayName"], prefix: .string("Ad")))
        #expect(try filter("not startsWith(displayName,'Ad')") == .not(.startsWith(path: ["displayName"], prefix: .string("Ad"))))
    }

    @Test func notBindsTighterThanAndWhichBindsTighterThanOr() throws {
        let a = eq("a", .integer(1))
        let b = eq("b", .integer(2))
        let c = eq("c", .integer(3))
        #expect(try filter("a eq 1 or b eq 2 and c eq 3") == .or(a, .and(b, c)))
        #expect(try filter("a eq 1 and b eq 2 or c eq 3") == .or(.and(a, b), c))
        #expect(try filter("not a eq 1 and b eq 2") == .and(.not(a), b))
        #expect(try filter("a eq 1 and b eq 2 and c eq 3") == .and(.and(a, b), c))
        #expect(try filter("a eq 1 or b eq 2 or c eq 3") == .or(.or(a, b), c))
    }

    @Test func parenthesesGroup() throws {
        let a = eq("a", .integer(1))
        let b = eq("b", .integer(2))
        let c = eq("c", .integer(3))
        #expect(try filter("(a eq 1 or b eq 2) and c eq 3") == .and(.or(a, b), c))
        #expect(try filter("not (a eq 1 or b eq 2)") == .not(.or(a, b)))
        #expect(try filter("not(a eq 1)") == .not(a))
        #expect(try filter("((a eq 1))") == a)
    }

    @Test func quotesAreEscapedByDoubling() throws {
        #expect(try filter("displayName eq 'O''Brien'") == eq("displayName", .string("O'Brien")))
        #expect(try filter("displayName eq ''''") == eq("displayName", .string("'")))
        #expect(try filter("displayName eq ''") == eq("displayName", .string("")))
        #expect(try filter("displayName eq 'a and b or (c)'") == eq("displayName", .string("a and b or (c)")))
        #expect(try filter("displayName eq 'Ingeniería 工程'") == eq("displayName", .string("Ingeniería 工程")))
    }

    @Test func literals() throws {
        #expect(try filter("x eq 42") == eq("x", .integer(42)))
        #expect(try filter("x eq -7") == eq("x", .integer(-7)))
        #expect(try filter("x eq 0") == eq("x", .integer(0)))
        #expect(try filter("x eq 9223372036854775807") == eq("x", .integer(Int64.max)))
        #expect(try filter("x eq true") == eq("x", .boolean(true)))
        #expect(try filter("x eq False") == eq("x", .boolean(false)))
        #expect(try filter("x eq null") == eq("x", .null))
        #expect(try filter("x ne NULL") == .comparison(path: ["x"], op: .ne, value: .null))
        #expect(try filter("x eq '42'") == eq("x", .string("42")))
    }

    @Test func pathsAreListedLeftToRight() throws {
        let expression = try filter("a eq 1 and (not startsWith(b/c,'x') or d/e/f eq 'y')")
        #expect(expression.paths == [["a"], ["b", "c"], ["d", "e", "f"]])
    }

    @Test(arguments: [
        ("", "the expression ends too early"),
        ("   ", "the expression ends too early"),
        ("name eq", "expected a value at the end"),
        ("name", "expected an operator after 'name'"),
        ("name like 'x'", "expected an operator after 'name'"),
        ("name 'x'", "expected an operator after 'name'"),
        ("name eq 'x", "unterminated string literal"),
        ("name eq 'x')", "unexpected ')'"),
        ("(name eq 'x'", "expected ')'"),
        ("(name eq 'x' 'y')", "expected ')' but found ''y''"),
        ("name eq 'a' 'b'", "unexpected ''b''"),
        ("name # 'x'", "unexpected character '#'"),
        ("name eq \"x\"", "unexpected character '\"'"),
        ("name eq 1.5", "unsupported numeric literal near '1.'"),
        ("name eq 12abc", "unsupported numeric literal near '12a'"),
        ("name eq 99999999999999999999", "number '99999999999999999999' is out of range"),
        ("name eq abc", "expected a value but found 'abc'"),
        ("name eq (", "expected a value but found '('"),
        ("name eq 'x' and", "the expression ends too early"),
        ("name eq 'x' or or", "expected an operator after 'or'"),
        ("and", "expected an operator after 'and'"),
        ("'x' eq name", "expected a property but found ''x''"),
        ("a//b eq 1", "'a//b' is not a property path"),
        ("a/ eq 1", "'a/' is not a property path"),
        ("startsWith('x', name)", "startsWith expects a property first"),
        ("startsWith(name 'x')", "expected ',' but found ''x''"),
        ("startsWith(name, 'x'", "expected ')'"),
        ("not", "the expression ends too early"),
        ("name eq 'x' name eq 'y'", "unexpected 'name'"),
    ])
    func garbageIsRefusedWithAReason(_ text: String, _ reason: String) {
        do {
            _ = try FilterParser.parse(text)
            Issue.record("'\(text)' was accepted")
        } catch {
            // The reason, then where in the text it was found.
            #expect(error.code == .badRequest)
            #expect(error.message.hasPrefix("Invalid filter clause: \(reason)"), "\(error.message)")
            #expect(error.message.contains(" at position "), "\(error.message)")
        }
    }

    @Test(arguments: ["endsWith(name,'x')", "contains(name,'x')", "any(x)"])
    func unsupportedFunctionsAreUnsupportedQueries(_ text: String) {
        let name = String(text.prefix { $0 != "(" })
        #expect(throws: GraphError.unsupportedQuery("Unsupported Query: the function '\(name)' is not supported.")) { try FilterParser.parse(text) }
    }
}

@Suite struct QueryOptionTests {
    @Test func topBounds() throws {
        #expect(try options([("$top", "1")]).top == 1)
        #expect(try options([("$top", "999")]).top == 999)
        #expect(try options([("$top", " 25 ")]).top == 25)
        for value in ["0", "1000", "-1", "abc", "", "1.5", "99999999999999999999"] {
            #expect(throws: GraphError.badRequest(pageSizeMessage(value))) { try options([("$top", value)]) }
        }
    }

    @Test(arguments: ["$top", "top", "$TOP", "Top", "$Top"])
    func namesMatchCaseInsensitivelyWithOrWithoutDollar(_ name: String) throws {
        #expect(try options([(name, "5")]).top == 5)
    }

    @Test func allOptionsParse() throws {
        let parsed = try options([
            ("$select", "id, displayName ,customSecurityAttributes"), ("$FILTER", "name eq 'Project'"), ("expand", "allowedValues"), ("$count", "TRUE"), ("$orderby", " id "),
            ("$skiptoken", "abc"), ("$search", "\"displayName:Ad\""), ("ConsistencyLevel", "Eventual"), ("$format", "JSON"),
        ])
        #expect(parsed.select == ["id", "displayName", "customSecurityAttributes"])
        #expect(parsed.filter == eq("name", .string("Project")))
        #expect(parsed.filterText == "name eq 'Project'")
        #expect(parsed.expand == ["allowedValues"])
        #expect(parsed.count)
        #expect(parsed.orderBy == "id")
        #expect(parsed.skipToken == "abc")
        #expect(parsed.search == "\"displayName:Ad\"")
        #expect(parsed.consistencyLevelEventual)
        #expect(parsed.top == nil)
    }

    @Test func noOptionsMeansDefaults() throws {
        let parsed = try options([])
        #expect(parsed == QueryOptions())
        #expect(!parsed.count)
        #expect(!parsed.consistencyLevelEventual)
    }

    @Test func duplicateOptionIsRefused() {
        #expect(throws: GraphError.badRequest("Query option '$top' was specified more than once; it may appear only once.")) { try options([("$top", "5"), ("top", "6")]) }
        #expect(throws: GraphError.badRequest("Query option '$filter' was specified more than once; it may appear only once.")) {
            try options([("$filter", "a eq 1"), ("$FILTER", "a eq 1")])
        }
        #expect(throws: GraphError.badRequest("Query option '$select' was specified more than once; it may appear only once.")) { try options([("$select", "id"), ("$select", "id")]) }
    }

    @Test(arguments: ["$foo", "$Expand2", "$apply", "$levels"])
    func unknownDollarOptionIsRefused(_ name: String) {
        #expect(throws: GraphError.badRequest("Query option '\(name)' is not supported.")) { try options([(name, "1")]) }
    }

    @Test func unknownPlainParametersAreIgnored() throws {
        #expect(try options([("api-version", "1.6"), ("foo", "bar")]) == QueryOptions())
    }

    @Test func consistencyLevel() throws {
        #expect(try options([("consistencylevel", "eventual")]).consistencyLevelEventual)
        #expect(try !options([("ConsistencyLevel", "session")]).consistencyLevelEventual)
    }

    @Test func countValues() throws {
        #expect(try options([("$count", "true")]).count)
        #expect(try !options([("$count", "false")]).count)
        #expect(throws: GraphError.badRequest("Invalid $count value '1': expected true or false.")) { try options([("$count", "1")]) }
    }

    /// BUG: `split(separator: ",")` drops empty items, so the `isEmpty` guard never sees `id,,name` or `,id`.
    @Test(arguments: ["id,,name", ",id", "id,"])
    func emptySelectItemsAreRefused(_ value: String) {
        #expect(throws: GraphError.badRequest("Invalid $select value '\(value)': expected a comma-separated list of properties.")) { try options([("$select", value)]) }
    }

    @Test func selectAndExpandMustBeLists() {
        #expect(throws: GraphError.badRequest("Invalid $select value '': expected a comma-separated list of properties.")) { try options([("$select", "")]) }
        #expect(throws: GraphError.badRequest("Invalid $select value 'id, ': expected a comma-separated list of properties.")) { try options([("$select", "id, ")]) }
        #expect(throws: GraphError.badRequest("Invalid $expand value ''.")) { try options([("$expand", "")]) }
    }

    @Test func skipAndFormat() throws {
        #expect(throws: GraphError.badRequest("'$skip' is not supported by this API; follow @odata.nextLink to page.")) { try options([("$skip", "10")]) }
        #expect(throws: GraphError.badRequest("Only $format=json is supported.")) { try options([("$format", "xml")]) }
        _ = try options([("format", "json")])
    }

    @Test func invalidFilterPropagates() {
        let error = #expect(throws: GraphError.self) { try options([("$filter", "name eq")]) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.hasPrefix("Invalid filter clause: expected a value at the end") == true, "\(String(describing: error?.message))")
    }

    @Test func rejectNamesTheFirstUnsupportedOption() throws {
        let parsed = try options([("$top", "5"), ("$filter", "a eq 1")])
        #expect(throws: GraphError.badRequest("Query option '$top' is not supported on this resource.")) { try parsed.reject(["top", "filter"]) }
        #expect(throws: GraphError.badRequest("Query option '$filter' is not supported on this resource.")) { try parsed.reject(["filter", "expand"]) }
        try parsed.reject(["expand", "search", "count"])
    }

    @Test func selectionUsesDeclaredSpelling() throws {
        let parsed = try options([("$select", "DISPLAYNAME,id,displayName")])
        #expect(try parsed.selection(from: ["id", "displayName", "jobTitle"]) == ["displayName", "id"])
        #expect(try QueryOptions().selection(from: ["id"]) == nil)
        let unknown = try options([("$select", "id,colour")])
        #expect(throws: GraphError.badRequest("Could not find a property named 'colour' on type in $select.")) { try unknown.selection(from: ["id", "displayName"]) }
    }
}

@Suite struct DefinitionFilterTests {
    private let project = AttributeDefinition(
        attributeSet: "Engineering", name: "Project", description: "Active projects for user", type: .string, isCollection: true, isSearchable: true, status: .available,
        usePreDefinedValuesOnly: true)
    private let projectDate = AttributeDefinition(
        attributeSet: "Engineering", name: "ProjectDate", type: .string, isCollection: false, isSearchable: true, status: .available, usePreDefinedValuesOnly: false)
    private let oldProject = AttributeDefinition(
        attributeSet: "Marketing", name: "Project", type: .string, isCollection: false, isSearchable: false, status: .deprecated, usePreDefinedValuesOnly: false)
    private let level = AttributeDefinition(
        attributeSet: "Engineering", name: "Level", type: .integer, isCollection: false, isSearchable: true, status: .available, usePreDefinedValuesOnly: false)

    private func matching(_ text: String) throws -> [String] {
        let expression = try filter(text)
        return try [project, projectDate, oldProject, level].filter { try $0.matches(expression) }.map(\.id)
    }

    @Test func documentedNameAndStatusFilter() throws {
        #expect(try matching("name eq 'Project' and status eq 'Available'") == ["Engineering_Project"])
    }

    @Test func documentedSetStatusAndTypeFilter() throws {
        #expect(try matching("attributeSet eq 'Engineering' and status eq 'Available' and type eq 'String'") == ["Engineering_Project", "Engineering_ProjectDate"])
    }

    @Test func documentedFiltersThroughQueryOptions() throws {
        let parsed = try options([("$filter", "name eq 'Project' and status eq 'Available'")])
        let expression = try #require(parsed.filter)
        #expect(try project.matches(expression))
        #expect(try !oldProject.matches(expression))
        #expect(try !projectDate.matches(expression))
    }

    @Test func namesCompareCaseInsensitively() throws {
        #expect(try matching("name eq 'project'") == ["Engineering_Project", "Marketing_Project"])
        #expect(try matching("attributeSet eq 'MARKETING'") == ["Marketing_Project"])
        #expect(try matching("id eq 'engineering_projectdate'") == ["Engineering_ProjectDate"])
    }

    @Test func otherProperties() throws {
        #expect(try matching("status eq 'Deprecated'") == ["Marketing_Project"])
        #expect(try matching("type eq 'Integer'") == ["Engineering_Level"])
        #expect(try matching("isCollection eq true") == ["Engineering_Project"])
        #expect(try matching("isSearchable eq false") == ["Marketing_Project"])
        #expect(try matching("usePreDefinedValuesOnly eq true and isCollection eq true") == ["Engineering_Project"])
        #expect(try matching("name eq 'Nothing'") == [])
    }

    @Test(arguments: ["name ne 'Project'", "name eq 'Project' or status eq 'Available'", "not name eq 'Project'", "startsWith(name,'Pro')", "name gt 'A'"])
    func onlyEqualityJoinedByAndIsSupported(_ text: String) throws {
        let expression = try filter(text)
        #expect(throws: GraphError.unsupportedQuery("Unsupported Query: definitions can be filtered with 'eq' on their properties, combined with 'and'.")) {
            try project.matches(expression)
        }
    }

    @Test(arguments: ["description", "allowedValues", "displayName"])
    func unknownPropertiesAreUnsupported(_ property: String) throws {
        let expression = try filter("\(property) eq 'x'")
        #expect(
            throws: GraphError.unsupportedQuery("Unsupported or invalid query filter clause specified for property '\(property)' of resource 'CustomSecurityAttributeDefinition'.")
        ) {
            try project.matches(expression)
        }
    }

    @Test(arguments: [("isCollection", "'true'"), ("name", "5"), ("status", "null"), ("type", "true"), ("isSearchable", "1")])
    func wronglyTypedValuesAreRefused(_ property: String, _ literal: String) throws {
        let expression = try filter("\(property) eq \(literal)")
        #expect(throws: GraphError.badRequest("Invalid filter clause: the value compared with '\(property)' has the wrong type.")) { try project.matches(expression) }
    }
}
