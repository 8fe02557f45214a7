import SigilCore

/// The requests of one JSON batch, as the store sees them when they share write transactions
/// (`DirectoryStore.sharingWrites`).
///
/// The front end runs each request under `unit(_:_:)`; the store notes which transaction each
/// request's store work went into (its writes, and its reads of writes not yet committed). Once
/// `sharingWrites` has returned, `failedUnits` names the requests whose work went into a
/// transaction that did not commit: whatever they answered is not durable and must be reported
/// as a failure. A store that does not share transactions (each write commits on its own)
/// leaves it empty.
public final class WriteBatch: Sendable {
    private struct State {
        /// Unit → the transactions (numbered per batch) its store work went into.
        var touched: [Int: Set<Int>] = [:]
        var failed: Set<Int> = []
        /// The error of the first transaction that failed, for the answers that depended on it.
        var failure: (any Error)?
    }

    private let state = Locked(State())

    public init() {}

    /// The request the current task runs for, and its batch.
    private struct Running: Sendable {
        let batch: WriteBatch
        let unit: Int
    }

    @TaskLocal private static var running: Running?

    /// Runs one request of the batch; its store work (and that of tasks it starts) is attributed
    /// to `unit` (the request's index). Requests of one batch may run side by side.
    public func unit<T>(_ unit: Int, _ body: () async throws -> T) async rethrows -> T {
        try await Self.$running.withValue(Running(batch: self, unit: unit)) { try await body() }
    }

    /// The requests whose store work went into a transaction that did not commit.
    public var failedUnits: Set<Int> {
        state.withLock { state in
            Set(state.touched.filter { !$0.value.isDisjoint(with: state.failed) }.keys)
        }
    }

    /// Why the first failed transaction failed.
    public var failure: (any Error)? { state.withLock { $0.failure } }

    /// The running request's store work went into transaction `transaction`.
    func touched(_ transaction: Int) {
        guard let running = Self.running, running.batch === self else { return }
        state.withLock { _ = $0.touched[running.unit, default: []].insert(transaction) }
    }

    /// Transaction `transaction` did not commit.
    func failed(_ transaction: Int, _ error: any Error) {
        state.withLock { state in
            state.failed.insert(transaction)
            if state.failure == nil { state.failure = error }
        }
    }
}
