import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SigilCore
import Testing

@testable import SigilConsole
@testable import SigilGraph
@testable import SigilService

/// Path parameters are percent-decoded exactly once, for every route (`GraphContext.parameters`):
/// the Graph SDKs encode `@` in a userPrincipalName and spaces in allowed values.
@Suite struct PathDecodingTests {
    static let definitions = "/v1.0/directory/customSecurityAttributeDefinitions"

    @Test func userAddressedByEncodedUserPrincipalName() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        let chandra = try await tenant.user("Chandra")
        try await tenant.test { client in
            for path in ["/v1.0/users/chandra%40sigil.test", "/v1.0/users/chandra%40sigil%2Etest", "/beta/users/chandra@sigil.test"] {
                let reply = try await client.get(path, token: boot)
                #expect(reply.status == .ok, "\(path): \(reply.text)")
                #expect(reply["id"]?.stringValue == chandra.id, "\(path)")
            }
            let renamed = try await client.patch("/v1.0/users/chandra%40sigil.test", token: boot, ["jobTitle": "Engineer"])
            #expect(renamed.status == .noContent, "\(renamed.text)")
            let read = try await client.get("/v1.0/users/\(chandra.id)?$select=jobTitle", token: boot)
            #expect(read["jobTitle"]?.stringValue == "Engineer", "\(read.text)")
        }
    }

    @Test func allowedValuesWithSpacesSlashesPlusesAndPercents() async throws {
        let tenant = try await TestTenant.make()
        let admin = try await tenant.servicePrincipal("Definitions", grants: [.tenant(.attributeDefinitionAdministrator)])
        try await tenant.test { client in
            let set = try await client.post("/v1.0/directory/attributeSets", token: admin.token, ["id": "Engineering"])
            #expect(set.status == .created, "\(set.text)")
            let created = try await client.post(
                Self.definitions, token: admin.token,
                [
                    "attributeSet": "Engineering", "isCollection": true, "isSearchable": true, "name": "Project",
                    "status": "Available", "type": "String", "usePreDefinedValuesOnly": true,
                    "allowedValues": [
                        ["id": "New York", "isActive": true], ["id": "A/B", "isActive": true],
                        ["id": "C++", "isActive": true], ["id": "50%", "isActive": true],
                    ],
                ])
            #expect(created.status == .created, "\(created.text)")
            let values = "\(Self.definitions)/Engineering_Project/allowedValues"
            // Each encoded path names the value shown; `+` is a literal plus, `%2F` stays in its segment.
            let cases = [
                ("New%20York", "New York"), ("A%2FB", "A/B"), ("A%2fB", "A/B"), ("C++", "C++"), ("C%2B%2B", "C++"),
                ("50%25", "50%"),
            ]
            for (segment, id) in cases {
                let reply = try await client.get("\(values)/\(segment)", token: admin.token)
                #expect(reply.status == .ok, "\(segment): \(reply.text)")
                #expect(reply["id"]?.stringValue == id, "\(segment): \(reply.text)")
            }
            // Decoded once, not twice: `%2525` is the value `%25`, which does not exist.
            let twice = try await client.get("\(values)/50%2525", token: admin.token)
            twice.expectError(404, "Request_ResourceNotFound")
            let deactivated = try await client.patch("\(values)/New%20York", token: admin.token, ["isActive": false])
            #expect(deactivated.status == .noContent, "\(deactivated.text)")
            let read = try await client.get("\(values)/New%20York", token: admin.token)
            #expect(read["isActive"] == false, "\(read.text)")
        }
    }

    @Test func malformedEscapesAreBadRequests() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let escape = "has an invalid percent escape"
            for (path, fragment) in [
                ("/v1.0/users/%zz", escape), ("/v1.0/users/chandra%4", escape), ("/v1.0/users/chandra%", escape),
                ("/v1.0/users/%FF%FE", "does not decode to UTF-8 text"), ("/v1.0/users/a%00b", "U+0000"),
                // An unknown route names the bad escape rather than a segment it cannot decode.
                ("/v1.0/nowhere%zz", escape),
            ] {
                let reply = try await client.get(path, token: boot)
                reply.expectError(400, "Request_BadRequest")
                #expect(reply.errorMessage?.contains(fragment) == true, "\(path): \(reply.text)")
            }
            let unknown = try await client.get("/v1.0/no%20where", token: boot)
            unknown.expectError(400, "Request_BadRequest", "Resource not found for the segment 'no where'.")
        }
    }

    @Test func consolePageByEncodedUserPrincipalName() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Reader", grants: [.tenant(.attributeAssignmentReader)])
        _ = try await tenant.user("Chandra")
        try await withConsole(tenant) { browser in
            let signedIn = try await browser.signIn("reader@sigil.test")
            #expect(signedIn.status == .seeOther)
            let page = try await browser.request(.get, "/console/users/chandra%40sigil.test")
            #expect(page.status == .ok, "\(page.html)")
            #expect(page.html.contains("chandra@sigil.test"))
            let malformed = try await browser.request(.get, "/console/users/chandra%zz")
            #expect(malformed.status == .badRequest)
            #expect(malformed.html.contains("invalid percent escape"))
        }
    }

    // MARK: PATCH /me

    @Test func patchMeUpdatesTheSignedInUserUnderTheSameRules() async throws {
        let tenant = try await TestTenant.make()
        let admin = try await tenant.user(
            "Ursula", grants: [.tenant(.userAdministrator), .tenant(.attributeAssignmentAdministrator)])
        let definitions = try await tenant.servicePrincipal("Definitions", grants: [.tenant(.attributeDefinitionAdministrator)])
        let plain = try await tenant.user("Pat")
        let app = try await tenant.servicePrincipal("Daemon", grants: [.tenant(.userAdministrator)])
        try await tenant.test { client in
            for version in ["v1.0", "beta"] {
                let name = "Ursula \(version)"
                let updated = try await client.patch("/\(version)/me", token: admin.token, ["displayName": .string(name)])
                #expect(updated.status == .noContent, "\(updated.text)")
                let me = try await client.get("/\(version)/me", token: admin.token)
                #expect(me["displayName"]?.stringValue == name, "\(me.text)")
                #expect(me["id"]?.stringValue == admin.id)
            }
            // A user without a user-management role is refused alike by both routes.
            let viaMe = try await client.patch("/v1.0/me", token: plain.token, ["displayName": "Patricia"])
            let viaId = try await client.patch("/v1.0/users/\(plain.id)", token: plain.token, ["displayName": "Patricia"])
            viaMe.expectError(403, "Authorization_RequestDenied")
            #expect(viaMe.status == viaId.status && viaMe.errorMessage == viaId.errorMessage, "\(viaMe.text) \(viaId.text)")
            // Nobody assigns their own attribute values, and /me is no way around that: it takes the
            // update path of /users/{id}, where the refusal lives.
            let set = try await client.post("/v1.0/directory/attributeSets", token: definitions.token, ["id": "Engineering"])
            #expect(set.status == .created, "\(set.text)")
            let team = try await client.post(
                Self.definitions, token: definitions.token,
                [
                    "attributeSet": "Engineering", "isCollection": false, "isSearchable": true, "name": "Team",
                    "status": "Available", "type": "String", "usePreDefinedValuesOnly": false,
                ])
            #expect(team.status == .created, "\(team.text)")
            let values: JSONValue = [
                "customSecurityAttributes": [
                    "Engineering": ["@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue", "Team": "Blue"]
                ]
            ]
            let onOther = try await client.patch("/v1.0/users/\(plain.id)", token: admin.token, values)
            #expect(onOther.status == .noContent, "\(onOther.text)")
            let ownViaMe = try await client.patch("/v1.0/me", token: admin.token, values)
            ownViaMe.expectError(403, "Authorization_RequestDenied", GraphError.ownAttributes.message)
            let ownViaId = try await client.patch("/v1.0/users/\(admin.id)", token: admin.token, values)
            #expect(ownViaMe.errorMessage == ownViaId.errorMessage, "\(ownViaId.text)")
            // An application has no /me, as in Graph.
            let fromApp = try await client.patch("/v1.0/me", token: app.token, ["displayName": "Daemon"])
            fromApp.expectError(400, "Request_BadRequest", "/me request is only valid with delegated authentication flow.")
            let unauthenticated = try await client.patch("/v1.0/me", token: nil, ["displayName": "Nobody"])
            #expect(unauthenticated.status == .unauthorized)
        }
    }

    // MARK: Logs

    @Test func failedRequestLogNamesTheRouteTemplateNotThePath() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        let lines = LogLines()
        let logger = Logger(label: "sigil-test") { label in LineLogHandler(label: label, format: .json, write: { lines.append($0) }) }
        // A handler that fails unexpectedly: it asks for a parameter its template does not name.
        let router = buildRouter(
            services: tenant.services, options: ServerOptions(accessLog: true),
            extensions: { router in
                router.get("v1.0/users/:id/probe") { _, context -> String in try context.parameters.require("missing") }
            })
        try await Application(router: router, logger: logger).test(.router) { raw in
            let client = GraphClient(client: raw)
            let reply = try await client.get("/v1.0/users/joe%40sigil.local/probe", token: boot)
            reply.expectError(500, "Service_InternalServerError")
        }
        let failure = try #require(lines.all.first { $0.contains("request failed") }, "\(lines.all)")
        let entry = try #require(try JSON.parse(Array(failure.utf8)).objectValue)
        #expect(entry["route"]?.stringValue == "/v1.0/users/{id}/probe", "\(failure)")
        #expect(entry["method"]?.stringValue == "GET", "\(failure)")
        for line in lines.all {
            #expect(!line.contains("joe"), "\(line)")
        }
    }
}
