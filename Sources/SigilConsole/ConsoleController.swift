import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import SigilCore
import SigilGraph
import SigilService
import SigilStore

/// The web admin console at `/console`: server-rendered pages over the same services, store and
/// access policy as the Graph API. Signed-in users act as themselves, with their own roles.
public struct ConsoleController: Sendable {
    let services: SigilServices
    let sessions: ConsoleSessions
    let templates: MustacheLibrary
    /// Cookies get `Secure` when the console is served over https.
    let secureCookies: Bool
    static let pageSize = 50
    static let formBodyBytes = 64 * 1024

    public static func make(services: SigilServices) async throws -> ConsoleController {
        ConsoleController(
            services: services, sessions: try await ConsoleSessions.load(store: services.store), templates: try Templates.library(),
            secureCookies: services.scheme == "https" || services.publicURL?.hasPrefix("https:") == true)
    }

    public func register(on router: Router<GraphContext>) {
        let console = router.group("console").add(middleware: ConsoleMiddleware(controller: self))
        console.get(use: home)
        console.get("static/console.css", use: stylesheet)
        console.get("static/console.js", use: script)
        console.get("sign-in", use: signInPage)
        console.post("sign-in", use: signIn)
        console.post("sign-out", use: signOut)
        registerLists(on: console)
        registerAssignmentPages(on: console)
        registerSchemaPages(on: console)
        registerRolePages(on: console)
        registerAuditPage(on: console)
        registerSubscriptionsPage(on: console)
        registerConditionalAccessPages(on: console)
        registerAccessPages(on: console)
        registerProvisioningMappingPage(on: console)
        // Unknown console addresses get the console's own not-found page.
        console.get("**", use: { _, _ -> Response in throw HTTPError(.notFound) })
    }

    // MARK: Responses

    func page(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok, cookies: [String] = [])
        -> Response
    {
        let html = templates.render(values, withTemplate: template) ?? ""
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    func cookie(_ name: String, _ value: String, maxAge: TimeInterval?) -> String {
        var parts = ["\(name)=\(value)", "Path=/console", "HttpOnly", "SameSite=Strict"]
        if let maxAge { parts.append("Max-Age=\(Int(maxAge))") }
        if secureCookies { parts.append("Secure") }
        return parts.joined(separator: "; ")
    }

    func clearedCookie(_ name: String) -> String { cookie(name, "", maxAge: 0) }

    // MARK: Sessions

    /// A signed-in page's caller, session and the refreshed cookie that extends it.
    struct SignedIn {
        let caller: Caller
        let session: ConsoleSessions.Session
        let cookie: String
        let csrf: String

        /// The signed-in user as the initiator of a use-case, audited like an API request.
        func initiator(_ request: Request, _ context: GraphContext) -> Initiator {
            Initiator(caller: caller, audit: context.audit(request, caller: caller), logger: context.logger)
        }
    }

    /// The signed-in user behind the request, or nil (expired, forged or no cookie, or a user
    /// who was deleted or disabled since).
    func signedIn(_ request: Request) async throws -> SignedIn? {
        guard let session = sessions.session(fromCookie: request.cookies[ConsoleSessions.cookie]?.value) else { return nil }
        let caller: Caller
        do {
            caller = try await services.caller(principalId: session.principalId, isApp: false)
        } catch let error as GraphError where error.status == 401 {
            return nil
        }
        let refreshed = ConsoleSessions.Session(
            principalId: session.principalId, issued: session.issued, lastSeen: Int64(Date().timeIntervalSince1970),
            nonce: session.nonce)
        return SignedIn(
            caller: caller, session: refreshed,
            cookie: cookie(ConsoleSessions.cookie, sessions.cookieValue(refreshed), maxAge: ConsoleSessions.idleLifetime),
            csrf: sessions.csrfToken(session.nonce))
    }

    func requireSignedIn(_ request: Request) async throws -> SignedIn {
        guard let signedIn = try await signedIn(request) else { throw ConsoleRedirect(location: "/console/sign-in") }
        return signedIn
    }

    func layout(_ signedIn: SignedIn, nav: String) -> [String: Any] {
        [
            // The caller resolution read the user already: its names come with it.
            "signedIn": true, "csrf": signedIn.csrf, "userName": signedIn.caller.displayName ?? signedIn.caller.signInName ?? "",
            nav: true, "canReadAudit": AccessPolicy.allows(signedIn.caller, .readAuditLogs),
            "canInspectSubscriptions": SubscriptionService.mayInspectAll(signedIn.caller),
            "canReadConditionalAccess": AccessPolicy.allows(signedIn.caller, .readConditionalAccess),
            "canReadAccessRules": AccessPolicy.allows(signedIn.caller, .readAccessRules),
            "canReadProvisioningMapping": AccessPolicy.allows(signedIn.caller, .readProvisioningMapping),
        ]
    }

    /// A posted form's fields in order, repeated names kept (multi-value editors, checkboxes);
    /// at most 64 KiB.
    func form(_ request: Request) async throws -> FormFields {
        let buffer = try await request.body.collect(upTo: Self.formBodyBytes)
        let fields = formFields(String(buffer: buffer))
        // PostgreSQL cannot store U+0000, and no name or value needs it.
        if let field = fields.first(where: { $0.name.utf8.contains(0) || $0.value.utf8.contains(0) }) {
            throw GraphError.nulCharacter("The form field '\(field.name.replacingOccurrences(of: "\u{0}", with: ""))'")
        }
        return FormFields(fields: fields)
    }

    /// The query string's parameters by name, the first of each.
    static func query(_ request: Request) -> [String: String] {
        Dictionary(request.queryItems.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// This page's address continuing after `cursor`, every other parameter kept.
    static func nextPage(_ request: Request, path: String, after cursor: Int64) -> String {
        let kept = request.queryItems.filter { $0.name != "after" } + [("after", String(cursor))]
        return "\(path)?"
            + kept.map { "\($0.name)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            .joined(separator: "&")
    }

    // MARK: Pages

    @Sendable func home(_ request: Request, context: GraphContext) async throws -> Response {
        try await signedIn(request) == nil ? Self.redirect("/console/sign-in") : Self.redirect("/console/users")
    }

    @Sendable func stylesheet(_ request: Request, context: GraphContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=300"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: Templates.stylesheet)))
    }

    @Sendable func script(_ request: Request, context: GraphContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=300"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: Templates.script)))
    }

    @Sendable func signInPage(_ request: Request, context: GraphContext) async throws -> Response {
        if try await signedIn(request) != nil { return Self.redirect("/console/users") }
        return signInForm(message: nil, userPrincipalName: "", status: .ok)
    }

    /// The form with a fresh anti-forgery pair: a nonce cookie and the token derived from it.
    func signInForm(message: String?, userPrincipalName: String, status: HTTPResponse.Status) -> Response {
        let nonce = ConsoleSessions.newNonce()
        var values: [String: Any] = ["csrf": sessions.csrfToken(nonce), "userPrincipalName": userPrincipalName]
        if let message { values["message"] = message }
        return page(
            "sign-in", values, status: status, cookies: [cookie(ConsoleSessions.signInCookie, nonce, maxAge: 3600)])
    }

    static let wrongCredentials = "The user principal name or password is not correct."

    @Sendable func signIn(_ request: Request, context: GraphContext) async throws -> Response {
        let fields = try await form(request)
        let name = (fields.first("userPrincipalName") ?? "").trimmingCharacters(in: .whitespaces)
        guard let nonce = request.cookies[ConsoleSessions.signInCookie]?.value, sessions.checkCSRF(fields.first("_csrf"), nonce: nonce)
        else {
            return signInForm(
                message: "The sign-in form expired. Please sign in again.", userPrincipalName: name, status: .forbidden)
        }
        let check = try await services.checkPassword(
            userPrincipalName: name, password: fields.first("password") ?? "", address: context.clientAddress)
        let user: DirectoryObject
        switch check {
        case .valid(let found): user = found
        case .locked:
            return signInForm(
                message: "Too many failed sign-ins. Wait 15 minutes and try again.", userPrincipalName: name,
                status: .tooManyRequests)
        case .disabled: return signInForm(message: "This account is disabled.", userPrincipalName: name, status: .unauthorized)
        case .invalid: return signInForm(message: Self.wrongCredentials, userPrincipalName: name, status: .unauthorized)
        }
        let now = Int64(Date().timeIntervalSince1970)
        let session = ConsoleSessions.Session(
            principalId: user.id, issued: now, lastSeen: now, nonce: ConsoleSessions.newNonce())
        return Self.redirect(
            "/console/users",
            cookies: [
                cookie(ConsoleSessions.cookie, sessions.cookieValue(session), maxAge: ConsoleSessions.idleLifetime),
                clearedCookie(ConsoleSessions.signInCookie),
            ])
    }

    @Sendable func signOut(_ request: Request, context: GraphContext) async throws -> Response {
        let fields = try await form(request)
        if let session = sessions.session(fromCookie: request.cookies[ConsoleSessions.cookie]?.value) {
            guard sessions.checkCSRF(fields.first("_csrf"), nonce: session.nonce) else { throw ConsoleProblem.forgedForm }
        }
        return Self.redirect("/console/sign-in", cookies: [clearedCookie(ConsoleSessions.cookie)])
    }
}

/// Sends the browser elsewhere (to sign in, usually) from anywhere in a handler.
struct ConsoleRedirect: Error {
    let location: String
}

enum ConsoleProblem: Error {
    case forgedForm
}

/// Security headers on every console response, and errors as pages rather than JSON.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = GraphContext
    let controller: ConsoleController

    func handle(_ request: Request, context: GraphContext, next: (Request, GraphContext) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do {
            // The API names the query option; a console address is refused as a whole.
            if request.uri.description.contains("%00") { throw GraphError.nulCharacter("The address") }
            response = try await next(request, context)
        } catch let redirect as ConsoleRedirect {
            response = ConsoleController.redirect(redirect.location)
        } catch ConsoleProblem.forgedForm {
            response = problem(
                .forbidden, "The form could not be accepted",
                "It was not sent from this console page, or the page is too old. Go back, reload the page and try again.")
        } catch let error as GraphError {
            response =
                switch error.status {
                // The service's own words: the one place that decided says why.
                case 403: problem(.forbidden, "You don't have access", error.message)
                case 404: problem(.notFound, "Not found", error.message)
                default: problem(HTTPResponse.Status(code: error.status), "Something is not right", error.message)
                }
        } catch let error as HTTPError where error.status == .notFound {
            response = problem(.notFound, "Not found", "There is no console page at this address.")
        } catch is NIOTooManyBytesError {
            response = problem(.contentTooLarge, "Too much data", "The form is larger than the console accepts.")
        }
        response.headers[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        // Served over https (directly or behind an https public URL): browsers keep to https.
        if controller.secureCookies { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }

    func problem(_ status: HTTPResponse.Status, _ heading: String, _ message: String) -> Response {
        controller.page("problem", ["heading": heading, "message": message], status: status)
    }
}

extension HTTPField.Name {
    // Literal, valid header names: the force unwraps cannot fail.
    // swift-format-ignore: NeverForceUnwrap
    static let xFrameOptions = Self("X-Frame-Options")!
    // swift-format-ignore: NeverForceUnwrap
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    // swift-format-ignore: NeverForceUnwrap
    static let referrerPolicy = Self("Referrer-Policy")!
    // swift-format-ignore: NeverForceUnwrap
    static let strictTransportSecurity = Self("Strict-Transport-Security")!
}
