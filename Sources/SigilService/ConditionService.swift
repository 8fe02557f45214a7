import Foundation
import SigilCore
import SigilStore

/// Testing Azure role-assignment conditions against the directory (`/sigil/v1/conditions/*`).
///
/// A caller who may evaluate any condition could binary-search any value with
/// `StringStartsWith`, so every operation first requires that the caller may read the values of
/// each attribute set the condition names (Attribute Assignment Reader or Administrator, tenant
/// or that set); otherwise 403 and nothing is evaluated.
public struct ConditionService: Sendable {
    let services: SigilServices

    public init(services: SigilServices) { self.services = services }

    /// The handle every condition test goes through: only a caller who may read attribute values
    /// somewhere gets one, before its request is even parsed.
    public func tester(for caller: Caller) throws(GraphError) -> Tester {
        try AccessPolicy.require(AccessPolicy.allowsAnywhere(caller, .readAssignments))
        return Tester(services: services, caller: caller)
    }
}

extension ConditionService {
    public struct Tester: Sendable {
        let services: SigilServices
        let caller: Caller
    }
}

extension ConditionService.Tester {
    public enum Validation: Sendable {
        case valid(AccessCondition)
        case invalid(ConditionError)
    }

    /// Parses `text`: 403 unless the caller may read values in every set the condition names; an
    /// invalid condition comes back as `.invalid`, not thrown.
    public func validate(_ text: String, version: String?) async throws -> Validation {
        do {
            try ConditionParser.checkVersion(version)
            // Syntax first, with no schema: it names the sets without reading anything.
            let syntax = try ConditionParser.parse(text)
            try requireReadable(syntax)
            return .valid(try ConditionParser.parse(text, schema: try await services.store.schema()))
        } catch let error as ConditionError {
            return .invalid(error)
        }
    }

    func requireReadable(_ condition: AccessCondition) throws(GraphError) {
        for set in condition.principalAttributeSets {
            try AccessPolicy.require(AccessPolicy.allows(caller, .readAssignments, inSet: set))
        }
    }

    public struct Evaluation: Sendable {
        public let result: Bool
        public let trace: [ConditionTraceEntry]
    }

    /// Evaluates a condition for one principal, stored or given inline (a what-if), with the
    /// trace of every sub-expression's value.
    public func evaluate(_ request: ConditionRequest, now: Date = Date()) async throws -> Evaluation {
        let condition: AccessCondition
        switch try await validate(try request.requireCondition(), version: request.conditionVersion) {
        case .valid(let valid): condition = valid
        case .invalid(let error): throw error.graphError
        }
        let principal: AttributeAssignments
        switch request.principal {
        case .none:
            principal = AttributeAssignments()
        case .stored(let kind, let id):
            guard let object = try await services.store.object(kind, id: id) else { throw GraphError.notFound(id) }
            principal = try await services.store.attributes(of: [object.id])[object.id] ?? AttributeAssignments()
        case .inline(let payload):
            principal = try ConditionRequest.whatIfAttributes(payload, schema: try await services.store.schema())
        }
        let input = ConditionInput(
            action: request.action ?? "", subOperation: request.subOperation, principal: principal,
            resource: request.resource, request: request.request,
            environment: ConditionRequest.environment(request.environment, now: now))
        let (result, trace) = ConditionEvaluator.trace(condition, input)
        return Evaluation(result: result, trace: trace)
    }
}

extension ConditionService.Tester {
    /// One page of the principals a condition (or a stored rule) admits.
    public struct Admitted: Sendable {
        public let principals: [DirectoryObject]
        /// The exact number admitted, on the first page.
        public let count: Int?
        /// Where the next page starts (for a page token); nil on the last page.
        public let next: String?
        /// The store answered the whole question; nothing was evaluated per principal.
        public let pushedDown: Bool
    }

    static let kinds: [DirectoryObjectKind] = [.user, .servicePrincipal]

    /// "Who would this admit": users, then service principals, in the store's stable order.
    /// `position` is a previous page's `next`. Principal terms run in the store's query engine
    /// (`ConditionPushdown`); what it cannot answer is evaluated per candidate. The caller's own
    /// object is judged as holding no values, as its filters are.
    public func principals(_ request: ConditionRequest, limit: Int, position: String?) async throws -> Admitted {
        let store = services.store
        var rule: AccessRule?
        let text: String?
        if let ruleId = request.ruleId {
            rule = try await AccessRuleService(services: services).rule(id: ruleId, caller: caller)
            text = rule?.condition
        } else {
            text = try request.requireCondition()
        }
        var condition: AccessCondition?
        if let text {
            switch try await validate(text, version: rule == nil ? request.conditionVersion : nil) {
            case .valid(let valid): condition = valid
            case .invalid(let error): throw error.graphError
            }
        }
        let schema = try await store.schema()
        let input = ConditionInput(
            action: request.action ?? "", subOperation: request.subOperation, resource: request.resource,
            request: request.request, environment: ConditionRequest.environment(request.environment, now: Date()))
        var plan = condition.map { ConditionPushdown.plan($0, input, schema: schema) } ?? ConditionPushdown.Plan(lower: .all, upper: .all)
        if let rule { plan = Self.restrict(plan, to: rule, action: request.action) }
        let (caller, parsed) = (caller, condition)
        let listing = PlannedListing(store: store, kinds: Self.kinds, plan: plan, reader: caller.principalId) { object, values in
            guard let condition = parsed else { return true }
            let seen = object.id.lowercased() == caller.principalId.lowercased() ? AttributeAssignments() : values
            var principalInput = input
            principalInput.principal = seen
            return ConditionEvaluator.evaluate(condition, principalInput)
        }
        let page = try await listing.page(limit: limit, position: position, count: position == nil)
        return Admitted(principals: page.objects, count: page.count, next: page.next, pushedDown: plan.isExact)
    }

    /// A rule admits only its principals, and only for its actions.
    static func restrict(_ plan: ConditionPushdown.Plan, to rule: AccessRule, action: String?) -> ConditionPushdown.Plan {
        var scope = ConditionPushdown.Bound.all
        if let action, !rule.actions.contains(where: { ConditionValues.like(action.lowercased(), pattern: $0.lowercased(), escapes: false) }) {
            scope = .none
        } else if case .ids(let ids) = rule.principals {
            scope = ids.reduce(ConditionPushdown.Bound.none) { .or($0, .matching(.property("id", .equals($1)))) }
        }
        return ConditionPushdown.Plan(lower: .and(plan.lower, scope), upper: .and(plan.upper, scope))
    }
}
