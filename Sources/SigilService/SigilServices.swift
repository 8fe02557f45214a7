import Foundation
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
    /// `--public-url`: the origin clients reach Sigil at (behind a TLS-terminating load balancer),
    /// used for links instead of this instance's scheme and the request's Host.
    public let publicURL: String?
    public let pageTokens: PageTokens
    /// `--compat extended`: `gt`/`ge`/`lt`/`le` on Integer attributes, which Graph does not offer.
    public let allowsRangeFilters: Bool

    public init(
        store: any DirectoryStore, tokens: TokenService, hasher: CredentialHasher, scheme: String, pageTokens: PageTokens,
        allowsRangeFilters: Bool = false, publicURL: String? = nil
    ) {
        self.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.store = store
        self.tokens = tokens
        self.hasher = hasher
        self.scheme = scheme
        self.pageTokens = pageTokens
        self.allowsRangeFilters = allowsRangeFilters
    }

    public var tenantId: String { tokens.tenantId }

    /// Callers by token, so a busy client costs one signature check and one role lookup per
    /// token rather than per request. Entries hold the store's access version when they were
    /// resolved and are served only while it is unchanged.
    package let callers = CallerCache()
    /// Failed password sign-ins by user name and address, shared by every front-end.
    package let signInThrottle = SignInThrottle()
    /// bulkUpload and provisionOnDemand calls, against the limits Microsoft documents.
    package let provisioningThrottle = ProvisioningThrottle()

    /// The caller behind a bearer token: validated once, then served from the cache.
    package func caller(forToken token: String) async throws -> Caller {
        let version = try await store.accessVersion()
        if let cached = callers.caller(for: token, version: version) { return cached }
        let claims = try await tokens.validate(token)
        let caller = try await caller(for: claims)
        callers.store(caller, for: token, until: claims.exp.value, version: version)
        return caller
    }

    /// The caller behind validated claims; a deleted or disabled principal is refused.
    package func caller(for claims: AccessTokenClaims) async throws -> Caller {
        try await caller(principalId: claims.oid, isApp: claims.idtyp == "app")
    }

    /// The user or service principal `principalId` with its current role grants, as the access
    /// policy sees it; a deleted or disabled principal is refused (401).
    public func caller(principalId: String, isApp: Bool) async throws -> Caller {
        let kind: DirectoryObjectKind = isApp ? .servicePrincipal : .user
        guard let principal = try await store.object(kind, id: principalId), principal.accountEnabled else {
            throw GraphError.unauthenticated("Access token validation failure. The principal no longer exists or is disabled.")
        }
        let grants = try await store.roleAssignments(principalId: principal.id).map(\.grant)
        let callerKind: Caller.Kind = kind == .servicePrincipal ? .servicePrincipal : (principal.isGuest ? .guest : .member)
        return Caller(
            principalId: principal.id, kind: callerKind, grants: grants, displayName: principal.displayName,
            signInName: kind == .servicePrincipal ? principal.appId : principal.userPrincipalName)
    }

    /// What checking a user's password found.
    public enum PasswordCheck: Sendable {
        case valid(DirectoryObject)
        /// Unknown user, no password, or the wrong one: callers must not tell these apart.
        case invalid
        case disabled
        /// Too many recent failures for this user name or address; the password was not checked.
        case locked
    }

    /// Checks a user's password through the sign-in throttle that the console and the password
    /// grant share, so neither is a way around the other's count. Failures wait
    /// `SignInThrottle.failureDelay`.
    public func checkPassword(userPrincipalName: String, password: String, address: String?) async throws -> PasswordCheck {
        guard !signInThrottle.isLocked(user: userPrincipalName, address: address) else {
            try await Task.sleep(for: SignInThrottle.failureDelay)
            return .locked
        }
        let check = try await verifyPassword(userPrincipalName: userPrincipalName, password: password)
        if case .valid = check {
            signInThrottle.recordSuccess(user: userPrincipalName)
        } else {
            signInThrottle.recordFailure(user: userPrincipalName, address: address)
            try await Task.sleep(for: SignInThrottle.failureDelay)
        }
        return check
    }

    /// Checks a user's password. An unknown user costs as much time as a known one, so response
    /// times do not reveal which users exist.
    package func verifyPassword(userPrincipalName: String, password: String) async throws -> PasswordCheck {
        guard let (user, hash) = try await store.userCredentials(userPrincipalName: userPrincipalName), let hash else {
            _ = try await hasher.verifyPassword(password, hash: CredentialHasher.dummyHash(rounds: hasher.passwordRounds))
            return .invalid
        }
        guard try await hasher.verifyPassword(password, hash: hash) else { return .invalid }
        return user.accountEnabled ? .valid(user) : .disabled
    }

    /// Runs the requests of one JSON batch, one at a time inside `body`, with their writes sharing
    /// store transactions (`DirectoryStore.sharingWrites`): each request is still authorised,
    /// validated, audited and throttled by its own use-case, and each of its writes succeeds or
    /// fails alone. Read `WriteBatch.failedUnits` once this returns: those requests' answers are
    /// not durable.
    public func sharingWrites<T: Sendable>(_ body: @Sendable (WriteBatch) async throws -> T) async throws -> T {
        try await store.sharingWrites(body)
    }

    /// A new object id: a lowercase GUID, as Graph writes them.
    public static func newId() -> String { RandomId.uuid() }
}

/// Recently seen callers by token. An entry lives until its token expires, for at most a
/// minute, and only while the store's access version is the one it was resolved under (any
/// change to roles or principals, through any instance, bumps it).
package final class CallerCache: Sendable {
    private let entries = Locked<[String: (caller: Caller, until: Date, version: Int64)]>([:])
    package static let maxEntries = 10_000
    package static let maxAge: TimeInterval = 60

    package func caller(for token: String, version: Int64) -> Caller? {
        entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard entry.until > Date(), entry.version == version else {
                entries[token] = nil
                return nil
            }
            return entry.caller
        }
    }

    package func store(_ caller: Caller, for token: String, until expiry: Date, version: Int64) {
        entries.withLock { entries in
            if entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
            entries[token] = (caller, min(expiry, Date().addingTimeInterval(Self.maxAge)), version)
        }
    }
}
