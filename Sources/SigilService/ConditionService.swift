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
        switch try await validate(request.condition, version: request.conditionVersion) {
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
