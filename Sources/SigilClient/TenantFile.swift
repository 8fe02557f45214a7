import Foundation
import SigilCore
import Yams

/// The tenant as code: attribute sets, their attributes with predefined values, and who holds
/// the attribute roles, as a YAML file `sigil apply` makes true and `sigil export tenant` writes.
public struct TenantFile: Codable, Sendable, Equatable {
    public struct AttributeSetEntry: Codable, Sendable, Equatable {
        public var id: String
        public var description: String?
        public var maxAttributesPerSet: Int?
        public var attributes: [AttributeEntry]?
    }

    public struct AttributeEntry: Codable, Sendable, Equatable {
        public var name: String
        public var description: String?
        public var type: String
        public var multiple: Bool?
        public var searchable: Bool?
        public var predefinedOnly: Bool?
        /// `Available` (the default) or `Deprecated`.
        public var status: String?
        public var allowedValues: [AllowedValueEntry]?
    }

    public struct AllowedValueEntry: Codable, Sendable, Equatable {
        public var id: String
        public var active: Bool?
    }

    public struct RoleEntry: Codable, Sendable, Equatable {
        /// A user principal name or an application's appId.
        public var principal: String
        /// The role's display name (Attribute Assignment Reader) or template id.
        public var role: String
        /// `/` or `/attributeSets/{name}`.
        public var scope: String?
    }

    /// A Conditional Access policy, matched by its display name; its parts in Graph's JSON shape
    /// (`conditionalAccessPolicy`), written as YAML.
    public struct ConditionalAccessEntry: Codable, Sendable, Equatable {
        public var displayName: String
        /// `enabled`, `disabled` or `enabledForReportingButNotEnforced`.
        public var state: String
        public var conditions: GraphJSON
        public var grantControls: GraphJSON?
        public var sessionControls: GraphJSON?
    }

    /// An access rule (`/sigil/v1/accessRules`), matched by its display name.
    public struct AccessRuleEntry: Codable, Sendable, Equatable {
        public var displayName: String
        public var description: String?
        public var principals: RulePrincipals
        /// Data-action patterns, as `ActionMatches` takes them.
        public var actions: [String]
        public var condition: String?
        public var conditionVersion: String?
    }

    /// `all`, or the users (by user principal name) and applications (by appId) a rule covers;
    /// an object id works for either.
    public enum RulePrincipals: Codable, Sendable, Equatable {
        case all
        case listed([String])

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let word = try? container.decode(String.self) {
                guard word == "all" else {
                    throw DecodingError.dataCorruptedError(
                        in: container, debugDescription: "principals must be 'all' or a list of user principal names and appIds")
                }
                self = .all
            } else {
                self = .listed(try container.decode([String].self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .all: try container.encode("all")
            case .listed(let names): try container.encode(names)
            }
        }
    }

    /// The inbound provisioning mapping (`/sigil/v1/provisioning/mapping`), tenant-wide.
    public struct ProvisioningMappingEntry: Codable, Sendable, Equatable {
        /// `externalId` (matches employeeId, the default) or `userName` (userPrincipalName).
        public var matchingIdentifier: String?
        public var attributeMappings: [AttributeMappingEntry]?
    }

    /// A SCIM attribute and the custom security attribute (`Set_Attr`) it is written to.
    public struct AttributeMappingEntry: Codable, Sendable, Equatable {
        public var source: String
        public var target: String
    }

    public var attributeSets: [AttributeSetEntry]?
    public var roleAssignments: [RoleEntry]?
    public var conditionalAccessPolicies: [ConditionalAccessEntry]?
    public var accessRules: [AccessRuleEntry]?
    public var provisioningMapping: ProvisioningMappingEntry?

    public static func parse(_ yaml: String) throws -> TenantFile {
        do {
            return try YAMLDecoder().decode(TenantFile.self, from: yaml)
        } catch {
            throw ClientError.usage("The tenant file is not valid: \(error)")
        }
    }

    public func yaml() throws -> String {
        let encoder = YAMLEncoder()
        // Policies' JSON objects are dictionaries here: sorted keys keep exports stable.
        encoder.options.sortKeys = true
        return try encoder.encode(self)
    }
}

/// Any JSON value inside a tenant file (a policy's `conditions`), read from and written as YAML.
public struct GraphJSON: Codable, Sendable, Equatable {
    public var value: JSONValue

    public init(_ value: JSONValue) { self.value = value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            value = .null
        } else if let bool = try? container.decode(Bool.self) {
            value = .bool(bool)
        } else if let integer = try? container.decode(Int64.self) {
            value = .integer(integer)
        } else if let double = try? container.decode(Double.self) {
            value = .double(double)
        } else if let string = try? container.decode(String.self) {
            value = .string(string)
        } else if let array = try? container.decode([GraphJSON].self) {
            value = .array(array.map(\.value))
        } else {
            let object = try container.decode([String: GraphJSON].self)
            value = .object(JSONObject(object.sorted { $0.key < $1.key }.map { ($0.key, $0.value.value) }))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch value {
        case .null: try container.encodeNil()
        case .bool(let bool): try container.encode(bool)
        case .integer(let integer): try container.encode(integer)
        case .double(let double): try container.encode(double)
        case .string(let string): try container.encode(string)
        case .array(let items): try container.encode(items.map(GraphJSON.init))
        case .object(let object):
            try container.encode(Dictionary(object.map { ($0.key, GraphJSON($0.value)) }, uniquingKeysWith: { first, _ in first }))
        }
    }

    /// The value with every null member of an object left out, for comparing what a file asks for
    /// with what a server returns (Graph renders absent properties as null).
    public var withoutNulls: JSONValue { Self.dropNulls(value) }

    static func dropNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let items): return .array(items.map(dropNulls))
        case .object(let object):
            return .object(JSONObject(object.filter { $0.value != .null }.sorted { $0.key < $1.key }.map { ($0.key, dropNulls($0.value)) }))
        default: return value
        }
    }
}

/// What `apply` would do, item by item, like a plan/apply tool.
public struct TenantPlan: Sendable {
    public enum Action: String, Sendable { case create, update, deactivate, reactivate }

    /// What a step changes, for `apply --output json`.
    public enum Kind: String, Sendable {
        case attributeSet, attribute, allowedValue, roleAssignment, conditionalAccessPolicy, accessRule, provisioningMapping
    }

    public struct Step: Sendable {
        public let action: Action
        public let kind: Kind
        /// `Set`, `Set.Attribute`, `Set.Attribute/value`, or `<role> for <principal> at <scope>`.
        public let name: String
        /// The same, for people.
        public let what: String
        public let detail: String
        let method: String
        let path: String
        let body: JSONValue
        /// `v1.0`, or `sigil/v1` for Sigil's own resources.
        var version = "v1.0"
    }

    public var steps: [Step] = []
    /// Differences apply will not make, because Entra cannot (type changes, deletions).
    public var refusals: [String] = []
    public var notes: [String] = []

    public var summary: String {
        let counts = Dictionary(grouping: steps, by: \.action).mapValues(\.count)
        return "Plan: \(counts[.create] ?? 0) to create, \(counts[.update] ?? 0) to update, "
            + "\(counts[.deactivate] ?? 0) to deactivate, \(counts[.reactivate] ?? 0) to reactivate."
    }

    /// `apply --output json`: the changes in order, then the differences left and the notes.
    public var json: JSONValue {
        let changes = steps.map { step -> JSONValue in
            .object(
                JSONObject([
                    ("action", .string(step.action.rawValue)), ("kind", .string(step.kind.rawValue)), ("name", .string(step.name)),
                    ("details", .string(step.detail)),
                ]))
        }
        return .object(
            JSONObject([
                ("changes", .array(changes)), ("refusals", .array(refusals.map { .string($0) })), ("notes", .array(notes.map { .string($0) })),
            ]))
    }

    /// Reads the server's state and compares the file with it.
    public static func make(_ file: TenantFile, client: GraphAPIClient) async throws -> TenantPlan {
        var plan = TenantPlan()
        // Only what the file speaks of is read: a roles-only file needs no attribute role.
        let wanted = file.attributeSets ?? []
        let sets = wanted.isEmpty ? [] : try await client.all("/directory/attributeSets").compactMap(\.objectValue)
        let definitions =
            wanted.isEmpty
            ? [] : try await client.all("/directory/customSecurityAttributeDefinitions?$expand=allowedValues").compactMap(\.objectValue)
        for entry in wanted {
            let current = sets.first { nameKey($0["id"]?.stringValue ?? "") == nameKey(entry.id) }
            let encodedSet = entry.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? entry.id
            if current == nil {
                var body = JSONObject([("id", .string(entry.id))])
                if let description = entry.description { body.append("description", .string(description)) }
                if let max = entry.maxAttributesPerSet { body.append("maxAttributesPerSet", .integer(Int64(max))) }
                plan.steps.append(
                    Step(
                        action: .create, kind: .attributeSet, name: entry.id, what: "attribute set \(entry.id)", detail: "", method: "POST", path: "/directory/attributeSets",
                        body: .object(body)))
            } else if let current {
                var body = JSONObject()
                if let description = entry.description, current["description"]?.stringValue != description {
                    body.append("description", .string(description))
                }
                if let max = entry.maxAttributesPerSet, current["maxAttributesPerSet"] != .integer(Int64(max)) {
                    body.append("maxAttributesPerSet", .integer(Int64(max)))
                }
                if !body.isEmpty {
                    plan.steps.append(
                        Step(
                            action: .update, kind: .attributeSet, name: entry.id, what: "attribute set \(entry.id)", detail: body.map(\.key).joined(separator: ", "),
                            method: "PATCH", path: "/directory/attributeSets/\(encodedSet)", body: .object(body)))
                }
            }
            for attribute in entry.attributes ?? [] {
                plan.compare(attribute, in: entry.id, with: definitions)
            }
        }
        try await plan.compareRoles(file.roleAssignments ?? [], client: client)
        try await plan.comparePolicies(file.conditionalAccessPolicies ?? [], client: client)
        try await plan.compareAccessRules(file.accessRules ?? [], client: client)
        if let mapping = file.provisioningMapping { try await plan.compareMapping(mapping, client: client) }
        return plan
    }

    static let mappingPath = "/provisioning/mapping"

    /// The mapping as the file states it, in the server's JSON form: what the file leaves out
    /// takes its default, as a PUT does.
    static func mappingBody(_ entry: TenantFile.ProvisioningMappingEntry) -> JSONValue {
        .object(
            JSONObject([
                ("matchingIdentifier", .string(entry.matchingIdentifier ?? "externalId")),
                (
                    "attributeMappings",
                    .array((entry.attributeMappings ?? []).map { ["source": .string($0.source), "target": .string($0.target)] })
                ),
            ]))
    }

    /// The one mapping is replaced whole when it differs (sources and targets compare without
    /// regard to case, as the server compares them).
    mutating func compareMapping(_ entry: TenantFile.ProvisioningMappingEntry, client: GraphAPIClient) async throws {
        let wanted = Self.mappingBody(entry)
        let current = try await client.send("GET", Self.mappingPath, version: "sigil/v1") ?? .null
        func key(_ value: JSONValue?) -> String { (value ?? .null).serializedString.lowercased() }
        guard
            key(current.objectValue?["matchingIdentifier"]) != key(wanted.objectValue?["matchingIdentifier"])
                || key(current.objectValue?["attributeMappings"]) != key(wanted.objectValue?["attributeMappings"])
        else { return }
        steps.append(
            Step(
                action: .update, kind: .provisioningMapping, name: "provisioning mapping", what: "the provisioning mapping",
                detail: "\(entry.attributeMappings?.count ?? 0) attribute mappings, matching on \(entry.matchingIdentifier ?? "externalId")",
                method: "PUT", path: Self.mappingPath, body: wanted, version: "sigil/v1"))
    }

    static let policiesPath = "/identity/conditionalAccess/policies"

    /// Policies are matched by display name: created when missing, patched where state or a
    /// part differs, never deleted.
    mutating func comparePolicies(_ entries: [TenantFile.ConditionalAccessEntry], client: GraphAPIClient) async throws {
        guard !entries.isEmpty else { return }
        let policies = try await client.all(Self.policiesPath).compactMap(\.objectValue)
        for entry in entries {
            let what = "Conditional Access policy \(entry.displayName)"
            let named = policies.filter { $0["displayName"]?.stringValue == entry.displayName }
            guard named.count <= 1 else {
                refusals.append("\(what): \(named.count) policies have this name; give them distinct names to apply by name")
                continue
            }
            let parts: [(String, GraphJSON?)] = [
                ("conditions", entry.conditions), ("grantControls", entry.grantControls), ("sessionControls", entry.sessionControls),
            ]
            guard let current = named.first, let id = current["id"]?.stringValue else {
                var body = JSONObject([("displayName", .string(entry.displayName)), ("state", .string(entry.state))])
                for case (let name, let part?) in parts { body.append(name, part.value) }
                steps.append(
                    Step(
                        action: .create, kind: .conditionalAccessPolicy, name: entry.displayName, what: what, detail: "",
                        method: "POST", path: Self.policiesPath, body: .object(body)))
                continue
            }
            var body = JSONObject()
            if current["state"]?.stringValue != entry.state { body.append("state", .string(entry.state)) }
            for case (let name, let part?) in parts
            where part.withoutNulls != GraphJSON.dropNulls(current[name] ?? .null) {
                body.append(name, part.value)
            }
            if !body.isEmpty {
                steps.append(
                    Step(
                        action: .update, kind: .conditionalAccessPolicy, name: entry.displayName, what: what,
                        detail: body.map(\.key).joined(separator: ", "), method: "PATCH", path: "\(Self.policiesPath)/\(id)",
                        body: .object(body)))
            }
        }
        let listed = Set(entries.map(\.displayName))
        for policy in policies where !listed.contains(policy["displayName"]?.stringValue ?? "") {
            notes.append(
                "Conditional Access policy \(policy["displayName"]?.stringValue ?? "") is not in the file; apply never deletes policies, so it stays")
        }
    }

    static let accessRulesPath = "/accessRules"

    /// Access rules are matched by display name: created when missing, patched where a property
    /// differs (a condition left out of the file is removed), never deleted.
    mutating func compareAccessRules(_ entries: [TenantFile.AccessRuleEntry], client: GraphAPIClient) async throws {
        guard !entries.isEmpty else { return }
        let rules = try await client.sigilPages("GET", Self.accessRulesPath).items.compactMap(\.objectValue)
        entries: for entry in entries {
            let what = "access rule \(entry.displayName)"
            let named = rules.filter { $0["displayName"]?.stringValue == entry.displayName }
            guard named.count <= 1 else {
                refusals.append("\(what): \(named.count) rules have this name; give them distinct names to apply by name")
                continue
            }
            let principals: JSONValue
            switch entry.principals {
            case .all: principals = "all"
            case .listed(let names):
                var ids: [JSONValue] = []
                for name in names {
                    guard let id = try await Self.principalId(name, client: client) else {
                        refusals.append("\(name) (for \(what)) does not exist here")
                        continue entries
                    }
                    ids.append(.string(id))
                }
                principals = .array(ids)
            }
            let wanted: [(String, JSONValue)] = [
                ("displayName", .string(entry.displayName)), ("description", JSONValue(entry.description)),
                ("principals", principals), ("actions", .array(entry.actions.map { .string($0) })),
                ("condition", JSONValue(entry.condition)), ("conditionVersion", JSONValue(entry.conditionVersion)),
            ]
            guard let current = named.first, let id = current["id"]?.stringValue else {
                steps.append(
                    Step(
                        action: .create, kind: .accessRule, name: entry.displayName, what: what, detail: "", method: "POST",
                        path: Self.accessRulesPath, body: .object(JSONObject(wanted.filter { $0.1 != .null })), version: "sigil/v1"))
                continue
            }
            let changed = wanted.filter { name, value in
                guard let currentValue = current[name] else { return value != .null }
                // Principal ids compare without regard to order or case.
                if name == "principals", case .array(let have) = currentValue, case .array(let want) = value {
                    return Set(have.compactMap { $0.stringValue?.lowercased() }) != Set(want.compactMap { $0.stringValue?.lowercased() })
                }
                return currentValue != value
            }
            if !changed.isEmpty {
                steps.append(
                    Step(
                        action: .update, kind: .accessRule, name: entry.displayName, what: what,
                        detail: changed.map(\.0).joined(separator: ", "), method: "PATCH",
                        path: "\(Self.accessRulesPath)/\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id)",
                        body: .object(JSONObject(changed)), version: "sigil/v1"))
            }
        }
        let listed = Set(entries.map(\.displayName))
        for rule in rules where !listed.contains(rule["displayName"]?.stringValue ?? "") {
            notes.append("access rule \(rule["displayName"]?.stringValue ?? "") is not in the file; apply never deletes rules, so it stays")
        }
    }

    /// The object id of a user (by user principal name or id) or an application's service
    /// principal (by appId or id); nil when none exists.
    static func principalId(_ name: String, client: GraphAPIClient) async throws -> String? {
        if name.contains("@") {
            return try? await client.send("GET", "/users/\(name)?$select=id")?.objectValue?["id"]?.stringValue
        }
        let filter = "appId eq '\(name)'".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        if let id = try await client.all("/servicePrincipals?$filter=\(filter)&$select=id").first?.objectValue?["id"]?.stringValue {
            return id
        }
        for path in ["/servicePrincipals", "/users"] {
            if let id = try? await client.send("GET", "\(path)/\(name)?$select=id")?.objectValue?["id"]?.stringValue { return id }
        }
        return nil
    }

    /// How a tenant file names a principal: a user's user principal name or an application's
    /// appId; nil when the id names neither.
    static func principalName(_ id: String, client: GraphAPIClient) async -> String? {
        if let name = try? await client.send("GET", "/users/\(id)?$select=userPrincipalName")?.objectValue?["userPrincipalName"]?
            .stringValue
        {
            return name
        }
        return try? await client.send("GET", "/servicePrincipals/\(id)?$select=appId")?.objectValue?["appId"]?.stringValue
    }

    mutating func compare(_ entry: TenantFile.AttributeEntry, in set: String, with definitions: [JSONObject]) {
        let id = AttributeDefinition.id(set: set, name: entry.name)
        let name = "\(set).\(entry.name)"
        let what = "attribute \(name)"
        let path = "/directory/customSecurityAttributeDefinitions/\(id)"
        let wantedStatus = entry.status ?? "Available"
        guard let current = definitions.first(where: { nameKey($0["id"]?.stringValue ?? "") == nameKey(id) }) else {
            var body = JSONObject([
                ("attributeSet", .string(set)), ("name", .string(entry.name)), ("type", .string(entry.type)), ("status", "Available"),
                ("isCollection", .bool(entry.multiple ?? false)), ("isSearchable", .bool(entry.searchable ?? true)),
                ("usePreDefinedValuesOnly", .bool(entry.predefinedOnly ?? false)),
            ])
            if let description = entry.description { body.append("description", .string(description)) }
            if let values = entry.allowedValues, !values.isEmpty {
                body.append(
                    "allowedValues",
                    .array(values.map { .object(JSONObject([("id", .string($0.id)), ("isActive", .bool($0.active ?? true))])) }))
            }
            steps.append(
                Step(
                    action: .create, kind: .attribute, name: name, what: what, detail: "", method: "POST", path: "/directory/customSecurityAttributeDefinitions",
                    body: .object(body)))
            if wantedStatus == "Deprecated" {
                steps.append(
                    Step(
                        action: .deactivate, kind: .attribute, name: name, what: what, detail: "", method: "PATCH", path: path,
                        body: .object(JSONObject([("status", "Deprecated")]))))
            }
            return
        }
        for (property, wanted, actual) in [
            ("type", JSONValue.string(entry.type), current["type"]),
            ("multiple", JSONValue.bool(entry.multiple ?? false), current["isCollection"]),
            ("searchable", JSONValue.bool(entry.searchable ?? true), current["isSearchable"]),
        ] where actual != wanted {
            refusals.append("\(what): \(property) cannot change once created (Entra cannot); left as it is")
        }
        var body = JSONObject()
        if let description = entry.description, current["description"]?.stringValue != description {
            body.append("description", .string(description))
        }
        let predefined = entry.predefinedOnly ?? false
        if current["usePreDefinedValuesOnly"]?.boolValue != predefined {
            if predefined {
                refusals.append("\(what): predefined values only cannot be turned back on (Entra cannot); left off")
            } else {
                body.append("usePreDefinedValuesOnly", false)
            }
        }
        if !body.isEmpty {
            steps.append(
                Step(
                    action: .update, kind: .attribute, name: name, what: what, detail: body.map(\.key).joined(separator: ", "), method: "PATCH", path: path,
                    body: .object(body)))
        }
        let currentStatus = current["status"]?.stringValue ?? "Available"
        if currentStatus != wantedStatus {
            steps.append(
                Step(
                    action: wantedStatus == "Deprecated" ? .deactivate : .reactivate, kind: .attribute, name: name, what: what, detail: "", method: "PATCH",
                    path: path, body: .object(JSONObject([("status", .string(wantedStatus))]))))
        }
        let values = current["allowedValues"]?.arrayValue?.compactMap(\.objectValue) ?? []
        for value in entry.allowedValues ?? [] {
            let active = value.active ?? true
            let valuePath = "\(path)/allowedValues/\(value.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value.id)"
            if let existing = values.first(where: { $0["id"]?.stringValue == value.id }) {
                if existing["isActive"]?.boolValue != active {
                    steps.append(
                        Step(
                            action: active ? .reactivate : .deactivate, kind: .allowedValue, name: "\(name)/\(value.id)",
                            what: "value \(value.id) of \(name)", detail: "",
                            method: "PATCH", path: valuePath, body: .object(JSONObject([("isActive", .bool(active))]))))
                }
            } else {
                steps.append(
                    Step(
                        action: .create, kind: .allowedValue, name: "\(name)/\(value.id)", what: "value \(value.id) of \(name)",
                        detail: "", method: "POST",
                        path: "\(path)/allowedValues",
                        body: .object(JSONObject([("id", .string(value.id)), ("isActive", .bool(active))]))))
            }
        }
        let listed = Set((entry.allowedValues ?? []).map(\.id))
        for value in values where !listed.contains(value["id"]?.stringValue ?? "") {
            notes.append("value \(value["id"]?.stringValue ?? "") of \(set).\(entry.name) is not in the file; values cannot be deleted, so it stays")
        }
    }

    mutating func compareRoles(_ entries: [TenantFile.RoleEntry], client: GraphAPIClient) async throws {
        guard !entries.isEmpty else { return }
        let assignments = try await client.all("/roleManagement/directory/roleAssignments").compactMap(\.objectValue)
        for entry in entries {
            guard let role = DirectoryRole.allCases.first(where: { $0.displayName == entry.role || $0.templateId == entry.role.lowercased() })
            else {
                refusals.append("role '\(entry.role)' is unknown")
                continue
            }
            let scope = entry.scope ?? "/"
            guard let principalId = try await Self.principalId(entry.principal, client: client) else {
                refusals.append("\(entry.principal) (for \(role.displayName)) does not exist here")
                continue
            }
            let held = assignments.contains {
                $0["principalId"]?.stringValue == principalId && $0["roleDefinitionId"]?.stringValue == role.templateId
                    && nameKey($0["directoryScopeId"]?.stringValue ?? "") == nameKey(scope)
            }
            if !held {
                steps.append(
                    Step(
                        action: .create, kind: .roleAssignment, name: "\(role.displayName) for \(entry.principal) at \(scope)",
                        what: "\(role.displayName) for \(entry.principal) at \(scope)", detail: "", method: "POST",
                        path: "/roleManagement/directory/roleAssignments",
                        body: .object(
                            JSONObject([
                                ("principalId", .string(principalId)), ("roleDefinitionId", .string(role.templateId)),
                                ("directoryScopeId", .string(scope)),
                            ]))))
            }
        }
    }

    /// Carries the plan out, in order; stops at the first refusal from the server.
    public func apply(client: GraphAPIClient, report: (Step) -> Void) async throws {
        for step in steps {
            try await client.send(step.method, step.path, body: step.body, version: step.version)
            report(step)
        }
    }

    /// The server's current state as a tenant file.
    public static func export(client: GraphAPIClient, roles: Bool) async throws -> TenantFile {
        let sets = try await client.all("/directory/attributeSets").compactMap(\.objectValue)
        let definitions = try await client.all("/directory/customSecurityAttributeDefinitions?$expand=allowedValues")
            .compactMap(\.objectValue)
        var file = TenantFile()
        file.attributeSets = sets.map { set in
            let id = set["id"]?.stringValue ?? ""
            var maximum: Int?
            if case .integer(let value)? = set["maxAttributesPerSet"] { maximum = Int(value) }
            return TenantFile.AttributeSetEntry(
                id: id, description: set["description"]?.stringValue, maxAttributesPerSet: maximum,
                attributes: definitions.filter { nameKey($0["attributeSet"]?.stringValue ?? "") == nameKey(id) }.map { item in
                    let values = item["allowedValues"]?.arrayValue?.compactMap(\.objectValue).map {
                        TenantFile.AllowedValueEntry(id: $0["id"]?.stringValue ?? "", active: $0["isActive"]?.boolValue ?? true)
                    }
                    return TenantFile.AttributeEntry(
                        name: item["name"]?.stringValue ?? "", description: item["description"]?.stringValue,
                        type: item["type"]?.stringValue ?? "String", multiple: item["isCollection"]?.boolValue,
                        searchable: item["isSearchable"]?.boolValue, predefinedOnly: item["usePreDefinedValuesOnly"]?.boolValue,
                        status: item["status"]?.stringValue, allowedValues: values?.isEmpty == false ? values : nil)
                })
        }
        // Policies only for a caller who may read them; a rule the caller may not read is null here.
        if let policies = try? await client.all(policiesPath).compactMap(\.objectValue), !policies.isEmpty {
            file.conditionalAccessPolicies = policies.map { policy in
                TenantFile.ConditionalAccessEntry(
                    displayName: policy["displayName"]?.stringValue ?? "", state: policy["state"]?.stringValue ?? "disabled",
                    conditions: GraphJSON(GraphJSON.dropNulls(policy["conditions"] ?? .object(JSONObject()))),
                    grantControls: policy["grantControls"].flatMap { $0 == .null ? nil : GraphJSON(GraphJSON.dropNulls($0)) },
                    sessionControls: policy["sessionControls"].flatMap { $0 == .null ? nil : GraphJSON(GraphJSON.dropNulls($0)) })
            }
        }
        // Rules only for a caller who may read them (Attribute Access Administrator or Evaluator).
        if let rules = try? await client.sigilPages("GET", accessRulesPath).items.compactMap(\.objectValue), !rules.isEmpty {
            var entries: [TenantFile.AccessRuleEntry] = []
            for rule in rules {
                var principals = TenantFile.RulePrincipals.all
                if case .array(let ids)? = rule["principals"] {
                    var names: [String] = []
                    for id in ids.compactMap(\.stringValue) { names.append(await principalName(id, client: client) ?? id) }
                    principals = .listed(names)
                }
                entries.append(
                    TenantFile.AccessRuleEntry(
                        displayName: rule["displayName"]?.stringValue ?? "", description: rule["description"]?.stringValue,
                        principals: principals, actions: rule["actions"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                        condition: rule["condition"]?.stringValue, conditionVersion: rule["conditionVersion"]?.stringValue))
            }
            file.accessRules = entries
        }
        // The mapping only for a caller who may read it, and only when it is not the default.
        if let mapping = try? await client.send("GET", mappingPath, version: "sigil/v1")?.objectValue {
            let entry = TenantFile.ProvisioningMappingEntry(
                matchingIdentifier: mapping["matchingIdentifier"]?.stringValue,
                attributeMappings: mapping["attributeMappings"]?.arrayValue?.compactMap(\.objectValue).map {
                    TenantFile.AttributeMappingEntry(source: $0["source"]?.stringValue ?? "", target: $0["target"]?.stringValue ?? "")
                })
            if entry.matchingIdentifier != "externalId" || entry.attributeMappings?.isEmpty == false { file.provisioningMapping = entry }
        }
        guard roles else { return file }
        var entries: [TenantFile.RoleEntry] = []
        for assignment in try await client.all("/roleManagement/directory/roleAssignments").compactMap(\.objectValue) {
            guard let role = DirectoryRole(rawValue: assignment["roleDefinitionId"]?.stringValue ?? ""),
                role.allowsAttributeSetScope, let principalId = assignment["principalId"]?.stringValue
            else { continue }
            guard let principal = await principalName(principalId, client: client) else { continue }
            entries.append(
                TenantFile.RoleEntry(principal: principal, role: role.displayName, scope: assignment["directoryScopeId"]?.stringValue))
        }
        file.roleAssignments = entries
        return file
    }
}
