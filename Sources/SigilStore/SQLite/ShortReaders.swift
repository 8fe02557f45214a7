import GRDB
import SigilCore

/// Read-only connections to the database file, each used by one task at a time on that task's
/// own thread. They are taken, never waited for: a task that blocked here would hold one of the
/// few threads Swift's concurrency runs on, while the readers it waits for need those threads to
/// finish (GRDB's pool, reached synchronously from tasks, deadlocked that way under load).
final class ShortReaders: Sendable {
    private let idle: Locked<[DatabaseQueue]>

    /// `count` connections: one per core is enough, since a task reads on its own thread.
    init(path: String, count: Int) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        idle = Locked(try (0..<count).map { _ in try DatabaseQueue(path: path, configuration: configuration) })
    }

    /// An idle connection, or nil when every one is in use.
    func take() -> DatabaseQueue? {
        idle.withLock { $0.popLast() }
    }

    func put(_ connection: DatabaseQueue) {
        idle.withLock { $0.append(connection) }
    }
}
