import Foundation
import Logging
import SigilCore
import SigilStore

/// Graph's API-driven inbound provisioning on top of Sigil's SCIM provisioning: synchronization
/// jobs on a service principal, `bulkUpload` into a job, and the provisioning logs that record
/// what each uploaded user operation did.
///
/// Access is decided once per operation here. Jobs: the provisioning roles read them, Attribute
/// Provisioning Administrator and Global Administrator (Sigil's stand-in for Graph's application
/// roles) manage them. bulkUpload: Attribute Provisioning Administrator only. Logs: the
/// provisioning roles, Security Administrator, Security Reader, Global Reader and Global
/// Administrator; custom security attribute values in them only for the provisioning roles.
/// Every user write runs through `ProvisioningService`'s provisioner, so it is validated and
/// audited exactly as a SCIM write, with the provisioning application as initiator.
public struct InboundProvisioningService: Sendable {
    let services: SigilServices
    let provisioning: ProvisioningService

    public init(services: SigilServices) {
        self.services = services
        self.provisioning = ProvisioningService(services: services)
    }

    var store: any DirectoryStore { services.store }

    static func requireReadJobs(_ caller: Caller) throws(GraphError) {
        try AccessPolicy.require(
            caller.kind != .guest
                && (AccessPolicy.allows(caller, .readProvisioning) || AccessPolicy.allows(caller, .manageApplications)))
    }

    static func requireManageJobs(_ caller: Caller) throws(GraphError) {
        try AccessPolicy.require(
            caller.kind != .guest && (AccessPolicy.allows(caller, .provisionUsers) || AccessPolicy.allows(caller, .manageApplications)))
    }

    /// The service principal `id`, or 404.
    func servicePrincipal(_ id: String) async throws -> DirectoryObject {
        guard let state = try await store.objectState(.servicePrincipal, id: id), state.object.id.lowercased() == id.lowercased()
        else { throw GraphError.notFound(id) }
        return state.object
    }

    /// The job `jobId` of the service principal `servicePrincipalId`, or 404.
    func job(_ servicePrincipalId: String, _ jobId: String) async throws -> (DirectoryObject, SynchronizationJob) {
        let principal = try await servicePrincipal(servicePrincipalId)
        guard let job = try await store.synchronizationJob(id: jobId), job.servicePrincipalId.lowercased() == principal.id.lowercased()
        else { throw GraphError.notFound(jobId) }
        return (principal, job)
    }

    // MARK: Templates and jobs

    public func templates(servicePrincipalId: String, caller: Caller) async throws -> [JSONObject] {
        try Self.requireReadJobs(caller)
        let principal = try await servicePrincipal(servicePrincipalId)
        return [InboundProvisioning.template(applicationId: principal.appId)]
    }

    public func jobs(servicePrincipalId: String, caller: Caller) async throws -> [SynchronizationJob] {
        try Self.requireReadJobs(caller)
        let principal = try await servicePrincipal(servicePrincipalId)
        return try await store.synchronizationJobs(servicePrincipalId: principal.id)
    }

    public func job(servicePrincipalId: String, jobId: String, caller: Caller) async throws -> SynchronizationJob {
        try Self.requireReadJobs(caller)
        return try await job(servicePrincipalId, jobId).1
    }

    /// Creates a job from `{"templateId": "API2AAD"}`; it starts out not running.
    public func createJob(servicePrincipalId: String, caller: Caller, body: () async throws -> JSONValue) async throws
        -> SynchronizationJob
    {
        try Self.requireManageJobs(caller)
        let principal = try await servicePrincipal(servicePrincipalId)
        guard case .object(let members) = try await body() else { throw GraphError.badRequest("The body must be a synchronizationJob object.") }
        var templateId: String?
        for (key, value) in members where !key.hasPrefix("@odata.") {
            guard key == "templateId" else { throw GraphError.invalidProperty(key) }
            templateId = value.stringValue
        }
        guard let templateId else { throw GraphError.badRequest("'templateId' is required: a string naming the job's template.") }
        guard templateId == InboundProvisioning.templateId else {
            throw GraphError.badRequest(
                "Template '\(templateId)' is not a template of this service principal; the one template is '\(InboundProvisioning.templateId)'.")
        }
        let job = SynchronizationJob(
            id: SynchronizationJob.newId(templateId: InboundProvisioning.templateId, tenantId: services.tenantId),
            servicePrincipalId: principal.id, templateId: InboundProvisioning.templateId, createdDateTime: Date())
        try await store.saveSynchronizationJob(job)
        return job
    }

    /// Starts the job: from now on it takes bulkUpload requests. A paused job first processes the
    /// uploads it held, in the order they came, each as its uploader (with the roles it holds
    /// now), before this returns. Starting a running job changes nothing but processes anything
    /// still held.
    public func startJob(servicePrincipalId: String, jobId: String, as initiator: Initiator) async throws {
        try Self.requireManageJobs(initiator.caller)
        var (principal, job) = try await self.job(servicePrincipalId, jobId)
        if job.state != .active {
            job.state = .active
            job.lastStarted = Date()
            try await store.saveSynchronizationJob(job)
        }
        _ = try await processHeld(job, principal, sourceKey: nil, logger: initiator.logger)
    }

    /// Pauses a started job: bulkUpload requests are checked and accepted (202) as before, but
    /// held until the job is started again (`startJob`) or discarded by `restartJob`. Pausing a
    /// paused job changes nothing; a job never started cannot be paused (400).
    public func pauseJob(servicePrincipalId: String, jobId: String, caller: Caller) async throws {
        try Self.requireManageJobs(caller)
        var (_, job) = try await self.job(servicePrincipalId, jobId)
        switch job.state {
        case .paused: return
        case .notRun:
            throw GraphError.badRequest(
                "The provisioning job '\(job.id)' is not running; start it (POST .../jobs/\(job.id)/start) before pausing it.")
        case .active:
            job.state = .paused
            try await store.saveSynchronizationJob(job)
        }
    }

    /// Restarts the job (`criteria.resetScope` is checked against Graph's scopes; Sigil keeps no
    /// escrows, watermark or quarantine, so every scope has the same effect). As Entra's FAQ
    /// says: a job that is not running (paused, or never started) starts afresh, and the uploads
    /// it held are discarded, never processed; a running job goes on and processes anything
    /// still held. `body` is read only once the caller may restart the job.
    public func restartJob(
        servicePrincipalId: String, jobId: String, as initiator: Initiator, body: () async throws -> JSONValue?
    ) async throws {
        try Self.requireManageJobs(initiator.caller)
        _ = try SynchronizationJobAction.restartScopes(try await body())
        var (principal, job) = try await self.job(servicePrincipalId, jobId)
        guard job.state != .active else {
            _ = try await processHeld(job, principal, sourceKey: nil, logger: initiator.logger)
            return
        }
        job.state = .active
        job.lastStarted = Date()
        // Running first, so that no upload is held after the discard below.
        try await store.saveSynchronizationJob(job)
        let discarded = try await store.discardHeldUploads(jobId: job.id)
        if discarded > 0 { initiator.logger.info("Restarting provisioning job \(job.id) discarded \(discarded) held operations.") }
    }

    public func deleteJob(servicePrincipalId: String, jobId: String, caller: Caller) async throws {
        try Self.requireManageJobs(caller)
        let (_, job) = try await self.job(servicePrincipalId, jobId)
        guard try await store.deleteSynchronizationJob(id: job.id) else { throw GraphError.notFound(jobId) }
    }

    /// provisionOnDemand for an API-driven inbound job: the one subject's `objectId` is the
    /// source's matching identifier (externalId unless the mapping says userName), and the
    /// operations the job holds for it (while paused) are processed now, in the order they came;
    /// the answer describes the last one (its log entry as the caller may read it), or is
    /// `Skipped` when the job holds nothing for it. At most 5 calls per 10 seconds (429 beyond).
    public func provisionOnDemand(
        servicePrincipalId: String, jobId: String, as initiator: Initiator, body: () async throws -> JSONValue
    ) async throws -> JSONObject {
        try Self.requireManageJobs(initiator.caller)
        try services.provisioningThrottle.onDemandCalls.require(now: services.provisioningThrottle.now())
        let (principal, job) = try await self.job(servicePrincipalId, jobId)
        let subject = try SynchronizationJobAction.onDemandSubject(try await body())
        let entry = try await processHeld(job, principal, sourceKey: subject, logger: initiator.logger).last
        let readable = entry.map { AccessPolicy.allows(initiator.caller, .readProvisioning) ? $0.document : $0.redactingAttributeValues }
        return SynchronizationJobAction.onDemandResult(readable, subject: subject)
    }

    // MARK: bulkUpload

    /// Runs a bulkUpload into a started job: each POST finds the user its matching identifier
    /// names (the tenant's provisioning mapping: `externalId` = employeeId unless it says
    /// `userName` = userPrincipalName) and updates it, or creates one, each operation all or nothing on its own,
    /// each leaving one provisioning log entry. A malformed request is refused whole (400)
    /// before anything is written. A paused job holds the checked operations instead (see
    /// `pauseJob`); a running one first processes anything still held, so uploads keep their
    /// order. At most `ProvisioningThrottle.bulkUploads` calls in any 5 seconds (429 beyond).
    /// `body` is read only once the caller may upload. Returns the job.
    public func bulkUpload(
        servicePrincipalId: String, jobId: String, as initiator: Initiator, body: () async throws -> JSONValue
    ) async throws -> SynchronizationJob {
        try AccessPolicy.require(initiator.caller.kind != .guest && AccessPolicy.allows(initiator.caller, .provisionUsers))
        try services.provisioningThrottle.uploads.require(now: services.provisioningThrottle.now())
        let provisioner = try provisioning.provisioner(for: initiator.caller)
        let (principal, job) = try await self.job(servicePrincipalId, jobId)
        guard job.state != .notRun else {
            throw GraphError.badRequest(
                "The provisioning job '\(job.id)' is not started; start it (POST .../jobs/\(job.id)/start) before uploading.")
        }
        let operations = try InboundProvisioning.operations(try await body())
        // Read once: every operation of one upload runs on the same mapping.
        let mapping = try await store.provisioningMapping()
        let cycleId = SigilServices.newId()
        // A paused job holds the operations; when it was started meanwhile (false), they run now.
        if job.state == .paused, try await store.holdUploads(held(operations, job, cycleId, mapping, initiator), jobId: job.id) {
            return job
        }
        _ = try await processHeld(job, principal, sourceKey: nil, logger: initiator.logger)
        let parties = ProvisioningLogEntry.Parties(
            tenantId: services.tenantId, job: job, servicePrincipalName: principal.displayName, cycleId: cycleId,
            initiator: initiator.audit.initiatedBy)
        // The operations and their log entries share the store's write transactions (a savepoint
        // each): one commit per upload. Work that did not commit fails the request, so a 202
        // never stands for operations that were not kept.
        let batch = try await services.sharingWrites { batch in
            for (index, operation) in operations.enumerated() {
                try await batch.unit(index) {
                    let entry = try await provision(operation.data, mapping, parties, provisioner, as: initiator)
                    try await store.appendProvisioningLog([entry])
                }
            }
            return batch
        }
        if !batch.failedUnits.isEmpty {
            initiator.logger.error(
                "a bulkUpload's shared transaction did not commit",
                metadata: ["error": "\(batch.failure.map { "\($0)" } ?? "unknown")", "job": "\(job.id)"])
            throw GraphError.serviceNotAvailable
        }
        return job
    }

    /// The operations of one upload as a paused job holds them, with who uploaded them and how.
    func held(
        _ operations: [InboundProvisioning.Operation], _ job: SynchronizationJob, _ cycleId: String, _ mapping: ProvisioningMapping,
        _ initiator: Initiator
    ) -> [HeldUploadOperation] {
        let caller = initiator.caller
        return operations.map { operation in
            HeldUploadOperation(
                jobId: job.id, sourceKey: InboundProvisioning.source(of: operation.data, mapping: mapping).id, bulkId: operation.bulkId,
                data: operation.data, cycleId: cycleId, uploaderId: caller.principalId, uploaderIsApp: caller.kind == .servicePrincipal,
                correlationId: initiator.audit.correlationId, ipAddress: initiator.audit.initiatedBy.ipAddress,
                userAgent: initiator.audit.userAgent, heldAt: Date())
        }
    }

    /// How long a claim on a held operation keeps it from other requests. Processing one takes
    /// milliseconds; a claim outlives its request only when the process stopped (or the store
    /// failed) mid-way, and the operation is then processed by a later request.
    static let heldUploadClaim: Duration = .seconds(60)

    /// Processes what the job holds (for one source key, when given), oldest first. Each
    /// operation is claimed before it runs, so that no two requests run the same one, and leaves
    /// the store only with its log entry: an operation is processed at least once, and a second
    /// run after a crash matches the user the first one created or updated. Each runs as its
    /// uploader with the roles it holds now and the upload's audit context; an uploader that no
    /// longer exists, or may no longer upload, fails its operations (logged). Returns the log
    /// entries written.
    func processHeld(_ job: SynchronizationJob, _ principal: DirectoryObject, sourceKey: String?, logger: Logger) async throws
        -> [ProvisioningLogEntry]
    {
        var entries: [ProvisioningLogEntry] = []
        var mapping: ProvisioningMapping?
        while true {
            let now = Date()
            guard
                let claim = try await store.claimHeldUpload(
                    jobId: job.id, sourceKey: sourceKey, now: now, until: now.addingTimeInterval(TimeInterval(Self.heldUploadClaim.components.seconds)))
            else { break }
            let held = claim.operation
            let current: ProvisioningMapping
            if let mapping { current = mapping } else { current = try await store.provisioningMapping() }
            mapping = current
            let entry: ProvisioningLogEntry
            do {
                let caller = try await services.caller(principalId: held.uploaderId, isApp: held.uploaderIsApp)
                try AccessPolicy.require(caller.kind != .guest && AccessPolicy.allows(caller, .provisionUsers))
                let initiator = Initiator(
                    caller: caller,
                    audit: AuditContext(
                        initiatedBy: caller.auditInitiator(ipAddress: held.ipAddress), correlationId: held.correlationId,
                        userAgent: held.userAgent),
                    logger: logger)
                let parties = ProvisioningLogEntry.Parties(
                    tenantId: services.tenantId, job: job, servicePrincipalName: principal.displayName, cycleId: held.cycleId,
                    initiator: initiator.audit.initiatedBy)
                entry = try await provision(held.data, current, parties, try provisioning.provisioner(for: caller), as: initiator)
            } catch let error as GraphError {
                let parties = ProvisioningLogEntry.Parties(
                    tenantId: services.tenantId, job: job, servicePrincipalName: principal.displayName, cycleId: held.cycleId,
                    initiator: AuditInitiator(
                        kind: held.uploaderIsApp ? .app(appId: nil) : .user(userPrincipalName: nil), id: held.uploaderId,
                        displayName: nil, ipAddress: held.ipAddress))
                let failure = ScimError(error)
                entry = ProvisioningLogEntry.make(
                    parties, at: Date(), action: .other, status: .failure,
                    error: (failure.scimType ?? "status\(failure.status)", "The uploader may no longer provision users: \(failure.detail)"),
                    source: InboundProvisioning.source(of: held.data, mapping: current), target: (nil, nil), changes: [], duration: 0)
            }
            try await store.finishHeldUpload(claim, log: entry)
            entries.append(entry)
        }
        return entries
    }

    /// One operation, and the log entry that records it.
    func provision(
        _ data: JSONValue, _ mapping: ProvisioningMapping, _ parties: ProvisioningLogEntry.Parties,
        _ provisioner: ProvisioningService.Provisioner, as initiator: Initiator
    ) async throws -> ProvisioningLogEntry {
        let started = Date()
        let source = InboundProvisioning.source(of: data, mapping: mapping)
        func entry(
            _ action: ProvisioningLogEntry.Action, _ status: ProvisioningLogEntry.Status, error: (code: String, reason: String)? = nil,
            target: DirectoryObject? = nil, changes: [ProvisioningLogEntry.Change] = []
        ) -> ProvisioningLogEntry {
            ProvisioningLogEntry.make(
                parties, at: started, action: action, status: status, error: error, source: source,
                target: (target?.id, target?.displayName), changes: changes,
                duration: Int(Date().timeIntervalSince(started) * 1000))
        }
        do {
            let identifier = mapping.matchingIdentifier
            guard let key = source.id, !key.isEmpty else {
                throw ScimError.invalidValue(
                    "'\(identifier.rawValue)' is required: it is the matching identifier (the user's \(identifier.property)).")
            }
            let (before, after) = try await provisioner.upsert(data, matching: key, mapping: mapping, as: initiator)
            let changes = InboundProvisioning.changes(
                from: before.map { ($0.object, $0.attributes) }, to: (after.object, after.attributes), schema: try await store.schema())
            let action: ProvisioningLogEntry.Action =
                if before == nil {
                    .create
                } else if before?.object.accountEnabled == true && !after.object.accountEnabled {
                    .disable
                } else {
                    changes.isEmpty ? .other : .update
                }
            return entry(action, changes.isEmpty && before != nil ? .skipped : .success, target: after.object, changes: changes)
        } catch {
            let failure = ProvisioningService.Provisioner.refusal(error, initiator, "bulkUpload operation")
            return entry(.other, .failure, error: (failure.scimType ?? "status\(failure.status)", failure.detail))
        }
    }

    // MARK: Provisioning logs

    /// One page of the provisioning logs, newest first; custom security attribute values in
    /// `modifiedProperties` are redacted unless the caller holds a provisioning role.
    public func logs(_ query: ProvisioningLogQuery, after cursor: Int64?, limit: Int, caller: Caller) async throws
        -> (entries: [JSONObject], next: Int64?)
    {
        try AccessPolicy.require(caller.kind != .guest && AccessPolicy.allows(caller, .readProvisioningLogs))
        let page = try await store.provisioningLog(query, after: cursor, limit: limit)
        let seesValues = AccessPolicy.allows(caller, .readProvisioning)
        return (page.entries.map { seesValues ? $0.document : $0.redactingAttributeValues }, page.next)
    }
}

extension ProvisioningService.Provisioner {
    /// API-driven inbound provisioning's POST: the user whose matching property (`mapping`'s
    /// identifier) equals `key` takes what `resource` maps (what it leaves out stays), or a new
    /// user is created from it. Returns the user before (nil when created) and after.
    func upsert(_ resource: JSONValue, matching key: String, mapping: ProvisioningMapping, as initiator: Initiator) async throws
        -> (before: ObjectState?, after: ObjectState)
    {
        try requireWrites()
        let schema = try await schema()
        let property = mapping.matchingIdentifier.property
        let (page, _) = try await services.store.query(
            .user, matching: .property(property, .equals(key)), after: nil, limit: 2, count: false, withAttributes: true)
        guard page.objects.count <= 1 else {
            throw ScimError(
                status: 409, scimType: "uniqueness",
                detail: "More than one user has \(property) '\(key)'; the matching identifier must name one user.")
        }
        let agentInitiator = Initiator(caller: agent, audit: initiator.audit, logger: initiator.logger)
        var before: ObjectState?
        let id: String
        if let object = page.objects.first {
            let current = ObjectState(object: object, attributes: page.attributes?[object.id] ?? AttributeAssignments())
            let body = try ScimUserMapping.graphBody(
                resource, current: (current.object, current.attributes), schema: schema, mode: .inbound, mapping: mapping)
            try await scimErrors { try await directory.update(.user, id: object.id, .object(body), as: agentInitiator) }
            (before, id) = (current, object.id)
        } else {
            let body = try ScimUserMapping.graphBody(resource, current: nil, schema: schema, mode: .inbound, mapping: mapping)
            id = try await scimErrors { try await directory.create(.user, .object(body), as: agentInitiator, passwordRequired: false) }.id
        }
        guard let after = try await services.store.objectState(.user, id: id) else { throw ScimError.notFound(id) }
        return (before, after)
    }
}
