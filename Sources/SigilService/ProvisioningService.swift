import Foundation
import SigilCore
import SigilStore

/// Provisioning from HR systems through SCIM 2.0 (`/scim/v2`): users and their custom security
/// attribute values, as a provisioning application holding Attribute Provisioning Administrator
/// (writes) or Reader (reads) sees them.
///
/// Access is decided once per operation here: the caller's provisioning role. The write itself
/// then runs through `DirectoryService` as the provisioning agent, a caller with the caller's
/// identity (so the audit log names the provisioning application as initiator) and the rights the
/// provisioning role stands for, so the values are validated exactly as a Graph PATCH validates
/// them: types, predefined values, limits, deactivated attributes, no principal writing its own.
public struct ProvisioningService: Sendable {
    let services: SigilServices
    let directory: DirectoryService

    public init(services: SigilServices) {
        self.services = services
        self.directory = DirectoryService(services: services)
    }

    /// The handle every SCIM operation goes through; only provisioning roles get one.
    public func provisioner(for caller: Caller) throws(GraphError) -> Provisioner {
        try AccessPolicy.require(caller.kind != .guest && AccessPolicy.allows(caller, .readProvisioning))
        return Provisioner(services: services, directory: directory, caller: caller)
    }

    public struct Provisioner: Sendable {
        let services: SigilServices
        let directory: DirectoryService
        public let caller: Caller

        /// The provisioning agent: the caller's identity with the rights a provisioning write needs
        /// (reads only for a Reader, so a Reader's agent can never write).
        var agent: Caller {
            let writes = AccessPolicy.allows(caller, .provisionUsers)
            let grants: [RoleGrant] =
                writes
                ? [RoleGrant(role: .userAdministrator, scope: .tenant), RoleGrant(role: .attributeAssignmentAdministrator, scope: .tenant)]
                : [RoleGrant(role: .attributeAssignmentReader, scope: .tenant)]
            return Caller(
                principalId: caller.principalId, kind: caller.kind, grants: grants, displayName: caller.displayName,
                signInName: caller.signInName)
        }

        func requireWrites() throws(ScimError) {
            guard AccessPolicy.allows(caller, .provisionUsers) else { throw ScimError(GraphError.forbidden) }
        }

        public func schema() async throws -> Schema { try await services.store.schema() }

        /// A user as a SCIM resource; `location` builds its URL from its id.
        public func user(_ id: String, location: (String) -> String) async throws -> JSONObject {
            guard let state = try await services.store.objectState(.user, id: id), state.object.id.lowercased() == id.lowercased()
            else { throw ScimError.notFound(id) }
            return try await render(state.object, state.attributes, location: location)
        }

        func render(_ object: DirectoryObject, _ attributes: AttributeAssignments, location: (String) -> String) async throws
            -> JSONObject
        {
            let schema = try await services.store.schema()
            let visible = AssignmentRules.visible(attributes, objectId: object.id, schema: schema, caller: agent)
            return ScimUserMapping.resource(object, visible: visible, location: location(object.id))
        }

        /// One page of users matching `filter`: `startIndex` is 1-based, `count` at most
        /// `ScimLimits.maxResults`. Attribute terms run in the store's query engine.
        public func list(filter: ScimFilter?, startIndex: Int, count: Int, location: (String) -> String) async throws
            -> (total: Int, resources: [JSONObject])
        {
            let schema = try await services.store.schema()
            let predicate = try filter?.predicate(schema: schema)
            var skip = max(startIndex, 1) - 1
            var cursor: Int64?
            var total: Int?
            var resources: [JSONObject] = []
            // The store pages by cursor; earlier pages are read through to reach startIndex.
            repeat {
                let wanted = min(Limits.maxPageSize, skip + count - resources.count)
                let (page, matched) = try await services.store.query(
                    .user, matching: predicate, reader: caller.principalId, order: nil, after: cursor, afterSortKey: nil,
                    limit: max(wanted, 1), count: total == nil, withAttributes: true)
                if total == nil { total = matched }
                for object in page.objects {
                    if skip > 0 {
                        skip -= 1
                        continue
                    }
                    guard resources.count < count else { break }
                    resources.append(try await render(object, page.attributes?[object.id] ?? AttributeAssignments(), location: location))
                }
                cursor = page.next
            } while cursor != nil && resources.count < count
            return (total ?? resources.count, resources)
        }

        /// Creates a user from a SCIM resource.
        public func create(_ resource: JSONValue, as initiator: Initiator, location: (String) -> String) async throws -> JSONObject {
            try requireWrites()
            let body = try ScimUserMapping.graphBody(resource, current: nil, schema: try await schema())
            let object = try await scimErrors {
                try await directory.create(
                    .user, .object(body), as: Initiator(caller: agent, audit: initiator.audit, logger: initiator.logger),
                    passwordRequired: false)
            }
            return try await user(object.id, location: location)
        }

        /// Replaces a user with `resource` (PUT); `ifMatch` is the version the client last read.
        public func replace(_ id: String, with resource: JSONValue, ifMatch: String?, as initiator: Initiator, location: (String) -> String)
            async throws -> JSONObject
        {
            try requireWrites()
            return try await write(id, ifMatch: ifMatch, as: initiator, location: location) { _ in resource }
        }

        /// Applies a PatchOp to a user: the operations run on the resource as it stands, and the
        /// result is written like a replace.
        public func patch(_ id: String, _ body: JSONValue, ifMatch: String?, as initiator: Initiator, location: (String) -> String)
            async throws -> JSONObject
        {
            try requireWrites()
            return try await write(id, ifMatch: ifMatch, as: initiator, location: location) { current in
                .object(try ScimPatch.apply(body, to: current))
            }
        }

        func write(
            _ id: String, ifMatch: String?, as initiator: Initiator, location: (String) -> String,
            _ next: (JSONObject) throws -> JSONValue
        ) async throws -> JSONObject {
            guard let state = try await services.store.objectState(.user, id: id), state.object.id.lowercased() == id.lowercased()
            else { throw ScimError.notFound(id) }
            let current = try await render(state.object, state.attributes, location: location)
            try Self.check(ifMatch, current)
            let body = try ScimUserMapping.graphBody(
                try next(current), current: (state.object, state.attributes), schema: try await schema())
            try await scimErrors {
                try await directory.update(
                    .user, id: state.object.id, .object(body), as: Initiator(caller: agent, audit: initiator.audit, logger: initiator.logger))
            }
            return try await user(state.object.id, location: location)
        }

        public func delete(_ id: String, ifMatch: String?, location: (String) -> String) async throws {
            try requireWrites()
            let current = try await user(id, location: location)
            try Self.check(ifMatch, current)
            try await scimErrors { try await directory.delete(.user, id: id, caller: agent) }
        }

        // MARK: Bulk

        /// Runs a BulkRequest (RFC 7644 section 3.7): each operation all or nothing on its own,
        /// `bulkId:` references resolved by running the operation that defines them first (a
        /// cycle fails every operation in it), processing stopped after `failOnErrors` failures.
        /// More than `maxOperations` operations is refused whole, before anything is written.
        ///
        /// The operations share the store's write transactions (`SigilServices.sharingWrites`, a
        /// savepoint each, as a Graph `$batch` does): one commit per `operationsPerCommit`
        /// operations instead of one per operation. The answer is built after the commit; an operation whose work went into
        /// a transaction that did not commit answers 500, so nothing is reported done that is not.
        public func bulk(
            _ body: JSONValue, as initiator: Initiator, location: @escaping @Sendable (String) -> String,
            operationsPerCommit: Int = Self.operationsPerCommit
        ) async throws -> JSONObject {
            try requireWrites()
            let request = try ScimBulkRequest(body)
            var run = BulkRun(request: request)
            var failed: Set<Int> = []
            var next = request.operations.startIndex
            while next < request.operations.endIndex, !run.stopped {
                let chunk = next..<min(next + max(operationsPerCommit, 1), request.operations.endIndex)
                next = chunk.upperBound
                let (chunkRun, batch) = try await services.sharingWrites { [run] batch in
                    var run = run
                    for index in chunk where !run.stopped {
                        try await perform(index, &run, batch: batch, as: initiator, location: location)
                    }
                    return (run, batch)
                }
                run = chunkRun
                if !batch.failedUnits.isEmpty {
                    failed.formUnion(batch.failedUnits)
                    initiator.logger.error(
                        "a SCIM Bulk's shared transaction did not commit",
                        metadata: ["error": "\(batch.failure.map { "\($0)" } ?? "unknown")", "operations": "\(batch.failedUnits.count)"])
                }
            }
            let results = run.results.map { index, result in
                failed.contains(index) ? Self.uncommitted(run.request.operations[index]) : result
            }
            return JSONObject([("schemas", [.string(ScimURN.bulkResponse)]), ("Operations", .array(results.map { .object($0) }))])
        }

        /// Operations per shared transaction: one commit per operation was most of a Bulk's time,
        /// and one for a whole Bulk of 1,000 would hold every other writer back for its length.
        public static let operationsPerCommit = 100

        struct BulkRun: Sendable {
            let request: ScimBulkRequest
            var created: [String: String] = [:]
            var failed: Set<String> = []
            var states: [Int: Bool] = [:]  // false while running, true when done
            /// Each operation's result, in the order they ran, with the operation's index.
            var results: [(index: Int, result: JSONObject)] = []
            var errors = 0
            var stopped: Bool { request.failOnErrors.map { errors >= $0 } ?? false }
        }

        /// The result of an operation whose write did not commit.
        static func uncommitted(_ operation: ScimBulkRequest.Operation) -> JSONObject {
            let error = ScimError(status: 500, detail: "The operation's write did not commit; nothing of it was kept.")
            var result = JSONObject([("method", .string(operation.method))])
            if let bulkId = operation.bulkId { result.append("bulkId", .string(bulkId)) }
            result.append("status", .string(String(error.status)))
            result.append("response", error.body)
            return result
        }

        func perform(
            _ index: Int, _ run: inout BulkRun, batch: WriteBatch, as initiator: Initiator, location: @escaping @Sendable (String) -> String
        ) async throws {
            guard run.states[index] == nil, !run.stopped else { return }
            run.states[index] = false
            let operation = run.request.operations[index]
            var failure: ScimError?
            for reference in operation.references {
                guard let defining = run.request.definingIndex[reference] else {
                    failure = ScimError(status: 409, scimType: "invalidValue", detail: "bulkId '\(reference)' is not defined by any POST in this request.")
                    break
                }
                if run.states[defining] == false {
                    failure = ScimError(status: 409, scimType: "invalidValue", detail: "bulkId '\(reference)' is part of a circular reference.")
                    break
                }
                try await perform(defining, &run, batch: batch, as: initiator, location: location)
                if run.created[reference] == nil {
                    failure = ScimError(status: 409, scimType: "invalidValue", detail: "The operation defining bulkId '\(reference)' failed.")
                    break
                }
            }
            var result = JSONObject([("method", .string(operation.method))])
            if let bulkId = operation.bulkId { result.append("bulkId", .string(bulkId)) }
            do {
                if let failure { throw failure }
                let resolved = operation.resolved(run.created)
                let (status, resource) = try await batch.unit(index) { try await execute(resolved, as: initiator, location: location) }
                if let resource, case .string(let id)? = resource["id"] {
                    if let bulkId = operation.bulkId, operation.method == "POST" { run.created[bulkId] = id }
                    result.append("location", .string(location(id)))
                    result.append("version", .string(ScimUserMapping.version(of: resource)))
                }
                result.append("status", .string(String(status)))
            } catch {
                let scim = Self.refusal(error, initiator, "bulk operation")
                run.errors += 1
                if let bulkId = operation.bulkId { run.failed.insert(bulkId) }
                result.append("status", .string(String(scim.status)))
                result.append("response", scim.body)
            }
            run.states[index] = true
            run.results.append((index, result))
        }

        func execute(_ operation: ScimBulkRequest.Operation, as initiator: Initiator, location: @escaping (String) -> String) async throws
            -> (Int, JSONObject?)
        {
            switch (operation.method, operation.userId) {
            case ("POST", nil):
                return (201, try await create(operation.data ?? .null, as: initiator, location: location))
            case ("PUT", let id?):
                return (200, try await replace(id, with: operation.data ?? .null, ifMatch: operation.version, as: initiator, location: location))
            case ("PATCH", let id?):
                return (200, try await patch(id, operation.data ?? .null, ifMatch: operation.version, as: initiator, location: location))
            case ("DELETE", let id?):
                try await delete(id, ifMatch: operation.version, location: location)
                return (204, nil)
            default:
                throw ScimError.invalidValue("\(operation.method) \(operation.path) is not a valid bulk operation: POST goes to /Users, PUT, PATCH and DELETE to /Users/{id}.")
            }
        }

        /// A failed operation as the SCIM error that reports it; a failure that is neither a
        /// SCIM nor a Graph refusal is logged (naming `operation`) and reported as 500.
        static func refusal(_ error: any Error, _ initiator: Initiator, _ operation: String) -> ScimError {
            switch error {
            case let error as ScimError: return error
            case let error as GraphError: return ScimError(error)
            default:
                initiator.logger.error("\(operation) failed: \(error)")
                return ScimError(status: 500, detail: "The operation failed inside the service.")
            }
        }

        static func check(_ ifMatch: String?, _ current: JSONObject) throws(ScimError) {
            guard let ifMatch, ifMatch != "*" else { return }
            let version = ScimUserMapping.version(of: current)
            let tags = ifMatch.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard tags.contains(version) else { throw .preconditionFailed }
        }

        func scimErrors<T>(_ body: () async throws -> T) async throws -> T {
            do {
                return try await body()
            } catch let error as GraphError {
                throw ScimError(error)
            }
        }
    }
}
