import Foundation

/// A held operation claimed for processing (`DirectoryStore.claimHeldUpload`): it stays held,
/// out of other callers' reach until `until`, and leaves the store only with the provisioning
/// log entry that records it (`DirectoryStore.finishHeldUpload`). A process that stops between
/// the two leaves it to be claimed again once the claim has run out, so nothing accepted is lost.
public struct HeldUploadClaim: Sendable, Equatable {
    /// The store's number for the held row.
    public var seq: Int64
    public var operation: HeldUploadOperation

    public init(seq: Int64, operation: HeldUploadOperation) {
        self.seq = seq
        self.operation = operation
    }
}

/// One bulkUpload operation held for a paused job: accepted (202) and checked, but not yet
/// processed. Entra stages what a paused API-driven provisioning job receives and processes it
/// when the job is started again; a restart of a paused job discards it.
public struct HeldUploadOperation: Sendable, Equatable {
    /// The job's id.
    public var jobId: String
    /// The operation's matching identifier as it was uploaded (`externalId` unless the mapping
    /// said `userName`), lower-cased: what `provisionOnDemand` names a subject by.
    public var sourceKey: String?
    /// What processing needs later, as JSON text (`document`/`init(document:)`).
    public var bulkId: String
    public var data: JSONValue
    /// The upload's cycle: every operation of one request shares it, held or not.
    public var cycleId: String
    /// Who uploaded it, re-resolved (current roles) when it is processed.
    public var uploaderId: String
    public var uploaderIsApp: Bool
    /// The upload request's audit context: its request id, the client's address and user agent.
    public var correlationId: String
    public var ipAddress: String?
    public var userAgent: String?
    public var heldAt: Date

    public init(
        jobId: String, sourceKey: String?, bulkId: String, data: JSONValue, cycleId: String, uploaderId: String, uploaderIsApp: Bool,
        correlationId: String, ipAddress: String?, userAgent: String?, heldAt: Date
    ) {
        self.jobId = jobId
        self.sourceKey = sourceKey?.lowercased()
        self.bulkId = bulkId
        self.data = data
        self.cycleId = cycleId
        self.uploaderId = uploaderId
        self.uploaderIsApp = uploaderIsApp
        self.correlationId = correlationId
        self.ipAddress = ipAddress
        self.userAgent = userAgent
        self.heldAt = heldAt
    }

    /// What the stores keep (the job and source key have columns of their own).
    public var document: String {
        JSONValue.object(
            JSONObject([
                ("jobId", .string(jobId)), ("sourceKey", JSONValue(sourceKey)), ("bulkId", .string(bulkId)), ("data", data),
                ("cycleId", .string(cycleId)), ("uploaderId", .string(uploaderId)), ("uploaderIsApp", .bool(uploaderIsApp)),
                ("correlationId", .string(correlationId)), ("ipAddress", JSONValue(ipAddress)), ("userAgent", JSONValue(userAgent)),
                ("heldAt", .double(heldAt.timeIntervalSince1970)),
            ])
        ).serializedString
    }

    public init(document: String) throws {
        guard let object = try JSON.parse(document).objectValue, let jobId = object["jobId"]?.stringValue,
            let bulkId = object["bulkId"]?.stringValue, let data = object["data"], let cycleId = object["cycleId"]?.stringValue,
            let uploaderId = object["uploaderId"]?.stringValue, let isApp = object["uploaderIsApp"]?.boolValue,
            let correlationId = object["correlationId"]?.stringValue, let heldAt = SynchronizationJob.date(object["heldAt"])
        else { throw GraphError.internalError }
        self.init(
            jobId: jobId, sourceKey: object["sourceKey"]?.stringValue, bulkId: bulkId, data: data, cycleId: cycleId,
            uploaderId: uploaderId, uploaderIsApp: isApp, correlationId: correlationId, ipAddress: object["ipAddress"]?.stringValue,
            userAgent: object["userAgent"]?.stringValue, heldAt: heldAt)
    }
}

/// The bodies of the job actions Graph documents beside `start`: `restart` and `provisionOnDemand`.
public enum SynchronizationJobAction {
    /// `synchronizationJobRestartScope`'s members; `criteria.resetScope` is a comma-separated
    /// combination of them, or empty.
    public static let resetScopes = ["None", "ConnectorDataStore", "Escrows", "Watermark", "QuarantineState", "Full", "ForceDeletes"]

    /// Reads `restart`'s body: nothing, `{}`, or `{"criteria": {"resetScope": "Watermark, Escrows"}}`;
    /// returns the scopes named (as the enumeration spells them). Any other member, or a scope
    /// that is not one of `resetScopes` (compared case-insensitively), is 400.
    public static func restartScopes(_ body: JSONValue?) throws(GraphError) -> [String] {
        guard let body, body != .null else { return [] }
        guard case .object(let members) = body else { throw .badRequest("The body must be an object with an optional 'criteria'.") }
        var scopes: [String] = []
        for (key, value) in members where !key.hasPrefix("@odata.") {
            guard key == "criteria" else { throw .invalidProperty(key) }
            if value == .null { continue }
            guard case .object(let criteria) = value else { throw .badRequest("'criteria' must be a synchronizationJobRestartCriteria object.") }
            for (name, scope) in criteria where !name.hasPrefix("@odata.") {
                guard name == "resetScope" else { throw .invalidProperty(name) }
                if scope == .null { continue }
                guard let text = scope.stringValue else { throw .badRequest("'resetScope' must be a string such as 'Watermark, Escrows'.") }
                for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !word.isEmpty {
                    guard let known = resetScopes.first(where: { $0.lowercased() == word.lowercased() }) else {
                        throw .badRequest(
                            "'\(word)' is not a synchronizationJobRestartScope; use a comma-separated combination of "
                                + resetScopes.joined(separator: ", ") + ".")
                    }
                    if !scopes.contains(known) { scopes.append(known) }
                }
            }
        }
        return scopes
    }

    /// Reads `provisionOnDemand`'s body: `{"parameters": [{"ruleId": "…", "subjects": [{"objectId":
    /// "…", "objectTypeName": "User"}]}]}`, with exactly one parameter naming exactly one User
    /// subject (Graph answers one `stringKeyStringValuePair`, for one object). Returns the
    /// subject's `objectId`: for an API-driven inbound job, the source's matching identifier.
    public static func onDemandSubject(_ body: JSONValue) throws(GraphError) -> String {
        guard case .object(let members) = body else { throw .badRequest("The body must be an object with 'parameters'.") }
        for (key, _) in members where !key.hasPrefix("@odata.") && key != "parameters" { throw .invalidProperty(key) }
        guard case .array(let parameters)? = members["parameters"] else {
            throw .badRequest("'parameters' is required: a list of one synchronizationJobApplicationParameters.")
        }
        guard parameters.count == 1, case .object(let parameter) = parameters[0] else {
            throw .badRequest("'parameters' must hold exactly one synchronizationJobApplicationParameters object.")
        }
        for (key, _) in parameter where !key.hasPrefix("@odata.") && key != "ruleId" && key != "subjects" { throw .invalidProperty(key) }
        guard let ruleId = parameter["ruleId"]?.stringValue, !ruleId.isEmpty else {
            throw .badRequest("'ruleId' is required: the synchronization rule to run.")
        }
        guard case .array(let subjects)? = parameter["subjects"], subjects.count == 1, case .object(let subject) = subjects[0] else {
            throw .badRequest("'subjects' must hold exactly one synchronizationJobSubject.")
        }
        for (key, _) in subject where !key.hasPrefix("@odata.") && key != "objectId" && key != "objectTypeName" {
            throw .invalidProperty(key)
        }
        guard subject["objectTypeName"]?.stringValue?.lowercased() == "user" else {
            throw .badRequest("'objectTypeName' must be 'User': an API-driven inbound job provisions users.")
        }
        guard let objectId = subject["objectId"]?.stringValue, !objectId.isEmpty else {
            throw .badRequest("'objectId' is required: the user's matching identifier in the source.")
        }
        return objectId
    }

    /// `provisionOnDemand`'s answer, Graph's `stringKeyStringValuePair`: `key` the result as JSON
    /// text (`{"result": "Success"|"Failure"|"Skipped", "details": {…}}`), `value` the provisioning
    /// log entry of what ran (as the caller may read it), as JSON text.
    public static func onDemandResult(_ entry: JSONObject?, subject: String) -> JSONObject {
        let status = entry?["statusInfo"]?.objectValue?["status"]?.stringValue
        let result: String
        var details = JSONObject()
        switch status {
        case "success"?: result = "Success"
        case "failure"?:
            result = "Failure"
            let info = entry?["statusInfo"]?.objectValue
            details.append("errorCode", info?["errorCode"] ?? .null)
            details.append("errorMessage", info?["reason"] ?? .null)
        case "skipped"?:
            result = "Skipped"
            details.append("errorCode", "RedundantExport")
            details.append("errorMessage", "The state of the user in both the source and target systems already match.")
        default:
            result = "Skipped"
            details.append("errorCode", "NoHeldRecord")
            details.append(
                "errorMessage", .string("No uploaded record for '\(subject)' is held by this job: it processes records as they arrive."))
        }
        let key = JSONValue.object(JSONObject([("result", .string(result)), ("details", .object(details))])).serializedString
        let value = entry.map { JSONValue.object($0).serializedString } ?? JSONValue.object(JSONObject()).serializedString
        return JSONObject([("key", .string(key)), ("value", .string(value))])
    }
}
