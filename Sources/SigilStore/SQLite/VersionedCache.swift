import SigilCore

/// A value read from the database and kept until this process changes it (one process owns a
/// SQLite file). Every change moves the version, so a read that began before a change and ends
/// after it never installs the old value.
final class VersionedCache<Value: Sendable>: Sendable {
    private let state = Locked<(version: Int, value: Value?)>((0, nil))

    /// The kept value, or `read`'s, kept unless a change came in between.
    func value(reading read: () async throws -> Value) async rethrows -> Value {
        let (version, kept) = state.withLock { $0 }
        if let kept { return kept }
        let value = try await read()
        state.withLock { if $0.version == version { $0.value = value } }
        return value
    }

    func invalidate() {
        state.withLock { $0 = ($0.version + 1, nil) }
    }
}
