/// How a SCIM User maps onto a Sigil user, in the shape of Microsoft's SCIM API for Entra ID:
/// `id` is the object id, `userName` the userPrincipalName, `active` accountEnabled, custom
/// security attributes one complex attribute per attribute set under
/// `ScimURN.customSecurityAttributes`. `externalId` is the user's employeeId (Sigil's default
/// matching identifier; docs/compatibility.md).
public enum ScimUserMapping {
    /// SCIM core (and enterprise) attributes and the user property each maps to.
    static let coreProperties: [(scim: String, property: String)] = [
        ("userName", "userPrincipalName"), ("externalId", "employeeId"), ("displayName", "displayName"),
        ("title", "jobTitle"), ("preferredLanguage", "preferredLanguage"),
    ]

    static let corePrefix = ScimURN.user.lowercased() + ":"

    /// Properties a SCIM User may leave out: a replace without them clears them.
    static let optionalProperties = ["employeeId", "jobTitle", "preferredLanguage", "givenName", "surname", "mail", "department"]

    /// The user property behind a filter path on an ordinary attribute, nil when none.
    static func property(forPath rawPath: String) -> String? {
        var path = rawPath.lowercased()
        if path.hasPrefix(corePrefix) { path.removeFirst(corePrefix.count) }
        switch path {
        case "emails", "emails.value": return "mail"
        case "name.givenname": return "givenName"
        case "name.familyname": return "surname"
        case "id": return "id"
        case ScimURN.enterpriseUser.lowercased() + ":department": return "department"
        default: return coreProperties.first { $0.scim.lowercased() == path }?.property
        }
    }

    /// The attribute definition behind `<CSA URN>:Set.Attr` or `<flat URN>:Set_Attr`; nil for
    /// paths outside both extensions, an error for an unknown set or attribute.
    static func definition(forPath path: String, schema: Schema) throws(ScimError) -> AttributeDefinition? {
        let lower = path.lowercased()
        let set: String
        let name: String
        if lower.hasPrefix(ScimURN.customSecurityAttributes.lowercased() + ":") {
            let rest = path.dropFirst(ScimURN.customSecurityAttributes.count + 1)
            let parts = rest.split(separator: ".", maxSplits: 1)
            guard parts.count == 2 else { throw .invalidPath("'\(path)' must name an attribute set and an attribute: <set>.<attribute>.") }
            (set, name) = (String(parts[0]), String(parts[1]))
        } else if lower.hasPrefix(ScimURN.flatCustomSecurityAttributes + ":") {
            let rest = String(path.dropFirst(ScimURN.flatCustomSecurityAttributes.count + 1))
            guard let split = AttributeDefinition.split(id: rest) else {
                throw .invalidPath("'\(path)' must name <set>_<attribute>.")
            }
            (set, name) = split
        } else {
            return nil
        }
        guard let definition = schema.definition(set: set, name: name) else {
            throw .invalidValue("Unknown custom security attribute '\(set).\(name)'.")
        }
        return definition
    }

    // MARK: Rendering

    /// The SCIM User resource of `object` with the attribute values its reader may see.
    public static func resource(
        _ object: DirectoryObject, visible: [(definition: AttributeDefinition, attribute: AssignedAttribute)],
        location: String
    ) -> JSONObject {
        var out = JSONObject()
        var schemas: [JSONValue] = [.string(ScimURN.user)]
        out.append("id", .string(object.id))
        if let employeeId = object.string("employeeId") { out.append("externalId", .string(employeeId)) }
        out.append("userName", JSONValue(object.userPrincipalName))
        var name = JSONObject()
        if let given = object.string("givenName") { name.append("givenName", .string(given)) }
        if let family = object.string("surname") { name.append("familyName", .string(family)) }
        if !name.isEmpty { out.append("name", .object(name)) }
        if let displayName = object.displayName { out.append("displayName", .string(displayName)) }
        if let title = object.string("jobTitle") { out.append("title", .string(title)) }
        if let language = object.string("preferredLanguage") { out.append("preferredLanguage", .string(language)) }
        out.append("active", .bool(object.accountEnabled))
        if let mail = object.string("mail") {
            out.append("emails", [["value": .string(mail), "type": "work"]])
        }
        if let department = object.string("department") {
            schemas.append(.string(ScimURN.enterpriseUser))
            out.append(ScimURN.enterpriseUser, ["department": .string(department)])
        }
        var sets: [(name: String, members: JSONObject)] = []
        for (definition, attribute) in visible {
            let value: JSONValue =
                definition.isCollection ? .array(attribute.values.map(\.json)) : attribute.values.first?.json ?? .null
            if let index = sets.firstIndex(where: { nameKey($0.name) == nameKey(definition.attributeSet) }) {
                sets[index].members.append(definition.name, value)
            } else {
                sets.append((definition.attributeSet, JSONObject([(definition.name, value)])))
            }
        }
        if !sets.isEmpty {
            schemas.append(.string(ScimURN.customSecurityAttributes))
            out.append(ScimURN.customSecurityAttributes, .object(JSONObject(sets.map { ($0.name, .object($0.members)) })))
        }
        var resource = JSONObject([("schemas", .array(schemas))])
        for member in out { resource.append(member.key, member.value) }
        let created = JSONValue(object.string("createdDateTime"))
        resource.append(
            "meta",
            [
                "resourceType": "User", "created": created, "lastModified": created, "location": .string(location),
                "version": .string(version(of: resource)),
            ])
        return resource
    }

    /// The weak ETag of a rendered resource (without its `meta`).
    public static func version(of resource: JSONObject) -> String {
        var body = resource
        body["meta"] = nil
        return "W/\"\(fingerprint(JSONValue.object(body).serialized()))\""
    }

    // MARK: Writing

    /// How a write reads a resource.
    public enum Mode: Sendable, Equatable {
        /// SCIM's POST and PUT: every attribute is understood or refused, and what the resource
        /// leaves out is cleared.
        case replace
        /// API-driven inbound provisioning (`bulkUpload`): attributes and schemas Sigil does not
        /// map are ignored, as Entra ignores source attributes without a mapping, and what the
        /// resource leaves out stays as it is.
        case inbound
    }

    /// The Graph body that makes a user look like `resource`: a create, or (with `current`) a
    /// change whose `customSecurityAttributes` carries only the attributes that change. In
    /// `.replace` mode an attribute held but absent from the resource is removed; in `.inbound`
    /// mode it is kept. Validation of the values themselves happens where every Graph write is
    /// validated. `mapping` (the administrator's provisioning mapping) applies in `.inbound`
    /// mode only: `/scim/v2` keeps the schema it publishes.
    public static func graphBody(
        _ resource: JSONValue, current: (object: DirectoryObject, attributes: AttributeAssignments)?, schema: Schema,
        mode: Mode = .replace, mapping: ProvisioningMapping = .default
    ) throws(ScimError) -> JSONObject {
        guard case .object(let input) = resource else { throw .invalidSyntax("The request body must be a SCIM User object.") }
        let declared = try declaredSchemas(input, mode: mode)
        guard declared.contains(ScimURN.user) else {
            throw .invalidValue("'schemas' must contain \(ScimURN.user).")
        }
        var body = JSONObject()
        var values: [(definition: AttributeDefinition, values: [AttributeValue])] = []
        var name = JSONObject()
        var active: Bool?
        // Left out: cleared by a replace, kept by an inbound change.
        var mail: JSONValue? = mode == .replace ? .null : nil
        var department: JSONValue? = mode == .replace ? .null : nil
        for (key, value) in input {
            let lower = key.lowercased()
            switch lower {
            case "schemas", "id", "meta": continue
            case "name":
                guard case .object(let parts) = value else { throw .invalidValue("'name' must be an object.") }
                name = parts
            case "active":
                guard let flag = value.boolValue else { throw .invalidValue("'active' must be true or false.") }
                active = flag
            case "emails": mail = try primaryEmail(value)
            case "password":
                // Write-only: sets the password (create or replace); never returned.
                guard let text = value.stringValue else { throw .invalidValue("'password' must be a string.") }
                body.append("passwordProfile", ["password": .string(text), "forceChangePasswordNextSignIn": true])
            default:
                if let urn = ScimURN.known(key) {
                    guard declared.contains(urn) else { throw .invalidValue("'\(key)' is used but not listed in 'schemas'.") }
                    switch urn {
                    case ScimURN.enterpriseUser: department = try enterprise(value, mode: mode)
                    case ScimURN.user: throw .invalidValue("Core attributes are sent at the top level, not under '\(key)'.")
                    default:
                        values += try attributeValues(urn, value, schema: schema, already: values) { path in
                            mode == .inbound && mapping.isSource(path)
                        }
                    }
                } else if let (_, property) = coreProperties.first(where: { $0.scim.lowercased() == lower }) {
                    guard value == .null || value.stringValue != nil else { throw .invalidValue("'\(key)' must be a string.") }
                    body.append(property, value)
                } else if mode == .inbound {
                    continue
                } else if key.lowercased().hasPrefix("urn:") {
                    throw .invalidValue("Unknown schema '\(key)'.")
                } else {
                    throw .invalidValue("Attribute '\(key)' is not supported by this service provider.")
                }
            }
        }
        for (key, value) in name {
            switch key.lowercased() {
            case "givenname": body.append("givenName", value)
            case "familyname": body.append("surname", value)
            case "formatted": continue
            default:
                guard mode == .inbound else { throw .invalidValue("Attribute 'name.\(key)' is not supported by this service provider.") }
            }
        }
        if mode == .inbound && !mapping.attributeMappings.isEmpty {
            // A mapped target takes its value from its mapped source only.
            values.removeAll { mapping.maps($0.definition) }
            values += try mapping.values(in: input, schema: schema)
        }
        if let mail { body.append("mail", mail) }
        if let department { body.append("department", department) }
        guard let userName = body["userPrincipalName"]?.stringValue, !userName.isEmpty else {
            throw .invalidValue("'userName' is required.")
        }
        let namesItself = body["displayName"] != nil && body["displayName"] != JSONValue.null
        if !namesItself && (mode == .replace || current == nil) { body["displayName"] = .string(userName) }
        body["accountEnabled"] = .bool(active ?? current?.object.accountEnabled ?? true)
        for property in optionalProperties where mode == .replace && (body[property] == nil || body[property] == .null) {
            // A replace clears what the resource leaves out; a create just leaves it unset.
            let held = current?.object.properties[property].map { $0 != JSONValue.null } ?? false
            body[property] = held ? JSONValue.null : nil
        }
        if current == nil { body.append("mailNickname", .string(mailNickname(userName))) }
        let changes = changedValues(
            values, held: current?.attributes ?? AttributeAssignments(), schema: schema, removingUnsent: mode == .replace)
        if !changes.isEmpty { body.append("customSecurityAttributes", AssignmentRules.payload(setting: changes)) }
        return body
    }

    /// The schemas `input` lists; an unknown one is refused, or skipped in `.inbound` mode.
    static func declaredSchemas(_ input: JSONObject, mode: Mode) throws(ScimError) -> [String] {
        guard case .array(let list)? = input.scimValue("schemas") else {
            throw .invalidValue("'schemas' is required: a list of schema URNs.")
        }
        var declared: [String] = []
        for item in list {
            guard let text = item.stringValue else { throw .invalidValue("'schemas' must list strings.") }
            if let urn = ScimURN.known(text) {
                declared.append(urn)
            } else if mode == .replace {
                throw .invalidValue("Unknown schema '\(text)'.")
            }
        }
        return declared
    }

    static func primaryEmail(_ value: JSONValue) throws(ScimError) -> JSONValue {
        guard case .array(let emails) = value else {
            if value == .null { return .null }
            throw .invalidValue("'emails' must be a list.")
        }
        let objects = emails.compactMap(\.objectValue)
        guard objects.count == emails.count else { throw .invalidValue("Each of 'emails' must be an object.") }
        let chosen =
            objects.first { $0.scimValue("primary") == .bool(true) } ?? objects.first { $0.scimValue("type")?.stringValue?.lowercased() == "work" }
            ?? objects.first
        guard let chosen else { return .null }
        guard let address = chosen.scimValue("value")?.stringValue else { throw .invalidValue("'emails.value' must be a string.") }
        return .string(address)
    }

    static func enterprise(_ value: JSONValue, mode: Mode) throws(ScimError) -> JSONValue {
        guard case .object(let members) = value else { throw .invalidValue("'\(ScimURN.enterpriseUser)' must be an object.") }
        var department: JSONValue = .null
        // An extension object may repeat its own `schemas` (scim2-models writes it): ignored.
        for (key, value) in members where key.lowercased() != "schemas" {
            guard key.lowercased() == "department" else {
                if mode == .inbound { continue }
                throw .invalidValue("Attribute '\(ScimURN.enterpriseUser):\(key)' is not supported by this service provider.")
            }
            guard value == .null || value.stringValue != nil else { throw .invalidValue("'department' must be a string.") }
            department = value
        }
        return department
    }

    /// Values from either custom security attribute extension, typed by their definitions.
    /// Paths `skipping` accepts are left out (a provisioning mapping reads them itself).
    static func attributeValues(
        _ urn: String, _ value: JSONValue, schema: Schema, already: [(definition: AttributeDefinition, values: [AttributeValue])],
        skipping: (String) -> Bool = { _ in false }
    ) throws(ScimError) -> [(definition: AttributeDefinition, values: [AttributeValue])] {
        guard case .object(let members) = value else { throw .invalidValue("'\(urn)' must be an object.") }
        var pairs: [(AttributeDefinition, JSONValue)] = []
        for (key, inner) in members where key.lowercased() != "schemas" {
            if urn == ScimURN.flatCustomSecurityAttributes {
                guard !skipping("\(urn):\(key)"), let definition = try definition(forPath: "\(urn):\(key)", schema: schema) else {
                    continue
                }
                pairs.append((definition, inner))
            } else {
                guard case .object(let attributes) = inner else {
                    throw .invalidValue("'\(urn):\(key)' must be an object of the attribute set's attributes.")
                }
                for (attribute, attributeValue) in attributes where !skipping("\(urn):\(key).\(attribute)") {
                    guard let definition = try definition(forPath: "\(urn):\(key).\(attribute)", schema: schema) else { continue }
                    pairs.append((definition, attributeValue))
                }
            }
        }
        var out: [(definition: AttributeDefinition, values: [AttributeValue])] = []
        for (definition, raw) in pairs {
            guard !(already + out).contains(where: { nameKey($0.definition.id) == nameKey(definition.id) }) else {
                throw .invalidValue("Attribute '\(definition.attributeSet).\(definition.name)' is given more than once.")
            }
            out.append((definition, try typedValues(raw, definition)))
        }
        return out
    }

    /// A SCIM value typed by its definition; a wrong type is SCIM's `invalidValue`.
    static func typedValues(_ raw: JSONValue, _ definition: AttributeDefinition) throws(ScimError) -> [AttributeValue] {
        do {
            return try AssignmentRules.parseValues(raw, definition: definition)
        } catch {
            throw ScimError(error)
        }
    }

    /// The attributes whose values differ from `held`; with `removingUnsent`, attributes held but
    /// not sent are removed.
    static func changedValues(
        _ sent: [(definition: AttributeDefinition, values: [AttributeValue])], held: AttributeAssignments, schema: Schema,
        removingUnsent: Bool
    ) -> [(definition: AttributeDefinition, values: [AttributeValue])] {
        var changes = sent.filter { held.values(of: $0.definition.id) != $0.values }
        for attribute in held.attributes where removingUnsent && !sent.contains(where: { nameKey($0.definition.id) == nameKey(attribute.definitionId) }) {
            if let definition = schema.definition(id: attribute.definitionId) { changes.append((definition, [])) }
        }
        return changes
    }

    /// Graph's required mailNickname from a userPrincipalName's local part.
    static func mailNickname(_ userName: String) -> String {
        let local = userName.split(separator: "@").first.map(String.init) ?? userName
        let kept = local.filter { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        return kept.isEmpty ? "user" : String(kept.prefix(64))
    }
}
