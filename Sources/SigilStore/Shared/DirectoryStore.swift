import Foundation
import SigilCore

/// Everything Sigil persists, behind one protocol that SQLite and PostgreSQL both implement.
///
/// Rules that depend on the current state (limits, uniqueness) are decided by SigilCore against
/// a snapshot that the store reads inside the same write transaction, so concurrent writers
/// cannot both pass a check that only one of them may pass.
public protocol DirectoryStore: Sendable {
    // MARK: Tenant settings

    func setting(_ key: String) async throws -> String?
    /// Stores `value` unless the key already has one; returns the value that is now stored.
    func settingIfAbsent(_ key: String, _ value: String) async throws -> String
    /// Replaces a setting with what `change` makes of its current value (nil when unset), read
    /// and written in one transaction, so concurrent changes (two key rotations) serialise.
    /// Returns the value stored.
    func updateSetting(_ key: String, _ change: @escaping @Sendable (String?) throws -> String) async throws -> String

    /// A number that grows with every change to role assignments or to principals (created
    /// users excepted): callers cached against an older number are stale. PostgreSQL keeps it in
    /// the database, so a change through one instance reaches every instance's cache.
    func accessVersion() async throws -> Int64

    /// Runs `body` while no other instance on the same database runs its own `exclusively`
    /// body: first-start work (bootstrap, demo data) that must happen once.
    func exclusively<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T

    /// Saves what the store keeps in memory to answer filters quickly, so that the next start
    /// has it at once; called when the server stops. A store that keeps nothing does nothing.
    func keepFilterStructures() async throws

    /// Builds what answers broad filter terms before any query asks for it, when nothing was kept
    /// from the last start (after a bulk load or a crash). A store that keeps nothing does nothing.
    func prepareFilterStructures() async throws

    /// Runs `body` (the requests of one JSON batch, one at a time) with its writes sharing
    /// transactions: each write this task makes inside `body` runs in a savepoint of its own (a
    /// failed write rolls back to it and nothing else), its reads see the writes before them, and
    /// the transaction commits when `body` ends, or earlier when `body` stops using the store for
    /// a moment (slow work such as hashing a password must not hold other writers back). When
    /// `body` throws, the open transaction is rolled back. Afterwards `WriteBatch.failedUnits`
    /// names the requests whose work did not commit. A store may instead commit each write on its
    /// own, as outside a batch (PostgreSQL does).
    func sharingWrites<T: Sendable>(_ body: @Sendable (WriteBatch) async throws -> T) async throws -> T

    // MARK: Attribute schema

    func schema() async throws -> Schema
    /// Reads the schema, lets `decide` turn it into changes, and persists them atomically, with
    /// their audit records when `audit` says who is acting.
    func changeSchema(audit: AuditContext?, _ decide: @escaping @Sendable (Schema) throws -> [SchemaChange]) async throws

    // MARK: Directory objects

    /// Inserts a new object with the attribute values `attributes` decides against the schema
    /// read in the same transaction. A clash on userPrincipalName or appId throws
    /// `GraphError.conflictingObject`. With `audit`, values given at creation are recorded in the
    /// same transaction.
    func create(
        _ object: DirectoryObject, passwordHash: String?, audit: AuditContext?,
        attributes: @escaping @Sendable (Schema) throws -> AttributeAssignments
    ) async throws
    /// Inserts many objects with their (already validated) attribute values in one transaction:
    /// bulk import. Any clash fails the whole batch.
    func createAll(_ objects: [NewObject]) async throws
    /// Users are found by id or userPrincipalName (case-insensitively), others by id.
    func object(_ kind: DirectoryObjectKind, id: String) async throws -> DirectoryObject?
    /// An object with its attribute values, read together (one transaction).
    func objectState(_ kind: DirectoryObjectKind, id: String) async throws -> ObjectState?
    /// A page of objects in a stable order, starting after `cursor` (from `DirectoryPage.next`).
    func objects(_ kind: DirectoryObjectKind, after cursor: Int64?, limit: Int) async throws -> DirectoryPage
    func count(_ kind: DirectoryObjectKind) async throws -> Int
    /// The distinct texts objects of `kind` hold for the String attribute `definition` (a
    /// collection's each value), read from the maintained per-value counts; nil when there are
    /// more than `limit`. A question that compares without regard to case asks the store for the
    /// stored spellings that match, rather than for every spelling there could be.
    func heldTexts(_ kind: DirectoryObjectKind, of definition: AttributeDefinition, limit: Int) async throws -> [String]?
    /// A page of the objects of `kind` that match `predicate` (all when nil), in the same stable
    /// order as `objects`, and with `count` the exact number of matches.
    /// With `withAttributes` the page carries the objects' attribute values, read in the same
    /// transaction.
    /// With an `order`, pages continue after (`afterSortKey`, `cursor`), as given by the previous
    /// page's `nextSortKey` and `next`.
    /// With a `reader` (the caller's principal id), attribute terms judge the reader's own object
    /// as holding no values, as `ObjectPredicate.asSeen(by:holding:)` says: a filter never matches
    /// on a value its caller could not read.
    func query(
        _ kind: DirectoryObjectKind, matching predicate: ObjectPredicate?, reader: String?, order: ObjectOrder?,
        after cursor: Int64?, afterSortKey: String?, limit: Int, count: Bool, withAttributes: Bool
    ) async throws -> (page: DirectoryPage, count: Int?)
    /// Reads an object, its attribute values and the schema in one write transaction, lets
    /// `change` decide the new object and values, and writes them; all or nothing. A new
    /// `passwordHash` (users) is stored too. Throws `GraphError.notFound` for a missing object.
    /// With `audit`, a change of attribute values is recorded in the same transaction.
    func modify(
        _ kind: DirectoryObjectKind, id: String, passwordHash: String?, audit: AuditContext?,
        _ change: @escaping @Sendable (ObjectState, Schema) throws -> ObjectState
    ) async throws
    /// Custom security attribute values of objects, keyed by object id (objects without values
    /// are absent).
    func attributes(of objectIds: [String]) async throws -> [String: AttributeAssignments]
    /// Deletes the object with its credentials and role assignments; an application takes its
    /// service principal with it. Returns false when there was no such object.
    func delete(_ kind: DirectoryObjectKind, id: String) async throws -> Bool
    func servicePrincipal(appId: String) async throws -> DirectoryObject?
    func application(appId: String) async throws -> DirectoryObject?
    /// A user and its password hash, for the password grant.
    func userCredentials(userPrincipalName: String) async throws -> (user: DirectoryObject, passwordHash: String?)?

    // MARK: Application secrets

    func passwordCredentials(applicationId: String) async throws -> [PasswordCredential]
    /// Adds a secret; throws a GraphError when the application already holds the maximum.
    func addPasswordCredential(_ credential: PasswordCredential, applicationId: String) async throws
    func removePasswordCredential(keyId: String, applicationId: String) async throws -> Bool

    // MARK: Role assignments

    /// Inserts an assignment. An identical one (principal, role, scope) throws a GraphError.
    func create(_ assignment: RoleAssignment) async throws
    func roleAssignments(principalId: String?) async throws -> [RoleAssignment]
    func roleAssignment(id: String) async throws -> RoleAssignment?
    func deleteRoleAssignment(id: String) async throws -> Bool

    // MARK: Change log

    /// The sequence number of the last committed change to a user or service principal (0
    /// before any): every change up to it is committed and readable.
    func latestChange() async throws -> Int64
    /// Logged changes matching `query`, in sequence (commit) order.
    func changes(_ query: ChangeQuery) async throws -> [DirectoryChange]

    // MARK: Change-notification subscriptions

    /// Stores a new subscription whose delivery starts after the last change committed now.
    func createSubscription(_ subscription: Subscription) async throws -> SubscriptionRecord
    /// Subscriptions created by `creatorId` (all when nil), oldest first.
    func subscriptions(creatorId: String?) async throws -> [SubscriptionRecord]
    func subscription(id: String) async throws -> SubscriptionRecord?
    /// Renews (and resumes a paused) subscription; false when there is none.
    func updateSubscription(id: String, expiration: Date, notificationUrl: String, resume: Bool) async throws -> Bool
    func deleteSubscription(id: String) async throws -> Bool
    /// Leases up to `limit` subscriptions due for delivery (`nextAttempt` passed, not leased by
    /// another live owner) to `owner` until `now + lease`: instances sharing a database never
    /// deliver to one subscription at once, so each keeps its order.
    func claimSubscriptions(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws -> [SubscriptionRecord]
    /// Stores a leased subscription's delivery state and releases the lease; false (nothing
    /// written) when `owner` no longer holds it.
    func finishDelivery(id: String, owner: String, _ delivery: DeliveryState) async throws -> Bool

    // MARK: Conditional Access policies

    /// Every policy, oldest first. Read from the database on each call (no cache), so a change
    /// through any instance holds for the next token request everywhere.
    func conditionalAccessPolicies() async throws -> [ConditionalAccessPolicy]
    /// Reads the policy `id` (nil when there is none) and the schema in one write transaction,
    /// lets `decide` say what it becomes (nil deletes it), and writes that, with the audit
    /// records `decide` returns, all or nothing. Returns what was written.
    func changeConditionalAccessPolicy(
        id: String,
        _ decide: @escaping @Sendable (ConditionalAccessPolicy?, Schema) throws -> (ConditionalAccessPolicy?, [AuditRecord])
    ) async throws -> ConditionalAccessPolicy?

    // MARK: Access rules

    /// Every access rule, oldest first. A store may cache them, but a change through any instance
    /// holds for the next call everywhere (PostgreSQL compares a version the change bumps).
    func accessRules() async throws -> [AccessRule]
    /// Reads the rule `id` (nil when there is none) and the schema in one write transaction, lets
    /// `decide` say what it becomes (nil deletes it), and writes that with the audit records
    /// `decide` returns, all or nothing. Returns what was written.
    func changeAccessRule(
        id: String, _ decide: @escaping @Sendable (AccessRule?, Schema) throws -> (AccessRule?, [AuditRecord])
    ) async throws -> AccessRule?

    // MARK: Inbound provisioning

    /// The synchronization jobs of one service principal, oldest first.
    func synchronizationJobs(servicePrincipalId: String) async throws -> [SynchronizationJob]
    /// The job `id` (compared case-insensitively); nil when there is none.
    func synchronizationJob(id: String) async throws -> SynchronizationJob?
    /// Inserts the job, or replaces the one with its id.
    func saveSynchronizationJob(_ job: SynchronizationJob) async throws
    /// Deletes the job `id` and the uploads it holds; false when there was none. Its provisioning
    /// log entries stay.
    func deleteSynchronizationJob(id: String) async throws -> Bool
    /// Holds bulkUpload operations for the job `jobId` while it is paused: appended after those
    /// it holds already, all or none, in a transaction that reads the job, so a job started
    /// meanwhile is never left holding them. False, and nothing held, when the job is not paused
    /// (or does not exist).
    func holdUploads(_ operations: [HeldUploadOperation], jobId: String) async throws -> Bool
    /// Claims the job's oldest held operation that no live claim holds (of those whose source key
    /// is `sourceKey`, lower-cased, when given) until `until`, a claim being live while its
    /// `until` is later than `now`; nil when there is none. Two callers never hold a live claim on
    /// the same operation. The operation stays held until `finishHeldUpload`.
    func claimHeldUpload(jobId: String, sourceKey: String?, now: Date, until: Date) async throws -> HeldUploadClaim?
    /// Removes the claimed operation (when a discard has not already) and appends `entry`, the
    /// log entry of its processing, to the provisioning logs, in one transaction.
    func finishHeldUpload(_ claim: HeldUploadClaim, log entry: ProvisioningLogEntry) async throws
    /// Removes every operation the job holds; returns how many there were.
    func discardHeldUploads(jobId: String) async throws -> Int
    /// Appends entries to the provisioning logs, in a transaction of their own.
    func appendProvisioningLog(_ entries: [ProvisioningLogEntry]) async throws
    /// A page of provisioning log entries matching `query`, newest first, continuing after the
    /// sequence number `cursor` (from `ProvisioningLogPage.next`).
    func provisioningLog(_ query: ProvisioningLogQuery, after cursor: Int64?, limit: Int) async throws -> ProvisioningLogPage
    /// The tenant's provisioning mapping (`ProvisioningMapping.default` when none was saved),
    /// read from the database on each call, so every instance uploads with the same one.
    func provisioningMapping() async throws -> ProvisioningMapping
    /// Reads the mapping and the schema in one write transaction, lets `decide` say what the
    /// mapping becomes, and writes that with the audit records `decide` returns, all or nothing.
    func changeProvisioningMapping(
        _ decide: @escaping @Sendable (ProvisioningMapping, Schema) throws -> (ProvisioningMapping, [AuditRecord])
    ) async throws -> ProvisioningMapping

    // MARK: Audit log

    /// Appends records in a transaction of their own (refused attempts, which change nothing).
    func appendAudit(_ records: [AuditRecord]) async throws
    /// A page of records matching `query` in its order, continuing after the sequence number
    /// `cursor` (from `AuditPage.next`).
    func auditRecords(_ query: AuditQuery, after cursor: Int64?, limit: Int) async throws -> AuditPage
    func auditRecord(id: String) async throws -> StoredAuditRecord?
    /// Records in chain order from sequence number `after` on, with their hashes: for verify.
    func auditChain(after seq: Int64, limit: Int) async throws -> [StoredAuditRecord]
    /// Where the chain starts (after pruning) and where it ends now.
    func auditEnds() async throws -> AuditChainEnds
    /// Deletes the oldest records, those before `timestamp` (an `AuditRecord.timestamp`), and
    /// keeps the last deleted record's hash as the chain's new anchor. Returns how many went.
    func pruneAudit(before timestamp: String) async throws -> Int
    /// Links committed records that are not in the hash chain yet (a store that links them in
    /// the writing transaction has none).
    func sealAudit() async throws
}

/// One page of directory objects and where the next begins.
public struct DirectoryPage: Sendable {
    public let objects: [DirectoryObject]
    /// Cursor for the following page; nil on the last page.
    public let next: Int64?
    /// Attribute values by object id, when they were asked for (objects without values absent).
    public let attributes: [String: AttributeAssignments]?
    /// With an order: the sort key of the last object, which the next page continues after.
    public let nextSortKey: String?

    public init(
        objects: [DirectoryObject], next: Int64?, attributes: [String: AttributeAssignments]? = nil, nextSortKey: String? = nil
    ) {
        self.objects = objects
        self.next = next
        self.attributes = attributes
        self.nextSortKey = nextSortKey
    }
}

/// An object with its custom security attribute values.
public struct ObjectState: Sendable, Equatable {
    public var object: DirectoryObject
    public var attributes: AttributeAssignments

    public init(object: DirectoryObject, attributes: AttributeAssignments) {
        self.object = object
        self.attributes = attributes
    }
}

extension DirectoryStore {
    public func keepFilterStructures() async throws {}

    public func prepareFilterStructures() async throws {}

    /// One process per database (SQLite): nothing to wait for.
    public func exclusively<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await body()
    }

    public func query(
        _ kind: DirectoryObjectKind, matching predicate: ObjectPredicate?, reader: String? = nil, after cursor: Int64?,
        limit: Int, count: Bool, withAttributes: Bool = false
    ) async throws -> (page: DirectoryPage, count: Int?) {
        try await query(
            kind, matching: predicate, reader: reader, order: nil, after: cursor, afterSortKey: nil, limit: limit,
            count: count, withAttributes: withAttributes)
    }

    /// Inserts an object without attribute values.
    public func create(_ object: DirectoryObject, passwordHash: String?) async throws {
        try await create(object, passwordHash: passwordHash, audit: nil) { _ in AttributeAssignments() }
    }

    public func sealAudit() async throws {}

    /// Each write commits on its own, exactly as outside a batch.
    public func sharingWrites<T: Sendable>(_ body: @Sendable (WriteBatch) async throws -> T) async throws -> T {
        try await body(WriteBatch())
    }

    /// Unaudited writes: start-up data and tests of the store itself.
    public func changeSchema(_ decide: @escaping @Sendable (Schema) throws -> [SchemaChange]) async throws {
        try await changeSchema(audit: nil, decide)
    }

    public func create(
        _ object: DirectoryObject, passwordHash: String?,
        attributes: @escaping @Sendable (Schema) throws -> AttributeAssignments
    ) async throws {
        try await create(object, passwordHash: passwordHash, audit: nil, attributes: attributes)
    }

    public func modify(
        _ kind: DirectoryObjectKind, id: String, passwordHash: String?,
        _ change: @escaping @Sendable (ObjectState, Schema) throws -> ObjectState
    ) async throws {
        try await modify(kind, id: id, passwordHash: passwordHash, audit: nil, change)
    }
}

/// An object to insert in bulk, with its validated attribute values.
public struct NewObject: Sendable {
    public var object: DirectoryObject
    public var passwordHash: String?
    public var attributes: AttributeAssignments

    public init(object: DirectoryObject, passwordHash: String? = nil, attributes: AttributeAssignments = AttributeAssignments()) {
        self.object = object
        self.passwordHash = passwordHash
        self.attributes = attributes
    }
}

/// A store's own state is not what it should be (a hand-edited database, say).
public enum StoreError: Error, CustomStringConvertible {
    case corrupt(String)

    public var description: String {
        switch self {
        case .corrupt(let detail): "the database is damaged: \(detail)"
        }
    }
}
