import Foundation
import Hummingbird
import Logging
import NIOCore
import SigilCore
import SigilService
import SigilStore

/// The Entra-shaped identity endpoints: the OAuth 2.0 token endpoint (client credentials and
/// password grants), OpenID configuration and the signing keys.
struct IdentityController {
    let services: SigilServices

    func register(on router: Router<GraphContext>) {
        router.post(":tenant/oauth2/v2.0/token", use: token)
        router.get(":tenant/v2.0/.well-known/openid-configuration", use: openIdConfiguration)
        router.get(":tenant/discovery/v2.0/keys", use: keys)
    }

    /// An OAuth error reply, in the shape Entra and MSAL use.
    struct OAuthError: Error {
        let status: HTTPResponse.Status
        let error: String
        let description: String
        let code: Int

        var response: Response {
            let body: JSONValue = [
                "error": .string(error), "error_description": .string(description), "error_codes": [.integer(Int64(code))],
                "timestamp": .string(GraphResponse.errorDate() + "Z"),
            ]
            return Response(
                status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.serialized())))
        }
    }

    func checkTenant(_ context: GraphContext) throws(OAuthError) {
        let tenant = (try? context.parameters.require("tenant")) ?? ""
        guard tenant.lowercased() == services.tenantId || tenant.lowercased() == "organizations" else {
            throw OAuthError(
                status: .badRequest, error: "invalid_tenant",
                description: "AADSTS90002: Tenant '\(tenant)' not found. This Sigil server serves tenant \(services.tenantId).",
                code: 90002)
        }
    }

    static let graphScopes: Set<String> = [
        "https://graph.microsoft.com/.default", "00000003-0000-0000-c000-000000000000/.default",
    ]

    @Sendable func token(_ request: Request, context: GraphContext) async throws -> Response {
        let address = context.clientAddress
        do {
            try checkTenant(context)
            let type = request.headers[.contentType]?.lowercased() ?? ""
            guard type.hasPrefix("application/x-www-form-urlencoded") else {
                throw OAuthError(
                    status: .badRequest, error: "invalid_request",
                    description: "AADSTS900144: The request body must be application/x-www-form-urlencoded.", code: 900144)
            }
            let buffer = try await request.body.collect(upTo: 64 * 1024)
            // A repeated field keeps its last value.
            let form = Dictionary(formFields(String(buffer: buffer)), uniquingKeysWith: { _, last in last })
            guard !form.contains(where: { $0.key.utf8.contains(0) || $0.value.utf8.contains(0) }) else {
                throw OAuthError(
                    status: .badRequest, error: "invalid_request",
                    description: "AADSTS9002313: Invalid request. Request is malformed or invalid: it contains the character U+0000 (NUL).",
                    code: 9_002_313)
            }
            func required(_ name: String) throws(OAuthError) -> String {
                guard let value = form[name], !value.isEmpty else {
                    throw OAuthError(
                        status: .badRequest, error: "invalid_request",
                        description: "AADSTS900144: The request body must contain the following parameter: '\(name)'.",
                        code: 900144)
                }
                return value
            }
            let grantType = try required("grant_type")
            let clientId = try required("client_id")
            let scope = try required("scope")
            switch grantType {
            case "client_credentials":
                return try await clientCredentials(
                    clientId: clientId, secret: try required("client_secret"), scope: scope, logger: context.logger)
            case "password":
                return try await password(
                    clientId: clientId, username: try required("username"), password: try required("password"), scope: scope,
                    address: address, logger: context.logger)
            default:
                throw OAuthError(
                    status: .badRequest, error: "unsupported_grant_type",
                    description:
                        "AADSTS70003: The app requested an unsupported grant type '\(grantType)'; use client_credentials or password.",
                    code: 70003)
            }
        } catch let error as OAuthError {
            return error.response
        }
    }

    func tokenResponse(_ token: String, scope: String?) -> Response {
        var body = JSONObject([("token_type", "Bearer")])
        if let scope { body.append("scope", .string(scope)) }
        body.append("expires_in", .integer(Int64(Limits.accessTokenLifetime)))
        body.append("ext_expires_in", .integer(Int64(Limits.accessTokenLifetime)))
        body.append("access_token", .string(token))
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONValue.object(body).serialized())))
    }

    var conditionalAccess: ConditionalAccessService { ConditionalAccessService(services: services) }

    /// Refuses a sign-in an enabled block policy applies to, as Entra does (AADSTS53003, naming
    /// the policy); report-only policies that would have blocked it are logged and it proceeds.
    func enforceConditionalAccess(_ signIn: ConditionalAccessSignIn, principal: String, logger: Logger) async throws {
        let decision = try await conditionalAccess.decide(signIn)
        for policy in decision.reportOnly {
            logger.notice(
                "report-only Conditional Access policy would block this sign-in",
                metadata: ["policy": "\(policy.id)", "policyName": "\(policy.displayName)", "principal": "\(principal)"])
        }
        if let policy = decision.blockedBy {
            throw OAuthError(
                status: .badRequest, error: "access_denied",
                description:
                    "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance. Blocking policy: '\(policy.displayName)' (\(policy.id)).",
                code: 53003)
        }
    }

    func unknownApplication(_ clientId: String) -> OAuthError {
        OAuthError(
            status: .badRequest, error: "unauthorized_client",
            description:
                "AADSTS700016: Application with identifier '\(clientId)' was not found in the directory '\(services.tenantId)'.",
            code: 700016)
    }

    func clientCredentials(clientId: String, secret: String, scope: String, logger: Logger) async throws -> Response {
        guard Self.graphScopes.contains(scope.lowercased()) else {
            throw OAuthError(
                status: .badRequest, error: "invalid_scope",
                description:
                    "AADSTS1002012: The provided value for scope \(scope) is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (https://graph.microsoft.com/.default).",
                code: 1_002_012)
        }
        switch try await services.checkClientSecret(clientId: clientId, secret: secret) {
        case .valid(let principal, let appId):
            try await enforceConditionalAccess(
                try await conditionalAccess.signIn(servicePrincipal: principal), principal: principal.id, logger: logger)
            let token = try await services.tokens.issue(
                principalId: principal.id, isApp: true, appId: appId, userPrincipalName: nil)
            return tokenResponse(token, scope: nil)
        case .unknownApplication:
            throw unknownApplication(clientId)
        case .invalidSecret:
            throw OAuthError(
                status: .unauthorized, error: "invalid_client",
                description:
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '\(clientId)'.",
                code: 7_000_215)
        case .missingServicePrincipal:
            throw OAuthError(
                status: .badRequest, error: "invalid_client",
                description:
                    "AADSTS7000229: The client application \(clientId) is missing service principal in the tenant \(services.tenantId).",
                code: 7_000_229)
        case .disabled:
            throw OAuthError(
                status: .badRequest, error: "unauthorized_client",
                description: "AADSTS7000112: Application '\(clientId)' is disabled.", code: 7_000_112)
        }
    }

    func password(
        clientId: String, username: String, password: String, scope: String, address: String?, logger: Logger
    ) async throws -> Response {
        let scopes = scope.split(separator: " ").map { $0.lowercased() }
        let allowed = scopes.allSatisfy {
            $0.hasPrefix("https://graph.microsoft.com/") || ["openid", "profile", "offline_access", "email"].contains($0)
        }
        guard allowed, !scopes.isEmpty else {
            throw OAuthError(
                status: .badRequest, error: "invalid_scope",
                description:
                    "AADSTS70011: The provided value for the input parameter 'scope' is not valid. Request Microsoft Graph scopes (https://graph.microsoft.com/.default).",
                code: 70011)
        }
        guard try await services.applicationExists(clientId: clientId) else { throw unknownApplication(clientId) }
        let invalid = OAuthError(
            status: .badRequest, error: "invalid_grant",
            description: "AADSTS50126: Error validating credentials due to invalid username or password.", code: 50126)
        let user: DirectoryObject
        switch try await services.checkPassword(userPrincipalName: username, password: password, address: address) {
        case .valid(let found): user = found
        case .invalid: throw invalid
        case .locked:
            // Entra's smart lockout answer.
            throw OAuthError(
                status: .badRequest, error: "invalid_grant",
                description:
                    "AADSTS50053: The account is locked because of too many sign-in attempts with an incorrect user ID or password. Try again later.",
                code: 50053)
        case .disabled:
            throw OAuthError(
                status: .badRequest, error: "invalid_grant", description: "AADSTS50057: The user account is disabled.",
                code: 50057)
        }
        try await enforceConditionalAccess(try await conditionalAccess.signIn(user: user), principal: user.id, logger: logger)
        let token = try await services.tokens.issue(
            principalId: user.id, isApp: false, appId: clientId, userPrincipalName: user.userPrincipalName)
        return tokenResponse(token, scope: scope)
    }

    @Sendable func openIdConfiguration(_ request: Request, context: GraphContext) async throws -> Response {
        do { try checkTenant(context) } catch { return error.response }
        let base = "\(services.origin(request))/\(services.tenantId)"
        let body: JSONValue = [
            "issuer": .string(services.tokens.issuer),
            "token_endpoint": .string("\(base)/oauth2/v2.0/token"),
            // Advertised because MSAL requires the member; Sigil has no interactive sign-in.
            "authorization_endpoint": .string("\(base)/oauth2/v2.0/authorize"),
            "jwks_uri": .string("\(base)/discovery/v2.0/keys"),
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "grant_types_supported": ["client_credentials", "password"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": nil,
            "cloud_instance_name": "microsoftonline.com",
        ]
        return GraphResponse.json(body)
    }

    @Sendable func keys(_ request: Request, context: GraphContext) async throws -> Response {
        do { try checkTenant(context) } catch { return error.response }
        return GraphResponse.json(try await services.tokens.jwks())
    }
}
