import Foundation
import HTTPTypes
import SigilCore
import SigilStore
import Testing

@testable import SigilGraph
@testable import SigilService

/// The custom security attribute audit log through the API (docs/api.md, "Audit log"): one
/// record per change with old and new values, failure records for refused changes, who may read,
/// filters, paging, and the per-object history.
@Suite struct AuditLogTests {
    static let audits = "/beta/auditLogs/customSecurityAttributeAudits"
    static let writeType = "#Microsoft.DirectoryServices.CustomSecurityAttributeValue"

    struct Fixture {
        let tenant: TestTenant
        /// Attribute Definition + Assignment Administrator (tenant): makes every change.
        let manager: (id: String, token: String)
        /// Attribute Log Reader (tenant): reads the log.
        let reader: String
        let userId: String
    }

    static func fixture() async throws -> Fixture {
        let tenant = try await TestTenant.make()
        let manager = try await tenant.servicePrincipal(
            "Attribute Manager",
            grants: [.tenant(.attributeDefinitionAdministrator), .tenant(.attributeAssignmentAdministrator)])
        let reader = try await tenant.user("Logan", grants: [.tenant(.attributeLogReader)])
        let user = try await tenant.user("Chandra")
        return Fixture(tenant: tenant, manager: manager, reader: reader.token, userId: user.id)
    }

    /// Every record in the log, newest first (following nextLinks).
    static func records(_ client: GraphClient, _ f: Fixture, query: String = "") async throws -> [JSONObject] {
        var reply = try await client.get(audits + query, token: f.reader)
        var all: [JSONObject] = []
        while true {
            #expect(reply.status == .ok, "\(reply.text)")
            all += reply.values.compactMap(\.objectValue)
            guard let next = reply["@odata.nextLink"]?.stringValue else { return all }
            reply = try await client.follow(next, token: f.reader)
        }
    }

    static func properties(_ record: JSONObject) -> [String: (old: String?, new: String?)] {
        var result: [String: (old: String?, new: String?)] = [:]
        for target in record["targetResources"]?.arrayValue ?? [] {
            for property in target.objectValue?["modifiedProperties"]?.arrayValue ?? [] {
                guard let name = property.objectValue?["displayName"]?.stringValue else { continue }
                result[name] = (property.objectValue?["oldValue"]?.stringValue, property.objectValue?["newValue"]?.stringValue)
            }
        }
        return result
    }

    /// Sends a write, checks its status, and returns the one record it added.
    static func change(
        _ client: GraphClient, _ f: Fixture, _ method: HTTPRequest.Method, _ path: String, _ body: String, status: Int,
        token: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (record: JSONObject, requestId: String?) {
        let before = try await records(client, f).count
        let reply = try await client.send(
            method, path, token: token ?? f.manager.token, body: body, headers: ["User-Agent": "AuditTests/1.0"])
        #expect(reply.status.code == status, "\(reply.text)", sourceLocation: sourceLocation)
        let after = try await records(client, f)
        #expect(after.count == before + 1, "one record per change", sourceLocation: sourceLocation)
        return (after.first ?? JSONObject(), reply.header("request-id"))
    }

    @Test func eachActivityWritesOneRecordWithOldAndNewValues() async throws {
        let f = try await Self.fixture()
        try await f.tenant.test { client in
            var (record, requestId) = try await Self.change(
                client, f, .post, "/v1.0/directory/attributeSets",
                #"{"id":"Engineering","description":"Engineering team","maxAttributesPerSet":25}"#, status: 201)
            #expect(record["activityDisplayName"] == "Add an attribute set")
            #expect(record["category"] == "AttributeManagement")
            #expect(record["operationType"] == "Add")
            #expect(record["result"] == "success")
            #expect(record["loggedByService"] == "Core Directory")
            #expect(record["correlationId"]?.stringValue == requestId)
            #expect(record["userAgent"] == "AuditTests/1.0")
            let app = record["initiatedBy"]?.objectValue?["app"]?.objectValue
            #expect(app?["servicePrincipalId"]?.stringValue == f.manager.id)
            #expect(app?["displayName"] == "Attribute Manager")
            #expect(app?["appId"]?.stringValue != nil)
            #expect(record["initiatedBy"]?.objectValue?["user"] == .null)
            #expect(record["targetResources"]?.arrayValue?.first?.objectValue?["id"] == "Engineering")
            var properties = Self.properties(record)
            #expect(properties["Description"]?.new == #"["Engineering team"]"#)
            #expect(properties["MaxAttributesPerSet"]?.new == "[25]")
            #expect(properties["MaxAttributesPerSet"]?.old == nil)

            (record, _) = try await Self.change(
                client, f, .patch, "/v1.0/directory/attributeSets/Engineering", #"{"maxAttributesPerSet":20}"#, status: 204)
            #expect(record["activityDisplayName"] == "Update an attribute set")
            properties = Self.properties(record)
            #expect(properties["MaxAttributesPerSet"]?.old == "[25]")
            #expect(properties["MaxAttributesPerSet"]?.new == "[20]")
            #expect(properties["Included Updated Properties"]?.new == #""MaxAttributesPerSet""#)
            #expect(properties["Description"] == nil)

            (record, _) = try await Self.change(
                client, f, .post, "/v1.0/directory/customSecurityAttributeDefinitions",
                #"""
                {"attributeSet":"Engineering","name":"Project","type":"String","status":"Available","isCollection":true,
                 "isSearchable":true,"usePreDefinedValuesOnly":true,
                 "allowedValues":[{"id":"Alpine","isActive":true},{"id":"Baker","isActive":true},{"id":"Cascade","isActive":true}]}
                """#, status: 201)
            #expect(record["activityDisplayName"] == "Add custom security attribute definition in an attribute set")
            #expect(record["targetResources"]?.arrayValue?.first?.objectValue?["id"] == "Engineering_Project")
            properties = Self.properties(record)
            #expect(properties["Type"]?.new == #"["String"]"#)
            #expect(properties["IsCollection"]?.new == "[true]")
            #expect(properties["AllowedValues"]?.new?.contains("Cascade") == true)

            (record, _) = try await Self.change(
                client, f, .patch, "/v1.0/directory/customSecurityAttributeDefinitions/Engineering_Project",
                #"{"description":"Active projects"}"#, status: 204)
            #expect(record["activityDisplayName"] == "Update custom security attribute definition in an attribute set")
            properties = Self.properties(record)
            #expect(properties["Description"]?.old == nil)
            #expect(properties["Description"]?.new == #"["Active projects"]"#)

            // A new allowed value is a change of the definition.
            (record, _) = try await Self.change(
                client, f, .post, "/v1.0/directory/customSecurityAttributeDefinitions/Engineering_Project/allowedValues",
                #"{"id":"Denali","isActive":true}"#, status: 201)
            #expect(record["activityDisplayName"] == "Update custom security attribute definition in an attribute set")
            properties = Self.properties(record)
            #expect(properties["AllowedValues"]?.old?.contains("Denali") == false)
            #expect(properties["AllowedValues"]?.new?.contains("Denali") == true)

            let assign = ##"{"customSecurityAttributes":{"Engineering":{"@odata.type":"\##(Self.writeType)","Project@odata.type":"#Collection(String)","Project":["Alpine","Baker"]}}}"##
            (record, _) = try await Self.change(client, f, .patch, "/v1.0/users/\(f.userId)", assign, status: 204)
            #expect(record["activityDisplayName"] == "Update attribute values assigned to a user")
            #expect(record["operationType"] == "Assign")
            let target = record["targetResources"]?.arrayValue?.first?.objectValue
            #expect(target?["id"]?.stringValue == f.userId)
            #expect(target?["type"] == "User")
            #expect(target?["userPrincipalName"] == "chandra@sigil.test")
            properties = Self.properties(record)
            #expect(properties["Engineering_Project"]?.old == nil)
            #expect(properties["Engineering_Project"]?.new == #"["Alpine","Baker"]"#)

            let remove = ##"{"customSecurityAttributes":{"Engineering":{"@odata.type":"\##(Self.writeType)","Project":null}}}"##
            (record, _) = try await Self.change(client, f, .patch, "/v1.0/users/\(f.userId)", remove, status: 204)
            #expect(record["operationType"] == "Unassign")
            properties = Self.properties(record)
            #expect(properties["Engineering_Project"]?.old == #"["Alpine","Baker"]"#)
            #expect(properties["Engineering_Project"]?.new == nil)

            let principal = try await f.tenant.servicePrincipal("Payroll")
            let single = ##"{"customSecurityAttributes":{"Engineering":{"@odata.type":"\##(Self.writeType)","Project@odata.type":"#Collection(String)","Project":["Cascade"]}}}"##
            (record, _) = try await Self.change(
                client, f, .patch, "/v1.0/servicePrincipals/\(principal.id)", single, status: 204)
            #expect(record["activityDisplayName"] == "Update attribute values assigned to a servicePrincipal")
            #expect(record["targetResources"]?.arrayValue?.first?.objectValue?["type"] == "ServicePrincipal")

            // A PATCH that changes no attribute value is not attribute activity.
            let before = try await Self.records(client, f).count
            let rename = try await client.patch(
                "/v1.0/users/\(f.userId)", token: try await f.tenant.bootstrapToken(), ["displayName": "Chandra K"])
            #expect(rename.status == .noContent)
            #expect(try await Self.records(client, f).count == before)

            // Every record reads back by id, the same as in the list.
            let latest = try await Self.records(client, f)
            let id = latest.first?["id"]?.stringValue ?? ""
            let one = try await client.get("\(Self.audits)/\(id)", token: f.reader)
            #expect(one.status == .ok)
            #expect(one.hasContext("auditLogs/customSecurityAttributeAudits/$entity", version: "beta"))
            #expect(one["id"]?.stringValue == id)
            #expect(one["targetResources"] == latest.first?["targetResources"])
            try await client.get("\(Self.audits)/\(UUID().uuidString.lowercased())", token: f.reader)
                .expectError(404, "Request_ResourceNotFound")
        }
    }

    @Test func refusedChangesAreRecordedAsFailuresAndChangeNothing() async throws {
        let f = try await Self.fixture()
        let definitionReader = try await f.tenant.user("Dana", grants: [.tenant(.attributeDefinitionReader)])
        try await f.tenant.test { client in
            _ = try await client.post(
                "/v1.0/directory/attributeSets", token: f.manager.token, ["id": "Engineering", "maxAttributesPerSet": 10])
            _ = try await client.send(
                .post, "/v1.0/directory/customSecurityAttributeDefinitions", token: f.manager.token,
                body: #"{"attributeSet":"Engineering","name":"Level","type":"Integer","status":"Available","isCollection":false,"isSearchable":true,"usePreDefinedValuesOnly":false}"#
            )
            // 400: a String where the definition wants an Integer.
            let bad = ##"{"customSecurityAttributes":{"Engineering":{"@odata.type":"\##(Self.writeType)","Level@odata.type":"#Int32","Level":"high"}}}"##
            let (record, requestId) = try await Self.change(client, f, .patch, "/v1.0/users/\(f.userId)", bad, status: 400)
            #expect(record["result"] == "failure")
            #expect(record["activityDisplayName"] == "Update attribute values assigned to a user")
            #expect(record["correlationId"]?.stringValue == requestId)
            #expect((record["resultReason"]?.stringValue ?? "").isEmpty == false)
            #expect(record["targetResources"]?.arrayValue?.first?.objectValue?["id"]?.stringValue == f.userId)
            #expect(try await f.tenant.store.attributes(of: [f.userId]).isEmpty)

            // 403: a definition reader may not create sets.
            let (denied, _) = try await Self.change(
                client, f, .post, "/v1.0/directory/attributeSets", #"{"id":"Finance"}"#, status: 403,
                token: definitionReader.token)
            #expect(denied["result"] == "failure")
            #expect(denied["resultReason"] == "Insufficient privileges to complete the operation.")
            #expect(denied["activityDisplayName"] == "Add an attribute set")
            // A refused write names what it attempted, as a successful one does.
            #expect(denied["targetResources"]?.arrayValue?.first?.objectValue?["id"] == "Finance")
            let (deniedDefinition, _) = try await Self.change(
                client, f, .post, "/v1.0/directory/customSecurityAttributeDefinitions",
                #"{"attributeSet":"Engineering","name":"Grade","type":"String","status":"Available","isCollection":false,"isSearchable":true,"usePreDefinedValuesOnly":false}"#,
                status: 403, token: definitionReader.token)
            #expect(deniedDefinition["targetResources"]?.arrayValue?.first?.objectValue?["id"] == "Engineering_Grade")
            #expect(denied["initiatedBy"]?.objectValue?["user"]?.objectValue?["userPrincipalName"] == "dana@sigil.test")
            #expect(try await f.tenant.store.schema().set(named: "Finance") == nil)

            // A refused update of a set names the set it tried.
            let (invalid, _) = try await Self.change(
                client, f, .patch, "/v1.0/directory/attributeSets/Engineering", #"{"maxAttributesPerSet":0}"#, status: 400)
            #expect(invalid["activityDisplayName"] == "Update an attribute set")
            #expect(invalid["targetResources"]?.arrayValue?.first?.objectValue?["id"] == "Engineering")

            let failures = try await Self.records(client, f, query: "?$filter=result%20eq%20'failure'")
            #expect(failures.count == 4)
        }
    }

    @Test func onlyTheLogRolesReadTheLog() async throws {
        let f = try await Self.fixture()
        let logAdmin = try await f.tenant.servicePrincipal("Log Admin", grants: [.tenant(.attributeLogAdministrator)])
        let setScoped = try await f.tenant.user("Sam", grants: [.set(.attributeLogReader, "Engineering")])
        let assignmentAdmin = try await f.tenant.user("Ada", grants: [.tenant(.attributeAssignmentAdministrator)])
        let nobody = try await f.tenant.user("Nob")
        let globalAdmin = try await f.tenant.bootstrapToken()
        try await f.tenant.test { client in
            for token in [f.reader, logAdmin.token] {
                let reply = try await client.get(Self.audits, token: token)
                #expect(reply.status == .ok, "\(reply.text)")
                #expect(reply.hasContext("auditLogs/customSecurityAttributeAudits", version: "beta"))
            }
            for token in [globalAdmin, setScoped.token, assignmentAdmin.token, nobody.token, f.manager.token] {
                try await client.get(Self.audits, token: token).expectError(403, "Authorization_RequestDenied")
                try await client.get("\(Self.audits)/x", token: token).expectError(403, "Authorization_RequestDenied")
            }
            try await client.get(Self.audits, token: nil).expectError(401, "InvalidAuthenticationToken")
            // Graph has no v1.0 audit endpoint: an unknown segment there.
            try await client.get("/v1.0/auditLogs/customSecurityAttributeAudits", token: f.reader)
                .expectError(400, "Request_BadRequest", "Resource not found for the segment 'customSecurityAttributeAudits'.")
        }
    }

    @Test func filtersOrderAndPaging() async throws {
        let f = try await Self.fixture()
        let other = try await f.tenant.user("Otto", grants: [.tenant(.attributeDefinitionAdministrator)])
        try await f.tenant.test { client in
            let start = AuditRecord.timestamp(Date().addingTimeInterval(-1))
            for name in ["Alpha", "Bravo", "Charlie"] {
                let reply = try await client.post("/v1.0/directory/attributeSets", token: f.manager.token, ["id": .string(name)])
                #expect(reply.status == .created)
            }
            _ = try await client.post("/v1.0/directory/attributeSets", token: other.token, ["id": "Delta"])
            _ = try await client.patch("/v1.0/directory/attributeSets/Alpha", token: f.manager.token, ["description": "A"])
            let all = try await Self.records(client, f)
            #expect(all.count == 5)
            let times = all.compactMap { $0["activityDateTime"]?.stringValue }
            #expect(times == times.sorted(by: >), "newest first by default")

            func ids(_ query: String) async throws -> [String] {
                try await Self.records(client, f, query: query).compactMap {
                    $0["targetResources"]?.arrayValue?.first?.objectValue?["id"]?.stringValue
                }
            }
            #expect(try await ids("?$orderby=activityDateTime%20asc") == ["Alpha", "Bravo", "Charlie", "Delta", "Alpha"])
            #expect(try await ids("?$filter=activityDisplayName%20eq%20'Update%20an%20attribute%20set'") == ["Alpha"])
            #expect(try await ids("?$filter=startswith(activityDisplayName,'add')").count == 4)
            #expect(try await ids("?$filter=initiatedBy/user/id%20eq%20'\(other.id)'") == ["Delta"])
            let manager = all.last?["initiatedBy"]?.objectValue?["app"]?.objectValue?["appId"]?.stringValue ?? ""
            #expect(try await ids("?$filter=initiatedBy/app/appId%20eq%20'\(manager)'").count == 4)
            #expect(try await ids("?$filter=targetResources/any(t:t/id%20eq%20'Alpha')") == ["Alpha", "Alpha"])
            #expect(try await ids("?$filter=activityDateTime%20ge%20\(start)").count == 5)
            #expect(try await ids("?$filter=activityDateTime%20le%20\(start)").isEmpty)
            let first = times.last ?? ""
            #expect(try await ids("?$filter=activityDateTime%20eq%20\(first)") == ["Alpha"])
            #expect(
                try await ids(
                    "?$filter=activityDateTime%20ge%20\(start)%20and%20startswith(activityDisplayName,'Add')%20and%20targetResources/any(x:x/id%20eq%20'Bravo')"
                ) == ["Bravo"])

            // $top pages, and each page's nextLink continues where it stopped.
            var reply = try await client.get("\(Self.audits)?$top=2", token: f.reader)
            var paged: [String] = []
            var pages = 0
            while true {
                pages += 1
                #expect(reply.values.count <= 2)
                paged += reply.values.compactMap { $0.objectValue?["id"]?.stringValue }
                guard let next = reply["@odata.nextLink"]?.stringValue else { break }
                #expect(next.contains("$top=2"))
                reply = try await client.follow(next, token: f.reader)
            }
            #expect(pages == 3)
            #expect(paged == all.compactMap { $0["id"]?.stringValue })

            try await client.get("\(Self.audits)?$top=101", token: f.reader).expectError(400, "Request_BadRequest")
            try await client.get("\(Self.audits)?$filter=category%20eq%20'x'", token: f.reader).expectError(400, "Request_BadRequest")
            try await client.get("\(Self.audits)?$filter=activityDateTime%20gt%20soon", token: f.reader)
                .expectError(400, "Request_BadRequest")
            try await client.get("\(Self.audits)?$orderby=id", token: f.reader).expectError(400, "Request_BadRequest")
            try await client.get("\(Self.audits)?$select=id", token: f.reader).expectError(400, "Request_BadRequest")
            try await client.get("\(Self.audits)?$skiptoken=forged", token: f.reader).expectError(400, "Request_BadRequest")
        }
    }

    @Test func historyShowsOnlyWhatTheCallerMayRead() async throws {
        let f = try await Self.fixture()
        let engineeringReader = try await f.tenant.user("Eve", grants: [.set(.attributeAssignmentReader, "Engineering")])
        let directoryOnly = try await f.tenant.user("Una", grants: [.tenant(.userAdministrator)])
        try await f.tenant.test { client in
            for set in ["Engineering", "Marketing"] {
                _ = try await client.post("/v1.0/directory/attributeSets", token: f.manager.token, ["id": .string(set)])
                _ = try await client.send(
                    .post, "/v1.0/directory/customSecurityAttributeDefinitions", token: f.manager.token,
                    body: #"{"attributeSet":"\#(set)","name":"Code","type":"String","status":"Available","isCollection":false,"isSearchable":true,"usePreDefinedValuesOnly":false}"#
                )
            }
            func assign(_ set: String, _ value: String) async throws {
                let body = ##"{"customSecurityAttributes":{"\##(set)":{"@odata.type":"\##(Self.writeType)","Code":"\##(value)"}}}"##
                let reply = try await client.send(.patch, "/v1.0/users/\(f.userId)", token: f.manager.token, body: body)
                #expect(reply.status == .noContent, "\(reply.text)")
            }
            try await assign("Engineering", "E1")
            try await assign("Marketing", "M1")
            try await assign("Engineering", "E2")
            let path = "/beta/users/\(f.userId)/customSecurityAttributeHistory"

            let admin = try await client.get(path, token: f.manager.token)
            #expect(admin.status == .ok, "\(admin.text)")
            #expect(admin.values.count == 3)
            let newest = admin.values.first?.objectValue ?? JSONObject()
            #expect(Self.properties(newest)["Engineering_Code"]?.old == #"["E1"]"#)
            #expect(Self.properties(newest)["Engineering_Code"]?.new == #"["E2"]"#)

            let scoped = try await client.get(path, token: engineeringReader.token)
            #expect(scoped.values.count == 2, "the Marketing change is not shown")
            #expect(!scoped.text.contains("M1"))

            var paged = try await client.get("\(path)?$top=1", token: engineeringReader.token)
            var seen = 0
            while true {
                seen += paged.values.count
                guard let next = paged["@odata.nextLink"]?.stringValue else { break }
                paged = try await client.follow(next, token: engineeringReader.token)
            }
            #expect(seen == 2)

            try await client.get(path, token: directoryOnly.token).expectError(403, "Authorization_RequestDenied")
            try await client.get("/beta/users/\(UUID().uuidString)/customSecurityAttributeHistory", token: f.manager.token)
                .expectError(404, "Request_ResourceNotFound")
            // Sigil's extension lives on beta only, beside the audit log.
            try await client.get("/v1.0/users/\(f.userId)/customSecurityAttributeHistory", token: f.manager.token)
                .expectError(400, "Request_BadRequest")
        }
    }
}
