import Testing

@testable import SigilGraph
@testable import SigilService

@Suite struct SmokeTests {
    @Test func attributeSetCreatedByDefinitionAdministratorIsReadBack() async throws {
        let tenant = try await TestTenant.make()
        let admin = try await tenant.servicePrincipal(grants: [.tenant(.attributeDefinitionAdministrator)])
        try await tenant.test { client in
            let created = try await client.post(
                "/v1.0/directory/attributeSets", token: admin.token,
                ["id": "Engineering", "description": "Attributes for engineering team", "maxAttributesPerSet": 25])
            #expect(created.status == .created)
            #expect(created["@odata.context"]?.stringValue?.hasSuffix("/v1.0/$metadata#directory/attributeSets/$entity") == true)
            #expect(created["id"] == "Engineering")
            let read = try await client.get("/beta/directory/attributeSets/engineering", token: admin.token)
            #expect(read.status == .ok)
            #expect(read["maxAttributesPerSet"] == 25)
        }
    }
}
