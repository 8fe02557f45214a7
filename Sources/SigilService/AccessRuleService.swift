import Foundation
import SigilCore
import SigilStore

/// Access rules (`/sigil/v1/accessRules`) and the decisions made on them (OpenID AuthZEN,
/// `/access/v1/evaluation[s]`): the one place their access is decided.
///
/// Attribute Access Administrator reads and changes rules; a change also needs Attribute
/// Assignment Reader or Administrator for every attribute set the rule's condition names (tenant
/// or that set), or the rule would be a way to test values the administrator cannot read.
/// Attribute Access Evaluator reads rules and asks for decisions.
public struct AccessRuleService: Sendable {
    let services: SigilServices
    var store: any DirectoryStore { services.store }

    public init(services: SigilServices) { self.services = services }

    public func list(caller: Caller) async throws -> [AccessRule] {
        try AccessPolicy.require(AccessPolicy.allows(caller, .readAccessRules))
        return try await store.accessRules()
    }

    public func rule(id: String, caller: Caller) async throws -> AccessRule {
        try AccessPolicy.require(AccessPolicy.allows(caller, .readAccessRules))
        guard let rule = try await store.accessRules().first(where: { $0.id == id.lowercased() }) else {
            throw GraphError.notFound(id)
        }
        return rule
    }

    /// Creates a rule from a POST body, read after the access check.
    public func create(as initiator: Initiator, _ body: () async throws -> JSONValue) async throws -> AccessRule {
        let caller = initiator.caller
        let id = SigilServices.newId()
        return try await services.recordingRefusal(
            .addAccessRule, target: AuditTarget(id: id, displayName: nil, type: "AccessRule"), audit: initiator.audit,
            logger: initiator.logger
        ) {
            try AccessPolicy.require(AccessPolicy.allows(caller, .manageAccessRules))
            let value = try await body()
            let written = try await store.changeAccessRule(id: id) { _, schema in
                let rule = try AccessRuleRules.create(value, id: id, schema: schema, now: Date())
                try Self.requireReadable(rule, caller: caller)
                return (rule, [AuditLog.record(ruleBefore: nil, after: rule, context: initiator.audit)].compactMap { $0 })
            }
            guard let written else { throw GraphError.notFound(id) }
            return written
        }
    }

    public func update(id: String, as initiator: Initiator, _ body: () async throws -> JSONValue) async throws -> AccessRule {
        let caller = initiator.caller
        let key = id.lowercased()
        return try await services.recordingRefusal(
            .updateAccessRule, target: AuditTarget(id: key, displayName: nil, type: "AccessRule"), audit: initiator.audit,
            logger: initiator.logger
        ) {
            try AccessPolicy.require(AccessPolicy.allows(caller, .manageAccessRules))
            let value = try await body()
            let written = try await store.changeAccessRule(id: key) { current, schema in
                guard let current else { throw GraphError.notFound(id) }
                try Self.requireReadable(current, caller: caller)
                let updated = try AccessRuleRules.update(value, rule: current, schema: schema, now: Date())
                try Self.requireReadable(updated, caller: caller)
                return (updated, [AuditLog.record(ruleBefore: current, after: updated, context: initiator.audit)].compactMap { $0 })
            }
            guard let written else { throw GraphError.notFound(id) }
            return written
        }
    }

    public func delete(id: String, as initiator: Initiator) async throws {
        let caller = initiator.caller
        let key = id.lowercased()
        try await services.recordingRefusal(
            .deleteAccessRule, target: AuditTarget(id: key, displayName: nil, type: "AccessRule"), audit: initiator.audit,
            logger: initiator.logger
        ) {
            try AccessPolicy.require(AccessPolicy.allows(caller, .manageAccessRules))
            _ = try await store.changeAccessRule(id: key) { current, _ in
                guard let current else { throw GraphError.notFound(id) }
                try Self.requireReadable(current, caller: caller)
                return (nil, [AuditLog.record(ruleBefore: current, after: nil, context: initiator.audit)].compactMap { $0 })
            }
        }
    }

    /// The leak rule for rules: the caller must read the values of every set the condition names.
    static func requireReadable(_ rule: AccessRule, caller: Caller) throws(GraphError) {
        guard let text = rule.condition, let condition = try? ConditionParser.parse(text) else { return }
        for set in condition.principalAttributeSets {
            try AccessPolicy.require(AccessPolicy.allows(caller, .readAssignments, inSet: set))
        }
    }

    // MARK: Decisions

    /// One AuthZEN evaluation, already read from its JSON.
    public struct Question: Sendable {
        public let subjectKind: DirectoryObjectKind
        public let subjectId: String
        public let action: String
        public let subOperation: String?
        public let resource: JSONObject
        public let context: JSONObject

        public init(
            subjectKind: DirectoryObjectKind, subjectId: String, action: String, subOperation: String? = nil,
            resource: JSONObject, context: JSONObject
        ) {
            self.subjectKind = subjectKind
            self.subjectId = subjectId
            self.action = action
            self.subOperation = subOperation
            self.resource = resource
            self.context = context
        }
    }

    public struct Decision: Sendable, Equatable {
        public let allowed: Bool
        /// The rule that allowed it; nil when denied.
        public let ruleId: String?
    }

    /// The handle every decision goes through: only Attribute Access Evaluator gets one.
    public func decider(for caller: Caller) throws(GraphError) -> Decider {
        try AccessPolicy.require(AccessPolicy.allows(caller, .evaluateAccess))
        return Decider(store: store)
    }

    public struct Explanation: Sendable {
        public let decision: Decision
        /// The subject asked about (by object id, or a user by userPrincipalName); nil when none.
        public let subject: DirectoryObject?
        /// The rules covering the subject and the action; empty for a missing or disabled subject.
        public let considered: [Considered]
    }

    public struct Considered: Sendable {
        public let rule: AccessRule
        public let admits: Bool
    }

    public struct Decider: Sendable {
        let store: any DirectoryStore

        /// Azure's semantics: allowed iff some rule covers the subject and the action and its
        /// condition holds; no rule, no access. A subject that does not exist or is disabled is denied.
        public func decide(_ questions: [Question], now: Date = Date()) async throws -> [Decision] {
            let rules = try await store.accessRules()
            var decisions: [Decision] = []
            for question in questions {
                decisions.append(try await judge(question, rules, now: now, explaining: false).decision)
            }
            return decisions
        }

        /// A decision with its reasons: the subject found, and every rule that covers it and the
        /// action, in the order they are tried, with whether its condition admits. `ruleId`
        /// decides on that rule alone.
        public func explain(_ question: Question, ruleId: String? = nil, now: Date = Date()) async throws -> Explanation {
            var rules = try await store.accessRules()
            if let ruleId {
                rules = rules.filter { $0.id == ruleId.lowercased() }
                guard !rules.isEmpty else { throw GraphError.notFound(ruleId) }
            }
            return try await judge(question, rules, now: now, explaining: true)
        }

        /// Without `explaining`, stops at the first rule that admits, as a decision needs no more.
        func judge(
            _ question: Question, _ rules: [AccessRule], now: Date, explaining: Bool
        ) async throws -> Explanation {
            let denied = Decision(allowed: false, ruleId: nil)
            // The subject and its values in one read (by object id; a user also by
            // userPrincipalName, as AuthZEN's examples name users).
            guard let state = try await store.objectState(question.subjectKind, id: question.subjectId) else {
                return Explanation(decision: denied, subject: nil, considered: [])
            }
            let (subject, values) = (state.object, state.attributes)
            let action = question.action.lowercased()
            let candidates = rules.filter { $0.covers(principalId: subject.id, loweredAction: action) }
            guard subject.accountEnabled, !candidates.isEmpty else {
                return Explanation(decision: denied, subject: subject, considered: [])
            }
            let input = ConditionInput(
                action: question.action, subOperation: question.subOperation, principal: values,
                resource: question.resource, request: question.context,
                environment: ConditionRequest.environment(question.context, now: now))
            var considered: [Considered] = []
            var winner: AccessRule?
            for rule in candidates {
                let admits =
                    switch rule.parsedCondition {
                    case .none: false  // a stored condition that no longer parses admits nobody
                    case .some(.none): true
                    case .some(.some(let condition)): ConditionEvaluator.evaluate(condition, input)
                    }
                if explaining { considered.append(Considered(rule: rule, admits: admits)) }
                if admits, winner == nil {
                    winner = rule
                    if !explaining { break }
                }
            }
            return Explanation(
                decision: Decision(allowed: winner != nil, ruleId: winner?.id), subject: subject, considered: considered)
        }

    }
}
