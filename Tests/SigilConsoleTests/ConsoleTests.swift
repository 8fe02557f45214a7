import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilConsole
@testable import SigilGraph
@testable import SigilService

/// The web console's routes in-process: sign-in with its anti-forgery token, the session cookie,
/// throttled guessing, sign-out, and the users list with search and paging.
@Suite struct ConsoleTests {
    @Test func signInSessionAndSignOut() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Chandra", grants: [.tenant(.attributeAssignmentReader)])
        try await withConsole(tenant) { browser in
            let form = try await browser.request(.get, "/console/sign-in")
            #expect(form.status == .ok)
            #expect(form.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(form.headers[.cacheControl] == "no-store")
            #expect(form.headers[HTTPField.Name("Strict-Transport-Security")!] == nil)
            #expect(form.html.contains(#"<label for="upn">User principal name</label>"#))
            #expect(browser.lastSetCookies.first?.contains("HttpOnly; SameSite=Strict") == true)

            let signedIn = try await browser.request(
                .post, "/console/sign-in",
                form: [("_csrf", form.csrf ?? ""), ("userPrincipalName", "CHANDRA@sigil.test"), ("password", "Password-123!")])
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/console/users")
            let session = browser.lastSetCookies.first { $0.hasPrefix("sigil_session=") } ?? ""
            #expect(session.contains("Path=/console; HttpOnly; SameSite=Strict; Max-Age=1800"))
            #expect(!session.contains("Secure"), "plain http: a Secure cookie would never come back")

            let users = try await browser.request(.get, "/console/users")
            #expect(users.status == .ok)
            #expect(users.html.contains("<td>chandra@sigil.test</td>"))
            #expect(users.html.contains(#"<span class="who">Chandra</span>"#))
            #expect(try await browser.request(.get, "/console").headers[.location] == "/console/users")

            // Sign-out needs the session's token; without it nothing happens.
            let forged = try await browser.request(.post, "/console/sign-out", form: [("_csrf", "forged")])
            #expect(forged.status == .forbidden)
            #expect(try await browser.request(.get, "/console/users").status == .ok)
            let out = try await browser.request(.post, "/console/sign-out", form: [("_csrf", users.csrf ?? "")])
            #expect(out.status == .seeOther)
            #expect(browser.cookies["sigil_session"] == nil)
            let after = try await browser.request(.get, "/console/users")
            #expect(after.status == .seeOther)
            #expect(after.headers[.location] == "/console/sign-in")
        }
    }

    @Test func wrongPasswordsGetOnePlainMessageAndAreThrottled() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Dana")
        try await withConsole(tenant) { browser in
            let wrong = try await browser.signIn("dana@sigil.test", "not-the-password")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.html.contains("The user principal name or password is not correct."))
            let unknown = try await browser.signIn("nobody@sigil.test", "not-the-password")
            #expect(unknown.status == .unauthorized)
            #expect(unknown.html.contains("The user principal name or password is not correct."))
            #expect(unknown.html.contains(#"value="nobody@sigil.test""#), "the name is kept, the password is not")
            for _ in 0..<4 { _ = try await browser.signIn("dana@sigil.test", "guess") }
            // Locked for this user name, even with the right password now.
            let locked = try await browser.signIn("dana@sigil.test")
            #expect(locked.status == .tooManyRequests)
            #expect(locked.html.contains("Too many failed sign-ins"))
            #expect(browser.cookies["sigil_session"] == nil)
        }
    }

    @Test func formsWithoutTheirTokenAreRefused() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Eve")
        try await withConsole(tenant) { browser in
            // No sign-in page first: no nonce cookie, so no valid token.
            let direct = try await browser.request(
                .post, "/console/sign-in",
                form: [("_csrf", "x"), ("userPrincipalName", "eve@sigil.test"), ("password", "Password-123!")])
            #expect(direct.status == .forbidden)
            #expect(direct.html.contains("The sign-in form expired"))
            #expect(browser.cookies["sigil_session"] == nil)
        }
    }

    @Test func forgedAndExpiredSessionsSendToSignIn() async throws {
        let tenant = try await TestTenant.make()
        let user = try await tenant.user("Finn")
        let sessions = try await ConsoleSessions.load(store: tenant.store)
        try await withConsole(tenant) { browser in
            let now = Int64(Date().timeIntervalSince1970)
            let stale = ConsoleSessions.Session(principalId: user.id, issued: now - 600, lastSeen: now - 31 * 60, nonce: "n")
            let old = ConsoleSessions.Session(principalId: user.id, issued: now - 9 * 3600, lastSeen: now, nonce: "n")
            let fresh = ConsoleSessions.Session(principalId: user.id, issued: now, lastSeen: now, nonce: "n")
            let forged = sessions.cookieValue(fresh).replacingOccurrences(of: ".", with: ".x")
            for cookie in [sessions.cookieValue(stale), sessions.cookieValue(old), forged, "garbage"] {
                browser.cookies["sigil_session"] = cookie
                let page = try await browser.request(.get, "/console/users")
                #expect(page.status == .seeOther)
                #expect(page.headers[.location] == "/console/sign-in")
            }
            browser.cookies["sigil_session"] = sessions.cookieValue(fresh)
            #expect(try await browser.request(.get, "/console/users").status == .ok)
            // A user deleted since signing in is signed out.
            #expect(try await tenant.store.delete(.user, id: user.id))
            #expect(try await browser.request(.get, "/console/users").status == .seeOther)
        }
    }

    @Test func usersSearchPagingAndEmptyState() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Reader")
        for index in 0..<55 { _ = try await tenant.user("Bulk\(index)") }
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("reader@sigil.test").status == .seeOther)
            let first = try await browser.request(.get, "/console/users?search=bulk")
            #expect(first.html.contains("55 users found"))
            #expect(first.html.components(separatedBy: "<tr><td>").count - 1 == 50)
            let next = try #require(first.html.range(of: #"<a class="button" href=""#))
            let link = String(first.html[next.upperBound...].prefix { $0 != "\"" })
            #expect(link.contains("search=bulk"), "the next page keeps the search")
            let second = try await browser.request(.get, link.replacingOccurrences(of: "&amp;", with: "&"))
            #expect(second.html.components(separatedBy: "<tr><td>").count - 1 == 5)
            #expect(!second.html.contains("Next page"))
            let none = try await browser.request(.get, "/console/users?search=Zed")
            #expect(none.html.contains("0 users found"))
            #expect(none.html.contains("Nothing matches “Zed”."))
            // Markup in a search is shown as text, never run.
            let script = try await browser.request(.get, "/console/users?search=%3Cscript%3E")
            #expect(!script.html.contains("<script>"))
            #expect(script.html.contains("&lt;script&gt;"))
        }
    }

    @Test func guestsAreRefusedAndUnknownPagesAreHTML() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Gus", guest: true)
        try await withConsole(tenant) { browser in
            #expect(try await browser.signIn("gus@sigil.test").status == .seeOther)
            let refused = try await browser.request(.get, "/console/users")
            #expect(refused.status == .forbidden)
            #expect(refused.html.contains("You don&#39;t have access") || refused.html.contains("You don't have access"))
            let missing = try await browser.request(.get, "/console/nothing-here")
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType]?.hasPrefix("text/html") == true)
        }
    }

    /// U+0000 cannot be stored by PostgreSQL: forms and addresses holding it are refused with
    /// 400 before they reach the store (the sign-in form was a 500 there).
    @Test func nulCharactersAreRefused() async throws {
        let tenant = try await TestTenant.make()
        _ = try await tenant.user("Nadia", grants: [.tenant(.attributeAssignmentReader)])
        try await withConsole(tenant) { browser in
            let form = try await browser.request(.get, "/console/sign-in")
            let refused = try await browser.request(
                .post, "/console/sign-in",
                form: [("_csrf", form.csrf ?? ""), ("userPrincipalName", "nadia\u{0}@sigil.test"), ("password", "x\u{0}")])
            #expect(refused.status == .badRequest)
            #expect(refused.html.contains("U+0000"))
            let search = try await browser.request(.get, "/console/users?search=a%00b")
            #expect(search.status == .badRequest)
        }
    }

    @Test func cookiesAreSecureBehindHTTPS() async throws {
        let tenant = try await TestTenant.make(publicURL: "https://sigil.example.com")
        _ = try await tenant.user("Hana")
        try await withConsole(tenant) { browser in
            let page = try await browser.request(.get, "/console/sign-in")
            #expect(browser.lastSetCookies.first?.hasSuffix("; Secure") == true)
            #expect(page.headers[HTTPField.Name("Strict-Transport-Security")!] == "max-age=31536000")
        }
    }
}
