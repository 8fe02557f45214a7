import HTTPTypes
import Hummingbird
import SigilCore
import SigilService

/// API-driven inbound provisioning (v1.0 and beta): a service principal's synchronization
/// templates and jobs, `bulkUpload` into a job, and the provisioning logs
/// (`/auditLogs/provisioning`). Parses, calls `InboundProvisioningService`, renders; every
/// failure is a Graph error envelope.
struct SynchronizationController {
    let services: SigilServices
    var inbound: InboundProvisioningService { InboundProvisioningService(services: services) }

    static let synchronization = "servicePrincipals/:id/synchronization"
    static let logsPath = "auditLogs/provisioning"

    func register(on group: RouterGroup<GraphContext>) {
        group.get(RouterPath(Self.synchronization + "/templates"), use: templates)
        group.get(RouterPath(Self.synchronization + "/jobs"), use: jobs)
        group.post(RouterPath(Self.synchronization + "/jobs"), use: createJob)
        group.get(RouterPath(Self.synchronization + "/jobs/:jobId"), use: job)
        group.delete(RouterPath(Self.synchronization + "/jobs/:jobId"), use: deleteJob)
        group.post(RouterPath(Self.synchronization + "/jobs/:jobId/start"), use: startJob)
        group.post(RouterPath(Self.synchronization + "/jobs/:jobId/pause"), use: pauseJob)
        group.post(RouterPath(Self.synchronization + "/jobs/:jobId/restart"), use: restartJob)
        group.post(RouterPath(Self.synchronization + "/jobs/:jobId/provisionOnDemand"), use: provisionOnDemand)
        group.post(RouterPath(Self.synchronization + "/jobs/:jobId/bulkUpload"), use: bulkUpload)
        group.get(RouterPath(Self.logsPath), use: logs)
    }

    /// Sigil's extension: the tenant's provisioning mapping, `GET`/`PUT /sigil/v1/provisioning/mapping`.
    func registerMapping(on sigil: RouterGroup<GraphContext>) {
        sigil.get("provisioning/mapping", use: mapping)
        sigil.put("provisioning/mapping", use: replaceMapping)
    }

    func ids(_ context: GraphContext) throws -> (servicePrincipal: String, job: String?) {
        (
            try decodePathSegment(Substring(try context.parameters.require("id"))),
            try context.parameters.get("jobId").map { try decodePathSegment(Substring($0)) }
        )
    }

    func jobId(_ context: GraphContext) throws -> String {
        guard let job = try ids(context).job else { throw GraphError.badRequest("The path names no job.") }
        return job
    }

    func jobsContext(_ request: Request, _ servicePrincipalId: String) -> String {
        services.odataContext(request, "servicePrincipals('\(servicePrincipalId)')/synchronization/jobs")
    }

    // MARK: Templates and jobs

    @Sendable func templates(_ request: Request, context: GraphContext) async throws -> Response {
        let id = try ids(context).servicePrincipal
        let templates = try await inbound.templates(servicePrincipalId: id, caller: try context.requireCaller())
        return GraphResponse.collection(
            templates.map { .object($0) }, context: services.odataContext(request, "servicePrincipals('\(id)')/synchronization/templates"))
    }

    @Sendable func jobs(_ request: Request, context: GraphContext) async throws -> Response {
        let id = try ids(context).servicePrincipal
        let jobs = try await inbound.jobs(servicePrincipalId: id, caller: try context.requireCaller())
        return GraphResponse.collection(jobs.map { .object($0.json) }, context: jobsContext(request, id))
    }

    @Sendable func job(_ request: Request, context: GraphContext) async throws -> Response {
        let id = try ids(context).servicePrincipal
        let job = try await inbound.job(servicePrincipalId: id, jobId: try jobId(context), caller: try context.requireCaller())
        return GraphResponse.entity(job.json, context: jobsContext(request, id) + "/$entity")
    }

    @Sendable func createJob(_ request: Request, context: GraphContext) async throws -> Response {
        let id = try ids(context).servicePrincipal
        let job = try await inbound.createJob(servicePrincipalId: id, caller: try context.requireCaller()) {
            try await request.jsonBody(context: context)
        }
        return GraphResponse.entity(job.json, context: jobsContext(request, id) + "/$entity", status: .created)
    }

    @Sendable func deleteJob(_ request: Request, context: GraphContext) async throws -> Response {
        try await inbound.deleteJob(
            servicePrincipalId: try ids(context).servicePrincipal, jobId: try jobId(context), caller: try context.requireCaller())
        return GraphResponse.noContent
    }

    /// 204; a paused job has processed what it held when this is sent.
    @Sendable func startJob(_ request: Request, context: GraphContext) async throws -> Response {
        try await inbound.startJob(
            servicePrincipalId: try ids(context).servicePrincipal, jobId: try jobId(context), as: try context.initiator(request))
        return GraphResponse.noContent
    }

    /// 204, no body (Graph documents none; one sent is ignored).
    @Sendable func pauseJob(_ request: Request, context: GraphContext) async throws -> Response {
        try await inbound.pauseJob(
            servicePrincipalId: try ids(context).servicePrincipal, jobId: try jobId(context), caller: try context.requireCaller())
        return GraphResponse.noContent
    }

    /// 204; the body (`criteria`) is optional: none at all, or JSON.
    @Sendable func restartJob(_ request: Request, context: GraphContext) async throws -> Response {
        try await inbound.restartJob(
            servicePrincipalId: try ids(context).servicePrincipal, jobId: try jobId(context), as: try context.initiator(request)
        ) {
            let length = request.headers[.contentLength]
            guard request.headers[.contentType] != nil || (length != nil && length != "0") else { return nil }
            return try await request.jsonBody(context: context)
        }
        return GraphResponse.noContent
    }

    /// 200 with Graph's `stringKeyStringValuePair`.
    @Sendable func provisionOnDemand(_ request: Request, context: GraphContext) async throws -> Response {
        let result = try await inbound.provisionOnDemand(
            servicePrincipalId: try ids(context).servicePrincipal, jobId: try jobId(context), as: try context.initiator(request)
        ) {
            try await request.jsonBody(context: context)
        }
        return GraphResponse.entity(result, context: services.odataContext(request, "microsoft.graph.stringKeyStringValuePair"))
    }

    /// 202 with no body and `Location` at the job's provisioning logs, as Graph answers; the
    /// operations have already run when it is sent.
    @Sendable func bulkUpload(_ request: Request, context: GraphContext) async throws -> Response {
        let job = try await inbound.bulkUpload(
            servicePrincipalId: try ids(context).servicePrincipal, jobId: try jobId(context), as: try context.initiator(request)
        ) {
            try await request.jsonBody(context: context, mediaType: "application/scim+json", typeRequired: true)
        }
        let filter = Request.encode("jobid eq '\(job.id)'")
        return Response(status: .accepted, headers: [.location: "\(services.origin(request))/beta/\(Self.logsPath)/?$filter=\(filter)"])
    }

    // MARK: Mapping

    @Sendable func mapping(_ request: Request, context: GraphContext) async throws -> Response {
        let mapping = try await ProvisioningMappingService(services: services).mapping(caller: try context.requireCaller())
        return GraphResponse.json(.object(mapping.json))
    }

    /// Replaces the whole mapping; answers with it as saved (targets spelled as the schema spells them).
    @Sendable func replaceMapping(_ request: Request, context: GraphContext) async throws -> Response {
        let mapping = try await ProvisioningMappingService(services: services).replace(as: try context.initiator(request)) {
            try await request.jsonBody(context: context)
        }
        return GraphResponse.json(.object(mapping.json))
    }

    // MARK: Provisioning logs

    /// `$filter` (see `ProvisioningLogQuery`), `$top` (1 to 100) and `$skiptoken`, newest first.
    @Sendable func logs(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let options = try AuditController.Options(request, allowed: ["filter", "top", "skiptoken"])
        let query = try ProvisioningLogQuery.parse(filter: options.filter)
        let binding = "provisioning|\(options.filter ?? "")"
        let cursor = try services.pageTokens.position(options.skipToken, query: binding)
        let page = try await inbound.logs(query, after: cursor, limit: options.top, caller: caller)
        return GraphResponse.collection(
            page.entries.map { .object($0) }, context: services.odataContext(request, Self.logsPath),
            nextLink: page.next.map {
                request.nextLink(origin: services.origin(request), skipToken: services.pageTokens.token(for: $0, query: binding))
            })
    }
}
