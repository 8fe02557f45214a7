import Foundation
import JWTKit
import SigilCore
import SigilStore

/// The claims of a Sigil access token, named as in Entra's v1 Graph tokens.
package struct AccessTokenClaims: JWTPayload {
    package var aud: AudienceClaim
    package var iss: IssuerClaim
    package var iat: IssuedAtClaim
    package var nbf: NotBeforeClaim
    package var exp: ExpirationClaim
    package var sub: SubjectClaim
    /// Object id of the principal (user or service principal).
    package var oid: String
    package var tid: String
    /// `app` for client credentials, `user` for the password grant.
    package var idtyp: String
    package var appid: String?
    package var upn: String?

    package func verify(using algorithm: some JWTAlgorithm) async throws {
        // A little leeway both ways for clocks that differ between instances and clients.
        let skew = TimeInterval(Limits.tokenClockSkew)
        try exp.verifyNotExpired(currentDate: Date().addingTimeInterval(-skew))
        try nbf.verifyNotBefore(currentDate: Date().addingTimeInterval(skew))
    }
}

/// The signing keys of a tenant, kept in the store as one JSON setting. The newest key signs;
/// a key replaced by `rotated` still verifies until every token it signed has expired.
public struct SigningKeyRing: Codable, Sendable, Equatable {
    public struct Key: Codable, Sendable, Equatable {
        public var kid: String
        var pem: String
        /// Seconds since 1970.
        public var created: Double
        /// When a newer key took over signing; nil for the signing key.
        public var retired: Double?
    }

    public var keys: [Key]
    /// Seconds a retired key keeps verifying: a token's lifetime and the clock skew.
    public static let verifyingAfterRetirement = Limits.accessTokenLifetime + Limits.tokenClockSkew

    /// The key that signs new tokens.
    public var signing: Key? { keys.last { $0.retired == nil } }

    package static func key(pem: String, created: Date) throws -> Key {
        Key(kid: try TokenService.keyId(for: ES256PrivateKey(pem: pem).publicKey), pem: pem, created: created.timeIntervalSince1970)
    }

    /// A new signing key; the old one retires now and keys retired longer ago than a token
    /// lives are dropped.
    public func rotated(now: Date = Date()) throws -> SigningKeyRing {
        var keys = verifying(now: now)
        for index in keys.indices where keys[index].retired == nil { keys[index].retired = now.timeIntervalSince1970 }
        keys.append(try Self.key(pem: ES256PrivateKey().pemRepresentation, created: now))
        return SigningKeyRing(keys: keys)
    }

    /// Keys that may still have valid tokens out.
    package func verifying(now: Date) -> [Key] {
        let horizon = now.timeIntervalSince1970 - Double(Self.verifyingAfterRetirement)
        return keys.filter { ($0.retired ?? .infinity) > horizon }
    }

    package var json: String {
        (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"keys":[]}"#
    }
}

/// Issues and checks access tokens, signed with ES256 keys kept in the store, so tokens survive
/// restarts and every instance on one database agrees. Only ES256 verifies: `none`, HMAC and RSA
/// tokens find no key and are refused, whatever their header claims.
public final class TokenService: Sendable {
    public static let graphAudience = "https://graph.microsoft.com"
    package static let graphAppId = "00000003-0000-0000-c000-000000000000"
    /// The single key of versions before rotation; adopted as the ring's first key.
    package static let legacyKeySetting = "signing_key_es256"
    public static let keyRingSetting = "signing_keys_es256"
    /// How often a running server looks for a key rotated elsewhere (`sigil keys rotate`).
    package static let refreshInterval = Duration.seconds(30)

    package struct Loaded: Sendable {
        let ring: SigningKeyRing
        let keys: JWTKeyCollection
        let publicKeys: [(kid: String, key: ES256PublicKey)]
        let loadedAt: ContinuousClock.Instant
    }

    package let store: any DirectoryStore
    public let tenantId: String
    /// Swapped whole on refresh.
    private let state: Locked<Loaded>

    init(store: any DirectoryStore, tenantId: String, loaded: Loaded) {
        self.store = store
        self.tenantId = tenantId
        state = Locked(loaded)
    }

    public static func load(store: any DirectoryStore, tenantId: String) async throws -> TokenService {
        let text = try await store.settingIfAbsent(keyRingSetting, try await initialRing(store: store).json)
        return TokenService(store: store, tenantId: tenantId, loaded: try await loaded(text))
    }

    /// A first ring: the legacy single key when this database has one, so its tokens stay valid.
    package static func initialRing(store: any DirectoryStore) async throws -> SigningKeyRing {
        let pem = try await store.setting(legacyKeySetting) ?? ES256PrivateKey().pemRepresentation
        return SigningKeyRing(keys: [try SigningKeyRing.key(pem: pem, created: Date())])
    }

    /// Replaces the signing key in `store`; servers on it switch within `refreshInterval`.
    public static func rotate(store: any DirectoryStore) async throws -> SigningKeyRing {
        let initial = try await initialRing(store: store).json
        let text = try await store.updateSetting(keyRingSetting) { current in
            let ring = try JSONDecoder().decode(SigningKeyRing.self, from: Data((current ?? initial).utf8))
            return try ring.rotated().json
        }
        return try JSONDecoder().decode(SigningKeyRing.self, from: Data(text.utf8))
    }

    public static func ring(store: any DirectoryStore) async throws -> SigningKeyRing? {
        guard let text = try await store.setting(keyRingSetting) else { return nil }
        return try JSONDecoder().decode(SigningKeyRing.self, from: Data(text.utf8))
    }

    package static func loaded(_ text: String) async throws -> Loaded {
        let ring = try JSONDecoder().decode(SigningKeyRing.self, from: Data(text.utf8))
        let keys = JWTKeyCollection()
        var publicKeys: [(kid: String, key: ES256PublicKey)] = []
        for entry in ring.verifying(now: Date()) {
            let key = try ES256PrivateKey(pem: entry.pem)
            await keys.add(ecdsa: key, kid: JWKIdentifier(string: entry.kid))
            publicKeys.append((entry.kid, key.publicKey))
        }
        return Loaded(ring: ring, keys: keys, publicKeys: publicKeys, loadedAt: .now)
    }

    /// The key id is derived from the public key, so it is stable across restarts.
    package static func keyId(for publicKey: ES256PublicKey) -> String {
        String((publicKey.parameters?.x ?? "sigil").prefix(16))
    }

    /// Reads the key ring from the store now (SIGHUP, tests), instead of within `refreshInterval`.
    public func reload() async throws {
        guard let text = try await store.setting(Self.keyRingSetting) else { return }
        let fresh = try await Self.loaded(text)
        state.withLock { $0 = fresh }
    }

    /// The loaded keys, read again from the store when older than `refreshInterval` (or `force`).
    package func current(force: Bool = false) async throws -> Loaded {
        let loaded = state.withLock { $0 }
        let age = ContinuousClock.now - loaded.loadedAt
        // Forced reads are spaced too, so tokens naming unknown keys cannot drive a read each.
        guard age > Self.refreshInterval || (force && age > .seconds(5)) else { return loaded }
        guard let text = try await store.setting(Self.keyRingSetting), text != loaded.ring.json else {
            let refreshed = Loaded(ring: loaded.ring, keys: loaded.keys, publicKeys: loaded.publicKeys, loadedAt: .now)
            state.withLock { $0 = refreshed }
            return refreshed
        }
        let fresh = try await Self.loaded(text)
        state.withLock { $0 = fresh }
        return fresh
    }

    public var issuer: String { "https://sts.windows.net/\(tenantId)/" }

    package func issue(principalId: String, isApp: Bool, appId: String?, userPrincipalName: String?) async throws -> String {
        // Whole seconds, as Entra writes iat/nbf/exp.
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let claims = AccessTokenClaims(
            aud: AudienceClaim(value: [Self.graphAudience]), iss: IssuerClaim(value: issuer),
            iat: IssuedAtClaim(value: now), nbf: NotBeforeClaim(value: now),
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(Limits.accessTokenLifetime))),
            sub: SubjectClaim(value: principalId), oid: principalId, tid: tenantId, idtyp: isApp ? "app" : "user",
            appid: appId, upn: userPrincipalName)
        let loaded = try await current()
        guard let signing = loaded.ring.signing else { throw GraphError.internalError }
        return try await loaded.keys.sign(claims, kid: JWKIdentifier(string: signing.kid))
    }

    /// Checks signature, lifetime, audience, issuer and tenant; the message says which failed.
    package func validate(_ token: String) async throws(SigilCore.GraphError) -> AccessTokenClaims {
        let claims: AccessTokenClaims
        do {
            claims = try await verified(token)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw .unauthenticated("Lifetime validation failed, the token is expired.")
        } catch {
            throw .unauthenticated("Access token validation failure. Invalid signature or malformed token.")
        }
        guard claims.aud.value.contains(Self.graphAudience) || claims.aud.value.contains(Self.graphAppId) else {
            throw .unauthenticated("Access token validation failure. Invalid audience.")
        }
        guard claims.iss.value == issuer, claims.tid == tenantId else {
            throw .unauthenticated("Access token validation failure. Invalid issuer.")
        }
        return claims
    }

    /// Verifies with the loaded keys; a token naming a key this instance does not know yet (rotated
    /// through another instance) makes it read the ring again once.
    package func verified(_ token: String) async throws -> AccessTokenClaims {
        let loaded = try await current()
        do {
            return try await loaded.keys.verify(token, as: AccessTokenClaims.self)
        } catch let error as JWTError where error.errorType == .unknownKID {
            let fresh = try await current(force: true)
            return try await fresh.keys.verify(token, as: AccessTokenClaims.self)
        }
    }

    /// The JSON Web Key Set that verifies Sigil's tokens: the signing key and retired keys whose
    /// tokens may still be valid.
    package func jwks() async throws -> JSONValue {
        let keys: [JSONValue] = try await current().publicKeys.map { entry in
            let parameters = entry.key.parameters
            return [
                "kty": "EC", "use": "sig", "crv": "P-256", "alg": "ES256", "kid": .string(entry.kid),
                "x": .string(parameters?.x ?? ""), "y": .string(parameters?.y ?? ""),
            ]
        }
        return ["keys": .array(keys)]
    }
}
