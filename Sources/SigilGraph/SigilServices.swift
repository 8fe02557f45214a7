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
