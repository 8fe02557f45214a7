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
        let evaluate: (DirectoryObject, AttributeAssignments) -> Bool = { object, values in
            guard let condition else { return true }
            let seen = object.id.lowercased() == caller.principalId.lowercased() ? AttributeAssignments() : values
            var principalInput = input
            principalInput.principal = seen
            return ConditionEvaluator.evaluate(condition, principalInput)
        }
        let predicate: ObjectPredicate?
        switch plan.upper {
        case .none: return Admitted(principals: [], count: position == nil ? 0 : nil, next: nil, pushedDown: true)
        case .all: predicate = nil
        case .matching(let p): predicate = p
        }
        var (kindIndex, cursor) = try Self.parse(position)
        var found: [DirectoryObject] = []
        var next: String?
        while kindIndex < Self.kinds.count, found.count < limit {
            let kind = Self.kinds[kindIndex]
            let (page, _) = try await store.query(
                kind, matching: predicate, reader: caller.principalId, order: nil, after: cursor, afterSortKey: nil,
                limit: limit - found.count, count: false, withAttributes: !plan.isExact)
            found += plan.isExact ? page.objects : page.objects.filter { evaluate($0, page.attributes?[$0.id] ?? AttributeAssignments()) }
            if let more = page.next {
                next = "\(kindIndex):\(more)"
                // A filtered page may come back short; the next page goes on from the store's cursor.
                if !plan.isExact { break }
                cursor = more
            } else {
                kindIndex += 1
                cursor = nil
                next = kindIndex < Self.kinds.count ? "\(kindIndex):" : nil
            }
        }
        if found.count >= limit, next == nil, kindIndex < Self.kinds.count { next = "\(kindIndex):" }
        var count: Int?
        if position == nil {
            var total = 0
            for kind in Self.kinds {
                if plan.isExact {
                    total +=
                        try await store.query(
                            kind, matching: predicate, reader: caller.principalId, order: nil, after: nil, afterSortKey: nil,
                            limit: 1, count: true, withAttributes: false
                        ).count ?? 0
                    continue
                }
                var scan: Int64?
                repeat {
                    let (page, _) = try await store.query(
                        kind, matching: predicate, reader: caller.principalId, order: nil, after: scan, afterSortKey: nil,
                        limit: Limits.maxPageSize, count: false, withAttributes: true)
                    total += page.objects.count { evaluate($0, page.attributes?[$0.id] ?? AttributeAssignments()) }
                    scan = page.next
                } while scan != nil
            }
            count = total
        }
        return Admitted(principals: found, count: count, next: next, pushedDown: plan.isExact)
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

    static func parse(_ position: String?) throws(GraphError) -> (Int, Int64?) {
        guard let position else { return (0, nil) }
        let parts = position.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), kinds.indices.contains(index) else {
            throw GraphError.badRequest("The page token is not valid.")
        }
        if parts[1].isEmpty { return (index, nil) }
        guard let cursor = Int64(parts[1]) else { throw GraphError.badRequest("The page token is not valid.") }
        return (index, cursor)
    }
}
