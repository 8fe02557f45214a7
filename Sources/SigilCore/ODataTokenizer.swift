/// One token of OData `$filter` text and where it starts.
struct ODataToken: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        /// A name, keyword or property path: `customSecurityAttributes/Set/Attr`, `eq`, `true`.
        case word(String)
        /// A quoted string, its `''` escapes undone.
        case string(String)
        case number(Int64)
        /// An unquoted date or date-time as written: `2026-11-30`, `2026-11-30T08:00:00.5+01:00`.
        case dateTime(String)
        case open, close, comma
        /// The `:` of a lambda: `any(t: t/id eq 'x')`.
        case colon
    }

    let kind: Kind
    /// The 1-based character position of the token's first character, for error messages.
    let position: Int
    /// The token as written (digits as typed, strings with their quotes and escapes).
    let source: String

    /// The token as error messages quote it.
    var text: String { kind.text }
}

extension ODataToken.Kind {
    /// The token as error messages quote it.
    var text: String {
        switch self {
        case .word(let w), .dateTime(let w): w
        case .string(let s): "'\(s)'"
        case .number(let n): String(n)
        case .open: "("
        case .close: ")"
        case .comma: ","
        case .colon: ":"
        }
    }
}

/// The one lexer of OData `$filter` text, for resource filters (`FilterParser`) and the audit
/// log's (`AuditQuery`). Refuses text longer than `Limits.filterLength` before reading it, and
/// any character outside the grammar with its position.
enum ODataTokenizer {
    /// The characters past the text, for errors at its end.
    static func end(of text: String) -> Int { text.count + 1 }

    /// - Parameters:
    ///   - lambdas: the `:` of `any(t: t/id eq 'x')` is a token (else an unexpected character).
    ///   - dateTimes: a number followed by `-` and a digit is an unquoted date-time (else the
    ///     `-` starts another number).
    static func tokenize(_ text: String, lambdas: Bool = false, dateTimes: Bool = false) throws(GraphError) -> [ODataToken] {
        try checkLength(text)
        var tokens: [ODataToken] = []
        let chars = Array(text)
        var i = 0
        func add(_ kind: ODataToken.Kind, from start: Int) {
            tokens.append(ODataToken(kind: kind, position: start + 1, source: String(chars[start..<i])))
        }
        while i < chars.count {
            let start = i
            let c = chars[i]
            if c.isWhitespace {
                i += 1
            } else if c == "(" || c == ")" || c == "," || (lambdas && c == ":") {
                i += 1
                add(c == "(" ? .open : c == ")" ? .close : c == "," ? .comma : .colon, from: start)
            } else if c == "'" {
                add(.string(try quoted(chars, &i)), from: start)
            } else if c.isNumber || (c == "-" && i + 1 < chars.count && chars[i + 1].isNumber) {
                i += 1
                while i < chars.count, chars[i].isNumber { i += 1 }
                if dateTimes, c != "-", i + 1 < chars.count, chars[i] == "-", chars[i + 1].isNumber {
                    while i < chars.count, chars[i].isASCII, chars[i].isLetter || chars[i].isNumber || ":.+-".contains(chars[i]) { i += 1 }
                    add(.dateTime(String(chars[start..<i])), from: start)
                    continue
                }
                let digits = String(chars[start..<i])
                if i < chars.count, chars[i].isLetter || chars[i] == "." {
                    throw invalid("unsupported numeric literal near '\(digits)\(chars[i])' at position \(start + 1)")
                }
                guard let n = Int64(digits) else { throw invalid("number '\(digits)' is out of range at position \(start + 1)") }
                add(.number(n), from: start)
            } else if c.isLetter || c == "_" || c == "@" || c == "$" {
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || "_/.@$".contains(chars[i]) { i += 1 }
                add(.word(String(chars[start..<i])), from: start)
            } else {
                throw invalid("unexpected character '\(c)' at position \(start + 1)")
            }
        }
        return tokens
    }

    /// Refuses a `$filter` longer than `Limits.filterLength` before any work is spent on it.
    static func checkLength(_ text: String) throws(GraphError) {
        guard text.count <= Limits.filterLength else {
            throw .badRequest("The $filter is \(text.count) characters long; the limit is \(Limits.filterLength).")
        }
    }

    /// The refusal of an expression nested deeper than `Limits.filterDepth`.
    static func tooDeep(at position: Int) -> GraphError {
        invalid("the expression is nested more than \(Limits.filterDepth) levels deep (and, or, not, parentheses) at position \(position)")
    }

    static func invalid(_ detail: String) -> GraphError {
        .badRequest("Invalid filter clause: \(detail).")
    }

    /// The string literal opening at `chars[i]`; `''` stands for one quote. Leaves `i` past it.
    private static func quoted(_ chars: [Character], _ i: inout Int) throws(GraphError) -> String {
        let start = i
        var value = ""
        i += 1
        while i < chars.count {
            if chars[i] == "'" {
                if i + 1 < chars.count, chars[i + 1] == "'" {
                    value.append("'")
                    i += 2
                    continue
                }
                i += 1
                return value
            }
            value.append(chars[i])
            i += 1
        }
        throw invalid("unterminated string literal starting at position \(start + 1)")
    }
}
