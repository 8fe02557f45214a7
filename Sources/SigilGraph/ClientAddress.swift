import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR form (`10.0.0.0/8`, `fd00::/8`) or one address: the load
/// balancers whose `X-Forwarded-For` Sigil believes (`--trusted-proxy`).
public struct IPRange: Sendable, Equatable, CustomStringConvertible {
    let network: [UInt8]
    let prefixLength: Int
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let bytes = Self.bytes(of: first) else { return nil }
        let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
        guard let length, (0...bytes.count * 8).contains(length) else { return nil }
        network = bytes
        prefixLength = length
        description = text
    }

    /// The address's bytes: 4 for IPv4, 16 for IPv6; nil when it is neither.
    static func bytes(of address: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.bytes(of: address), bytes.count == network.count else { return false }
        var remaining = prefixLength
        for (index, byte) in bytes.enumerated() where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            guard byte & mask == network[index] & mask else { return false }
            remaining -= bits
        }
        return true
    }
}

/// The client behind trusted proxies: `X-Forwarded-For` read from the right, skipping trusted
/// hops. The peer itself is the answer unless it is a trusted proxy, and an entry that is not an
/// address makes the whole header untrusted.
func forwardedClient(peer: String?, forwardedFor: [String], trusted: [IPRange]) -> String? {
    guard let peer, !trusted.isEmpty, trusted.contains(where: { $0.contains(peer) }) else { return peer }
    let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
    guard !hops.isEmpty, hops.allSatisfy({ IPRange.bytes(of: $0) != nil }) else { return peer }
    return hops.last { hop in !trusted.contains { $0.contains(hop) } } ?? hops.first
}
