import Foundation
import Hummingbird
import Metrics
import NIOCore
import Prometheus
import SigilCore
import SigilService
import SigilStore

/// The process's metrics. swift-metrics can be bootstrapped once per process, so the registry
/// behind `/metrics` is a process-wide value, created (and bootstrapped) on first use.
public enum SigilMetrics {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Store operations take tens of microseconds to tens of milliseconds; the default
        // buckets start at 5 ms and would put nearly all of them in the first one.
        factory.durationHistogramBuckets[MeasuredStore.timerLabel] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}

/// Health and metrics for orchestrators and monitoring; none of them needs a token, and none
/// shows tenant data.
struct OperationsController {
    let services: SigilServices
    /// How long readiness waits for the store before calling it not ready.
    static let readinessTimeout = Duration.seconds(2)

    func register(on router: Router<GraphContext>) {
        router.get("health/live", use: live)
        router.get("health/ready", use: ready)
        router.get("metrics", use: metrics)
    }

    /// The process answers: nothing else is checked, so a slow database never restarts it.
    func live(_ request: Request, context: GraphContext) -> Response {
        GraphResponse.json(["status": "ok"])
    }

    /// The store answers a read within `readinessTimeout`.
    func ready(_ request: Request, context: GraphContext) async throws -> Response {
        let store = services.store
        // Not awaited past the deadline: a database that hangs must not hang the probe too.
        let answered = await firstAnswer(within: Self.readinessTimeout) {
            (try? await store.setting(TenantBootstrap.tenantSetting)) != nil
        }
        guard answered else {
            throw GraphError(
                status: 503, code: .serviceNotAvailable, message: "Not ready: the database did not answer within 2 seconds.",
                retryAfterSeconds: 2)
        }
        return GraphResponse.json(["status": "ready"])
    }

    func metrics(_ request: Request, context: GraphContext) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: SigilMetrics.registry.emitToBuffer())))
    }
}

/// `body`'s answer, or false when `timeout` passes first; `body` is then left to finish alone.
func firstAnswer(within timeout: Duration, _ body: @escaping @Sendable () async -> Bool) async -> Bool {
    await withCheckedContinuation { continuation in
        // Whichever answers first takes the continuation; the other finds it gone.
        let pending = Locked(Optional(continuation))
        let resume: @Sendable (Bool) -> Void = { value in
            pending.withLock { taken in
                defer { taken = nil }
                return taken
            }?.resume(returning: value)
        }
        Task { resume(await body()) }
        Task {
            try? await Task.sleep(for: timeout)
            resume(false)
        }
    }
}
