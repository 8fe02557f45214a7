import Foundation
import Hummingbird
import Logging
import SigilCore
import SigilStore

/// What the HTTP handlers share: the store, the token service, the hasher and configuration.
public struct SigilServices: Sendable {
    public let store: any DirectoryStore
    public let tokens: TokenService
    public let hasher: CredentialHasher
    /// `http` or `https`, for the URLs Sigil writes into responses.
    public let scheme: String
    public let pageTokens: PageTokens
    /// `--compat extended`: `gt`/`ge`/`lt`/`le` on Integer attributes, which Graph does not offer.
    public let allowsRangeFilters: Bool

    public init(
        store: any DirectoryStore, tokens: TokenService, hasher: CredentialHasher, scheme: String, pageTokens: PageTokens,
        allowsRangeFilters: Bool = false
    ) {
        self.store = store
        self.tokens = tokens
        self.hasher = hasher
        self.scheme = scheme
        self.pageTokens = pageTokens
        self.allowsRangeFilters = allowsRangeFilters
    }

    public var tenantId: String { tokens.tenantId }

    /// Callers by token, so a busy client costs one signature check and one role lookup per
    /// token rather than per request. Emptied whenever roles or principals change.
    let callers = CallerCache()

    /// The caller behind a bearer token: validated once, then served from the cache.
    func caller(forToken token: String) async throws -> Caller {
        if let cached = callers.caller(for: token) { return cached }
        let generation = callers.generation
        let claims = try await tokens.validate(token)
        let caller = try await caller(for: claims)
        callers.store(caller, for: token, until: claims.exp.value, generation: generation)
        return caller
    }

    /// The caller behind validated claims; a deleted or disabled principal is refused.
    func caller(for claims: AccessTokenClaims) async throws -> Caller {
        let kind: DirectoryObjectKind = claims.idtyp == "app" ? .servicePrincipal : .user
        guard let principal = try await store.object(kind, id: claims.oid), principal.accountEnabled else {
            throw GraphError.unauthenticated("Access token validation failure. The principal no longer exists or is disabled.")
        }
        let grants = try await store.roleAssignments(principalId: principal.id).map(\.grant)
        let callerKind: Caller.Kind = kind == .servicePrincipal ? .servicePrincipal : (principal.isGuest ? .guest : .member)
        return Caller(principalId: principal.id, kind: callerKind, grants: grants)
    }

    /// `@odata.context`: `{base}/{version}/$metadata#{fragment}`.
    func odataContext(_ request: Request, _ fragment: String) -> String {
        "\(request.baseURL(scheme: scheme))/\(request.apiVersion)/$metadata#\(fragment)"
    }

    static func newId() -> String { UUID().uuidString.lowercased() }
}

/// Recently seen callers by token. An entry lives until its token expires or for at most a
/// minute, and `invalidate()` (called on any change to roles or principals) empties it at once.
final class CallerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (caller: Caller, until: Date)] = [:]
    private var currentGeneration = 0
    static let maxEntries = 10_000
    static let maxAge: TimeInterval = 60

    var generation: Int {
        lock.lock()
        defer { lock.unlock() }
        return currentGeneration
    }

    func caller(for token: String) -> Caller? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[token] else { return nil }
        guard entry.until > Date() else {
            entries[token] = nil
            return nil
        }
        return entry.caller
    }

    /// Keeps the caller unless the cache was invalidated while it was being looked up.
    func store(_ caller: Caller, for token: String, until expiry: Date, generation: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard generation == currentGeneration else { return }
        if entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
        entries[token] = (caller, min(expiry, Date().addingTimeInterval(Self.maxAge)))
    }

    func invalidate() {
        lock.lock()
        defer { lock.unlock() }
        currentGeneration += 1
        entries.removeAll(keepingCapacity: true)
    }
}
