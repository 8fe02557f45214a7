import Testing

@testable import SigilCore

/// The one lexer under both `$filter` parsers: resource filters and the audit log's.
@Suite struct ODataTokenizerTests {
    private func kinds(_ text: String, lambdas: Bool = false, dateTimes: Bool = false) throws -> [ODataToken.Kind] {
        try ODataTokenizer.tokenize(text, lambdas: lambdas, dateTimes: dateTimes).map(\.kind)
    }

    private func message(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return (error as? GraphError)?.message ?? "\(error)" }
        return nil
    }

    @Test func tokensAndTheirPositions() throws {
        let tokens = try ODataTokenizer.tokenize("startsWith(a/b, 'x''y') and n ge -12")
        #expect(
            tokens.map(\.kind) == [
                .word("startsWith"), .open, .word("a/b"), .comma, .string("x'y"), .close, .word("and"), .word("n"), .word("ge"), .number(-12),
            ])
        #expect(tokens.map(\.position) == [1, 11, 12, 15, 17, 23, 25, 29, 31, 34])
        #expect(tokens[4].source == "'x''y'")
        #expect(tokens[4].text == "'x'y'")
    }

    @Test func positionsCountCharactersNotBytes() throws {
        let tokens = try ODataTokenizer.tokenize("名前 eq 'Ingeniería 工程' and x eq 1")
        #expect(tokens.map(\.position) == [1, 4, 7, 23, 27, 29, 32])
        #expect(tokens[2].kind == .string("Ingeniería 工程"))
    }

    @Test func wordsCarryPathsAndAnnotations() throws {
        #expect(try kinds("customSecurityAttributes/Set_1/Attr.x @odata.type $count") == [.word("customSecurityAttributes/Set_1/Attr.x"), .word("@odata.type"), .word("$count")])
    }

    @Test func lambdaColonOnlyWhenAsked() throws {
        #expect(try kinds("any(t: t/id eq 'x')", lambdas: true) == [.word("any"), .open, .word("t"), .colon, .word("t/id"), .word("eq"), .string("x"), .close])
        #expect(message { _ = try ODataTokenizer.tokenize("any(t: t/id eq 'x')") } == "Invalid filter clause: unexpected character ':' at position 6.")
    }

    @Test func dateTimesOnlyWhenAsked() throws {
        for literal in ["2026-11-30", "2026-11-30T08:00:00Z", "2026-11-30T08:00:00.1234567Z", "2026-11-30T08:00:00+01:00"] {
            #expect(try kinds("d ge \(literal)", dateTimes: true) == [.word("d"), .word("ge"), .dateTime(literal)])
        }
        #expect(try kinds("d ge 2026-11-30)", dateTimes: true) == [.word("d"), .word("ge"), .dateTime("2026-11-30"), .close])
        // Without them a date is numbers, as resource filters always read it.
        #expect(try kinds("d ge 2026-11-30") == [.word("d"), .word("ge"), .number(2026), .number(-11), .number(-30)])
        #expect(try kinds("d ge 2026 -11", dateTimes: true) == [.word("d"), .word("ge"), .number(2026), .number(-11)])
    }

    @Test(arguments: [
        ("a eq 'x", "unterminated string literal starting at position 6"),
        ("a eq ''''' ", "unterminated string literal starting at position 6"),
        ("a ~ 1", "unexpected character '~' at position 3"),
        ("a eq \"x\"", "unexpected character '\"' at position 6"),
        ("a eq 1.5", "unsupported numeric literal near '1.' at position 6"),
        ("a eq 12abc", "unsupported numeric literal near '12a' at position 6"),
        ("a eq -99999999999999999999", "number '-99999999999999999999' is out of range at position 6"),
    ])
    func refusalsNameTheirPosition(_ text: String, _ reason: String) {
        #expect(message { _ = try ODataTokenizer.tokenize(text, lambdas: true, dateTimes: true) } == "Invalid filter clause: \(reason).")
    }

    @Test func lengthIsLimitedBeforeReading() throws {
        let limit = Limits.filterLength
        #expect(try ODataTokenizer.tokenize(String(repeating: " ", count: limit)).isEmpty)
        let long = String(repeating: "~", count: limit + 1)
        #expect(message { _ = try ODataTokenizer.tokenize(long) } == "The $filter is \(limit + 1) characters long; the limit is \(limit).")
    }

    /// Both parsers read through the tokenizer, so both refuse what it refuses, in its words.
    @Test func bothParsersShareItsRefusals() {
        let long = "a eq '" + String(repeating: "x", count: Limits.filterLength) + "'"
        let tooLong = "The $filter is \(long.count) characters long; the limit is \(Limits.filterLength)."
        #expect(message { _ = try FilterParser.parse(long) } == tooLong)
        #expect(message { _ = try AuditQuery.parse(filter: long, orderBy: nil) } == tooLong)
        let unterminated = "Invalid filter clause: unterminated string literal starting at position 11."
        #expect(message { _ = try FilterParser.parse("result eq 'fail") } == unterminated)
        #expect(message { _ = try AuditQuery.parse(filter: "result eq 'fail", orderBy: nil) } == unterminated)
    }
}

/// The audit `$filter` on the shared tokenizer: what it reads, and the stricter refusals.
@Suite struct AuditFilterTokenTests {
    private func message(_ filter: String) -> String? {
        do {
            _ = try AuditQuery.parse(filter: filter, orderBy: nil)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func dateTimesAreReadUnquotedAndQuoted() throws {
        #expect(try AuditQuery.parse(filter: "activityDateTime ge 2026-11-30T08:00:00+01:00", orderBy: nil).earliest == "2026-11-30T07:00:00.0000000Z")
        #expect(try AuditQuery.parse(filter: "activityDateTime le '2026-11-30'", orderBy: nil).latest == "2026-11-30T00:00:00.0000000Z")
        #expect(message("(activityDateTime ge 2026-11-30)") == "Invalid filter clause: expected a property or value but found '(' at position 1.")
    }

    @Test func aNumberIsNotADateTime() {
        #expect(message("activityDateTime ge 20261130") == "Invalid filter clause: '20261130' is not a date-time; write it as 2026-11-30T08:00:00Z.")
        #expect(message("activityDateTime ge yesterday") == "Invalid filter clause: 'yesterday' is not a date-time; write it as 2026-11-30T08:00:00Z.")
    }

    /// The audit lexer took any character into a word; the shared one refuses them where they
    /// stand, as resource filters always did.
    @Test func charactersOutsideTheGrammarAreRefusedWithTheirPosition() {
        #expect(message("result ~ 'failure'") == "Invalid filter clause: unexpected character '~' at position 8.")
        #expect(message("initiatedBy/user/id eq \"a\"") == "Invalid filter clause: unexpected character '\"' at position 24.")
        #expect(message("activityDateTime ge 2026abc") == "Invalid filter clause: unsupported numeric literal near '2026a' at position 21.")
    }

    @Test func structuralRefusalsNameTheirPosition() {
        #expect(message("result eq 'failure' result") == "Invalid filter clause: unexpected 'result' at position 21.")
        #expect(message("startswith(activityDisplayName 'Add')") == "Invalid filter clause: expected ',' but found ''Add'' at position 32.")
        #expect(message("targetResources/any(t t/id eq 'x')") == "Invalid filter clause: expected ':' but found 't/id' at position 23.")
        #expect(message("result eq") == "Invalid filter clause: the filter ends too early at position 10.")
        #expect(message("result eq failure") == "Invalid filter clause: expected a quoted string but found 'failure' at position 11.")
        #expect(message("startswith(activityDisplayName,'Add'") == "Invalid filter clause: expected ')' at position 37.")
    }

    /// `and` chains count against `Limits.filterDepth` as in resource filters.
    @Test func longChainsAreLimited() throws {
        let clause = "activityDateTime ge 2026-11-01"
        func chain(_ count: Int) -> String { Array(repeating: clause, count: count).joined(separator: " and ") }
        #expect(try AuditQuery.parse(filter: chain(Limits.filterDepth + 1), orderBy: nil).earliest == "2026-11-01T00:00:00.0000000Z")
        let refused = message(chain(Limits.filterDepth + 2))
        #expect(refused?.hasPrefix("Invalid filter clause: the expression is nested more than \(Limits.filterDepth) levels deep") == true, "\(refused ?? "")")
    }
}
