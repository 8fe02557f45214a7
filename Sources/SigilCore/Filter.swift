/// A literal on the right of an OData comparison.
public enum FilterLiteral: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case boolean(Bool)
    case null
}

public enum ComparisonOperator: String, Sendable, Equatable, CaseIterable {
    case eq, ne, gt, ge, lt, le
}

/// The `$filter` syntax tree. Paths are split on `/`: `customSecurityAttributes/Set/Attr`.
public indirect enum FilterExpression: Sendable, Equatable {
    case comparison(path: [String], op: ComparisonOperator, value: FilterLiteral)
    case startsWith(path: [String], prefix: FilterLiteral)
    case and(FilterExpression, FilterExpression)
    case or(FilterExpression, FilterExpression)
    case not(FilterExpression)

    /// Levels of `and`, `or` and `not` above the deepest clause (0 for a single clause).
    public var depth: Int {
        switch self {
        case .comparison, .startsWith: 0
        case .and(let l, let r), .or(let l, let r): 1 + max(l.depth, r.depth)
        case .not(let e): 1 + e.depth
        }
    }

    /// Every property path the expression mentions, left to right.
    public var paths: [[String]] {
        switch self {
        case .comparison(let path, _, _), .startsWith(let path, _): [path]
        case .and(let l, let r), .or(let l, let r): l.paths + r.paths
        case .not(let e): e.paths
        }
    }
}

/// Parses OData `$filter` text: comparisons (`eq ne gt ge lt le`), `startsWith(path,'x')`,
/// `and`, `or`, `not`, parentheses; string, integer, boolean and null literals.
public enum FilterParser {
    public static func parse(_ text: String) throws(GraphError) -> FilterExpression {
        var parser = Parser(tokens: try ODataTokenizer.tokenize(text), end: ODataTokenizer.end(of: text))
        let expression = try parser.parseOr()
        guard parser.position == parser.tokens.count else {
            throw parser.invalidHere("unexpected '\(parser.tokens[parser.position].text)'")
        }
        return expression
    }

    static func invalid(_ detail: String) -> GraphError { ODataTokenizer.invalid(detail) }

    struct Parser {
        typealias Token = ODataToken.Kind
        let tokens: [ODataToken]
        /// The position just past the text, for errors at its end.
        let end: Int
        var position = 0
        /// Open parentheses and `not`s around the current token.
        var nesting = 0

        /// Refuses an expression (or a nesting) deeper than `Limits.filterDepth`.
        func checkDepth(_ depth: Int) throws(GraphError) {
            guard depth <= Limits.filterDepth else { throw ODataTokenizer.tooDeep(at: here) }
        }

        /// An error pointing at the current token (or the end of the text).
        func invalidHere(_ detail: String) -> GraphError {
            invalid("\(detail) at position \(here)")
        }

        /// The position of the current token (or the end of the text).
        var here: Int { position < tokens.count ? tokens[position].position : end }

        var current: Token? { position < tokens.count ? tokens[position].kind : nil }

        func isKeyword(_ keyword: String) -> Bool {
            if case .word(let w) = current { return w.lowercased() == keyword }
            return false
        }

        mutating func expect(_ token: Token) throws(GraphError) {
            guard current == token else {
                throw invalidHere("expected '\(token.text)'" + (current.map { " but found '\($0.text)'" } ?? ""))
            }
            position += 1
        }

        mutating func parseOr() throws(GraphError) -> FilterExpression {
            var left = try parseAnd()
            while isKeyword("or") {
                position += 1
                left = .or(left, try parseAnd())
                try checkDepth(nesting + left.depth)
            }
            return left
        }

        mutating func parseAnd() throws(GraphError) -> FilterExpression {
            var left = try parseUnary()
            while isKeyword("and") {
                position += 1
                left = .and(left, try parseUnary())
                try checkDepth(nesting + left.depth)
            }
            return left
        }

        mutating func parseUnary() throws(GraphError) -> FilterExpression {
            if isKeyword("not") {
                position += 1
                nesting += 1
                try checkDepth(nesting)
                let operand = try parseUnary()
                nesting -= 1
                return .not(operand)
            }
            return try parsePrimary()
        }

        mutating func parsePrimary() throws(GraphError) -> FilterExpression {
            guard let token = current else { throw invalidHere("the expression ends too early") }
            if token == .open {
                position += 1
                nesting += 1
                try checkDepth(nesting)
                let inner = try parseOr()
                nesting -= 1
                try expect(.close)
                return inner
            }
            guard case .word(let word) = token else { throw invalidHere("expected a property but found '\(token.text)'") }
            position += 1
            if current == .open {
                return try parseFunction(word)
            }
            let path = try FilterParser.path(word, at: tokens[position - 1].position)
            guard case .word(let opWord) = current, let op = ComparisonOperator(rawValue: opWord.lowercased()) else {
                throw invalidHere("expected an operator after '\(word)'")
            }
            position += 1
            return .comparison(path: path, op: op, value: try parseLiteral())
        }

        mutating func parseFunction(_ name: String) throws(GraphError) -> FilterExpression {
            guard name.lowercased() == "startswith" else {
                throw .unsupportedQuery("Unsupported Query: the function '\(name)' is not supported.")
            }
            try expect(.open)
            guard case .word(let word) = current else { throw invalidHere("startsWith expects a property first") }
            position += 1
            let path = try FilterParser.path(word, at: tokens[position - 1].position)
            try expect(.comma)
            let prefix = try parseLiteral()
            try expect(.close)
            return .startsWith(path: path, prefix: prefix)
        }

        mutating func parseLiteral() throws(GraphError) -> FilterLiteral {
            guard let token = current else { throw invalidHere("expected a value at the end") }
            position += 1
            switch token {
            case .string(let s): return .string(s)
            case .number(let n): return .integer(n)
            case .word(let w):
                switch w.lowercased() {
                case "true": return .boolean(true)
                case "false": return .boolean(false)
                case "null": return .null
                default: throw invalidHere("expected a value but found '\(w)'")
                }
            default: throw invalidHere("expected a value but found '\(token.text)'")
            }
        }
    }

    static func path(_ word: String, at offset: Int) throws(GraphError) -> [String] {
        let parts = word.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty) else { throw invalid("'\(word)' is not a property path at position \(offset)") }
        return parts
    }
}
