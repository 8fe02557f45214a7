import Foundation
import HTTPTypes
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilGraph
@testable import SigilService

/// API-driven inbound provisioning: synchronization jobs, `bulkUpload` and the provisioning logs
/// (docs/api.md, "API-driven inbound provisioning"), in-process against the store the suite runs on.
@Suite struct InboundProvisioningTests {
    typealias Fixture = SeedConformanceTests.Fixture

    static let flat = ScimURN.flatCustomSecurityAttributes

    struct Setup {
        let fixture: Fixture
        /// The provisioning application (Attribute Provisioning Administrator), whose service
        /// principal holds the job.
        let writer: (id: String, token: String)
        let reader: String
        var tenant: TestTenant { fixture.tenant }
        var synchronization: String { "/v1.0/servicePrincipals/\(writer.id)/synchronization" }
    }

    static func make() async throws -> Setup {
        let fixture = try await Fixture.make()
        let writer = try await fixture.tenant.servicePrincipal("HR inbound", grants: [.tenant(.attributeProvisioningAdministrator)])
        let reader = try await fixture.tenant.servicePrincipal("HR monitor", grants: [.tenant(.attributeProvisioningReader)])
        return Setup(fixture: fixture, writer: writer, reader: reader.token)
    }

    /// A created and started job's id.
    static func startedJob(_ client: GraphClient, _ s: Setup) async throws -> String {
        let created = try await client.post(s.synchronization + "/jobs", token: s.writer.token, ["templateId": "API2AAD"])
        #expect(created.status == .created, "\(created.text)")
        let id = try #require(created["id"]?.stringValue)
        let started = try await client.send(.post, s.synchronization + "/jobs/\(id)/start", token: s.writer.token)
        #expect(started.status == .noContent, "\(started.text)")
        return id
    }

    static func upload(
        _ client: GraphClient, _ s: Setup, job: String, _ body: JSONValue, token: String? = nil,
        contentType: String? = "application/scim+json"
    ) async throws -> GraphReply {
        try await client.send(
            .post, s.synchronization + "/jobs/\(job)/bulkUpload", token: token ?? s.writer.token, body: body.serializedString,
            contentType: contentType)
    }

    /// One user operation in the shape of Microsoft's Postman collection for API-driven
    /// provisioning (attributes Sigil does not map included), with custom security attribute
    /// values in the flat HR extension.
    static func operation(
        _ externalId: String, _ alias: String, given: String, family: String, title: String, department: String, values: JSONValue
    ) -> JSONValue {
        [
            // Graph's own samples repeat one bulkId across operations; nothing refers to it.
            "method": "POST", "bulkId": "897401c2-2de4-4b87-a97f-c02de3bcfc61", "path": "/Users",
            "data": [
                "schemas": [
                    .string(ScimURN.user), .string(ScimURN.enterpriseUser), "urn:ietf:params:scim:schemas:extension:csv:1.0:User",
                    .string(flat),
                ],
                "id": "2819c223-7f76-453a-919d-413861904646", "externalId": .string(externalId),
                "userName": .string("\(alias)@contoso.com"), "name": ["familyName": .string(family), "givenName": .string(given)],
                "displayName": .string("\(given) \(family)"), "nickName": .string(given),
                "emails": [["value": .string("\(alias)@contoso.com"), "type": "work", "primary": true]],
                "addresses": [["type": "work", "streetAddress": "201 Universal City Plaza", "country": "USA", "primary": true]],
                "phoneNumbers": [["value": "555-555-5555", "type": "work"]], "userType": "Employee", "title": .string(title),
                "preferredLanguage": "en-US", "locale": "en-US", "timezone": "America/Chicago", "active": true,
                ScimURN.enterpriseUser: [
                    "employeeNumber": .string(externalId), "organization": "Contoso Global Services, Inc. (USA)",
                    "department": .string(department), "manager": ["value": "521097", "$ref": "../Users/26118915"],
                ],
                "urn:ietf:params:scim:schemas:extension:csv:1.0:User": ["HireDate": "2022-07-01", "JobCode": "AB-1001"],
                flat: values,
            ],
        ]
    }

    static func request(_ operations: [JSONValue]) -> JSONValue {
        ["schemas": [.string(ScimURN.bulkRequest)], "Operations": .array(operations), "failOnErrors": .null]
    }

    /// The Postman collection's three users.
    static func sample(monicaProjects: [String] = ["Alpine", "Baker"], monicaVendors: Int64 = 4) -> JSONValue {
        request([
            operation(
                "521195", "monicang", given: "Monica", family: "Ang", title: "President, Consulting Services", department: "Operations",
                values: [
                    "Engineering_Project": .array(monicaProjects.map { .string($0) }),
                    "Engineering_NumVendors": .integer(monicaVendors), "Engineering_Certification": true,
                ]),
            operation(
                "521193", "dparker", given: "Darryl", family: "Parker", title: "Program Manager", department: "Program Management",
                values: ["Engineering_Project": ["Cascade"], "Engineering_ProjectDate": "2025-06-30"]),
            operation(
                "521194", "cabbott", given: "Carol", family: "Abbott", title: "Director, Consulting Services",
                department: "Consulting Services", values: ["Marketing_AppCountry": ["NZ", "FR"]]),
        ])
    }

    /// The user whose employeeId is `externalId`, as the provisioning application reads it through SCIM.
    static func scimUser(_ client: GraphClient, _ s: Setup, _ externalId: String) async throws -> [JSONObject] {
        let reply = try await client.get(
            "/scim/v2/Users?filter=" + "externalId eq \"\(externalId)\"".formEncoded, token: s.writer.token)
        #expect(reply.status == .ok, "\(reply.text)")
        return reply["Resources"]?.arrayValue?.compactMap(\.objectValue) ?? []
    }

    static func logs(_ client: GraphClient, _ filter: String, token: String, top: Int? = nil) async throws -> GraphReply {
        var path = "/beta/auditLogs/provisioning?$filter=" + filter.formEncoded
        if let top { path += "&$top=\(top)" }
        return try await client.get(path, token: token)
    }

    static func entries(_ reply: GraphReply) -> [JSONObject] { reply.values.compactMap(\.objectValue) }

    static func status(_ entry: JSONObject) -> String? { entry["statusInfo"]?.objectValue?["status"]?.stringValue }

    static func change(_ entry: JSONObject, _ name: String) -> JSONObject? {
        entry["modifiedProperties"]?.arrayValue?.compactMap(\.objectValue).first { $0["displayName"]?.stringValue == name }
    }

    // MARK: Jobs

    @Test func jobsAreCreatedFromTheTemplateStartedAndDeleted() async throws {
        let s = try await Self.make()
        try await s.tenant.test { client in
            let templates = try await client.get(s.synchronization + "/templates", token: s.reader)
            #expect(templates.status == .ok, "\(templates.text)")
            #expect(templates.valueIds == ["API2AAD"])
            #expect(templates.values.first?.objectValue?["factoryTag"] == "API2AAD")

            // A reader lists but does not create; an unknown template is refused.
            let refused = try await client.post(s.synchronization + "/jobs", token: s.reader, ["templateId": "API2AAD"])
            refused.expectError(403, "Authorization_RequestDenied")
            let unknown = try await client.post(s.synchronization + "/jobs", token: s.writer.token, ["templateId": "Workday"])
            unknown.expectError(400, "Request_BadRequest")

            let created = try await client.post(s.synchronization + "/jobs", token: s.writer.token, ["templateId": "API2AAD"])
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created["id"]?.stringValue)
            #expect(id.hasPrefix("API2AAD.") && id.hasSuffix(".\(s.tenant.tenantId)"), "\(id)")
            #expect(created["templateId"] == "API2AAD")
            #expect(created["status"]?.objectValue?["code"] == "NotRun", "\(created.text)")

            let listed = try await client.get(s.synchronization + "/jobs", token: s.reader)
            #expect(listed.valueIds == [id], "\(listed.text)")
            #expect(try await client.send(.post, s.synchronization + "/jobs/\(id)/start", token: s.reader).status == .forbidden)
            #expect(try await client.send(.post, s.synchronization + "/jobs/\(id)/start", token: s.writer.token).status == .noContent)
            let read = try await client.get(s.synchronization + "/jobs/\(id)", token: s.reader)
            #expect(read["status"]?.objectValue?["code"] == "Active", "\(read.text)")

            // Another service principal does not hold the job.
            let other = try await client.get("/v1.0/servicePrincipals/\(s.fixture.servicePrincipalId)/synchronization/jobs/\(id)", token: s.reader)
            other.expectError(404, "Request_ResourceNotFound")

            // A method no route answers is refused in Graph's envelope, as on every Sigil path.
            let patch = try await client.patch(s.synchronization + "/jobs/\(id)", token: s.writer.token, ["templateId": "API2AAD"])
            patch.expectError(400, "Request_BadRequest")
            try await client.get(s.synchronization + "/jobs/\(id)/bulkUpload", token: s.writer.token).expectError(400, "Request_BadRequest")
            #expect(try await client.get(s.synchronization + "/jobs/\(id)", token: s.reader)["templateId"] == "API2AAD")

            #expect(try await client.delete(s.synchronization + "/jobs/\(id)", token: s.writer.token).status == .noContent)
            try await client.get(s.synchronization + "/jobs/\(id)", token: s.reader).expectError(404, "Request_ResourceNotFound")
            try await client.get("/v1.0/servicePrincipals/\(UUID().uuidString.lowercased())/synchronization/jobs", token: s.reader)
                .expectError(404, "Request_ResourceNotFound")
        }
    }

    // MARK: bulkUpload

    @Test func theSampleCreatesUsersThenASecondUploadUpdatesThemByExternalId() async throws {
        let s = try await Self.make()
        try await s.tenant.test { client in
            let job = try await Self.startedJob(client, s)
            let before = try await s.tenant.store.count(.user)
            let first = try await Self.upload(client, s, job: job, Self.sample())
            #expect(first.status == .accepted, "\(first.text)")
            #expect(first.text.isEmpty)
            let location = try #require(first.header("Location"))
            #expect(location.hasSuffix("/beta/auditLogs/provisioning/?$filter=jobid%20eq%20'\(job)'"), "\(location)")
            #expect(try await s.tenant.store.count(.user) == before + 3)
            let followed = try await client.follow(location, token: s.reader)
            #expect(followed.status == .ok && followed.values.count == 3, "\(followed.text)")

            let monica = try #require(try await Self.scimUser(client, s, "521195").first)
            #expect(monica["userName"] == "monicang@contoso.com")
            #expect(monica["title"] == "President, Consulting Services")
            #expect(monica[ScimURN.enterpriseUser]?.objectValue?["department"] == "Operations")
            let engineering = monica[ScimURN.customSecurityAttributes]?.objectValue?["Engineering"]?.objectValue
            #expect(engineering?["Project"] == ["Alpine", "Baker"], "\(monica)")
            #expect(engineering?["NumVendors"] == 4)
            #expect(engineering?["Certification"] == true)
            let carol = try #require(try await Self.scimUser(client, s, "521194").first)
            #expect(carol[ScimURN.customSecurityAttributes]?.objectValue?["Marketing"]?.objectValue?["AppCountry"] == ["NZ", "FR"])

            // The same users again, Monica's values changed: updated in place, no duplicates.
            let second = try await Self.upload(client, s, job: job, Self.sample(monicaProjects: ["Cascade"], monicaVendors: 7))
            #expect(second.status == .accepted, "\(second.text)")
            #expect(try await s.tenant.store.count(.user) == before + 3)
            let updated = try await Self.scimUser(client, s, "521195")
            #expect(updated.count == 1)
            #expect(updated.first?["id"] == monica["id"])
            let values = updated.first?[ScimURN.customSecurityAttributes]?.objectValue?["Engineering"]?.objectValue
            #expect(values?["Project"] == ["Cascade"], "\(updated)")
            #expect(values?["NumVendors"] == 7)

            // The logs: three creates, then Monica's update and two unchanged users.
            let all = Self.entries(try await Self.logs(client, "jobid eq '\(job)'", token: s.writer.token))
            #expect(all.count == 6)
            #expect(all.map { $0["provisioningAction"]?.stringValue } == ["other", "other", "update", "create", "create", "create"])
            #expect(all.map { Self.status($0) } == ["skipped", "skipped", "success", "success", "success", "success"])
            let monicas = Self.entries(try await Self.logs(client, "jobId eq '\(job)' and sourceIdentity/id eq '521195'", token: s.reader))
            #expect(monicas.map { $0["provisioningAction"]?.stringValue } == ["update", "create"], "\(monicas)")
            let update = try #require(monicas.first)
            #expect(update["jobId"] == .string(job))
            #expect(update["tenantId"] == .string(s.tenant.tenantId))
            #expect(update["targetIdentity"]?.objectValue?["id"] == monica["id"])
            #expect(update["sourceIdentity"]?.objectValue?["displayName"] == "Monica Ang")
            #expect(update["servicePrincipal"]?.objectValue?["id"] == .string(s.writer.id))
            #expect(update["initiatedBy"]?.objectValue?["displayName"] == "HR inbound")
            #expect(update["provisioningStatusInfo"]?.objectValue?["status"] == "success")
            let project = Self.change(update, "CustomSecurityAttributes.Engineering.Project")
            #expect(project?["oldValue"] == #"["Alpine","Baker"]"#, "\(update)")
            #expect(project?["newValue"] == #"["Cascade"]"#)
            #expect(Self.change(update, "CustomSecurityAttributes.Engineering.NumVendors")?["newValue"] == "7")
            let create = try #require(monicas.last)
            #expect(Self.change(create, "employeeId")?["newValue"] == "521195")

            // Filters on status and time, and paging.
            let failures = try await Self.logs(client, "jobid eq '\(job)' and statusInfo/status eq 'failure'", token: s.reader)
            #expect(failures.status == .ok && failures.values.isEmpty, "\(failures.text)")
            let recent = try await Self.logs(client, "jobid eq '\(job)' and activityDateTime ge 2000-01-01T00:00:00Z", token: s.reader)
            #expect(recent.values.count == 6)
            #expect(try await Self.logs(client, "activityDateTime ge 2999-01-01T00:00:00Z", token: s.reader).values.isEmpty)
            let page = try await Self.logs(client, "jobid eq '\(job)'", token: s.reader, top: 4)
            #expect(page.values.count == 4)
            let next = try #require(page["@odata.nextLink"]?.stringValue)
            let rest = try await client.follow(next, token: s.reader)
            #expect(rest.valueIds + [] == all.suffix(2).compactMap { $0["id"]?.stringValue }, "\(rest.text)")
            #expect(rest["@odata.nextLink"] == nil)
            try await Self.logs(client, "targetIdentity/displayName eq 'x'", token: s.reader).expectError(400, "Request_BadRequest")

            // The audit log names the provisioning application as initiator.
            let audits = try await s.tenant.store.auditRecords(AuditQuery(), after: nil, limit: 100)
            #expect(!audits.records.isEmpty)
            #expect(audits.records.allSatisfy { $0.json.contains(s.writer.id) }, "\(audits.records.map(\.json))")
        }
    }

    @Test func aBadOperationFailsAloneAndWritesNothingForItsUser() async throws {
        let s = try await Self.make()
        let definer = try await s.tenant.servicePrincipal("Definer", grants: [.tenant(.attributeDefinitionAdministrator)])
        try await s.tenant.test { client in
            let job = try await Self.startedJob(client, s)
            let deprecate = try await client.patch(
                "/v1.0/directory/customSecurityAttributeDefinitions/Engineering_CostCenter", token: definer.token,
                ["status": "Deprecated"])
            #expect(deprecate.status == .noContent, "\(deprecate.text)")
            let before = try await s.tenant.store.count(.user)
            let body = Self.request([
                Self.operation(
                    "700001", "good", given: "Good", family: "User", title: "Engineer", department: "R&D",
                    values: ["Engineering_Project": ["Alpine"]]),
                Self.operation(
                    "700002", "wrongtype", given: "Wrong", family: "Type", title: "Engineer", department: "R&D",
                    values: ["Engineering_NumVendors": "many"]),
                Self.operation(
                    "700003", "unknown", given: "Unknown", family: "Attribute", title: "Engineer", department: "R&D",
                    values: ["Engineering_Nope": "x"]),
                Self.operation(
                    "700004", "deprecated", given: "Deprecated", family: "Attribute", title: "Engineer", department: "R&D",
                    values: ["Engineering_CostCenter": [1001]]),
            ])
            let reply = try await Self.upload(client, s, job: job, body)
            #expect(reply.status == .accepted, "\(reply.text)")
            #expect(try await s.tenant.store.count(.user) == before + 1)
            for externalId in ["700002", "700003", "700004"] {
                #expect(try await Self.scimUser(client, s, externalId).isEmpty, "\(externalId)")
            }
            let failures = Self.entries(
                try await Self.logs(client, "jobid eq '\(job)' and statusInfo/status eq 'failure'", token: s.reader))
            #expect(failures.map { $0["sourceIdentity"]?.objectValue?["id"]?.stringValue } == ["700004", "700003", "700002"])
            let reasons = failures.map { $0["statusInfo"]?.objectValue?["reason"]?.stringValue ?? "" }
            #expect(reasons[0].contains("CostCenter"), "\(reasons)")
            #expect(reasons[1].contains("Engineering.Nope"), "\(reasons)")
            #expect(reasons[2].contains("NumVendors"), "\(reasons)")
            #expect(failures.allSatisfy { $0["targetIdentity"]?.objectValue?["id"] == JSONValue.null })
            let error = failures[0]["provisioningStatusInfo"]?.objectValue?["errorInformation"]?.objectValue
            #expect(error?["errorCode"] == "invalidValue", "\(failures[0])")
            let successes = Self.entries(try await Self.logs(client, "statusInfo/status eq 'success'", token: s.reader))
            #expect(successes.map { $0["sourceIdentity"]?.objectValue?["id"]?.stringValue } == ["700001"])

            // active: false disables the matched user.
            var disable = Self.operation(
                "700001", "good", given: "Good", family: "User", title: "Engineer", department: "R&D", values: [:])
            if case .object(var op) = disable, case .object(var data)? = op["data"] {
                data["active"] = false
                op["data"] = .object(data)
                disable = .object(op)
            }
            #expect(try await Self.upload(client, s, job: job, Self.request([disable])).status == .accepted)
            let disabled = try #require(try await Self.scimUser(client, s, "700001").first)
            #expect(disabled["active"] == false)
            // Values the upload leaves out stay.
            #expect(disabled[ScimURN.customSecurityAttributes]?.objectValue?["Engineering"]?.objectValue?["Project"] == ["Alpine"])
            let last = Self.entries(try await Self.logs(client, "sourceIdentity/id eq '700001'", token: s.reader))
            #expect(last.first?["provisioningAction"] == "disable", "\(last)")
        }
    }

    @Test func malformedRequestsAreRefusedWholeAndWriteNothing() async throws {
        let s = try await Self.make()
        try await s.tenant.test { client in
            let job = try await Self.startedJob(client, s)
            let before = try await s.tenant.store.count(.user)
            func op(_ n: Int) -> JSONValue {
                Self.operation("8\(n)", "u\(n)", given: "U", family: "\(n)", title: "T", department: "D", values: [:])
            }
            let tooMany = try await Self.upload(client, s, job: job, Self.request((0...ScimLimits.bulkUploadMaxOperations).map(op)))
            tooMany.expectError(400, "Request_BadRequest")
            #expect(tooMany.errorMessage?.contains("51 operations") == true, "\(tooMany.text)")

            var put = op(1)
            if case .object(var members) = put {
                members["method"] = "PUT"
                put = .object(members)
            }
            let wrongMethod = try await Self.upload(client, s, job: job, Self.request([op(2), put]))
            wrongMethod.expectError(400, "Request_BadRequest")
            #expect(wrongMethod.errorMessage?.contains("POST") == true, "\(wrongMethod.text)")

            let wrongSchema: JSONValue = ["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op(3)]]
            try await Self.upload(client, s, job: job, wrongSchema).expectError(400, "Request_BadRequest")
            try await Self.upload(client, s, job: job, ["name": "John Doe"]).expectError(400, "Request_BadRequest")
            let json = try await Self.upload(client, s, job: job, Self.request([op(4)]), contentType: "application/json")
            json.expectError(400, "Request_BadRequest")
            #expect(json.errorMessage?.contains("application/scim+json") == true, "\(json.text)")
            try await Self.upload(client, s, job: job, Self.request([op(5)]), contentType: nil).expectError(400, "Request_BadRequest")
            let broken = try await client.send(
                .post, s.synchronization + "/jobs/\(job)/bulkUpload", token: s.writer.token, body: #"{"schemas": ["#,
                contentType: "application/scim+json")
            broken.expectError(400, "Request_BadRequest")

            // No such job, and a job not started yet.
            try await Self.upload(client, s, job: "API2AAD.0.0", Self.request([op(6)])).expectError(404, "Request_ResourceNotFound")
            let idle = try await client.post(s.synchronization + "/jobs", token: s.writer.token, ["templateId": "API2AAD"])
            let idleId = try #require(idle["id"]?.stringValue)
            let notStarted = try await Self.upload(client, s, job: idleId, Self.request([op(7)]))
            notStarted.expectError(400, "Request_BadRequest")
            #expect(notStarted.errorMessage?.contains("not started") == true, "\(notStarted.text)")

            #expect(try await s.tenant.store.count(.user) == before)
            #expect(try await s.tenant.store.provisioningLog(ProvisioningLogQuery(), after: nil, limit: 10).entries.isEmpty)
        }
    }

    // MARK: Access

    /// Expected statuses per role at tenant scope, written out independently of the code:
    /// list jobs, create a job, bulkUpload (no operations) into a started job, read the logs,
    /// then on that job pause, start, restart and provisionOnDemand.
    // swift-format-ignore
    static let matrix: [DirectoryRole: [Int]] = [
        .attributeDefinitionAdministrator:   [403, 403, 403, 403, 403, 403, 403, 403],
        .attributeDefinitionReader:          [403, 403, 403, 403, 403, 403, 403, 403],
        .attributeAssignmentAdministrator:   [403, 403, 403, 403, 403, 403, 403, 403],
        .attributeAssignmentReader:          [403, 403, 403, 403, 403, 403, 403, 403],
        .attributeLogAdministrator:          [403, 403, 403, 403, 403, 403, 403, 403],
        .attributeLogReader:                 [403, 403, 403, 403, 403, 403, 403, 403],
        .attributeProvisioningAdministrator: [200, 201, 202, 200, 204, 204, 204, 200],
        .attributeProvisioningReader:        [200, 403, 403, 200, 403, 403, 403, 403],
        .globalAdministrator:                [200, 201, 403, 200, 204, 204, 204, 200],
        .privilegedRoleAdministrator:        [403, 403, 403, 403, 403, 403, 403, 403],
        .userAdministrator:                  [403, 403, 403, 403, 403, 403, 403, 403],
        .conditionalAccessAdministrator:     [403, 403, 403, 403, 403, 403, 403, 403],
        .securityAdministrator:              [403, 403, 403, 200, 403, 403, 403, 403],
        .securityReader:                     [403, 403, 403, 200, 403, 403, 403, 403],
        .globalReader:                       [403, 403, 403, 200, 403, 403, 403, 403],
        .attributeAccessAdministrator:       [403, 403, 403, 403, 403, 403, 403, 403],
        .attributeAccessEvaluator:           [403, 403, 403, 403, 403, 403, 403, 403],
    ]

    @Test(arguments: DirectoryRole.allCases)
    func eachRoleReachesWhatTheMatrixSays(_ role: DirectoryRole) async throws {
        let s = try await Self.make()
        let caller = try await s.tenant.servicePrincipal("Caller", grants: [.tenant(role)])
        try await s.tenant.test { client in
            let job = try await Self.startedJob(client, s)
            let statuses = [
                try await client.get(s.synchronization + "/jobs", token: caller.token).status.code,
                try await client.post(s.synchronization + "/jobs", token: caller.token, ["templateId": "API2AAD"]).status.code,
                try await Self.upload(client, s, job: job, Self.request([]), token: caller.token).status.code,
                try await client.get("/beta/auditLogs/provisioning", token: caller.token).status.code,
                try await client.send(.post, s.synchronization + "/jobs/\(job)/pause", token: caller.token).status.code,
                try await client.send(.post, s.synchronization + "/jobs/\(job)/start", token: caller.token).status.code,
                try await client.send(.post, s.synchronization + "/jobs/\(job)/restart", token: caller.token).status.code,
                try await client.post(
                    s.synchronization + "/jobs/\(job)/provisionOnDemand", token: caller.token,
                    SynchronizationJobActionsTests.onDemand("521195")
                ).status.code,
            ]
            #expect(statuses == Self.matrix[role], "\(role)")
        }
    }

    @Test func onlyTheProvisioningAdministratorUploadsAndLogReadersSeeValuesByRole() async throws {
        let s = try await Self.make()
        let security = try await s.tenant.servicePrincipal("SOC", grants: [.tenant(.securityReader)])
        try await s.tenant.test { client in
            let job = try await Self.startedJob(client, s)
            let before = try await s.tenant.store.count(.user)
            try await Self.upload(client, s, job: job, Self.sample(), token: s.fixture.admin).expectError(403, "Authorization_RequestDenied")
            try await Self.upload(client, s, job: job, Self.sample(), token: s.reader).expectError(403, "Authorization_RequestDenied")
            try await Self.upload(client, s, job: job, Self.sample(), token: security.token)
                .expectError(403, "Authorization_RequestDenied")
            #expect(try await client.send(.post, s.synchronization + "/jobs/\(job)/bulkUpload", token: nil).status == .unauthorized)
            // Refused before the body is read: a wrong content type from a caller without the role is still 403.
            try await Self.upload(client, s, job: job, Self.sample(), token: s.reader, contentType: "text/plain")
                .expectError(403, "Authorization_RequestDenied")
            #expect(try await s.tenant.store.count(.user) == before)

            #expect(try await Self.upload(client, s, job: job, Self.sample()).status == .accepted)
            #expect(try await Self.upload(client, s, job: job, Self.sample(monicaProjects: ["Baker"])).status == .accepted)
            let filter = "jobid eq '\(job)' and sourceIdentity/id eq '521195'"

            // The provisioning roles read values; Security Reader reads the log with them redacted.
            let reader = Self.entries(try await Self.logs(client, filter, token: s.reader))
            #expect(Self.change(reader[0], "CustomSecurityAttributes.Engineering.Project")?["newValue"] == #"["Baker"]"#)
            let redacted = Self.entries(try await Self.logs(client, filter, token: security.token))
            #expect(redacted.count == 2)
            let project = Self.change(redacted[0], "CustomSecurityAttributes.Engineering.Project")
            #expect(project?["oldValue"] == .string(ProvisioningLogEntry.redacted), "\(redacted[0])")
            #expect(project?["newValue"] == .string(ProvisioningLogEntry.redacted))
            #expect(Self.change(redacted[1], "displayName")?["newValue"] == "Monica Ang")

            // Guests read no provisioning logs, whatever roles they hold.
            let guest = try await s.tenant.user("Visitor", guest: true, grants: [.tenant(.securityReader)])
            try await Self.logs(client, filter, token: guest.token).expectError(403, "Authorization_RequestDenied")
            // Attribute Assignment Administrator reads values through Graph, not the provisioning logs.
            try await Self.logs(client, filter, token: s.fixture.admin).expectError(403, "Authorization_RequestDenied")
            try await client.get("/v1.0/auditLogs/provisioning", token: nil).expectError(401, "InvalidAuthenticationToken")
            #expect(try await client.get("/v1.0/auditLogs/provisioning", token: s.reader).values.count == 6)
        }
    }
}
