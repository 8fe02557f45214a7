import Foundation
import SigilCore
import Testing

@testable import SigilClient

/// `sigil import assignments`: rows grouped by object, each checked against the definitions,
/// each object one PATCH, refused rows with their reasons for the rejects file.
@Suite struct AssignmentImportTests {
    let catalog = ClientFixtures.catalog

    func row(_ fields: [String], line: Int = 1) -> AssignmentImport.Row { AssignmentImport.Row(line: line, fields: fields) }

    func reason(_ fields: [String]) -> String? {
        switch AssignmentImport.check(row(fields), catalog) {
        case .success: nil
        case .failure(let error): "\(error)"
        }
    }

    @Test func aHeaderIsSkippedAndLinesAreCounted() throws {
        let withHeader = try AssignmentImport(csv: "Object,Set,Attribute,Value\na,Engineering,NumVendors,1\n\nb,Engineering,NumVendors,2\n", collection: "users")
        #expect(withHeader.rows.map(\.line) == [2, 3])
        #expect(withHeader.rows.map(\.object) == ["a", "b"])
        #expect(withHeader.rows[0].reference == "Engineering.NumVendors")
        let without = try AssignmentImport(csv: "a,Engineering,NumVendors,1", collection: "servicePrincipals")
        #expect(without.rows.map(\.line) == [1])
        #expect(without.collection == "servicePrincipals")
    }

    @Test func rowsGroupByObjectInTheOrderObjectsAppear() throws {
        let job = try AssignmentImport(
            csv: "b,Engineering,NumVendors,1\na,Engineering,Active,true\nB,Engineering,Active,false\nshort,row\n", collection: "users")
        #expect(job.groups.map(\.object) == ["b", "a"])
        #expect(job.groups.map { $0.rows.map(\.line) } == [[1, 3], [2]])
    }

    @Test func rowsAreTypedByTheirDefinition() throws {
        guard case .success(let (definition, values)) = AssignmentImport.check(row(["a", "Engineering", "Project", "Alpine|Baker"]), catalog) else {
            Issue.record("a valid row was refused")
            return
        }
        #expect(definition.id == "Engineering_Project")
        #expect(values == [.string("Alpine"), .string("Baker")])
        #expect(reason(["a", "engineering", "numvendors", "-3"]) == nil)
        #expect(reason(["a", "Marketing", "AppCountry", String(repeating: "x", count: Limits.assignedValueLength)]) == nil)
    }

    @Test(arguments: [
        (["a", "Engineering", "NumVendors"], "expected 4 columns (object, set, attribute, value), found 3"),
        (["", "Engineering", "NumVendors", "1"], "the object column is empty"),
        (["a", "Engineering", "Colour", "Red"], "There is no attribute 'Colour' in attribute set 'Engineering' (or you may not read it)."),
        (["a", "Engineering", "NumVendors", "1|2"], "Engineering.NumVendors takes one value, not 2"),
        (["a", "Engineering", "NumVendors", "one"], "Engineering.NumVendors takes whole numbers: 'one' is not a whole number between -2147483648 and 2147483647."),
        (["a", "Engineering", "Active", "1"], "Engineering.Active takes true or false, not '1'."),
        (["a", "Marketing", "AppCountry", ""], "values of Marketing.AppCountry must be 1 to 64 characters"),
        (["a", "Marketing", "AppCountry", String(repeating: "x", count: 65)], "values of Marketing.AppCountry must be 1 to 64 characters"),
        (["a", "Engineering", "Project", "Alpine||Baker"], "values of Engineering.Project must be 1 to 64 characters"),
        (["a", "Engineering", "Project", "Alpine|Cedar"], "'Cedar' is not an active predefined value of Engineering.Project"),
        (["a", "Engineering", "Project", "Old"], "'Old' is not an active predefined value of Engineering.Project"),
    ])
    func badRowsAreRefusedWithAReason(_ fields: [String], _ expected: String) {
        #expect(reason(fields) == expected)
    }

    /// A stub tenant: the definitions, and users that exist unless their name starts with `ghost`.
    func tenant() -> StubGraph {
        StubGraph { request in
            if request.method == "GET", request.path.hasPrefix("/directory/customSecurityAttributeDefinitions?") {
                return (200, StubGraph.page(ClientFixtures.definitions))
            }
            if request.method == "PATCH", request.path.hasPrefix("/users/"), !request.path.hasPrefix("/users/ghost") {
                return (204, nil)
            }
            return (404, StubGraph.error("Request_ResourceNotFound", "Resource '\(request.path)' does not exist."))
        }
    }

    static let csv = """
        object,set,attribute,value
        adele@sigil.test,Engineering,Project,Alpine
        adele@sigil.test,Engineering,NumVendors,4
        alex@sigil.test,Engineering,NumVendors,many
        alex@sigil.test,Engineering,Active,true
        ghost@sigil.test,Engineering,Active,false
        just,three,columns
        ADELE@sigil.test,Engineering,Project,Baker
        ADELE@sigil.test,Marketing,AppCountry,"Canada, of course"

        """

    @Test func aDryRunSendsNothing() async throws {
        let stub = tenant()
        let job = try AssignmentImport(csv: Self.csv, collection: "users")
        let done = Locked(0)
        let report = try await job.run(client: stub.client, dryRun: true, concurrency: 4) { count in done.withLock { $0 += count } }
        #expect(stub.writes.isEmpty)
        #expect(report.written == 5)
        #expect(report.objects == 2)
        #expect(Set(report.rejected.map(\.row.line)) == [4, 5, 7])
        #expect(done.withLock { $0 } == 7)
    }

    @Test func eachObjectIsOnePatchAndRefusalsCarryTheirReasons() async throws {
        let stub = tenant()
        let job = try AssignmentImport(csv: Self.csv, collection: "users")
        let report = try await job.run(client: stub.client, dryRun: false, concurrency: 2) { _ in }
        // This server has no `$batch` (404): one try, then a PATCH per object.
        #expect(stub.writes.first == "POST /$batch")
        #expect(Set(stub.writes.dropFirst()) == ["PATCH /users/adele@sigil.test", "PATCH /users/ghost@sigil.test"])
        #expect(report.written == 4)
        #expect(report.objects == 1)
        // Every refused row, in file order, with why.
        #expect(report.rejected.map(\.row.line) == [4, 5, 6, 7])
        #expect(
            report.rejected.map(\.reason) == [
                "Engineering.NumVendors takes whole numbers: 'many' is not a whole number between -2147483648 and 2147483647.",
                "not written: another row for alex@sigil.test was refused",
                "Resource '/users/ghost@sigil.test' does not exist. (404 Request_ResourceNotFound)",
                "expected 4 columns (object, set, attribute, value), found 3",
            ])
        // Adele's four rows are one change: both sets, Project's two values together.
        let adele = try #require(stub.requests.first { $0.path == "/users/adele@sigil.test" }?.body)
        let sets = adele.objectValue?["customSecurityAttributes"]?.objectValue
        #expect(sets?["Engineering"]?.objectValue?["Project"] == ["Alpine", "Baker"])
        #expect(sets?["Engineering"]?.objectValue?["Project@odata.type"] == "#Collection(String)")
        #expect(sets?["Engineering"]?.objectValue?["NumVendors"] == 4)
        #expect(sets?["Marketing"]?.objectValue?["AppCountry"] == "Canada, of course")

        // The rejects file the command writes from the report reads back row for row.
        let lines = report.rejected.map { CSV.line([String($0.row.line)] + $0.row.fields + [$0.reason]) }
        let read = CSV.parse(lines.joined(separator: "\n") + "\n")
        #expect(read.map { $0.last } == report.rejected.map(\.reason))
        #expect(read[3] == ["7", "just", "three", "columns", "expected 4 columns (object, set, attribute, value), found 3"])
    }

    /// `tenant()` behind a `$batch`: each inner request answered as `tenant()` answers it alone.
    func batchingTenant() -> StubGraph {
        let single = tenant()
        return StubGraph { request in
            guard request.method == "POST", request.path == "/$batch" else { return single.handler(request) }
            let inner = request.body?.objectValue?["requests"]?.arrayValue ?? []
            guard inner.count <= Limits.batchRequests else { return (400, StubGraph.error("Request_BadRequest", "too many")) }
            let responses: [JSONValue] = inner.map { item in
                let object = item.objectValue ?? JSONObject()
                let (status, body) = single.handler(
                    StubGraph.Request(
                        method: object["method"]?.stringValue ?? "", path: object["url"]?.stringValue ?? "", body: object["body"]))
                var response = JSONObject([("id", object["id"] ?? .null), ("status", .integer(Int64(status))), ("headers", [:])])
                if let body { response.append("body", body) }
                return .object(response)
            }
            return (200, .object(JSONObject([("responses", .array(responses))])))
        }
    }

    @Test func aServerWithBatchGetsTwentyObjectsPerRequestAndTheSameReport() async throws {
        let stub = batchingTenant()
        let job = try AssignmentImport(csv: Self.csv, collection: "users")
        let report = try await job.run(client: stub.client, dryRun: false, concurrency: 2) { _ in }
        #expect(stub.writes == ["POST /$batch"])
        let sent = stub.requests.first { $0.path == "/$batch" }?.body?.objectValue?["requests"]?.arrayValue ?? []
        #expect(sent.compactMap { $0.objectValue?["url"]?.stringValue } == ["/users/adele@sigil.test", "/users/ghost@sigil.test"])
        #expect(sent.allSatisfy { $0.objectValue?["method"] == "PATCH" && $0.objectValue?["headers"]?.objectValue?["Content-Type"] == "application/json" })
        // Row for row what the single requests report.
        let single = try await job.run(client: tenant().client, dryRun: false, concurrency: 2) { _ in }
        #expect(report.written == single.written && report.objects == single.objects)
        #expect(report.rejected.map(\.row.line) == single.rejected.map(\.row.line))
        #expect(report.rejected.map(\.reason) == single.rejected.map(\.reason))

        // 45 objects: three batches of at most 20, every row written, progress for every row.
        let many = (1...45).map { "user\($0)@sigil.test,Engineering,NumVendors,\($0)" }.joined(separator: "\n")
        let large = batchingTenant()
        let done = Locked(0)
        let bulk = try await AssignmentImport(csv: many, collection: "users").run(client: large.client, dryRun: false, concurrency: 4) {
            count in done.withLock { $0 += count }
        }
        #expect(large.writes == ["POST /$batch", "POST /$batch", "POST /$batch"])
        let sizes = large.requests.filter { $0.path == "/$batch" }.map { $0.body?.objectValue?["requests"]?.arrayValue?.count ?? 0 }
        #expect(sizes.sorted() == [5, 20, 20])
        #expect(bulk.written == 45 && bulk.objects == 45 && bulk.rejected.isEmpty)
        #expect(done.withLock { $0 } == 45)
    }

    @Test func aBatchWithoutAnAnswerForARowDoesNotCountItWritten() async throws {
        let stub = StubGraph { request in
            request.path == "/$batch" ? (200, .object(JSONObject([("responses", [])]))) : (200, StubGraph.page(ClientFixtures.definitions))
        }
        let job = try AssignmentImport(csv: "a,Engineering,NumVendors,1\n", collection: "users")
        let report = try await job.run(client: stub.client, dryRun: false, concurrency: 1) { _ in }
        #expect(report.written == 0)
        #expect(report.rejected.map(\.reason) == ["The batch returned no response for this request. (0 NoResponse)"])
    }

    @Test func aRefusedBatchIsEveryRowsReason() async throws {
        let single = tenant()
        let stub = StubGraph { request in
            request.path == "/$batch" ? (429, StubGraph.error("TooManyRequests", "Slow down.")) : single.handler(request)
        }
        let job = try AssignmentImport(csv: "a,Engineering,NumVendors,1\nb,Engineering,NumVendors,2\n", collection: "users")
        let report = try await job.run(client: stub.client, dryRun: false, concurrency: 1) { _ in }
        #expect(report.written == 0)
        #expect(report.rejected.map(\.reason) == ["Slow down. (429 TooManyRequests)", "Slow down. (429 TooManyRequests)"])
    }

    @Test func anUnreachableServerEndsTheRun() async throws {
        // Answers every request, `$batch` aside (404: a server without it).
        let stub = StubGraph { request in
            request.path == "/$batch" ? (404, StubGraph.error("Request_ResourceNotFound", "No.")) : (200, StubGraph.page(ClientFixtures.definitions))
        }
        let job = try AssignmentImport(csv: "a,Engineering,NumVendors,1\n", collection: "users")
        guard let server = URL(string: "http://127.0.0.1:1") else { return }
        let unreachable = GraphAPIClient(server: server, token: "t")
        await #expect(throws: ClientError.self) { try await job.run(client: unreachable, dryRun: true, concurrency: 1) { _ in } }
        #expect(try await job.run(client: stub.client, dryRun: false, concurrency: 1) { _ in }.written == 1)
    }
}
