import Hummingbird
import SigilCore
import SigilService

/// `/sigil/v1/conditions/validate` and `/evaluate`: Azure role-assignment conditions tested
/// against the directory (a Sigil extension).
public struct ConditionController: Sendable {
    let services: SigilServices
    var conditions: ConditionService { ConditionService(services: services) }

    public init(services: SigilServices) { self.services = services }

    func register(on group: RouterGroup<GraphContext>) {
        group.post("conditions/validate", use: validate)
        group.post("conditions/evaluate", use: evaluate)
        group.post("conditions/principals", use: principals)
    }

    static func encode(_ error: ConditionError) -> JSONValue {
        [
            "message": .string(error.description), "position": .integer(Int64(error.position)),
            "reason": .string(error.reason),
        ]
    }

    @Sendable func validate(_ request: Request, context: GraphContext) async throws -> Response {
        let tester = try conditions.tester(for: try context.requireCaller())
        let body = try ConditionRequest(try await request.jsonBody(context: context))
        switch try await tester.validate(try body.requireCondition(), version: body.conditionVersion) {
        case .invalid(let error):
            return GraphResponse.json(["valid": false, "error": Self.encode(error)])
        case .valid(let condition):
            let attributes: [JSONValue] = condition.attributes.map { attribute in
                .object(
                    JSONObject([
                        ("source", .string(attribute.source.rawValue)), ("attribute", .string(attribute.reference)),
                        ("text", .string(attribute.text)),
                    ]))
            }
            return GraphResponse.json(["valid": true, "attributes": .array(attributes)])
        }
    }

    @Sendable func evaluate(_ request: Request, context: GraphContext) async throws -> Response {
        let tester = try conditions.tester(for: try context.requireCaller())
        let body = try ConditionRequest(try await request.jsonBody(context: context))
        let evaluation = try await tester.evaluate(body)
        let trace: [JSONValue] = evaluation.trace.map { entry in
            .object(
                JSONObject([
                    ("expression", .string(entry.expression)), ("start", .integer(Int64(entry.start))),
                    ("end", .integer(Int64(entry.end))), ("value", .bool(entry.value)),
                ]))
        }
        return GraphResponse.json(["result": .bool(evaluation.result), "trace": .array(trace)])
    }

    /// `$top` (1 to 999, default 100) and `$skiptoken`; the token is bound to the request body, so
    /// the next page is the same POST to `@odata.nextLink`.
    @Sendable func principals(_ request: Request, context: GraphContext) async throws -> Response {
        let tester = try conditions.tester(for: try context.requireCaller())
        let json = try await request.jsonBody(context: context)
        let body = try ConditionRequest(json)
        let options = try request.queryOptions()
        try options.reject(["select", "filter", "expand", "count", "orderby", "search", "skip"])
        let binding = json.serializedString
        let position = try services.pageTokens.payload(options.skipToken, query: binding)
        let limit = options.top ?? Limits.defaultPageSize
        let admitted = try await tester.principals(body, limit: limit, position: position)
        var out = JSONObject()
        if let count = admitted.count { out.append("@odata.count", .integer(Int64(count))) }
        out.append(
            "value",
            .array(
                admitted.principals.map { object in
                    .object(
                        JSONObject([
                            ("id", .string(object.id)), ("type", .string(object.kind.rawValue)),
                            ("displayName", JSONValue(object.displayName)),
                        ]))
                }))
        if let next = admitted.next {
            let token = services.pageTokens.token(payload: next, query: binding)
            let link = "\(services.origin(request))/sigil/v1/conditions/principals?$top=\(limit)&$skiptoken=\(token)"
            out.append("@odata.nextLink", .string(link))
        }
        return GraphResponse.json(.object(out))
    }
}
