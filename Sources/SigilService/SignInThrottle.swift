import Foundation
import SigilCore

/// Slows down password guessing, for the console and the token endpoint's password grant alike
/// (one count per instance): every failed sign-in waits, and a user name or an address with
/// too many recent failures is refused for a while, whatever the password.
package final class SignInThrottle: Sendable {
    private let failures = Locked<[String: (count: Int, since: Date)]>([:])
    package static let window: TimeInterval = 15 * 60
    package static let perUser = 5
    package static let perAddress = 20
    package static let failureDelay: Duration = .milliseconds(400)

    private static func count(_ failures: [String: (count: Int, since: Date)], _ key: String, now: Date) -> Int {
        guard let entry = failures[key], now.timeIntervalSince(entry.since) < window else { return 0 }
        return entry.count
    }

    package func isLocked(user: String, address: String?, now: Date = Date()) -> Bool {
        failures.withLock { failures in
            Self.count(failures, "u:\(user.lowercased())", now: now) >= Self.perUser
                || address.map { Self.count(failures, "a:\($0)", now: now) >= Self.perAddress } ?? false
        }
    }

    package func recordFailure(user: String, address: String?, now: Date = Date()) {
        failures.withLock { failures in
            if failures.count > 100_000 { failures.removeAll() }
            for key in ["u:\(user.lowercased())"] + (address.map { ["a:\($0)"] } ?? []) {
                let current = Self.count(failures, key, now: now)
                failures[key] = (current + 1, current == 0 ? now : failures[key]?.since ?? now)
            }
        }
    }

    package func recordSuccess(user: String) {
        failures.withLock { $0["u:\(user.lowercased())"] = nil }
    }
}
