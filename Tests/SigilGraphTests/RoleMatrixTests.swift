import Foundation
import SigilCore
import Testing

@testable import SigilGraph
@testable import SigilService

/// Who may call each attribute configuration route (docs/security.md, "Who may read and write what"): every route against
/// every kind of caller, with the exact status, the error code on refusals, what a successful
/// read returns, and, for writes, what the store holds afterwards.
@Suite struct RoleMatrixTests {
    enum Route: String, CaseIterable, Sendable {
        case listSets, getSet, createSet, updateSet
        case listDefinitions, getDefinition, createDefinition, updateDefinition
        case listAllowedValues, getAllowedValue, createAllowedValue, updateAllowedValue

        var isWrite: Bool {
            switch self {
            case .createSet, .updateSet, .createDefinition, .updateDefinition, .createAllowedValue, .updateAllowedValue: true
            default: false
            }
        }
    }

    /// A caller, and the attribute set its requests act on.
    enum Who: String, CaseIterable, Sendable {
        case anonymous
        /// The bootstrap service principal: Global Administrator and Privileged Role Administrator.
        case globalAdministrator
        /// A member user holding Attribute Definition Reader at tenant scope.
        case definitionReader
        case definitionAdministrator
        /// Attribute Definition Administrator scoped to Engineering, acting on Engineering.
        case engineeringAdministratorOnEngineering
        /// The same grant acting on Marketing.
        case engineeringAdministratorOnMarketing
        case assignmentAdministrator
        case assignmentReader
        case provisioningAdministrator
        case provisioningReader
        /// Sigil's access roles give no attribute configuration rights.
        case accessAdministrator
        case accessEvaluator
        /// The Conditional Access roles give no attribute configuration rights either.
        case conditionalAccessAdministrator
        case securityAdministrator
        case securityReader
        case globalReader
        /// Guest users keep no attribute access whatever roles they hold.
        case guestDefinitionAdministrator
        case guestDefinitionReader

        var target: String { self == .engineeringAdministratorOnMarketing ? "Marketing" : "Engineering" }
    }

    /// Expected status per caller, in `Route.allCases` order.
    // swift-format-ignore
    static let expected: [Who: [Int]] = [
        //                                       lsS  getS crS  upS  lsD  getD crD  upD  lsV  getV crV  upV
        .anonymous:                             [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401],
        .globalAdministrator:                   [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        .definitionReader:                      [200, 200, 403, 403, 200, 200, 403, 403, 200, 200, 403, 403],
        .definitionAdministrator:               [200, 200, 201, 204, 200, 200, 201, 204, 200, 200, 201, 204],
        .engineeringAdministratorOnEngineering: [200, 200, 403, 403, 200, 200, 201, 204, 200, 200, 201, 204],
        .engineeringAdministratorOnMarketing:   [200, 403, 403, 403, 200, 403, 403, 403, 403, 403, 403, 403],
        .assignmentAdministrator:               [200, 200, 403, 403, 200, 200, 403, 403, 200, 403, 403, 403],
        .assignmentReader:                      [200, 200, 403, 403, 200, 200, 403, 403, 200, 403, 403, 403],
        .provisioningAdministrator:             [200, 200, 403, 403, 200, 200, 403, 403, 200, 403, 403, 403],
        .provisioningReader:                    [200, 200, 403, 403, 200, 200, 403, 403, 200, 403, 403, 403],
        .accessAdministrator:                   [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        .accessEvaluator:                       [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        .conditionalAccessAdministrator:        [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        .securityAdministrator:                 [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        .securityReader:                        [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        .globalReader:                          [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        .guestDefinitionAdministrator:          [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        .guestDefinitionReader:                 [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
    ]

    static func expectedStatus(_ who: Who, _ route: Route) throws -> Int {
        let row = try #require(expected[who])
        let index = try #require(Route.allCases.firstIndex(of: route))
        return row[index]
    }

    static let sets = "/v1.0/directory/attributeSets"
    static let definitions = "/v1.0/directory/customSecurityAttributeDefinitions"

    /// Engineering and Marketing, each with a predefined-only `Project` (Alpine, Baker).
    static func seed(_ client: GraphClient, admin: String) async throws {
        for set in ["Engineering", "Marketing"] {
            let created = try await client.post(sets, token: admin, ["id": .string(set), "description": "Original"])
            #expect(created.status == .created, "\(created.text)")
            let definition = try await client.post(
                definitions, token: admin,
                [
                    "attributeSet": .string(set), "description": "Original", "isCollection": true, "isSearchable": true,
                    "name": "Project", "status": "Available", "type": "String", "usePreDefinedValuesOnly": true,
                    "allowedValues": [["id": "Alpine", "isActive": true], ["id": "Baker", "isActive": true]],
                ])
            #expect(definition.status == .created, "\(definition.text)")
        }
    }

    /// The token of `who` (nil for anonymous) in `tenant`.
    static func token(of who: Who, in tenant: TestTenant) async throws -> String? {
        switch who {
        case .anonymous: nil
        case .globalAdministrator: try await tenant.bootstrapToken()
        case .definitionReader: try await tenant.user("Dora", grants: [.tenant(.attributeDefinitionReader)]).token
        case .definitionAdministrator:
            try await tenant.servicePrincipal("Definer", grants: [.tenant(.attributeDefinitionAdministrator)]).token
        case .engineeringAdministratorOnEngineering, .engineeringAdministratorOnMarketing:
            try await tenant.servicePrincipal("Engineering definer", grants: [.set(.attributeDefinitionAdministrator, "Engineering")])
                .token
        case .assignmentAdministrator:
            try await tenant.servicePrincipal("Assigner", grants: [.tenant(.attributeAssignmentAdministrator)]).token
        case .assignmentReader:
            try await tenant.servicePrincipal("Assignment reader", grants: [.tenant(.attributeAssignmentReader)]).token
        case .provisioningAdministrator:
            try await tenant.servicePrincipal("HR provisioning", grants: [.tenant(.attributeProvisioningAdministrator)]).token
        case .provisioningReader:
            try await tenant.servicePrincipal("HR monitor", grants: [.tenant(.attributeProvisioningReader)]).token
        case .accessAdministrator:
            try await tenant.servicePrincipal("Access administrator", grants: [.tenant(.attributeAccessAdministrator)]).token
        case .accessEvaluator:
            try await tenant.servicePrincipal("Access evaluator", grants: [.tenant(.attributeAccessEvaluator)]).token
        case .conditionalAccessAdministrator:
            try await tenant.servicePrincipal("CA admin", grants: [.tenant(.conditionalAccessAdministrator)]).token
        case .securityAdministrator:
            try await tenant.servicePrincipal("Security admin", grants: [.tenant(.securityAdministrator)]).token
        case .securityReader: try await tenant.servicePrincipal("Security reader", grants: [.tenant(.securityReader)]).token
        case .globalReader: try await tenant.servicePrincipal("Global reader", grants: [.tenant(.globalReader)]).token
        case .guestDefinitionAdministrator:
            try await tenant.user("Gus", guest: true, grants: [.tenant(.attributeDefinitionAdministrator)]).token
        case .guestDefinitionReader:
            try await tenant.user("Gwen", guest: true, grants: [.tenant(.attributeDefinitionReader)]).token
        }
    }

    static func send(_ route: Route, on set: String, token: String?, _ client: GraphClient) async throws -> GraphReply {
        let definition = "\(definitions)/\(set)_Project"
        switch route {
        case .listSets: return try await client.get(sets, token: token)
        case .getSet: return try await client.get("\(sets)/\(set)", token: token)
        case .createSet: return try await client.post(sets, token: token, ["id": "Finance"])
        case .updateSet: return try await client.patch("\(sets)/\(set)", token: token, ["description": "Changed"])
        case .listDefinitions: return try await client.get(definitions, token: token)
        case .getDefinition: return try await client.get(definition, token: token)
        case .createDefinition:
            return try await client.post(
                definitions, token: token,
                [
                    "attributeSet": .string(set), "isCollection": false, "isSearchable": true, "name": "Cost", "status": "Available",
                    "type": "Integer", "usePreDefinedValuesOnly": false,
                ])
        case .updateDefinition: return try await client.patch(definition, token: token, ["description": "Changed"])
        case .listAllowedValues: return try await client.get("\(definition)/allowedValues", token: token)
        case .getAllowedValue: return try await client.get("\(definition)/allowedValues/Alpine", token: token)
        case .createAllowedValue:
            return try await client.post("\(definition)/allowedValues", token: token, ["id": "Cascade", "isActive": true])
        case .updateAllowedValue:
            return try await client.patch("\(definition)/allowedValues/Alpine", token: token, ["isActive": false])
        }
    }

    /// What a successful read must return for `who`.
    static func checkRead(_ route: Route, _ reply: GraphReply, who: Who) {
        let scoped = who == .engineeringAdministratorOnEngineering || who == .engineeringAdministratorOnMarketing
        switch route {
        case .listSets:
            #expect(reply.hasContext("directory/attributeSets"), "\(reply.text)")
            #expect(reply.valueIds == (scoped ? ["Engineering"] : ["Engineering", "Marketing"]), "\(reply.text)")
        case .getSet:
            #expect(reply.hasContext("directory/attributeSets/$entity"), "\(reply.text)")
            #expect(reply["id"] == .string(who.target))
        case .listDefinitions:
            #expect(reply.hasContext("directory/customSecurityAttributeDefinitions"), "\(reply.text)")
            #expect(
                reply.valueIds == (scoped ? ["Engineering_Project"] : ["Engineering_Project", "Marketing_Project"]), "\(reply.text)")
        case .getDefinition:
            #expect(reply["id"] == .string("\(who.target)_Project"), "\(reply.text)")
        case .listAllowedValues:
            #expect(reply.valueIds == ["Alpine", "Baker"], "\(reply.text)")
        case .getAllowedValue:
            #expect(reply["id"] == "Alpine", "\(reply.text)")
            #expect(reply["isActive"] == true, "\(reply.text)")
        default:
            break
        }
    }

    /// After a write, the administrator reads back whether it took effect (`applied`) or not.
    static func checkState(_ route: Route, on set: String, applied: Bool, admin: String, _ client: GraphClient) async throws {
        let definition = "\(definitions)/\(set)_Project"
        switch route {
        case .createSet:
            #expect(try await client.get("\(sets)/Finance", token: admin).status.code == (applied ? 200 : 404))
        case .updateSet:
            #expect(try await client.get("\(sets)/\(set)", token: admin)["description"] == (applied ? "Changed" : "Original"))
        case .createDefinition:
            #expect(try await client.get("\(definitions)/\(set)_Cost", token: admin).status.code == (applied ? 200 : 404))
        case .updateDefinition:
            #expect(try await client.get(definition, token: admin)["description"] == (applied ? "Changed" : "Original"))
        case .createAllowedValue:
            let values = try await client.get("\(definition)/allowedValues", token: admin)
            #expect(values.valueIds == (applied ? ["Alpine", "Baker", "Cascade"] : ["Alpine", "Baker"]), "\(values.text)")
        case .updateAllowedValue:
            #expect(try await client.get("\(definition)/allowedValues/Alpine", token: admin)["isActive"] == .bool(!applied))
        default:
            break
        }
        // Nothing else moved: the other set's definition still reads as seeded.
        let other = set == "Engineering" ? "Marketing" : "Engineering"
        let untouched = try await client.get("\(definitions)/\(other)_Project", token: admin)
        #expect(untouched["description"] == "Original")
        #expect(try await client.get("\(definitions)/\(other)_Project/allowedValues", token: admin).valueIds == ["Alpine", "Baker"])
    }

    @Test(arguments: Who.allCases, Route.allCases)
    func status(who: Who, route: Route) async throws {
        let tenant = try await TestTenant.make()
        let admin = try await tenant.servicePrincipal("Seeder", grants: [.tenant(.attributeDefinitionAdministrator)]).token
        let token = try await Self.token(of: who, in: tenant)
        let expected = try Self.expectedStatus(who, route)
        try await tenant.test { client in
            try await Self.seed(client, admin: admin)
            let reply = try await Self.send(route, on: who.target, token: token, client)
            #expect(reply.status.code == expected, "\(who) \(route): \(reply.status) \(reply.text)")
            switch expected {
            case 401:
                #expect(reply.errorCode == "InvalidAuthenticationToken", "\(reply.text)")
            case 403:
                #expect(reply.errorCode == "Authorization_RequestDenied", "\(reply.text)")
                #expect(reply.errorMessage == "Insufficient privileges to complete the operation.")
            case 200:
                Self.checkRead(route, reply, who: who)
            case 201:
                #expect(reply.text.isEmpty == false)
            case 204:
                #expect(reply.text.isEmpty)
            default:
                break
            }
            if route.isWrite {
                try await Self.checkState(route, on: who.target, applied: expected == 201 || expected == 204, admin: admin, client)
            }
        }
    }

    /// A set-scoped administrator cannot see, and so cannot probe, sets it does not hold: an
    /// unknown set and a foreign one answer alike, while a tenant administrator gets 404.
    @Test func setScopedAdministratorLearnsNothingAboutOtherSets() async throws {
        let tenant = try await TestTenant.make()
        let admin = try await tenant.servicePrincipal("Seeder", grants: [.tenant(.attributeDefinitionAdministrator)]).token
        let scoped = try await tenant.servicePrincipal("Engineering", grants: [.set(.attributeDefinitionAdministrator, "Engineering")])
        try await tenant.test { client in
            try await Self.seed(client, admin: admin)
            for path in ["\(Self.sets)/Nope", "\(Self.sets)/Marketing", "\(Self.definitions)/Nope_Project", "\(Self.definitions)/Marketing_Project"] {
                try await client.get(path, token: scoped.token).expectError(403, "Authorization_RequestDenied")
            }
            try await client.get("\(Self.sets)/Nope", token: admin).expectError(404, "Request_ResourceNotFound")
            try await client.get("\(Self.definitions)/Nope_Project", token: admin).expectError(404, "Request_ResourceNotFound")
            // Its own set resolves case-insensitively, like everyone's.
            #expect(try await client.get("\(Self.definitions)/engineering_project", token: scoped.token).status == .ok)
            let filtered = try await client.get(
                "\(Self.definitions)?$filter=\("attributeSet eq 'Marketing'".formEncoded)", token: scoped.token)
            #expect(filtered.status == .ok, "\(filtered.text)")
            #expect(filtered.values.isEmpty)
        }
    }

    /// Grants add up: a set-scoped grant beside a tenant-wide one gives the tenant-wide rights.
    @Test func tenantAndSetScopedGrantsAreAdditive() async throws {
        let tenant = try await TestTenant.make()
        let admin = try await tenant.servicePrincipal("Seeder", grants: [.tenant(.attributeDefinitionAdministrator)]).token
        let both = try await tenant.servicePrincipal(
            "Both", grants: [.set(.attributeDefinitionAdministrator, "Engineering"), .tenant(.attributeDefinitionReader)])
        try await tenant.test { client in
            try await Self.seed(client, admin: admin)
            #expect(try await client.get(Self.sets, token: both.token).valueIds == ["Engineering", "Marketing"])
            #expect(try await client.get("\(Self.definitions)/Marketing_Project/allowedValues/Alpine", token: both.token).status == .ok)
            let marketing = try await client.patch("\(Self.definitions)/Marketing_Project", token: both.token, ["description": "Changed"])
            marketing.expectError(403, "Authorization_RequestDenied")
            let engineering = try await client.patch("\(Self.definitions)/Engineering_Project", token: both.token, ["description": "Changed"])
            #expect(engineering.status == .noContent, "\(engineering.text)")
        }
    }
}
