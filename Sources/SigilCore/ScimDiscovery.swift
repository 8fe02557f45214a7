/// The discovery documents of `/scim/v2` (RFC 7644 section 4): what the service provider
/// supports, its resource type and the schemas, the custom security attribute extension
/// generated from the tenant's attribute definitions.
public enum ScimDiscovery {
    public static func serviceProviderConfig(base: String) -> JSONObject {
        JSONObject([
            ("schemas", [.string(ScimURN.serviceProviderConfig)]),
            ("documentationUri", "https://github.com/sigil/sigil/blob/main/docs/api.md"),
            ("patch", ["supported": true]),
            (
                "bulk",
                [
                    "supported": true, "maxOperations": .integer(Int64(ScimLimits.bulkMaxOperations)),
                    "maxPayloadSize": .integer(Int64(ScimLimits.bulkMaxPayloadSize)),
                ]
            ),
            ("filter", ["supported": true, "maxResults": .integer(Int64(ScimLimits.maxResults))]),
            ("changePassword", ["supported": false]),
            ("sort", ["supported": false]),
            ("etag", ["supported": true]),
            (
                "authenticationSchemes",
                [
                    [
                        "type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
                        "description": "An access token from Sigil's token endpoint (client credentials).",
                    ]
                ]
            ),
            ("meta", meta("ServiceProviderConfig", location: base + "/ServiceProviderConfig")),
        ])
    }

    public static func userResourceType(base: String) -> JSONObject {
        JSONObject([
            ("schemas", [.string(ScimURN.resourceType)]),
            ("id", "User"), ("name", "User"), ("endpoint", "/Users"), ("description", "User Account"),
            ("schema", .string(ScimURN.user)),
            (
                "schemaExtensions",
                [
                    ["schema": .string(ScimURN.enterpriseUser), "required": false],
                    ["schema": .string(ScimURN.customSecurityAttributes), "required": false],
                ]
            ),
            ("meta", meta("ResourceType", location: base + "/ResourceTypes/User")),
        ])
    }

    /// The three schemas, each with its `meta`.
    public static func schemas(_ schema: Schema, base: String) -> [JSONObject] {
        [
            document(ScimURN.user, name: "User", description: "User Account", attributes: coreAttributes, base: base),
            document(
                ScimURN.enterpriseUser, name: "EnterpriseUser", description: "Enterprise User",
                attributes: [attribute("department", description: "The user's department (Graph department).")], base: base),
            document(
                ScimURN.customSecurityAttributes, name: "CustomSecurityAttributes",
                description: "Custom security attributes: one complex attribute per attribute set.",
                attributes: attributeSets(schema), base: base),
        ]
    }

    static func document(_ id: String, name: String, description: String, attributes: [JSONValue], base: String) -> JSONObject {
        JSONObject([
            ("schemas", [.string(ScimURN.schema)]),
            ("id", .string(id)), ("name", .string(name)), ("description", .string(description)),
            ("attributes", .array(attributes)),
            ("meta", meta("Schema", location: base + "/Schemas/" + id)),
        ])
    }

    static func meta(_ type: String, location: String) -> JSONValue {
        ["resourceType": .string(type), "location": .string(location)]
    }

    static func attribute(
        _ name: String, type: String = "string", multiValued: Bool = false, required: Bool = false,
        caseExact: Bool = false, mutability: String = "readWrite", returned: String = "default", uniqueness: String = "none",
        description: String, subAttributes: [JSONValue]? = nil, canonicalValues: [String]? = nil
    ) -> JSONValue {
        var out = JSONObject([
            ("name", .string(name)), ("type", .string(type)), ("multiValued", .bool(multiValued)),
            ("description", .string(description)), ("required", .bool(required)), ("caseExact", .bool(caseExact)),
            ("mutability", .string(mutability)), ("returned", .string(returned)), ("uniqueness", .string(uniqueness)),
        ])
        if let subAttributes { out.append("subAttributes", .array(subAttributes)) }
        if let canonicalValues { out.append("canonicalValues", .array(canonicalValues.map { .string($0) })) }
        return .object(out)
    }

    /// The core attributes this service provider maps (docs/compatibility.md lists them).
    static let coreAttributes: [JSONValue] = [
        attribute("userName", required: true, uniqueness: "server", description: "The userPrincipalName."),
        attribute("externalId", caseExact: true, description: "The employeeId: the default matching identifier."),
        attribute(
            "name", type: "complex", description: "The user's names.",
            subAttributes: [
                attribute("givenName", description: "Given name (Graph givenName)."),
                attribute("familyName", description: "Family name (Graph surname)."),
            ]),
        attribute("displayName", required: true, description: "The name displayed; the userName when a create leaves it out."),
        attribute("title", description: "Job title (Graph jobTitle)."),
        attribute("preferredLanguage", description: "Preferred language (Graph preferredLanguage)."),
        attribute(
            "active", type: "boolean", required: true,
            description: "Whether the account is enabled (Graph accountEnabled); true when a create leaves it out."),
        attribute(
            "password", mutability: "writeOnly", returned: "never",
            description: "Sets the password; a user created without one cannot sign in with a password."),
        attribute(
            "emails", type: "complex", multiValued: true, description: "One address, Graph's mail (a write's primary or first work address).",
            subAttributes: [
                attribute("value", description: "The address."),
                attribute("type", description: "Kind of address.", canonicalValues: ["work"]),
            ]),
    ]

    /// One complex attribute per attribute set; one sub-attribute per definition, typed.
    static func attributeSets(_ schema: Schema) -> [JSONValue] {
        schema.sets.map { set in
            let definitions = schema.definitions.filter { nameKey($0.attributeSet) == nameKey(set.id) }
            let subAttributes: [JSONValue] = definitions.map { definition in
                let canonical = definition.usePreDefinedValuesOnly ? schema.allowedValues(of: definition).filter(\.isActive).map(\.id) : nil
                let status = definition.status == .deprecated ? " Deactivated: existing values can only be removed." : ""
                return attribute(
                    definition.name, type: definition.type.rawValue.lowercased(), multiValued: definition.isCollection,
                    caseExact: true, description: (definition.description ?? definition.id) + status,
                    canonicalValues: canonical)
            }
            return attribute(
                set.id, type: "complex", description: set.description ?? "Attribute set \(set.id).", subAttributes: subAttributes)
        }
    }
}
