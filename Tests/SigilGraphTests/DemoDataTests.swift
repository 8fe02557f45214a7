import Foundation
import SigilCore
import SigilStore
import Testing

@testable import SigilGraph
@testable import SigilService

/// `sigil serve --demo`: the demo people hold roles, sign in with the demo password, and see what
/// their role shows; the demo application's secret can be renewed.
@Suite struct DemoDataTests {
    static func demo() async throws -> (TestTenant, DemoData.Credentials) {
        let tenant = try await TestTenant.make()
        return (tenant, try await DemoData.load(services: tenant.services))
    }

    /// A token by the password grant, as the console's sign-in checks the password.
    static func signIn(_ name: String, _ tenant: TestTenant, _ client: GraphClient) async throws -> String {
        let body = [
            "grant_type=password", "client_id=\(tenant.bootstrapClientId)",
            "username=\(name.lowercased())%40\(TenantBootstrap.defaultDomain)",
            "password=\(DemoData.userPassword.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
            "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        ].joined(separator: "&")
        let reply = try await client.send(
            .post, "/\(tenant.tenantId)/oauth2/v2.0/token", body: body, contentType: "application/x-www-form-urlencoded")
        #expect(reply.status == .ok, "\(name): \(reply.text)")
        return reply["access_token"]?.stringValue ?? ""
    }

    static func userId(_ name: String, _ tenant: TestTenant) async throws -> String {
        let upn = "\(name.lowercased())@\(TenantBootstrap.defaultDomain)"
        let user = try await tenant.store.object(.user, id: upn)
        return try #require(user?.id, "no demo user \(upn)")
    }

    @Test func demoUsersHoldTheRolesTheBannerNames() async throws {
        let (tenant, _) = try await Self.demo()
        var held: [String] = []
        for grant in DemoData.userRoles {
            let assignments = try await tenant.store.roleAssignments(principalId: try await Self.userId(grant.name, tenant))
            held += assignments.map { "\(grant.name) \($0.role.displayName) \($0.scope)" }
        }
        #expect(
            held.sorted() == [
                "Alain Privileged Role Administrator tenant",
                "Chandra Attribute Assignment Administrator attributeSet(\"Engineering\")",
                "Dara Attribute Assignment Reader attributeSet(\"Marketing\")",
                "Isabella Attribute Definition Administrator tenant",
            ])
        // Nobody is given a set in which they hold values themselves.
        for grant in DemoData.userRoles {
            if case .attributeSet(let set) = grant.scope {
                #expect(DemoData.attributeValues[grant.name]?.objectValue?[set] == nil, "\(grant.name) has \(set) values")
            }
        }
    }

    @Test func eachDemoUserSignsInAndSeesWhatTheirRoleShows() async throws {
        let (tenant, _) = try await Self.demo()
        let joe = try await Self.userId("Joe", tenant)
        try await tenant.test { client in
            let path = "/v1.0/users/\(joe)?$select=customSecurityAttributes"
            // Chandra reads and changes Engineering values, and nothing in Marketing.
            let chandra = try await Self.signIn("Chandra", tenant, client)
            let seen = try await client.get(path, token: chandra)
            #expect(seen.status == .ok)
            let sets = seen["customSecurityAttributes"]?.objectValue
            #expect(sets?["Engineering"]?.objectValue?["NumVendors"] == 8)
            #expect(sets?["Marketing"] == nil)
            let engineering: JSONValue = [
                "customSecurityAttributes": [
                    "Engineering": ["@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue", "NumVendors": 9]
                ]
            ]
            #expect(try await client.patch("/v1.0/users/\(joe)", token: chandra, engineering).status == .noContent)
            let marketing: JSONValue = [
                "customSecurityAttributes": [
                    "Marketing": ["@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue", "EmployeeId": "X1"]
                ]
            ]
            #expect(try await client.patch("/v1.0/users/\(joe)", token: chandra, marketing).status == .forbidden)

            // Dara reads Marketing, changes nothing.
            let dara = try await Self.signIn("Dara", tenant, client)
            let read = try await client.get(path, token: dara)
            #expect(read["customSecurityAttributes"]?.objectValue?["Marketing"]?.objectValue?["EmployeeId"] == "GS45897")
            #expect(read["customSecurityAttributes"]?.objectValue?["Engineering"] == nil)
            #expect(try await client.patch("/v1.0/users/\(joe)", token: dara, marketing).status == .forbidden)

            // Isabella defines attributes; Alain grants roles.
            let isabella = try await Self.signIn("Isabella", tenant, client)
            let set: JSONValue = ["id": "Finance", "description": "Finance", "maxAttributesPerSet": 5]
            #expect(try await client.post("/v1.0/directory/attributeSets", token: isabella, set).status == .created)
            let alain = try await Self.signIn("Alain", tenant, client)
            let grant: JSONValue = [
                "principalId": .string(joe), "roleDefinitionId": .string(DirectoryRole.attributeLogReader.templateId),
                "directoryScopeId": "/",
            ]
            #expect(try await client.post("/v1.0/roleManagement/directory/roleAssignments", token: alain, grant).status == .created)
        }
    }

    @Test func aNewDemoSecretSignsInAndTheFirstStillWorks() async throws {
        let (tenant, first) = try await Self.demo()
        let renewed = try #require(try await DemoData.newCredentials(store: tenant.store, hasher: tenant.services.hasher))
        #expect(renewed.clientId == first.clientId)
        #expect(renewed.clientSecret != nil && renewed.clientSecret != first.clientSecret)
        #expect(try await DemoData.tenantId(store: tenant.store) == tenant.tenantId)
        try await tenant.test { client in
            for secret in [first.clientSecret, renewed.clientSecret] {
                let body = [
                    "grant_type=client_credentials", "client_id=\(first.clientId)",
                    "client_secret=\(secret?.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
                    "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
                ].joined(separator: "&")
                let reply = try await client.send(
                    .post, "/\(tenant.tenantId)/oauth2/v2.0/token", body: body,
                    contentType: "application/x-www-form-urlencoded")
                #expect(reply.status == .ok, "\(reply.text)")
            }
        }
    }

    @Test func withoutDemoDataThereIsNoDemoSecretToRenew() async throws {
        let tenant = try await TestTenant.make()
        #expect(try await DemoData.newCredentials(store: tenant.store, hasher: tenant.services.hasher) == nil)
    }
}
