import Foundation
import Hummingbird
import HummingbirdTesting
import SigilCore
import SigilStore
import Testing

@testable import SigilGraph
@testable import SigilService

/// `/subscriptions` and the dispatcher against a real webhook on a loopback port: the
/// validation handshake, clientState, commit order, readable sets, retries and lifecycle events.
@Suite struct SubscriptionTests {
    typealias Fixture = SeedConformanceTests.Fixture
    typealias Access = AssignmentAccessTests

    /// A webhook receiver: echoes validation tokens (or not), records notification bodies, and
    /// answers with `status`.
    final class Receiver: Sendable {
        let received = Locked<[JSONObject]>([])
        let status = Locked<Int>(202)
        let echoes = Locked<Bool>(true)

        var notifications: [JSONObject] { received.withLock { $0 } }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            for path in ["hook", "lifecycle"] {
                router.post(RouterPath(path)) { request, context -> Response in
                    if let token = request.uri.queryParameters.get("validationToken") {
                        let text = self.echoes.withLock { $0 } ? token : "nope"
                        return Response(
                            status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
                    }
                    let body = try await request.body.collect(upTo: 1 << 20)
                    let status = self.status.withLock { $0 }
                    if (200..<300).contains(status), case .object(let object)? = try? JSON.parse(String(buffer: body)) {
                        for item in object["value"]?.arrayValue ?? [] {
                            guard var member = item.objectValue else { continue }
                            member["path"] = .string(path)
                            self.received.withLock { $0.append(member) }
                        }
                    }
                    return Response(status: .init(code: status))
                }
            }
            return router
        }

        /// Runs `body` with the receiver listening on a loopback port.
        func serve(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
            let app = Application(router: router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in try await body(client.port ?? 0) }
        }
    }

    static func expiry(minutes: Double) -> String { graphTimestamp(Date().addingTimeInterval(minutes * 60)) }

    static func body(_ port: Int, resource: String = "users", changeType: String = "updated,deleted", clientState: String? = "s3cret")
        -> JSONValue
    {
        var object = JSONObject([
            ("changeType", .string(changeType)), ("notificationUrl", .string("http://127.0.0.1:\(port)/hook")),
            ("lifecycleNotificationUrl", .string("http://localhost:\(port)/lifecycle")), ("resource", .string(resource)),
            ("expirationDateTime", .string(expiry(minutes: 60))),
        ])
        if let clientState { object["clientState"] = .string(clientState) }
        return .object(object)
    }

    @Test func creationValidatesTheEndpointAndGraphsRules() async throws {
        let f = try await Fixture.make()
        let guest = try await f.tenant.user("Visitor", guest: true)
        let receiver = Receiver()
        try await receiver.serve { port in
            try await f.tenant.test { client in
                let created = try await client.post("/v1.0/subscriptions", token: f.admin, Self.body(port))
                #expect(created.status == .created, "\(created.text)")
                #expect(created["resource"] == "users")
                #expect(created["changeType"] == "updated,deleted")
                #expect(created["clientState"] == "s3cret")
                #expect(created.hasContext("subscriptions/$entity"))
                let id = try #require(created["id"]?.stringValue)

                receiver.echoes.withLock { $0 = false }
                try await client.post("/v1.0/subscriptions", token: f.admin, Self.body(port)).expectError(400, "Request_BadRequest")
                receiver.echoes.withLock { $0 = true }

                var remote = Self.body(port).objectValue ?? JSONObject()
                remote["notificationUrl"] = "http://example.com/hook"
                try await client.post("/v1.0/subscriptions", token: f.admin, .object(remote)).expectError(400, "Request_BadRequest")
                var late = Self.body(port).objectValue ?? JSONObject()
                late["expirationDateTime"] = .string(Self.expiry(minutes: 41_761))
                try await client.post("/v1.0/subscriptions", token: f.admin, .object(late)).expectError(400, "Request_BadRequest")
                try await client.post("/v1.0/subscriptions", token: f.admin, Self.body(port, changeType: "created"))
                    .expectError(400, "Request_BadRequest")
                try await client.post("/v1.0/subscriptions", token: f.admin, Self.body(port, resource: "groups"))
                    .expectError(400, "Request_BadRequest")
                try await client.post("/v1.0/subscriptions", token: guest.token, Self.body(port))
                    .expectError(403, "Authorization_RequestDenied")

                // Only the creator sees, renews and deletes it.
                let other = try await f.tenant.servicePrincipal("Other")
                #expect(try await client.get("/v1.0/subscriptions", token: other.token).values.isEmpty)
                try await client.get("/v1.0/subscriptions/\(id)", token: other.token).expectError(404, "Request_ResourceNotFound")
                #expect(try await client.get("/beta/subscriptions", token: f.admin).valueIds == [id])
                let renewed = try await client.patch(
                    "/v1.0/subscriptions/\(id)", token: f.admin, ["expirationDateTime": .string(Self.expiry(minutes: 600))])
                #expect(renewed.status == .ok, "\(renewed.text)")
                #expect(try await client.delete("/v1.0/subscriptions/\(id)", token: f.admin).status == .noContent)
                try await client.get("/v1.0/subscriptions/\(id)", token: f.admin).expectError(404, "Request_ResourceNotFound")
            }
        }
    }

    @Test func notificationsArriveInCommitOrderWithClientStateAndOnlyReadableChanges() async throws {
        let f = try await Fixture.make()
        let watcher = try await f.tenant.servicePrincipal("Watcher", grants: [.set(.attributeAssignmentReader, "Engineering")])
        let manager = try await f.tenant.servicePrincipal("Manager", grants: [.tenant(.userAdministrator)])
        let a = try await f.tenant.user("Ann")
        let b = try await f.tenant.user("Bob")
        let receiver = Receiver()
        let dispatcher = NotificationDispatcher(services: f.tenant.services)
        try await receiver.serve { port in
            try await f.tenant.test { client in
                let created = try await client.post("/v1.0/subscriptions", token: watcher.token, Self.body(port))
                #expect(created.status == .created, "\(created.text)")
                try await Access.patch(client, b.id, token: manager.token, #"{"displayName":"Bob 2"}"#)
                try await Access.patch(client, a.id, token: manager.token, #"{"displayName":"Ann 2"}"#)
                try await Access.patch(client, a.id, token: f.admin, Access.body(Access.set("Marketing", Access.marketingMembers)))
                try await Access.patch(client, f.userId, token: f.admin, Access.body(Access.set("Engineering", Access.engineeringMembers)))
                #expect(try await client.delete("/v1.0/users/\(b.id)", token: manager.token).status == .noContent)

                // A failing receiver keeps everything queued and backs off.
                receiver.status.withLock { $0 = 500 }
                #expect(try await dispatcher.runOnce() == 0)
                let held = try #require(try await f.tenant.store.subscriptions(creatorId: watcher.id).first)
                #expect(held.delivery.failures == 1)
                #expect(held.delivery.nextAttempt > Date())
                receiver.status.withLock { $0 = 202 }
                #expect(try await dispatcher.runOnce() == 0, "not due until the back-off passes")
                #expect(try await dispatcher.runOnce(now: Date().addingTimeInterval(5)) == 4)

                let got = receiver.notifications
                #expect(got.map { $0["resourceData"]?.objectValue?["id"]?.stringValue ?? "" } == [b.id, a.id, f.userId, b.id])
                #expect(got.map { $0["changeType"]?.stringValue ?? "" } == ["updated", "updated", "updated", "deleted"])
                #expect(got.allSatisfy { $0["clientState"] == "s3cret" && $0["tenantId"]?.stringValue == f.tenant.tenantId })
                #expect(got.first?["resource"]?.stringValue == "Users/\(b.id)")
                let texts = got.map { JSONValue.object($0).serializedString }
                #expect(!texts.contains { $0.contains("GS45897") || $0.contains("2024-11-15") }, "never attribute values")

                let after = try #require(try await f.tenant.store.subscriptions(creatorId: watcher.id).first)
                #expect(after.delivery.delivered == 4)
                #expect(after.delivery.totalFailures == 1)
                #expect(try await dispatcher.runOnce(now: Date().addingTimeInterval(5)) == 0, "nothing is sent twice")
            }
        }
    }

    @Test func lifecycleEventsForLostAccessExpiryAndRemoval() async throws {
        let f = try await Fixture.make()
        let manager = try await f.tenant.servicePrincipal("Manager", grants: [.tenant(.userAdministrator)])
        let member = try await f.tenant.user("Mia")
        let receiver = Receiver()
        let dispatcher = NotificationDispatcher(services: f.tenant.services)
        try await receiver.serve { port in
            try await f.tenant.test { client in
                let mine = try await client.post("/v1.0/subscriptions", token: member.token, Self.body(port, clientState: nil))
                #expect(mine.status == .created, "\(mine.text)")
                let expiring = try await client.post("/v1.0/subscriptions", token: f.admin, Self.body(port))
                let expiringId = try #require(expiring["id"]?.stringValue)
                try await Access.patch(client, f.userId, token: manager.token, #"{"jobTitle":"Lead"}"#)

                // The member becomes a guest: it may no longer read the directory.
                try await Access.patch(client, member.id, token: manager.token, #"{"userType":"Guest"}"#)
                #expect(try await dispatcher.runOnce() == 2, "the admin's subscription delivers both changes")
                let lifecycle = receiver.notifications.filter { $0["path"] == "lifecycle" }
                #expect(lifecycle.map { $0["lifecycleEvent"]?.stringValue ?? "" } == ["reauthorizationRequired"])
                #expect(lifecycle.first?["clientState"] == .null)
                let paused = try #require(try await f.tenant.store.subscriptions(creatorId: member.id).first)
                #expect(paused.delivery.paused)

                // Expiry with a change still queued: missed, then subscriptionRemoved.
                try await Access.patch(client, f.userId, token: manager.token, #"{"jobTitle":"Head"}"#)
                receiver.received.withLock { $0 = [] }
                _ = try await dispatcher.runOnce(now: Date().addingTimeInterval(2 * 3600))
                let events = receiver.notifications.filter { $0["path"] == "lifecycle" && $0["subscriptionId"]?.stringValue == expiringId }
                #expect(events.map { $0["lifecycleEvent"]?.stringValue ?? "" } == ["missed", "subscriptionRemoved"])
                #expect(try await f.tenant.store.subscription(id: expiringId) == nil)
            }
        }
    }
}
