import Foundation
import HTTPTypes
import SigilCore
import Testing

@testable import SigilGraph
@testable import SigilService
@testable import SigilStore

/// JSON batching (docs/api.md, "JSON batching"): the payload, the order requests run and answer
/// in, dependsOn and 424, the documented refusals, and inner requests being authorised, audited
/// and throttled exactly as direct ones.
@Suite struct BatchTests {
    typealias Fixture = SeedConformanceTests.Fixture
    static let writeType = "#Microsoft.DirectoryServices.CustomSecurityAttributeValue"

    /// A PATCH body setting Engineering's NumVendors.
    static func vendors(_ count: Int) -> JSONValue {
        ["customSecurityAttributes": ["Engineering": ["@odata.type": .string(writeType), "NumVendors": .integer(Int64(count))]]]
    }

    static func patchStep(_ id: String, _ url: String, vendors count: Int, dependsOn: [String] = []) -> JSONValue {
        var step = JSONObject([
            ("id", .string(id)), ("method", "PATCH"), ("url", .string(url)), ("headers", ["Content-Type": "application/json"]),
            ("body", vendors(count)),
        ])
        if !dependsOn.isEmpty { step.append("dependsOn", .array(dependsOn.map { .string($0) })) }
        return .object(step)
    }

    static func getStep(_ id: String, _ url: String, dependsOn: [String] = []) -> JSONValue {
        var step = JSONObject([("id", .string(id)), ("method", "GET"), ("url", .string(url))])
        if !dependsOn.isEmpty { step.append("dependsOn", .array(dependsOn.map { .string($0) })) }
        return .object(step)
    }

    static func batch(_ steps: [JSONValue]) -> JSONValue { ["requests": .array(steps)] }

    /// The responses of a 200 batch reply, by id.
    static func responses(_ reply: GraphReply, sourceLocation: SourceLocation = #_sourceLocation) -> [String: JSONObject] {
        #expect(reply.status == .ok, "\(reply.text)", sourceLocation: sourceLocation)
        var byId: [String: JSONObject] = [:]
        for response in reply["responses"]?.arrayValue ?? [] {
            guard let object = response.objectValue, let id = object["id"]?.stringValue else { continue }
            byId[id] = object
        }
        return byId
    }

    static func status(_ response: JSONObject?) -> Int64? {
        if case .integer(let code)? = response?["status"] { return code }
        return nil
    }

    static func numVendors(_ client: GraphClient, _ f: Fixture) async throws -> JSONValue? {
        let reply = try await client.get("/v1.0/users/\(f.userId)?$select=customSecurityAttributes", token: f.admin)
        return reply["customSecurityAttributes"]?.objectValue?["Engineering"]?.objectValue?["NumVendors"]
    }

    // MARK: The payload and its responses

    @Test func runsEachRequestAndAnswersIdStatusHeadersBody() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            for version in ["v1.0", "beta"] {
                let reply = try await client.post(
                    "/\(version)/$batch", token: f.admin,
                    Self.batch([
                        Self.patchStep("write", "/users/\(f.userId)", vendors: 7),
                        Self.getStep("read", "users/\(f.userId)?$select=id,customSecurityAttributes", dependsOn: ["write"]),
                        Self.getStep("beta", "/beta/users/\(f.userId)?$select=id"),
                    ]))
                #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true)
                let byId = Self.responses(reply)
                #expect(Self.status(byId["write"]) == 204)
                #expect(byId["write"]?["body"] == nil)
                #expect(byId["write"]?["headers"]?.objectValue?["request-id"]?.stringValue?.isEmpty == false)
                #expect(Self.status(byId["read"]) == 200)
                let read = byId["read"]?["body"]?.objectValue
                #expect(read?["id"]?.stringValue == f.userId)
                #expect(read?["customSecurityAttributes"]?.objectValue?["Engineering"]?.objectValue?["NumVendors"] == 7)
                #expect(read?["@odata.context"]?.stringValue?.contains("/\(version)/$metadata#") == true)
                #expect(byId["read"]?["headers"]?.objectValue?["Content-Type"]?.stringValue?.hasPrefix("application/json") == true)
                // A version segment inside the url picks that version.
                #expect(byId["beta"]?["body"]?.objectValue?["@odata.context"]?.stringValue?.contains("/beta/$metadata#") == true)
            }
            #expect(try await Self.numVendors(client, f) == 7)
        }
    }

    /// Requests without `dependsOn` run in any order, some side by side (as Graph's do); the
    /// answers still come in the order listed, and every read sees a state some write left.
    @Test func independentRequestsAllRunAndAnswerInListedOrder() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            var steps: [JSONValue] = []
            for round in 0..<6 {
                steps.append(Self.getStep("read\(round)", "/users/\(f.userId)?$select=customSecurityAttributes"))
                steps.append(Self.patchStep("write\(round)", "/users/\(f.userId)", vendors: round + 10))
            }
            let start = try await Self.numVendors(client, f)
            let reply = try await client.post("/v1.0/$batch", token: f.admin, Self.batch(steps))
            let listed = (reply["responses"]?.arrayValue ?? []).compactMap { $0.objectValue?["id"]?.stringValue }
            #expect(listed == steps.compactMap { $0.objectValue?["id"]?.stringValue })
            let byId = Self.responses(reply)
            #expect((0..<6).map { Self.status(byId["write\($0)"]) } == Array(repeating: 204, count: 6))
            let written: [JSONValue?] = (10..<16).map { .integer(Int64($0)) }
            for round in 0..<6 {
                #expect(Self.status(byId["read\(round)"]) == 200)
                let body = byId["read\(round)"]?["body"]?.objectValue
                let seen = body?["customSecurityAttributes"]?.objectValue?["Engineering"]?.objectValue?["NumVendors"]
                #expect(seen == start || written.contains(seen), "\(round): \(String(describing: seen))")
            }
            #expect(written.contains(try await Self.numVendors(client, f)))
        }
    }

    @Test func dependsOnOrdersAndAFailedDependencyAnswers424() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            let missing = UUID().uuidString.lowercased()
            let reply = try await client.post(
                "/v1.0/$batch", token: f.admin,
                Self.batch([
                    // Listed first, runs after the write it depends on.
                    Self.getStep("after", "/users/\(f.userId)?$select=customSecurityAttributes", dependsOn: ["WRITE"]),
                    Self.patchStep("write", "/users/\(f.userId)", vendors: 3),
                    Self.patchStep("gone", "/users/\(missing)", vendors: 4),
                    Self.patchStep("blocked", "/users/\(f.userId)", vendors: 5, dependsOn: ["gone"]),
                    Self.getStep("chained", "/users/\(f.userId)", dependsOn: ["blocked"]),
                    Self.getStep("free", "/users/\(f.userId)?$select=id"),
                ]))
            let byId = Self.responses(reply)
            #expect(Self.status(byId["write"]) == 204)
            let after = byId["after"]?["body"]?.objectValue?["customSecurityAttributes"]?.objectValue
            #expect(after?["Engineering"]?.objectValue?["NumVendors"] == 3)
            #expect(Self.status(byId["gone"]) == 404)
            #expect(Self.status(byId["blocked"]) == 424)
            let error = byId["blocked"]?["body"]?.objectValue?["error"]?.objectValue
            #expect(error?["code"] == "FailedDependency")
            #expect(error?["message"]?.stringValue?.contains("'gone'") == true)
            #expect(byId["blocked"]?["headers"]?.objectValue?["request-id"]?.stringValue?.isEmpty == false)
            #expect(Self.status(byId["chained"]) == 424)
            #expect(Self.status(byId["free"]) == 200)
            // The blocked write never ran.
            #expect(try await Self.numVendors(client, f) == 3)
        }
    }

    @Test func aBase64BodyIsDecoded() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            let encoded = Data(Self.vendors(21).serialized()).base64EncodedString()
            let step: JSONValue = [
                "id": "1", "method": "patch", "url": .string("/users/\(f.userId)"),
                "headers": ["content-type": "application/json"], "body": .string(encoded),
            ]
            let byId = Self.responses(try await client.post("/v1.0/$batch", token: f.admin, Self.batch([step])))
            #expect(Self.status(byId["1"]) == 204)
            #expect(try await Self.numVendors(client, f) == 21)
        }
    }

    // MARK: Refusals: the whole batch is refused and nothing runs

    @Test func refusesMalformedBatchesAndRunsNothing() async throws {
        let f = try await Fixture.make()
        let write = Self.patchStep("w", "/users/\(f.userId)", vendors: 99)
        let cases: [(String, JSONValue, String)] = [
            (
                "more than 20", Self.batch([write] + (1...20).map { Self.getStep("g\($0)", "/users") }),
                "The batch holds 21 requests; the limit is 20 requests per batch."
            ),
            ("duplicate ids", Self.batch([write, Self.getStep("W", "/users")]), "The batch holds more than one request with the id 'W'."),
            ("no requests", ["value": []], "The batch request body has no 'requests' property; it must list the requests to run."),
            ("empty", Self.batch([]), "The batch property 'requests' is empty; send at least one request."),
            (
                "no id", Self.batch([write, ["method": "GET", "url": "/users"]]),
                "Request 2 of the batch has no 'id'; each request needs a string id unique in the batch."
            ),
            ("no method", Self.batch([write, ["id": "2", "url": "/users"]]), "Request '2' has no 'method'."),
            ("no url", Self.batch([write, ["id": "2", "method": "GET"]]), "Request '2' has no 'url'."),
            (
                "unknown method", Self.batch([write, ["id": "2", "method": "TRACE", "url": "/users"]]),
                "Request '2' has the method 'TRACE'; use GET, POST, PATCH, PUT or DELETE."
            ),
            (
                "body without content type",
                Self.batch([write, ["id": "2", "method": "PATCH", "url": .string("/users/\(f.userId)"), "body": Self.vendors(1)]]),
                "Request '2' has a body but no Content-Type header; a request with a body must name its type."
            ),
            (
                "unknown dependency", Self.batch([write, Self.getStep("2", "/users", dependsOn: ["9"])]),
                "Request '2' depends on '9', which is not a request id in this batch."
            ),
            (
                "cycle",
                Self.batch([
                    Self.patchStep("a", "/users/\(f.userId)", vendors: 99, dependsOn: ["c"]), Self.getStep("b", "/users", dependsOn: ["a"]),
                    Self.getStep("c", "/users", dependsOn: ["b"]),
                ]),
                "The batch's dependsOn references form a cycle: a -> c -> b -> a."
            ),
            (
                "unknown property", Self.batch([write, ["id": "2", "method": "GET", "url": "/users", "atomicityGroup": "g"]]),
                "Request '2' has the property 'atomicityGroup', which a batch does not define."
            ),
            ("self dependency", Self.batch([write, Self.getStep("2", "/users", dependsOn: ["2"])]), "Request '2' depends on itself."),
            (
                "nested batch",
                Self.batch([write, ["id": "2", "method": "POST", "url": "/$batch", "headers": ["Content-Type": "application/json"], "body": ["requests": []]]]),
                "Request '2' is itself a $batch request; batches cannot be nested."
            ),
            (
                "nested versioned batch", Self.batch([write, ["id": "2", "method": "POST", "url": "/beta/$batch"]]),
                "Request '2' is itself a $batch request; batches cannot be nested."
            ),
            (
                "absolute url", Self.batch([write, Self.getStep("2", "https://graph.microsoft.com/v1.0/users")]),
                "Request '2' has the absolute url 'https://graph.microsoft.com/v1.0/users'; a batched url is relative, such as '/users/{id}'."
            ),
            (
                "bad base64",
                Self.batch([write, ["id": "2", "method": "PATCH", "url": "/users/x", "headers": ["Content-Type": "application/json"], "body": "%%%"]]),
                "Request '2' has a string body that is not base64 encoded; send JSON as an object."
            ),
        ]
        try await f.tenant.test { client in
            for (name, body, message) in cases {
                let reply = try await client.post("/v1.0/$batch", token: f.admin, body)
                #expect(reply.status == .badRequest, "\(name): \(reply.text)")
                #expect(reply.errorCode == "Request_BadRequest", "\(name)")
                #expect(reply.errorMessage == message, "\(name): \(reply.text)")
            }
            #expect(try await Self.numVendors(client, f) == nil)
            // Exactly 20 is allowed.
            let twenty = Self.batch([write] + (1...19).map { Self.getStep("g\($0)", "/users?$top=1") })
            let byId = Self.responses(try await client.post("/v1.0/$batch", token: f.admin, twenty))
            #expect(byId.count == 20)
            #expect(try await Self.numVendors(client, f) == 99)
            // Not JSON at all.
            let text = try await client.send(.post, "/v1.0/$batch", token: f.admin, body: "requests")
            text.expectError(400, "Request_BadRequest")
        }
    }

    // MARK: Authorised, audited and throttled as if sent alone

    @Test func unauthenticatedBatchIsRefusedWhole() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            let reply = try await client.post(
                "/v1.0/$batch", token: nil, Self.batch([Self.patchStep("1", "/users/\(f.userId)", vendors: 1)]))
            reply.expectError(401, "InvalidAuthenticationToken")
            #expect(try await Self.numVendors(client, f) == nil)
        }
    }

    @Test func aForbiddenInnerRequestChangesNothingAndIsAuditedLikeADirectOne() async throws {
        let f = try await Fixture.make()
        let reader = try await f.tenant.servicePrincipal("Reader", grants: [.tenant(.attributeAssignmentReader)])
        let logs = try await f.tenant.user("Logan", grants: [.tenant(.attributeLogReader)])
        try await f.tenant.test { client in
            #expect(try await client.patch("/v1.0/users/\(f.userId)", token: f.admin, Self.vendors(2)).status == .noContent)
            // The reader's direct PATCH, then the same PATCH in a batch, with the administrator's
            // token smuggled into the inner headers (ignored: the batch's own Authorization counts).
            let direct = try await client.patch("/v1.0/users/\(f.userId)", token: reader.token, Self.vendors(8))
            direct.expectError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
            let step: JSONValue = [
                "id": "deny", "method": "PATCH", "url": .string("/users/\(f.userId)"),
                "headers": ["Content-Type": "application/json", "Authorization": .string("Bearer \(f.admin)")],
                "body": Self.vendors(8),
            ]
            let byId = Self.responses(
                try await client.post(
                    "/v1.0/$batch", token: reader.token,
                    Self.batch([step, Self.getStep("read", "/users/\(f.userId)?$select=customSecurityAttributes")])))
            let denied = try #require(byId["deny"])
            #expect(Self.status(denied) == 403)
            let error = denied["body"]?.objectValue?["error"]?.objectValue
            #expect(error?["code"] == "Authorization_RequestDenied")
            #expect(error?["message"] == "Insufficient privileges to complete the operation.")
            // The reader may still read, in the same batch.
            #expect(Self.status(byId["read"]) == 200)
            #expect(try await Self.numVendors(client, f) == 2)

            let audits = try await client.get("/beta/auditLogs/customSecurityAttributeAudits?$top=100", token: logs.token)
            let failures = audits.values.compactMap(\.objectValue).filter { $0["result"] == "failure" }
            #expect(failures.count == 2, "\(audits.text)")
            let batched = try #require(failures.first { $0["correlationId"]?.stringValue == denied["headers"]?.objectValue?["request-id"]?.stringValue })
            let alone = try #require(failures.first { $0["correlationId"]?.stringValue == direct.header("request-id") })
            for key in ["activityDisplayName", "category", "result", "resultReason", "initiatedBy", "targetResources", "operationType"] {
                #expect(batched[key] == alone[key], "\(key): \(batched[key].map(\.serializedString) ?? "nil") vs \(alone[key].map(\.serializedString) ?? "nil")")
            }
            #expect(batched["initiatedBy"]?.objectValue?["app"]?.objectValue?["servicePrincipalId"]?.stringValue == reader.id)
        }
    }

    @Test func roleChecksApplyPerInnerRequest() async throws {
        let f = try await Fixture.make()
        let nobody = try await f.tenant.user("Nemo")
        let definer = try await f.tenant.servicePrincipal("Definer", grants: [.tenant(.attributeDefinitionAdministrator)])
        try await f.tenant.test { client in
            // The read is of another object than the write: the two run side by side.
            let principal = "/servicePrincipals/\(f.servicePrincipalId)"
            #expect(try await client.patch("/v1.0\(principal)", token: f.admin, Self.vendors(2)).status == .noContent)
            let steps = [
                Self.getStep("sets", "/directory/attributeSets"),
                Self.patchStep("write", "/users/\(f.userId)", vendors: 6),
                Self.getStep("values", "\(principal)?$select=customSecurityAttributes"),
            ]
            // Each inner status matches what the same request gets when sent alone.
            for token in [nobody.token, definer.token, f.admin] {
                let byId = Self.responses(try await client.post("/v1.0/$batch", token: token, Self.batch(steps)))
                let sets = try await client.get("/v1.0/directory/attributeSets", token: token)
                #expect(Self.status(byId["sets"]) == Int64(sets.status.code))
                let values = try await client.get("/v1.0\(principal)?$select=customSecurityAttributes", token: token)
                #expect(Self.status(byId["values"]) == Int64(values.status.code))
                #expect(byId["values"]?["body"] == values.json.map { Self.withoutVolatile($0) } ?? nil)
            }
            // Only the assignment administrator's write went through.
            #expect(try await Self.numVendors(client, f) == 6)
            let denied = Self.responses(try await client.post("/v1.0/$batch", token: definer.token, Self.batch(steps)))
            #expect(Self.status(denied["write"]) == 403)
            #expect(Self.status(denied["sets"]) == 200)
        }
    }

    /// A body as compared across two answers: the error envelope's ids and date differ per request.
    static func withoutVolatile(_ value: JSONValue) -> JSONValue {
        guard var object = value.objectValue, let error = object["error"]?.objectValue else { return value }
        object = JSONObject(object.members.filter { $0.key != "error" })
        object.append("error", .object(JSONObject(error.members.filter { $0.key != "innerError" })))
        return .object(object)
    }

    @Test func eachInnerRequestIsThrottledAsIfSentAlone() async throws {
        let tenant = try await TestTenant.make()
        let busy = try await tenant.bootstrapToken()
        // The batch itself is one request, each inner request another: burst 4 = batch + 3 inner.
        let options = ServerOptions(rateLimit: RateLimit(requestsPerSecond: 0.01, burst: 4))
        try await tenant.test(options: options) { client in
            let steps = (1...5).map { Self.getStep("\($0)", "/users?$top=1") }
            let byId = Self.responses(try await client.post("/v1.0/$batch", token: busy, Self.batch(steps)))
            // Which three get through depends on which arrives first: they run side by side.
            let statuses = (1...5).map { Self.status(byId["\($0)"]) }
            #expect(statuses.filter { $0 == 200 }.count == 3, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count == 2, "\(statuses)")
            for id in (1...5).map({ "\($0)" }) where Self.status(byId[id]) == 429 {
                #expect(byId[id]?["body"]?.objectValue?["error"]?.objectValue?["code"] == "TooManyRequests")
                #expect(Int(byId[id]?["headers"]?.objectValue?["Retry-After"]?.stringValue ?? "") ?? 0 > 0)
            }
            // The bucket is empty now: the batch itself is refused.
            let refused = try await client.post("/v1.0/$batch", token: busy, Self.batch(steps))
            refused.expectError(429, "TooManyRequests")
        }
    }

    // MARK: Writes sharing a transaction (SQLite) or committed one by one (PostgreSQL)

    @Test func aFailingInnerWriteInTheMiddleLeavesTheOthersCommittedEachAudited() async throws {
        let f = try await Fixture.make()
        let logs = try await f.tenant.user("Logan", grants: [.tenant(.attributeLogReader)])
        try await f.tenant.test { client in
            let bad: JSONValue = [
                "customSecurityAttributes": ["Engineering": ["@odata.type": .string(Self.writeType), "NumVendors": "many"]]
            ]
            let steps: [JSONValue] = [
                Self.patchStep("first", "/users/\(f.userId)", vendors: 3),
                [
                    "id": "bad", "method": "PATCH", "url": .string("/servicePrincipals/\(f.servicePrincipalId)"),
                    "headers": ["Content-Type": "application/json"], "body": bad,
                ],
                Self.patchStep("last", "/servicePrincipals/\(f.servicePrincipalId)", vendors: 5),
                Self.getStep("read", "/servicePrincipals/\(f.servicePrincipalId)?$select=customSecurityAttributes", dependsOn: ["last"]),
            ]
            let byId = Self.responses(try await client.post("/v1.0/$batch", token: f.admin, Self.batch(steps)))
            #expect(["first", "bad", "last", "read"].map { Self.status(byId[$0]) } == [204, 400, 204, 200])
            // The read that depends on the write sees it.
            let read = byId["read"]?["body"]?.objectValue?["customSecurityAttributes"]?.objectValue
            #expect(read?["Engineering"]?.objectValue?["NumVendors"] == 5)
            #expect(try await Self.numVendors(client, f) == 3)
            let principal = try await client.get(
                "/v1.0/servicePrincipals/\(f.servicePrincipalId)?$select=customSecurityAttributes", token: f.admin)
            #expect(principal["customSecurityAttributes"]?.objectValue?["Engineering"]?.objectValue?["NumVendors"] == 5)

            // One audit record per inner write, each under its own request id, the refusal included.
            let audits = try await client.get("/beta/auditLogs/customSecurityAttributeAudits?$top=100", token: logs.token)
            let records = audits.values.compactMap(\.objectValue)
            for (id, result) in [("first", "success"), ("bad", "failure"), ("last", "success")] {
                let requestId = byId[id]?["headers"]?.objectValue?["request-id"]?.stringValue
                let mine = records.filter { $0["correlationId"]?.stringValue == requestId }
                #expect(mine.count == 1, "\(id): \(audits.text)")
                #expect(mine.first?["result"]?.stringValue == result, "\(id)")
            }
            // And the chain over them is intact.
            let verified = try await f.tenant.store.verifyAuditChain()
            if case .intact = verified {} else { Issue.record("audit chain: \(verified)") }
        }
    }

    @Test func twentyWritesInOneBatchAllCommitAndReadBack() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            var steps = (1...19).map { Self.patchStep("\($0)", "/users/\(f.userId)", vendors: $0, dependsOn: $0 > 1 ? ["\($0 - 1)"] : []) }
            steps.append(Self.getStep("20", "/users/\(f.userId)?$select=customSecurityAttributes", dependsOn: ["19"]))
            let byId = Self.responses(try await client.post("/v1.0/$batch", token: f.admin, Self.batch(steps)))
            #expect((1...19).allSatisfy { Self.status(byId["\($0)"]) == 204 })
            #expect(byId["20"]?["body"]?.objectValue?["customSecurityAttributes"]?.objectValue?["Engineering"]?.objectValue?["NumVendors"] == 19)
            #expect(try await Self.numVendors(client, f) == 19)
        }
    }

    /// SQLite: when the batch's commit fails (here a foreign key checked at commit, which a
    /// trigger on the audit log adds), every inner write answers 500 and none of them remains.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SIGIL_TEST_DATABASE_URL"] == nil, "SQLite shares the transaction"))
    func aFailedCommitTurnsEveryInnerWriteIntoAFailure() async throws {
        let f = try await Fixture.make()
        guard let store = f.tenant.store as? SQLiteStore else {
            Issue.record("not SQLite")
            return
        }
        try await f.tenant.test { client in
            #expect(try await client.patch("/v1.0/users/\(f.userId)", token: f.admin, Self.vendors(1)).status == .noContent)
            try await store.writer.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE doomed (object_id TEXT REFERENCES directory_objects(id) DEFERRABLE INITIALLY DEFERRED);
                        CREATE TRIGGER doom AFTER INSERT ON audit_records BEGIN INSERT INTO doomed VALUES ('nobody'); END;
                        """)
            }
            let steps = [
                Self.patchStep("a", "/users/\(f.userId)", vendors: 2),
                Self.patchStep("b", "/servicePrincipals/\(f.servicePrincipalId)", vendors: 3),
                Self.getStep("c", "/users/\(f.userId)?$select=customSecurityAttributes", dependsOn: ["a"]),
            ]
            let byId = Self.responses(try await client.post("/v1.0/$batch", token: f.admin, Self.batch(steps)))
            for id in ["a", "b", "c"] {
                #expect(Self.status(byId[id]) == 500, "\(id)")
                #expect(byId[id]?["body"]?.objectValue?["error"]?.objectValue?["code"] == "Service_InternalServerError", "\(id)")
            }
            try await store.writer.write { db in try db.execute(sql: "DROP TRIGGER doom; DROP TABLE doomed") }
            #expect(try await Self.numVendors(client, f) == 1)
        }
    }
}
