import Foundation
import Logging
import Metrics
import SigilCore
import SigilStore

/// Delivers change notifications from the change log to subscribers' webhooks: at least once,
/// in commit order per subscription (one lease holder per subscription, and its cursor moves
/// only after the receiver's 2xx), with exponential back-off after failures. Several instances
/// on one PostgreSQL database share the work through leases taken with `SKIP LOCKED`.
public final class NotificationDispatcher: Sendable {
    let services: SigilServices
    let logger: Logger
    let webhooks = Webhooks()
    /// This instance's lease owner name.
    public let owner = "dispatcher-" + SigilServices.newId()
    /// Changes considered per delivery (one POST carries at most this many notifications).
    public static let batchSize = 100
    public static let lease: TimeInterval = 30
    public static let maxBackoff: TimeInterval = 300
    /// A held subscription is looked at again after this long.
    static let holdInterval: TimeInterval = 60
    /// Receivers have this long to answer a POST.
    static let deliveryTimeout: Duration = .seconds(10)

    static let latency = Timer(label: "sigil_notification_delivery_latency", preferredDisplayUnit: .seconds)
    static let delivered = Counter(label: "sigil_notifications_delivered_total")

    public init(services: SigilServices, logger: Logger = Logger(label: "sigil.notifications")) {
        self.services = services
        self.logger = logger
    }

    /// Delivers until cancelled; idles briefly when there was nothing to send.
    public func run() async {
        while !Task.isCancelled {
            let sent = (try? await runOnce()) ?? 0
            if sent == 0 { try? await Task.sleep(for: .milliseconds(100)) }
        }
    }

    /// One pass: leases the subscriptions that are due and delivers to them concurrently.
    /// Returns how many notifications (change and lifecycle) were acknowledged.
    @discardableResult
    public func runOnce(now: Date = Date()) async throws -> Int {
        let due = try await services.store.claimSubscriptions(owner: owner, now: now, lease: Self.lease, limit: 32)
        guard !due.isEmpty else { return 0 }
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for record in due { group.addTask { try await self.deliver(record, now: now) } }
            return try await group.reduce(0, +)
        }
    }

    func deliver(_ record: SubscriptionRecord, now: Date) async throws -> Int {
        let subscription = record.subscription
        var delivery = record.delivery
        let latest = try await services.store.latestChange()
        Gauge(label: "sigil_notification_queue_depth", dimensions: [("subscription", subscription.id)])
            .record(Double(max(0, latest - delivery.cursor)))
        if subscription.expirationDateTime <= now {
            // Expired: Graph removes it; the subscriber hears what it missed, if anything.
            if latest > delivery.cursor { _ = await lifecycle(.missed, subscription) }
            _ = await lifecycle(.subscriptionRemoved, subscription)
            _ = try await services.store.deleteSubscription(id: subscription.id)
            return 0
        }
        let caller: Caller
        do {
            caller = try await services.caller(principalId: subscription.creatorId, isApp: subscription.creatorIsApp)
        } catch let error as GraphError where error.status == 401 {
            // The creator was deleted or disabled: the subscription goes.
            _ = await lifecycle(.subscriptionRemoved, subscription)
            _ = try await services.store.deleteSubscription(id: subscription.id)
            return 0
        }
        if !AccessPolicy.mayReadDirectory(caller), !delivery.paused {
            // Held, not dropped: delivery resumes after reauthorization.
            delivery.paused = true
            _ = await lifecycle(.reauthorizationRequired, subscription)
        }
        if delivery.paused {
            delivery.nextAttempt = now.addingTimeInterval(Self.holdInterval)
            _ = try await services.store.finishDelivery(id: subscription.id, owner: owner, delivery)
            return 0
        }
        let changes = try await services.store.changes(
            ChangeQuery(kind: subscription.kind, after: delivery.cursor, through: latest, limit: Self.batchSize))
        guard let last = changes.last else {
            delivery.nextAttempt = now
            _ = try await services.store.finishDelivery(id: subscription.id, owner: owner, delivery)
            return 0
        }
        let due = changes.filter { change in
            DeltaService.isVisible(change, to: caller) && subscription.changeTypes.contains(Self.changeType(change.type))
        }
        var sent = 0
        if !due.isEmpty {
            let body = JSONValue.object(
                JSONObject([("value", .array(due.map { .object(notification($0, subscription)) }))]))
            do {
                let reply = try await webhooks.post(
                    subscription.notificationUrl, contentType: "application/json; charset=utf-8", body: body.serialized(),
                    timeout: Self.deliveryTimeout)
                guard (200..<300).contains(reply.status) else { throw DeliveryFailure.status(reply.status) }
            } catch {
                delivery.failures += 1
                delivery.totalFailures += 1
                delivery.lastError = "\(error)"
                delivery.nextAttempt = now.addingTimeInterval(Self.backoff(failures: delivery.failures))
                Counter(label: "sigil_notification_failures_total", dimensions: [("subscription", subscription.id)]).increment()
                _ = try await services.store.finishDelivery(id: subscription.id, owner: owner, delivery)
                return 0
            }
            let acknowledged = Date().timeIntervalSince1970
            for change in due where change.time > 0 {
                Self.latency.recordNanoseconds(Int64(max(0, acknowledged - change.time) * 1_000_000_000))
            }
            Self.delivered.increment(by: due.count)
            delivery.delivered += Int64(due.count)
            delivery.lastDelivery = Date()
            sent = due.count
        }
        delivery.cursor = last.seq
        delivery.failures = 0
        delivery.lastError = nil
        delivery.nextAttempt = now
        _ = try await services.store.finishDelivery(id: subscription.id, owner: owner, delivery)
        return sent
    }

    enum DeliveryFailure: Error, CustomStringConvertible {
        case status(Int)
        var description: String {
            switch self {
            case .status(let code): "the receiver answered HTTP \(code)"
            }
        }
    }

    /// 1 s, 2 s, 4 s ... up to five minutes.
    static func backoff(failures: Int) -> TimeInterval {
        min(maxBackoff, pow(2, Double(max(0, min(failures - 1, 20)))))
    }

    /// Users and service principals report creation as `updated`, as Graph does for users.
    static func changeType(_ type: DirectoryChange.ChangeType) -> String {
        type == .deleted ? "deleted" : "updated"
    }

    /// A basic notification: which object changed and how, never its values.
    func notification(_ change: DirectoryChange, _ subscription: Subscription) -> JSONObject {
        let resource = "\(subscription.kind == .user ? "Users" : "servicePrincipals")/\(change.objectId)"
        let type = subscription.kind == .user ? "#Microsoft.Graph.User" : "#Microsoft.Graph.ServicePrincipal"
        return JSONObject([
            // Graph's optional notification id: the change's place in the change log, so a receiver
            // can drop the repeats that at-least-once delivery allows.
            ("id", .string(String(change.seq))),
            ("subscriptionId", .string(subscription.id)),
            ("subscriptionExpirationDateTime", .string(graphTimestamp(subscription.expirationDateTime))),
            ("changeType", .string(Self.changeType(change.type))),
            ("resource", .string(resource)),
            (
                "resourceData",
                .object(
                    JSONObject([
                        ("@odata.type", .string(type)), ("@odata.id", .string(resource)), ("id", .string(change.objectId)),
                        ("organizationId", .string(services.tenantId)),
                    ]))
            ),
            ("clientState", JSONValue(subscription.clientState)),
            ("tenantId", .string(services.tenantId)),
        ])
    }

    public enum LifecycleEvent: String, Sendable {
        case reauthorizationRequired, subscriptionRemoved, missed
    }

    /// One attempt to tell `lifecycleNotificationUrl` (if any) about `event`; true on a 2xx.
    func lifecycle(_ event: LifecycleEvent, _ subscription: Subscription) async -> Bool {
        guard let url = subscription.lifecycleNotificationUrl else { return false }
        let body = JSONValue.object(
            JSONObject([
                (
                    "value",
                    .array([
                        .object(
                            JSONObject([
                                ("subscriptionId", .string(subscription.id)),
                                ("subscriptionExpirationDateTime", .string(graphTimestamp(subscription.expirationDateTime))),
                                ("tenantId", .string(services.tenantId)), ("clientState", JSONValue(subscription.clientState)),
                                ("lifecycleEvent", .string(event.rawValue)),
                            ]))
                    ])
                )
            ]))
        do {
            let reply = try await webhooks.post(
                url, contentType: "application/json; charset=utf-8", body: body.serialized(), timeout: Self.deliveryTimeout)
            return (200..<300).contains(reply.status)
        } catch {
            logger.warning(
                "lifecycle notification failed", metadata: ["subscription": "\(subscription.id)", "error": "\(error)"])
            return false
        }
    }
}
