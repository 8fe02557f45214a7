import Foundation

/// A value behind a lock, for small caches and state shared across concurrent requests. In Core
/// (a lock is not I/O) so that the store and the HTTP layer share one.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
