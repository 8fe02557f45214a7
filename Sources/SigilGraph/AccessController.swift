import Hummingbird
import SigilCore
import SigilService

/// `/sigil/v1/accessRules` (Sigil extension) and the OpenID AuthZEN Authorization API 1.0
/// decision point on them: `/access/v1/evaluation`, `/access/v1/evaluations` and
/// `/.well-known/authzen-configuration`.
public struct AccessController: Sendable {
    let services: SigilServices
    var rules: AccessRuleService { AccessRuleService(services: services) }

    public init(services: SigilServices) { self.services = services }

    func registerRules(on group: RouterGroup<GraphContext>) {
        group.get("accessRules", use: list)
        group.post("accessRules", use: create)
        group.get("accessRules/:id", use: get)
        group.patch("accessRules/:id", use: update)
        group.delete("accessRules/:id", use: delete)
    }

    func registerDecisions(on group: RouterGroup<GraphContext>) {
        group.post("evaluation", use: evaluation)
        group.post("evaluations", use: evaluations)
    }

    /// The PDP metadata document needs no token, as discovery documents do not.
    func registerMetadata(on router: Router<GraphContext>) {
        router.get(".well-known/authzen-configuration", use: metadata)
    }

    @Sendable func list(_ request: Request, context: GraphContext) async throws -> Response {
        let all = try await rules.list(caller: try context.requireCaller())
        return GraphResponse.json(["value": .array(all.map { .object($0.json) })])
    }

    @Sendable func get(_ request: Request, context: GraphContext) async throws -> Response {
        let rule = try await rules.rule(id: try context.parameters.require("id"), caller: try context.requireCaller())
        return GraphResponse.json(.object(rule.json))
    }

    @Sendable func create(_ request: Request, context: GraphContext) async throws -> Response {
        let created = try await rules.create(as: try context.initiator(request)) { try await request.jsonBody(context: context) }
        return GraphResponse.json(.object(created.json), status: .created)
    }

    @Sendable func update(_ request: Request, context: GraphContext) async throws -> Response {
        let updated = try await rules.update(id: try context.parameters.require("id"), as: try context.initiator(request)) {
            try await request.jsonBody(context: context)
        }
        return GraphResponse.json(.object(updated.json))
    }

    @Sendable func delete(_ request: Request, context: GraphContext) async throws -> Response {
        try await rules.delete(id: try context.parameters.require("id"), as: try context.initiator(request))
        return GraphResponse.noContent
    }

    @Sendable func metadata(_ request: Request, context: GraphContext) async throws -> Response {
        let origin = services.origin(request)
        return GraphResponse.json([
            "policy_decision_point": .string(origin),
            "access_evaluation_endpoint": .string("\(origin)/access/v1/evaluation"),
            "access_evaluations_endpoint": .string("\(origin)/access/v1/evaluations"),
        ])
    }

    static func render(_ decision: AccessRuleService.Decision) -> JSONValue {
        guard let ruleId = decision.ruleId else { return ["decision": false] }
        return ["decision": .bool(decision.allowed), "context": ["ruleId": .string(ruleId)]]
    }

    @Sendable func evaluation(_ request: Request, context: GraphContext) async throws -> Response {
        let decider = try rules.decider(for: try context.requireCaller())
        guard case .object(let body) = try await request.jsonBody(context: context) else {
            throw GraphError.badRequest("The request body must be a JSON object.")
        }
        let question = try AuthZEN.question(body, defaults: JSONObject())
        let decisions = try await decider.decide([question])
        return GraphResponse.json(decisions.first.map(Self.render) ?? ["decision": false])
    }

    @Sendable func evaluations(_ request: Request, context: GraphContext) async throws -> Response {
        let decider = try rules.decider(for: try context.requireCaller())
        guard case .object(let body) = try await request.jsonBody(context: context) else {
            throw GraphError.badRequest("The request body must be a JSON object.")
        }
        let batch = try AuthZEN.batch(body)
        guard let items = batch.items else {
            // No `evaluations` array: the single-evaluation request and answer, as the spec says.
            let decisions = try await decider.decide([try AuthZEN.question(body, defaults: JSONObject())])
            return GraphResponse.json(decisions.first.map(Self.render) ?? ["decision": false])
        }
        var results: [JSONValue] = []
        for question in items {
            guard let decision = try await decider.decide([question]).first else { break }
            results.append(Self.render(decision))
            if batch.semantic == .denyOnFirstDeny, !decision.allowed { break }
            if batch.semantic == .permitOnFirstPermit, decision.allowed { break }
        }
        return GraphResponse.json(["evaluations": .array(results)])
    }
}

/// Reading AuthZEN 1.0 request bodies into questions for the decision point.
enum AuthZEN {
    enum Semantic: String {
        case executeAll = "execute_all"
        case denyOnFirstDeny = "deny_on_first_deny"
        case permitOnFirstPermit = "permit_on_first_permit"
    }

    static let requestMembers: Set<String> = ["subject", "action", "resource", "context"]

    /// One evaluation; members missing from `body` come from `defaults` (the batch's top level).
    static func question(_ body: JSONObject, defaults: JSONObject) throws(GraphError) -> AccessRuleService.Question {
        func member(_ key: String) -> JSONValue? {
            if let value = body[key], value != .null { return value }
            return defaults[key]
        }
        guard case .object(let subject)? = member("subject"), let kind = subject["type"]?.stringValue,
            let id = subject["id"]?.stringValue, !id.isEmpty
        else { throw GraphError.badRequest("'subject' must be an object with 'type' and 'id'.") }
        let objectKind: DirectoryObjectKind
        switch kind {
        case "user": objectKind = .user
        case "servicePrincipal": objectKind = .servicePrincipal
        default: throw GraphError.badRequest("'subject.type' must be 'user' or 'servicePrincipal'.")
        }
        guard case .object(let action)? = member("action"), let name = action["name"]?.stringValue, !name.isEmpty else {
            throw GraphError.badRequest("'action' must be an object with 'name'.")
        }
        guard case .object(let resource)? = member("resource"), resource["type"]?.stringValue != nil,
            resource["id"]?.stringValue != nil
        else { throw GraphError.badRequest("'resource' must be an object with 'type' and 'id'.") }
        var context = JSONObject()
        switch member("context") {
        case nil, .null?: break
        case .object(let object)?: context = object
        default: throw GraphError.badRequest("'context' must be an object.")
        }
        let properties = resource["properties"]?.objectValue ?? JSONObject()
        return AccessRuleService.Question(
            subjectKind: objectKind, subjectId: id, action: name,
            subOperation: action["properties"]?.objectValue?["subOperation"]?.stringValue, resource: properties,
            context: context)
    }

    /// The batch's questions (nil when it has no `evaluations` array) and its semantic.
    static func batch(_ body: JSONObject) throws(GraphError) -> (items: [AccessRuleService.Question]?, semantic: Semantic) {
        var semantic = Semantic.executeAll
        if let options = body["options"], options != .null {
            guard case .object(let o) = options else { throw GraphError.badRequest("'options' must be an object.") }
            if let name = o["evaluations_semantic"] {
                guard let text = name.stringValue, let chosen = Semantic(rawValue: text) else {
                    throw GraphError.badRequest(
                        "'options.evaluations_semantic' must be execute_all, deny_on_first_deny or permit_on_first_permit.")
                }
                semantic = chosen
            }
        }
        guard let list = body["evaluations"], list != .null else { return (nil, semantic) }
        guard case .array(let items) = list else { throw GraphError.badRequest("'evaluations' must be an array.") }
        if items.isEmpty { return (nil, semantic) }
        guard items.count <= Limits.accessEvaluations else {
            throw GraphError.badRequest("'evaluations' holds at most \(Limits.accessEvaluations) requests.")
        }
        var questions: [AccessRuleService.Question] = []
        for item in items {
            guard case .object(let object) = item else { throw GraphError.badRequest("Each evaluation must be an object.") }
            questions.append(try question(object, defaults: body))
        }
        return (questions, semantic)
    }
}
