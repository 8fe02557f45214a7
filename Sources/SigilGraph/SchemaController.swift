import Hummingbird
import SigilCore
import SigilService
import SigilStore

/// `/directory/attributeSets`, `/directory/customSecurityAttributeDefinitions` and their
/// `allowedValues`: reads filtered by the caller's scope, writes decided by `SchemaRules`.
struct SchemaController {
    let services: SigilServices
    var schemaService: SchemaService { SchemaService(services: services) }

    func register(on group: RouterGroup<GraphContext>) {
        group.get("directory/attributeSets", use: listSets)
        group.post("directory/attributeSets", use: createSet)
        group.get("directory/attributeSets/:set", use: getSet)
        group.patch("directory/attributeSets/:set", use: updateSet)
        group.delete("directory/attributeSets/:set", use: refuseDelete)

        group.get("directory/customSecurityAttributeDefinitions", use: listDefinitions)
        group.post("directory/customSecurityAttributeDefinitions", use: createDefinition)
        group.get("directory/customSecurityAttributeDefinitions/:definition", use: getDefinition)
        group.patch("directory/customSecurityAttributeDefinitions/:definition", use: updateDefinition)
        group.delete("directory/customSecurityAttributeDefinitions/:definition", use: refuseDelete)

        let values = "directory/customSecurityAttributeDefinitions/:definition/allowedValues"
        group.get(RouterPath(values), use: listAllowedValues)
        group.post(RouterPath(values), use: createAllowedValue)
        group.get(RouterPath(values + "/:value"), use: getAllowedValue)
        group.patch(RouterPath(values + "/:value"), use: updateAllowedValue)
        group.delete(RouterPath(values + "/:value"), use: refuseDelete)
    }

    // MARK: Encoding

    static let setProperties = ["description", "id", "maxAttributesPerSet"]
    static let definitionProperties = [
        "attributeSet", "description", "id", "isCollection", "isSearchable", "name", "status", "type",
        "usePreDefinedValuesOnly",
    ]
    static let allowedValueProperties = ["id", "isActive"]

    static func encode(_ set: AttributeSet) -> JSONObject {
        JSONObject([
            ("description", JSONValue(set.description)), ("id", .string(set.id)),
            ("maxAttributesPerSet", set.maxAttributesPerSet.map { .integer(Int64($0)) } ?? .null),
        ])
    }

    static func encode(_ d: AttributeDefinition, allowedValues: [AllowedValue]?) -> JSONObject {
        var object = JSONObject([
            ("attributeSet", .string(d.attributeSet)), ("description", JSONValue(d.description)), ("id", .string(d.id)),
            ("isCollection", .bool(d.isCollection)), ("isSearchable", .bool(d.isSearchable)), ("name", .string(d.name)),
            ("status", .string(d.status.rawValue)), ("type", .string(d.type.rawValue)),
            ("usePreDefinedValuesOnly", .bool(d.usePreDefinedValuesOnly)),
        ])
        if let allowedValues { object.append("allowedValues", .array(allowedValues.map { .object(encode($0)) })) }
        return object
    }

    static func encode(_ value: AllowedValue) -> JSONObject {
        JSONObject([("id", .string(value.id)), ("isActive", .bool(value.isActive))])
    }

    /// Keeps only the `$select`ed members (and expansions, which `$select` does not remove).
    static func project(_ object: JSONObject, _ selection: [String]?, keep: Set<String> = []) -> JSONObject {
        guard let selection else { return object }
        return JSONObject(object.members.filter { selection.contains($0.key) || keep.contains($0.key) })
    }

    /// One page of an in-memory list, with a nextLink when more remain.
    func page(_ items: [JSONValue], options: QueryOptions, request: Request, context fragment: String) throws -> Response {
        let offset = Int(try services.pageTokens.position(options.skipToken, query: fragment) ?? 0)
        let size = options.top ?? Limits.defaultPageSize
        let slice = Array(items.dropFirst(offset).prefix(size))
        let nextLink =
            offset + size < items.count
            ? request.nextLink(
                origin: services.origin(request), skipToken: services.pageTokens.token(for: Int64(offset + size), query: fragment))
            : nil
        return GraphResponse.collection(
            slice, context: services.odataContext(request, fragment),
            count: options.count && request.isEventualConsistency(options) ? items.count : nil,
            nextLink: nextLink)
    }

    @Sendable func refuseDelete(_ request: Request, context: GraphContext) async throws -> Response {
        _ = try context.requireCaller()
        throw GraphError.methodNotAllowed
    }

    // MARK: Lookup with access rules

    func readableSet(_ name: String, caller: Caller, schema: Schema) throws -> AttributeSet {
        try SchemaAccess.set(name, caller: caller, in: schema)
    }

    func definition(_ id: String, caller: Caller, capability: Capability, schema: Schema) throws -> AttributeDefinition {
        try SchemaAccess.definition(id, caller: caller, capability, in: schema)
    }

    // MARK: Attribute sets

    @Sendable func listSets(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let options = try request.queryOptions()
        try options.reject(["filter", "expand", "search"])
        let selection = try options.selection(from: Self.setProperties)
        var sets = try SchemaAccess.readableSets(caller: caller, in: try await services.store.schema())
        if let orderBy = options.orderBy {
            switch orderBy.lowercased() {
            case "id", "id asc": sets.sort { $0.id.lowercased() < $1.id.lowercased() }
            case "id desc": sets.sort { $0.id.lowercased() > $1.id.lowercased() }
            default: throw GraphError.badRequest("$orderby is supported on 'id' only.")
            }
        }
        let items = sets.map { JSONValue.object(Self.project(Self.encode($0), selection)) }
        return try page(items, options: options, request: request, context: "directory/attributeSets")
    }

    @Sendable func getSet(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let options = try request.queryOptions()
        try options.reject(["filter", "expand", "top", "count", "orderby", "search", "skiptoken"])
        let name = try context.parameters.require("set")
        let set = try readableSet(name, caller: caller, schema: try await services.store.schema())
        let selection = try options.selection(from: Self.setProperties)
        return GraphResponse.entity(
            Self.project(Self.encode(set), selection), context: services.odataContext(request, "directory/attributeSets/$entity"))
    }

    @Sendable func createSet(_ request: Request, context: GraphContext) async throws -> Response {
        let set = try await schemaService.createSet({ try await request.jsonBody(context: context) }, as: try context.initiator(request))
        return GraphResponse.entity(
            Self.encode(set), context: services.odataContext(request, "directory/attributeSets/$entity"), status: .created)
    }

    @Sendable func updateSet(_ request: Request, context: GraphContext) async throws -> Response {
        try await schemaService.updateSet(
            try context.parameters.require("set"), with: { try await request.jsonBody(context: context) },
            as: try context.initiator(request))
        return GraphResponse.noContent
    }

    // MARK: Definitions

    @Sendable func listDefinitions(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let options = try request.queryOptions()
        try options.reject(["search", "orderby"])
        let expand = try Self.expandsAllowedValues(options)
        let selection = try options.selection(from: Self.definitionProperties)
        let schema = try await services.store.schema()
        var items: [JSONValue] = []
        for definition in try SchemaAccess.readableDefinitions(caller: caller, in: schema) {
            if let filter = options.filter, try !definition.matches(filter) { continue }
            let encoded = Self.encode(definition, allowedValues: expand ? schema.allowedValues(of: definition) : nil)
            items.append(.object(Self.project(encoded, selection, keep: ["allowedValues"])))
        }
        return try page(items, options: options, request: request, context: "directory/customSecurityAttributeDefinitions")
    }

    static func expandsAllowedValues(_ options: QueryOptions) throws -> Bool {
        guard let expand = options.expand else { return false }
        guard expand.allSatisfy({ $0.lowercased() == "allowedvalues" }) else {
            throw GraphError.badRequest("$expand supports 'allowedValues' only.")
        }
        return true
    }

    @Sendable func getDefinition(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let options = try request.queryOptions()
        try options.reject(["filter", "top", "count", "orderby", "search", "skiptoken"])
        let schema = try await services.store.schema()
        let definition = try definition(
            try context.parameters.require("definition"), caller: caller, capability: .readDefinitions, schema: schema)
        let expand = try Self.expandsAllowedValues(options)
        let encoded = Self.encode(definition, allowedValues: expand ? schema.allowedValues(of: definition) : nil)
        return GraphResponse.entity(
            Self.project(encoded, try options.selection(from: Self.definitionProperties), keep: ["allowedValues"]),
            context: services.odataContext(request, "directory/customSecurityAttributeDefinitions/$entity"))
    }

    @Sendable func createDefinition(_ request: Request, context: GraphContext) async throws -> Response {
        let definition = try await schemaService.createDefinition(
            { try await request.jsonBody(context: context) }, as: try context.initiator(request))
        // Graph's 201 body leaves out allowedValues even when they were sent inline.
        return GraphResponse.entity(
            Self.encode(definition, allowedValues: nil),
            context: services.odataContext(request, "directory/customSecurityAttributeDefinitions/$entity"), status: .created)
    }

    @Sendable func updateDefinition(_ request: Request, context: GraphContext) async throws -> Response {
        try await schemaService.updateDefinition(
            try context.parameters.require("definition"), with: { try await request.jsonBody(context: context) },
            odataVersion: request.headers[.odataVersion], as: try context.initiator(request))
        return GraphResponse.noContent
    }

    // MARK: Allowed values

    func valuesContext(_ request: Request, _ definition: AttributeDefinition, entity: Bool) -> String {
        services.odataContext(
            request, "directory/customSecurityAttributeDefinitions('\(definition.id)')/allowedValues" + (entity ? "/$entity" : "")
        )
    }

    @Sendable func listAllowedValues(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let options = try request.queryOptions()
        try options.reject(["filter", "expand", "orderby", "search"])
        let schema = try await services.store.schema()
        let definition = try definition(
            try context.parameters.require("definition"), caller: caller, capability: .readDefinitions, schema: schema)
        let selection = try options.selection(from: Self.allowedValueProperties)
        let items = schema.allowedValues(of: definition).map { JSONValue.object(Self.project(Self.encode($0), selection)) }
        let fragment = "directory/customSecurityAttributeDefinitions('\(definition.id)')/allowedValues"
        return try page(items, options: options, request: request, context: fragment)
    }

    @Sendable func getAllowedValue(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let options = try request.queryOptions()
        try options.reject(["filter", "expand", "top", "count", "orderby", "search", "skiptoken"])
        let schema = try await services.store.schema()
        let definition = try definition(
            try context.parameters.require("definition"), caller: caller, capability: .readAllowedValue, schema: schema)
        let id = try context.parameters.require("value")
        guard let value = schema.allowedValues(of: definition).first(where: { $0.id == id }) else {
            throw GraphError.notFound(id)
        }
        return GraphResponse.entity(
            Self.project(Self.encode(value), try options.selection(from: Self.allowedValueProperties)),
            context: valuesContext(request, definition, entity: true))
    }

    @Sendable func createAllowedValue(_ request: Request, context: GraphContext) async throws -> Response {
        let (definition, value) = try await schemaService.createAllowedValue(
            { try await request.jsonBody(context: context) }, of: try context.parameters.require("definition"),
            as: try context.initiator(request))
        return GraphResponse.entity(
            Self.encode(value), context: valuesContext(request, definition, entity: true), status: .created)
    }

    @Sendable func updateAllowedValue(_ request: Request, context: GraphContext) async throws -> Response {
        try await schemaService.updateAllowedValue(
            try context.parameters.require("value"), of: try context.parameters.require("definition"),
            with: { try await request.jsonBody(context: context) }, as: try context.initiator(request))
        return GraphResponse.noContent
    }
}
