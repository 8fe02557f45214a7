import Dispatch
import Foundation
import Metrics
import SigilCore

/// A store that times every operation of the store it wraps, as the swift-metrics timer
/// `sigil.store.duration` with the operation's name and whether it failed. The server wraps its
/// store in one, so `/metrics` shows store latency next to request latency.
public struct MeasuredStore: DirectoryStore {
    public static let timerLabel = "sigil.store.duration"
    let base: any DirectoryStore
    /// Timers by operation and outcome: made once, since making one goes through the backend.
    private let timers = Locked([String: Timer]())

    public init(_ base: any DirectoryStore) {
        self.base = base
    }

    private func measure<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let result = try await body()
            record(operation, outcome: "ok", since: start)
            return result
        } catch {
            record(operation, outcome: "error", since: start)
            throw error
        }
    }

    private func record(_ operation: String, outcome: String, since start: UInt64) {
        let timer = timers.withLock { timers in
            let key = operation + "/" + outcome
            if let timer = timers[key] { return timer }
            let timer = Timer(
                label: Self.timerLabel, dimensions: [("operation", operation), ("outcome", outcome)],
                preferredDisplayUnit: .seconds)
            timers[key] = timer
            return timer
        }
        timer.recordNanoseconds(Int64(clamping: DispatchTime.now().uptimeNanoseconds - start))
    }

    public func setting(_ key: String) async throws -> String? {
        try await measure("setting") { try await base.setting(key) }
    }

    public func settingIfAbsent(_ key: String, _ value: String) async throws -> String {
        try await measure("settingIfAbsent") { try await base.settingIfAbsent(key, value) }
    }

    public func updateSetting(_ key: String, _ change: @escaping @Sendable (String?) throws -> String) async throws -> String {
        try await measure("updateSetting") { try await base.updateSetting(key, change) }
    }

    public func accessVersion() async throws -> Int64 {
        try await measure("accessVersion") { try await base.accessVersion() }
    }

    public func keepFilterStructures() async throws {
        try await base.keepFilterStructures()
    }

    public func prepareFilterStructures() async throws {
        try await base.prepareFilterStructures()
    }

    public func exclusively<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        // Not timed: the body's own store calls are, and the wait is for other instances.
        try await base.exclusively(body)
    }

    public func sharingWrites<T: Sendable>(_ body: @Sendable (WriteBatch) async throws -> T) async throws -> T {
        // Not timed as a whole: the writes inside are.
        try await base.sharingWrites(body)
    }

    public func schema() async throws -> Schema {
        try await measure("schema") { try await base.schema() }
    }

    public func changeSchema(audit: AuditContext?, _ decide: @escaping @Sendable (Schema) throws -> [SchemaChange]) async throws {
        try await measure("changeSchema") { try await base.changeSchema(audit: audit, decide) }
    }

    public func create(
        _ object: DirectoryObject, passwordHash: String?, audit: AuditContext?,
        attributes: @escaping @Sendable (Schema) throws -> AttributeAssignments
    ) async throws {
        try await measure("create") {
            try await base.create(object, passwordHash: passwordHash, audit: audit, attributes: attributes)
        }
    }

    public func createAll(_ objects: [NewObject]) async throws {
        try await measure("createAll") { try await base.createAll(objects) }
    }

    public func object(_ kind: DirectoryObjectKind, id: String) async throws -> DirectoryObject? {
        try await measure("object") { try await base.object(kind, id: id) }
    }

    public func objectState(_ kind: DirectoryObjectKind, id: String) async throws -> ObjectState? {
        try await measure("objectState") { try await base.objectState(kind, id: id) }
    }

    public func objects(_ kind: DirectoryObjectKind, after cursor: Int64?, limit: Int) async throws -> DirectoryPage {
        try await measure("objects") { try await base.objects(kind, after: cursor, limit: limit) }
    }

    public func count(_ kind: DirectoryObjectKind) async throws -> Int {
        try await measure("count") { try await base.count(kind) }
    }

    public func heldTexts(_ kind: DirectoryObjectKind, of definition: AttributeDefinition, limit: Int) async throws -> [String]? {
        try await measure("heldTexts") { try await base.heldTexts(kind, of: definition, limit: limit) }
    }

    public func query(
        _ kind: DirectoryObjectKind, matching predicate: ObjectPredicate?, reader: String?, order: ObjectOrder?,
        after cursor: Int64?, afterSortKey: String?, limit: Int, count: Bool, withAttributes: Bool
    ) async throws -> (page: DirectoryPage, count: Int?) {
        try await measure("query") {
            try await base.query(
                kind, matching: predicate, reader: reader, order: order, after: cursor, afterSortKey: afterSortKey,
                limit: limit, count: count, withAttributes: withAttributes)
        }
    }

    public func modify(
        _ kind: DirectoryObjectKind, id: String, passwordHash: String?, audit: AuditContext?,
        _ change: @escaping @Sendable (ObjectState, Schema) throws -> ObjectState
    ) async throws {
        try await measure("modify") { try await base.modify(kind, id: id, passwordHash: passwordHash, audit: audit, change) }
    }

    public func attributes(of objectIds: [String]) async throws -> [String: AttributeAssignments] {
        try await measure("attributes") { try await base.attributes(of: objectIds) }
    }

    public func delete(_ kind: DirectoryObjectKind, id: String) async throws -> Bool {
        try await measure("delete") { try await base.delete(kind, id: id) }
    }

    public func servicePrincipal(appId: String) async throws -> DirectoryObject? {
        try await measure("servicePrincipal") { try await base.servicePrincipal(appId: appId) }
    }

    public func application(appId: String) async throws -> DirectoryObject? {
        try await measure("application") { try await base.application(appId: appId) }
    }

    public func userCredentials(userPrincipalName: String) async throws -> (user: DirectoryObject, passwordHash: String?)? {
        try await measure("userCredentials") { try await base.userCredentials(userPrincipalName: userPrincipalName) }
    }

    public func passwordCredentials(applicationId: String) async throws -> [PasswordCredential] {
        try await measure("passwordCredentials") { try await base.passwordCredentials(applicationId: applicationId) }
    }

    public func addPasswordCredential(_ credential: PasswordCredential, applicationId: String) async throws {
        try await measure("addPasswordCredential") {
            try await base.addPasswordCredential(credential, applicationId: applicationId)
        }
    }

    public func removePasswordCredential(keyId: String, applicationId: String) async throws -> Bool {
        try await measure("removePasswordCredential") {
            try await base.removePasswordCredential(keyId: keyId, applicationId: applicationId)
        }
    }

    public func create(_ assignment: RoleAssignment) async throws {
        try await measure("createRoleAssignment") { try await base.create(assignment) }
    }

    public func roleAssignments(principalId: String?) async throws -> [RoleAssignment] {
        try await measure("roleAssignments") { try await base.roleAssignments(principalId: principalId) }
    }

    public func roleAssignment(id: String) async throws -> RoleAssignment? {
        try await measure("roleAssignment") { try await base.roleAssignment(id: id) }
    }

    public func deleteRoleAssignment(id: String) async throws -> Bool {
        try await measure("deleteRoleAssignment") { try await base.deleteRoleAssignment(id: id) }
    }

    public func appendAudit(_ records: [AuditRecord]) async throws {
        try await measure("appendAudit") { try await base.appendAudit(records) }
    }

    public func auditRecords(_ query: AuditQuery, after cursor: Int64?, limit: Int) async throws -> AuditPage {
        try await measure("auditRecords") { try await base.auditRecords(query, after: cursor, limit: limit) }
    }

    public func auditRecord(id: String) async throws -> StoredAuditRecord? {
        try await measure("auditRecord") { try await base.auditRecord(id: id) }
    }

    public func auditChain(after seq: Int64, limit: Int) async throws -> [StoredAuditRecord] {
        try await measure("auditChain") { try await base.auditChain(after: seq, limit: limit) }
    }

    public func auditEnds() async throws -> AuditChainEnds {
        try await measure("auditEnds") { try await base.auditEnds() }
    }

    public func pruneAudit(before timestamp: String) async throws -> Int {
        try await measure("pruneAudit") { try await base.pruneAudit(before: timestamp) }
    }

    public func sealAudit() async throws {
        try await measure("sealAudit") { try await base.sealAudit() }
    }

    public func latestChange() async throws -> Int64 {
        try await measure("latestChange") { try await base.latestChange() }
    }

    public func changes(_ query: ChangeQuery) async throws -> [DirectoryChange] {
        try await measure("changes") { try await base.changes(query) }
    }

    public func createSubscription(_ subscription: Subscription) async throws -> SubscriptionRecord {
        try await measure("createSubscription") { try await base.createSubscription(subscription) }
    }

    public func subscriptions(creatorId: String?) async throws -> [SubscriptionRecord] {
        try await measure("subscriptions") { try await base.subscriptions(creatorId: creatorId) }
    }

    public func subscription(id: String) async throws -> SubscriptionRecord? {
        try await measure("subscription") { try await base.subscription(id: id) }
    }

    public func updateSubscription(id: String, expiration: Date, notificationUrl: String, resume: Bool) async throws -> Bool {
        try await measure("updateSubscription") {
            try await base.updateSubscription(id: id, expiration: expiration, notificationUrl: notificationUrl, resume: resume)
        }
    }

    public func deleteSubscription(id: String) async throws -> Bool {
        try await measure("deleteSubscription") { try await base.deleteSubscription(id: id) }
    }

    public func claimSubscriptions(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws -> [SubscriptionRecord] {
        try await measure("claimSubscriptions") {
            try await base.claimSubscriptions(owner: owner, now: now, lease: lease, limit: limit)
        }
    }

    public func finishDelivery(id: String, owner: String, _ delivery: DeliveryState) async throws -> Bool {
        try await measure("finishDelivery") { try await base.finishDelivery(id: id, owner: owner, delivery) }
    }

    public func conditionalAccessPolicies() async throws -> [ConditionalAccessPolicy] {
        try await measure("conditionalAccessPolicies") { try await base.conditionalAccessPolicies() }
    }

    public func changeConditionalAccessPolicy(
        id: String,
        _ decide: @escaping @Sendable (ConditionalAccessPolicy?, Schema) throws -> (ConditionalAccessPolicy?, [AuditRecord])
    ) async throws -> ConditionalAccessPolicy? {
        try await measure("changeConditionalAccessPolicy") { try await base.changeConditionalAccessPolicy(id: id, decide) }
    }

    public func synchronizationJobs(servicePrincipalId: String) async throws -> [SynchronizationJob] {
        try await measure("synchronizationJobs") { try await base.synchronizationJobs(servicePrincipalId: servicePrincipalId) }
    }

    public func synchronizationJob(id: String) async throws -> SynchronizationJob? {
        try await measure("synchronizationJob") { try await base.synchronizationJob(id: id) }
    }

    public func saveSynchronizationJob(_ job: SynchronizationJob) async throws {
        try await measure("saveSynchronizationJob") { try await base.saveSynchronizationJob(job) }
    }

    public func deleteSynchronizationJob(id: String) async throws -> Bool {
        try await measure("deleteSynchronizationJob") { try await base.deleteSynchronizationJob(id: id) }
    }

    public func holdUploads(_ operations: [HeldUploadOperation], jobId: String) async throws -> Bool {
        try await measure("holdUploads") { try await base.holdUploads(operations, jobId: jobId) }
    }

    public func claimHeldUpload(jobId: String, sourceKey: String?, now: Date, until: Date) async throws -> HeldUploadClaim? {
        try await measure("claimHeldUpload") { try await base.claimHeldUpload(jobId: jobId, sourceKey: sourceKey, now: now, until: until) }
    }

    public func finishHeldUpload(_ claim: HeldUploadClaim, log entry: ProvisioningLogEntry) async throws {
        try await measure("finishHeldUpload") { try await base.finishHeldUpload(claim, log: entry) }
    }

    public func discardHeldUploads(jobId: String) async throws -> Int {
        try await measure("discardHeldUploads") { try await base.discardHeldUploads(jobId: jobId) }
    }

    public func appendProvisioningLog(_ entries: [ProvisioningLogEntry]) async throws {
        try await measure("appendProvisioningLog") { try await base.appendProvisioningLog(entries) }
    }

    public func provisioningLog(_ query: ProvisioningLogQuery, after cursor: Int64?, limit: Int) async throws -> ProvisioningLogPage {
        try await measure("provisioningLog") { try await base.provisioningLog(query, after: cursor, limit: limit) }
    }

    public func provisioningMapping() async throws -> ProvisioningMapping {
        try await measure("provisioningMapping") { try await base.provisioningMapping() }
    }

    public func changeProvisioningMapping(
        _ decide: @escaping @Sendable (ProvisioningMapping, Schema) throws -> (ProvisioningMapping, [AuditRecord])
    ) async throws -> ProvisioningMapping {
        try await measure("changeProvisioningMapping") { try await base.changeProvisioningMapping(decide) }
    }

    public func accessRules() async throws -> [AccessRule] {
        try await measure("accessRules") { try await base.accessRules() }
    }

    public func changeAccessRule(
        id: String, _ decide: @escaping @Sendable (AccessRule?, Schema) throws -> (AccessRule?, [AuditRecord])
    ) async throws -> AccessRule? {
        try await measure("changeAccessRule") { try await base.changeAccessRule(id: id, decide) }
    }
}
