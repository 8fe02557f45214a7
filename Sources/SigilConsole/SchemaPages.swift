import Foundation
import Hummingbird
import SigilCore
import SigilGraph
import SigilService
import SigilStore

/// Custom security attributes: attribute sets (add, edit description and maximum) and a set's
/// attributes (add, edit what may change, predefined values with their active toggle, deactivate
/// with confirmation). Each form becomes the JSON body the Graph API takes and goes through the
/// same `SchemaRules`, access policy and audit log.
extension ConsoleController {
    func registerSchemaPages(on console: RouterGroup<GraphContext>) {
        console.get("attribute-sets", use: setsPage)
        console.post("attribute-sets", use: createSet)
        console.get("attribute-sets/:set", use: setPage)
        console.post("attribute-sets/:set", use: updateSet)
        console.post("attribute-sets/:set/attributes", use: createAttribute)
        console.get("attribute-sets/:set/attributes/:name", use: attributePage)
        console.post("attribute-sets/:set/attributes/:name", use: updateAttribute)
    }

    func schemaLayout(_ signedIn: SignedIn) -> [String: Any] { layout(signedIn, nav: "navSchema") }

    /// Runs a schema use-case as the signed-in user and turns a refusal (400) into a message for
    /// the form; 403 becomes the access page.
    func formError(_ change: () async throws -> Void) async throws -> String? {
        do {
            try await change()
            return nil
        } catch let error as GraphError where error.status == 400 {
            return error.message
        }
    }

    var schemaService: SchemaService { SchemaService(services: services) }

    @Sendable func setsPage(_ request: Request, context: GraphContext) async throws -> Response {
        try await renderSets(request, error: nil, entered: [:])
    }

    func renderSets(_ request: Request, error: String?, entered: [String: String]) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let caller = signedIn.caller
        let schema = try await services.store.schema()
        var values = schemaLayout(signedIn)
        let sets = try SchemaAccess.readableSets(caller: caller, in: schema)
        values["sets"] = sets.map { set -> [String: Any] in
            [
                "id": set.id, "description": set.description ?? "",
                "max": set.maxAttributesPerSet.map(String.init) ?? "",
                "count": schema.definitions(inSet: set.id).count { $0.status == .available },
            ]
        }
        values["hasSets"] = !sets.isEmpty
        values["canAddSet"] = AccessPolicy.allows(caller, .manageAttributeSets)
        values["entered"] = entered
        if let error { values["error"] = error }
        return page("sets", values, status: error == nil ? .ok : .badRequest, cookies: [signedIn.cookie])
    }

    @Sendable func createSet(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        let name = (fields.first("id") ?? "").trimmingCharacters(in: .whitespaces)
        var body = JSONObject([("id", .string(name))])
        if let description = fields.first("description"), !description.isEmpty { body.append("description", .string(description)) }
        let maximum = fields.first("maxAttributesPerSet") ?? ""
        if !maximum.isEmpty {
            guard let number = Int64(maximum) else {
                return try await renderSets(request, error: "The maximum must be a whole number.", entered: fields.dictionary)
            }
            body.append("maxAttributesPerSet", .integer(number))
        }
        let json = JSONValue.object(body)
        let initiator = signedIn.initiator(request, context)
        if let error = try await formError({ _ = try await schemaService.createSet({ json }, as: initiator) }) {
            return try await renderSets(request, error: error, entered: fields.dictionary)
        }
        return Self.redirect("/console/attribute-sets/\(Self.pathEncoded(name))", cookies: [signedIn.cookie])
    }

    static func pathEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    func readableSet(_ context: GraphContext, _ signedIn: SignedIn, _ schema: Schema) throws -> AttributeSet {
        try SchemaAccess.set(try context.parameters.require("set"), caller: signedIn.caller, in: schema)
    }

    @Sendable func setPage(_ request: Request, context: GraphContext) async throws -> Response {
        try await renderSet(request, context, error: nil, attributeError: nil, entered: [:])
    }

    func renderSet(
        _ request: Request, _ context: GraphContext, error: String?, attributeError: String?, entered: [String: String]
    ) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let schema = try await services.store.schema()
        let set = try readableSet(context, signedIn, schema)
        let caller = signedIn.caller
        var values = schemaLayout(signedIn)
        values["set"] = set.id
        values["description"] = set.description ?? ""
        values["max"] = set.maxAttributesPerSet.map(String.init) ?? ""
        values["canEditSet"] = AccessPolicy.allows(caller, .manageAttributeSets)
        values["canAddAttribute"] = AccessPolicy.allows(caller, .manageDefinitions, inSet: set.id)
        let definitions = schema.definitions(inSet: set.id)
        func rows(_ status: DefinitionStatus) -> [[String: Any]] {
            definitions.filter { $0.status == status }.map { definition in
                [
                    "name": definition.name, "description": definition.description ?? "", "type": definition.type.rawValue,
                    "multiple": definition.isCollection ? "Yes" : "No",
                    "predefined": definition.usePreDefinedValuesOnly ? "Yes" : "No",
                ]
            }
        }
        let (active, deactivated) = (rows(.available), rows(.deprecated))
        values["active"] = active
        values["hasActive"] = !active.isEmpty
        values["deactivated"] = deactivated
        values["hasDeactivated"] = !deactivated.isEmpty
        values["entered"] = entered
        values["types"] = ["String", "Integer", "Boolean"].map { type -> [String: Any] in
            ["id": type, "selected": (entered["type"] ?? "") == type]
        }
        if let error { values["error"] = error }
        if let attributeError { values["attributeError"] = attributeError }
        if request.queryItems.contains(where: { $0.name == "saved" }) { values["notice"] = "Saved." }
        let failed = error != nil || attributeError != nil
        return page("set", values, status: failed ? .badRequest : .ok, cookies: [signedIn.cookie])
    }

    @Sendable func updateSet(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        let name = try context.parameters.require("set")
        var body = JSONObject([("description", .string(fields.first("description") ?? ""))])
        let maximum = fields.first("maxAttributesPerSet") ?? ""
        if let number = Int64(maximum) {
            body.append("maxAttributesPerSet", .integer(number))
        } else if !maximum.isEmpty {
            return try await renderSet(
                request, context, error: "The maximum must be a whole number.", attributeError: nil, entered: fields.dictionary)
        }
        let json = JSONValue.object(body)
        let initiator = signedIn.initiator(request, context)
        if let error = try await formError({ try await schemaService.updateSet(name, with: { json }, as: initiator) }) {
            return try await renderSet(request, context, error: error, attributeError: nil, entered: fields.dictionary)
        }
        return Self.redirect("/console/attribute-sets/\(Self.pathEncoded(name))?saved=1", cookies: [signedIn.cookie])
    }

    @Sendable func createAttribute(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        let setName = try context.parameters.require("set")
        let name = (fields.first("name") ?? "").trimmingCharacters(in: .whitespaces)
        let predefined = fields.first("usePreDefinedValuesOnly") == "true"
        let values = (fields.first("allowedValues") ?? "").split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var body = JSONObject([
            ("attributeSet", .string(setName)), ("name", .string(name)), ("type", .string(fields.first("type") ?? "String")),
            ("status", "Available"), ("isCollection", .bool(fields.first("isCollection") == "true")), ("isSearchable", true),
            ("usePreDefinedValuesOnly", .bool(predefined)),
        ])
        if let description = fields.first("description"), !description.isEmpty { body.append("description", .string(description)) }
        if !values.isEmpty {
            body.append("allowedValues", .array(values.map { .object(JSONObject([("id", .string($0)), ("isActive", true)])) }))
        }
        let json = JSONValue.object(body)
        let initiator = signedIn.initiator(request, context)
        if let error = try await formError({ _ = try await schemaService.createDefinition({ json }, as: initiator) }) {
            return try await renderSet(request, context, error: nil, attributeError: error, entered: fields.dictionary)
        }
        return Self.redirect(
            "/console/attribute-sets/\(Self.pathEncoded(setName))/attributes/\(Self.pathEncoded(name))?saved=1",
            cookies: [signedIn.cookie])
    }

    func readableDefinition(_ context: GraphContext, _ signedIn: SignedIn, _ schema: Schema) throws -> AttributeDefinition {
        let set = try readableSet(context, signedIn, schema)
        let id = AttributeDefinition.id(set: set.id, name: try context.parameters.require("name"))
        return try SchemaAccess.definition(id, caller: signedIn.caller, .readDefinitions, in: schema)
    }

    @Sendable func attributePage(_ request: Request, context: GraphContext) async throws -> Response {
        try await renderAttribute(request, context, error: nil)
    }

    func renderAttribute(_ request: Request, _ context: GraphContext, error: String?) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let schema = try await services.store.schema()
        let definition = try readableDefinition(context, signedIn, schema)
        var values = schemaLayout(signedIn)
        values["set"] = definition.attributeSet
        values["name"] = definition.name
        values["description"] = definition.description ?? ""
        values["type"] = definition.type.rawValue
        values["multiple"] = definition.isCollection ? "Yes" : "No"
        values["predefinedOnly"] = definition.usePreDefinedValuesOnly
        values["active"] = definition.status == .available
        values["canEdit"] = AccessPolicy.allows(signedIn.caller, .manageDefinitions, inSet: definition.attributeSet)
        values["allowedValues"] = schema.allowedValues(of: definition).map { ["id": $0.id, "isActive": $0.isActive] }
        values["hasAllowedValues"] = !schema.allowedValues(of: definition).isEmpty
        values["confirmDeactivate"] = request.queryItems.contains { $0.name == "deactivate" }
        if let error { values["error"] = error }
        if request.queryItems.contains(where: { $0.name == "saved" }) { values["notice"] = "Saved." }
        return page("attribute", values, status: error == nil ? .ok : .badRequest, cookies: [signedIn.cookie])
    }

    /// One form, several actions (`action`): edit the description and predefined-only flag, add a
    /// predefined value, switch a value's active toggle, or deactivate after confirmation.
    @Sendable func updateAttribute(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        let setName = try context.parameters.require("set")
        let name = try context.parameters.require("name")
        let id = AttributeDefinition.id(set: setName, name: name)
        let initiator = signedIn.initiator(request, context)
        let action = fields.first("action") ?? "edit"
        let error: String?
        switch action {
        case "addValue":
            let body: JSONValue = .object(JSONObject([("id", .string(fields.first("value") ?? "")), ("isActive", true)]))
            error = try await formError { _ = try await schemaService.createAllowedValue({ body }, of: id, as: initiator) }
        case "toggleValue":
            let body: JSONValue = .object(JSONObject([("isActive", .bool(fields.first("isActive") == "true"))]))
            error = try await formError {
                try await schemaService.updateAllowedValue(fields.first("value") ?? "", of: id, with: { body }, as: initiator)
            }
        case "deactivate", "reactivate":
            let body: JSONValue = .object(JSONObject([("status", .string(action == "deactivate" ? "Deprecated" : "Available"))]))
            error = try await formError {
                try await schemaService.updateDefinition(id, with: { body }, odataVersion: nil, as: initiator)
            }
        default:
            var body = JSONObject([("description", .string(fields.first("description") ?? ""))])
            if fields.first("usePreDefinedValuesOnly") == "false" { body.append("usePreDefinedValuesOnly", false) }
            let json = JSONValue.object(body)
            error = try await formError {
                try await schemaService.updateDefinition(id, with: { json }, odataVersion: nil, as: initiator)
            }
        }
        if let error { return try await renderAttribute(request, context, error: error) }
        return Self.redirect(
            "/console/attribute-sets/\(Self.pathEncoded(setName))/attributes/\(Self.pathEncoded(name))?saved=1",
            cookies: [signedIn.cookie])
    }
}

extension FormFields {
    /// The first value of each field, to refill a form that was refused.
    var dictionary: [String: String] {
        Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }
}
