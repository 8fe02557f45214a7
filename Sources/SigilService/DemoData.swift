import Foundation
import SigilCore
import SigilStore

/// `sigil serve --demo`: the seed documents' attribute sets, definitions and users, and an
/// application holding the attribute roles, created once per data directory.
public enum DemoData {
    package static let loadedSetting = "demo_loaded"
    public static let userPassword = "Sigil-demo-2026!"
    public static let userNames = ["Chandra", "Jana", "Joe", "Isabella", "Alain", "Dara", "Jiya"]

    /// A demo user's role, so that each console sign-in shows something.
    public struct UserRole: Sendable, CustomStringConvertible {
        public let name: String
        public let role: DirectoryRole
        public let scope: RoleScope

        public var userPrincipalName: String { "\(name.lowercased())@\(TenantBootstrap.defaultDomain)" }

        public var description: String {
            switch scope {
            case .tenant: role.displayName
            case .attributeSet(let set): "\(role.displayName) for the \(set) set"
            }
        }
    }

    /// Nobody reads or changes their own values, so the readers and writers of a set are people
    /// without values in it: Chandra has none in Engineering, Dara none at all.
    public static let userRoles = [
        UserRole(name: "Isabella", role: .attributeDefinitionAdministrator, scope: .tenant),
        UserRole(name: "Chandra", role: .attributeAssignmentAdministrator, scope: .attributeSet("Engineering")),
        UserRole(name: "Dara", role: .attributeAssignmentReader, scope: .attributeSet("Marketing")),
        UserRole(name: "Alain", role: .privilegedRoleAdministrator, scope: .tenant),
    ]

    public struct Credentials: Sendable {
        public let clientId: String
        /// nil when the demo was loaded by an earlier start (the secret was printed then).
        public let clientSecret: String?
    }

    package static let sets: [JSONValue] = [
        ["id": "Engineering", "description": "Attributes for engineering team", "maxAttributesPerSet": 25],
        ["id": "Marketing", "description": "Attributes for marketing team", "maxAttributesPerSet": 25],
    ]

    package static func definition(
        _ set: String, _ name: String, _ description: String, type: String, collection: Bool,
        predefined: [String] = []
    ) -> JSONValue {
        var object: JSONValue = [
            "attributeSet": .string(set), "description": .string(description), "isCollection": .bool(collection),
            "isSearchable": true, "name": .string(name), "status": "Available", "type": .string(type),
            "usePreDefinedValuesOnly": .bool(!predefined.isEmpty),
        ]
        if !predefined.isEmpty, case .object(var members) = object {
            members["allowedValues"] = .array(predefined.map { ["id": .string($0), "isActive": true] })
            object = .object(members)
        }
        return object
    }

    package static let definitions: [JSONValue] = [
        definition("Engineering", "ProjectDate", "Target completion date", type: "String", collection: false),
        definition(
            "Engineering", "Project", "Active projects for user", type: "String", collection: true,
            predefined: ["Alpine", "Baker", "Cascade"]),
        definition("Engineering", "NumVendors", "Number of vendors", type: "Integer", collection: false),
        definition("Engineering", "CostCenter", "Cost centers", type: "Integer", collection: true),
        definition("Engineering", "Certification", "Has engineering certification", type: "Boolean", collection: false),
        definition("Engineering", "Datacenter", "Datacenter locations", type: "String", collection: true),
        definition("Marketing", "EmployeeId", "Marketing employee id", type: "String", collection: false),
        definition("Marketing", "AppCountry", "Countries where the app is offered", type: "String", collection: true),
    ]

    package static func setValue(_ members: JSONObject) -> JSONValue {
        var set = JSONObject([("@odata.type", "#Microsoft.DirectoryServices.CustomSecurityAttributeValue")])
        for (key, value) in members { set.append(key, value) }
        return .object(set)
    }

    /// The values Microsoft's "list or filter" examples for users show on each user.
    package static let attributeValues: [String: JSONValue] = [
        "Chandra": ["Marketing": setValue(JSONObject([("EmployeeId", "GS36348")]))],
        "Jana": ["Marketing": setValue(JSONObject([("AppCountry", ["Canada", "Mexico"]), ("EmployeeId", "GS46982")]))],
        "Joe": [
            "Engineering": setValue(
                JSONObject([
                    ("Project", ["Baker", "Alpine"]), ("ProjectDate", "2024-11-15"), ("NumVendors", 8),
                    ("CostCenter", [1001, 1003]),
                    ("Certification", false),
                ])),
            "Marketing": setValue(JSONObject([("EmployeeId", "GS45897")])),
        ],
        "Isabella": ["Marketing": setValue(JSONObject([("AppCountry", ["France"])]))],
        "Alain": ["Marketing": setValue(JSONObject([("AppCountry", ["Germany", "Japan"])]))],
        "Jiya": [
            "Engineering": setValue(JSONObject([("Datacenter", ["India"])])),
            "Marketing": setValue(JSONObject([("AppCountry", ["India", "Canada"]), ("EmployeeId", "KX19476")])),
        ],
    ]

    /// Loads the demo unless this data directory already has it.
    /// The changes that create the sets and definitions `bodies` describe (POST bodies), in order.
    package static func schemaChanges(creating bodies: [JSONValue], in schema: Schema) throws -> [SchemaChange] {
        var schema = schema
        var changes: [SchemaChange] = []
        for body in bodies {
            let change =
                body.objectValue?["attributeSet"] == nil
                ? try SchemaRules.createSet(body, in: schema) : try SchemaRules.createDefinition(body, in: schema)
            schema.apply(change)
            changes.append(change)
        }
        return changes
    }

    public static func load(services: SigilServices) async throws -> Credentials {
        let store = services.store
        if let clientId = try await store.setting(loadedSetting) {
            return Credentials(clientId: clientId, clientSecret: nil)
        }
        try await store.changeSchema { schema in try schemaChanges(creating: sets + definitions, in: schema) }
        let passwordHash = try await services.hasher.hashPassword(userPassword)
        // The demo writes values as an Attribute Assignment Administrator would, through the same rules.
        let loader = Caller(
            principalId: "sigil-demo", kind: .servicePrincipal,
            grants: [RoleGrant(role: .attributeAssignmentAdministrator, scope: .tenant)])
        for name in userNames {
            let write = try DirectoryRules.create(
                .user,
                body: [
                    "accountEnabled": true, "displayName": .string(name), "mailNickname": .string(name.lowercased()),
                    "userPrincipalName": .string("\(name.lowercased())@\(TenantBootstrap.defaultDomain)"),
                    "passwordProfile": ["password": .string(userPassword)],
                ])
            let user = DirectoryRules.newObject(
                .user, id: SigilServices.newId(), write: write,
                serviceSet: JSONObject([("createdDateTime", .string(graphTimestamp(Date())))]))
            let values = attributeValues[name]
            try await store.create(user, passwordHash: passwordHash) { schema in
                guard let values else { return AttributeAssignments() }
                return try AssignmentRules.merge(
                    values, into: AttributeAssignments(), of: user.id, schema: schema, caller: loader)
            }
            for grant in userRoles where grant.name == name {
                try await store.create(
                    RoleAssignment(id: SigilServices.newId(), principalId: user.id, role: grant.role, scope: grant.scope))
            }
        }
        let clientId = SigilServices.newId()
        let secret = SecretGenerator.make()
        let principal = try await TenantBootstrap.createApplication(
            services: services, displayName: "Sigil Demo Attribute Manager", appId: clientId, secret: secret)
        let roles: [DirectoryRole] = [
            .attributeDefinitionAdministrator, .attributeAssignmentAdministrator, .attributeLogAdministrator,
        ]
        for role in roles {
            try await store.create(
                RoleAssignment(id: SigilServices.newId(), principalId: principal.id, role: role, scope: .tenant))
        }
        _ = try await store.settingIfAbsent(loadedSetting, clientId)
        return Credentials(clientId: clientId, clientSecret: secret)
    }

    /// Adds a new client secret to the demo application (its first one was shown only once);
    /// nil when this database has no demo. Earlier secrets keep working.
    public static func newCredentials(store: any DirectoryStore, hasher: CredentialHasher) async throws -> Credentials? {
        guard let clientId = try await store.setting(loadedSetting),
            let application = try await store.application(appId: clientId)
        else { return nil }
        let secret = SecretGenerator.make()
        let credential = hasher.credential(
            for: secret, displayName: "Added by sigil demo credentials",
            until: Date().addingTimeInterval(CredentialHasher.secretLifetime))
        try await store.addPasswordCredential(credential, applicationId: application.id)
        return Credentials(clientId: clientId, clientSecret: secret)
    }

    /// The tenant the demo lives in, for printing next to new credentials.
    public static func tenantId(store: any DirectoryStore) async throws -> String? {
        try await store.setting(TenantBootstrap.tenantSetting)
    }
}
