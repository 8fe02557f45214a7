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
    let watch: DeadlineWatch

    init(timeout: Duration) {
        self.timeout = timeout
        self.watch = DeadlineWatch(timeout: timeout)
    }

    func handle(_ request: Request, context: GraphContext, next: (Request, GraphContext) async throws -> Response) async throws
        -> Response
    {
        // A batch's inner requests run within the batch's own deadline, which began first.
        if context.isBatched { return try await next(request, context) }
        return try await withoutActuallyEscaping(next) { next in
            // The task is awaited before withoutActuallyEscaping returns, so `next` never
            // outlives this call; the box only carries it across the Sendable boundary.
            let handler = UncheckedSendable(next)
            // The handler gets a task of its own: cancelling the connection's task would end the
            // connection, and its next request with it.
            let task = Task { try await handler.value(request, context) }
            let watched = watch.start { task.cancel() }
            let result = await withTaskCancellationHandler {
                await task.result
            } onCancel: {
                task.cancel()
            }
            if watch.end(watched) { throw GraphError.requestTimeout(seconds: Int(timeout.components.seconds)) }
            return try result.get()
        }
    }
}

/// The deadlines of the requests in flight, watched by one sleeping task that wakes at the
/// earliest one. A timer task per request (two tasks, a timer and a cancellation for each) was
/// about 5% of a point read's CPU. Every deadline is `timeout` after its start, so a deadline
/// added later is never earlier than the one the watcher sleeps towards.
final class DeadlineWatch: Sendable {
    private struct Running {
        let deadline: ContinuousClock.Instant
        let cancel: @Sendable () -> Void
    }

    private struct State {
        var nextId = 0
        var running: [Int: Running] = [:]
        var expired: Set<Int> = []
        var watching = false
    }

    let timeout: Duration
    private let state = Locked(State())

    init(timeout: Duration) {
        self.timeout = timeout
    }

    /// Watches a request from now; `cancel` runs if it is still running at its deadline.
    func start(cancel: @escaping @Sendable () -> Void) -> Int {
        let deadline = ContinuousClock.now + timeout
        let (id, startWatching) = state.withLock { state in
            let id = state.nextId
            state.nextId += 1
            state.running[id] = Running(deadline: deadline, cancel: cancel)
            defer { state.watching = true }
            return (id, !state.watching)
        }
        if startWatching { Task.detached { await self.watchUntilIdle() } }
        return id
    }

    /// Stops watching request `id`; true when its deadline came first.
    func end(_ id: Int) -> Bool {
        state.withLock { state in
            state.running[id] = nil
            return state.expired.remove(id) != nil
        }
    }

    private func watchUntilIdle() async {
        while true {
            let (due, wakeAt) = state.withLock { state -> ([@Sendable () -> Void], ContinuousClock.Instant?) in
                let now = ContinuousClock.now
                let passed = state.running.filter { $0.value.deadline <= now }
                for id in passed.keys {
                    state.running[id] = nil
                    state.expired.insert(id)
                }
                let wakeAt = state.running.values.lazy.map(\.deadline).min()
                if wakeAt == nil { state.watching = false }
                return (passed.values.map(\.cancel), wakeAt)
            }
            for cancel in due { cancel() }
            guard let wakeAt else { return }
            try? await Task.sleep(until: wakeAt, clock: .continuous)
        }
    }
}

struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
