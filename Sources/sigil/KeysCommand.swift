import ArgumentParser
import Foundation
import Logging
import SigilGraph
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
        static let configuration = CommandConfiguration(abstract: "Show the signing key and retired keys still verifying.")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailure {
                let store = try await database.openStore(logger: Logger(label: "sigil"), mustExist: true)
                guard let ring = try await TokenService.ring(store: store) else {
                    print("No signing keys yet: the server creates one on its first start.")
                    return
                }
                print(KeysCommand.describe(ring))
            }
        }
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
