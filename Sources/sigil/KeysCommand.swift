import ArgumentParser
import Foundation
import Logging
import SigilCore
import SigilService
import SigilStore

/// `sigil keys rotate` and `sigil keys list`: the token signing keys, changed on the database
/// while servers run. Servers read the change within 30 seconds; tokens signed by the previous
/// key stay valid until they expire.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Rotate or list the access token signing keys.", subcommands: [Rotate.self, List.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start signing tokens with a new key.",
            discussion: """
                The previous key keeps verifying the tokens it signed until they expire (an hour), then \
                leaves the key set. Running servers on the same database switch within 30 seconds.
                """)

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailure {
                let store = try await database.openStore(logger: Logger(label: "sigil"), mustExist: true)
                let ring = try await TokenService.rotate(store: store)
                print("New signing key \(ring.signing?.kid ?? "?") (\(database)).")
                print(KeysCommand.describe(ring))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the signing key and retired keys still verifying.",
            discussion: """
                --output json prints the keys, newest first: [{"kid", "status": "signing" or "retired", "created", \
                "retired", "verifiesUntil"}], times in ISO 8601, null where they do not apply.
                """)

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reportingFailure {
                let store = try await database.openStore(logger: Logger(label: "sigil"), mustExist: true)
                let ring = try await TokenService.ring(store: store)
                if output.isJSON { return output.print(json: KeysCommand.json(ring)) }
                guard let ring else {
                    print("No signing keys yet: the server creates one on its first start.")
                    return
                }
                print(KeysCommand.describe(ring))
            }
        }
    }

    /// The keys as `keys list --output json` prints them; an empty list before the first start.
    static func json(_ ring: SigningKeyRing?) -> JSONValue {
        func time(_ seconds: Double?) -> JSONValue { JSONValue(seconds.map { Date(timeIntervalSince1970: $0).formatted(.iso8601) }) }
        let keys = (ring?.keys ?? []).reversed().map { key -> JSONValue in
            .object(
                JSONObject([
                    ("kid", .string(key.kid)), ("status", key.retired == nil ? "signing" : "retired"), ("created", time(key.created)),
                    ("retired", time(key.retired)),
                    ("verifiesUntil", time(key.retired.map { $0 + Double(SigningKeyRing.verifyingAfterRetirement) })),
                ]))
        }
        return .array(keys)
    }

    static func describe(_ ring: SigningKeyRing) -> String {
        ring.keys.reversed().map { key in
            let created = Date(timeIntervalSince1970: key.created).formatted(.iso8601)
            guard let retired = key.retired else { return "  \(key.kid)  signing   since \(created)" }
            let until = Date(timeIntervalSince1970: retired + Double(SigningKeyRing.verifyingAfterRetirement)).formatted(.iso8601)
            return "  \(key.kid)  retired   verifies tokens until \(until)"
        }.joined(separator: "\n")
    }
}
