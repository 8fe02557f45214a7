import Crypto
import Foundation
import SigilCore
import SigilStore

/// Change-notification subscriptions (`/subscriptions`): who may subscribe follows who may
/// read the resource (listing the directory, as delta and list need); callers see and change
/// only the subscriptions they created; administrators who manage applications see all of
/// them (the console's delivery page).
public struct SubscriptionService: Sendable {
    let services: SigilServices
    let webhooks = Webhooks()
    /// Graph's limit: the endpoint must echo the validation token within 10 seconds.
    public static let validationTimeout: Duration = .seconds(10)

    public init(services: SigilServices) { self.services = services }

    /// The subscriptions `caller` created.
    public func list(caller: Caller) async throws -> [SubscriptionRecord] {
        try await services.store.subscriptions(creatorId: caller.principalId)
    }

    /// Whether `caller` may see every subscription's delivery state (the console's page).
    public static func mayInspectAll(_ caller: Caller) -> Bool { AccessPolicy.allows(caller, .manageApplications) }

    /// Every subscription with its delivery state, and the change log's last sequence number
    /// (a subscription's backlog is the distance of its cursor from it), for administrators.
    public func all(caller: Caller) async throws -> (records: [SubscriptionRecord], latestChange: Int64) {
        try AccessPolicy.require(Self.mayInspectAll(caller))
        let latest = try await services.store.latestChange()
        return (try await services.store.subscriptions(creatorId: nil), latest)
    }

    /// A subscription of the caller's; another's is "not found", so ids reveal nothing.
    public func get(_ id: String, caller: Caller) async throws -> SubscriptionRecord {
        guard let record = try await services.store.subscription(id: id),
            record.subscription.creatorId == caller.principalId.lowercased()
        else { throw GraphError.notFound(id) }
        return record
    }

    /// Validates the body, the caller's right to read the resource, and both endpoints (the
    /// validation handshake), then stores the subscription.
    public func create(_ body: JSONValue, caller: Caller, applicationId: String?) async throws -> SubscriptionRecord {
        try AccessPolicy.require(AccessPolicy.mayReadDirectory(caller))
        let draft = try SubscriptionRules.create(body, now: Date())
        try await validate(draft.notificationUrl)
        if let lifecycle = draft.lifecycleNotificationUrl, lifecycle != draft.notificationUrl { try await validate(lifecycle) }
        let subscription = Subscription(
            id: SigilServices.newId(), kind: draft.kind, changeTypes: draft.changeTypes, notificationUrl: draft.notificationUrl,
            lifecycleNotificationUrl: draft.lifecycleNotificationUrl, clientState: draft.clientState,
            expirationDateTime: draft.expirationDateTime, creatorId: caller.principalId.lowercased(),
            creatorIsApp: !caller.isUser, applicationId: applicationId, latestSupportedTlsVersion: draft.latestSupportedTlsVersion)
        return try await services.store.createSubscription(subscription)
    }

    /// Renews or moves a subscription (a new URL is validated first); a renewal by a caller who
    /// may read the resource also resumes one held for reauthorization.
    public func update(_ id: String, _ body: JSONValue, caller: Caller) async throws -> SubscriptionRecord {
        let record = try await get(id, caller: caller)
        let (expiration, url) = try SubscriptionRules.update(body, now: Date())
        if let url, url != record.subscription.notificationUrl { try await validate(url) }
        _ = try await services.store.updateSubscription(
            id: record.subscription.id, expiration: expiration ?? record.subscription.expirationDateTime,
            notificationUrl: url ?? record.subscription.notificationUrl, resume: AccessPolicy.mayReadDirectory(caller))
        return try await get(id, caller: caller)
    }

    /// Graph's `reauthorize` action: resumes a held subscription when the caller may read again.
    public func reauthorize(_ id: String, caller: Caller) async throws {
        let record = try await get(id, caller: caller)
        try AccessPolicy.require(AccessPolicy.mayReadDirectory(caller))
        _ = try await services.store.updateSubscription(
            id: record.subscription.id, expiration: record.subscription.expirationDateTime,
            notificationUrl: record.subscription.notificationUrl, resume: true)
    }

    public func delete(_ id: String, caller: Caller) async throws {
        let record = try await get(id, caller: caller)
        guard try await services.store.deleteSubscription(id: record.subscription.id) else { throw GraphError.notFound(id) }
    }

    /// The validation handshake: POST `url?validationToken=...`; the endpoint must answer 200
    /// with the token as plain text within 10 seconds, or the subscription is refused.
    func validate(_ url: String) async throws {
        let token = "Validation: Testing client application reachability for subscription Request-Id: " + SigilServices.newId()
        let encoded = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token
        let target = url + (url.contains("?") ? "&" : "?") + "validationToken=" + encoded
        let refused = GraphError.badRequest(
            "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.")
        do {
            let reply = try await webhooks.post(
                target, contentType: "text/plain; charset=utf-8", body: [], timeout: Self.validationTimeout)
            guard reply.status == 200, reply.body == token else { throw refused }
        } catch let error as GraphError {
            throw error
        } catch {
            throw GraphError.badRequest(
                "Subscription validation request failed. The notification endpoint could not be reached in time: \(error)")
        }
    }
}
