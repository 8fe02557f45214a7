import SigilCore

/// The rate limits Microsoft documents for API-driven inbound provisioning, per tenant and per
/// instance: at most `bulkUploads` bulkUpload calls in any `bulkUploadWindow`, and at most
/// `onDemand` provisionOnDemand calls in any `onDemandWindow`. A refused call is not counted.
package final class ProvisioningThrottle: Sendable {
    /// "There is a limit of 40 API calls within any 5-second window" (API-driven inbound
    /// provisioning concepts; the troubleshooting page: 40 API calls per 5 seconds).
    package static let bulkUploads = 40
    package static let bulkUploadWindow: Duration = .seconds(5)
    /// "The rate limit for this API is 5 requests per 10 seconds" (synchronizationJob: provisionOnDemand).
    package static let onDemand = 5
    package static let onDemandWindow: Duration = .seconds(10)

    package let uploads = SlidingWindow(limit: bulkUploads, window: bulkUploadWindow)
    package let onDemandCalls = SlidingWindow(limit: onDemand, window: onDemandWindow)
    /// The time calls are counted at. Tests freeze it, so that a machine slow enough to spread
    /// forty calls over more than five seconds cannot slide the window under them.
    private let clock = Locked<@Sendable () -> ContinuousClock.Instant>({ .now })

    package init() {}

    package func now() -> ContinuousClock.Instant { clock.withLock { $0 }() }

    package func freezeClock(at instant: ContinuousClock.Instant = .now) {
        clock.withLock { $0 = { instant } }
    }
}

/// At most `limit` calls in any window of `window`: the times of the calls admitted within the
/// last window, oldest first.
package final class SlidingWindow: Sendable {
    let limit: Int
    let window: Duration
    private let admitted = Locked<[ContinuousClock.Instant]>([])

    package init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = window
    }

    /// Counts a call at `now`. Nil when admitted; otherwise the whole seconds until the oldest
    /// call in the window leaves it (Retry-After, at least 1), and the call is not counted.
    package func admit(now: ContinuousClock.Instant = .now) -> Int? {
        admitted.withLock { admitted in
            let stale = admitted.prefix { now - $0 >= window }.count
            admitted.removeFirst(stale)
            guard admitted.count >= limit, let oldest = admitted.first else {
                admitted.append(now)
                return nil
            }
            let wait = window - (now - oldest)
            return max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
        }
    }

    /// Throws Graph's 429 (with Retry-After) when the call is over the limit.
    package func require(now: ContinuousClock.Instant = .now) throws(GraphError) {
        if let seconds = admit(now: now) { throw GraphError.tooManyRequests(retryAfterSeconds: seconds) }
    }
}
