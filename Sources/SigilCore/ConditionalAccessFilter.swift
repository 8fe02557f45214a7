/// The rule of a Conditional Access `applicationFilter` or `servicePrincipalFilter`
/// (`conditionalAccessFilter.rule`), in the syntax Entra documents for filters in Conditional
/// Access ("Conditional Access: Filter for applications", "Conditional Access: Filter for
/// devices"): `CustomSecurityAttribute.Engineering_Project -eq "Baker"` terms joined by `-and`
/// and `-or`, with parentheses.
public struct ConditionalAccessRule: Sendable, Equatable {
    public enum Operator: String, Sendable, CaseIterable {
        case eq = "-eq"
        case ne = "-ne"
        case startsWith = "-startsWith"
        case notStartsWith = "-notStartsWith"
        case endsWith = "-endsWith"
        case notEndsWith = "-notEndsWith"
        case contains = "-contains"
        case notContains = "-notContains"
        case `in` = "-in"
        case notIn = "-notIn"

        /// The negative operators hold for an object that has no value, as Entra's device filters
        /// treat an unknown device (every property null).
        public var isNegative: Bool {
            switch self {
            case .ne, .notStartsWith, .notEndsWith, .notContains, .notIn: true
            default: false
            }
        }

        /// The positive operator a negative one negates (itself when positive).
        public var positive: Operator {
            switch self {
            case .ne: .eq
            case .notStartsWith: .startsWith
            case .notEndsWith: .endsWith
            case .notContains: .contains
            case .notIn: .in
            default: self
            }
        }

        /// `-in` and `-notIn` take a list, every other operator one string.
        public var takesList: Bool { positive == .in }

        static func parse(_ text: String) -> Operator? {
            allCases.first { $0.rawValue.lowercased() == text.lowercased() }
        }
    }

    /// The right-hand side: a quoted string, a bracketed list of quoted strings, or a bare word
    /// (`True`), which only device rules use and application filters refuse.
    public enum Operand: Sendable, Equatable {
        case string(String)
        case list([String])
        case bareWord(String)
    }

    /// One comparison: `subject.property -op operand`, e.g. `CustomSecurityAttribute` and
    /// `Engineering_Project`.
    public struct Term: Sendable, Equatable {
        public var subject: String
        public var property: String
        public var op: Operator
        public var operand: Operand

        public init(subject: String, property: String, op: Operator, operand: Operand) {
            self.subject = subject
            self.property = property
            self.op = op
            self.operand = operand
        }
    }

    public indirect enum Expression: Sendable, Equatable {
        case term(Term)
        case and(Expression, Expression)
        case or(Expression, Expression)
    }

    public let text: String
    public let expression: Expression

    /// Parses `text` without looking at any schema: syntax, operators, operands, length.
    public init(parsing text: String) throws(GraphError) {
        guard text.count <= Limits.conditionalAccessRuleLength else {
            throw .badRequest(
                "The filter rule is \(text.count) characters long; the maximum is \(Limits.conditionalAccessRuleLength).")
        }
        var parser = RuleParser(text: text)
        self.text = text
        self.expression = try parser.parseRule()
    }

    public var terms: [Term] {
        var result: [Term] = []
        func walk(_ expression: Expression) {
            switch expression {
            case .term(let term): result.append(term)
            case .and(let left, let right), .or(let left, let right):
                walk(left)
                walk(right)
            }
        }
        walk(expression)
        return result
    }
}

/// What a rule becomes once checked against the schema: every term names an active String
/// custom security attribute, so it can be evaluated against an object's values.
public struct ApplicationFilterRule: Sendable, Equatable {
    public static let subject = "CustomSecurityAttribute"

    public let rule: ConditionalAccessRule
    /// The definition ids (`Set_Attribute`) the rule reads, as the schema spells them, in order.
    public let definitionIds: [String]
    /// `nameKey`s of the multi-valued attributes among them: `-contains` means membership there.
    let collections: Set<String>

    /// Parses `text` and checks each term against `schema`: only `CustomSecurityAttribute.<Set>_<Attr>`
    /// of an existing, active (not deactivated) String attribute; a string operand (a list for
    /// `-in`/`-notIn`).
    public init(_ text: String, schema: Schema) throws(GraphError) {
        let rule = try ConditionalAccessRule(parsing: text)
        var ids: [String] = []
        var collections: Set<String> = []
        for term in rule.terms {
            guard term.subject.lowercased() == Self.subject.lowercased() else {
                throw .badRequest(
                    "The filter rule may only read custom security attributes ('\(Self.subject).<Set>_<Attribute>'), not '\(term.subject).\(term.property)'."
                )
            }
            guard AttributeDefinition.split(id: term.property) != nil, let definition = schema.definition(id: term.property)
            else {
                throw .badRequest("The filter rule names '\(term.property)', which is not a custom security attribute.")
            }
            guard definition.status == .available else {
                throw .badRequest(
                    "The filter rule names '\(definition.id)', a deactivated custom security attribute.")
            }
            guard definition.type == .string else {
                throw .badRequest(
                    "The filter rule names '\(definition.id)' of type \(definition.type.rawValue); filters for applications only support String attributes."
                )
            }
            switch term.operand {
            case .bareWord(let word):
                throw .badRequest(
                    "The value '\(word)' compared with '\(definition.id)' must be a quoted string.")
            case .string, .list: break
            }
            if !ids.contains(where: { nameKey($0) == nameKey(definition.id) }) { ids.append(definition.id) }
            if definition.isCollection { collections.insert(nameKey(definition.id)) }
        }
        self.rule = rule
        self.definitionIds = ids
        self.collections = collections
    }

    /// Whether `id` names one of the rule's multi-valued attributes.
    public func isCollection(_ id: String) -> Bool { collections.contains(nameKey(id)) }

    /// The attribute sets the rule reads (to check that a caller may read their definitions).
    public var attributeSets: [String] {
        var sets: [String] = []
        for id in definitionIds {
            guard let set = AttributeDefinition.split(id: id)?.set else { continue }
            if !sets.contains(where: { nameKey($0) == nameKey(set) }) { sets.append(set) }
        }
        return sets
    }

    /// Whether an object with `values` (its assignments) matches the rule.
    public func matches(_ values: AttributeAssignments) -> Bool {
        evaluate(rule.expression, values)
    }

    private func evaluate(_ expression: ConditionalAccessRule.Expression, _ values: AttributeAssignments) -> Bool {
        switch expression {
        case .term(let term):
            Self.evaluate(
                term, values.values(of: term.property).compactMap(\.stringValue),
                isCollection: collections.contains(nameKey(term.property)))
        case .and(let left, let right): evaluate(left, values) && evaluate(right, values)
        case .or(let left, let right): evaluate(left, values) || evaluate(right, values)
        }
    }

    /// Comparisons ignore case, as Entra's rule syntax does. A collection holds a positive
    /// operator when one of its values does (`-contains` on a collection is membership of a
    /// whole value, as Entra documents for string collections); a negative operator is the
    /// negation of its positive one, so it holds for an object without the attribute.
    static func evaluate(_ term: ConditionalAccessRule.Term, _ values: [String], isCollection: Bool) -> Bool {
        let positive = values.contains { value in holds(term.op.positive, term.operand, value, inCollection: isCollection) }
        return term.op.isNegative ? !positive : positive
    }

    /// Both sides lower-cased, then compared as UTF-8 bytes, as a store compares them: no
    /// canonical equivalence, and a prefix is a byte prefix even before a combining mark.
    static func holds(
        _ op: ConditionalAccessRule.Operator, _ operand: ConditionalAccessRule.Operand, _ value: String, inCollection: Bool
    ) -> Bool {
        let value = Array(value.lowercased().utf8)
        switch operand {
        case .list(let items): return op == .in && items.contains { Array($0.lowercased().utf8) == value }
        case .bareWord: return false
        case .string(let text):
            let text = Array(text.lowercased().utf8)
            switch op {
            case .eq: return value == text
            case .startsWith: return value.starts(with: text)
            case .endsWith: return value.reversed().starts(with: text.reversed())
            case .contains:
                if inCollection { return value == text }
                guard text.count <= value.count else { return false }
                return (0...(value.count - text.count)).contains { value[$0..<($0 + text.count)].elementsEqual(text) }
            default: return false
            }
        }
    }
}

/// A recursive-descent parser; `-and` binds tighter than `-or`, as in Entra's dynamic rules.
private struct RuleParser {
    let characters: [Character]
    var position = 0
    var depth = 0

    init(text: String) { characters = Array(text) }

    mutating func parseRule() throws(GraphError) -> ConditionalAccessRule.Expression {
        skipSpaces()
        guard position < characters.count else { throw .badRequest("The filter rule is empty.") }
        let expression = try parseOr()
        skipSpaces()
        guard position == characters.count else { throw unexpected() }
        return expression
    }

    private mutating func parseOr() throws(GraphError) -> ConditionalAccessRule.Expression {
        var left = try parseAnd()
        while try keyword("-or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(GraphError) -> ConditionalAccessRule.Expression {
        var left = try parsePrimary()
        while try keyword("-and") { left = .and(left, try parsePrimary()) }
        return left
    }

    private mutating func parsePrimary() throws(GraphError) -> ConditionalAccessRule.Expression {
        skipSpaces()
        if peek == "(" {
            position += 1
            depth += 1
            guard depth <= Limits.filterDepth else {
                throw .badRequest("The filter rule nests parentheses deeper than \(Limits.filterDepth) levels.")
            }
            let inner = try parseOr()
            skipSpaces()
            guard peek == ")" else { throw .badRequest("The filter rule is missing ')' at position \(position + 1).") }
            position += 1
            depth -= 1
            return inner
        }
        return .term(try parseTerm())
    }

    private mutating func parseTerm() throws(GraphError) -> ConditionalAccessRule.Term {
        skipSpaces()
        let start = position
        let path = word()
        guard !path.isEmpty else { throw unexpected() }
        let parts = path.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !parts[1].contains(".") else {
            throw .badRequest("'\(path)' at position \(start + 1) is not a property such as 'CustomSecurityAttribute.Set_Attribute'.")
        }
        skipSpaces()
        let opStart = position
        let opText = word()
        guard let op = ConditionalAccessRule.Operator.parse(opText) else {
            let supported = ConditionalAccessRule.Operator.allCases.map(\.rawValue).joined(separator: ", ")
            throw .badRequest(
                opText.isEmpty
                    ? "The filter rule expects an operator at position \(opStart + 1)."
                    : "'\(opText)' is not a supported operator; use one of \(supported).")
        }
        skipSpaces()
        let operand = try parseOperand()
        switch (op.takesList, operand) {
        case (true, .list), (false, .string), (false, .bareWord): break
        case (true, _): throw .badRequest("'\(op.rawValue)' takes a list such as [\"a\", \"b\"].")
        case (false, .list): throw .badRequest("'\(op.rawValue)' takes one quoted string, not a list.")
        }
        return ConditionalAccessRule.Term(subject: String(parts[0]), property: String(parts[1]), op: op, operand: operand)
    }

    private mutating func parseOperand() throws(GraphError) -> ConditionalAccessRule.Operand {
        guard let first = peek else { throw .badRequest("The filter rule ends where a value was expected.") }
        if first == "\"" || first == "'" { return .string(try quoted()) }
        if first == "[" {
            position += 1
            var items: [String] = []
            skipSpaces()
            if peek == "]" { throw .badRequest("The list at position \(position) is empty.") }
            while true {
                skipSpaces()
                guard peek == "\"" || peek == "'" else { throw .badRequest("A list holds quoted strings only (position \(position + 1)).") }
                items.append(try quoted())
                skipSpaces()
                if peek == "," {
                    position += 1
                    continue
                }
                guard peek == "]" else { throw .badRequest("The list is missing ']' at position \(position + 1).") }
                position += 1
                return .list(items)
            }
        }
        let bare = word()
        guard !bare.isEmpty else { throw unexpected() }
        return .bareWord(bare)
    }

    /// A string in double (or single) quotes; a backtick escapes the next character.
    private mutating func quoted() throws(GraphError) -> String {
        let start = position
        let quote = characters[position]
        position += 1
        var result = ""
        while position < characters.count {
            let character = characters[position]
            if character == "`", position + 1 < characters.count {
                result.append(characters[position + 1])
                position += 2
                continue
            }
            position += 1
            if character == quote { return result }
            result.append(character)
        }
        throw .badRequest("The string starting at position \(start + 1) is not closed.")
    }

    private var peek: Character? { position < characters.count ? characters[position] : nil }

    private mutating func skipSpaces() {
        while let character = peek, character.isWhitespace { position += 1 }
    }

    /// A run of characters up to a space, a parenthesis, a bracket, a quote or a comma.
    private mutating func word() -> String {
        let start = position
        while let character = peek, !character.isWhitespace, !"()[]\"',".contains(character) { position += 1 }
        return String(characters[start..<position])
    }

    /// Consumes `-and`/`-or` (any case) when it comes next.
    private mutating func keyword(_ name: String) throws(GraphError) -> Bool {
        skipSpaces()
        let saved = position
        let next = word()
        if next.lowercased() == name { return true }
        position = saved
        return false
    }

    private func unexpected() -> GraphError {
        guard let character = peek else { return .badRequest("The filter rule ends unexpectedly.") }
        return .badRequest("The filter rule has an unexpected '\(character)' at position \(position + 1).")
    }
}
