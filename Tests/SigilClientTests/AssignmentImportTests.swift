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
        #expect(Set(stub.writes) == ["PATCH /users/adele@sigil.test", "PATCH /users/ghost@sigil.test"])
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

    @Test func anUnreachableServerEndsTheRun() async throws {
        let stub = StubGraph { _ in (200, StubGraph.page(ClientFixtures.definitions)) }
        let job = try AssignmentImport(csv: "a,Engineering,NumVendors,1\n", collection: "users")
        guard let server = URL(string: "http://127.0.0.1:1") else { return }
        let unreachable = GraphAPIClient(server: server, token: "t")
        await #expect(throws: ClientError.self) { try await job.run(client: unreachable, dryRun: true, concurrency: 1) { _ in } }
        #expect(try await job.run(client: stub.client, dryRun: false, concurrency: 1) { _ in }.written == 1)
    }
}
