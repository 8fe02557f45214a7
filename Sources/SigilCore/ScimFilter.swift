/// A SCIM filter (RFC 7644 section 3.4.2.2): parsed once, then either compiled into the store's
/// query (`ObjectPredicate`) or evaluated against the elements of a multi-valued attribute (a
/// PATCH value path such as `emails[type eq "work"]`).
public indirect enum ScimFilter: Sendable, Equatable {
    case compare(String, ScimOperator, JSONValue)
    case present(String)
    case and(ScimFilter, ScimFilter)
    case or(ScimFilter, ScimFilter)
    case not(ScimFilter)

    public static func parse(_ text: String) throws(ScimError) -> ScimFilter {
        var parser = ScimFilterParser(tokens: try ScimFilterParser.tokenize(text))
        let filter = try parser.parseOr()
        guard parser.atEnd else { throw .invalidFilter("Unexpected '\(parser.peekText)' in filter.") }
        return filter
    }

    /// Evaluates against one element of a multi-valued complex attribute.
    func matches(_ element: JSONValue) -> Bool {
        switch self {
        case .and(let l, let r): return l.matches(element) && r.matches(element)
        case .or(let l, let r): return l.matches(element) || r.matches(element)
        case .not(let inner): return !inner.matches(element)
        case .present(let name):
            guard let value = element.objectValue?.scimValue(name) else { return false }
            return value != .null
        case .compare(let name, let op, let wanted):
            guard let value = element.objectValue?.scimValue(name) else { return op == .ne }
            switch (op, value, wanted) {
            case (.eq, .string(let a), .string(let b)): return a.lowercased() == b.lowercased()
            case (.ne, .string(let a), .string(let b)): return a.lowercased() != b.lowercased()
            case (.sw, .string(let a), .string(let b)): return a.lowercased().hasPrefix(b.lowercased())
            case (.ew, .string(let a), .string(let b)): return a.lowercased().hasSuffix(b.lowercased())
            case (.co, .string(let a), .string(let b)): return a.lowercased().contains(b.lowercased())
            case (.eq, _, _): return value == wanted
            case (.ne, _, _): return value != wanted
            default: return false
            }
        }
    }
}

public enum ScimOperator: String, Sendable, Equatable {
    case eq, ne, co, sw, ew, gt, ge, lt, le
}

struct ScimFilterParser {
    enum Token: Equatable {
        case word(String)
        case string(String)
        case open, close
    }

    var tokens: [Token]
    var position = 0

    var atEnd: Bool { position >= tokens.count }
    var peekText: String {
        guard position < tokens.count else { return "end" }
        switch tokens[position] {
        case .word(let w): return w
        case .string(let s): return "\"\(s)\""
        case .open: return "("
        case .close: return ")"
        }
    }

    static func tokenize(_ text: String) throws(ScimError) -> [Token] {
        var tokens: [Token] = []
        var chars = Array(text)[...]
        while let c = chars.first {
            if c == " " || c == "\t" || c == "\n" {
                chars.removeFirst()
            } else if c == "(" {
                tokens.append(.open)
                chars.removeFirst()
            } else if c == ")" {
                tokens.append(.close)
                chars.removeFirst()
            } else if c == "\"" {
                chars.removeFirst()
                var value = ""
                var closed = false
                while let d = chars.popFirst() {
                    if d == "\\" {
                        guard let e = chars.popFirst() else { break }
                        switch e {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        default: value.append(e)
                        }
                    } else if d == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(d)
                    }
                }
                guard closed else { throw .invalidFilter("A string in the filter is not closed.") }
                tokens.append(.string(value))
            } else {
                var word = ""
                while let d = chars.first, d != " ", d != "(", d != ")", d != "\"", d != "\t" {
                    word.append(d)
                    chars.removeFirst()
                }
                if word.contains("[") {
                    throw .invalidFilter("Value filters ('\(word)') are not supported in a list filter; use attribute.subAttribute.")
                }
                tokens.append(.word(word))
            }
        }
        guard !tokens.isEmpty else { throw .invalidFilter("The filter is empty.") }
        return tokens
    }

    mutating func next() -> Token? {
        guard position < tokens.count else { return nil }
        defer { position += 1 }
        return tokens[position]
    }

    func isWord(_ word: String) -> Bool {
        guard position < tokens.count, case .word(let w) = tokens[position] else { return false }
        return w.lowercased() == word
    }

    mutating func parseOr() throws(ScimError) -> ScimFilter {
        var left = try parseAnd()
        while isWord("or") {
            position += 1
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws(ScimError) -> ScimFilter {
        var left = try parseUnary()
        while isWord("and") {
            position += 1
            left = .and(left, try parseUnary())
        }
        return left
    }

    mutating func parseUnary() throws(ScimError) -> ScimFilter {
        if isWord("not") {
            position += 1
            guard next() == .open else { throw .invalidFilter("'not' must be followed by a parenthesised filter.") }
            let inner = try parseOr()
            guard next() == .close else { throw .invalidFilter("A parenthesis in the filter is not closed.") }
            return .not(inner)
        }
        if position < tokens.count, tokens[position] == .open {
            position += 1
            let inner = try parseOr()
            guard next() == .close else { throw .invalidFilter("A parenthesis in the filter is not closed.") }
            return inner
        }
        guard case .word(let path)? = next() else { throw .invalidFilter("Expected an attribute name at '\(peekText)'.") }
        guard case .word(let opText)? = next() else { throw .invalidFilter("Expected an operator after '\(path)'.") }
        if opText.lowercased() == "pr" { return .present(path) }
        guard let op = ScimOperator(rawValue: opText.lowercased()) else {
            throw .invalidFilter("Unknown operator '\(opText)'.")
        }
        guard let token = next() else { throw .invalidFilter("Expected a value after '\(path) \(opText)'.") }
        let value: JSONValue
        switch token {
        case .string(let s): value = .string(s)
        case .word(let w):
            switch w.lowercased() {
            case "true": value = .bool(true)
            case "false": value = .bool(false)
            case "null": value = .null
            default:
                guard let number = Int64(w) else { throw .invalidFilter("'\(w)' is not a valid filter value.") }
                value = .integer(number)
            }
        default: throw .invalidFilter("Expected a value after '\(path) \(opText)'.")
        }
        return .compare(path, op, value)
    }
}

extension ScimFilter {
    /// The filter as the store's query on users. Ordinary attributes compare case-insensitively
    /// (their `caseExact` is false); attribute values compare exactly, as Graph's `$filter` does.
    /// Supported: `eq`, `ne`, `sw`, `pr` (ordinary attributes), `and`, `or`, `not`.
    public func predicate(schema: Schema) throws(ScimError) -> ObjectPredicate {
        switch self {
        case .and(let l, let r): return .and(try l.predicate(schema: schema), try r.predicate(schema: schema))
        case .or(let l, let r): return .or(try l.predicate(schema: schema), try r.predicate(schema: schema))
        case .not(let inner): return .not(try inner.predicate(schema: schema))
        case .present(let path):
            guard let property = ScimUserMapping.property(forPath: path) else {
                throw .invalidFilter("'pr' is supported on userName, externalId, emails, displayName and title, not '\(path)'.")
            }
            return .not(.property(property, .equals(nil)))
        case .compare(let path, let op, let value):
            guard op == .eq || op == .ne || op == .sw else {
                throw .invalidFilter("Operator '\(op.rawValue)' is not supported; use eq, ne, sw, pr, and, or, not.")
            }
            let positive = try comparison(path, op == .sw, value, schema: schema)
            return op == .ne ? .not(positive) : positive
        }
    }

    private func comparison(_ path: String, _ startsWith: Bool, _ value: JSONValue, schema: Schema) throws(ScimError)
        -> ObjectPredicate
    {
        if let definition = try ScimUserMapping.definition(forPath: path, schema: schema) {
            if startsWith {
                guard definition.type == .string, let prefix = value.stringValue else {
                    throw .invalidFilter("'sw' needs a String attribute and a string value ('\(path)').")
                }
                return .attribute(definition, .startsWith(prefix))
            }
            let parsed: AttributeValue?
            switch (definition.type, value) {
            case (.string, .string(let s)): parsed = .string(s)
            case (.boolean, .bool(let b)): parsed = .boolean(b)
            case (.integer, .integer(let i)): parsed = Int32(exactly: i).map { .integer($0) }
            default: parsed = nil
            }
            guard let parsed else {
                throw .invalidFilter("'\(path)' is of type \(definition.type.rawValue); the filter compares it with \(value.typeName).")
            }
            return .attribute(definition, .equals(parsed))
        }
        if path.lowercased() == "active" {
            guard !startsWith, let flag = value.boolValue else { throw .invalidFilter("'active' compares with true or false.") }
            return .property("accountEnabled", .equalsBool(flag))
        }
        guard let property = ScimUserMapping.property(forPath: path) else {
            throw .invalidFilter("Filtering on '\(path)' is not supported.")
        }
        if value == .null, !startsWith { return .property(property, .equals(nil)) }
        guard let text = value.stringValue else { throw .invalidFilter("'\(path)' compares with a string.") }
        return .property(property, startsWith ? .startsWith(text) : .equals(text))
    }
}
