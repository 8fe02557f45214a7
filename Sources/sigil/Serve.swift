import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SigilConsole
import SigilCore
import SigilGraph
import SigilService
import SigilStore
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Sigil server.",
        discussion: """
            Environment: SIGIL_DATABASE_URL (same as --database-url), CSA_TENANT_ID (same as --tenant-id), \
            CSA_BOOTSTRAP_CLIENT_ID and \
            CSA_BOOTSTRAP_CLIENT_SECRET (the bootstrap application's credentials, used on first start; \
            generated and printed once when unset).
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Tenant id (GUID); generated on first start when absent.") var tenantId: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Option(help: "PBKDF2-SHA256 iterations for user passwords.") var passwordHashRounds = 210_000
    @Option(help: "TLS certificate chain (PEM); with --tls-key, Sigil serves https only.") var tlsCert: String?
    @Option(help: "TLS private key (PEM).") var tlsKey: String?
    @Option(help: "Compatibility: strict (Graph's behaviour) or extended (adds gt/ge/lt/le filters on Integer attributes).")
    var compat = "strict"
    @Option(
        help: """
            The origin clients reach this server at, e.g. https://sigil.example.com when a load balancer \
            terminates TLS; links in responses use it instead of this instance's scheme and the Host header.
            """)
    var publicURL: String?
    @Option(help: "Delete audit records older than this many days (hourly); 0 keeps them forever.")
    var auditRetentionDays = 0
    @Option(help: "Log format: text (one readable line per entry) or json (one JSON object per line).")
    var logFormat = "text"
    @Flag(help: "Log one line per request (method, route, status, duration, request id) at info level.")
    var accessLog = false
    @Option(help: "Seconds a request may run before it is cancelled and answered 504.")
    var requestTimeout = 30
    @Option(help: "Seconds a connection may stay silent before it is closed.")
    var idleTimeout = 60
    @Option(
        help: """
            Requests per second each principal may make (token bucket per user or application, per instance); \
            more are answered 429 TooManyRequests with Retry-After. 0, the default, turns rate limiting off.
            """)
    var rateLimit: Double = 0
    @Option(help: "Requests a principal may make at once before --rate-limit applies (default: one second's worth).")
    var rateLimitBurst: Int?
    @Option(
        help: """
            A load balancer (address or CIDR range, repeatable) whose X-Forwarded-For names the client, for the \
            audit log's IP and the console's sign-in throttle. Other peers' X-Forwarded-For is ignored.
            """)
    var trustedProxy: [String] = []
    @Flag(
        help: """
            Load demo attribute sets, definitions and users with values (four of them holding roles, all with \
            one password) and an attribute manager application.
            """)
    var demo = false

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
        guard (1...10_000_000).contains(passwordHashRounds) else {
            throw ValidationError("--password-hash-rounds must be between 1 and 10000000.")
        }
        guard ["strict", "extended"].contains(compat) else { throw ValidationError("--compat must be strict or extended.") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together.") }
        if let publicURL {
            guard let url = URLComponents(string: publicURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                url.host?.isEmpty == false, url.path.isEmpty || url.path == "/", url.query == nil
            else { throw ValidationError("--public-url must be an origin such as https://sigil.example.com[:port], without a path.") }
        }
        guard auditRetentionDays >= 0 else { throw ValidationError("--audit-retention-days must be 0 (keep forever) or more.") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format must be text or json.") }
        guard (1...3600).contains(requestTimeout) else { throw ValidationError("--request-timeout must be 1 to 3600 seconds.") }
        guard (1...86_400).contains(idleTimeout) else { throw ValidationError("--idle-timeout must be 1 to 86400 seconds.") }
        guard rateLimit >= 0, rateLimit.isFinite else { throw ValidationError("--rate-limit must be 0 (off) or more.") }
        if let rateLimitBurst, rateLimitBurst < 1 { throw ValidationError("--rate-limit-burst must be 1 or more.") }
        for proxy in trustedProxy where IPRange(proxy) == nil {
            throw ValidationError("--trusted-proxy '\(proxy)' is not an IP address or CIDR range (10.0.0.0/8, fd00::/8).")
        }
    }

    var serverOptions: ServerOptions {
        ServerOptions(
            requestTimeout: .seconds(requestTimeout),
            rateLimit: rateLimit > 0 ? RateLimit(requestsPerSecond: rateLimit, burst: rateLimitBurst) : nil,
            idleTimeout: .seconds(idleTimeout), accessLog: accessLog, trustedProxies: trustedProxy.compactMap(IPRange.init))
    }

    func run() async throws {
        // One line, not a dump: what failed while starting (or serving) and why.
        try await reportingFailure { try await serve() }
    }

    func serve() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: json ? .json : .text)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "sigil")
        let environment = ProcessInfo.processInfo.environment
        let dataDir = database.dataDir
        // Creates the data directory (0700) and refuses one other users can read.
        // Timed, so /metrics shows store latency by operation.
        let store = MeasuredStore(try await database.openStore(logger: logger))
        let hasher = CredentialHasher(passwordRounds: passwordHashRounds)
        let (tenantId, scheme, compat, demo, publicURL) = (tenantId, tlsCert == nil ? "http" : "https", compat, demo, publicURL)
        // Instances starting together on one database bootstrap (and load the demo) once.
        let (start, demoCredentials) = try await store.exclusively {
            let start = try await TenantBootstrap.start(
                store: store, tenantId: tenantId ?? environment["CSA_TENANT_ID"],
                bootstrapClientId: environment["CSA_BOOTSTRAP_CLIENT_ID"],
                bootstrapSecret: environment["CSA_BOOTSTRAP_CLIENT_SECRET"], hasher: hasher, scheme: scheme,
                allowsRangeFilters: compat == "extended", publicURL: publicURL)
            return (start, demo ? try await DemoData.load(services: start.services) : nil)
        }
        let services = start.services
        let credentialsFile = (dataDir as NSString).appendingPathComponent("bootstrap-credentials.json")
        if let secret = start.generatedSecret {
            try writeCredentials(
                clientId: start.bootstrapClientId, secret: secret, tenantId: services.tenantId, to: credentialsFile)
        }

        let tls = try tlsCert.flatMap { cert in try tlsKey.map { try TLSCredentials(certificatePath: cert, keyPath: $0) } }
        let console = try await ConsoleController.make(services: services)
        let app = try buildApplication(
            services: services, host: host, port: port, logger: logger, tls: tls, options: serverOptions,
            extensions: { console.register(on: $0) },
            onListening: { boundPort in
                printBanner(start: start, port: boundPort, credentialsFile: credentialsFile, demo: demoCredentials)
            })
        let retention = auditRetentionDays > 0 ? Task { await pruneAuditLog(store, days: auditRetentionDays, logger: logger) } : nil
        let reloading = Task { await reloadOnHangUp(tls, tokens: services.tokens, logger: logger) }
        // Change notifications: every instance delivers, sharing the work through leases.
        let notifications = Task { await NotificationDispatcher(services: services, logger: logger).run() }
        // Filter structures not kept by the last start (after a bulk load or a crash) are built
        // now, instead of by each broad term's first query.
        let preparing = Task(priority: .utility) {
            do {
                try await store.prepareFilterStructures()
            } catch is CancellationError {
            } catch {
                logger.warning("could not build the filter structures ahead of queries", metadata: ["error": "\(error)"])
            }
        }
        defer {
            retention?.cancel()
            reloading.cancel()
            notifications.cancel()
            preparing.cancel()
        }
        try await app.runService()
        // Stopped gracefully: the next start reads the filter structures instead of building them.
        do {
            try await store.keepFilterStructures()
        } catch {
            logger.warning("could not keep the filter structures for the next start", metadata: ["error": "\(error)"])
        }
    }

    /// Keeps the audit log to `days` days: at start, then every hour. Pruning leaves an anchor,
    /// so what remains still verifies.
    func pruneAuditLog(_ store: any DirectoryStore, days: Int, logger: Logger) async {
        while !Task.isCancelled {
            let cutoff = AuditRecord.timestamp(Date().addingTimeInterval(-Double(days) * 86_400))
            do {
                let pruned = try await store.pruneAudit(before: cutoff)
                if pruned > 0 { logger.info("pruned audit records", metadata: ["count": "\(pruned)", "before": "\(cutoff)"]) }
            } catch {
                logger.error("could not prune the audit log", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(3600))
        }
    }

    /// On each SIGHUP reads the token signing keys at once (after `sigil keys rotate`) and the TLS
    /// certificate and key (after a renewal): new connections get the new pair, open ones keep
    /// theirs. A pair that does not load leaves the old one serving.
    func reloadOnHangUp(_ tls: TLSCredentials?, tokens: TokenService, logger: Logger) async {
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            do {
                try await tokens.reload()
                logger.notice("reloaded the token signing keys")
            } catch {
                logger.error("could not reload the token signing keys", metadata: ["error": "\(error)"])
            }
            guard let tls else { continue }
            do {
                try tls.reload()
                logger.notice("reloaded the TLS certificate", metadata: ["certificate": "\(tls.certificatePath)"])
            } catch {
                logger.error(
                    "could not reload the TLS certificate; still serving the previous one",
                    metadata: ["certificate": "\(tls.certificatePath)", "error": "\(error)"])
            }
        }
    }

    func writeCredentials(clientId: String, secret: String, tenantId: String, to path: String) throws {
        let body: JSONValue = [
            "tenantId": .string(tenantId), "clientId": .string(clientId), "clientSecret": .string(secret),
        ]
        FileManager.default.createFile(
            atPath: path, contents: Data(body.serialized()), attributes: [.posixPermissions: 0o600])
    }

    func printBanner(start: TenantBootstrap.Result, port: Int, credentialsFile: String, demo: DemoData.Credentials?) {
        let base = "\(tlsCert == nil ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        let tenant = start.services.tenantId
        // curl trusts only the system's authorities; a self-signed certificate has to be named.
        let trust = tlsCert.map { "--cacert \(shellWord(URL(fileURLWithPath: $0).standardizedFileURL.path)) " } ?? ""
        var lines = [
            "Sigil is listening on \(base)",
            "  Graph API:  \(base)/v1.0 and \(base)/beta",
            "  Console:    \(base)/console",
            "  Tenant id:  \(tenant)",
            "  Token URL:  \(base)/\(tenant)/oauth2/v2.0/token",
        ]
        if let publicURL { lines.append("  Public URL: \(publicURL) (used in links)") }
        lines.append("  Database:   \(database.description)")
        if let secret = start.generatedSecret {
            lines += [
                "",
                "Bootstrap application (Global Administrator + Privileged Role Administrator), shown once:",
                "  client id:     \(start.bootstrapClientId)",
                "  client secret: \(secret)",
                "  (also saved, readable only by you, in \(credentialsFile))",
                "",
                "Get a token:",
                "  curl -s \(trust)\(base)/\(tenant)/oauth2/v2.0/token -d grant_type=client_credentials \\",
                "    -d client_id=\(start.bootstrapClientId) --data-urlencode 'client_secret=\(secret)' \\",
                "    --data-urlencode scope=https://graph.microsoft.com/.default",
            ]
        } else {
            lines += [
                "  Bootstrap client id: \(start.bootstrapClientId) ("
                    + (FileManager.default.fileExists(atPath: credentialsFile)
                        ? "secret in \(credentialsFile) or your CSA_BOOTSTRAP_CLIENT_SECRET)"
                        : "secret shown when the tenant was created, or your CSA_BOOTSTRAP_CLIENT_SECRET)")
            ]
        }
        if let demo {
            lines += [
                "", "Demo data loaded: sets Engineering and Marketing, users \(DemoData.userNames.joined(separator: ", ")).",
            ]
            let recover = "sigil demo credentials " + database.arguments
            if let secret = demo.clientSecret {
                lines += [
                    "Demo attribute manager (Attribute Definition/Assignment/Log Administrator), shown once:",
                    "  client id:     \(demo.clientId)",
                    "  client secret: \(secret)",
                    "  (a new secret at any time: \(recover))",
                ]
            } else {
                lines += ["Demo attribute manager client id: \(demo.clientId) (a new secret: \(recover))."]
            }
            let width = DemoData.userRoles.map(\.userPrincipalName.count).max() ?? 0
            let roleless = DemoData.userNames.filter { name in !DemoData.userRoles.contains { $0.name == name } }
            lines += ["Console sign-ins (\(base)/console):"]
            lines += DemoData.userRoles.map { "  \($0.userPrincipalName.padding(toLength: width, withPad: " ", startingAt: 0))  \($0)" }
            lines += [
                "  " + roleless.map { "\($0.lowercased())@\(TenantBootstrap.defaultDomain)" }.joined(separator: ", ") + ": no roles",
                "Demo users sign in as <name>@\(TenantBootstrap.defaultDomain) with password \(DemoData.userPassword)",
            ]
        }
        // Written unbuffered so a supervising process (or a test) sees it at once.
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
