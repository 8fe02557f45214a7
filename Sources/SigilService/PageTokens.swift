import Crypto
import Foundation
import SigilCore
import SigilStore

/// Opaque, tamper-proof page cursors: `$skiptoken` carries a position and an HMAC over it and the
/// query it belongs to, so a client can neither forge a position nor reuse a token elsewhere.
public struct PageTokens: Sendable {
    package let key: SymmetricKey
    package static let setting = "page_token_key"

    public init(key: SymmetricKey) { self.key = key }

    /// The tenant's token key, generated once and kept in the store.
    package static func load(store: any DirectoryStore) async throws -> PageTokens {
        let fresh = Data(CredentialHasher.randomBytes(32)).base64EncodedString()
        let stored = try await store.settingIfAbsent(setting, fresh)
        return PageTokens(key: SymmetricKey(data: Data(base64Encoded: stored) ?? Data(stored.utf8)))
    }

    package func mac(_ payload: String, _ query: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("\(payload)|\(query)".utf8), using: key)
        return base64URL(Data(code).prefix(12))
    }

    /// A token carrying `payload` (a position, or a position and sort key) for `query`.
    public func token(payload: String, query: String) -> String {
        base64URL(Data("\(mac(payload, query)).\(payload)".utf8))
    }

    public func token(for position: Int64, query: String) -> String { token(payload: String(position), query: query) }

    /// The payload of a token issued for `query`; a forged, altered or foreign token is refused.
    public func payload(_ token: String?, query: String) throws -> String? {
        guard let token else { return nil }
        let invalid = GraphError.badRequest("The $skiptoken is not valid for this request; use the @odata.nextLink of a previous page.")
        guard let data = base64URLDecoded(token), let text = String(data: data, encoding: .utf8) else { throw invalid }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, constantTimeEqual(Array(parts[0].utf8), Array(mac(String(parts[1]), query).utf8)) else {
            throw invalid
        }
        return String(parts[1])
    }

    public func position(_ token: String?, query: String) throws -> Int64? {
        guard let payload = try payload(token, query: query) else { return nil }
        guard let position = Int64(payload), position >= 0 else {
            throw GraphError.badRequest("The $skiptoken is not valid for this request; use the @odata.nextLink of a previous page.")
        }
        return position
    }
}
