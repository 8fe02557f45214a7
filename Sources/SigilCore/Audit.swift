import Foundation

/// The six activities Entra records in the custom security attribute audit log
/// (docs/api.md, "Audit log"), all in category `AttributeManagement`.
public enum AuditActivity: String, Sendable, CaseIterable {
    case addAttributeSet = "Add an attribute set"
    case updateAttributeSet = "Update an attribute set"
    case addDefinition = "Add custom security attribute definition in an attribute set"
    case updateDefinition = "Update custom security attribute definition in an attribute set"
    case updateUserValues = "Update attribute values assigned to a user"
    case updateServicePrincipalValues = "Update attribute values assigned to a servicePrincipal"
    /// Conditional Access policy changes, in Entra's category `Policy`. They share the hash chain
    /// but are not custom security attribute audits, so `customSecurityAttributeAudits` never
    /// lists them.
    case addConditionalAccessPolicy = "Add conditional access policy"
    case updateConditionalAccessPolicy = "Update conditional access policy"
    case deleteConditionalAccessPolicy = "Delete conditional access policy"
    /// Sigil's access rules (`/sigil/v1/accessRules`), in a category of their own.
    case addAccessRule = "Add access rule"
    case updateAccessRule = "Update access rule"
    case deleteAccessRule = "Delete access rule"
    /// The inbound provisioning mapping (`/sigil/v1/provisioning/mapping`), in a category of its own.
    case updateProvisioningMapping = "Update provisioning mapping"

    public static let category = "AttributeManagement"
    public static let policyCategory = "Policy"
    public static let accessRuleCategory = "AccessRuleManagement"
    public static let provisioningCategory = "ProvisioningManagement"

    /// The records' `category`.
    public var category: String {
        switch self {
        case .addConditionalAccessPolicy, .updateConditionalAccessPolicy, .deleteConditionalAccessPolicy: Self.policyCategory
        case .addAccessRule, .updateAccessRule, .deleteAccessRule: Self.accessRuleCategory
        case .updateProvisioningMapping: Self.provisioningCategory
        default: Self.category
        }
    }

    /// The six activities of the custom security attribute audit log.
    public static var attributeActivities: [AuditActivity] { allCases.filter { $0.category == category } }

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

extension AuditTarget {
    /// An attribute set or definition named in a request (type `Other`), as refusals record it.
    public static func schemaItem(_ id: String) -> AuditTarget { AuditTarget(id: id, displayName: id, type: "Other") }
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
                ("id", .string(id)), ("category", .string(activity.category)), ("correlationId", .string(correlationId)),
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

    /// UTC with seven fractional digits, as Graph writes audit times. Computed by hand (every
    /// audited write stamps one, inside its transaction): days to civil date as in
    /// H. Hinnant's `civil_from_days`.
    public static func timestamp(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        let seconds = Int64(interval.rounded(.down))
        let ticks = min(9_999_999, max(0, Int64(((interval - Double(seconds)) * 10_000_000).rounded(.down))))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func digits(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return "\(digits(year, 4))-\(digits(month, 2))-\(digits(day, 2))T\(digits(secondOfDay / 3600, 2)):"
            + "\(digits(secondOfDay / 60 % 60, 2)):\(digits(secondOfDay % 60, 2)).\(digits(ticks, 7))Z"
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

/// Who is acting, and in which request: what every record of that request shares.
public struct AuditContext: Sendable, Equatable {
    public var initiatedBy: AuditInitiator
    public var correlationId: String
    public var userAgent: String?

    public init(initiatedBy: AuditInitiator, correlationId: String, userAgent: String?) {
        self.initiatedBy = initiatedBy
        self.correlationId = correlationId
        self.userAgent = userAgent
    }

    /// Sigil itself (start-up demo data, command-line tools), recorded as an application.
    public static func system(correlationId: String) -> AuditContext {
        AuditContext(
            initiatedBy: AuditInitiator(kind: .app(appId: nil), id: "sigil", displayName: "Sigil", ipAddress: nil),
            correlationId: correlationId, userAgent: nil)
    }
}

/// Turns changes into records. Stores call it inside the transaction that makes the change, so
/// the record and the change commit together or not at all.
public enum AuditLog {
    /// One record per attribute set or definition the changes touch (a definition's allowed
    /// values belong to its record), in the order first touched.
    public static func records(for changes: [SchemaChange], before: Schema, context: AuditContext, at date: Date = Date())
        -> [AuditRecord]
    {
        var after = before
        var sets: [String] = []
        var definitions: [String] = []
        func touch(_ id: String, in list: inout [String]) {
            if !list.contains(where: { nameKey($0) == nameKey(id) }) { list.append(id) }
        }
        for change in changes {
            after.apply(change)
            switch change {
            case .createSet(let set), .updateSet(let set): touch(set.id, in: &sets)
            case .createDefinition(let definition, _), .updateDefinition(let definition): touch(definition.id, in: &definitions)
            case .putAllowedValue(let definitionId, _): touch(definitionId, in: &definitions)
            }
        }
        var records: [AuditRecord] = []
        for id in sets {
            guard let set = after.set(named: id) else { continue }
            let old = before.set(named: id)
            records.append(
                record(
                    old == nil ? .addAttributeSet : .updateAttributeSet, operationType: old == nil ? "Add" : "Update",
                    target: AuditTarget(
                        id: set.id, displayName: set.id, type: "Other",
                        modifiedProperties: AuditChanges.attributeSet(before: old, after: set)),
                    context: context, at: date))
        }
        for id in definitions {
            guard let definition = after.definition(id: id) else { continue }
            let old = before.definition(id: id)
            let properties = AuditChanges.definition(
                before: old, after: definition, allowedBefore: old.map { before.allowedValues(of: $0) } ?? [],
                allowedAfter: after.allowedValues(of: definition))
            records.append(
                record(
                    old == nil ? .addDefinition : .updateDefinition, operationType: old == nil ? "Add" : "Update",
                    target: AuditTarget(
                        id: definition.id, displayName: definition.name, type: "Other", modifiedProperties: properties),
                    context: context, at: date))
        }
        return records
    }

    /// The record of a change to an object's values, or nil when its values did not change.
    public static func record(
        valuesOf object: DirectoryObject, before: AttributeAssignments, after: AttributeAssignments, context: AuditContext,
        at date: Date = Date()
    ) -> AuditRecord? {
        let properties = AuditChanges.values(before: before, after: after)
        guard !properties.isEmpty else { return nil }
        return record(
            AuditActivity.values(of: object.kind), operationType: AuditChanges.valuesOperation(properties),
            target: target(object, modifiedProperties: properties), context: context, at: date)
    }

    /// A refused attempt: what was tried, on what, and why it was refused.
    public static func failure(
        _ activity: AuditActivity, target: AuditTarget?, reason: String, context: AuditContext, at date: Date = Date()
    ) -> AuditRecord {
        var record = record(
            activity, operationType: activity.operationType, target: target, context: context, at: date)
        record.result = .failure
        record.resultReason = reason
        return record
    }

    public static func target(_ object: DirectoryObject, modifiedProperties: [ModifiedProperty] = []) -> AuditTarget {
        AuditTarget(
            id: object.id, displayName: object.displayName, type: object.kind.resourceName,
            userPrincipalName: object.userPrincipalName, modifiedProperties: modifiedProperties)
    }

    static func record(
        _ activity: AuditActivity, operationType: String, target: AuditTarget?, context: AuditContext, at date: Date
    ) -> AuditRecord {
        AuditRecord(
            id: RandomId.timeOrderedUUID(at: date), activity: activity, activityDateTime: date, operationType: operationType,
            result: .success, correlationId: context.correlationId, initiatedBy: context.initiatedBy,
            targets: target.map { [$0] } ?? [], userAgent: context.userAgent)
    }
}

extension AuditActivity {
    /// The operation type Graph gives the activity when nothing more specific is known.
    public var operationType: String {
        switch self {
        case .addAttributeSet, .addDefinition: "Add"
        case .updateAttributeSet, .updateDefinition: "Update"
        case .updateUserValues, .updateServicePrincipalValues: "Assign"
        case .addConditionalAccessPolicy: "Add"
        case .updateConditionalAccessPolicy: "Update"
        case .deleteConditionalAccessPolicy: "Delete"
        case .addAccessRule: "Add"
        case .updateAccessRule: "Update"
        case .deleteAccessRule: "Delete"
        case .updateProvisioningMapping: "Update"
        }
    }
}
