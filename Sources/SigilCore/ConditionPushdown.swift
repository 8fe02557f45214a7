/// "Who would this condition admit": the condition's principal terms as store predicates, with
/// everything else (actions, resource, request and environment attributes) fixed by the question.
///
/// Each sub-expression gets two bounds over the principals: `lower` admits only principals the
/// condition admits, `upper` every principal it admits. Terms the query engine answers exactly
/// (`StringEquals` as `eq`, `StringStartsWith` as `startsWith`, `ForAnyOfAnyValues:StringEquals`
/// over a collection as an `or` of `eq`, `Exists`, numeric and boolean equality) have equal
/// bounds; any other principal term is bounded by "holds the attribute", since every comparison
/// with a missing value is false. `and`, `or` and `not` combine the bounds. The store answers
/// `upper`; when the bounds differ, each candidate is evaluated in full.
public enum ConditionPushdown {
    /// A set of principals: all, none, or those a predicate matches.
    public enum Bound: Sendable, Equatable {
        case all
        case none
        case matching(ObjectPredicate)

        public static func and(_ a: Bound, _ b: Bound) -> Bound {
            switch (a, b) {
            case (.none, _), (_, .none): .none
            case (.all, let x), (let x, .all): x
            case (.matching(let p), .matching(let q)): .matching(.and(p, q))
            }
        }

        public static func or(_ a: Bound, _ b: Bound) -> Bound {
            switch (a, b) {
            case (.all, _), (_, .all): .all
            case (.none, let x), (let x, .none): x
            case (.matching(let p), .matching(let q)): .matching(.or(p, q))
            }
        }

        public static func not(_ a: Bound) -> Bound {
            switch a {
            case .all: .none
            case .none: .all
            case .matching(let p): .matching(.not(p))
            }
        }
    }

    public struct Plan: Sendable, Equatable {
        public let lower: Bound
        public let upper: Bound
        public init(lower: Bound, upper: Bound) {
            self.lower = lower
            self.upper = upper
        }

        /// The store's answer to `upper` is the answer: no candidate needs evaluating.
        public var isExact: Bool { lower == upper }
    }

    /// The plan for `condition` with everything but the principal fixed by `input` (its
    /// `principal` is ignored). `schema` resolves `@Principal` attributes.
    public static func plan(_ condition: AccessCondition, _ input: ConditionInput, schema: Schema) -> Plan {
        let (lower, upper) = bounds(condition.expression, input, schema)
        return Plan(lower: lower, upper: upper)
    }

    static func exact(_ b: Bound) -> (Bound, Bound) { (b, b) }

    static func bounds(_ e: ConditionExpression, _ input: ConditionInput, _ schema: Schema) -> (Bound, Bound) {
        switch e {
        case .and(let parts, _):
            return parts.map { bounds($0, input, schema) }.reduce((Bound.all, Bound.all)) {
                (Bound.and($0.0, $1.0), Bound.and($0.1, $1.1))
            }
        case .or(let parts, _):
            return parts.map { bounds($0, input, schema) }.reduce((Bound.none, Bound.none)) {
                (Bound.or($0.0, $1.0), Bound.or($0.1, $1.1))
            }
        case .not(let inner, _):
            let (lower, upper) = bounds(inner, input, schema)
            return (Bound.not(upper), Bound.not(lower))
        case .actionMatches, .subOperationMatches:
            return exact(ConditionEvaluator.evaluate(AccessCondition(text: "", expression: e), input) ? .all : .none)
        case .exists(let attribute, _):
            guard attribute.source == .principal else {
                return exact(ConditionEvaluator.values(of: attribute, input).isEmpty ? .none : .all)
            }
            return exact(held(attribute, schema))
        case .comparison(let c, _):
            return comparison(c, input, schema)
        }
    }

    static func definition(_ attribute: ConditionAttribute, _ schema: Schema) -> AttributeDefinition? {
        attribute.principalDefinition.flatMap { schema.definition(set: $0.set, name: $0.name) }
    }

    /// Principals holding a value of the attribute.
    static func held(_ attribute: ConditionAttribute, _ schema: Schema) -> Bound {
        definition(attribute, schema).map(held) ?? .none
    }

    static func held(_ definition: AttributeDefinition) -> Bound {
        switch definition.type {
        case .string: return .matching(.attribute(definition, .startsWith("")))
        case .integer: return .matching(.attribute(definition, .compare(.ge, Int32.min)))
        case .boolean:
            return .matching(.or(.attribute(definition, .equals(.boolean(true))), .attribute(definition, .equals(.boolean(false)))))
        }
    }

    static func comparison(_ c: ConditionComparison, _ input: ConditionInput, _ schema: Schema) -> (Bound, Bound) {
        var principals: [ConditionAttribute] = []
        for operand in [c.left, c.right] {
            if case .attribute(let a) = operand, a.source == .principal { principals.append(a) }
        }
        guard !principals.isEmpty else {
            let constant = ConditionEvaluator.evaluate(AccessCondition(text: "", expression: .comparison(c, ConditionSpan(start: 1, end: 1))), input)
            return exact(constant ? .all : .none)
        }
        // Every comparison with a missing value is false: holding each attribute bounds it.
        let upper = principals.map { held($0, schema) }.reduce(Bound.all, Bound.and)
        guard principals.count == 1, case .attribute(let attribute) = c.left, attribute.source == .principal,
            let definition = definition(attribute, schema)
        else { return (.none, upper) }
        let right = ConditionEvaluator.operandValues(c.right, input)
        guard !right.isEmpty else { return exact(.none) }
        if let pushed = push(definition, c, right) { return exact(pushed) }
        return (.none, upper)
    }

    /// The term as a store predicate, when the query engine answers it exactly.
    static func push(_ d: AttributeDefinition, _ c: ConditionComparison, _ right: [ConditionValue]) -> Bound? {
        let op = c.op
        let held = held(d)
        guard !op.ignoreCase, op.test != .like else { return nil }
        func value(_ v: ConditionValue) -> AttributeValue? {
            switch (d.type, v) {
            case (.string, .string(let s)): .string(s)
            case (.integer, .integer(let n)): Int32(exactly: n).map { .integer($0) }
            case (.boolean, .bool(let b)): .boolean(b)
            default: nil
            }
        }
        func equalsAny(_ values: [ConditionValue]) -> Bound? {
            var bound = Bound.none
            for v in values {
                // A value of the wrong type or range is never equal; an out-of-range integer is
                // left to the evaluator.
                if d.type == .integer, case .integer = v, value(v) == nil { return nil }
                guard let attributeValue = value(v) else { continue }
                bound = .or(bound, .matching(.attribute(d, .equals(attributeValue))))
            }
            return bound
        }
        switch (c.quantifier, op.test, op.negated) {
        case (nil, .equals, false):
            // Single-valued attribute: its one value equals the one right value.
            guard right.count == 1 else { return Bound.none }
            return equalsAny(right)
        case (nil, .startsWith, false):
            guard right.count == 1, case .string(let prefix) = right[0], d.type == .string else { return Bound.none }
            return .matching(.attribute(d, .startsWith(prefix)))
        case (nil, .equals, true):
            // `ne`, but only among principals holding the attribute.
            guard right.count == 1 else { return Bound.none }
            if d.type == .integer, case .integer = right[0], value(right[0]) == nil { return nil }
            guard let wanted = value(right[0]) else { return Bound.none }
            return .and(held, .not(.matching(.attribute(d, .equals(wanted)))))
        case (nil, .startsWith, true):
            guard right.count == 1, case .string(let prefix) = right[0], d.type == .string else { return Bound.none }
            return .and(held, .not(.matching(.attribute(d, .startsWith(prefix)))))
        case (.anyOfAny, .equals, false):
            return equalsAny(right)
        case (.anyOfAny, .equals, true) where Set(right).count > 1 && right.allSatisfy({ value($0) != nil }):
            // Any held value differs from at least one of two distinct right values.
            return held
        case (.anyOfAll, .equals, false):
            // Some value equals every right value: only one distinct right value can be met.
            return Set(right).count == 1 ? equalsAny([right[0]]) : Bound.none
        default:
            return nil
        }
    }
}
