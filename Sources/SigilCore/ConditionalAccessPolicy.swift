import Foundation

/// A Conditional Access policy (`conditionalAccessPolicy`). The parts Sigil acts on are read
/// into `scope` and `grant`; the whole document (`conditions`, `grantControls`,
/// `sessionControls`) is kept as it was accepted, so properties Sigil cannot act on come back as
/// they were given.
public struct ConditionalAccessPolicy: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        case enabled
        case disabled
        case enabledForReportingButNotEnforced
    }

    public var id: String
    public var displayName: String
    public var state: State
    public var createdDateTime: Date
    public var modifiedDateTime: Date?
    public var conditions: JSONObject
    public var grantControls: JSONValue
    public var sessionControls: JSONValue

    public init(
        id: String, displayName: String, state: State, createdDateTime: Date, modifiedDateTime: Date? = nil,
        conditions: JSONObject, grantControls: JSONValue = .null, sessionControls: JSONValue = .null
    ) {
        self.id = id
        self.displayName = displayName
        self.state = state
        self.createdDateTime = createdDateTime
        self.modifiedDateTime = modifiedDateTime
        self.conditions = conditions
        self.grantControls = grantControls
        self.sessionControls = sessionControls
    }

    /// What a store keeps besides the id and the two times: one JSON text.
    public var document: String {
        JSONValue.object(
            JSONObject([
                ("displayName", .string(displayName)), ("state", .string(state.rawValue)), ("conditions", .object(conditions)),
                ("grantControls", grantControls), ("sessionControls", sessionControls),
            ])
        ).serializedString
    }

    /// A policy read back from a store (`document` as written by `document`).
    public init(id: String, document: String, created: Double, modified: Double?) throws {
        guard case .object(let object) = try JSON.parse(document), let name = object["displayName"]?.stringValue,
            let state = object["state"]?.stringValue.flatMap(State.init(rawValue:)),
            let conditions = object["conditions"]?.objectValue
        else { throw ConditionalAccessRules.corrupt(id) }
        self.init(
            id: id, displayName: name, state: state, createdDateTime: Date(timeIntervalSince1970: created),
            modifiedDateTime: modified.map { Date(timeIntervalSince1970: $0) }, conditions: conditions,
            grantControls: object["grantControls"] ?? .null, sessionControls: object["sessionControls"] ?? .null)
    }

    /// The policy as Graph renders it. `hideFilters` drops the rules of filters on custom
    /// security attributes (the caller may not read those definitions), keeping their mode.
    public func json(hideFilters: Bool = false) -> JSONObject {
        var conditions = self.conditions
        if hideFilters { conditions = Self.withoutFilterRules(conditions) }
        return JSONObject([
            ("id", .string(id)), ("templateId", .null), ("displayName", .string(displayName)),
            ("createdDateTime", .string(ConditionalAccessRules.timestamp(createdDateTime))),
            ("modifiedDateTime", modifiedDateTime.map { .string(ConditionalAccessRules.timestamp($0)) } ?? .null),
            ("state", .string(state.rawValue)), ("sessionControls", sessionControls), ("conditions", .object(conditions)),
            ("grantControls", grantControls),
        ])
    }

    /// The filters' `rule` members replaced by null.
    static func withoutFilterRules(_ conditions: JSONObject) -> JSONObject {
        var result = JSONObject()
        for (key, value) in conditions {
            guard let section = ConditionalAccessRules.filterSections[key], case .object(let object) = value else {
                result.append(key, value)
                continue
            }
            var copy = JSONObject()
            for (name, member) in object {
                if name == section, case .object(let filter) = member {
                    var hidden = JSONObject()
                    for (k, v) in filter { hidden.append(k, k == "rule" ? .null : v) }
                    copy.append(name, .object(hidden))
                } else {
                    copy.append(name, member)
                }
            }
            result.append(key, .object(copy))
        }
        return result
    }

    /// Whether the policy blocks: its grant controls are `block`.
    public var blocks: Bool {
        grantControls.objectValue?["builtInControls"]?.arrayValue?.contains(.string("block")) ?? false
    }

    /// The text of a filter, if set: `applicationFilter` or `servicePrincipalFilter`.
    public func filterRule(_ filter: ConditionalAccessRules.Filter) -> (mode: String, rule: String)? {
        guard let object = conditions[filter.section]?.objectValue?[filter.rawValue]?.objectValue,
            let mode = object["mode"]?.stringValue, let rule = object["rule"]?.stringValue
        else { return nil }
        return (mode, rule)
    }

    /// Strings of a list in a section of `conditions` (`applications`/`includeApplications`).
    public func list(_ section: String, _ name: String) -> [String] {
        conditions[section]?.objectValue?[name]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// The attribute sets the policy's filters read (empty when it has no filter).
    public func filterSets(in schema: Schema) -> [String] {
        var sets: [String] = []
        for filter in ConditionalAccessRules.Filter.allCases {
            guard let (_, rule) = filterRule(filter), let parsed = try? ConditionalAccessRule(parsing: rule) else { continue }
            for term in parsed.terms {
                let set = AttributeDefinition.split(id: term.property)?.set ?? term.property
                if !sets.contains(where: { nameKey($0) == nameKey(set) }) { sets.append(set) }
            }
        }
        return sets
    }
}

/// Validation of policy bodies, as Graph documents `conditionalAccessPolicy` and its parts.
public enum ConditionalAccessRules {
    /// The two filters on custom security attributes and the section of `conditions` each is in.
    public enum Filter: String, Sendable, CaseIterable {
        case applicationFilter
        case servicePrincipalFilter

        public var section: String { self == .applicationFilter ? "applications" : "clientApplications" }
    }

    static let filterSections = ["applications": "applicationFilter", "clientApplications": "servicePrincipalFilter"]

    static let conditionMembers: Set<String> = [
        "applications", "clientApplications", "clientAppTypes", "devices", "locations", "platforms",
        "servicePrincipalRiskLevels", "signInRiskLevels", "userRiskLevels", "users", "insiderRiskLevels",
        "authenticationFlows", "agentIdRiskLevels", "deviceStates", "times",
    ]
    static let applicationMembers: Set<String> = [
        "includeApplications", "excludeApplications", "includeUserActions", "includeAuthenticationContextClassReferences",
        "applicationFilter", "globalSecureAccess", "networkAccess",
    ]
    static let clientApplicationMembers: Set<String> = [
        "includeServicePrincipals", "excludeServicePrincipals", "servicePrincipalFilter", "includeAgentIdServicePrincipals",
        "excludeAgentIdServicePrincipals", "agentIdServicePrincipalFilter",
    ]
    static let userMembers: Set<String> = [
        "includeUsers", "excludeUsers", "includeGroups", "excludeGroups", "includeRoles", "excludeRoles",
        "includeGuestsOrExternalUsers", "excludeGuestsOrExternalUsers",
    ]
    static let clientAppTypes: Set<String> = [
        "all", "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "easSupported", "other", "unknownFutureValue",
    ]
    static let builtInControls: Set<String> = [
        "block", "mfa", "compliantDevice", "domainJoinedDevice", "approvedApplication", "compliantApplication",
        "passwordChange", "unknownFutureValue",
    ]
    static let grantMembers: Set<String> = [
        "operator", "builtInControls", "customAuthenticationFactors", "termsOfUse", "authenticationStrength",
    ]

    /// A new policy from a POST body: `displayName`, `state` and `conditions` are required.
    public static func create(_ body: JSONValue, id: String, schema: Schema, at date: Date) throws(GraphError)
        -> ConditionalAccessPolicy
    {
        var payload = try Payload(body, resource: "conditionalAccessPolicy")
        try payload.rejectPresent(["id", "createdDateTime", "modifiedDateTime"], reason: "is read-only")
        let displayName = try self.displayName(payload.requiredString("displayName"))
        let state = try self.state(payload.requiredString("state"))
        guard let conditions = payload.raw("conditions"), !conditions.isNull else { throw payload.missing("conditions") }
        let grant = payload.raw("grantControls") ?? .null
        let session = payload.raw("sessionControls") ?? .null
        _ = payload.raw("templateId")
        try payload.rejectUnknownProperties()
        let policy = ConditionalAccessPolicy(
            id: id, displayName: displayName, state: state, createdDateTime: date,
            conditions: try self.conditions(conditions, schema: schema), grantControls: try grantControls(grant),
            sessionControls: try sessionControls(session))
        try checkWhole(policy)
        return policy
    }

    /// A PATCH: the properties given replace the stored ones (`conditions` and `grantControls`
    /// as whole objects, as Graph's update replaces complex properties). `mayChangeFilters` is
    /// false for a caller who may not read the attribute sets the stored filters read: such a
    /// caller may change the rest, but a body that names a filter is refused.
    public static func update(
        _ policy: ConditionalAccessPolicy, with body: JSONValue, schema: Schema, at date: Date, mayChangeFilters: Bool
    ) throws(GraphError) -> ConditionalAccessPolicy {
        var payload = try Payload(body, resource: "conditionalAccessPolicy")
        try payload.rejectPresent(["id", "createdDateTime", "modifiedDateTime"], reason: "is read-only")
        var updated = policy
        if case .value(let name) = try payload.string("displayName") { updated.displayName = try displayName(name) }
        switch try payload.string("state") {
        case .value(let text): updated.state = try state(text)
        case .null: throw .badRequest("Property 'state' of resource 'conditionalAccessPolicy' cannot be null.")
        case .absent: break
        }
        if let conditions = payload.raw("conditions") {
            guard !conditions.isNull else {
                throw .badRequest("Property 'conditions' of resource 'conditionalAccessPolicy' cannot be null.")
            }
            var merged = try self.conditions(conditions, schema: schema)
            if !mayChangeFilters {
                for filter in Filter.allCases {
                    let given = merged[filter.section]?.objectValue?[filter.rawValue]
                    if let given, !given.isNull {
                        throw GraphError.forbidden
                    }
                    // Keep the hidden filters as they are.
                    merged = keepingFilter(filter, of: policy.conditions, in: merged)
                }
            }
            updated.conditions = merged
        }
        if let grant = payload.raw("grantControls") { updated.grantControls = try grantControls(grant) }
        if let session = payload.raw("sessionControls") { updated.sessionControls = try sessionControls(session) }
        _ = payload.raw("templateId")
        try payload.rejectUnknownProperties()
        try checkWhole(updated)
        updated.modifiedDateTime = date
        return updated
    }

    static func keepingFilter(_ filter: Filter, of old: JSONObject, in new: JSONObject) -> JSONObject {
        guard let kept = old[filter.section]?.objectValue?[filter.rawValue] else { return new }
        var result = JSONObject()
        var placed = false
        for (key, value) in new {
            if key == filter.section, case .object(let section) = value {
                var copy = JSONObject()
                for (name, member) in section where name != filter.rawValue { copy.append(name, member) }
                copy.append(filter.rawValue, kept)
                result.append(key, .object(copy))
                placed = true
            } else {
                result.append(key, value)
            }
        }
        if !placed { result.append(filter.section, .object(JSONObject([(filter.rawValue, kept)]))) }
        return result
    }

    static func displayName(_ name: String) throws(GraphError) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw .badRequest("Property 'displayName' of resource 'conditionalAccessPolicy' cannot be empty.") }
        guard name.count <= Limits.displayNameLength else {
            throw .badRequest("Property 'displayName' is longer than \(Limits.displayNameLength) characters.")
        }
        return name
    }

    static func state(_ text: String) throws(GraphError) -> ConditionalAccessPolicy.State {
        guard let state = ConditionalAccessPolicy.State(rawValue: text) else {
            throw .badRequest(
                "Invalid value '\(text)' for property 'state'; use one of enabled, disabled, enabledForReportingButNotEnforced.")
        }
        return state
    }

    static func conditions(_ value: JSONValue, schema: Schema) throws(GraphError) -> JSONObject {
        guard case .object(let object) = value else { throw typeError("conditions", "an object") }
        try rejectUnknown(object, allowed: conditionMembers, in: "conditionalAccessConditionSet")
        guard let applications = object["applications"], case .object(let apps) = applications else {
            throw .badRequest("Property 'applications' of resource 'conditionalAccessConditionSet' is required.")
        }
        try rejectUnknown(apps, allowed: applicationMembers, in: "conditionalAccessApplications")
        for name in ["includeApplications", "excludeApplications", "includeUserActions", "includeAuthenticationContextClassReferences"] {
            try stringList(apps[name], name)
        }
        try filter(apps["applicationFilter"], .applicationFilter, schema: schema)
        let users = object["users"].flatMap { $0.isNull ? nil : $0 }
        let clients = object["clientApplications"].flatMap { $0.isNull ? nil : $0 }
        guard users != nil || clients != nil else {
            throw .badRequest("Either 'users' or 'clientApplications' is required in the policy's conditions.")
        }
        if let users {
            guard case .object(let u) = users else { throw typeError("users", "an object") }
            try rejectUnknown(u, allowed: userMembers, in: "conditionalAccessUsers")
            for name in ["includeUsers", "excludeUsers", "includeGroups", "excludeGroups", "includeRoles", "excludeRoles"] {
                try stringList(u[name], name)
            }
        }
        if let clients {
            guard case .object(let c) = clients else { throw typeError("clientApplications", "an object") }
            try rejectUnknown(c, allowed: clientApplicationMembers, in: "conditionalAccessClientApplications")
            try stringList(c["includeServicePrincipals"], "includeServicePrincipals")
            try stringList(c["excludeServicePrincipals"], "excludeServicePrincipals")
            try filter(c["servicePrincipalFilter"], .servicePrincipalFilter, schema: schema)
        }
        guard let types = object["clientAppTypes"], !types.isNull else {
            throw .badRequest("Property 'clientAppTypes' of resource 'conditionalAccessConditionSet' is required.")
        }
        for type in try stringList(types, "clientAppTypes") where !clientAppTypes.contains(type) {
            throw .badRequest("Invalid value '\(type)' in 'clientAppTypes'.")
        }
        return object
    }

    /// A filter is `{mode, rule}`: mode `include` or `exclude`, rule in the filter grammar.
    static func filter(_ value: JSONValue?, _ which: Filter, schema: Schema) throws(GraphError) {
        guard let value, !value.isNull else { return }
        guard case .object(let object) = value else { throw typeError(which.rawValue, "an object") }
        try rejectUnknown(object, allowed: ["mode", "rule"], in: "conditionalAccessFilter")
        guard let mode = object["mode"]?.stringValue, ["include", "exclude"].contains(mode) else {
            throw .badRequest("Property 'mode' of '\(which.rawValue)' must be 'include' or 'exclude'.")
        }
        guard let rule = object["rule"]?.stringValue else {
            throw .badRequest("Property 'rule' of '\(which.rawValue)' is required.")
        }
        _ = try ApplicationFilterRule(rule, schema: schema)
    }

    static func grantControls(_ value: JSONValue) throws(GraphError) -> JSONValue {
        guard !value.isNull else { return .null }
        guard case .object(let object) = value else { throw typeError("grantControls", "an object") }
        try rejectUnknown(object, allowed: grantMembers, in: "conditionalAccessGrantControls")
        if let op = object["operator"], !op.isNull {
            guard let text = op.stringValue, ["AND", "OR"].contains(text) else {
                throw .badRequest("Property 'operator' of 'grantControls' must be 'AND' or 'OR'.")
            }
        }
        let controls = try stringList(object["builtInControls"], "builtInControls")
        for control in controls where !builtInControls.contains(control) {
            throw .badRequest("Invalid value '\(control)' in 'builtInControls'.")
        }
        if controls.contains("block"), controls.count > 1 {
            throw .badRequest("The grant control 'block' cannot be combined with other controls.")
        }
        try stringList(object["customAuthenticationFactors"], "customAuthenticationFactors")
        try stringList(object["termsOfUse"], "termsOfUse")
        return value
    }

    static func sessionControls(_ value: JSONValue) throws(GraphError) -> JSONValue {
        guard value.isNull || value.objectValue != nil else { throw typeError("sessionControls", "an object") }
        return value
    }

    /// Rules across parts: a policy for workload identities (`clientApplications`) can only
    /// block, as Entra documents for Conditional Access for workload identities.
    static func checkWhole(_ policy: ConditionalAccessPolicy) throws(GraphError) {
        let clients = policy.list("clientApplications", "includeServicePrincipals")
        let hasClientFilter = policy.filterRule(.servicePrincipalFilter) != nil
        guard !clients.isEmpty || hasClientFilter else { return }
        let controls = policy.grantControls.objectValue?["builtInControls"]?.arrayValue ?? []
        guard controls == [.string("block")] else {
            throw .badRequest("A policy for workload identities (clientApplications) supports only the grant control 'block'.")
        }
    }

    @discardableResult
    static func stringList(_ value: JSONValue?, _ name: String) throws(GraphError) -> [String] {
        guard let value, !value.isNull else { return [] }
        guard case .array(let items) = value else { throw typeError(name, "a collection of strings") }
        var result: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw typeError(name, "a collection of strings") }
            result.append(text)
        }
        return result
    }

    static func rejectUnknown(_ object: JSONObject, allowed: Set<String>, in resource: String) throws(GraphError) {
        for key in object.keys where !allowed.contains(key) && !Payload.isAnnotation(key) {
            throw .badRequest("Invalid property '\(key)' in '\(resource)'.")
        }
    }

    static func typeError(_ name: String, _ expected: String) -> GraphError {
        .badRequest("Invalid value specified for property '\(name)': expected \(expected).")
    }

    static func corrupt(_ id: String) -> GraphError {
        GraphError(status: 500, code: .internalServerError, message: "The stored Conditional Access policy '\(id)' is damaged.")
    }

    /// UTC with seven fractional digits, as Graph writes these timestamps.
    public static func timestamp(_ date: Date) -> String { AuditRecord.timestamp(date) }

}

extension AuditLog {
    /// The record of a policy change (`before` nil: added; `after` nil: deleted), with the
    /// policy's document before and after as its one modified property, as Entra's
    /// `Policy`-category records carry it.
    public static func record(
        policyBefore before: ConditionalAccessPolicy?, after: ConditionalAccessPolicy?, context: AuditContext,
        at date: Date = Date()
    ) -> AuditRecord? {
        guard let subject = after ?? before else { return nil }
        let activity: AuditActivity =
            before == nil ? .addConditionalAccessPolicy : (after == nil ? .deleteConditionalAccessPolicy : .updateConditionalAccessPolicy)
        let property = ModifiedProperty(
            displayName: "ConditionalAccessPolicy", oldValue: before?.document, newValue: after?.document)
        return record(
            activity, operationType: activity.operationType,
            target: AuditTarget(id: subject.id, displayName: subject.displayName, type: "Policy", modifiedProperties: [property]),
            context: context, at: date)
    }
}
