import Foundation
import SigilCore
import Testing

@testable import SigilGraph
@testable import SigilService

/// Users, applications, service principals, the token endpoint and OpenID metadata, role
/// assignments and role definitions (docs/api.md), with Graph's error envelope on every failure.
@Suite struct DirectoryRoutesTests {
    static let users = "/v1.0/users"
    static let roleAssignments = "/v1.0/roleManagement/directory/roleAssignments"
    static let graphScope = "https://graph.microsoft.com/.default"
    static let password = "Sigil-Pass-2024!"
    static let conflictMessage = "A conflicting object with one or more of the specified property values is present in the directory."

    static func notFoundMessage(_ id: String) -> String {
        "Resource '\(id)' does not exist or one of its queried reference-property objects are not present."
    }

    /// A create-user body as Graph documents it.
    static func newUser(_ alias: String, upn: String? = nil) -> JSONObject {
        JSONObject([
            ("accountEnabled", true), ("displayName", .string(alias.capitalized)), ("mailNickname", .string(alias)),
            ("userPrincipalName", .string(upn ?? "\(alias)@sigil.test")),
            ("passwordProfile", ["forceChangePasswordNextSignIn": false, "password": .string(password)]),
        ])
    }

    static func createUser(
        _ client: GraphClient, _ token: String, _ alias: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let reply = try await client.post(users, token: token, .object(newUser(alias)))
        #expect(reply.status == .created, "\(reply.text)", sourceLocation: sourceLocation)
        return try #require(reply["id"]?.stringValue, "\(reply.text)", sourceLocation: sourceLocation)
    }

    static func tokenPath(_ tenant: TestTenant) -> String { "/\(tenant.tenantId)/oauth2/v2.0/token" }

    static func isGUID(_ value: JSONValue?) -> Bool {
        value?.stringValue.flatMap { UUID(uuidString: $0) } != nil
    }

    // MARK: Users

    @Test func createUserReturns201WithoutThePassword() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            var body = JSONObject([(key: "@odata.type", value: "#microsoft.graph.user")])
            for member in Self.newUser("adele") { body.append(member.key, member.value) }
            body["jobTitle"] = "Product Marketing Manager"
            let before = Date().addingTimeInterval(-2)
            let created = try await client.post(Self.users, token: boot, .object(body))
            #expect(created.status == .created, "\(created.text)")
            #expect(created.hasContext("users/$entity"), "\(created.text)")
            #expect(Self.isGUID(created["id"]))
            // Graph's default user properties, no more.
            #expect(
                created.object.keys
                    == [
                        "@odata.context", "id", "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                        "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
                    ], "\(created.text)")
            #expect(created["displayName"] == "Adele")
            #expect(created["userPrincipalName"] == "adele@sigil.test")
            #expect(created["jobTitle"] == "Product Marketing Manager")
            #expect(created["businessPhones"] == [])
            #expect(created["mail"] == .null)
            #expect(!created.text.contains(Self.password))
            #expect(!created.text.contains("passwordProfile"))

            let id = try #require(created["id"]?.stringValue)
            let selected = try await client.get("\(Self.users)/\(id)?$select=createdDateTime,accountEnabled,mailNickname", token: boot)
            #expect(selected.status == .ok, "\(selected.text)")
            #expect(selected.hasContext("users(createdDateTime,accountEnabled,mailNickname)/$entity"), "\(selected.text)")
            let stamp = try #require(selected["createdDateTime"]?.stringValue, "\(selected.text)")
            let date = try #require(try? Date(stamp, strategy: .iso8601), "\(stamp)")
            #expect(date >= before && date <= Date().addingTimeInterval(2), "\(stamp)")
            #expect(selected["accountEnabled"] == true)
            #expect(selected["mailNickname"] == "adele")
            let full = try await client.get("\(Self.users)/\(id)?$select=passwordProfile", token: boot)
            full.expectError(400, "Request_BadRequest")
        }
    }

    /// Each bad create: its body, content type and the exact message.
    static let badCreates: [(label: String, body: String, contentType: String, message: String)] = [
        (
            "missing mailNickname",
            #"{"accountEnabled":true,"displayName":"Bad","userPrincipalName":"bad@sigil.test","passwordProfile":{"password":"Sigil-Pass-2024!"}}"#,
            "application/json", "Property 'mailNickname' of resource 'User' is required."
        ),
        (
            "bad userPrincipalName",
            #"{"accountEnabled":true,"displayName":"Bad","mailNickname":"bad","userPrincipalName":"bad user@sigil","passwordProfile":{"password":"Sigil-Pass-2024!"}}"#,
            "application/json", "Property userPrincipalName is invalid: expected alias@domain with no spaces."
        ),
        (
            "unknown property",
            #"{"accountEnabled":true,"displayName":"Bad","mailNickname":"bad","userPrincipalName":"bad@sigil.test","passwordProfile":{"password":"Sigil-Pass-2024!"},"favouriteColour":"blue"}"#,
            "application/json", "Invalid property 'favouriteColour'."
        ),
        (
            "malformed JSON", #"{"accountEnabled":true,"displayName":"Bad","#, "application/json",
            "The request body is not valid JSON"
        ),
        (
            "text/plain",
            #"{"accountEnabled":true,"displayName":"Bad","mailNickname":"bad","userPrincipalName":"bad@sigil.test","passwordProfile":{"password":"Sigil-Pass-2024!"}}"#,
            "text/plain", "Content-Type 'text/plain' is not supported; send application/json."
        ),
        ("empty body", "", "application/json", "The request body is empty; a JSON object was expected."),
    ]

    @Test(arguments: 0..<badCreates.count)
    func badUserCreateIsRefusedWithTheGraphEnvelope(index: Int) async throws {
        let bad = Self.badCreates[index]
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        let clientRequestId = UUID().uuidString.lowercased()
        try await tenant.test { client in
            let reply = try await client.send(
                .post, Self.users, token: boot, body: bad.body, headers: ["client-request-id": clientRequestId],
                contentType: bad.contentType)
            #expect(reply.status == .badRequest, "\(bad.label): \(reply.text)")
            #expect(reply.errorCode == "Request_BadRequest", "\(bad.label): \(reply.text)")
            let message = try #require(reply.errorMessage, "\(bad.label): \(reply.text)")
            if bad.label == "malformed JSON" {
                #expect(message.hasPrefix(bad.message), "\(message)")
            } else {
                #expect(message == bad.message, "\(bad.label)")
            }
            let inner = try #require(reply.object["error"]?.objectValue?["innerError"]?.objectValue, "\(reply.text)")
            let requestId = try #require(reply.header("request-id"))
            #expect(UUID(uuidString: requestId) != nil, "\(requestId)")
            #expect(inner["request-id"] == .string(requestId))
            #expect(inner["client-request-id"] == .string(clientRequestId))
            #expect(reply.header("client-request-id") == clientRequestId)
            let date = try #require(inner["date"]?.stringValue)
            #expect(date.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/) != nil, "\(date)")
            #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true)

            // Nothing was created.
            let list = try await client.get(Self.users, token: boot)
            #expect(list.status == .ok)
            #expect(list.values.isEmpty, "\(list.text)")
        }
    }

    @Test func withoutClientRequestIdTheRequestIdIsEchoed() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let reply = try await client.get("\(Self.users)/\(UUID().uuidString.lowercased())", token: boot)
            #expect(reply.status == .notFound)
            let requestId = try #require(reply.header("request-id"))
            let inner = reply.object["error"]?.objectValue?["innerError"]?.objectValue
            #expect(inner?["request-id"] == .string(requestId))
            #expect(inner?["client-request-id"] == .string(requestId))
            #expect(reply.header("client-request-id") == requestId)
            // Every reply, not only errors, carries its request id.
            let ok = try await client.get(Self.users, token: boot)
            #expect(ok.header("request-id").flatMap { UUID(uuidString: $0) } != nil)
            #expect(ok.header("request-id") != requestId)
        }
    }

    @Test func duplicateUserPrincipalNameIsRefused() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let id = try await Self.createUser(client, boot, "adele")
            let duplicate = try await client.post(Self.users, token: boot, .object(Self.newUser("adele2", upn: "ADELE@sigil.test")))
            duplicate.expectError(400, "Request_BadRequest", Self.conflictMessage)
            let list = try await client.get(Self.users, token: boot)
            #expect(list.valueIds == [id])
            #expect(try await client.get("\(Self.users)/adele@sigil.test", token: boot)["displayName"] == "Adele")
        }
    }

    @Test func getUserByIdAndByUserPrincipalName() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let id = try await Self.createUser(client, boot, "adele")
            for key in [id, id.uppercased(), "adele@sigil.test", "Adele@Sigil.Test"] {
                let read = try await client.get("\(Self.users)/\(key)", token: boot)
                #expect(read.status == .ok, "\(key): \(read.text)")
                #expect(read.hasContext("users/$entity"), "\(read.text)")
                #expect(read["id"] == .string(id), "\(key)")
                #expect(read["userPrincipalName"] == "adele@sigil.test")
            }
            let missing = try await client.get("\(Self.users)/nobody@sigil.test", token: boot)
            missing.expectError(404, "Request_ResourceNotFound", Self.notFoundMessage("nobody@sigil.test"))
        }
    }

    @Test func listUsersPagesWithTopAndNextLink() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            var created: [String] = []
            for alias in ["ann", "bob", "cat", "dan", "eve"] { created.append(try await Self.createUser(client, boot, alias)) }

            var seen: [String] = []
            var sizes: [Int] = []
            var next: String? = "\(Self.users)?$top=2"
            while let path = next, sizes.count < 10 {
                let page = try await client.follow(path, token: boot)
                #expect(page.status == .ok, "\(page.text)")
                #expect(page.hasContext("users"), "\(page.text)")
                sizes.append(page.values.count)
                seen += page.valueIds
                next = page["@odata.nextLink"]?.stringValue
                if let link = next {
                    #expect(link.contains("/v1.0/users?"), "\(link)")
                    #expect(link.contains("$top=2"), "\(link)")
                    #expect(link.contains("$skiptoken="), "\(link)")
                }
            }
            #expect(sizes == [2, 2, 1])
            #expect(seen.count == 5)
            #expect(Set(seen) == Set(created))

            // A forged $skiptoken is refused.
            let forged = try await client.get("\(Self.users)?$top=2&$skiptoken=MTAuYWJj", token: boot)
            forged.expectError(400, "Request_BadRequest")
        }
    }

    @Test func countNeedsEventualConsistency() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            for alias in ["ann", "bob", "cat"] { _ = try await Self.createUser(client, boot, alias) }

            let counted = try await client.get("\(Self.users)?$count=true", token: boot, headers: ["ConsistencyLevel": "eventual"])
            #expect(counted.status == .ok, "\(counted.text)")
            #expect(counted["@odata.count"] == 3, "\(counted.text)")
            #expect(counted.values.count == 3)
            #expect(counted.object.keys.first == "@odata.context")

            let inQuery = try await client.get("\(Self.users)?$count=true&ConsistencyLevel=eventual", token: boot)
            #expect(inQuery["@odata.count"] == 3, "\(inQuery.text)")

            let uncounted = try await client.get("\(Self.users)?$count=true", token: boot)
            #expect(uncounted.status == .ok, "\(uncounted.text)")
            #expect(!uncounted.object.contains("@odata.count"), "\(uncounted.text)")
            #expect(uncounted.values.count == 3)

            // @odata.count on the first page only.
            let first = try await client.get("\(Self.users)?$count=true&$top=2", token: boot, headers: ["ConsistencyLevel": "eventual"])
            #expect(first["@odata.count"] == 3)
            let link = try #require(first["@odata.nextLink"]?.stringValue)
            let second = try await client.follow(link, token: boot, headers: ["ConsistencyLevel": "eventual"])
            #expect(second.status == .ok)
            #expect(!second.object.contains("@odata.count"), "\(second.text)")
            #expect(second.values.count == 1)

            let count = try await client.get("\(Self.users)/$count", token: boot, headers: ["ConsistencyLevel": "eventual"])
            #expect(count.status == .ok, "\(count.text)")
            #expect(count.text == "3")
            #expect(count.header("Content-Type")?.hasPrefix("text/plain") == true)

            let refused = try await client.get("\(Self.users)/$count", token: boot)
            refused.expectError(400, "Request_BadRequest", "$count is not currently supported.")
        }
    }

    /// Behind a TLS-terminating load balancer, links name the public origin, not the instance.
    @Test func linksUseThePublicURL() async throws {
        let tenant = try await TestTenant.make(publicURL: "https://sigil.example.com/")
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            for name in ["ana", "bo"] { _ = try await Self.createUser(client, boot, name) }
            let page = try await client.get("\(Self.users)?$top=1", token: boot)
            #expect(page["@odata.context"]?.stringValue == "https://sigil.example.com/v1.0/$metadata#users", "\(page.text)")
            let link = try #require(page["@odata.nextLink"]?.stringValue)
            #expect(link.hasPrefix("https://sigil.example.com/v1.0/users?"), "\(link)")
            let openid = try await client.get("/\(tenant.tenantId)/v2.0/.well-known/openid-configuration", token: nil)
            #expect(
                openid["token_endpoint"]?.stringValue == "https://sigil.example.com/\(tenant.tenantId)/oauth2/v2.0/token",
                "\(openid.text)")
        }
    }

    @Test func patchUserThenReadBack() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let id = try await Self.createUser(client, boot, "adele")
            let patch = try await client.patch("\(Self.users)/\(id)", token: boot, ["jobTitle": "Engineer", "displayName": "Adele Vance"])
            #expect(patch.status == .noContent, "\(patch.text)")
            #expect(patch.text.isEmpty)
            let read = try await client.get("\(Self.users)/adele@sigil.test", token: boot)
            #expect(read["jobTitle"] == "Engineer")
            #expect(read["displayName"] == "Adele Vance")

            let readOnly = try await client.patch("\(Self.users)/\(id)", token: boot, ["createdDateTime": "2020-01-01T00:00:00Z", "jobTitle": "CEO"])
            readOnly.expectError(400, "Request_BadRequest")
            #expect(try await client.get("\(Self.users)/\(id)", token: boot)["jobTitle"] == "Engineer")
        }
    }

    @Test func deleteUserThen404() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let id = try await Self.createUser(client, boot, "adele")
            let deleted = try await client.delete("\(Self.users)/\(id)", token: boot)
            #expect(deleted.status == .noContent, "\(deleted.text)")
            #expect(deleted.text.isEmpty)
            try await client.get("\(Self.users)/\(id)", token: boot).expectError(404, "Request_ResourceNotFound", Self.notFoundMessage(id))
            try await client.get("\(Self.users)/adele@sigil.test", token: boot).expectError(404, "Request_ResourceNotFound")
            try await client.delete("\(Self.users)/\(id)", token: boot).expectError(404, "Request_ResourceNotFound")
            #expect(try await client.get(Self.users, token: boot).values.isEmpty)
        }
    }

    enum UserWriter: String, CaseIterable, Sendable {
        case globalAdministrator, userAdministrator, privilegedRoleAdministrator, assignmentAdministrator, definitionAdministrator
        case noRole
    }

    @Test(arguments: UserWriter.allCases)
    func onlyGlobalAndUserAdministratorsCreateUsers(writer: UserWriter) async throws {
        let tenant = try await TestTenant.make()
        let token: String =
            switch writer {
            case .globalAdministrator: try await tenant.bootstrapToken()
            case .userAdministrator: try await tenant.servicePrincipal(grants: [.tenant(.userAdministrator)]).token
            case .privilegedRoleAdministrator: try await tenant.servicePrincipal(grants: [.tenant(.privilegedRoleAdministrator)]).token
            case .assignmentAdministrator: try await tenant.servicePrincipal(grants: [.tenant(.attributeAssignmentAdministrator)]).token
            case .definitionAdministrator: try await tenant.servicePrincipal(grants: [.tenant(.attributeDefinitionAdministrator)]).token
            case .noRole: try await tenant.servicePrincipal().token
            }
        let allowed = writer == .globalAdministrator || writer == .userAdministrator
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let reply = try await client.post(Self.users, token: token, .object(Self.newUser("adele")))
            if allowed {
                #expect(reply.status == .created, "\(writer): \(reply.text)")
            } else {
                reply.expectError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
            }
            let read = try await client.get("\(Self.users)/adele@sigil.test", token: boot)
            #expect(read.status.code == (allowed ? 200 : 404), "\(read.text)")
        }
    }

    // MARK: Applications, secrets, service principals and tokens

    @Test func applicationSecretLifecycleAndClientCredentials() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let application = try await client.post("/v1.0/applications", token: boot, ["displayName": "Payroll"])
            #expect(application.status == .created, "\(application.text)")
            #expect(application.hasContext("applications/$entity"), "\(application.text)")
            #expect(application["displayName"] == "Payroll")
            #expect(application["passwordCredentials"] == [])
            #expect(Self.isGUID(application["id"]))
            #expect(Self.isGUID(application["appId"]))
            let objectId = try #require(application["id"]?.stringValue)
            let appId = try #require(application["appId"]?.stringValue)
            #expect(objectId != appId)

            let added = try await client.post(
                "/v1.0/applications/\(objectId)/addPassword", token: boot, ["passwordCredential": ["displayName": "CI"]])
            #expect(added.status == .ok, "\(added.text)")
            #expect(added.hasContext("microsoft.graph.passwordCredential"), "\(added.text)")
            let secret = try #require(added["secretText"]?.stringValue, "\(added.text)")
            let keyId = try #require(added["keyId"]?.stringValue)
            #expect(secret.count >= 32)
            #expect(added["hint"] == .string(String(secret.prefix(3))))
            #expect(added["displayName"] == "CI")

            let read = try await client.get("/v1.0/applications/\(objectId)", token: boot)
            #expect(read.status == .ok)
            let credentials = try #require(read["passwordCredentials"]?.arrayValue)
            #expect(credentials.count == 1)
            #expect(credentials.first?.objectValue?["keyId"] == .string(keyId))
            #expect(credentials.first?.objectValue?["secretText"] == .null)
            #expect(!read.text.contains(secret))

            // The service principal comes from the appId.
            let principal = try await client.post("/v1.0/servicePrincipals", token: boot, ["appId": .string(appId)])
            #expect(principal.status == .created, "\(principal.text)")
            #expect(principal.hasContext("servicePrincipals/$entity"), "\(principal.text)")
            #expect(principal["appId"] == .string(appId))
            #expect(principal["appDisplayName"] == "Payroll")
            #expect(principal["displayName"] == "Payroll")
            #expect(principal["servicePrincipalNames"] == [.string(appId)])
            let principalId = try #require(principal["id"]?.stringValue)

            // client_credentials with the new secret gives a token that works on Graph.
            let granted = try await client.postForm(
                Self.tokenPath(tenant),
                [("grant_type", "client_credentials"), ("client_id", appId), ("client_secret", secret), ("scope", Self.graphScope)])
            #expect(granted.status == .ok, "\(granted.text)")
            #expect(granted["token_type"] == "Bearer")
            #expect(granted["expires_in"] == 3599)
            let token = try #require(granted["access_token"]?.stringValue, "\(granted.text)")
            let list = try await client.get(Self.users, token: token)
            #expect(list.status == .ok, "\(list.text)")
            #expect(list.hasContext("users"))
            let me = try await client.get("/v1.0/servicePrincipals/\(principalId)", token: token)
            #expect(me["appId"] == .string(appId))

            let wrong = try await client.postForm(
                Self.tokenPath(tenant),
                [("grant_type", "client_credentials"), ("client_id", appId), ("client_secret", secret + "x"), ("scope", Self.graphScope)])
            #expect(wrong.status == .unauthorized, "\(wrong.text)")
            #expect(wrong["error"] == "invalid_client")
            #expect(wrong["error_description"]?.stringValue?.isEmpty == false)
            #expect(wrong["access_token"] == nil)

            // removePassword retires the secret.
            let removed = try await client.post("/v1.0/applications/\(objectId)/removePassword", token: boot, ["keyId": .string(keyId)])
            #expect(removed.status == .noContent, "\(removed.text)")
            #expect(try await client.get("/v1.0/applications/\(objectId)", token: boot)["passwordCredentials"] == [])
            let retired = try await client.postForm(
                Self.tokenPath(tenant),
                [("grant_type", "client_credentials"), ("client_id", appId), ("client_secret", secret), ("scope", Self.graphScope)])
            #expect(retired.status == .unauthorized, "\(retired.text)")
            #expect(retired["error"] == "invalid_client")
            let again = try await client.post("/v1.0/applications/\(objectId)/removePassword", token: boot, ["keyId": .string(keyId)])
            again.expectError(404, "Request_ResourceNotFound")
        }
    }

    @Test func servicePrincipalFromUnknownAppIdIsRefused() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let before = try await client.get("/v1.0/servicePrincipals", token: boot)
            #expect(before.status == .ok)
            let unknown = UUID().uuidString.lowercased()
            let reply = try await client.post("/v1.0/servicePrincipals", token: boot, ["appId": .string(unknown)])
            reply.expectError(
                400, "Request_BadRequest",
                "The appId '\(unknown)' of the service principal does not reference a valid application object.")
            let after = try await client.get("/v1.0/servicePrincipals", token: boot)
            #expect(after.valueIds == before.valueIds)
        }
    }

    @Test func tokenEndpointRefusesUnknownGrantType() async throws {
        let tenant = try await TestTenant.make()
        try await tenant.test { client in
            let reply = try await client.postForm(
                Self.tokenPath(tenant),
                [
                    ("grant_type", "authorization_code"), ("client_id", tenant.bootstrapClientId), ("code", "abc"),
                    ("scope", Self.graphScope),
                ])
            #expect(reply.status == .badRequest, "\(reply.text)")
            #expect(reply["error"] == "unsupported_grant_type")
            #expect(reply["access_token"] == nil)
            // The bootstrap credentials themselves work.
            let boot = try await client.postForm(
                Self.tokenPath(tenant),
                [
                    ("grant_type", "client_credentials"), ("client_id", tenant.bootstrapClientId),
                    ("client_secret", tenant.bootstrapSecret), ("scope", Self.graphScope),
                ])
            #expect(boot.status == .ok, "\(boot.text)")
            #expect(boot["token_type"] == "Bearer")
        }
    }

    @Test func passwordGrantSignsTheUserInForMe() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let id = try await Self.createUser(client, boot, "adele")
            let granted = try await client.postForm(
                Self.tokenPath(tenant),
                [
                    ("grant_type", "password"), ("client_id", tenant.bootstrapClientId), ("username", "adele@sigil.test"),
                    ("password", Self.password), ("scope", Self.graphScope),
                ])
            #expect(granted.status == .ok, "\(granted.text)")
            #expect(granted["token_type"] == "Bearer")
            #expect(granted["expires_in"] == 3599)
            let token = try #require(granted["access_token"]?.stringValue, "\(granted.text)")

            let me = try await client.get("/v1.0/me", token: token)
            #expect(me.status == .ok, "\(me.text)")
            #expect(me.hasContext("users/$entity"), "\(me.text)")
            #expect(me["id"] == .string(id))
            #expect(me["userPrincipalName"] == "adele@sigil.test")
            #expect(me["displayName"] == "Adele")

            // /me is for delegated tokens only.
            try await client.get("/v1.0/me", token: boot).expectError(400, "Request_BadRequest")

            let wrong = try await client.postForm(
                Self.tokenPath(tenant),
                [
                    ("grant_type", "password"), ("client_id", tenant.bootstrapClientId), ("username", "adele@sigil.test"),
                    ("password", "Wrong-Pass-2024!"), ("scope", Self.graphScope),
                ])
            #expect(wrong.status == .badRequest, "\(wrong.text)")
            #expect(wrong["error"] == "invalid_grant")
            #expect(wrong["access_token"] == nil)

            let nobody = try await client.postForm(
                Self.tokenPath(tenant),
                [
                    ("grant_type", "password"), ("client_id", tenant.bootstrapClientId), ("username", "nobody@sigil.test"),
                    ("password", Self.password), ("scope", Self.graphScope),
                ])
            #expect(nobody.status == .badRequest)
            #expect(nobody["error"] == "invalid_grant")
            #expect(nobody["error_description"] == wrong["error_description"])
        }
    }

    @Test func disabledAndDeletedUsersLoseTheirTokens() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let id = try await Self.createUser(client, boot, "adele")
            let form = [
                ("grant_type", "password"), ("client_id", tenant.bootstrapClientId), ("username", "adele@sigil.test"),
                ("password", Self.password), ("scope", Self.graphScope),
            ]
            let granted = try await client.postForm(Self.tokenPath(tenant), form)
            let token = try #require(granted["access_token"]?.stringValue, "\(granted.text)")
            #expect(try await client.get("/v1.0/me", token: token).status == .ok)

            let disable = try await client.patch("\(Self.users)/\(id)", token: boot, ["accountEnabled": false])
            #expect(disable.status == .noContent, "\(disable.text)")
            try await client.get("/v1.0/me", token: token).expectError(401, "InvalidAuthenticationToken")
            let refused = try await client.postForm(Self.tokenPath(tenant), form)
            #expect(refused.status == .badRequest, "\(refused.text)")
            #expect(refused["error"] == "invalid_grant")

            let enable = try await client.patch("\(Self.users)/\(id)", token: boot, ["accountEnabled": true])
            #expect(enable.status == .noContent)
            #expect(try await client.get("/v1.0/me", token: token).status == .ok)

            #expect(try await client.delete("\(Self.users)/\(id)", token: boot).status == .noContent)
            try await client.get("/v1.0/me", token: token).expectError(401, "InvalidAuthenticationToken")
            let gone = try await client.postForm(Self.tokenPath(tenant), form)
            #expect(gone.status == .badRequest, "\(gone.text)")
            #expect(gone["error"] == "invalid_grant")
        }
    }

    @Test func forgedAndMalformedBearerTokensAreRefused() async throws {
        let tenant = try await TestTenant.make()
        let other = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        let foreign = try await other.bootstrapToken()
        // The payload of a valid token, with the signature of another: a tampered claim set.
        let parts = boot.split(separator: ".").map(String.init)
        let foreignParts = foreign.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        let spliced = [parts[0], foreignParts[1], parts[2]].joined(separator: ".")
        let unsigned = [parts[0], parts[1], ""].joined(separator: ".")
        try await tenant.test { client in
            #expect(try await client.get(Self.users, token: boot).status == .ok)
            for (label, token) in [
                ("garbage", "garbage"), ("other tenant", foreign), ("tampered", spliced), ("unsigned", unsigned),
                ("truncated", String(boot.dropLast(4))),
            ] {
                let reply = try await client.get(Self.users, token: token)
                #expect(reply.status == .unauthorized, "\(label): \(reply.text)")
                #expect(reply.errorCode == "InvalidAuthenticationToken", "\(label): \(reply.text)")
            }
            let basic = try await client.send(.get, Self.users, headers: ["Authorization": "Basic dXNlcjpwYXNz"])
            basic.expectError(401, "InvalidAuthenticationToken")
            let none = try await client.get(Self.users, token: nil)
            none.expectError(401, "InvalidAuthenticationToken", "Access token is empty.")
        }
    }

    @Test func openIdConfigurationAndKeys() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let configuration = try await client.get("/\(tenant.tenantId)/v2.0/.well-known/openid-configuration", token: nil)
            #expect(configuration.status == .ok, "\(configuration.text)")
            let tokenEndpoint = try #require(configuration["token_endpoint"]?.stringValue)
            #expect(tokenEndpoint.hasSuffix("/\(tenant.tenantId)/oauth2/v2.0/token"), "\(tokenEndpoint)")
            #expect(GraphClient.pathAndQuery(of: tokenEndpoint) == Self.tokenPath(tenant))
            let authorize = try #require(configuration["authorization_endpoint"]?.stringValue)
            #expect(authorize.hasSuffix("/\(tenant.tenantId)/oauth2/v2.0/authorize"), "\(authorize)")
            let jwksURI = try #require(configuration["jwks_uri"]?.stringValue)
            #expect(jwksURI.hasSuffix("/\(tenant.tenantId)/discovery/v2.0/keys"), "\(jwksURI)")
            #expect(configuration["issuer"] == .string("https://sts.windows.net/\(tenant.tenantId)/"))

            let jwks = try await client.follow(jwksURI, token: nil)
            #expect(jwks.status == .ok, "\(jwks.text)")
            let keys = try #require(jwks["keys"]?.arrayValue)
            #expect(keys.count == 1)
            let key = try #require(keys.first?.objectValue)
            #expect(key["kty"] == "EC")
            #expect(key["crv"] == "P-256")
            #expect(key["alg"] == "ES256")
            #expect(key["use"] == "sig")
            #expect(key["x"]?.stringValue?.isEmpty == false)
            #expect(key["y"]?.stringValue?.isEmpty == false)
            #expect(key["d"] == nil)

            // Tokens name that key in their header.
            var header = String(boot.split(separator: ".")[0]).replacingOccurrences(of: "-", with: "+")
                .replacingOccurrences(of: "_", with: "/")
            while header.count % 4 != 0 { header += "=" }
            let decoded = try #require(Data(base64Encoded: header).flatMap { try? JSON.parse(String(decoding: $0, as: UTF8.self)) })
            #expect(decoded.objectValue?["kid"] == key["kid"])
            #expect(decoded.objectValue?["alg"] == "ES256")

            let otherTenant = try await client.get("/\(UUID().uuidString.lowercased())/v2.0/.well-known/openid-configuration", token: nil)
            #expect(otherTenant.status == .badRequest)
            #expect(otherTenant["error"] == "invalid_tenant")
        }
    }

    // MARK: Roles

    @Test func roleAssignmentsCreateListAndDelete() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        let definer = try await tenant.servicePrincipal("Definer", grants: [.tenant(.attributeDefinitionAdministrator)])
        let principal = try await tenant.servicePrincipal("Reader")
        let readerRole = DirectoryRole.attributeDefinitionReader.templateId
        try await tenant.test { client in
            let set = try await client.post("/v1.0/directory/attributeSets", token: definer.token, ["id": "Engineering"])
            #expect(set.status == .created)
            // No role yet: no attribute sets.
            try await client.get("/v1.0/directory/attributeSets", token: principal.token).expectError(403, "Authorization_RequestDenied")

            let created = try await client.post(
                Self.roleAssignments, token: boot,
                [
                    "@odata.type": "#microsoft.graph.unifiedRoleAssignment", "principalId": .string(principal.id),
                    "roleDefinitionId": .string(readerRole), "directoryScopeId": "/",
                ])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.hasContext("roleManagement/directory/roleAssignments/$entity"), "\(created.text)")
            #expect(created.object.keys == ["@odata.context", "id", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId"])
            #expect(Self.isGUID(created["id"]))
            #expect(created["principalId"] == .string(principal.id))
            #expect(created["roleDefinitionId"] == .string(readerRole))
            #expect(created["directoryScopeId"] == "/")
            #expect(created["appScopeId"] == .null)
            let assignmentId = try #require(created["id"]?.stringValue)

            // The role applies at once.
            #expect(try await client.get("/v1.0/directory/attributeSets", token: principal.token).status == .ok)

            let duplicate = try await client.post(
                Self.roleAssignments, token: boot,
                ["principalId": .string(principal.id), "roleDefinitionId": .string(readerRole), "directoryScopeId": "/"])
            duplicate.expectError(400, "Request_BadRequest", Self.conflictMessage)

            let unknownSet = try await client.post(
                Self.roleAssignments, token: boot,
                ["principalId": .string(principal.id), "roleDefinitionId": .string(readerRole), "directoryScopeId": "/attributeSets/Nope"])
            unknownSet.expectError(400, "Request_BadRequest", "The attribute set 'Nope' named by property 'directoryScopeId' does not exist.")

            let globalOnSet = try await client.post(
                Self.roleAssignments, token: boot,
                [
                    "principalId": .string(principal.id), "roleDefinitionId": .string(DirectoryRole.globalAdministrator.templateId),
                    "directoryScopeId": "/attributeSets/Engineering",
                ])
            globalOnSet.expectError(400, "Request_BadRequest", "The role 'Global Administrator' can only be assigned at the tenant scope '/'.")

            // A set scope is stored with the set's own casing.
            let scoped = try await client.post(
                Self.roleAssignments, token: boot,
                [
                    "principalId": .string(principal.id),
                    "roleDefinitionId": .string(DirectoryRole.attributeAssignmentReader.templateId),
                    "directoryScopeId": "/attributeSets/engineering",
                ])
            #expect(scoped.status == .created, "\(scoped.text)")
            #expect(scoped["directoryScopeId"] == "/attributeSets/Engineering")
            let scopedId = try #require(scoped["id"]?.stringValue)

            let filter = "principalId eq '\(principal.id)'".formEncoded
            let listed = try await client.get("\(Self.roleAssignments)?$filter=\(filter)", token: boot)
            #expect(listed.status == .ok, "\(listed.text)")
            #expect(listed.hasContext("roleManagement/directory/roleAssignments"), "\(listed.text)")
            #expect(Set(listed.valueIds) == [assignmentId, scopedId])
            #expect(listed.valueIds.count == 2)
            for item in listed.values { #expect(item.objectValue?["principalId"] == .string(principal.id)) }

            let read = try await client.get("\(Self.roleAssignments)/\(assignmentId)", token: boot)
            #expect(read.status == .ok)
            #expect(read["roleDefinitionId"] == .string(readerRole))

            let deleted = try await client.delete("\(Self.roleAssignments)/\(assignmentId)", token: boot)
            #expect(deleted.status == .noContent, "\(deleted.text)")
            #expect(deleted.text.isEmpty)
            try await client.get("\(Self.roleAssignments)/\(assignmentId)", token: boot).expectError(404, "Request_ResourceNotFound")
            #expect(try await client.get("\(Self.roleAssignments)?$filter=\(filter)", token: boot).valueIds == [scopedId])
            // The tenant-wide role is gone; the set-scoped Assignment Reader still reads its set.
            let sets = try await client.get("/v1.0/directory/attributeSets", token: principal.token)
            #expect(sets.valueIds == ["Engineering"], "\(sets.text)")
            let withoutRole = try await client.post("/v1.0/directory/attributeSets", token: principal.token, ["id": "Marketing"])
            withoutRole.expectError(403, "Authorization_RequestDenied")

            // Only role administrators assign roles.
            let selfGrant = try await client.post(
                Self.roleAssignments, token: definer.token,
                ["principalId": .string(definer.id), "roleDefinitionId": .string(DirectoryRole.globalAdministrator.templateId), "directoryScopeId": "/"])
            selfGrant.expectError(403, "Authorization_RequestDenied")
        }
    }

    @Test func roleDefinitionsListTheNineRoles() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let reply = try await client.get("/v1.0/roleManagement/directory/roleDefinitions", token: boot)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.hasContext("roleManagement/directory/roleDefinitions"), "\(reply.text)")
            let expected: [String: String] = [
                "8424c6f0-a189-499e-bbd0-26c1753c96d4": "Attribute Definition Administrator",
                "1d336d2c-4ae8-42ef-9711-b3604ce3fc2c": "Attribute Definition Reader",
                "58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d": "Attribute Assignment Administrator",
                "ffd52fa5-98dc-465c-991d-fc073eb59f8f": "Attribute Assignment Reader",
                "5b784334-f94b-471a-a387-e7219fc49ca2": "Attribute Log Administrator",
                "9c99539d-8186-4804-835f-fd51ef9e2dcd": "Attribute Log Reader",
                "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
                "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
                "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
                "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
                "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
                "5d6b6bb7-de71-4623-b4af-96380a352509": "Security Reader",
                "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
            ]
            // Every role the matrix knows (other features add theirs to `expected`).
            #expect(reply.values.count == DirectoryRole.allCases.count)
            var actual: [String: String] = [:]
            for item in reply.values {
                let object = try #require(item.objectValue)
                let id = try #require(object["id"]?.stringValue)
                actual[id] = object["displayName"]?.stringValue
                #expect(object["templateId"] == .string(id))
                #expect(object["isBuiltIn"] == true)
            }
            for (id, name) in expected { #expect(actual[id] == name, "\(id)") }
        }
    }

    // MARK: Limits

    @Test func bodyOverTheLimitIs413WithTheGraphEnvelope() async throws {
        let tenant = try await TestTenant.make()
        let boot = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let filler = String(repeating: "a", count: 2 * 1024 * 1024)
            let body = #"{"accountEnabled":true,"displayName":"\#(filler)"}"#
            let reply = try await client.send(.post, Self.users, token: boot, body: body, headers: ["client-request-id": "big-one"])
            #expect(reply.status.code == 413, "\(reply.status) \(reply.text.prefix(300))")
            #expect(reply.errorCode == "Request_EntityTooLarge", "\(reply.text.prefix(300))")
            #expect(reply.errorMessage?.isEmpty == false)
            let inner = reply.object["error"]?.objectValue?["innerError"]?.objectValue
            #expect(inner?["request-id"] != nil)
            #expect(inner?["request-id"] == reply.header("request-id").map { .string($0) })
            #expect(inner?["client-request-id"] == "big-one")
            #expect(try await client.get(Self.users, token: boot).values.isEmpty)
        }
    }
}
