/// Parses and checks an Azure role-assignment condition (`conditionVersion` 2.0).
///
/// Grammar (Azure's "format and syntax" page):
///
///     expression := unary (('AND' | '&&') unary)* | unary (('OR' | '||') unary)*
///     unary      := ('NOT' | '!') unary | '(' expression ')' | function | comparison
///     function   := 'ActionMatches' '{' string '}' | 'SubOperationMatches' '{' string '}'
///                 | 'Exists' attribute
///     comparison := operand ['ForAnyOfAnyValues:' | ...] Operator operand
///     operand    := attribute | literal | '{' literal (',' literal)* '}'
///
/// AND and OR may not be mixed at one level without parentheses, as Azure requires.
public enum ConditionParser {
    /// Parses `text`; with a schema, `@Principal` attributes must name existing definitions
    /// whose type fits the operator.
    public static func parse(_ text: String, schema: Schema? = nil) throws(ConditionError) -> AccessCondition {
        if text.utf8.count > Limits.conditionBytes {
            throw ConditionError(
                position: 1, reason: "The condition is longer than \(Limits.conditionBytes) bytes.")
        }
        var parser = Parser(chars: Array(text), schema: schema)
        let tokens = try parser.tokenize()
        parser.tokens = tokens
        guard !tokens.isEmpty else { throw ConditionError(position: 1, reason: "The condition is empty.") }
        let expression = try parser.expression(depth: 0)
        if parser.index < tokens.count {
            let token = tokens[parser.index]
            throw ConditionError(position: token.start, reason: "Unexpected '\(token.text)'.")
        }
        return AccessCondition(text: text, expression: expression)
    }

    /// Checks the version field of a stored condition.
    public static func checkVersion(_ version: String?) throws(ConditionError) {
        guard version == nil || version == AccessCondition.version else {
            throw ConditionError(position: 1, reason: "conditionVersion must be '\(AccessCondition.version)'.")
        }
    }
}

private struct Token {
    enum Kind: Equatable {
        case open, close, braceOpen, braceClose, comma, not, and, or
        case string(String)
        case word(String)
        case attribute(ConditionAttribute)
    }

    let kind: Kind
    let start: Int
    let end: Int
    let text: String
}

private struct Parser {
    let chars: [Character]
    let schema: Schema?
    var tokens: [Token] = []
    var index = 0

    init(chars: [Character], schema: Schema?) {
        self.chars = chars
        self.schema = schema
    }

    // MARK: tokens

    func isWordCharacter(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || c == "_" || c == "." || c == "-" || c == ":" || c == "+"
    }

    func tokenize() throws(ConditionError) -> [Token] {
        var out: [Token] = []
        var i = 0
        func add(_ kind: Token.Kind, _ from: Int, _ to: Int) {
            out.append(Token(kind: kind, start: from + 1, end: to + 1, text: String(chars[from..<to])))
        }
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                i += 1
                continue
            }
            switch c {
            case "(": add(.open, i, i + 1); i += 1
            case ")": add(.close, i, i + 1); i += 1
            case "{": add(.braceOpen, i, i + 1); i += 1
            case "}": add(.braceClose, i, i + 1); i += 1
            case ",": add(.comma, i, i + 1); i += 1
            case "!": add(.not, i, i + 1); i += 1
            case "&", "|":
                guard i + 1 < chars.count, chars[i + 1] == c else {
                    throw ConditionError(position: i + 1, reason: "Expected '\(c)\(c)'.")
                }
                add(c == "&" ? .and : .or, i, i + 2)
                i += 2
            case "'":
                // A backslash keeps the next character (so `\'` is a quote); the backslash itself
                // stays for `\*` and `\?` in Like patterns.
                var value = ""
                var j = i + 1
                var closed = false
                while j < chars.count {
                    if chars[j] == "\\", j + 1 < chars.count {
                        if chars[j + 1] == "'" { value.append("'") } else { value.append(chars[j]); value.append(chars[j + 1]) }
                        j += 2
                        continue
                    }
                    if chars[j] == "'" {
                        closed = true
                        break
                    }
                    value.append(chars[j])
                    j += 1
                }
                guard closed else { throw ConditionError(position: i + 1, reason: "The string is not closed.") }
                add(.string(value), i, j + 1)
                i = j + 1
            case "@":
                var j = i + 1
                while j < chars.count, chars[j].isLetter { j += 1 }
                let sourceName = String(chars[i..<j])
                guard let source = ConditionSource.allCases.first(where: { $0.rawValue.lowercased() == sourceName.lowercased() })
                else {
                    throw ConditionError(
                        position: i + 1,
                        reason: "Unknown attribute source '\(sourceName)'; expected @Principal, @Resource, @Request or @Environment.")
                }
                guard j < chars.count, chars[j] == "[" else {
                    throw ConditionError(position: j + 1, reason: "Expected '[' after \(source.rawValue).")
                }
                var k = j + 1
                while k < chars.count, chars[k] != "]" { k += 1 }
                guard k < chars.count else { throw ConditionError(position: j + 1, reason: "The attribute's '[' is not closed.") }
                let inner = String(chars[(j + 1)..<k]).trimmingSpaces
                guard !inner.isEmpty else { throw ConditionError(position: j + 1, reason: "The attribute name is empty.") }
                add(.attribute(ConditionAttribute(source: source, bracketText: inner)), i, k + 1)
                i = k + 1
            default:
                guard isWordCharacter(c) else {
                    throw ConditionError(position: i + 1, reason: "Unexpected character '\(c)'.")
                }
                var j = i
                while j < chars.count, isWordCharacter(chars[j]) { j += 1 }
                let word = String(chars[i..<j])
                switch word.uppercased() {
                case "AND": add(.and, i, j)
                case "OR": add(.or, i, j)
                case "NOT": add(.not, i, j)
                default: add(.word(word), i, j)
                }
                i = j
            }
        }
        return out
    }

    // MARK: grammar

    var current: Token? { index < tokens.count ? tokens[index] : nil }

    var endPosition: Int { (tokens.last?.end ?? 1) }

    func unexpected(_ expected: String) -> ConditionError {
        if let token = current {
            return ConditionError(position: token.start, reason: "Expected \(expected), found '\(token.text)'.")
        }
        return ConditionError(position: endPosition, reason: "Expected \(expected) at the end of the condition.")
    }

    mutating func expect(_ kind: Token.Kind, _ what: String) throws(ConditionError) -> Token {
        guard let token = current, token.kind == kind else { throw unexpected(what) }
        index += 1
        return token
    }

    mutating func expression(depth: Int) throws(ConditionError) -> ConditionExpression {
        guard depth <= Limits.conditionDepth else {
            throw ConditionError(
                position: current?.start ?? endPosition, reason: "The condition nests deeper than \(Limits.conditionDepth) levels.")
        }
        let first = try unary(depth: depth)
        var parts = [first]
        var joiner: Token.Kind?
        while let token = current, token.kind == .and || token.kind == .or {
            if let joiner, joiner != token.kind {
                throw ConditionError(
                    position: token.start,
                    reason: "AND and OR are mixed at one level; add parentheses to say which is evaluated first.")
            }
            joiner = token.kind
            index += 1
            parts.append(try unary(depth: depth))
        }
        guard let joiner, let last = parts.last else { return first }
        let span = ConditionSpan(start: first.span.start, end: last.span.end)
        return joiner == .and ? .and(parts, span) : .or(parts, span)
    }

    mutating func unary(depth: Int) throws(ConditionError) -> ConditionExpression {
        guard let token = current else { throw unexpected("an expression") }
        switch token.kind {
        case .not:
            index += 1
            let inner = try unary(depth: depth + 1)
            return .not(inner, ConditionSpan(start: token.start, end: inner.span.end))
        case .open:
            index += 1
            let inner = try expression(depth: depth + 1)
            let close = try expect(.close, "')'")
            return rewrap(inner, ConditionSpan(start: token.start, end: close.end))
        case .word(let word) where word.lowercased() == "actionmatches" || word.lowercased() == "suboperationmatches":
            index += 1
            _ = try expect(.braceOpen, "'{' after \(word)")
            guard let valueToken = current, case .string(let pattern) = valueToken.kind else {
                throw unexpected("a quoted pattern")
            }
            index += 1
            let close = try expect(.braceClose, "'}'")
            let span = ConditionSpan(start: token.start, end: close.end)
            return word.lowercased() == "actionmatches" ? .actionMatches(pattern, span) : .subOperationMatches(pattern, span)
        case .word(let word) where word.lowercased() == "exists":
            index += 1
            guard let attrToken = current, case .attribute(let attribute) = attrToken.kind else {
                throw unexpected("an attribute after Exists")
            }
            index += 1
            try checkPrincipal(attribute, at: attrToken.start)
            return .exists(attribute, ConditionSpan(start: token.start, end: attrToken.end))
        default:
            return try comparison()
        }
    }

    /// Parentheses only group: the span grows to cover them, so a trace shows what was written.
    func rewrap(_ e: ConditionExpression, _ span: ConditionSpan) -> ConditionExpression {
        switch e {
        case .and(let p, _): .and(p, span)
        case .or(let p, _): .or(p, span)
        case .not(let i, _): .not(i, span)
        case .actionMatches(let p, _): .actionMatches(p, span)
        case .subOperationMatches(let p, _): .subOperationMatches(p, span)
        case .exists(let a, _): .exists(a, span)
        case .comparison(let c, _): .comparison(c, span)
        }
    }

    mutating func comparison() throws(ConditionError) -> ConditionExpression {
        let leftStart = current?.start ?? endPosition
        let left = try operand()
        guard let opToken = current, case .word(let word) = opToken.kind else { throw unexpected("an operator") }
        index += 1
        var quantifier: ConditionQuantifier?
        var opName = word
        if let colon = word.firstIndex(of: ":") {
            let prefix = String(word[..<colon])
            guard let q = ConditionQuantifier.allCases.first(where: { $0.rawValue.lowercased() == prefix.lowercased() }) else {
                throw ConditionError(position: opToken.start, reason: "Unknown operator '\(word)'.")
            }
            quantifier = q
            opName = String(word[word.index(after: colon)...])
        }
        guard let op = ConditionOperator.all.first(where: { $0.key.lowercased() == opName.lowercased() })?.value else {
            throw ConditionError(position: opToken.start, reason: "Unknown operator '\(word)'.")
        }
        if quantifier != nil, op.kind == .bool || op.kind == .dateTime || op.test == .startsWith {
            throw ConditionError(position: opToken.start, reason: "\(op.name) cannot take a cross-product quantifier.")
        }
        let rightStart = current?.start ?? endPosition
        let right = try operand()
        try check(left, at: leftStart, op: op, quantified: quantifier != nil, opPosition: opToken.start)
        try check(right, at: rightStart, op: op, quantified: quantifier != nil, opPosition: opToken.start)
        let end = tokens[index - 1].end
        let comparison = ConditionComparison(left: left, quantifier: quantifier, op: op, right: right)
        return .comparison(comparison, ConditionSpan(start: leftStart, end: end))
    }

    mutating func operand() throws(ConditionError) -> ConditionOperand {
        guard let token = current else { throw unexpected("an attribute or a value") }
        switch token.kind {
        case .attribute(let attribute):
            index += 1
            return .attribute(attribute)
        case .braceOpen:
            index += 1
            var values: [ConditionLiteral] = []
            repeat {
                if !values.isEmpty { index += 1 }
                values.append(try literal())
            } while current?.kind == .comma
            _ = try expect(.braceClose, "',' or '}'")
            return .literals(values, isSet: true)
        default:
            return .literals([try literal()], isSet: false)
        }
    }

    mutating func literal() throws(ConditionError) -> ConditionLiteral {
        guard let token = current else { throw unexpected("a value") }
        switch token.kind {
        case .string(let s):
            index += 1
            return .string(s)
        case .word(let w):
            if w.lowercased() == "true" || w.lowercased() == "false" {
                index += 1
                return .bool(w.lowercased() == "true")
            }
            if let n = Int64(w) {
                index += 1
                return .integer(n)
            }
            if ConditionValues.isGuid(w) {
                index += 1
                return .guid(w)
            }
            throw ConditionError(position: token.start, reason: "'\(w)' is not a value; quote strings with '.")
        default:
            throw unexpected("a value")
        }
    }

    // MARK: types

    func check(
        _ operand: ConditionOperand, at position: Int, op: ConditionOperator, quantified: Bool, opPosition: Int
    ) throws(ConditionError) {
        switch operand {
        case .literals(let values, let isSet):
            if isSet, !quantified, values.count > 1 {
                throw ConditionError(
                    position: position, reason: "\(op.name) compares single values; use a ForAnyOf/ForAllOf operator for a set.")
            }
            for value in values where !fits(value, op.kind) {
                throw ConditionError(position: position, reason: "\(op.name) needs \(describe(op.kind)) values.")
            }
        case .attribute(let attribute):
            try checkPrincipal(attribute, at: position)
            // Azure's Blob Storage attribute page: UTC now takes only these two operators.
            if attribute.source == .environment, nameKey(attribute.reference) == "utcnow",
                op.kind != .dateTime || !(op.test == .greaterThan || op.test == .lessThan)
            {
                throw ConditionError(
                    position: opPosition, reason: "@Environment[UtcNow] takes only DateTimeGreaterThan and DateTimeLessThan.")
            }
            guard let (set, name) = attribute.principalDefinition, let schema,
                let definition = schema.definition(set: set, name: name)
            else { return }
            let kind: ConditionValueKind =
                switch definition.type {
                case .string: .string
                case .integer: .numeric
                case .boolean: .bool
                }
            guard kind == op.kind else {
                throw ConditionError(
                    position: opPosition,
                    reason: "\(op.name) does not apply to \(definition.id), a \(definition.type.rawValue) attribute.")
            }
            if definition.isCollection, !quantified {
                throw ConditionError(
                    position: opPosition,
                    reason: "\(definition.id) holds several values; use a ForAnyOf/ForAllOf operator.")
            }
        }
    }

    func checkPrincipal(_ attribute: ConditionAttribute, at position: Int) throws(ConditionError) {
        guard attribute.source == .principal else { return }
        guard let (set, name) = attribute.principalDefinition else {
            throw ConditionError(
                position: position,
                reason: "Principal attributes are written @Principal[\(ConditionAttribute.principalNamespace):Set_Attribute].")
        }
        if let schema, schema.definition(set: set, name: name) == nil {
            throw ConditionError(position: position, reason: "Custom security attribute '\(set)_\(name)' does not exist.")
        }
    }

    func fits(_ value: ConditionLiteral, _ kind: ConditionValueKind) -> Bool {
        switch (value, kind) {
        case (.string, .string), (.integer, .numeric), (.bool, .bool), (.guid, .guid): true
        case (.string(let s), .dateTime): ConditionValues.dateTime(s) != nil
        case (.string(let s), .guid): ConditionValues.isGuid(s)
        default: false
        }
    }

    func describe(_ kind: ConditionValueKind) -> String {
        switch kind {
        case .string: "quoted string"
        case .numeric: "integer"
        case .bool: "true or false"
        case .dateTime: "quoted date-time ('yyyy-mm-ddThh:mm:ss.fffffffZ')"
        case .guid: "GUID"
        }
    }
}
