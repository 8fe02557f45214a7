import Foundation
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilGraph
@testable import SigilService

/// The console's subscriptions page: every subscription with its delivery state, for
/// administrators who manage applications only.
@Suite struct ConsoleSubscriptionTests {
    @Test func administratorsSeeDeliveryStateOthersAreRefused() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Gina", grants: [.tenant(.globalAdministrator)])
        _ = try await tenant.user("Nora")
        let owner = try await tenant.servicePrincipal("Listener")
        let subscription = Subscription(
            id: SigilServices.newId(), kind: .user, changeTypes: ["updated"], notificationUrl: "https://hooks.example/in",
            lifecycleNotificationUrl: nil, clientState: "secret-state", expirationDateTime: Date().addingTimeInterval(3600),
            creatorId: owner.id, creatorIsApp: true, applicationId: nil, latestSupportedTlsVersion: "v1_2")
        _ = try await tenant.store.createSubscription(subscription)
        _ = try await tenant.user("Late")  // one change after the subscription: a backlog of 1
        let dispatcher = NotificationDispatcher(services: tenant.services)
        let claimed = try await tenant.store.claimSubscriptions(owner: dispatcher.owner, now: Date(), lease: 30, limit: 10)
        var failed = try #require(claimed.first).delivery
        failed.failures = 2
        failed.totalFailures = 2
        failed.lastError = "the receiver answered HTTP 503"
        failed.nextAttempt = Date().addingTimeInterval(4)
        #expect(try await tenant.store.finishDelivery(id: subscription.id, owner: dispatcher.owner, failed))

        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("gina@sigil.test").status == .seeOther)
            let page = try await browser.request(.get, "/console/subscriptions")
            #expect(page.status == .ok)
            #expect(page.html.contains(">Subscriptions</a>"))
            #expect(page.html.contains(subscription.id))
            #expect(page.html.contains("https://hooks.example/in"))
            #expect(page.html.contains("<strong>Retrying</strong>"))
            #expect(page.html.contains("the receiver answered HTTP 503"))
            #expect(page.html.contains("<td>1</td><td>0</td><td>2</td>"), "backlog 1, delivered 0, failures 2")
            #expect(!page.html.contains("secret-state"), "the clientState is the subscriber's secret")
        }
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("nora@sigil.test").status == .seeOther)
            let page = try await browser.request(.get, "/console/subscriptions")
            #expect(page.status == .forbidden)
        }
    }
}
