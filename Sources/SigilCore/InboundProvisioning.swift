import Foundation

/// Graph's API-driven inbound provisioning: a synchronization job on a service principal takes
/// SCIM BulkRequests at `bulkUpload`, and each user operation leaves a `provisioningObjectSummary`
/// in the provisioning logs (`/auditLogs/provisioning`).
public enum InboundProvisioning {
    /// The one template Sigil offers: API-driven provisioning to Microsoft Entra ID (Entra's
    /// factory tag `API2AAD`, which also starts its job ids).
    public static let templateId = "API2AAD"

    /// The template as Graph's `synchronizationTemplate`.
    public static func template(applicationId: String?) -> JSONObject {
        JSONObject([
            ("id", .string(templateId)), ("applicationId", JSONValue(applicationId)), ("default", true),
            ("description", "API-driven provisioning to Microsoft Entra ID"), ("discoverable", true),
            ("factoryTag", .string(templateId)), ("metadata", []), ("schema", .null),
        ])
    }

    /// One user operation of a bulkUpload request.
    public struct Operation: Sendable {
        public var bulkId: String
        /// The SCIM User.
        public var data: JSONValue
    }

    /// The user operations of a bulkUpload body, checked whole: the BulkRequest schema, at most
    /// `ScimLimits.bulkUploadMaxOperations` operations, each a POST to `/Users` with a `bulkId`
    /// and a user in `data`. Anything else refuses the request before any operation runs. Unlike
    /// SCIM's Bulk, bulkIds need not be unique (Graph's own samples repeat one): nothing refers
    /// to them.
    public static func operations(_ body: JSONValue) throws(GraphError) -> [Operation] {
        guard case .object(let request) = body else { throw .badRequest("The body must be a SCIM BulkRequest object.") }
        guard case .array(let schemas)? = request.scimValue("schemas"), schemas.contains(.string(ScimURN.bulkRequest)) else {
            throw .badRequest("'schemas' must be [\"\(ScimURN.bulkRequest)\"].")
        }
        guard case .array(let list)? = request.scimValue("Operations") else { throw .badRequest("'Operations' must be a list.") }
        guard list.count <= ScimLimits.bulkUploadMaxOperations else {
            throw .badRequest(
                "The request has \(list.count) operations; a bulkUpload takes at most \(ScimLimits.bulkUploadMaxOperations).")
        }
        var operations: [Operation] = []
        for (index, item) in list.enumerated() {
            guard case .object(let operation) = item else { throw .badRequest("Operation \(index + 1) is not an object.") }
            guard operation.scimValue("method")?.stringValue?.uppercased() == "POST" else {
                throw .badRequest("Operation \(index + 1): 'method' must be POST; the provisioning service decides between create and update.")
            }
            guard operation.scimValue("path")?.stringValue == "/Users" else { throw .badRequest("Operation \(index + 1): 'path' must be /Users.") }
            guard let bulkId = operation.scimValue("bulkId")?.stringValue, !bulkId.isEmpty else {
                throw .badRequest("Operation \(index + 1): 'bulkId' is required.")
            }
            guard let data = operation.scimValue("data"), case .object = data else {
                throw .badRequest("Operation \(index + 1): 'data' must be a SCIM User object.")
            }
            operations.append(Operation(bulkId: bulkId, data: data))
        }
        return operations
    }
}

extension InboundProvisioning {
    /// The user properties a bulkUpload operation can change, as the SCIM mapping writes them.
    static let mappedProperties = [
        "userPrincipalName", "displayName", "givenName", "surname", "mail", "jobTitle", "department", "employeeId",
        "preferredLanguage", "accountEnabled",
    ]

    /// The source identity of an operation's user: its matching identifier (`externalId` unless
    /// the provisioning mapping says `userName`) and its `displayName` (or `userName`).
    public static func source(of data: JSONValue?, mapping: ProvisioningMapping = .default) -> (id: String?, displayName: String?) {
        guard let user = data?.objectValue else { return (nil, nil) }
        return (
            mapping.identifier(of: user),
            user.scimValue("displayName")?.stringValue ?? user.scimValue("userName")?.stringValue
        )
    }

    /// What changed between two states of a user, mapped properties first, then custom security
    /// attributes (single values as themselves, multi-valued ones as arrays, in JSON).
    public static func changes(
        from before: (object: DirectoryObject, attributes: AttributeAssignments)?,
        to after: (object: DirectoryObject, attributes: AttributeAssignments), schema: Schema
    ) -> [ProvisioningLogEntry.Change] {
        func text(_ value: JSONValue?) -> String? {
            switch value {
            case nil, .null?: nil
            case .string(let text)?: text
            case let value?: value.serializedString
            }
        }
        var out: [ProvisioningLogEntry.Change] = []
        for property in mappedProperties {
            let old = text(before?.object.properties[property])
            let new = text(after.object.properties[property])
            if old != new { out.append(ProvisioningLogEntry.Change(displayName: property, oldValue: old, newValue: new)) }
        }
        var ids = after.attributes.attributes.map(\.definitionId)
        for held in before?.attributes.attributes ?? [] where !ids.contains(where: { nameKey($0) == nameKey(held.definitionId) }) {
            ids.append(held.definitionId)
        }
        for id in ids {
            let old = before?.attributes.values(of: id) ?? []
            let new = after.attributes.values(of: id)
            guard old != new, let definition = schema.definition(id: id) else { continue }
            func rendered(_ values: [AttributeValue]) -> String? {
                guard !values.isEmpty else { return nil }
                return definition.isCollection ? JSONValue.array(values.map(\.json)).serializedString : text(values.first?.json)
            }
            out.append(
                ProvisioningLogEntry.Change(
                    displayName: ProvisioningLogEntry.Change.attributeName(set: definition.attributeSet, attribute: definition.name),
                    oldValue: rendered(old), newValue: rendered(new)))
        }
        return out
    }
}

/// A provisioning job (Graph's `synchronizationJob`) of one service principal.
public struct SynchronizationJob: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Created, never started: bulkUpload is refused until it is started.
        case notRun = "NotRun"
        case active = "Active"
        /// Paused (`…/pause`): bulkUpload is accepted and held until `…/start` processes it, or
        /// `…/restart` discards it.
        case paused = "Paused"

        /// `synchronizationSchedule.state`: `Active`, `Paused`, or `Disabled` for a job never started.
        var scheduleState: String {
            switch self {
            case .notRun: "Disabled"
            case .active: "Active"
            case .paused: "Paused"
            }
        }
    }

    public var id: String
    public var servicePrincipalId: String
    public var templateId: String
    public var createdDateTime: Date
    public var state: State
    public var lastStarted: Date?

    public init(id: String, servicePrincipalId: String, templateId: String, createdDateTime: Date, state: State = .notRun) {
        self.id = id
        self.servicePrincipalId = servicePrincipalId
        self.templateId = templateId
        self.createdDateTime = createdDateTime
        self.state = state
    }

    /// A new job id in Entra's shape: `<template>.<32 hex digits>.<tenant id>`.
    public static func newId(templateId: String, tenantId: String) -> String {
        "\(templateId).\(RandomId.uuid().replacingOccurrences(of: "-", with: "")).\(tenantId)"
    }

    /// The key the stores look jobs up by: ids compare case-insensitively.
    public var key: String { id.lowercased() }

    /// The job as Graph's `synchronizationJob`.
    public var json: JSONObject {
        let started: JSONValue = lastStarted.map { .string(AuditRecord.timestamp($0)) } ?? .null
        return JSONObject([
            ("id", .string(id)), ("templateId", .string(templateId)),
            (
                "schedule",
                [
                    "expiration": .null, "interval": "PT40M", "state": .string(state.scheduleState),
                ]
            ),
            (
                "status",
                [
                    "code": .string(state.rawValue), "countSuccessiveCompleteFailures": 0, "escrowsPruned": false,
                    "lastExecution": .null, "quarantine": .null, "steadyStateFirstAchievedTime": started,
                    "troubleshootingUrl": .null,
                ]
            ),
            ("synchronizationJobSettings", []),
        ])
    }

    /// What the stores keep.
    public var document: String {
        var out = JSONObject([
            ("id", .string(id)), ("servicePrincipalId", .string(servicePrincipalId)), ("templateId", .string(templateId)),
            ("createdDateTime", .double(createdDateTime.timeIntervalSince1970)), ("state", .string(state.rawValue)),
        ])
        if let lastStarted { out.append("lastStarted", .double(lastStarted.timeIntervalSince1970)) }
        return JSONValue.object(out).serializedString
    }

    public init(document: String) throws {
        guard let object = try JSON.parse(document).objectValue, let id = object["id"]?.stringValue,
            let servicePrincipalId = object["servicePrincipalId"]?.stringValue, let templateId = object["templateId"]?.stringValue,
            let created = Self.date(object["createdDateTime"]),
            let state = object["state"]?.stringValue.flatMap(State.init(rawValue:))
        else { throw GraphError.internalError }
        self.init(
            id: id, servicePrincipalId: servicePrincipalId, templateId: templateId,
            createdDateTime: created, state: state)
        lastStarted = Self.date(object["lastStarted"])
    }

    static func date(_ value: JSONValue?) -> Date? {
        switch value {
        case .double(let seconds)?: Date(timeIntervalSince1970: seconds)
        case .integer(let seconds)?: Date(timeIntervalSince1970: Double(seconds))
        default: nil
        }
    }
}

/// One entry of the provisioning logs: what one bulkUpload operation did to one user.
public struct ProvisioningLogEntry: Sendable, Equatable {
    public enum Action: String, Sendable {
        case create, update, disable, other
    }

    public enum Status: String, Sendable {
        case success, failure, skipped
    }

    /// A changed property: Graph's `modifiedProperty`, values as JSON text.
    public struct Change: Sendable, Equatable {
        public var displayName: String
        public var oldValue: String?
        public var newValue: String?

        public init(displayName: String, oldValue: String?, newValue: String?) {
            self.displayName = displayName
            self.oldValue = oldValue
            self.newValue = newValue
        }

        /// The name a custom security attribute's change carries (its prefix marks the values
        /// that are redacted).
        public static func attributeName(set: String, attribute: String) -> String {
            "\(attributePrefix)\(set).\(attribute)"
        }

        static let attributePrefix = "CustomSecurityAttributes."
    }

    public var id: String
    public var jobId: String
    /// `AuditRecord.timestamp`: sorts as text.
    public var activityDateTime: String
    public var status: Status
    /// The source's matching identifier (SCIM `externalId`, or `userName` as the provisioning
    /// mapping says), when the operation had one.
    public var sourceId: String?
    /// The whole entry as Graph's `provisioningObjectSummary`, values unredacted.
    public var document: JSONObject

    public init(id: String, jobId: String, activityDateTime: String, status: Status, sourceId: String?, document: JSONObject) {
        self.id = id
        self.jobId = jobId
        self.activityDateTime = activityDateTime
        self.status = status
        self.sourceId = sourceId
        self.document = document
    }

    /// Who and what an entry is about.
    public struct Parties: Sendable {
        public var tenantId: String
        public var job: SynchronizationJob
        public var servicePrincipalName: String?
        public var cycleId: String
        public var initiator: AuditInitiator

        public init(
            tenantId: String, job: SynchronizationJob, servicePrincipalName: String?, cycleId: String, initiator: AuditInitiator
        ) {
            self.tenantId = tenantId
            self.job = job
            self.servicePrincipalName = servicePrincipalName
            self.cycleId = cycleId
            self.initiator = initiator
        }
    }

    /// The outcome of one operation as an entry.
    public static func make(
        _ parties: Parties, at date: Date, action: Action, status: Status, error: (code: String, reason: String)?,
        source: (id: String?, displayName: String?), target: (id: String?, displayName: String?), changes: [Change],
        duration: Int
    ) -> ProvisioningLogEntry {
        let id = RandomId.uuid()
        let timestamp = AuditRecord.timestamp(date)
        let errorInformation: JSONValue =
            error.map { error in
                [
                    "errorCode": .string(error.code), "reason": .string(error.reason), "additionalDetails": .null,
                    "errorCategory": "NonServiceFailure", "recommendedAction": .null,
                ]
            } ?? .null
        var statusInfo = JSONObject([("status", .string(status.rawValue))])
        if let error {
            statusInfo.append("errorCode", .string(error.code))
            statusInfo.append("reason", .string(error.reason))
        }
        let initiatorType = if case .app = parties.initiator.kind { "application" } else { "user" }
        let document = JSONObject([
            ("id", .string(id)), ("activityDateTime", .string(timestamp)), ("tenantId", .string(parties.tenantId)),
            ("jobId", .string(parties.job.id)), ("cycleId", .string(parties.cycleId)),
            ("changeId", .string(RandomId.uuid())), ("durationInMilliseconds", .integer(Int64(duration))),
            ("provisioningAction", .string(action.rawValue)),
            ("provisioningStatusInfo", ["status": .string(status.rawValue), "errorInformation": errorInformation]),
            ("statusInfo", .object(statusInfo)), ("provisioningSteps", []),
            (
                "initiatedBy",
                [
                    "id": .string(parties.initiator.id), "displayName": JSONValue(parties.initiator.displayName),
                    "initiatorType": .string(initiatorType),
                ]
            ),
            (
                "servicePrincipal",
                ["id": .string(parties.job.servicePrincipalId), "displayName": JSONValue(parties.servicePrincipalName)]
            ),
            ("sourceSystem", ["id": .null, "displayName": "API", "details": []]),
            ("targetSystem", ["id": .null, "displayName": "Entra ID", "details": []]),
            (
                "sourceIdentity",
                ["id": JSONValue(source.id), "displayName": JSONValue(source.displayName), "identityType": "User", "details": .null]
            ),
            (
                "targetIdentity",
                ["id": JSONValue(target.id), "displayName": JSONValue(target.displayName), "identityType": "User", "details": .null]
            ),
            (
                "modifiedProperties",
                .array(
                    changes.map { change in
                        [
                            "displayName": .string(change.displayName), "oldValue": JSONValue(change.oldValue),
                            "newValue": JSONValue(change.newValue),
                        ]
                    })
            ),
        ])
        return ProvisioningLogEntry(
            id: id, jobId: parties.job.id, activityDateTime: timestamp, status: status, sourceId: source.id, document: document)
    }

    /// What stands in for a custom security attribute value a reader may not see.
    public static let redacted = "[Redacted]"

    /// The entry with the values of custom security attributes in `modifiedProperties` redacted.
    public var redactingAttributeValues: JSONObject {
        var out = document
        guard case .array(let properties)? = out["modifiedProperties"] else { return out }
        out["modifiedProperties"] = .array(
            properties.map { property in
                guard var object = property.objectValue,
                    object["displayName"]?.stringValue?.hasPrefix(Change.attributePrefix) == true
                else { return property }
                for key in ["oldValue", "newValue"] where object[key] != nil && object[key] != JSONValue.null {
                    object[key] = .string(Self.redacted)
                }
                return .object(object)
            })
        return out
    }
}

/// What a read of the provisioning logs asks for: Graph's `$filter` clauses on
/// `provisioningObjectSummary` that Sigil answers, joined by `and`. Newest first.
public struct ProvisioningLogQuery: Sendable, Equatable {
    /// Lower-cased.
    public var jobId: String?
    public var status: ProvisioningLogEntry.Status?
    public var sourceId: String?
    /// Bounds on `activityDateTime`, as `AuditRecord.timestamp`s.
    public var earliest: String?
    public var latest: String?

    public init() {}

    public func matches(_ entry: ProvisioningLogEntry) -> Bool {
        (jobId.map { $0 == entry.jobId.lowercased() } ?? true) && (status.map { $0 == entry.status } ?? true)
            && (sourceId.map { $0 == entry.sourceId } ?? true) && (earliest.map { entry.activityDateTime >= $0 } ?? true)
            && (latest.map { entry.activityDateTime <= $0 } ?? true)
    }

    /// Reads `$filter`: `jobId` (Graph's samples write `jobid`), `statusInfo/status` or
    /// `provisioningStatusInfo/status`, `sourceIdentity/id` (eq), `activityDateTime` (eq, ge, le).
    public static func parse(filter: String?) throws(GraphError) -> ProvisioningLogQuery {
        var query = ProvisioningLogQuery()
        guard let filter else { return query }
        try AuditFilterScanner.clauses(of: filter, lambdas: false) { (scanner) throws(GraphError) in
            try clause(&scanner, into: &query)
        }
        return query
    }

    static func clause(_ scanner: inout AuditFilterScanner, into query: inout ProvisioningLogQuery) throws(GraphError) {
        let head = try scanner.word()
        let op = try scanner.word().lowercased()
        switch head.lowercased() {
        case "activitydatetime":
            let value = try AuditQuery.timestamp(try scanner.literal())
            switch op {
            case "eq": (query.earliest, query.latest) = (value, value)
            case "ge": query.earliest = value
            case "le": query.latest = value
            default: throw AuditQuery.invalid("activityDateTime supports eq, ge and le, not '\(op)'")
            }
            return
        default: break
        }
        guard op == "eq" else { throw AuditQuery.invalid("'\(head)' supports eq only, not '\(op)'") }
        switch head.lowercased() {
        case "jobid": try scanner.set(&query.jobId, try scanner.string().lowercased(), head)
        case "statusinfo/status", "provisioningstatusinfo/status":
            let text = try scanner.string()
            guard let status = ProvisioningLogEntry.Status(rawValue: text.lowercased()), query.status == nil else {
                throw AuditQuery.invalid("'\(head)' takes one of 'success', 'failure' or 'skipped', once")
            }
            query.status = status
        case "sourceidentity/id": try scanner.set(&query.sourceId, try scanner.string(), head)
        default:
            throw AuditQuery.invalid(
                "'\(head)' cannot be filtered on; use jobId, statusInfo/status, sourceIdentity/id or activityDateTime")
        }
    }
}
