import Foundation
import SigilCore

/// Where delivery to one subscription stands. Its cursor is the change-log sequence number of
/// the last change delivered (acknowledged with a 2xx) or skipped as not concerning it: the
/// change log, written in each change's own transaction, is the outbox, and the cursor only
/// moves after delivery, so a crash can repeat a notification but never lose one.
public struct DeliveryState: Sendable, Equatable {
    public var cursor: Int64
    public var delivered: Int64
    /// Failed attempts since the last success (drives the back-off).
    public var failures: Int
    public var totalFailures: Int64
    public var lastError: String?
    public var nextAttempt: Date
    public var lastDelivery: Date?
    /// The creator may no longer read the resource: held until reauthorized.
    public var paused: Bool

    public init(
        cursor: Int64, delivered: Int64 = 0, failures: Int = 0, totalFailures: Int64 = 0, lastError: String? = nil,
        nextAttempt: Date = Date(timeIntervalSince1970: 0), lastDelivery: Date? = nil, paused: Bool = false
    ) {
        self.cursor = cursor
        self.delivered = delivered
        self.failures = failures
        self.totalFailures = totalFailures
        self.lastError = lastError
        self.nextAttempt = nextAttempt
        self.lastDelivery = lastDelivery
        self.paused = paused
    }
}

public struct SubscriptionRecord: Sendable, Equatable {
    public var subscription: Subscription
    public var delivery: DeliveryState

    public init(subscription: Subscription, delivery: DeliveryState) {
        self.subscription = subscription
        self.delivery = delivery
    }
}

/// The columns both stores keep, in one order, so rows decode alike.
enum SubscriptionColumns {
    static let list = """
        id, kind, change_types, notification_url, lifecycle_url, client_state, expiration, creator_id, creator_is_app,
        application_id, tls_version, cursor, delivered, failures, total_failures, last_error, next_attempt, last_delivery,
        paused
        """

    typealias Row = (
        String, String, String, String, String?, String?, Double, String, Bool, String?, String, Int64, Int64, Int64, Int64,
        String?, Double, Double?, Bool
    )

    static func record(_ r: Row) -> SubscriptionRecord {
        SubscriptionRecord(
            subscription: Subscription(
                id: r.0, kind: DirectoryObjectKind(rawValue: r.1) ?? .user, changeTypes: DirectoryChange.names(r.2),
                notificationUrl: r.3, lifecycleNotificationUrl: r.4, clientState: r.5,
                expirationDateTime: Date(timeIntervalSince1970: r.6), creatorId: r.7, creatorIsApp: r.8, applicationId: r.9,
                latestSupportedTlsVersion: r.10),
            delivery: DeliveryState(
                cursor: r.11, delivered: r.12, failures: Int(r.13), totalFailures: r.14, lastError: r.15,
                nextAttempt: Date(timeIntervalSince1970: r.16), lastDelivery: r.17.map { Date(timeIntervalSince1970: $0) },
                paused: r.18))
    }
}
