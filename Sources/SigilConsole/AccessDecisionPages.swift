import Foundation
import HTTPTypes
import Hummingbird
import SigilCore
import SigilGraph
import SigilService

/// Test access (a decision with the rule that made it and each condition's trace) and Who has
/// access (the principals a rule or a condition admits, with the exact count). Both are GET forms:
/// nothing changes, so an answer can be reloaded or shared. The decision point, the condition
/// tester and the directory decide who may ask.
extension ConsoleController {
    static let exampleAction = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"

    /// The stored rules to choose from, `chosen` selected; none when the caller's roles do not
    /// read rules (the pages still take a condition).
    func ruleOptions(_ signedIn: SignedIn, chosen: String) async throws -> [[String: Any]] {
        let rules: [AccessRule]
        do {
            rules = try await accessRules.list(caller: signedIn.caller)
        } catch let error as GraphError where error.status == 403 {
            return []
        }
        return rules.sorted { $0.displayName.lowercased() < $1.displayName.lowercased() }.map {
            ["id": $0.id, "name": $0.displayName, "selected": $0.id == chosen.lowercased()] as [String: Any]
        }
    }

    static func trimmed(_ query: [String: String], _ name: String) -> String {
        (query[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Test access

    @Sendable func testAccessPage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let query = Self.query(request)
        let form = TestAccessForm(query)
        var values = accessLayout(signedIn).merging(form.values) { _, new in new }
        values["rules"] = try await ruleOptions(signedIn, chosen: form.rule)
        var status = HTTPResponse.Status.ok
        if query["principal"] != nil {
            do {
                try await answer(form, signedIn, into: &values)
            } catch let error as GraphError where [400, 403, 404].contains(error.status) {
                status = HTTPResponse.Status(code: error.status)
                values["asked"] = nil
                let field = form.field(of: error)
                values["\(field)Error"] = field == "principal" && error.status == 404 ? form.notFound : error.message
                if field == "condition" {
                    values.merge(AccessRuleForm.place(of: error.message, in: form.condition)) { _, new in new }
                }
                values["hasErrors"] = true
            }
        }
        return page("access-test", values, status: status, cookies: [signedIn.cookie])
    }

    /// The decision on the stored rules (or one of them), or a typed condition's result, with traces.
    func answer(_ form: TestAccessForm, _ signedIn: SignedIn, into values: inout [String: Any]) async throws {
        let resource = try form.resource()
        values["asked"] = true
        let principal = try await DirectoryService(services: services).principal(form.kind, named: form.principal, caller: signedIn.caller)
        if !form.condition.isEmpty {
            let evaluation = try await ConditionService(services: services).tester(for: signedIn.caller)
                .evaluate(try form.conditionRequest(form.condition, principalId: principal.id, resource: resource))
            values["allowed"] = evaluation.result
            values["summary"] =
                evaluation.result ? "The condition admits this request." : "The condition does not admit this request."
            values["considered"] = [
                [
                    "name": "The condition above", "admits": evaluation.result ? "Admits" : "Does not admit",
                    "condition": form.condition, "trace": Self.traceRows(evaluation.trace), "hasTrace": true,
                ] as [String: Any]
            ]
            values["hasConsidered"] = true
            return
        }
        let question = AccessRuleService.Question(
            subjectKind: form.kind, subjectId: principal.id, action: form.action, resource: resource, context: JSONObject())
        let explanation = try await accessRules.decider(for: signedIn.caller)
            .explain(question, ruleId: form.rule.isEmpty ? nil : form.rule)
        guard let subject = explanation.subject else { throw GraphError.notFound(form.principal) }
        let decision = explanation.decision
        let winner = explanation.considered.first { $0.rule.id == decision.ruleId }?.rule
        values["allowed"] = decision.allowed
        values["summary"] =
            if let winner {
                "The rule \(winner.displayName) admits this request."
            } else if !subject.accountEnabled {
                "The account is disabled."
            } else if explanation.considered.isEmpty {
                "No rule covers this principal and action."
            } else {
                "No rule's condition admits this request."
            }
        if let winner { values["ruleLink"] = "/console/access/rules/\(winner.id)" }
        // Traces show values the condition reads: the condition tester decides who sees them.
        let tester: ConditionService.Tester?
        var hidden: String?
        do {
            tester = try ConditionService(services: services).tester(for: signedIn.caller)
        } catch {
            tester = nil
            hidden = error.message
        }
        var rows: [[String: Any]] = []
        for considered in explanation.considered {
            let rule = considered.rule
            var row: [String: Any] = [
                "name": rule.displayName, "link": "/console/access/rules/\(rule.id)",
                "admits": considered.admits ? "Admits" : "Does not admit", "condition": rule.condition ?? "",
                "decided": rule.id == decision.ruleId,
            ]
            if let condition = rule.condition {
                if let tester {
                    do {
                        let request = try form.conditionRequest(condition, principalId: subject.id, resource: resource)
                        row["trace"] = Self.traceRows(try await tester.evaluate(request).trace)
                        row["hasTrace"] = true
                    } catch let error as GraphError where error.status == 403 || error.status == 400 {
                        row["traceNote"] = error.message
                    }
                } else {
                    row["traceNote"] = hidden
                }
            } else {
                row["traceNote"] = "No condition: the rule admits its principals for its actions."
            }
            rows.append(row)
        }
        values["considered"] = rows
        values["hasConsidered"] = !rows.isEmpty
    }

    static func traceRows(_ trace: [ConditionTraceEntry]) -> [[String: Any]] {
        trace.map { ["expression": $0.expression, "value": $0.value ? "true" : "false", "isTrue": $0.value] }
    }

    // MARK: Who has access

    @Sendable func whoHasAccessPage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let query = Self.query(request)
        let rule = Self.trimmed(query, "rule")
        let condition = Self.trimmed(query, "condition")
        let action = Self.trimmed(query, "action")
        let resource = query["resource"] ?? ""
        var values = accessLayout(signedIn)
        values["condition"] = condition
        values["action"] = action
        values["resource"] = resource
        values["rules"] = try await ruleOptions(signedIn, chosen: rule)
        var status = HTTPResponse.Status.ok
        if query["rule"] != nil || query["condition"] != nil {
            do {
                try await admitted(
                    rule: rule, condition: condition, action: action, resource: resource, request, signedIn, into: &values)
            } catch let error as GraphError where [400, 403, 404].contains(error.status) {
                status = HTTPResponse.Status(code: error.status)
                let aboutCondition = error.message.hasPrefix(ConditionError.azureMessage)
                let aboutResource = error.message.hasPrefix(TestAccessForm.resourceRefusal)
                values[aboutCondition ? "conditionError" : aboutResource ? "resourceError" : "askError"] = error.message
                if aboutCondition {
                    values.merge(AccessRuleForm.place(of: error.message, in: condition)) { _, new in new }
                }
                values["hasErrors"] = true
            }
        }
        return page("access-who", values, status: status, cookies: [signedIn.cookie])
    }

    /// One page of the principals admitted, 50 a page, with the exact count (read on the first page
    /// and carried on the links after it).
    func admitted(
        rule: String, condition: String, action: String, resource: String, _ request: Request, _ signedIn: SignedIn,
        into values: inout [String: Any]
    ) async throws {
        var body = JSONObject()
        if !rule.isEmpty { body["ruleId"] = .string(rule) }
        if !condition.isEmpty || rule.isEmpty { body["condition"] = .string(condition) }
        if !action.isEmpty { body["action"] = .string(action) }
        let attributes = try TestAccessForm.resource(resource)
        if !attributes.isEmpty { body["resource"] = .object(attributes) }
        let tester = try ConditionService(services: services).tester(for: signedIn.caller)
        let question = try ConditionRequest(.object(body))
        let binding = "console/access/who " + JSONValue.object(body).serializedString
        let query = Self.query(request)
        let found = try await tester.principals(
            question, limit: Self.pageSize, position: try services.pageTokens.payload(query["page"], query: binding))
        values["asked"] = true
        values["principals"] = found.principals.map { object in
            let user = object.kind == .user
            return [
                "name": object.displayName ?? object.id, "signIn": (user ? object.userPrincipalName : object.appId) ?? "",
                "kind": user ? "User" : "Service principal",
                "link": "/console/\(user ? "users" : "enterprise-applications")/\(object.id)",
            ]
        }
        values["hasPrincipals"] = !found.principals.isEmpty
        let total = found.count ?? query["total"].flatMap(Int.init)
        if let total {
            values["countText"] = total == 1 ? "1 principal has access" : "\(total) principals have access"
        }
        let kept =
            [("rule", rule), ("condition", condition), ("action", action), ("resource", resource)]
            + (total.map { [("total", String($0))] } ?? [])
        pagingLinks("access/who", query: query, kept: kept, next: found.next, binding: binding, into: &values)
    }

    /// `nextPage` and `previousPage` over a service's positions: `page` is the token of where this
    /// page starts and `back` the tokens of the pages before it (`-` for the first), so Previous
    /// needs no backwards reading; `kept` are the page's other parameters.
    func pagingLinks(
        _ segment: String, query: [String: String], kept: [(String, String)], next: String?, binding: String,
        into values: inout [String: Any]
    ) {
        let token = query["page"].flatMap { $0.isEmpty ? nil : $0 }
        let trail = (query["back"] ?? "").split(separator: ",").map(String.init)
        if let next {
            let back = (trail + [token ?? "-"]).joined(separator: ",")
            values["nextPage"] = Self.link(
                segment, kept + [("page", services.pageTokens.token(payload: next, query: binding)), ("back", back)])
        }
        if let previous = trail.last {
            let back = trail.dropLast().joined(separator: ",")
            values["previousPage"] = Self.link(
                segment, kept + (previous == "-" ? [] : [("page", previous)]) + (back.isEmpty ? [] : [("back", back)]))
        }
    }
}

/// The Test access form as asked in the query: who, what action, the resource's attributes, and
/// a rule or a condition to decide on instead of all the rules.
struct TestAccessForm {
    /// How a refusal of the resource's attributes begins, so the page shows it next to them.
    static let resourceRefusal = "Resource attributes:"

    let kind: DirectoryObjectKind
    let principal: String
    let action: String
    let resourceText: String
    let rule: String
    let condition: String

    init(_ query: [String: String]) {
        kind = query["kind"] == "servicePrincipal" ? .servicePrincipal : .user
        principal = ConsoleController.trimmed(query, "principal")
        // A first visit offers the common data action; an emptied field stays empty.
        action = query["action"].map { $0.trimmingCharacters(in: .whitespaces) } ?? ConsoleController.exampleAction
        resourceText = query["resource"] ?? ""
        rule = ConsoleController.trimmed(query, "rule")
        condition = ConsoleController.trimmed(query, "condition")
    }

    var values: [String: Any] {
        [
            "kindUser": kind == .user, "kindServicePrincipal": kind == .servicePrincipal, "principal": principal,
            "action": action, "resource": resourceText, "condition": condition,
        ]
    }

    var notFound: String {
        kind == .user
            ? "No user has the object id or user principal name “\(principal)”."
            : "No service principal has the object id or application id “\(principal)”."
    }

    func resource() throws(GraphError) -> JSONObject { try Self.resource(resourceText) }

    /// A resource's attributes from `key=value` lines; a key is an attribute's name (`Project`)
    /// or its whole reference, as a condition's `@Resource[…]` finds it.
    static func resource(_ resourceText: String) throws(GraphError) -> JSONObject {
        var attributes = JSONObject()
        for line in resourceText.split(whereSeparator: \.isNewline) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw .badRequest("\(resourceRefusal) write each as key=value on a line of its own; “\(text)” is not.")
            }
            let key = text[..<equals].trimmingCharacters(in: .whitespaces)
            attributes[key] = .string(text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces))
        }
        return attributes
    }

    func conditionRequest(_ condition: String, principalId: String, resource: JSONObject) throws(GraphError) -> ConditionRequest {
        try ConditionRequest(
            .object(
                JSONObject([
                    ("condition", .string(condition)), ("action", .string(action)),
                    ("principal", ["type": .string(kind.rawValue), "id": .string(principalId)]),
                    ("resource", .object(resource)),
                ])))
    }

    /// Which field a refusal is about: `principal`, `resource`, `condition`, or `ask` for the rest.
    func field(of error: GraphError) -> String {
        if error.message.hasPrefix(ConditionError.azureMessage) { return "condition" }
        if error.message.hasPrefix(Self.resourceRefusal) { return "resource" }
        if error.status == 404, !rule.isEmpty, error.message.contains(rule) { return "ask" }
        return error.status == 404 ? "principal" : "ask"
    }
}
