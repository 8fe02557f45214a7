import Foundation
import Hummingbird
import SigilCore
import SigilGraph
import SigilService
import SigilStore

/// Subscriptions: every change-notification subscription with its delivery state (backlog,
/// delivered, failures, the last error, the next attempt), for administrators who manage
/// applications.
extension ConsoleController {
    func registerSubscriptionsPage(on console: RouterGroup<GraphContext>) {
        console.get("subscriptions", use: subscriptionsPage)
    }

    @Sendable func subscriptionsPage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let (records, latest) = try await SubscriptionService(services: services).all(caller: signedIn.caller)
        let now = Date()
        let rows: [[String: Any]] = records.map { record in
            let s = record.subscription
            let d = record.delivery
            let state =
                s.expirationDateTime <= now
                ? "Expired" : d.paused ? "Held: reauthorization required" : d.failures > 0 ? "Retrying" : "Delivering"
            return [
                "id": s.id, "resource": s.resource, "changeType": s.changeTypes.joined(separator: ", "),
                "url": s.notificationUrl, "creator": s.creatorId, "expires": Self.consoleTime(s.expirationDateTime),
                "state": state, "troubled": d.paused || d.failures > 0, "backlog": max(0, latest - d.cursor),
                "delivered": d.delivered, "failures": d.totalFailures, "lastError": d.lastError ?? "",
                "lastDelivery": d.lastDelivery.map(Self.consoleTime) ?? "never",
                "nextAttempt": d.failures > 0 || d.paused ? Self.consoleTime(d.nextAttempt) : "",
            ]
        }
        var values = layout(signedIn, nav: "navSubscriptions")
        values["rows"] = rows
        values["hasRows"] = !rows.isEmpty
        return page("subscriptions", values, cookies: [signedIn.cookie])
    }

    static func consoleTime(_ date: Date) -> String {
        String(graphTimestamp(date).replacingOccurrences(of: "T", with: " ").prefix(19)) + " UTC"
    }
}
