import Crypto
import Foundation
import SigilCore
import SigilService
import SigilStore

/// Console sign-in sessions, kept in a cookie signed with a tenant key (in the database, so every
/// instance accepts every other's sessions). A session ends after `idleLifetime` without a page
/// view, after `absoluteLifetime` in any case, or when the user signs out (the cookie is cleared).
struct ConsoleSessions: Sendable {
    let key: SymmetricKey
    static let setting = "console_session_key"
    static let cookie = "sigil_session"
    /// Set by the sign-in page so its form cannot be posted from another site.
    static let signInCookie = "sigil_signin"
    static let idleLifetime: TimeInterval = 30 * 60
    static let absoluteLifetime: TimeInterval = 8 * 3600

    struct Session: Sendable, Equatable {
        let principalId: String
        let issued: Int64
        let lastSeen: Int64
        /// Random per session; the CSRF token is derived from it.
        let nonce: String
    }

    static func load(store: any DirectoryStore) async throws -> ConsoleSessions {
        let fresh = Data(CredentialHasher.randomBytes(32)).base64EncodedString()
        let stored = try await store.settingIfAbsent(setting, fresh)
        return ConsoleSessions(key: SymmetricKey(data: Data(base64Encoded: stored) ?? Data(stored.utf8)))
    }

    func mac(_ text: String) -> String {
        base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)))
    }

    static func newNonce() -> String { base64URL(Data(CredentialHasher.randomBytes(18))) }

    func cookieValue(_ session: Session) -> String {
        let payload = "\(session.principalId)|\(session.issued)|\(session.lastSeen)|\(session.nonce)"
        return "\(base64URL(Data(payload.utf8))).\(mac(payload))"
    }

    /// The session a cookie carries, if its signature holds and it has not expired.
    func session(fromCookie value: String?, now: Date = Date()) -> Session? {
        guard let value, let dot = value.firstIndex(of: ".") else { return nil }
        guard let payload = Self.decodeBase64URL(String(value[..<dot])),
            constantTimeEqual(Array(mac(payload).utf8), Array(value[value.index(after: dot)...].utf8))
        else { return nil }
        let parts = payload.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, let issued = Int64(parts[1]), let lastSeen = Int64(parts[2]) else { return nil }
        let seconds = Int64(now.timeIntervalSince1970)
        guard seconds - lastSeen <= Int64(Self.idleLifetime), seconds - issued <= Int64(Self.absoluteLifetime) else {
            return nil
        }
        return Session(principalId: String(parts[0]), issued: issued, lastSeen: lastSeen, nonce: String(parts[3]))
    }

    /// The token every form of the session carries; a post without it is refused.
    func csrfToken(_ nonce: String) -> String { mac("csrf|\(nonce)") }

    func checkCSRF(_ token: String?, nonce: String) -> Bool {
        guard let token else { return false }
        return constantTimeEqual(Array(token.utf8), Array(csrfToken(nonce).utf8))
    }

    static func decodeBase64URL(_ text: String) -> String? {
        base64URLDecoded(text).flatMap { String(data: $0, encoding: .utf8) }
    }
}
