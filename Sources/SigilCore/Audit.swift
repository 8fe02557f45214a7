import Foundation

/// The six activities Entra records in the custom security attribute audit log
/// (graph-reference §7), all in category `AttributeManagement`.
public enum AuditActivity: String, Sendable, CaseIterable {
    case addAttributeSet = "Add an attribute set"
    case updateAttributeSet = "Update an attribute set"
    case addDefinition = "Add custom security attribute definition in an attribute set"
    case updateDefinition = "Update custom security attribute definition in an attribute set"
    case updateUserValues = "Update attribute values assigned to a user"
    case updateServicePrincipalValues = "Update attribute values assigned to a servicePrincipal"

    public static let category = "AttributeManagement"

    /// The activity for a change of values on an object of `kind` (users and service principals
    /// only carry custom security attributes).
    public static func values(of kind: DirectoryObjectKind) -> AuditActivity {
        kind == .servicePrincipal ? .updateServicePrincipalValues : .updateUserValues
    }
}

/// One changed property of an audit target. Old and new values are JSON texts, as in Graph
/// (`"[25]"`), or nil where there was (or is) no value.
public struct ModifiedProperty: Sendable, Equatable {
    public var displayName: String
    public var oldValue: String?
    public var newValue: String?

    public init(displayName: String, oldValue: String?, newValue: String?) {
        self.displayName = displayName
        self.oldValue = oldValue
        self.newValue = newValue
    }
}

/// What an audited activity acted on: an attribute set or definition (type `Other`), a user or a
/// service principal.
public struct AuditTarget: Sendable, Equatable {
    public var id: String
    public var displayName: String?
    public var type: String
    public var userPrincipalName: String?
    public var modifiedProperties: [ModifiedProperty]

    public init(
        id: String, displayName: String?, type: String, userPrincipalName: String? = nil,
        modifiedProperties: [ModifiedProperty] = []
    ) {
        self.id = id
        self.displayName = displayName
        self.type = type
        self.userPrincipalName = userPrincipalName
        self.modifiedProperties = modifiedProperties
    }
}

/// Who made the change: a user or an application, with the address the request came from.
public struct AuditInitiator: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case user(userPrincipalName: String?)
        case app(appId: String?)
    }

    public var kind: Kind
    public var id: String
    public var displayName: String?
    public var ipAddress: String?

    public init(kind: Kind, id: String, displayName: String?, ipAddress: String?) {
        self.kind = kind
        self.id = id
        self.displayName = displayName
        self.ipAddress = ipAddress
    }
}

/// One record of the custom security attribute audit log.
public struct AuditRecord: Sendable, Equatable {
    public enum Result: String, Sendable {
        case success, failure
    }

    public var id: String
    public var activity: AuditActivity
    public var activityDateTime: Date
    public var operationType: String
    public var result: Result
    public var resultReason: String
    /// The request id of the request that made (or attempted) the change.
    public var correlationId: String
    public var initiatedBy: AuditInitiator
    public var targets: [AuditTarget]
    public var userAgent: String?

    public static let loggedByService = "Core Directory"

    public init(
        id: String, activity: AuditActivity, activityDateTime: Date, operationType: String, result: Result,
        resultReason: String = "", correlationId: String, initiatedBy: AuditInitiator, targets: [AuditTarget],
        userAgent: String? = nil
    ) {
        self.id = id
        self.activity = activity
        self.activityDateTime = activityDateTime
        self.operationType = operationType
        self.result = result
        self.resultReason = resultReason
        self.correlationId = correlationId
        self.initiatedBy = initiatedBy
        self.targets = targets
        self.userAgent = userAgent
    }

    /// The record as Graph's `customSecurityAttributeAudit`. Members come in one fixed order, so
    /// the serialised form is also the canonical form a hash chain can be computed over.
    public var json: JSONValue {
        var initiator = JSONObject()
        switch initiatedBy.kind {
        case .user(let userPrincipalName):
            initiator.append("app", .null)
            initiator.append(
                "user",
                .object(
                    JSONObject([
                        ("id", .string(initiatedBy.id)), ("displayName", JSONValue(initiatedBy.displayName)),
                        ("userPrincipalName", JSONValue(userPrincipalName)), ("ipAddress", JSONValue(initiatedBy.ipAddress)),
                    ])))
        case .app(let appId):
            initiator.append(
                "app",
                .object(
                    JSONObject([
                        ("appId", JSONValue(appId)), ("displayName", JSONValue(initiatedBy.displayName)),
                        ("servicePrincipalId", .string(initiatedBy.id)), ("ipAddress", JSONValue(initiatedBy.ipAddress)),
                    ])))
            initiator.append("user", .null)
        }
        let targets: [JSONValue] = targets.map { target in
            .object(
                JSONObject([
                    ("id", .string(target.id)), ("displayName", JSONValue(target.displayName)), ("type", .string(target.type)),
                    ("userPrincipalName", JSONValue(target.userPrincipalName)),
                    (
                        "modifiedProperties",
                        .array(
                            target.modifiedProperties.map { property in
                                .object(
                                    JSONObject([
                                        ("displayName", .string(property.displayName)), ("oldValue", JSONValue(property.oldValue)),
                                        ("newValue", JSONValue(property.newValue)),
                                    ]))
                            })
                    ),
                ]))
        }
        return .object(
            JSONObject([
                ("id", .string(id)), ("category", .string(AuditActivity.category)), ("correlationId", .string(correlationId)),
                ("result", .string(result.rawValue)), ("resultReason", .string(resultReason)),
                ("activityDisplayName", .string(activity.rawValue)),
                ("activityDateTime", .string(Self.timestamp(activityDateTime))),
                ("loggedByService", .string(Self.loggedByService)), ("operationType", .string(operationType)),
                ("initiatedBy", .object(initiator)), ("targetResources", .array(targets)),
                ("userAgent", JSONValue(userAgent)),
                (
                    "additionalDetails",
                    .array(userAgent.map { [.object(JSONObject([("key", "User-Agent"), ("value", .string($0))]))] } ?? [])
                ),
            ]))
    }

    /// UTC with seven fractional digits, as Graph writes audit times.
    static func timestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let ticks = Int(((date.timeIntervalSince1970 - seconds) * 10_000_000).rounded(.down))
        let whole = Date(timeIntervalSince1970: seconds).formatted(
            Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC") ?? .current).year().month().day()
                .dateTimeSeparator(.standard).time(includingFractionalSeconds: false))
        return "\(whole).\(String(format: "%07d", ticks))Z"
    }
}

/// How each activity's changes are described: which properties changed, with Graph's JSON-text
/// values. A property that did not change is not listed.
public enum AuditChanges {
    /// `Add an attribute set` (`before` nil) or `Update an attribute set`.
    public static func attributeSet(before: AttributeSet?, after: AttributeSet) -> [ModifiedProperty] {
        let properties: [(String, JSONValue?, JSONValue?)] = [
            ("Description", before.map { JSONValue($0.description) }, JSONValue(after.description)),
            (
                "MaxAttributesPerSet", before.map { JSONValue($0.maxAttributesPerSet.map { Int($0) }) },
                JSONValue(after.maxAttributesPerSet.map { Int($0) })
            ),
        ]
        return changed(properties, includeSummary: before != nil)
    }

    /// `Add …definition…` (`before` nil) or `Update …definition…`, allowed values included.
    public static func definition(
        before: AttributeDefinition?, after: AttributeDefinition, allowedBefore: [AllowedValue], allowedAfter: [AllowedValue]
    ) -> [ModifiedProperty] {
        func allowed(_ values: [AllowedValue]) -> JSONValue? {
            values.isEmpty
                ? nil
                : .array(values.map { .object(JSONObject([("id", .string($0.id)), ("isActive", .bool($0.isActive))])) })
        }
        var properties: [(String, JSONValue?, JSONValue?)] = [
            ("Description", before.map { JSONValue($0.description) }, JSONValue(after.description)),
            ("Status", before.map { .string($0.status.rawValue) }, .string(after.status.rawValue)),
            ("UsePreDefinedValuesOnly", before.map { .bool($0.usePreDefinedValuesOnly) }, .bool(after.usePreDefinedValuesOnly)),
        ]
        if before == nil {
            properties += [
                ("AttributeSet", nil, .string(after.attributeSet)), ("Name", nil, .string(after.name)),
                ("Type", nil, .string(after.type.rawValue)), ("IsCollection", nil, .bool(after.isCollection)),
                ("IsSearchable", nil, .bool(after.isSearchable)),
            ]
        }
        properties.append(("AllowedValues", allowed(allowedBefore), allowed(allowedAfter)))
        return changed(properties, includeSummary: before != nil)
    }

    /// `Update attribute values assigned to a user` (or service principal): one property per
    /// attribute whose values changed, named by its definition id (`Engineering_Project`); values
    /// are JSON arrays, a removed attribute's new value is nil.
    public static func values(before: AttributeAssignments, after: AttributeAssignments) -> [ModifiedProperty] {
        var ids: [String] = []
        for attribute in before.attributes + after.attributes where !ids.contains(where: { nameKey($0) == nameKey(attribute.definitionId) }) {
            ids.append(attribute.definitionId)
        }
        return ids.compactMap { id in
            let (old, new) = (before.values(of: id), after.values(of: id))
            guard old != new else { return nil }
            return ModifiedProperty(
                displayName: id, oldValue: old.isEmpty ? nil : JSONValue.array(old.map(\.json)).serializedString,
                newValue: new.isEmpty ? nil : JSONValue.array(new.map(\.json)).serializedString)
        }
    }

    /// `Assign` when values were added or replaced, `Unassign` when the change only removed.
    public static func valuesOperation(_ properties: [ModifiedProperty]) -> String {
        properties.allSatisfy { $0.newValue == nil } ? "Unassign" : "Assign"
    }

    /// Only what changed, plus Graph's `Included Updated Properties` summary on updates.
    static func changed(_ properties: [(String, JSONValue?, JSONValue?)], includeSummary: Bool) -> [ModifiedProperty] {
        let changed = properties.filter { $0.1 != $0.2 && !($0.1 == nil && $0.2 == .null) }
        // Graph writes a single value as a one-element array (`"[25]"`); lists stay lists.
        func text(_ value: JSONValue?) -> String? {
            guard let value, !value.isNull else { return nil }
            if case .array = value { return value.serializedString }
            return JSONValue.array([value]).serializedString
        }
        var result = changed.map { ModifiedProperty(displayName: $0.0, oldValue: text($0.1), newValue: text($0.2)) }
        if includeSummary, !changed.isEmpty {
            result.append(
                ModifiedProperty(
                    displayName: "Included Updated Properties", oldValue: nil,
                    newValue: JSONValue.string(changed.map(\.0).joined(separator: ", ")).serializedString))
        }
        return result
    }
}
