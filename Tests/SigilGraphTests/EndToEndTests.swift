import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs the real `sigil` executable as a child process and talks to it over HTTP: bootstrap
/// token, an application with its own secret and role, an attribute set, then a graceful restart
/// on the same data directory that must keep all of it.
@Suite struct EndToEndTests {
    static let bootstrapClientId = "5f0c2e7a-9b1d-4c3e-8a6f-2d4b7e9c1a35"
    /// Holds characters that must be percent-encoded in a form body (`+`, `/`, `=`, `&`, `~`).
    static let bootstrapSecret = "e2e8Q~Boot+secret/with=special&chars_0123456789"
    static let attributeDefinitionAdministrator = "8424c6f0-a189-499e-bbd0-26c1753c96d4"

    @Test func stateSurvivesGracefulRestart() async throws {
        let sigil = try #require(
            E2EServer.locateExecutable(),
            """
            The sigil executable was not found in the build products directory of this test bundle \
            (looked next to \(CommandLine.arguments.first ?? "?") and in .build/debug above \(#filePath)). \
            Build it with `swift build --build-tests`.
            """)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sigil-e2e-\(UUID().uuidString)")
        let dataDir = root.appendingPathComponent("data")
        // Owner only: sigil refuses a data directory other users can read.
        try FileManager.default.createDirectory(
            at: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // In scripts/test's PostgreSQL pass both runs share a fresh schema of the test cluster.
        let databaseURL = ProcessInfo.processInfo.environment["SIGIL_TEST_DATABASE_URL"].flatMap { url in
            url.isEmpty
                ? nil : url + (url.contains("?") ? "&" : "?") + "schema=e2e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        }
        let servers = E2EServerList(databaseURL: databaseURL)
        let session = URLSession(configuration: .ephemeral)
        defer {
            servers.killAll()
            session.invalidateAndCancel()
            try? FileManager.default.removeItem(at: root)
        }

        // First run: a fresh tenant.
        let first = try await servers.start(sigil, dataDir: dataDir)
        let graph = E2EHTTP(session: session, port: first.port)
        let boot = try await graph.token(
            tenant: first.tenantId, clientId: Self.bootstrapClientId, secret: Self.bootstrapSecret)
        #expect(boot.status == 200, "bootstrap token: \(boot.text)")
        #expect(boot.string("token_type") == "Bearer", "bootstrap token: \(boot.text)")
        #expect(boot.int("expires_in") == 3599, "bootstrap token: \(boot.text)")
        let bootToken = try #require(boot.string("access_token"), "bootstrap token: \(boot.text)")

        let application = try await graph.send("POST", "/v1.0/applications", token: bootToken, ["displayName": "E2E"])
        #expect(application.status == 201, "create application: \(application.text)")
        let applicationId = try #require(application.string("id"), "create application: \(application.text)")
        let appId = try #require(application.string("appId"), "create application: \(application.text)")

        let password = try await graph.send(
            "POST", "/v1.0/applications/\(applicationId)/addPassword", token: bootToken, [:])
        #expect(password.status == 200, "addPassword: \(password.text)")
        let secret = try #require(password.string("secretText"), "addPassword: \(password.text)")

        let principal = try await graph.send("POST", "/v1.0/servicePrincipals", token: bootToken, ["appId": appId])
        #expect(principal.status == 201, "create service principal: \(principal.text)")
        let principalId = try #require(principal.string("id"), "create service principal: \(principal.text)")

        let grant = try await graph.send(
            "POST", "/v1.0/roleManagement/directory/roleAssignments", token: bootToken,
            [
                "principalId": principalId, "roleDefinitionId": Self.attributeDefinitionAdministrator,
                "directoryScopeId": "/",
            ])
        #expect(grant.status == 201, "role assignment: \(grant.text)")

        let appReply = try await graph.token(tenant: first.tenantId, clientId: appId, secret: secret)
        #expect(appReply.status == 200, "E2E app token: \(appReply.text)")
        let appToken = try #require(appReply.string("access_token"), "E2E app token: \(appReply.text)")

        let set = try await graph.send(
            "POST", "/v1.0/directory/attributeSets", token: appToken,
            ["id": "Engineering", "description": "Attributes for engineering team", "maxAttributesPerSet": 25])
        #expect(set.status == 201, "create attribute set: \(set.text)")
        #expect(set.string("id") == "Engineering", "create attribute set: \(set.text)")

        let firstExit = try await first.stop()
        #expect(
            firstExit.reason == .exit && firstExit.status == 0,
            "first run ended with \(firstExit) after SIGTERM; stderr:\n\(first.stderrText)")

        // Second run on the same data directory: same tenant, same secrets, same schema.
        let second = try await servers.start(sigil, dataDir: dataDir)
        #expect(second.tenantId == first.tenantId)
        let graphAgain = E2EHTTP(session: session, port: second.port)
        let again = try await graphAgain.token(tenant: second.tenantId, clientId: appId, secret: secret)
        #expect(again.status == 200, "E2E app token after restart: \(again.text)")
        #expect(again.string("token_type") == "Bearer", "E2E app token after restart: \(again.text)")
        let tokenAgain = try #require(again.string("access_token"), "E2E app token after restart: \(again.text)")

        let read = try await graphAgain.send("GET", "/v1.0/directory/attributeSets/Engineering", token: tokenAgain)
        #expect(read.status == 200, "read attribute set after restart: \(read.text)")
        #expect(read.string("id") == "Engineering", "read attribute set after restart: \(read.text)")
        #expect(read.string("description") == "Attributes for engineering team", "after restart: \(read.text)")
        #expect(read.int("maxAttributesPerSet") == 25, "read attribute set after restart: \(read.text)")

        let secondExit = try await second.stop()
        #expect(
            secondExit.reason == .exit && secondExit.status == 0,
            "second run ended with \(secondExit) after SIGTERM; stderr:\n\(second.stderrText)")
    }
}

/// A failure of the end-to-end harness itself (server did not start, did not stop, ...).
struct E2EFailure: Error, CustomStringConvertible {
    let description: String
}

/// Everything a child process writes to one pipe, collected by a background thread.
final class E2EOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    init(_ handle: FileHandle) {
        // Plain read(2): FileHandle.read(upToCount:) on Linux waits for the full count or end-of-file.
        let descriptor = handle.fileDescriptor
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                lock.lock()
                data.append(contentsOf: buffer[0..<count])
                lock.unlock()
            }
            _ = handle  // keeps the descriptor open until end-of-file
        }
        thread.start()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}

/// One running `sigil serve`.
final class E2EServer {
    let process: Process
    let stdout: E2EOutput
    let stderr: E2EOutput
    private(set) var port = 0
    private(set) var tenantId = ""

    static let listeningPrefix = "Sigil is listening on http://127.0.0.1:"
    static let tenantPrefix = "  Tenant id:  "

    /// The `sigil` executable in the same build products directory as this test binary.
    static func locateExecutable() -> URL? {
        var directories: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        if let argument = CommandLine.arguments.first, argument.contains("/") {
            directories.append(URL(fileURLWithPath: argument).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        for bundle in [Bundle.main] + Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        directories.append(Bundle.main.bundleURL)
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" && !directory.path.isEmpty {
            directories.append(directory.appendingPathComponent(".build/debug"))
            directory = directory.deletingLastPathComponent()
        }
        for candidate in directories.map({ $0.appendingPathComponent("sigil") }) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                FileManager.default.isExecutableFile(atPath: candidate.path)
            {
                return candidate
            }
        }
        return nil
    }

    init(executable: URL, dataDir: URL, databaseURL: String?) throws {
        process = Process()
        process.executableURL = executable
        process.arguments =
            [
                "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir.path, "--password-hash-rounds", "1000",
            ] + (databaseURL.map { ["--database-url", $0] } ?? [])
        var environment = ProcessInfo.processInfo.environment
        environment["CSA_TENANT_ID"] = nil
        environment["CSA_BOOTSTRAP_CLIENT_ID"] = EndToEndTests.bootstrapClientId
        environment["CSA_BOOTSTRAP_CLIENT_SECRET"] = EndToEndTests.bootstrapSecret
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Our copies of the write ends must go, so the readers see end-of-file when the server exits.
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        stdout = E2EOutput(out.fileHandleForReading)
        stderr = E2EOutput(err.fileHandleForReading)
    }

    var stderrText: String { stderr.text }

    /// Waits (up to 30 s) for the banner and reads the port and tenant id from it.
    func waitUntilListening() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = stdout.text
            // Only complete lines count.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let listening = lines.first { $0.hasPrefix(Self.listeningPrefix) }
            let tenant = lines.first { $0.hasPrefix(Self.tenantPrefix) }
            if let listening, let tenant {
                guard let port = Int(listening.dropFirst(Self.listeningPrefix.count)), port > 0 else {
                    throw E2EFailure(description: "Cannot read the port from the banner line '\(listening)'.")
                }
                self.port = port
                tenantId = String(tenant.dropFirst(Self.tenantPrefix.count)).trimmingCharacters(in: .whitespaces)
                return
            }
            if !process.isRunning {
                throw E2EFailure(
                    description: """
                        sigil exited (\(process.terminationReason), status \(process.terminationStatus)) before \
                        listening. stdout:\n\(text)\nstderr:\n\(stderr.text)
                        """)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw E2EFailure(
            description: "sigil did not print '\(Self.listeningPrefix)<port>' within 30 s. stdout:\n\(stdout.text)\n"
                + "stderr:\n\(stderr.text)")
    }

    /// Sends SIGTERM and waits (up to 15 s) for the exit; past that, SIGKILL and a failure.
    func stop() async throws -> (reason: Process.TerminationReason, status: Int32) {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(15)
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw E2EFailure(
                    description: "sigil did not exit within 15 s of SIGTERM and was killed. stderr:\n\(stderr.text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return (process.terminationReason, process.terminationStatus)
    }

    /// Last-resort clean-up: SIGKILL when still running.
    func killNow() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// The servers a test started, so clean-up can kill whichever is still running.
final class E2EServerList {
    private var servers: [E2EServer] = []
    /// PostgreSQL for every server this list starts; nil for SQLite in the data directory.
    let databaseURL: String?

    init(databaseURL: String? = nil) { self.databaseURL = databaseURL }

    func start(_ executable: URL, dataDir: URL) async throws -> E2EServer {
        let server = try E2EServer(executable: executable, dataDir: dataDir, databaseURL: databaseURL)
        servers.append(server)
        try await server.waitUntilListening()
        return server
    }

    func killAll() {
        for server in servers { server.killNow() }
    }
}

/// One HTTP reply, body kept as bytes and read as a JSON object on demand.
struct E2EReply: Sendable {
    let status: Int
    let data: Data

    var text: String { String(decoding: data, as: UTF8.self) }
    var object: [String: Any] { ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any]) ?? [:] }
    func string(_ key: String) -> String? { object[key] as? String }
    func int(_ key: String) -> Int? { object[key] as? Int }
}

/// A minimal client for a Sigil server on 127.0.0.1.
struct E2EHTTP {
    let session: URLSession
    let port: Int

    static let formAllowed = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    func url(_ path: String) throws -> URL {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else {
            throw E2EFailure(description: "Bad path \(path)")
        }
        return url
    }

    func execute(_ request: URLRequest) async throws -> E2EReply {
        var request = request
        request.timeoutInterval = 30
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else {
            throw E2EFailure(description: "No HTTP response for \(request.url?.absoluteString ?? "?")")
        }
        return E2EReply(status: http.statusCode, data: data)
    }

    /// A client-credentials token request, form-encoded as Entra expects.
    func token(tenant: String, clientId: String, secret: String) async throws -> E2EReply {
        let fields = [
            ("grant_type", "client_credentials"), ("client_id", clientId), ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ]
        let body = fields.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: Self.formAllowed) ?? value)"
        }.joined(separator: "&")
        var request = URLRequest(url: try url("/\(tenant)/oauth2/v2.0/token"))
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        return try await execute(request)
    }

    /// A Graph request with a bearer token and an optional JSON body.
    func send(_ method: String, _ path: String, token: String, _ body: [String: Any]? = nil) async throws -> E2EReply {
        var request = URLRequest(url: try url(path))
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        return try await execute(request)
    }
}
