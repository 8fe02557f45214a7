import Foundation

/// A stored access rule: Sigil's form of "a role assignment with a condition". It grants the
/// data actions matching `actions` to `principals`, restricted by `condition` when there is one.
public struct AccessRule: Sendable, Equatable {
    public enum Principals: Sendable, Equatable {
        case all
        /// User and service principal ids, lowercased.
        case ids([String])
    }

    public var id: String
    public var displayName: String
    public var description: String?
    public var principals: Principals
    /// Data-action patterns as `ActionMatches` takes them (`*` is a wildcard).
    public var actions: [String] { didSet { loweredActions = actions.map { $0.lowercased() } } }
    /// `actions` lower-cased, for `covers`, which every decision asks of every rule.
    private(set) var loweredActions: [String]
    public var condition: String? { didSet { parsedCondition = Self.parse(condition) } }
    /// `condition` parsed, once per rule rather than once per decision: nil when the condition no
    /// longer parses (a stored condition was valid when written; one whose attribute was renamed
    /// away admits nobody), `.some(nil)` when the rule has none.
    public private(set) var parsedCondition: AccessCondition??
    public var conditionVersion: String?
    public var createdDateTime: Date
    public var modifiedDateTime: Date?

    public init(
        id: String, displayName: String, description: String? = nil, principals: Principals, actions: [String],
        condition: String? = nil, conditionVersion: String? = nil, createdDateTime: Date, modifiedDateTime: Date? = nil
    ) {
        self.id = id
        self.displayName = displayName
        self.description = description
        self.principals = principals
        self.actions = actions
        self.loweredActions = actions.map { $0.lowercased() }
        self.condition = condition
        self.parsedCondition = Self.parse(condition)
        self.conditionVersion = conditionVersion
        self.createdDateTime = createdDateTime
        self.modifiedDateTime = modifiedDateTime
    }

    var principalsJSON: JSONValue {
        switch principals {
        case .all: "all"
        case .ids(let ids): .array(ids.map { .string($0) })
        }
    }

    /// What a store keeps besides the id and the two times: one JSON text.
    public var document: String {
        JSONValue.object(
            JSONObject([
                ("displayName", .string(displayName)), ("description", JSONValue(description)), ("principals", principalsJSON),
                ("actions", .array(actions.map { .string($0) })), ("condition", JSONValue(condition)),
                ("conditionVersion", JSONValue(conditionVersion)),
            ])
        ).serializedString
    }

    /// A rule read back from a store.
    public init(id: String, document: String, created: Double, modified: Double?) throws {
        guard case .object(let object) = try JSON.parse(document), let name = object["displayName"]?.stringValue,
            let principals = try? AccessRuleRules.principals(object["principals"] ?? .null),
            let actions = object["actions"]?.arrayValue?.compactMap(\.stringValue)
        else { throw StoreCorruption(message: "access rule \(id) is not a rule document") }
        self.init(
            id: id, displayName: name, description: object["description"]?.stringValue, principals: principals,
            actions: actions, condition: object["condition"]?.stringValue,
            conditionVersion: object["conditionVersion"]?.stringValue, createdDateTime: Date(timeIntervalSince1970: created),
            modifiedDateTime: modified.map { Date(timeIntervalSince1970: $0) })
    }

    /// The rule as the API renders it.
    public var json: JSONObject {
        JSONObject([
            ("id", .string(id)), ("displayName", .string(displayName)), ("description", JSONValue(description)),
            ("principals", principalsJSON), ("actions", .array(actions.map { .string($0) })),
            ("condition", JSONValue(condition)), ("conditionVersion", JSONValue(conditionVersion)),
            ("createdDateTime", .string(AuditRecord.timestamp(createdDateTime))),
            ("modifiedDateTime", modifiedDateTime.map { .string(AuditRecord.timestamp($0)) } ?? .null),
        ])
    }

    /// Whether the rule grants the action (lower-cased by the caller, once per decision rather
    /// than once per rule) to the principal `principalId` before its condition is considered.
    public func covers(principalId: String, loweredAction: String) -> Bool {
        switch principals {
        case .all: break
        case .ids(let ids): guard ids.contains(principalId.lowercased()) else { return false }
        }
        return loweredActions.contains { ConditionValues.like(loweredAction, pattern: $0, escapes: false) }
    }

    static func parse(_ condition: String?) -> AccessCondition?? {
        guard let condition else { return .some(nil) }
        guard let parsed = try? ConditionParser.parse(condition) else { return nil }
        return .some(parsed)
    }
}

/// A stored document that cannot be read back.
public struct StoreCorruption: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Creating and changing access rules: the body's shape, limits and the condition.
public enum AccessRuleRules {
    static let members: Set<String> = [
        "displayName", "description", "principals", "actions", "condition", "conditionVersion",
    ]

    static func principals(_ value: JSONValue) throws(GraphError) -> AccessRule.Principals {
        switch value {
        case .string(let s) where s == "all": return .all
        case .array(let items):
            var ids: [String] = []
            for item in items {
                guard let id = item.stringValue, ConditionValues.isGuid(id) else {
                    throw .badRequest("Property 'principals' must be 'all' or an array of user and service principal ids.")
                }
                if !ids.contains(id.lowercased()) { ids.append(id.lowercased()) }
            }
            guard !ids.isEmpty, ids.count <= Limits.accessRulePrincipals else {
                throw .badRequest("Property 'principals' must list 1 to \(Limits.accessRulePrincipals) ids, or be 'all'.")
            }
            return .ids(ids)
        default:
            throw .badRequest("Property 'principals' must be 'all' or an array of user and service principal ids.")
        }
    }

    /// A new rule from a POST body. The condition is parsed against `schema`.
    public static func create(_ body: JSONValue, id: String, schema: Schema, now: Date) throws(GraphError) -> AccessRule {
        guard case .object(let object) = body else { throw .badRequest("The request body must be a JSON object.") }
        for required in ["displayName", "principals", "actions"] where object[required] == nil || object[required] == .null {
            throw .badRequest("Property '\(required)' is required.")
        }
        var rule = AccessRule(id: id, displayName: "", principals: .all, actions: [], createdDateTime: now)
        try apply(object, to: &rule, schema: schema)
        return rule
    }

    /// A PATCH: the properties given replace the rule's; `condition: null` removes the condition.
    public static func update(_ body: JSONValue, rule: AccessRule, schema: Schema, now: Date) throws(GraphError) -> AccessRule {
        guard case .object(let object) = body else { throw .badRequest("The request body must be a JSON object.") }
        var updated = rule
        try apply(object, to: &updated, schema: schema)
        updated.modifiedDateTime = now
        return updated
    }

    static func apply(_ object: JSONObject, to rule: inout AccessRule, schema: Schema) throws(GraphError) {
        if let unknown = object.keys.first(where: { !members.contains($0) && !Payload.isAnnotation($0) }) {
            throw .invalidProperty(unknown)
        }
        if let value = object["displayName"] {
            guard let name = value.stringValue, !name.isEmpty, name.count <= Limits.displayNameLength else {
                throw .badRequest("Property 'displayName' must be a string of 1 to \(Limits.displayNameLength) characters.")
            }
            rule.displayName = name
        }
        if let value = object["description"] {
            if value == .null {
                rule.description = nil
            } else {
                guard let text = value.stringValue, text.count <= Limits.accessRuleDescriptionLength else {
                    throw .badRequest("Property 'description' must be a string of at most \(Limits.accessRuleDescriptionLength) characters.")
                }
                rule.description = text
            }
        }
        if let value = object["principals"] { rule.principals = try principals(value) }
        if let value = object["actions"] {
            guard let items = value.arrayValue, !items.isEmpty, items.count <= Limits.accessRuleActions else {
                throw .badRequest("Property 'actions' must list 1 to \(Limits.accessRuleActions) data-action patterns.")
            }
            var actions: [String] = []
            for item in items {
                guard let action = item.stringValue, !action.isEmpty, action.count <= Limits.displayNameLength else {
                    throw .badRequest("Property 'actions' must hold non-empty strings of at most \(Limits.displayNameLength) characters.")
                }
                actions.append(action)
            }
            rule.actions = actions
        }
        if let value = object["conditionVersion"] {
            guard value == .null || value.stringValue != nil else { throw .badRequest("Property 'conditionVersion' must be a string.") }
            rule.conditionVersion = value.stringValue
        }
        if let value = object["condition"] {
            if value == .null {
                rule.condition = nil
            } else {
                guard let text = value.stringValue else { throw .badRequest("Property 'condition' must be a string.") }
                rule.condition = text
            }
        }
        if let condition = rule.condition {
            do {
                try ConditionParser.checkVersion(rule.conditionVersion)
                _ = try ConditionParser.parse(condition, schema: schema)
            } catch {
                throw error.graphError
            }
            // Azure sets the version to 2.0 when a condition comes without one.
            rule.conditionVersion = AccessCondition.version
        } else {
            rule.conditionVersion = nil
        }
    }
}

extension AuditLog {
    /// The record of a rule change (`before` nil: added; `after` nil: deleted), with the rule's
    /// document before and after as its one modified property.
    public static func record(
        ruleBefore before: AccessRule?, after: AccessRule?, context: AuditContext, at date: Date = Date()
    ) -> AuditRecord? {
        guard let subject = after ?? before else { return nil }
        let activity: AuditActivity = before == nil ? .addAccessRule : (after == nil ? .deleteAccessRule : .updateAccessRule)
        let property = ModifiedProperty(displayName: "AccessRule", oldValue: before?.document, newValue: after?.document)
        return record(
            activity, operationType: activity.operationType,
            target: AuditTarget(id: subject.id, displayName: subject.displayName, type: "AccessRule", modifiedProperties: [property]),
            context: context, at: date)
    }
}
