/// One value an attribute holds when a condition is evaluated.
public enum ConditionValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case bool(Bool)

    init(_ literal: ConditionLiteral) {
        switch literal {
        case .string(let s), .guid(let s): self = .string(s)
        case .integer(let n): self = .integer(n)
        case .bool(let b): self = .bool(b)
        }
    }

    init(_ value: AttributeValue) {
        switch value {
        case .string(let s): self = .string(s)
        case .integer(let n): self = .integer(Int64(n))
        case .boolean(let b): self = .bool(b)
        }
    }

    /// JSON values as a request's attributes carry them; null is no value, an array several.
    static func from(_ json: JSONValue) -> [ConditionValue] {
        switch json {
        case .null, .object: []
        case .string(let s): [.string(s)]
        case .integer(let n): [.integer(n)]
        case .bool(let b): [.bool(b)]
        // Azure's numeric operators take integers only: a fraction stays text and compares false.
        case .double(let d): d.rounded() == d && abs(d) < 9e18 ? [.integer(Int64(d))] : [.string(String(d))]
        case .array(let items): items.flatMap(from)
        }
    }
}

/// Everything a condition can read: the action and its sub-operation, the principal's custom
/// security attribute values, and the resource, request and environment attributes.
public struct ConditionInput: Sendable {
    public var action: String
    public var subOperation: String?
    public var principal: AttributeAssignments
    public var resource: JSONObject
    public var request: JSONObject
    public var environment: JSONObject

    public init(
        action: String, subOperation: String? = nil, principal: AttributeAssignments = AttributeAssignments(),
        resource: JSONObject = JSONObject(), request: JSONObject = JSONObject(), environment: JSONObject = JSONObject()
    ) {
        self.action = action
        self.subOperation = subOperation
        self.principal = principal
        self.resource = resource
        self.request = request
        self.environment = environment
    }
}

/// The value of one sub-expression, for `conditions/evaluate`'s trace.
public struct ConditionTraceEntry: Sendable, Equatable {
    public let start: Int
    public let end: Int
    public let expression: String
    public let value: Bool
}

public enum ConditionEvaluator {
    public static func evaluate(_ condition: AccessCondition, _ input: ConditionInput) -> Bool {
        var trace: [ConditionTraceEntry]?
        return value(condition.expression, input, chars: [], trace: &trace)
    }

    /// The result and every sub-expression's value, innermost first. Nothing short-circuits,
    /// so each part of the condition appears.
    public static func trace(_ condition: AccessCondition, _ input: ConditionInput) -> (Bool, [ConditionTraceEntry]) {
        var trace: [ConditionTraceEntry]? = []
        let result = value(condition.expression, input, chars: Array(condition.text), trace: &trace)
        return (result, trace ?? [])
    }

    static func value(
        _ e: ConditionExpression, _ input: ConditionInput, chars: [Character], trace: inout [ConditionTraceEntry]?
    ) -> Bool {
        let result: Bool
        switch e {
        case .and(let parts, _):
            if trace == nil {
                result = parts.allSatisfy { part in value(part, input, chars: chars, trace: &trace) }
            } else {
                result = parts.map { value($0, input, chars: chars, trace: &trace) }.allSatisfy { $0 }
            }
        case .or(let parts, _):
            if trace == nil {
                result = parts.contains { part in value(part, input, chars: chars, trace: &trace) }
            } else {
                result = parts.map { value($0, input, chars: chars, trace: &trace) }.contains(true)
            }
        case .not(let inner, _):
            result = !value(inner, input, chars: chars, trace: &trace)
        case .actionMatches(let pattern, _):
            result = ConditionValues.like(input.action.lowercased(), pattern: pattern.lowercased(), escapes: false)
        case .subOperationMatches(let pattern, _):
            result =
                input.subOperation.map {
                    ConditionValues.like($0.lowercased(), pattern: pattern.lowercased(), escapes: false)
                } ?? false
        case .exists(let attribute, _):
            result = !values(of: attribute, input).isEmpty
        case .comparison(let c, _):
            result = compare(c, left: operandValues(c.left, input), right: operandValues(c.right, input))
        }
        if trace != nil {
            let span = e.span
            let text = String(chars[max(0, span.start - 1)..<min(chars.count, span.end - 1)])
            trace?.append(ConditionTraceEntry(start: span.start, end: span.end, expression: text, value: result))
        }
        return result
    }

    static func operandValues(_ operand: ConditionOperand, _ input: ConditionInput) -> [ConditionValue] {
        switch operand {
        case .attribute(let a): values(of: a, input)
        case .literals(let literals, _): literals.map(ConditionValue.init)
        }
    }

    /// The values an attribute has in this request; empty when it has none.
    public static func values(of attribute: ConditionAttribute, _ input: ConditionInput) -> [ConditionValue] {
        switch attribute.source {
        case .principal:
            guard let (set, name) = attribute.principalDefinition else { return [] }
            return input.principal.values(of: AttributeDefinition.id(set: set, name: name)).map(ConditionValue.init)
        case .resource:
            return lookup(attribute, in: input.resource)
        case .request:
            let found = lookup(attribute, in: input.request)
            if found.isEmpty, nameKey(attribute.reference) == "suboperation", let sub = input.subOperation {
                return [.string(sub)]
            }
            return found
        case .environment:
            return lookup(attribute, in: input.environment)
        }
    }

    /// A request attribute is found by its whole reference, then (for `tags:Project`) as a key of
    /// an object named by the namespace's last segment, then by its name alone. Keys match
    /// case-insensitively unless the condition says `<$key_case_sensitive$>`.
    static func lookup(_ attribute: ConditionAttribute, in object: JSONObject) -> [ConditionValue] {
        if let exact = object[attribute.reference] { return ConditionValue.from(exact) }
        func member(_ key: String, in object: JSONObject, caseSensitive: Bool) -> JSONValue? {
            if let exact = object[key] { return exact }
            guard !caseSensitive else { return nil }
            let folded = key.lowercased()
            return object.members.first { $0.key.lowercased() == folded }?.value
        }
        if !attribute.namespace.isEmpty, let segment = attribute.namespace.split(separator: "/").last,
            case .object(let inner)? = member(String(segment), in: object, caseSensitive: false),
            let found = member(attribute.name, in: inner, caseSensitive: attribute.keyCaseSensitive)
        {
            return ConditionValue.from(found)
        }
        return member(attribute.name, in: object, caseSensitive: attribute.keyCaseSensitive).map(ConditionValue.from) ?? []
    }

    /// A comparison with a side that has no value is false whatever the operator, the negated
    /// ones included (docs/compatibility.md).
    static func compare(_ c: ConditionComparison, left: [ConditionValue], right: [ConditionValue]) -> Bool {
        guard !left.isEmpty, !right.isEmpty else { return false }
        let test = { (l: ConditionValue, r: ConditionValue) -> Bool in
            guard let plain = ConditionValues.test(c.op, l, r) else { return false }
            return c.op.negated ? !plain : plain
        }
        switch c.quantifier {
        case nil:
            guard left.count == 1, right.count == 1 else { return false }
            return test(left[0], right[0])
        case .anyOfAny: return left.contains { l in right.contains { r in test(l, r) } }
        case .allOfAny: return left.allSatisfy { l in right.contains { r in test(l, r) } }
        case .anyOfAll: return left.contains { l in right.allSatisfy { r in test(l, r) } }
        case .allOfAll: return left.allSatisfy { l in right.allSatisfy { r in test(l, r) } }
        }
    }
}

/// The value tests behind the operators.
public enum ConditionValues {
    /// The operator's test without its negation; nil when the values cannot be compared
    /// (wrong type, unparseable date-time or GUID), which makes the comparison false.
    static func test(_ op: ConditionOperator, _ l: ConditionValue, _ r: ConditionValue) -> Bool? {
        switch op.kind {
        case .string:
            guard case .string(var a) = l, case .string(var b) = r else { return nil }
            if op.ignoreCase {
                a = a.lowercased()
                b = b.lowercased()
            }
            switch op.test {
            case .equals: return a == b
            case .startsWith: return a.hasPrefix(b)
            case .like: return like(a, pattern: b, escapes: true)
            default: return nil
            }
        case .numeric:
            guard case .integer(let a) = l, case .integer(let b) = r else { return nil }
            return order(op.test, a, b)
        case .bool:
            guard case .bool(let a) = l, case .bool(let b) = r else { return nil }
            return a == b
        case .dateTime:
            guard case .string(let a) = l, case .string(let b) = r, let x = dateTime(a), let y = dateTime(b) else {
                return nil
            }
            return order(op.test, x, y)
        case .guid:
            guard case .string(let a) = l, case .string(let b) = r, isGuid(a), isGuid(b) else { return nil }
            return a.lowercased() == b.lowercased()
        }
    }

    static func order<T: Comparable>(_ test: ConditionOperator.Test, _ a: T, _ b: T) -> Bool? {
        switch test {
        case .equals: a == b
        case .greaterThan: a > b
        case .greaterThanEquals: a >= b
        case .lessThan: a < b
        case .lessThanEquals: a <= b
        case .startsWith, .like: nil
        }
    }

    /// `*` matches any run of characters, `?` one character; with `escapes`, `\*` and `\?` match
    /// themselves.
    public static func like(_ value: String, pattern: String, escapes: Bool) -> Bool {
        // Most patterns (data actions above all) hold no wildcard, or one at the end: compared
        // with String's canonical equivalence (Character's, whole), without building pieces.
        let wildcard = { (byte: UInt8) in byte == UInt8(ascii: "*") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "\\") }
        if !pattern.utf8.contains(where: wildcard) {
            return value == pattern
        }
        if pattern.utf8.last == UInt8(ascii: "*"), !pattern.utf8.dropLast().contains(where: wildcard) {
            return value.hasPrefix(pattern.dropLast())
        }
        enum Piece: Equatable {
            case char(Character)
            case one
            case any
        }
        var pieces: [Piece] = []
        var p = Array(pattern)[...]
        while let c = p.popFirst() {
            if escapes, c == "\\", let next = p.first, next == "*" || next == "?" {
                pieces.append(.char(next))
                p.removeFirst()
            } else if c == "*" {
                pieces.append(.any)
            } else if c == "?" {
                pieces.append(.one)
            } else {
                pieces.append(.char(c))
            }
        }
        let s = Array(value)
        var si = 0
        var pi = 0
        var starPiece = -1
        var starValue = 0
        while si < s.count {
            if pi < pieces.count, pieces[pi] == .one || pieces[pi] == .char(s[si]) {
                si += 1
                pi += 1
            } else if pi < pieces.count, pieces[pi] == .any {
                starPiece = pi
                starValue = si
                pi += 1
            } else if starPiece >= 0 {
                pi = starPiece + 1
                starValue += 1
                si = starValue
            } else {
                return false
            }
        }
        while pi < pieces.count, pieces[pi] == .any { pi += 1 }
        return pi == pieces.count
    }

    /// `00000000-0000-0000-0000-000000000000`, any case.
    public static func isGuid(_ s: String) -> Bool {
        let groups = s.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    /// `yyyy-mm-ddThh:mm:ss[.fffffff]Z` as 100-nanosecond ticks since 0001-01-01, so the full
    /// seven fractional digits Azure documents compare exactly.
    public static func dateTime(_ s: String) -> Int64? {
        let c = Array(s.utf8)
        guard c.count >= 20, c.last == UInt8(ascii: "Z"), c[4] == UInt8(ascii: "-"), c[7] == UInt8(ascii: "-"),
            c[10] == UInt8(ascii: "T") || c[10] == UInt8(ascii: "t"), c[13] == UInt8(ascii: ":"),
            c[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var n: Int64 = 0
            for i in range {
                guard c[i] >= 48, c[i] <= 57 else { return nil }
                n = n * 10 + Int64(c[i] - 48)
            }
            return n
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), day >= 1, hour < 24, minute < 60, second < 60
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard year >= 1, day <= monthDays[Int(month - 1)] else { return nil }
        var fraction: Int64 = 0
        if c.count > 20 {
            guard c[19] == UInt8(ascii: "."), c.count - 21 >= 1, c.count - 21 <= 7, let f = number(20..<(c.count - 1))
            else { return nil }
            fraction = f
            for _ in 0..<(7 - (c.count - 21)) { fraction *= 10 }
        } else if c.count != 20 {
            return nil
        }
        // Days since 0001-01-01 in the proleptic Gregorian calendar.
        let y = year - 1
        var days = y * 365 + y / 4 - y / 100 + y / 400
        days += monthDays[0..<Int(month - 1)].reduce(0, +) + (day - 1)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
        return seconds * 10_000_000 + fraction
    }
}
