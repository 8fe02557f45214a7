import Foundation

/// Slows down password guessing, for the console and the token endpoint's password grant alike
/// (one count per instance): every failed sign-in waits, and a user name or an address with
/// too many recent failures is refused for a while, whatever the password.
final class SignInThrottle: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [String: (count: Int, since: Date)] = [:]
    static let window: TimeInterval = 15 * 60
    static let perUser = 5
    static let perAddress = 20
    static let failureDelay: Duration = .milliseconds(400)

    private func count(_ key: String, now: Date) -> Int {
        guard let entry = failures[key], now.timeIntervalSince(entry.since) < Self.window else { return 0 }
        return entry.count
    }

    func isLocked(user: String, address: String?, now: Date = Date()) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return count("u:\(user.lowercased())", now: now) >= Self.perUser
            || address.map { count("a:\($0)", now: now) >= Self.perAddress } ?? false
    }

    func recordFailure(user: String, address: String?, now: Date = Date()) {
        lock.lock()
        defer { lock.unlock() }
        if failures.count > 100_000 { failures.removeAll() }
        for key in ["u:\(user.lowercased())"] + (address.map { ["a:\($0)"] } ?? []) {
            let current = count(key, now: now)
            failures[key] = (current + 1, current == 0 ? now : failures[key]?.since ?? now)
        }
    }

    func recordSuccess(user: String) {
        lock.lock()
        defer { lock.unlock() }
        failures["u:\(user.lowercased())"] = nil
    }
}
