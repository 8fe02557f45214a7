/// A sign-in as Conditional Access sees it: who signs in (a user or a workload identity) and to
/// which resource application.
public struct ConditionalAccessSignIn: Sendable {
    public enum Identity: Sendable {
        /// A user, with the template ids of the directory roles it holds.
        case user(id: String, roles: [String])
        /// A workload identity: a service principal with its custom security attributes.
        case servicePrincipal(id: String, attributes: AttributeAssignments)
    }

    public var identity: Identity
    /// The resource's appId (`00000003-0000-0000-c000-000000000000` for Graph).
    public var resourceAppId: String
    /// The custom security attributes of the resource's service principal (none when the
    /// directory holds no service principal for it).
    public var resourceAttributes: AttributeAssignments
    /// `clientAppTypes` value of the client, for users (`mobileAppsAndDesktopClients` for the
    /// token endpoint's password grant).
    public var clientAppType: String

    public init(
        identity: Identity, resourceAppId: String, resourceAttributes: AttributeAssignments = AttributeAssignments(),
        clientAppType: String = "mobileAppsAndDesktopClients"
    ) {
        self.identity = identity
        self.resourceAppId = resourceAppId
        self.resourceAttributes = resourceAttributes
        self.clientAppType = clientAppType
    }

    /// Microsoft Graph's appId: Sigil's Graph API is this resource.
    public static let graphAppId = "00000003-0000-0000-c000-000000000000"
}

/// Whether a policy applies to a sign-in, and if not, why (Graph's `analysisReasons` names).
public enum ConditionalAccessEvaluation {
    public struct Outcome: Sendable, Equatable {
        public var applies: Bool
        /// Why the policy does not apply; empty when it applies.
        public var reasons: [String]

        public init(applies: Bool, reasons: [String]) {
            self.applies = applies
            self.reasons = reasons
        }
    }

    /// Conditions Sigil has no signal for (locations, platforms, devices, risk levels) make a
    /// policy that uses them not apply, reported as `notEnoughInformation`.
    static let unevaluated: [(member: String, reason: String)] = [
        ("locations", "location"), ("platforms", "devicePlatform"), ("devices", "devices"),
        ("signInRiskLevels", "signInRisk"), ("userRiskLevels", "userRisk"),
        ("servicePrincipalRiskLevels", "notEnoughInformation"), ("insiderRiskLevels", "insiderRisk"),
        ("authenticationFlows", "authenticationFlow"),
    ]

    public static func evaluate(_ policy: ConditionalAccessPolicy, _ signIn: ConditionalAccessSignIn, schema: Schema) -> Outcome {
        var reasons: [String] = []
        if policy.state == .disabled { reasons.append("policyNotEnabled") }
        if !selectsApplication(policy, appId: signIn.resourceAppId, attributes: signIn.resourceAttributes, schema: schema) {
            reasons.append("application")
        }
        switch signIn.identity {
        case .user(let id, let roles):
            if !selectsUser(policy, id: id, roles: roles) { reasons.append("users") }
            let types = clientAppTypes(policy)
            if !types.contains("all") && !types.contains(signIn.clientAppType) { reasons.append("clientApps") }
        case .servicePrincipal(let id, let attributes):
            if !selectsWorkload(policy, id: id, attributes: attributes, schema: schema) { reasons.append("workloadIdentities") }
        }
        for (member, reason) in unevaluated where isSet(policy.conditions[member]) { reasons.append(reason) }
        return Outcome(applies: reasons.isEmpty, reasons: reasons)
    }

    static func clientAppTypes(_ policy: ConditionalAccessPolicy) -> [String] {
        policy.conditions["clientAppTypes"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    static func isSet(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null: false
        case .array(let items): !items.isEmpty
        case .object(let object): object.contains { isSet($0.value) }
        default: true
        }
    }

    /// Whether the policy targets the resource application `appId` whose service principal holds
    /// `attributes`: `includeApplications` (`All`, or the appId), plus the resource when an
    /// `include` filter selects it; minus `excludeApplications` and an `exclude` filter's match.
    public static func selectsApplication(
        _ policy: ConditionalAccessPolicy, appId: String, attributes: AttributeAssignments, schema: Schema
    ) -> Bool {
        selectsApplication(policy, appId: appId, attributes: attributes, filter: parsedFilter(policy, .applicationFilter, schema))
    }

    /// The same with the policy's `applicationFilter` already parsed, for judging many objects.
    static func selectsApplication(
        _ policy: ConditionalAccessPolicy, appId: String, attributes: AttributeAssignments, filter: ParsedFilter?
    ) -> Bool {
        let include = policy.list("applications", "includeApplications")
        let exclude = policy.list("applications", "excludeApplications")
        let app = appId.lowercased()
        var selected = include.contains("All") || include.contains { $0.lowercased() == app }
        if let filter {
            let matched = filter.rule?.matches(attributes) ?? false
            if filter.mode == "include", matched { selected = true }
            if filter.mode == "exclude", matched { selected = false }
        }
        return selected && !exclude.contains { $0.lowercased() == app }
    }

    static func selectsUser(_ policy: ConditionalAccessPolicy, id: String, roles: [String]) -> Bool {
        let list = { (name: String) in policy.list("users", name).map { $0.lowercased() } }
        let include = list("includeUsers")
        let id = id.lowercased()
        let included =
            (include.contains("all") || include.contains(id)) || list("includeRoles").contains { roles.contains($0) }
        let excluded = list("excludeUsers").contains(id) || list("excludeRoles").contains { roles.contains($0) }
        return included && !excluded
    }

    /// `includeServicePrincipals` (`ServicePrincipalsInMyTenant`, or the id), plus those an
    /// `include` filter selects; minus `excludeServicePrincipals` and an `exclude` filter's match.
    public static func selectsWorkload(
        _ policy: ConditionalAccessPolicy, id: String, attributes: AttributeAssignments, schema: Schema
    ) -> Bool {
        selectsWorkload(policy, id: id, attributes: attributes, filter: parsedFilter(policy, .servicePrincipalFilter, schema))
    }

    /// The same with the policy's `servicePrincipalFilter` already parsed, for judging many objects.
    static func selectsWorkload(
        _ policy: ConditionalAccessPolicy, id: String, attributes: AttributeAssignments, filter: ParsedFilter?
    ) -> Bool {
        let include = policy.list("clientApplications", "includeServicePrincipals").map { $0.lowercased() }
        let exclude = policy.list("clientApplications", "excludeServicePrincipals").map { $0.lowercased() }
        let id = id.lowercased()
        var selected = include.contains("serviceprincipalsinmytenant") || include.contains(id)
        if let filter {
            let matched = filter.rule?.matches(attributes) ?? false
            if filter.mode == "include", matched { selected = true }
            if filter.mode == "exclude", matched { selected = false }
        }
        return selected && !exclude.contains(id)
    }

    /// A filter's mode and its parsed rule; the rule is nil when it no longer checks against the
    /// schema (its attribute was deactivated since), and then it matches nothing.
    typealias ParsedFilter = (mode: String, rule: ApplicationFilterRule?)

    static func parsedFilter(_ policy: ConditionalAccessPolicy, _ filter: ConditionalAccessRules.Filter, _ schema: Schema)
        -> ParsedFilter?
    {
        policy.filterRule(filter).map { ($0.mode, try? ApplicationFilterRule($0.rule, schema: schema)) }
    }
}

/// A What-If request (`conditionalAccessRoot: evaluate`): who signs in, to which applications,
/// under which conditions.
public struct ConditionalAccessWhatIf: Sendable, Equatable {
    public enum Identity: Sendable, Equatable {
        case user(String)
        case servicePrincipal(String)
    }

    public var identity: Identity
    /// appIds from an `applicationContext`'s `includeApplications` (Graph's when none).
    public var applications: [String]
    public var clientAppType: String
    public var appliedPoliciesOnly: Bool

    /// Reads the body Graph documents: `signInIdentity` (`#microsoft.graph.userSignIn` with
    /// `userId`, or `#microsoft.graph.servicePrincipalSignIn` with `servicePrincipalId`),
    /// `signInContext` (`#microsoft.graph.applicationContext`), `signInConditions`, and the optional
    /// `appliedPoliciesOnly`.
    public init(parsing body: JSONValue) throws(GraphError) {
        var payload = try Payload(body, resource: "evaluate")
        guard case .object(let identity) = payload.raw("signInIdentity") ?? .null else {
            throw payload.missing("signInIdentity")
        }
        let type = identity["@odata.type"]?.stringValue?.lowercased() ?? ""
        if type.hasSuffix("usersignin"), let id = identity["userId"]?.stringValue {
            self.identity = .user(id)
        } else if type.hasSuffix("serviceprincipalsignin"), let id = identity["servicePrincipalId"]?.stringValue {
            self.identity = .servicePrincipal(id)
        } else {
            throw .badRequest(
                "'signInIdentity' must be a #microsoft.graph.userSignIn with userId or a #microsoft.graph.servicePrincipalSignIn with servicePrincipalId."
            )
        }
        guard case .object(let context) = payload.raw("signInContext") ?? .null else { throw payload.missing("signInContext") }
        guard (context["@odata.type"]?.stringValue?.lowercased() ?? "").hasSuffix("applicationcontext") else {
            throw .badRequest("Sigil evaluates 'signInContext' of type #microsoft.graph.applicationContext only.")
        }
        let apps = try ConditionalAccessRules.stringList(context["includeApplications"], "includeApplications")
        applications = apps.isEmpty ? [ConditionalAccessSignIn.graphAppId] : apps
        guard case .object(let conditions) = payload.raw("signInConditions") ?? .null else {
            throw payload.missing("signInConditions")
        }
        clientAppType = conditions["clientAppType"]?.stringValue ?? "mobileAppsAndDesktopClients"
        appliedPoliciesOnly = try payload.bool("appliedPoliciesOnly").value ?? false
        try payload.rejectUnknownProperties()
    }

    /// A `whatIfAnalysisResult`: the policy with `policyApplies` and `analysisReasons` (Graph's
    /// flags, comma-separated; `notSet` when it applies).
    public static func result(_ policy: JSONObject, _ outcome: ConditionalAccessEvaluation.Outcome) -> JSONObject {
        var result = policy
        result.append("policyApplies", .bool(outcome.applies))
        result.append("analysisReasons", .string(outcome.applies ? "notSet" : outcome.reasons.joined(separator: ",")))
        return result
    }
}
