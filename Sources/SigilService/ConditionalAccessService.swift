import Foundation
import SigilCore
import SigilStore

/// Conditional Access policies: the one place the API, console and command line read and change
/// them, and the one place their access is decided.
///
/// Conditional Access Administrator, Security Administrator (and Global Administrator) write;
/// Security Reader and Global Reader read. A policy whose filters read custom security
/// attributes also needs, for each attribute set the filters read, a role that reads that set's
/// definitions (Entra names Attribute Definition Reader for it): without one the filter's rule is
/// hidden (null) and cannot be set or changed.
public struct ConditionalAccessService: Sendable {
    let services: SigilServices
    var store: any DirectoryStore { services.store }

    public init(services: SigilServices) { self.services = services }

    /// A policy as a caller sees it.
    public struct Visible: Sendable {
        public let policy: ConditionalAccessPolicy
        /// The filters' rules are hidden from this caller.
        public let filtersHidden: Bool

        public var json: JSONObject { policy.json(hideFilters: filtersHidden) }
    }

    public func list(caller: Caller) async throws -> [Visible] {
        try AccessPolicy.require(AccessPolicy.allows(caller, .readConditionalAccess))
        let schema = try await store.schema()
        return try await store.conditionalAccessPolicies().map { visible($0, to: caller, schema: schema) }
    }

    public func policy(id: String, caller: Caller) async throws -> Visible {
        try AccessPolicy.require(AccessPolicy.allows(caller, .readConditionalAccess))
        guard let policy = try await store.conditionalAccessPolicies().first(where: { $0.id == id.lowercased() }) else {
            throw GraphError.notFound(id)
        }
        return visible(policy, to: caller, schema: try await store.schema())
    }

    /// The attributes a filter rule may name, for a caller building one (the console's filter
    /// builder): the active String attributes of the sets whose definitions the caller reads,
    /// set by set in schema order. Readers of policies may ask.
    public func filterAttributes(caller: Caller) async throws -> [AttributeDefinition] {
        try AccessPolicy.require(AccessPolicy.allows(caller, .readConditionalAccess))
        let schema = try await store.schema()
        return schema.sets.filter { AccessPolicy.allows(caller, .readDefinitions, inSet: $0.id) }.flatMap { set in
            schema.definitions(inSet: set.id).filter { $0.status == .available && $0.type == .string }
        }
    }

    /// Creates a policy from a POST body, read after the access check.
    public func create(as initiator: Initiator, _ body: () async throws -> JSONValue) async throws -> Visible {
        let caller = initiator.caller
        let id = SigilServices.newId()
        return try await services.recordingRefusal(
            .addConditionalAccessPolicy, target: AuditTarget(id: id, displayName: nil, type: "Policy"),
            audit: initiator.audit, logger: initiator.logger
        ) {
            try AccessPolicy.require(AccessPolicy.allows(caller, .manageConditionalAccess))
            let value = try await body()
            let written = try await store.changeConditionalAccessPolicy(id: id) { _, schema in
                let policy = try ConditionalAccessRules.create(value, id: id, schema: schema, at: Date())
                try Self.requireFilterAccess(policy, caller: caller, schema: schema)
                return (policy, [AuditLog.record(policyBefore: nil, after: policy, context: initiator.audit)].compactMap { $0 })
            }
            guard let written else { throw GraphError.notFound(id) }
            return Visible(policy: written, filtersHidden: false)
        }
    }

    /// Changes a policy with a PATCH body. A caller who may not read the stored filters' sets
    /// keeps them as they are and is refused if the body sets a filter.
    public func update(id: String, as initiator: Initiator, _ body: () async throws -> JSONValue) async throws {
        let caller = initiator.caller
        let key = id.lowercased()
        try await services.recordingRefusal(
            .updateConditionalAccessPolicy, target: AuditTarget(id: key, displayName: nil, type: "Policy"),
            audit: initiator.audit, logger: initiator.logger
        ) {
            try AccessPolicy.require(AccessPolicy.allows(caller, .manageConditionalAccess))
            let value = try await body()
            _ = try await store.changeConditionalAccessPolicy(id: key) { current, schema in
                guard let current else { throw GraphError.notFound(id) }
                let mayChange = Self.mayReadFilters(current, caller: caller, schema: schema)
                let updated = try ConditionalAccessRules.update(
                    current, with: value, schema: schema, at: Date(), mayChangeFilters: mayChange)
                try Self.requireFilterAccess(updated, caller: caller, schema: schema, unlessUnchangedFrom: current)
                return (updated, [AuditLog.record(policyBefore: current, after: updated, context: initiator.audit)].compactMap { $0 })
            }
        }
    }

    public func delete(id: String, as initiator: Initiator) async throws {
        let caller = initiator.caller
        let key = id.lowercased()
        try await services.recordingRefusal(
            .deleteConditionalAccessPolicy, target: AuditTarget(id: key, displayName: nil, type: "Policy"),
            audit: initiator.audit, logger: initiator.logger
        ) {
            try AccessPolicy.require(AccessPolicy.allows(caller, .manageConditionalAccess))
            _ = try await store.changeConditionalAccessPolicy(id: key) { current, _ in
                guard let current else { throw GraphError.notFound(id) }
                return (nil, [AuditLog.record(policyBefore: current, after: nil, context: initiator.audit)].compactMap { $0 })
            }
        }
    }

    /// What the token endpoint does with a sign-in: issue, or refuse naming the blocking policy.
    /// `reportOnly` lists the report-only block policies that would have refused it.
    public struct TokenDecision: Sendable {
        public let blockedBy: ConditionalAccessPolicy?
        public let reportOnly: [ConditionalAccessPolicy]
    }

    /// Applies the policies whose grant control is `block`, read from the store for this request
    /// (no cache: a change through any instance holds for the next token).
    public func decide(_ signIn: ConditionalAccessSignIn) async throws -> TokenDecision {
        let policies = try await store.conditionalAccessPolicies().filter { $0.blocks && $0.state != .disabled }
        guard !policies.isEmpty else { return TokenDecision(blockedBy: nil, reportOnly: []) }
        let schema = try await store.schema()
        let applying = policies.filter { ConditionalAccessEvaluation.evaluate($0, signIn, schema: schema).applies }
        return TokenDecision(
            blockedBy: applying.first { $0.state == .enabled },
            reportOnly: applying.filter { $0.state == .enabledForReportingButNotEnforced })
    }

    /// A workload identity's sign-in to Sigil's Graph (client credentials).
    public func signIn(servicePrincipal: DirectoryObject) async throws -> ConditionalAccessSignIn {
        let values = try await store.attributes(of: [servicePrincipal.id])[servicePrincipal.id] ?? AttributeAssignments()
        return try await graphSignIn(.servicePrincipal(id: servicePrincipal.id, attributes: values))
    }

    /// A user's sign-in to Sigil's Graph (password grant).
    public func signIn(user: DirectoryObject) async throws -> ConditionalAccessSignIn {
        let roles = try await store.roleAssignments(principalId: user.id).map(\.role.templateId)
        return try await graphSignIn(.user(id: user.id, roles: roles))
    }

    /// The resource is Graph; an `applicationFilter` reads the attributes of the directory's
    /// service principal for Graph's appId, when there is one.
    func graphSignIn(_ identity: ConditionalAccessSignIn.Identity) async throws -> ConditionalAccessSignIn {
        var resource = AttributeAssignments()
        if let graph = try await store.servicePrincipal(appId: ConditionalAccessSignIn.graphAppId) {
            resource = try await store.attributes(of: [graph.id])[graph.id] ?? AttributeAssignments()
        }
        return ConditionalAccessSignIn(
            identity: identity, resourceAppId: ConditionalAccessSignIn.graphAppId, resourceAttributes: resource)
    }

    /// What-If: which policies apply to a sign-in (`conditionalAccessRoot: evaluate`). Readers
    /// of policies may ask; a policy whose filters the caller may not read is not evaluated
    /// (`notEnoughInformation`), so What-If never reveals attribute values it could not read.
    public func whatIf(caller: Caller, _ body: () async throws -> JSONValue) async throws -> [JSONObject] {
        try AccessPolicy.require(AccessPolicy.allows(caller, .readConditionalAccess))
        let request = try ConditionalAccessWhatIf(parsing: try await body())
        let identity: ConditionalAccessSignIn.Identity
        switch request.identity {
        case .user(let id):
            guard let user = try await store.object(.user, id: id) else { throw GraphError.notFound(id) }
            identity = .user(id: user.id, roles: try await store.roleAssignments(principalId: user.id).map(\.role.templateId))
        case .servicePrincipal(let id):
            guard let principal = try await store.object(.servicePrincipal, id: id) else { throw GraphError.notFound(id) }
            identity = .servicePrincipal(
                id: principal.id, attributes: try await store.attributes(of: [principal.id])[principal.id] ?? AttributeAssignments())
        }
        var signIns: [ConditionalAccessSignIn] = []
        for appId in request.applications {
            var resource = AttributeAssignments()
            if let app = try await store.servicePrincipal(appId: appId) {
                resource = try await store.attributes(of: [app.id])[app.id] ?? AttributeAssignments()
            }
            signIns.append(
                ConditionalAccessSignIn(
                    identity: identity, resourceAppId: appId, resourceAttributes: resource, clientAppType: request.clientAppType))
        }
        let schema = try await store.schema()
        var results: [JSONObject] = []
        for policy in try await store.conditionalAccessPolicies() {
            let shown = visible(policy, to: caller, schema: schema)
            let outcome: ConditionalAccessEvaluation.Outcome
            if shown.filtersHidden {
                outcome = ConditionalAccessEvaluation.Outcome(applies: false, reasons: ["notEnoughInformation"])
            } else {
                let outcomes = signIns.map { ConditionalAccessEvaluation.evaluate(policy, $0, schema: schema) }
                outcome = outcomes.first(where: \.applies) ?? outcomes.first ?? .init(applies: false, reasons: ["application"])
            }
            if request.appliedPoliciesOnly, !outcome.applies { continue }
            results.append(ConditionalAccessWhatIf.result(shown.json, outcome))
        }
        return results
    }

    /// One page of the service principals a policy selects, with the roles it selects each in.
    public struct Targets: Sendable {
        public let servicePrincipals: [(object: DirectoryObject, roles: [ConditionalAccessTargets.Role])]
        /// The exact number selected, on the first page.
        public let count: Int?
        /// Where the next page starts (for a page token); nil on the last page.
        public let next: String?
    }

    /// "Which apps and workload identities does this policy select?", through the query engine.
    /// Readers of policies may ask; when the filters read custom security attributes, the answer
    /// tells who holds which values, so the caller must also read assignments in those sets.
    public func targets(id: String, caller: Caller, limit: Int, position: String?) async throws -> Targets {
        try AccessPolicy.require(AccessPolicy.allows(caller, .readConditionalAccess))
        guard let policy = try await store.conditionalAccessPolicies().first(where: { $0.id == id.lowercased() }) else {
            throw GraphError.notFound(id)
        }
        let schema = try await store.schema()
        for set in policy.filterSets(in: schema) where !AccessPolicy.allows(caller, .readAssignments, inSet: set) {
            throw GraphError(
                status: 403, code: .authorizationDenied,
                message:
                    "Insufficient privileges to complete the operation: the policy's filters read attribute set '\(set)', whose assignments the caller may not read."
            )
        }
        let targets = try await plannedTargets(policy, schema: schema)
        // The caller's own service principal is judged as holding no values, as in its filters.
        let me = caller.principalId.lowercased()
        let roles: @Sendable (DirectoryObject, AttributeAssignments?) -> [ConditionalAccessTargets.Role] = { object, values in
            targets.roles(of: object, object.id.lowercased() == me ? AttributeAssignments() : values ?? AttributeAssignments())
        }
        var listing = PlannedListing(store: store, kinds: [.servicePrincipal], plan: targets.plan, reader: caller.principalId) {
            !roles($0, $1).isEmpty
        }
        listing.withAttributes = true
        let page = try await listing.page(limit: limit, position: position, count: position == nil)
        return Targets(
            servicePrincipals: page.objects.map { ($0, roles($0, page.attributes[$0.id])) }, count: page.count, next: page.next)
    }

    /// The policy's selection planned for the store, with the texts service principals hold for
    /// the attributes its filters test: those make a case-free term exact, whatever its text.
    public func plannedTargets(_ policy: ConditionalAccessPolicy, schema: Schema) async throws -> ConditionalAccessTargets {
        var heldTexts: [String: [String]] = [:]
        for definition in ConditionalAccessTargets.filterDefinitions(policy, schema: schema) {
            heldTexts[nameKey(definition.id)] = try await store.heldTexts(
                .servicePrincipal, of: definition, limit: ConditionalAccessTargets.heldTextsLimit)
        }
        return ConditionalAccessTargets(policy: policy, schema: schema, heldTexts: heldTexts)
    }

    func visible(_ policy: ConditionalAccessPolicy, to caller: Caller, schema: Schema) -> Visible {
        Visible(policy: policy, filtersHidden: !Self.mayReadFilters(policy, caller: caller, schema: schema))
    }

    /// Whether the caller reads the definitions of every attribute set the policy's filters read.
    static func mayReadFilters(_ policy: ConditionalAccessPolicy, caller: Caller, schema: Schema) -> Bool {
        policy.filterSets(in: schema).allSatisfy { AccessPolicy.allows(caller, .readDefinitions, inSet: $0) }
    }

    /// A policy that sets filters needs the caller to read those sets' definitions; a filter kept
    /// exactly as it was stored does not count as set.
    static func requireFilterAccess(
        _ policy: ConditionalAccessPolicy, caller: Caller, schema: Schema, unlessUnchangedFrom old: ConditionalAccessPolicy? = nil
    ) throws(GraphError) {
        for filter in ConditionalAccessRules.Filter.allCases {
            guard let (_, rule) = policy.filterRule(filter) else { continue }
            if let old, let previous = old.filterRule(filter), previous.rule == rule { continue }
            let parsed = try ApplicationFilterRule(rule, schema: schema)
            for set in parsed.attributeSets where !AccessPolicy.allows(caller, .readDefinitions, inSet: set) {
                throw GraphError(
                    status: 403, code: .authorizationDenied,
                    message:
                        "Insufficient privileges to complete the operation: the filter reads attribute set '\(set)', whose definitions the caller may not read."
                )
            }
        }
    }
}
