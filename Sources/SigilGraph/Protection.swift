import Foundation
import Hummingbird
import SigilCore
import SigilService

/// How a server protects itself: per-request deadline, optional rate limit, idle connections.
public struct ServerOptions: Sendable {
    /// A request still running after this is cancelled and answered 504.
    public var requestTimeout: Duration
    /// Requests per principal; nil (the default) lets everyone through, as an emulator should.
    public var rateLimit: RateLimit?
    /// A connection that sends nothing for this long is closed (slow or stalled clients).
    public var idleTimeout: Duration
    /// One log line per request (method, route, status, duration, request id) at info level.
    public var accessLog: Bool
    /// Load balancers whose `X-Forwarded-For` names the client (audit log, sign-in throttle).
    public var trustedProxies: [IPRange]

    public init(
        requestTimeout: Duration = .seconds(30), rateLimit: RateLimit? = nil, idleTimeout: Duration = .seconds(60),
        accessLog: Bool = false, trustedProxies: [IPRange] = []
    ) {
        self.requestTimeout = requestTimeout
        self.rateLimit = rateLimit
        self.idleTimeout = idleTimeout
        self.accessLog = accessLog
        self.trustedProxies = trustedProxies
    }
}

/// A token bucket per principal: `burst` requests at once, refilled at `requestsPerSecond`.
public struct RateLimit: Sendable, Equatable {
    public var requestsPerSecond: Double
    public var burst: Int

    public init(requestsPerSecond: Double, burst: Int? = nil) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst ?? max(1, Int(requestsPerSecond.rounded(.up)))
    }
}

/// The buckets of one instance. Several instances behind a balancer each allow the full rate.
final class RateLimiter: Sendable {
    typealias Bucket = (tokens: Double, updated: ContinuousClock.Instant)
    let limit: RateLimit
    private let state = Locked((buckets: [String: Bucket](), lastSweep: ContinuousClock.now))

    init(_ limit: RateLimit) { self.limit = limit }

    /// Takes one request from `principal`'s bucket. Returns nil when admitted, otherwise the
    /// whole seconds until a request would be (for Retry-After).
    func admit(_ principal: String, now: ContinuousClock.Instant = .now) -> Int? {
        let capacity = Double(limit.burst)
        let rate = limit.requestsPerSecond
        return state.withLock { state in
            // Once a minute, forget buckets that have refilled: idle principals cost nothing.
            if now - state.lastSweep > .seconds(60) {
                state.lastSweep = now
                state.buckets = state.buckets.filter { (now - $0.value.updated) / .seconds(1) < capacity / rate }
            }
            var bucket = state.buckets[principal] ?? (capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) / .seconds(1) * rate)
            bucket.updated = now
            defer { state.buckets[principal] = bucket }
            guard bucket.tokens < 1 else {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }
}

/// Cancels a request that runs past its deadline and answers 504 instead. Cancellation reaches
/// the store: SQLite interrupts the statement and PostgreSQL's transaction is rolled back.
struct RequestDeadlineMiddleware: RouterMiddleware {
    typealias Context = GraphContext
    let timeout: Duration

    func handle(_ request: Request, context: GraphContext, next: (Request, GraphContext) async throws -> Response) async throws
        -> Response
    {
        // A batch's inner requests run within the batch's own deadline, which began first.
        if context.isBatched { return try await next(request, context) }
        let seconds = Int(timeout.components.seconds)
        return try await withoutActuallyEscaping(next) { next in
            // The task group ends before withoutActuallyEscaping returns, so `next` never
            // outlives this call; the box only carries it across the Sendable boundary.
            let handler = UncheckedSendable(next)
            return try await withThrowingTaskGroup(of: Response?.self) { group in
                group.addTask { try await handler.value(request, context) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let response = first else {
                    throw GraphError.requestTimeout(seconds: seconds)
                }
                return response
            }
        }
    }
}

struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
