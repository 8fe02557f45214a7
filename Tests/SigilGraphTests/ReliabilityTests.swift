import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import SigilCore
import SigilStore
import Testing

@testable import SigilGraph
@testable import SigilService

/// Issue 9 in-process: health and metrics, request limits, rate limiting, the request deadline,
/// token checks and signing key rotation, and the JSON log format.
@Suite struct ReliabilityTests {
    @Test func healthAndReadinessAnswerWithoutAToken() async throws {
        let tenant = try await TestTenant.make()
        try await tenant.test { client in
            let live = try await client.get("/health/live", token: nil)
            #expect(live.status == .ok)
            #expect(live["status"]?.stringValue == "ok")
            let ready = try await client.get("/health/ready", token: nil)
            #expect(ready.status == .ok)
            #expect(ready["status"]?.stringValue == "ready")
        }
    }

    @Test func readinessGivesUpOnAStoreThatHangs() async {
        let start = ContinuousClock.now
        let answered = await firstAnswer(within: .milliseconds(100)) {
            try? await Task.sleep(for: .seconds(600))
            return true
        }
        #expect(!answered)
        // Far less than the hang, with room for a machine busy with the whole suite (7 s seen).
        #expect(ContinuousClock.now - start < .seconds(120))
        #expect(await firstAnswer(within: .seconds(5)) { true })
    }

    @Test func metricsCountRequestsByRouteAndStatusAndTimeTheStore() async throws {
        let tenant = try await TestTenant.make()
        let measured = MeasuredStore(tenant.store)
        let services = SigilServices(
            store: measured, tokens: tenant.services.tokens, hasher: tenant.services.hasher, scheme: "http",
            pageTokens: tenant.services.pageTokens)
        let token = try await tenant.bootstrapToken()
        let app = Application(router: buildRouter(services: services))
        try await app.test(.router) { raw in
            let client = GraphClient(client: raw)
            #expect(try await client.get("/v1.0/users?$top=1", token: token).status == .ok)
            #expect(try await client.get("/v1.0/users/no-such-user", token: token).status == .notFound)
            let metrics = try await client.get("/metrics", token: nil)
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            // Route templates, never concrete ids, label the series.
            #expect(metrics.text.contains(#"hb_requests{http_route="/v1.0/users/{id}",http_request_method="GET",http_response_status_code="404"}"#))
            #expect(!metrics.text.contains("no-such-user"))
            #expect(metrics.text.contains("http_server_request_duration_bucket{http_route=\"/v1.0/users\""))
            #expect(metrics.text.contains(#"sigil_store_duration_count{operation="query",outcome="ok"}"#))
        }
    }

    @Test func oversizedQueriesAndHeadersAnswerGraphErrors() async throws {
        let tenant = try await TestTenant.make()
        let token = try await tenant.bootstrapToken()
        try await tenant.test { client in
            let long = String(repeating: "displayName eq 'x' or ", count: 200) + "displayName eq 'y'"
            let tooLong = try await client.get("/v1.0/users?$filter=\(Self.encode(long))", token: token)
            #expect(tooLong.status == .badRequest)
            #expect(tooLong.errorMessage?.contains("limit is \(Limits.filterLength)") == true)

            let deep = String(repeating: "(", count: 40) + "displayName eq 'x'" + String(repeating: ")", count: 40)
            let tooDeep = try await client.get("/v1.0/users?$filter=\(Self.encode(deep))", token: token)
            #expect(tooDeep.status == .badRequest)
            #expect(tooDeep.errorMessage?.contains("nested more than \(Limits.filterDepth) levels") == true)
            let nots = String(repeating: "not ", count: 40) + "displayName eq 'x'"
            #expect(try await client.get("/v1.0/users?$filter=\(Self.encode(nots))", token: token).status == .badRequest)
            // Within the limits the same shapes still work.
            let fine = String(repeating: "(", count: 8) + "displayName eq 'x'" + String(repeating: ")", count: 8)
            #expect(try await client.get("/v1.0/users?$filter=\(Self.encode(fine))", token: token).status == .ok)

            let manyFields = (0...Limits.selectProperties).map { _ in "displayName" }.joined(separator: ",")
            let tooMany = try await client.get("/v1.0/users?$select=\(manyFields)", token: token)
            #expect(tooMany.status == .badRequest)
            #expect(tooMany.errorMessage?.contains("limit is \(Limits.selectProperties)") == true)

            for top in ["0", "1000", "-1", "x"] {
                #expect(try await client.get("/v1.0/users?$top=\(top)", token: token).status == .badRequest)
            }

            let header = String(repeating: "a", count: Limits.requestHeaderBytes + 1)
            let big = try await client.get("/v1.0/users", token: token, headers: ["X-Padding": header])
            #expect(big.status.code == 431)
            #expect(big.errorCode == "Request_HeadersTooLarge")

            let body = "{\"displayName\":\"" + String(repeating: "x", count: Limits.requestBodyBytes) + "\"}"
            let huge = try await client.send(.post, "/v1.0/users", token: token, body: body)
            #expect(huge.status == .contentTooLarge)
            #expect(huge.errorCode == "Request_EntityTooLarge")
        }
    }

    @Test func rateLimitAnswers429WithRetryAfterPerPrincipal() async throws {
        let tenant = try await TestTenant.make()
        let busy = try await tenant.bootstrapToken()
        let other = try await tenant.servicePrincipal("Quiet").token
        // One request per 100 s after the burst: however slow this machine, nothing refills meanwhile.
        let options = ServerOptions(rateLimit: RateLimit(requestsPerSecond: 0.01, burst: 3))
        try await tenant.test(options: options) { client in
            for _ in 0..<3 { #expect(try await client.get("/v1.0/users?$top=1", token: busy).status == .ok) }
            let refused = try await client.get("/v1.0/users?$top=1", token: busy)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "TooManyRequests")
            #expect((1...100).contains(Int(refused.headers[.retryAfter] ?? "") ?? 0))
            #expect(refused.headers[.requestId] != nil)
            // Another principal has its own bucket; health needs no token and is not limited.
            #expect(try await client.get("/v1.0/users?$top=1", token: other).status == .ok)
            #expect(try await client.get("/health/live", token: nil).status == .ok)
        }
        // Off by default.
        try await tenant.test(options: ServerOptions()) { client in
            for _ in 0..<20 {
                let reply = try await client.get("/v1.0/users?$top=1", token: busy)
                #expect(reply.status == .ok)
            }
        }
    }

    @Test func rateLimiterRefillsAtItsRate() {
        let limiter = RateLimiter(RateLimit(requestsPerSecond: 10, burst: 2))
        let start = ContinuousClock.now
        #expect(limiter.admit("a", now: start) == nil)
        #expect(limiter.admit("a", now: start) == nil)
        #expect(limiter.admit("a", now: start) == 1)
        #expect(limiter.admit("a", now: start + .milliseconds(100)) == nil)
        #expect(limiter.admit("a", now: start + .milliseconds(100)) == 1)
        #expect(limiter.admit("b", now: start) == nil)
    }

    @Test func aRequestPastItsDeadlineIsCancelledAndAnswered504() async throws {
        let router = Router(context: GraphContext.self)
        router.middlewares.add(GraphErrorMiddleware())
        // Long enough that the quick request is never late on a machine busy with the whole suite.
        router.middlewares.add(RequestDeadlineMiddleware(timeout: .seconds(2)))
        router.get("slow") { _, _ -> Response in
            try await Task.sleep(for: .seconds(600))
            return Response(status: .ok)
        }
        router.get("quick") { _, _ in Response(status: .ok) }
        let start = ContinuousClock.now
        try await Application(router: router).test(.router) { raw in
            let client = GraphClient(client: raw)
            let slow = try await client.get("/slow", token: nil)
            #expect(slow.status == .gatewayTimeout)
            #expect(slow.errorCode == "Request_Timeout")
            #expect(try await client.get("/quick", token: nil).status == .ok)
        }
        // Far less than the slow handler's sleep: it was cancelled, not waited for.
        #expect(ContinuousClock.now - start < .seconds(120))
    }

    /// One watcher serves every request in flight: a request that ends in time is never
    /// cancelled, one past its deadline is, and the watcher stops once nothing is in flight and
    /// starts again for the next request.
    @Test func theDeadlineWatchCancelsOnlyRequestsPastTheirDeadline() async throws {
        let watch = DeadlineWatch(timeout: .seconds(1))
        for _ in 0..<2 {
            let quickCancelled = Locked(false)
            let slowCancelled = Locked(false)
            let quick = watch.start { quickCancelled.withLock { $0 = true } }
            let slow = watch.start { slowCancelled.withLock { $0 = true } }
            #expect(watch.end(quick) == false)
            // Waits for the watcher however busy the machine is (bounded, so a broken watch fails).
            let giveUp = ContinuousClock.now + .seconds(60)
            while !slowCancelled.withLock({ $0 }), ContinuousClock.now < giveUp { try await Task.sleep(for: .milliseconds(20)) }
            #expect(slowCancelled.withLock { $0 })
            #expect(watch.end(slow) == true)
            #expect(quickCancelled.withLock { $0 } == false)
        }
    }

    @Test func requestsWithinTheirDeadlineAreAnsweredBesideOneThatIsNot() async throws {
        let router = Router(context: GraphContext.self)
        router.middlewares.add(GraphErrorMiddleware())
        // Long enough that a quick request is never late, even when the whole suite shares the machine.
        router.middlewares.add(RequestDeadlineMiddleware(timeout: .seconds(5)))
        router.get("slow") { _, _ -> Response in
            try await Task.sleep(for: .seconds(120))
            return Response(status: .ok)
        }
        router.get("quick") { _, _ in Response(status: .ok) }
        try await Application(router: router).test(.live) { raw in
            let client = GraphClient(client: raw)
            async let slow = client.get("/slow", token: nil)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<40 { group.addTask { try await client.get("/quick", token: nil).status } }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.count == 40)
            #expect(statuses.allSatisfy { $0 == .ok })
            #expect(try await slow.status == .gatewayTimeout)
        }
    }

    // MARK: Tokens

    /// Signs `claims` with the tenant's current signing key.
    static func sign(_ claims: AccessTokenClaims, tenant: TestTenant) async throws -> String {
        let loaded = try await tenant.services.tokens.current()
        let key = try #require(loaded.ring.signing)
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: try ES256PrivateKey(pem: key.pem), kid: JWKIdentifier(string: key.kid))
        return try await keys.sign(claims, kid: JWKIdentifier(string: key.kid))
    }

    static func claims(
        tenant: TestTenant, principal: String, now: Date = Date(), lifetime: TimeInterval = 3599,
        audience: String = TokenService.graphAudience, issuer: String? = nil
    ) -> AccessTokenClaims {
        AccessTokenClaims(
            aud: AudienceClaim(value: [audience]), iss: IssuerClaim(value: issuer ?? tenant.services.tokens.issuer),
            iat: IssuedAtClaim(value: now), nbf: NotBeforeClaim(value: now), exp: ExpirationClaim(value: now.addingTimeInterval(lifetime)),
            sub: SubjectClaim(value: principal), oid: principal, tid: tenant.tenantId, idtyp: "app", appid: nil, upn: nil)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test func tokensAreCheckedForAlgorithmSignatureLifetimeAudienceAndIssuer() async throws {
        let tenant = try await TestTenant.make()
        let (principal, good) = try await tenant.servicePrincipal("Checked", grants: [.tenant(.attributeDefinitionReader)])
        let kid = try #require(try await tenant.services.tokens.current().ring.signing?.kid)
        let payload = Self.base64URL(try JSONEncoder().encode(Self.claims(tenant: tenant, principal: principal)))

        // alg none, with and without a signature part.
        let noneHeader = Self.base64URL(Data(#"{"alg":"none","typ":"JWT","kid":"\#(kid)"}"#.utf8))
        // HS256 keyed with the public key: the classic confusion attack.
        let jwks = try await tenant.services.tokens.jwks()
        let hmacKeys = JWTKeyCollection()
        await hmacKeys.add(hmac: HMACKey(from: jwks.serializedString), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        let confused = try await hmacKeys.sign(Self.claims(tenant: tenant, principal: principal), kid: JWKIdentifier(string: kid))
        // A valid ES256 signature by another key that claims our key id.
        let stranger = JWTKeyCollection()
        await stranger.add(ecdsa: ES256PrivateKey(), kid: JWKIdentifier(string: kid))
        let forged = try await stranger.sign(Self.claims(tenant: tenant, principal: principal), kid: JWKIdentifier(string: kid))

        let expiredLongAgo = try await Self.sign(
            Self.claims(tenant: tenant, principal: principal, now: Date().addingTimeInterval(-3600), lifetime: 3600 - 120), tenant: tenant)
        let expiredWithinSkew = try await Self.sign(
            Self.claims(tenant: tenant, principal: principal, now: Date().addingTimeInterval(-3600), lifetime: 3600 - 20), tenant: tenant)
        let notYetValid = try await Self.sign(
            Self.claims(tenant: tenant, principal: principal, now: Date().addingTimeInterval(600)), tenant: tenant)
        let slightlyEarly = try await Self.sign(
            Self.claims(tenant: tenant, principal: principal, now: Date().addingTimeInterval(20)), tenant: tenant)
        let wrongAudience = try await Self.sign(
            Self.claims(tenant: tenant, principal: principal, audience: "api://someone-else"), tenant: tenant)
        let wrongIssuer = try await Self.sign(
            Self.claims(tenant: tenant, principal: principal, issuer: "https://sts.windows.net/\(UUID().uuidString.lowercased())/"),
            tenant: tenant)

        try await tenant.test { client in
            let path = "/v1.0/directory/attributeSets"
            #expect(try await client.get(path, token: good).status == .ok)
            #expect(try await client.get(path, token: expiredWithinSkew).status == .ok)
            #expect(try await client.get(path, token: slightlyEarly).status == .ok)
            let refusals: [(String, String, String)] = [
                ("alg none", "\(noneHeader).\(payload).", "Invalid signature"),
                ("alg none, unsigned", "\(noneHeader).\(payload)", "Invalid signature"),
                ("HS256 keyed with the public key", confused, "Invalid signature"),
                ("another key's signature", forged, "Invalid signature"),
                ("expired", expiredLongAgo, "expired"),
                ("not yet valid", notYetValid, "expired"),
                ("audience", wrongAudience, "Invalid audience"),
                ("issuer", wrongIssuer, "Invalid issuer"),
            ]
            for (name, token, message) in refusals {
                let reply = try await client.get(path, token: token)
                #expect(reply.status == .unauthorized, "\(name)")
                #expect(reply.errorCode == "InvalidAuthenticationToken", "\(name)")
                #expect(reply.errorMessage?.contains(message) == true, "\(name): \(reply.errorMessage ?? "")")
            }
        }
    }

    @Test func rotatedKeysSignNewTokensWhileOldTokensStillVerify() async throws {
        let tenant = try await TestTenant.make()
        let tokens = tenant.services.tokens
        let (principal, old) = try await tenant.servicePrincipal("Rotating", grants: [.tenant(.attributeDefinitionReader)])
        let before = try #require(try await tokens.current().ring.signing?.kid)

        let ring = try await TokenService.rotate(store: tenant.store)
        let after = try #require(ring.signing?.kid)
        #expect(after != before)
        #expect(ring.keys.map(\.kid) == [before, after])
        try await tokens.reload()

        let fresh = try await tokens.issue(principalId: principal, isApp: true, appId: nil, userPrincipalName: nil)
        let header = try #require(fresh.split(separator: ".").first)
        let padded = String(header) + String(repeating: "=", count: (4 - header.count % 4) % 4)
        let decoded = try #require(Data(base64Encoded: padded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")))
        #expect(String(decoding: decoded, as: UTF8.self).contains(after))

        try await tenant.test { client in
            let path = "/v1.0/directory/attributeSets"
            #expect(try await client.get(path, token: old).status == .ok)
            #expect(try await client.get(path, token: fresh).status == .ok)
            let keys = try await client.get("/\(tenant.tenantId)/discovery/v2.0/keys", token: nil)
            let kids = Set(keys["keys"]?.arrayValue?.compactMap { $0.objectValue?["kid"]?.stringValue } ?? [])
            #expect(kids == [before, after])
        }

        // An hour and a skew later the retired key is gone from the ring.
        let later = try ring.rotated(now: Date().addingTimeInterval(Double(SigningKeyRing.verifyingAfterRetirement) + 10))
        #expect(!later.keys.map(\.kid).contains(before))
        #expect(later.keys.first?.kid == after)
        #expect(later.keys.count == 2)
    }

    @Test func aServerAdoptsTheKeyOfADatabaseFromBeforeRotation() async throws {
        let store = try SQLiteStore()
        let legacy = ES256PrivateKey()
        _ = try await store.settingIfAbsent(TokenService.legacyKeySetting, legacy.pemRepresentation)
        let tokens = try await TokenService.load(store: store, tenantId: UUID().uuidString.lowercased())
        #expect(try await tokens.current().ring.signing?.kid == TokenService.keyId(for: legacy.publicKey))
    }

    // MARK: Logs

    @Test func textLogLinesCarryLevelMessageAndMetadata() throws {
        let lines = LogLines()
        var logger = Logger(label: "sigil-test") { label in LineLogHandler(label: label, format: .text, write: { lines.append($0) }) }
        logger[metadataKey: "request_id"] = "r-1"
        logger[metadataKey: "status"] = "500"
        logger.info("request", metadata: ["status": "204", "method": "GET"])
        logger.debug("hidden below info")
        logger[metadataKey: "request_id"] = nil
        logger.warning("plain")
        let written = lines.all
        #expect(written.count == 2)
        let first = try #require(written.first)
        // Time with its offset, level, label, the metadata sorted by key (explicit values win), source, message.
        let pattern = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4} info sigil-test: method=GET request_id=r-1 status=204 \[SigilGraphTests\] request\n$/#
        #expect(first.wholeMatch(of: pattern) != nil, "\(first)")
        #expect(written.last?.hasSuffix(" warning sigil-test: status=500 [SigilGraphTests] plain\n") == true, "\(written)")
    }

    @Test func jsonLogLinesCarryLevelMessageAndMetadata() throws {
        let lines = LogLines()
        var logger = Logger(label: "sigil-test") { label in LineLogHandler(label: label, format: .json, write: { lines.append($0) }) }
        logger[metadataKey: "request_id"] = "r-1"
        logger.info("request", metadata: ["status": "204", "nested": ["a": "b"]])
        logger.debug("hidden below info")
        let written = lines.all
        #expect(written.count == 1)
        let line = try #require(written.first)
        let entry = try #require(try JSON.parse(Array(line.utf8)).objectValue)
        #expect(entry["level"]?.stringValue == "info")
        #expect(entry["message"]?.stringValue == "request")
        #expect(entry["logger"]?.stringValue == "sigil-test")
        #expect(entry["request_id"]?.stringValue == "r-1")
        #expect(entry["status"]?.stringValue == "204")
        #expect(entry["nested"]?.objectValue?["a"]?.stringValue == "b")
        #expect(entry["time"]?.stringValue?.hasSuffix("Z") == true)
        #expect(line.hasSuffix("}\n"))
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}

struct LogLines: Sendable {
    private let lines = Locked([String]())
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// The password grant and the console share one sign-in throttle, so neither gets around it.
@Suite struct SignInThrottleTests {
    static func passwordGrant(_ client: GraphClient, tenant: TestTenant, password: String) async throws -> GraphReply {
        let form = [
            "grant_type=password", "client_id=\(tenant.bootstrapClientId)", "username=vera%40sigil.test",
            "password=\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
            "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        ].joined(separator: "&")
        return try await client.send(
            .post, "/\(tenant.tenantId)/oauth2/v2.0/token", body: form, contentType: "application/x-www-form-urlencoded")
    }

    @Test func wrongPasswordsLockTheAccountForThePasswordGrant() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Vera")
        try await tenant.test { client in
            #expect(try await Self.passwordGrant(client, tenant: tenant, password: "Password-123!").status == .ok)
            for _ in 0..<5 {
                let wrong = try await Self.passwordGrant(client, tenant: tenant, password: "guess-\(UUID())")
                #expect(wrong.status == .badRequest)
                #expect(wrong["error_codes"] == [50126])
            }
            // The right password no longer helps until the window passes.
            let locked = try await Self.passwordGrant(client, tenant: tenant, password: "Password-123!")
            #expect(locked.status == .badRequest)
            #expect(locked["error"]?.stringValue == "invalid_grant")
            #expect(locked["error_codes"] == [50053])
        }
    }
}

@Suite struct TrustedProxyTests {
    @Test func rangesMatchTheirAddressesOnly() throws {
        let v4 = try #require(IPRange("10.1.0.0/16"))
        #expect(v4.contains("10.1.255.7"))
        #expect(!v4.contains("10.2.0.1"))
        #expect(!v4.contains("fd00::1"))
        let one = try #require(IPRange("192.168.1.5"))
        #expect(one.contains("192.168.1.5") && !one.contains("192.168.1.6"))
        let v6 = try #require(IPRange("fd00::/8"))
        #expect(v6.contains("fd12:3456::1") && !v6.contains("fe80::1"))
        #expect(try #require(IPRange("0.0.0.0/0")).contains("8.8.8.8"))
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0/8", "::1/129", ""] { #expect(IPRange(bad) == nil, "\(bad)") }
    }

    @Test func theClientIsTheRightmostUntrustedHop() throws {
        let trusted = [try #require(IPRange("10.0.0.0/8"))]
        // Not from a trusted proxy: the header is whatever the client wrote, and is ignored.
        #expect(forwardedClient(peer: "203.0.113.9", forwardedFor: ["1.2.3.4"], trusted: trusted) == "203.0.113.9")
        #expect(forwardedClient(peer: "10.0.0.2", forwardedFor: ["198.51.100.7"], trusted: trusted) == "198.51.100.7")
        // A client that forges a first hop cannot hide behind it: the rightmost untrusted one counts.
        #expect(
            forwardedClient(peer: "10.0.0.2", forwardedFor: ["1.1.1.1, 198.51.100.7", "10.0.0.3"], trusted: trusted)
                == "198.51.100.7")
        #expect(forwardedClient(peer: "10.0.0.2", forwardedFor: ["10.0.0.9"], trusted: trusted) == "10.0.0.9")
        #expect(forwardedClient(peer: "10.0.0.2", forwardedFor: [], trusted: trusted) == "10.0.0.2")
        #expect(forwardedClient(peer: "10.0.0.2", forwardedFor: ["not-an-ip"], trusted: trusted) == "10.0.0.2")
        #expect(forwardedClient(peer: "10.0.0.2", forwardedFor: ["198.51.100.7"], trusted: []) == "10.0.0.2")
    }
}

@Suite struct SecretGeneratorTests {
    @Test func secretsNeverStartWithADashAndDiffer() {
        let secrets = (0..<2_000).map { _ in SecretGenerator.make() }
        #expect(secrets.allSatisfy { $0.count == 40 && ($0.first?.isLetter == true || $0.first?.isNumber == true) })
        #expect(secrets.allSatisfy { Array($0)[3..<6] == ["8", "Q", "~"] })
        #expect(Set(secrets).count == secrets.count)
    }
}
