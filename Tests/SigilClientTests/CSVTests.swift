import Testing

@testable import SigilClient

/// RFC 4180 reading and writing, as `import assignments` reads its file and writes the rejects.
@Suite struct CSVTests {
    @Test func plainRowsAndLineEnds() {
        #expect(CSV.parse("a,b,c\nd,e,f\n") == [["a", "b", "c"], ["d", "e", "f"]])
        #expect(CSV.parse("a,b\r\nc,d\re,f") == [["a", "b"], ["c", "d"], ["e", "f"]])
        #expect(CSV.parse("a,,c\n,\n") == [["a", "", "c"], ["", ""]])
        #expect(CSV.parse("a,") == [["a", ""]])
    }

    @Test func blankLinesAreSkipped() {
        #expect(CSV.parse("\n\na,b\n\r\n\nc,d\n\n") == [["a", "b"], ["c", "d"]])
        #expect(CSV.parse("").isEmpty)
    }

    @Test func quotedFieldsKeepCommasQuotesAndLineBreaks() {
        #expect(CSV.parse(#""a,b","say ""hi""",c"#) == [["a,b", #"say "hi""#, "c"]])
        #expect(CSV.parse("\"two\nlines\",x\n\"\",\"\"\"\"") == [["two\nlines", "x"], ["", "\""]])
        #expect(CSV.parse(#""closed at the end""#) == [["closed at the end"]])
        // A quote inside an unquoted field is an ordinary character.
        #expect(CSV.parse(#"O"Brien,x"#) == [[#"O"Brien"#, "x"]])
    }

    @Test func writingQuotesOnlyWhatNeedsIt() {
        #expect(CSV.line(["plain", "with space", "Ingeniería"]) == "plain,with space,Ingeniería")
        #expect(CSV.line(["a,b", #"say "hi""#, "two\nlines", "cr\r"]) == #""a,b","say ""hi""","two"# + "\nlines\",\"cr\r\"")
        #expect(CSV.line([]) == "")
        #expect(CSV.line(["", ""]) == ",")
    }

    @Test func whatIsWrittenReadsBack() {
        let rows = [
            ["line", "object", "set", "attribute", "value", "reason"],
            ["3", "adele@sigil.test", "Engineering", "Project", "Alpine|Baker", #"'Cedar' is not an active predefined value, "Baker" is"#],
            ["4", "", "", "", "", "expected 4 columns (object, set, attribute, value), found 1"],
            ["5", "x", "y", "z", "multi\nline", "refused"],
        ]
        #expect(CSV.parse(rows.map(CSV.line).joined(separator: "\n") + "\n") == rows)
    }

    /// "\r\n" is one Character in Swift, equal to neither "\r" nor "\n": a field holding it must
    /// still be quoted, or the rejects file gains a row break inside that field.
    @Test func aFieldHoldingCRLFReadsBack() {
        #expect(CSV.line(["multi\r\nline"]) == "\"multi\r\nline\"")
        #expect(CSV.parse(CSV.line(["a", "multi\r\nline"]) + "\n") == [["a", "multi\r\nline"]])
    }
}
