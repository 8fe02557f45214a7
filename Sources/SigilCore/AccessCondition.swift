/// Azure role-assignment conditions, `conditionVersion` 2.0: the parsed form. Parsing is in
/// `ConditionParser`, evaluation in `ConditionEvaluator`; choices Microsoft leaves open are in
/// docs/compatibility.md ("Access conditions").
public struct AccessCondition: Sendable, Equatable {
    public let text: String
    public let expression: ConditionExpression

    /// The only version Azure accepts.
    public static let version = "2.0"

    /// Every attribute the condition names, in order of appearance, without repeats.
    public var attributes: [ConditionAttribute] {
        var seen: Set<String> = []
        var out: [ConditionAttribute] = []
        expression.visitAttributes { attribute in
            if seen.insert("\(attribute.source.rawValue)[\(attribute.reference)]".lowercased()).inserted {
                out.append(attribute)
            }
        }
        return out
    }

    /// The attribute sets of the `@Principal` attributes referenced: the sets whose values a
    /// caller must be able to read to evaluate it.
    public var principalAttributeSets: [String] {
        var seen: Set<String> = []
        return attributes.compactMap { $0.principalDefinition?.set }.filter { seen.insert(nameKey($0)).inserted }
    }
}

/// Where an attribute's value comes from.
public enum ConditionSource: String, Sendable, Equatable, CaseIterable {
    case principal = "@Principal"
    case resource = "@Resource"
    case request = "@Request"
    case environment = "@Environment"
}

/// `@Source[namespace:name]`, e.g.
/// `@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>]`.
public struct ConditionAttribute: Sendable, Equatable {
    public let source: ConditionSource
    /// The text between the brackets, without `<$key_case_sensitive$>`.
    public let reference: String
    /// The part before the last `:`, empty when there is none (`@Environment[UtcNow]`).
    public let namespace: String
    /// The part after the last `:` (the whole reference when there is no `:`).
    public let name: String
    /// `<$key_case_sensitive$>` was given: the key is matched case-sensitively.
    public let keyCaseSensitive: Bool

    /// The namespace of principal custom security attributes.
    public static let principalNamespace = "Microsoft.Directory/CustomSecurityAttributes/Id"
    public static let keyCaseSensitiveMarker = "<$key_case_sensitive$>"

    public init(source: ConditionSource, bracketText: String) {
        self.source = source
        var reference = bracketText
        keyCaseSensitive = reference.hasSuffix(Self.keyCaseSensitiveMarker)
        if keyCaseSensitive { reference.removeLast(Self.keyCaseSensitiveMarker.count) }
        self.reference = reference
        if let colon = reference.lastIndex(of: ":") {
            namespace = String(reference[..<colon])
            name = String(reference[reference.index(after: colon)...])
        } else {
            namespace = ""
            name = reference
        }
    }

    /// `(set, attribute)` of an `@Principal` custom security attribute, nil for anything else.
    public var principalDefinition: (set: String, name: String)? {
        guard source == .principal, nameKey(namespace) == nameKey(Self.principalNamespace) else { return nil }
        return AttributeDefinition.split(id: name)
    }

    public var text: String {
        "\(source.rawValue)[\(reference)\(keyCaseSensitive ? Self.keyCaseSensitiveMarker : "")]"
    }
}

/// One literal value in a condition.
public enum ConditionLiteral: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    /// An unquoted GUID, as `GuidEquals` examples write them.
    case guid(String)
}

/// What stands on either side of a comparison operator.
public enum ConditionOperand: Sendable, Equatable {
    case attribute(ConditionAttribute)
    /// One value, or a set `{a, b}` (`isSet`).
    case literals([ConditionLiteral], isSet: Bool)
}

/// The type a comparison operator works on.
public enum ConditionValueKind: String, Sendable, Equatable {
    case string = "String"
    case numeric = "Numeric"
    case bool = "Bool"
    case dateTime = "DateTime"
    case guid = "Guid"
}

/// A comparison operator without its quantifier, e.g. `StringStartsWithIgnoreCase`.
public struct ConditionOperator: Sendable, Equatable {
    public enum Test: String, Sendable, Equatable, CaseIterable {
        case equals = "Equals"
        case startsWith = "StartsWith"
        case like = "Like"
        case greaterThan = "GreaterThan"
        case greaterThanEquals = "GreaterThanEquals"
        case lessThan = "LessThan"
        case lessThanEquals = "LessThanEquals"
    }

    public let kind: ConditionValueKind
    public let test: Test
    /// The `Not` forms are the negation of the plain test.
    public let negated: Bool
    public let ignoreCase: Bool

    public init(kind: ConditionValueKind, test: Test, negated: Bool = false, ignoreCase: Bool = false) {
        self.kind = kind
        self.test = test
        self.negated = negated
        self.ignoreCase = ignoreCase
    }

    public var name: String {
        kind.rawValue + (negated ? "Not" : "") + test.rawValue + (ignoreCase ? "IgnoreCase" : "")
    }

    /// Every operator Azure documents, by name.
    public static let all: [String: ConditionOperator] = {
        var out: [String: ConditionOperator] = [:]
        func add(_ kind: ConditionValueKind, _ test: Test, negatable: Bool, ignoreCase: Bool) {
            for negated in negatable ? [false, true] : [false] {
                for ic in ignoreCase ? [false, true] : [false] {
                    let op = ConditionOperator(kind: kind, test: test, negated: negated, ignoreCase: ic)
                    out[op.name] = op
                }
            }
        }
        for test in [Test.equals, .startsWith, .like] { add(.string, test, negatable: true, ignoreCase: true) }
        add(.numeric, .equals, negatable: true, ignoreCase: false)
        add(.dateTime, .equals, negatable: true, ignoreCase: false)
        for test in [Test.greaterThan, .greaterThanEquals, .lessThan, .lessThanEquals] {
            add(.numeric, test, negatable: false, ignoreCase: false)
            add(.dateTime, test, negatable: false, ignoreCase: false)
        }
        add(.bool, .equals, negatable: true, ignoreCase: false)
        add(.guid, .equals, negatable: true, ignoreCase: false)
        return out
    }()
}

/// The cross-product prefixes: `ForAnyOfAnyValues:` and the others.
public enum ConditionQuantifier: String, Sendable, Equatable, CaseIterable {
    case anyOfAny = "ForAnyOfAnyValues"
    case allOfAny = "ForAllOfAnyValues"
    case anyOfAll = "ForAnyOfAllValues"
    case allOfAll = "ForAllOfAllValues"
}

/// A span of the condition text, 1-based character positions, `end` exclusive.
public struct ConditionSpan: Sendable, Equatable {
    public let start: Int
    public let end: Int
}

public indirect enum ConditionExpression: Sendable, Equatable {
    case and([ConditionExpression], ConditionSpan)
    case or([ConditionExpression], ConditionSpan)
    case not(ConditionExpression, ConditionSpan)
    case actionMatches(String, ConditionSpan)
    case subOperationMatches(String, ConditionSpan)
    case exists(ConditionAttribute, ConditionSpan)
    case comparison(ConditionComparison, ConditionSpan)

    public var span: ConditionSpan {
        switch self {
        case .and(_, let s), .or(_, let s), .not(_, let s), .actionMatches(_, let s), .subOperationMatches(_, let s),
            .exists(_, let s), .comparison(_, let s):
            s
        }
    }

    func visitAttributes(_ body: (ConditionAttribute) -> Void) {
        switch self {
        case .and(let parts, _), .or(let parts, _): parts.forEach { $0.visitAttributes(body) }
        case .not(let inner, _): inner.visitAttributes(body)
        case .actionMatches, .subOperationMatches: break
        case .exists(let attribute, _): body(attribute)
        case .comparison(let c, _):
            if case .attribute(let a) = c.left { body(a) }
            if case .attribute(let a) = c.right { body(a) }
        }
    }
}

/// `<left> [Quantifier:]Operator <right>`.
public struct ConditionComparison: Sendable, Equatable {
    public let left: ConditionOperand
    public let quantifier: ConditionQuantifier?
    public let op: ConditionOperator
    public let right: ConditionOperand

    public var operatorName: String { (quantifier.map { $0.rawValue + ":" } ?? "") + op.name }
}

/// An invalid condition: Azure's text, plus (a Sigil extra) where and why.
public struct ConditionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based character position in the condition text.
    public let position: Int
    public let reason: String

    /// Azure's message for any invalid condition.
    public static let azureMessage = "The given role assignment condition is invalid."

    public init(position: Int, reason: String) {
        self.position = position
        self.reason = reason
    }

    public var description: String { "\(Self.azureMessage) Position \(position): \(reason)" }

    public var graphError: GraphError { .badRequest(description) }
}
