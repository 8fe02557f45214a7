import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SigilCore
import SigilService
import SigilStore

/// `/scim/v2`: a SCIM 2.0 service provider (RFC 7643, RFC 7644) for HR-driven provisioning of
/// users and their custom security attribute values. Parses, calls `ProvisioningService`,
/// renders SCIM JSON; every failure is a SCIM error.
struct ScimController {
    let services: SigilServices
    let provisioning: ProvisioningService

    static let base = "scim/v2"
    static let contentType = "application/scim+json;charset=utf-8"

    func register(on router: Router<GraphContext>, limiter: RateLimiter?) {
        let group = router.group(RouterPath(Self.base))
            .add(middleware: ScimErrorMiddleware())
            .add(middleware: AuthenticationMiddleware(services: services, limiter: limiter))
        group.get("ServiceProviderConfig", use: serviceProviderConfig)
        group.get("ResourceTypes", use: resourceTypes)
        group.get("ResourceTypes/:id", use: resourceType)
        group.get("Schemas", use: schemas)
        group.get("Schemas/:id", use: schemaById)
        group.get("Users", use: list)
        group.post("Users", use: create)
        group.get("Users/:id", use: get)
        group.put("Users/:id", use: replace)
        group.patch("Users/:id", use: patch)
        group.delete("Users/:id", use: delete)
        group.post("Bulk", use: bulk)
        group.post(".search", use: search)
        group.post("Users/.search", use: search)
    }

    /// Paths and the methods they answer, for 405 on the others.
    static let routes: [(path: String, methods: String)] = [
        ("ServiceProviderConfig", "GET"), ("ResourceTypes", "GET"), ("ResourceTypes/*", "GET"), ("Schemas", "GET"),
        ("Schemas/*", "GET"), ("Users", "GET, POST"), ("Users/*", "GET, PUT, PATCH, DELETE"), ("Bulk", "POST"),
        (".search", "POST"),
    ]

    static func owns(_ path: String) -> Bool { path == "/" + base || path.hasPrefix("/" + base + "/") }

    /// The answer when no route matched: 405 naming the allowed methods on a known path, else 404.
    static func unmatched(_ path: String, _ error: HTTPError) -> ScimError {
        let rest = path.dropFirst(base.count + 2).split(separator: "/", omittingEmptySubsequences: false)
        let shape = rest.count == 2 ? "\(rest[0])/*" : rest.joined(separator: "/")
        if error.status != .notFound || routes.contains(where: { $0.path == shape }) {
            let allowed = routes.first { $0.path == shape }?.methods ?? "GET"
            return ScimError(status: 405, detail: "The method is not allowed here; this endpoint answers \(allowed).")
        }
        return ScimError(status: 404, detail: "No SCIM endpoint at \(path).")
    }

    // MARK: Rendering

    static func response(_ value: JSONValue, status: HTTPResponse.Status = .ok, version: String? = nil, location: String? = nil)
        -> Response
    {
        var headers: HTTPFields = [.contentType: contentType]
        if let version { headers[.eTag] = version }
        if let location { headers[.location] = location }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serialized())))
    }

    static func resource(_ resource: JSONObject, status: HTTPResponse.Status = .ok) -> Response {
        let meta = resource["meta"]?.objectValue
        return response(
            .object(resource), status: status, version: meta?["version"]?.stringValue,
            location: status == .created ? meta?["location"]?.stringValue : nil)
    }

    func origin(_ request: Request) -> String { "\(services.origin(request))/\(Self.base)" }

    func userLocation(_ request: Request) -> @Sendable (String) -> String {
        let base = origin(request)
        return { "\(base)/Users/\($0)" }
    }

    func provisioner(_ context: GraphContext) throws -> ProvisioningService.Provisioner {
        try provisioning.provisioner(for: try context.requireCaller())
    }

    /// The body as JSON (`application/scim+json` or `application/json`), at most `limit` bytes.
    static func body(_ request: Request, limit: Int = Limits.requestBodyBytes) async throws -> JSONValue {
        if let type = request.headers[.contentType]?.lowercased(),
            !(type.hasPrefix("application/scim+json") || type.hasPrefix("application/json"))
        {
            throw ScimError.invalidSyntax("Content-Type '\(type)' is not supported; send application/scim+json.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw ScimError(status: 413, detail: "The request body is larger than the limit of \(limit) bytes (maxPayloadSize).")
        }
        do {
            let value = try JSON.parse(buffer.readableBytesView)
            guard !value.containsNul else { throw ScimError.invalidSyntax("The request body holds a NUL character.") }
            return value
        } catch let error as JSONParseError {
            throw ScimError.invalidSyntax("The request body is not valid JSON: \(error.message)")
        }
    }

    /// `attributes` and `excludedAttributes` (comma-separated paths).
    static func projection(_ request: Request) -> (attributes: [String], excluded: [String]) {
        func paths(_ name: String) -> [String] {
            request.queryItems.filter { $0.name.lowercased() == name.lowercased() }
                .flatMap { $0.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                .filter { !$0.isEmpty }
        }
        return (paths("attributes"), paths("excludedAttributes"))
    }

    static func projected(_ resource: JSONObject, _ request: Request) throws -> JSONObject {
        let (attributes, excluded) = projection(request)
        return try ScimPatch.project(resource, attributes: attributes, excluded: excluded)
    }

    // MARK: Discovery

    func serviceProviderConfig(_ request: Request, _ context: GraphContext) async throws -> Response {
        _ = try provisioner(context)
        return Self.response(.object(ScimDiscovery.serviceProviderConfig(base: origin(request))))
    }

    func resourceTypes(_ request: Request, _ context: GraphContext) async throws -> Response {
        _ = try provisioner(context)
        return Self.response(Self.listResponse([ScimDiscovery.userResourceType(base: origin(request))], total: 1, startIndex: 1))
    }

    func resourceType(_ request: Request, _ context: GraphContext) async throws -> Response {
        _ = try provisioner(context)
        guard try context.parameters.require("id") == "User" else { throw ScimError.notFound(try context.parameters.require("id")) }
        return Self.response(.object(ScimDiscovery.userResourceType(base: origin(request))))
    }

    func schemas(_ request: Request, _ context: GraphContext) async throws -> Response {
        let schemas = ScimDiscovery.schemas(try await provisioner(context).schema(), base: origin(request))
        return Self.response(Self.listResponse(schemas, total: schemas.count, startIndex: 1))
    }

    func schemaById(_ request: Request, _ context: GraphContext) async throws -> Response {
        let id = try decodePathSegment(Substring(try context.parameters.require("id")))
        let schemas = ScimDiscovery.schemas(try await provisioner(context).schema(), base: origin(request))
        guard let schema = schemas.first(where: { $0["id"]?.stringValue?.lowercased() == id.lowercased() }) else {
            throw ScimError.notFound(id)
        }
        return Self.response(.object(schema))
    }

    static func listResponse(_ resources: [JSONObject], total: Int, startIndex: Int) -> JSONValue {
        .object(
            JSONObject([
                ("schemas", [.string(ScimURN.listResponse)]), ("totalResults", .integer(Int64(total))),
                ("startIndex", .integer(Int64(startIndex))), ("itemsPerPage", .integer(Int64(resources.count))),
                ("Resources", .array(resources.map { .object($0) })),
            ]))
    }

    // MARK: Users

    /// What a list or search asks for.
    struct Query {
        var filter: ScimFilter?
        var startIndex = 1
        var count = ScimLimits.maxResults
        var attributes: [String] = []
        var excluded: [String] = []

        mutating func set(startIndex value: Int?, count wanted: Int?) {
            if let value { startIndex = max(value, 1) }
            if let wanted { count = min(max(wanted, 0), ScimLimits.maxResults) }
        }
    }

    func list(_ request: Request, _ context: GraphContext) async throws -> Response {
        let provisioner = try provisioner(context)
        var query = Query()
        (query.attributes, query.excluded) = Self.projection(request)
        for (name, value) in request.queryItems {
            switch name.lowercased() {
            case "filter": query.filter = try ScimFilter.parse(value)
            case "startindex", "count":
                guard let n = Int(value) else { throw ScimError.invalidValue("\(name) must be an integer.") }
                name.lowercased() == "count" ? query.set(startIndex: nil, count: n) : query.set(startIndex: n, count: nil)
            case "sortby", "sortorder": throw ScimError.invalidValue("Sorting is not supported (see ServiceProviderConfig).")
            default: continue
            }
        }
        return try await respond(query, provisioner, request)
    }

    /// `POST /.search` and `POST /Users/.search` (RFC 7644 section 3.4.3): a list with its query in a SearchRequest.
    func search(_ request: Request, _ context: GraphContext) async throws -> Response {
        let provisioner = try provisioner(context)
        guard case .object(let body) = try await Self.body(request),
            case .array(let schemas)? = body["schemas"], schemas.contains(.string(ScimURN.searchRequest))
        else { throw ScimError.invalidValue("The body must be a SearchRequest (\(ScimURN.searchRequest)).") }
        var query = Query()
        for (key, value) in body {
            switch (key.lowercased(), value) {
            case ("schemas", _): continue
            case ("filter", .string(let text)): query.filter = try ScimFilter.parse(text)
            case ("startindex", .integer(let n)): query.set(startIndex: Int(n), count: nil)
            case ("count", .integer(let n)): query.set(startIndex: nil, count: Int(n))
            case ("attributes", .array(let items)): query.attributes = items.compactMap(\.stringValue)
            case ("excludedattributes", .array(let items)): query.excluded = items.compactMap(\.stringValue)
            case ("sortby", _), ("sortorder", _): throw ScimError.invalidValue("Sorting is not supported (see ServiceProviderConfig).")
            default: throw ScimError.invalidValue("'\(key)' is not a valid SearchRequest member here.")
            }
        }
        return try await respond(query, provisioner, request)
    }

    func respond(_ query: Query, _ provisioner: ProvisioningService.Provisioner, _ request: Request) async throws -> Response {
        let (total, resources) = try await provisioner.list(
            filter: query.filter, startIndex: query.startIndex, count: query.count, location: userLocation(request))
        let projected = try resources.map {
            try ScimPatch.project($0, attributes: query.attributes, excluded: query.excluded)
        }
        return Self.response(Self.listResponse(projected, total: total, startIndex: query.startIndex))
    }

    func get(_ request: Request, _ context: GraphContext) async throws -> Response {
        let provisioner = try provisioner(context)
        let id = try decodePathSegment(Substring(try context.parameters.require("id")))
        let resource = try await provisioner.user(id, location: userLocation(request))
        if let version = resource["meta"]?.objectValue?["version"]?.stringValue, request.headers[.ifNoneMatch] == version {
            return Response(status: .notModified, headers: [.eTag: version])
        }
        return Self.resource(try Self.projected(resource, request))
    }

    func create(_ request: Request, _ context: GraphContext) async throws -> Response {
        let provisioner = try provisioner(context)
        let body = try await Self.body(request)
        let resource = try await provisioner.create(body, as: try context.initiator(request), location: userLocation(request))
        return Self.resource(try Self.projected(resource, request), status: .created)
    }

    func replace(_ request: Request, _ context: GraphContext) async throws -> Response {
        let provisioner = try provisioner(context)
        let id = try decodePathSegment(Substring(try context.parameters.require("id")))
        let body = try await Self.body(request)
        let resource = try await provisioner.replace(
            id, with: body, ifMatch: request.headers[.ifMatch], as: try context.initiator(request), location: userLocation(request))
        return Self.resource(try Self.projected(resource, request))
    }

    func patch(_ request: Request, _ context: GraphContext) async throws -> Response {
        let provisioner = try provisioner(context)
        let id = try decodePathSegment(Substring(try context.parameters.require("id")))
        let body = try await Self.body(request)
        let resource = try await provisioner.patch(
            id, body, ifMatch: request.headers[.ifMatch], as: try context.initiator(request), location: userLocation(request))
        return Self.resource(try Self.projected(resource, request))
    }

    func delete(_ request: Request, _ context: GraphContext) async throws -> Response {
        let provisioner = try provisioner(context)
        let id = try decodePathSegment(Substring(try context.parameters.require("id")))
        try await provisioner.delete(id, ifMatch: request.headers[.ifMatch], location: userLocation(request))
        return Response(status: .noContent)
    }

    func bulk(_ request: Request, _ context: GraphContext) async throws -> Response {
        let provisioner = try provisioner(context)
        let body = try await Self.body(request, limit: ScimLimits.bulkMaxPayloadSize)
        let result = try await provisioner.bulk(body, as: try context.initiator(request), location: userLocation(request))
        return Self.response(.object(result))
    }
}

/// Inside `/scim/v2`: any failure, authentication included, answers with SCIM's error schema.
struct ScimErrorMiddleware: RouterMiddleware {
    typealias Context = GraphContext

    func handle(_ request: Request, context: GraphContext, next: (Request, GraphContext) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as ScimError {
            return Self.response(error)
        } catch let error as GraphError {
            return Self.response(ScimError(error))
        } catch let error as HTTPError {
            return Self.response(ScimError(status: Int(error.status.code), detail: "No such SCIM endpoint or method."))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error("scim request failed: \(error)")
            return Self.response(ScimError(status: 500, detail: "The request failed inside the service."))
        }
    }

    static func response(_ error: ScimError) -> Response {
        ScimController.response(error.body, status: HTTPResponse.Status(code: error.status))
    }
}
