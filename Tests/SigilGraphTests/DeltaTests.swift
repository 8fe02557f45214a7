import Foundation
import SigilCore
import SigilStore
import Testing

@testable import SigilGraph
@testable import SigilService

/// `GET /users/delta` and `/servicePrincipals/delta`: the initial round's pages and deltaLink,
/// change rounds (creates, property and attribute changes, deletes), `Prefer: return=minimal`,
/// `$deltatoken=latest`, `$filter=id eq`, readable sets, and refused tokens.
@Suite struct DeltaTests {
    typealias Fixture = SeedConformanceTests.Fixture
    typealias Access = AssignmentAccessTests

    /// Follows nextLinks from `first` to the deltaLink; returns every entry and the deltaLink.
    static func round(
        _ client: GraphClient, _ first: String, token: String, headers: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (entries: [JSONObject], deltaLink: String, pages: Int) {
        var entries: [JSONObject] = []
        var reply = try await client.get(first, token: token, headers: headers)
        var pages = 1
        while true {
            #expect(reply.status == .ok, "\(reply.text)", sourceLocation: sourceLocation)
            entries += reply.values.compactMap(\.objectValue)
            if let next = reply["@odata.nextLink"]?.stringValue {
                #expect(reply["@odata.deltaLink"] == nil, sourceLocation: sourceLocation)
                reply = try await client.follow(next, token: token, headers: headers)
                pages += 1
                continue
            }
            guard let delta = reply["@odata.deltaLink"]?.stringValue else {
                Issue.record("no deltaLink: \(reply.text)", sourceLocation: sourceLocation)
                return (entries, "", pages)
            }
            return (entries, delta, pages)
        }
    }

    static func ids(_ entries: [JSONObject]) -> [String] { entries.compactMap { $0["id"]?.stringValue } }

    /// `count` users named "`name` 0", "`name` 1", ..., for the store's `createAll`.
    static func users(_ count: Int, named name: String) -> [DirectoryObject] {
        (0..<count).map { index in
            DirectoryObject(
                kind: .user, id: UUID().uuidString.lowercased(),
                properties: JSONObject([
                    ("displayName", .string("\(name) \(index)")),
                    ("userPrincipalName", .string("\(name.lowercased())\(index)@sigil.test")),
                ]))
        }
    }

    @Test func initialRoundPagesThroughEveryUserThenReportsNothingNew() async throws {
        let f = try await Fixture.make()
        let users = Self.users(130, named: "Bulk")
        try await f.tenant.store.createAll(users.map { NewObject(object: $0) })
        let total = try await f.tenant.store.count(.user)
        try await f.tenant.test { client in
            let (entries, deltaLink, pages) = try await Self.round(client, "/v1.0/users/delta?$select=id,displayName", token: f.admin)
            #expect(pages == 2)
            #expect(Set(Self.ids(entries)).count == total)
            #expect(entries.allSatisfy { Set($0.keys) == ["id", "displayName"] })
            #expect(deltaLink.contains("/v1.0/users/delta?$deltatoken="))
            let again = try await Self.round(client, GraphClient.pathAndQuery(of: deltaLink), token: f.admin)
            #expect(again.entries.isEmpty)
            // The SDKs' `delta()` form and beta answer the same.
            let qualified = try await client.get("/beta/users/delta()?$select=id", token: f.admin)
            #expect(qualified.status == .ok)
            #expect(qualified.values.count == 100)
        }
    }

    @Test func changeRoundReportsCreatesUpdatesAndDeletesOnceEach() async throws {
        let f = try await Fixture.make()
        let manager = try await f.tenant.servicePrincipal("Manager", grants: [.tenant(.userAdministrator)])
        try await f.tenant.test { client in
            let start = try await Self.round(client, "/v1.0/users/delta?$select=displayName,jobTitle", token: f.admin)
            let doomed = try await f.tenant.user("Doomed")
            try await Access.patch(client, f.userId, token: manager.token, #"{"jobTitle":"Engineer"}"#)
            try await Access.patch(client, f.userId, token: manager.token, #"{"displayName":"Chandra R."}"#)
            let created = try await client.post(
                "/v1.0/users", token: manager.token,
                [
                    "accountEnabled": true, "displayName": "Newcomer", "mailNickname": "newcomer",
                    "userPrincipalName": "newcomer@sigil.test", "passwordProfile": ["password": "Password-123!"],
                ])
            #expect(created.status == .created)
            let newId = created["id"]?.stringValue ?? ""
            #expect(try await client.delete("/v1.0/users/\(doomed.id)", token: manager.token).status == .noContent)

            let full = try await Self.round(client, GraphClient.pathAndQuery(of: start.deltaLink), token: f.admin)
            #expect(Self.ids(full.entries).sorted() == [f.userId, doomed.id, newId].sorted())
            let chandra = full.entries.first { $0["id"]?.stringValue == f.userId }
            #expect(chandra?["displayName"] == "Chandra R.")
            #expect(chandra?["jobTitle"] == "Engineer")
            let removed = full.entries.first { $0["id"]?.stringValue == doomed.id }
            #expect(removed?["@removed"] == ["reason": "deleted"])

            // return=minimal: an update carries only what changed; a create is whole.
            let minimal = try await client.follow(start.deltaLink, token: f.admin, headers: ["Prefer": "return=minimal"])
            #expect(minimal.header("Preference-Applied") == "return=minimal")
            let byId = Dictionary(
                minimal.values.compactMap { $0.objectValue }.map { ($0["id"]?.stringValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            #expect(byId[f.userId] == JSONObject([("id", .string(f.userId)), ("displayName", "Chandra R."), ("jobTitle", "Engineer")]))
            #expect(byId[newId]?["displayName"] == "Newcomer")
            #expect(byId[newId]?.keys.contains("jobTitle") == true)

            // The round's own deltaLink then reports nothing until the next change.
            let quiet = try await Self.round(client, GraphClient.pathAndQuery(of: full.deltaLink), token: f.admin)
            #expect(quiet.entries.isEmpty)
        }
    }

    /// A change round of more than a page: each changed user once, in order; a user deleted after
    /// the round began is left out of it and reported as removed by the next round.
    @Test func changeRoundPagesAndLeavesLaterDeletesToTheNextRound() async throws {
        let f = try await Fixture.make()
        let users = Self.users(130, named: "Paged")
        try await f.tenant.store.createAll(users.map { NewObject(object: $0) })
        try await f.tenant.test { client in
            let start = try await Self.round(client, "/v1.0/users/delta?$select=id,jobTitle", token: f.admin)
            for user in users {
                try await f.tenant.store.modify(.user, id: user.id, passwordHash: nil, audit: nil) { state, _ in
                    var next = state
                    next.object.properties["jobTitle"] = .string("Changed")
                    return next
                }
            }
            let first = try await client.follow(start.deltaLink, token: f.admin)
            let firstIds = Self.ids(first.values.compactMap(\.objectValue))
            #expect(firstIds.count == 100)
            let rest = users.map(\.id).filter { !firstIds.contains($0) }
            let doomed = Array(rest.prefix(5))
            for id in doomed { #expect(try await f.tenant.store.delete(.user, id: id)) }
            let nextLink = try #require(first["@odata.nextLink"]?.stringValue)
            let second = try await Self.round(client, GraphClient.pathAndQuery(of: nextLink), token: f.admin)
            #expect(Self.ids(second.entries) == rest.filter { !doomed.contains($0) })
            #expect(second.entries.allSatisfy { $0["jobTitle"] == "Changed" })
            let following = try await Self.round(client, GraphClient.pathAndQuery(of: second.deltaLink), token: f.admin)
            #expect(Set(Self.ids(following.entries)) == Set(doomed))
            #expect(following.entries.allSatisfy { $0["@removed"] == ["reason": "deleted"] })
        }
    }

    @Test func attributeChangesShowOnlyInSetsTheCallerMayRead() async throws {
        let f = try await Fixture.make()
        let reader = try await f.tenant.servicePrincipal("Reader", grants: [.set(.attributeAssignmentReader, "Engineering")])
        try await f.tenant.test { client in
            let start = try await Self.round(
                client, "/v1.0/users/delta?$select=id,customSecurityAttributes", token: reader.token)
            try await Access.patch(client, f.userId, token: f.admin, Access.body(Access.set("Marketing", Access.marketingMembers)))
            let hidden = try await Self.round(client, GraphClient.pathAndQuery(of: start.deltaLink), token: reader.token)
            #expect(hidden.entries.isEmpty, "a Marketing change is invisible to an Engineering reader")
            let admin = try await Self.round(client, GraphClient.pathAndQuery(of: start.deltaLink), token: f.admin)
            #expect(Self.ids(admin.entries) == [f.userId])

            try await Access.patch(client, f.userId, token: f.admin, Access.body(Access.set("Engineering", Access.engineeringMembers)))
            let shown = try await Self.round(client, GraphClient.pathAndQuery(of: hidden.deltaLink), token: reader.token)
            #expect(Self.ids(shown.entries) == [f.userId])
            #expect(
                shown.entries.first?["customSecurityAttributes"]?.serializedString == "{\(Access.engineeringRead)}",
                "only the readable set, as a GET shows it")
        }
    }

    @Test func latestTokenAndIdFilterTrackOnlyWhatWasAsked() async throws {
        let f = try await Fixture.make()
        let manager = try await f.tenant.servicePrincipal("Manager", grants: [.tenant(.userAdministrator)])
        let other = try await f.tenant.user("Other")
        try await f.tenant.test { client in
            let latest = try await client.get("/v1.0/users/delta?$deltatoken=latest&$select=displayName", token: f.admin)
            #expect(latest.status == .ok)
            #expect(latest.values.isEmpty)
            let latestLink = try #require(latest["@odata.deltaLink"]?.stringValue)

            let filtered = try await Self.round(client, "/v1.0/users/delta?$filter=id eq '\(f.userId)'", token: f.admin)
            #expect(Self.ids(filtered.entries) == [f.userId])

            try await Access.patch(client, other.id, token: manager.token, #"{"displayName":"Other 2"}"#)
            try await Access.patch(client, f.userId, token: manager.token, #"{"displayName":"Chandra 2"}"#)
            let afterLatest = try await Self.round(client, GraphClient.pathAndQuery(of: latestLink), token: f.admin)
            #expect(Set(Self.ids(afterLatest.entries)) == [other.id, f.userId])
            #expect(afterLatest.entries.allSatisfy { Set($0.keys) == ["id", "displayName"] }, "the $select of the first request holds, with id")
            let onlyOne = try await Self.round(client, GraphClient.pathAndQuery(of: filtered.deltaLink), token: f.admin)
            #expect(Self.ids(onlyOne.entries) == [f.userId])

            let several = try await Self.round(
                client, "/v1.0/users/delta?$filter=\("id eq '\(f.userId)' or id eq '\(other.id)'".formEncoded)", token: f.admin)
            #expect(Set(Self.ids(several.entries)) == [f.userId, other.id])
            let otherFilter = try await client.get("/v1.0/users/delta?$filter=displayName eq 'x'", token: f.admin)
            otherFilter.expectError(400, "Request_BadRequest")
        }
    }

    @Test func servicePrincipalDeltaAndRefusedTokens() async throws {
        let f = try await Fixture.make()
        let guest = try await f.tenant.user("Visitor", guest: true)
        try await f.tenant.test { client in
            let round = try await Self.round(client, "/v1.0/servicePrincipals/delta?$select=id,appId", token: f.admin)
            #expect(Self.ids(round.entries).contains(f.servicePrincipalId))
            let added = try await f.tenant.servicePrincipal("Late App")
            let next = try await Self.round(client, GraphClient.pathAndQuery(of: round.deltaLink), token: f.admin)
            #expect(Self.ids(next.entries) == [added.id])

            try await client.get("/v1.0/users/delta", token: guest.token).expectError(403, "Authorization_RequestDenied")
            let token = String(round.deltaLink.split(separator: "=").last ?? "")
            // A token altered by one character, one issued for the other resource, and a token with $select.
            let altered = String(token.dropLast()) + (token.hasSuffix("A") ? "B" : "A")
            try await client.get("/v1.0/servicePrincipals/delta?$deltatoken=\(altered)", token: f.admin).expectError(400, "Request_BadRequest")
            try await client.get("/v1.0/users/delta?$deltatoken=\(token)", token: f.admin).expectError(400, "Request_BadRequest")
            try await client.get("/v1.0/servicePrincipals/delta?$skiptoken=\(token)", token: f.admin).expectError(400, "Request_BadRequest")
            try await client.get("/v1.0/servicePrincipals/delta?$deltatoken=\(token)&$select=id", token: f.admin)
                .expectError(400, "Request_BadRequest")
            try await client.get("/v1.0/users/delta?$top=5", token: f.admin).expectError(400, "Request_BadRequest")
        }
    }
}
