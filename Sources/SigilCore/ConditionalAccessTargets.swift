/// "Which apps and workload identities does this policy select?": the service principals a
/// policy targets as a client (`clientApplications`: `includeServicePrincipals`, the
/// `servicePrincipalFilter`, `excludeServicePrincipals`) or as a resource (`applications`:
/// `includeApplications`, the `applicationFilter`, `excludeApplications`).
///
/// The question goes to the store as a `ConditionPushdown.Plan`. Filter rules compare without
/// regard to case and the query engine compares exactly, so a term over ASCII text becomes the
/// `or` of the spellings service principals actually hold that satisfy it (`heldTexts`, judged by
/// the token endpoint's own comparison), or else of its spellings in every case (`"Baker"`: 32 of
/// them); a term the store cannot answer exactly (an attribute with too many distinct values and
/// non-ASCII text, too many spellings, `-endsWith`, `-contains` on one value) is bounded by
/// "holds the attribute", and each candidate between the bounds is judged by `roles(of:_:)`, the
/// same code the token endpoint runs.
public struct ConditionalAccessTargets: Sendable {
    /// How a policy selects a service principal.
    public enum Role: String, Sendable, CaseIterable {
        /// A client signing in with its own credentials (a workload identity).
        case workloadIdentity
        /// A resource application a sign-in asks a token for.
        case application
    }

    public let policy: ConditionalAccessPolicy
    public let schema: Schema
    /// Over service principals: those selected in either role.
    public let plan: ConditionPushdown.Plan
    /// The filters parsed once, so judging a page of candidates parses nothing.
    let workloadFilter: ConditionalAccessEvaluation.ParsedFilter?
    let applicationFilter: ConditionalAccessEvaluation.ParsedFilter?

    /// `heldTexts`: by `nameKey` of a definition id, the distinct texts service principals hold
    /// for it (`filterDefinitions` names the ones worth asking for); a definition missing here is
    /// planned from the filter's text alone.
    public init(policy: ConditionalAccessPolicy, schema: Schema, heldTexts: [String: [String]] = [:]) {
        self.policy = policy
        self.schema = schema
        workloadFilter = ConditionalAccessEvaluation.parsedFilter(policy, .servicePrincipalFilter, schema)
        applicationFilter = ConditionalAccessEvaluation.parsedFilter(policy, .applicationFilter, schema)
        let workload = Self.selection(
            include: Self.includedServicePrincipals(policy), filter: Self.filter(policy, .servicePrincipalFilter, schema, heldTexts),
            exclude: Self.ids("id", policy.list("clientApplications", "excludeServicePrincipals")))
        let application = Self.selection(
            include: Self.includedApplications(policy), filter: Self.filter(policy, .applicationFilter, schema, heldTexts),
            exclude: Self.ids("appId", policy.list("applications", "excludeApplications")))
        plan = ConditionPushdown.Plan(
            lower: .or(workload.lower, application.lower), upper: .or(workload.upper, application.upper))
    }

    /// The roles in which the policy selects a service principal holding `attributes` (empty: not selected).
    public func roles(of servicePrincipal: DirectoryObject, _ attributes: AttributeAssignments) -> [Role] {
        var roles: [Role] = []
        if ConditionalAccessEvaluation.selectsWorkload(policy, id: servicePrincipal.id, attributes: attributes, filter: workloadFilter) {
            roles.append(.workloadIdentity)
        }
        if let appId = servicePrincipal.appId,
            ConditionalAccessEvaluation.selectsApplication(policy, appId: appId, attributes: attributes, filter: applicationFilter)
        {
            roles.append(.application)
        }
        return roles
    }

    typealias Bound = ConditionPushdown.Bound

    /// Included, plus what an `include` filter matches or minus what an `exclude` filter matches;
    /// minus the excluded. Lists are exact; only the filter may leave bounds apart.
    static func selection(include: Bound, filter: (mode: String, lower: Bound, upper: Bound)?, exclude: Bound)
        -> ConditionPushdown.Plan
    {
        var lower = include
        var upper = include
        if let filter {
            if filter.mode == "include" {
                lower = .or(lower, filter.lower)
                upper = .or(upper, filter.upper)
            } else if filter.mode == "exclude" {
                lower = .and(lower, .not(filter.upper))
                upper = .and(upper, .not(filter.lower))
            }
        }
        return ConditionPushdown.Plan(lower: .and(lower, .not(exclude)), upper: .and(upper, .not(exclude)))
    }

    static func ids(_ property: String, _ values: [String]) -> Bound {
        values.reduce(Bound.none) { .or($0, .matching(.property(property, .equals($1)))) }
    }

    static func includedServicePrincipals(_ policy: ConditionalAccessPolicy) -> Bound {
        let include = policy.list("clientApplications", "includeServicePrincipals")
        if include.contains(where: { $0.lowercased() == "serviceprincipalsinmytenant" }) { return .all }
        return ids("id", include)
    }

    static func includedApplications(_ policy: ConditionalAccessPolicy) -> Bound {
        let include = policy.list("applications", "includeApplications")
        if include.contains("All") { return .all }
        return ids("appId", include)
    }

    /// The filter's mode and bounds; a rule that no longer checks against the schema matches
    /// nothing, as at the token endpoint.
    static func filter(
        _ policy: ConditionalAccessPolicy, _ which: ConditionalAccessRules.Filter, _ schema: Schema, _ heldTexts: [String: [String]]
    ) -> (mode: String, lower: Bound, upper: Bound)? {
        guard let (mode, text) = policy.filterRule(which) else { return nil }
        guard let rule = try? ApplicationFilterRule(text, schema: schema) else { return (mode, .none, .none) }
        let (lower, upper) = bounds(rule.rule.expression, rule, schema, heldTexts)
        return (mode, lower, upper)
    }

    /// The String attributes the policy's filters test, whose held texts make its plan exact.
    public static func filterDefinitions(_ policy: ConditionalAccessPolicy, schema: Schema) -> [AttributeDefinition] {
        var definitions: [AttributeDefinition] = []
        for which in ConditionalAccessRules.Filter.allCases {
            guard let (_, text) = policy.filterRule(which), let rule = try? ApplicationFilterRule(text, schema: schema) else { continue }
            for definition in rule.definitionIds.compactMap(schema.definition(id:)) where !definitions.contains(definition) {
                definitions.append(definition)
            }
        }
        return definitions
    }

    static func bounds(
        _ expression: ConditionalAccessRule.Expression, _ rule: ApplicationFilterRule, _ schema: Schema,
        _ heldTexts: [String: [String]]
    ) -> (Bound, Bound) {
        switch expression {
        case .and(let l, let r):
            let (a, b) = (bounds(l, rule, schema, heldTexts), bounds(r, rule, schema, heldTexts))
            return (.and(a.0, b.0), .and(a.1, b.1))
        case .or(let l, let r):
            let (a, b) = (bounds(l, rule, schema, heldTexts), bounds(r, rule, schema, heldTexts))
            return (.or(a.0, b.0), .or(a.1, b.1))
        case .term(let term):
            guard let definition = schema.definition(id: term.property) else { return (.none, .none) }
            let isCollection = rule.isCollection(definition.id)
            let (lower, upper) =
                heldTexts[nameKey(definition.id)].flatMap { held(term, definition, $0, isCollection: isCollection) }
                ?? positive(term, definition, isCollection: isCollection)
            // A negative operator is the negation of its positive one (it holds without a value).
            return term.op.isNegative ? (.not(upper), .not(lower)) : (lower, upper)
        }
    }

    /// Bounds of the term's positive operator. An ASCII text is exact as the `or` of its case
    /// variants (at most `maxVariants`); other text is bounded by its own spelling below and
    /// "holds the attribute" above.
    static func positive(_ term: ConditionalAccessRule.Term, _ definition: AttributeDefinition, isCollection: Bool)
        -> (Bound, Bound)
    {
        let held = ConditionPushdown.held(definition)
        func matching(_ texts: [String], prefix: Bool = false, _ match: (String) -> AttributeMatch) -> (Bound, Bound) {
            let lower = balancedOr(texts.map { .attribute(definition, match($0)) })
            var spellings: [String]? = []
            for text in texts {
                spellings = caseVariants(text, asPrefix: prefix).flatMap { variants in spellings.map { $0 + variants } }
            }
            if let spellings { return exactly(balancedOr(spellings.map { .attribute(definition, match($0)) })) }
            return (lower, texts.isEmpty ? .none : held)
        }
        switch (term.op.positive, term.operand) {
        case (.in, .list(let items)): return matching(items) { .equals(.string($0)) }
        case (.eq, .string(let text)): return matching([text]) { .equals(.string($0)) }
        case (.contains, .string(let text)) where isCollection: return matching([text]) { .equals(.string($0)) }
        case (.startsWith, .string(let text)): return matching([text], prefix: true) { .startsWith($0) }
        case (.endsWith, .string), (.contains, .string): return (.none, held)
        default: return (.none, .none)
        }
    }

    static let maxVariants = 64
    /// The most distinct texts of one attribute a plan asks the store for (about a millisecond).
    public static let heldTextsLimit = 4_096

    /// Bounds of the term's positive operator from the texts objects hold: exactly the `or` of
    /// those the token endpoint's comparison finds satisfying it (none: nothing matches), when
    /// there are at most `maxVariants` of them.
    static func held(_ term: ConditionalAccessRule.Term, _ definition: AttributeDefinition, _ texts: [String], isCollection: Bool)
        -> (Bound, Bound)?
    {
        let satisfying = texts.filter {
            ApplicationFilterRule.holds(term.op.positive, term.operand, $0, inCollection: isCollection)
        }
        guard satisfying.count <= maxVariants else { return nil }
        return exactly(balancedOr(satisfying.map { .attribute(definition, .equals(.string($0))) }))
    }

    static func exactly(_ bound: Bound) -> (Bound, Bound) { (bound, bound) }

    /// The `or` of the predicates as a balanced tree: a store compiles it to nested SQL, and
    /// 128 spellings chained one after another would nest 128 deep.
    static func balancedOr(_ predicates: [ObjectPredicate]) -> Bound {
        func tree(_ slice: ArraySlice<ObjectPredicate>) -> ObjectPredicate? {
            guard let first = slice.first else { return nil }
            if slice.count == 1 { return first }
            let middle = slice.startIndex + slice.count / 2
            guard let left = tree(slice[..<middle]), let right = tree(slice[middle...]) else { return first }
            return .or(left, right)
        }
        return tree(predicates[...]).map(Bound.matching) ?? .none
    }

    /// Every spelling whose lower-case form is `text`'s (or, `asPrefix`, begins with it), for
    /// ASCII text: each letter in both cases, `k` also as the Kelvin sign (U+212A, lower case
    /// `k`), and a final `i` of a prefix also as U+0130 (lower case `i` and a combining dot). Nil
    /// for other text or when there would be more than `maxVariants`.
    static func caseVariants(_ text: String, asPrefix: Bool = false) -> [String]? {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        var variants = [""]
        let characters = Array(text.lowercased())
        for (index, character) in characters.enumerated() {
            var spellings = [String(character)]
            if character.isLetter { spellings.append(character.uppercased()) }
            if character == "k" { spellings.append("\u{212A}") }
            if asPrefix, character == "i", index == characters.count - 1 { spellings.append("\u{0130}") }
            guard variants.count * spellings.count <= maxVariants else { return nil }
            variants = variants.flatMap { prefix in spellings.map { prefix + $0 } }
        }
        return variants
    }
}
