import Foundation
import JWTKit
import SigilCore
import SigilStore

/// The claims of a Sigil access token, named as in Entra's v1 Graph tokens.
struct AccessTokenClaims: JWTPayload {
    var aud: AudienceClaim
    var iss: IssuerClaim
    var iat: IssuedAtClaim
    var nbf: NotBeforeClaim
    var exp: ExpirationClaim
    var sub: SubjectClaim
    /// Object id of the principal (user or service principal).
    var oid: String
    var tid: String
    /// `app` for client credentials, `user` for the password grant.
    var idtyp: String
    var appid: String?
    var upn: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf.verifyNotBefore(currentDate: Date().addingTimeInterval(300))
    }
}

/// Issues and checks access tokens, signed with an ES256 key that is generated once and kept
/// in the store, so tokens survive restarts and every instance on one database agrees.
public final class TokenService: Sendable {
    public static let graphAudience = "https://graph.microsoft.com"
    static let graphAppId = "00000003-0000-0000-c000-000000000000"
    static let signingKeySetting = "signing_key_es256"

    let keys: JWTKeyCollection
    let keyId: String
    let publicKey: ES256PublicKey
    public let tenantId: String

    init(keys: JWTKeyCollection, keyId: String, publicKey: ES256PublicKey, tenantId: String) {
        self.keys = keys
        self.keyId = keyId
        self.publicKey = publicKey
        self.tenantId = tenantId
    }

    public static func load(store: any DirectoryStore, tenantId: String) async throws -> TokenService {
        let pem = try await store.settingIfAbsent(signingKeySetting, ES256PrivateKey().pemRepresentation)
        let key = try ES256PrivateKey(pem: pem)
        let publicKey = key.publicKey
        // The key id is derived from the public key, so it is stable across restarts.
        let keyId = String((publicKey.parameters?.x ?? "sigil").prefix(16))
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: keyId))
        return TokenService(keys: keys, keyId: keyId, publicKey: publicKey, tenantId: tenantId)
    }

    public var issuer: String { "https://sts.windows.net/\(tenantId)/" }

    func issue(principalId: String, isApp: Bool, appId: String?, userPrincipalName: String?) async throws -> String {
        // Whole seconds, as Entra writes iat/nbf/exp.
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let claims = AccessTokenClaims(
            aud: AudienceClaim(value: [Self.graphAudience]), iss: IssuerClaim(value: issuer),
            iat: IssuedAtClaim(value: now), nbf: NotBeforeClaim(value: now),
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(Limits.accessTokenLifetime))),
            sub: SubjectClaim(value: principalId), oid: principalId, tid: tenantId, idtyp: isApp ? "app" : "user",
            appid: appId, upn: userPrincipalName)
        return try await keys.sign(claims, kid: JWKIdentifier(string: keyId))
    }

    /// Checks signature, lifetime, audience, issuer and tenant; the message says which failed.
    func validate(_ token: String) async throws(SigilCore.GraphError) -> AccessTokenClaims {
        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(token, as: AccessTokenClaims.self)
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

    /// The JSON Web Key Set that verifies Sigil's tokens.
    var jwks: JSONValue {
        let parameters = publicKey.parameters
        return [
            "keys": [
                [
                    "kty": "EC", "use": "sig", "crv": "P-256", "alg": "ES256", "kid": .string(keyId),
                    "x": .string(parameters?.x ?? ""), "y": .string(parameters?.y ?? ""),
                ]
            ]
        ]
    }
}
