import ArgumentParser
import Foundation
import Logging
import SigilService

/// `sigil demo credentials`: a new secret for the demo attribute manager, whose first secret is
/// printed only by the start that loads the demo.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Work with the demo data of `sigil serve --demo`.", subcommands: [Credentials.self])

    struct Credentials: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new client secret to the demo attribute manager application and print it.",
            discussion: """
                Works on the database directly, like `sigil keys`, while a server runs or not. Earlier secrets keep \
                working; remove them through the Graph API (removePassword) if they leaked.
                """)

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await reportingFailure {
                let store = try await database.openStore(logger: Logger(label: "sigil"), mustExist: true)
                guard let credentials = try await DemoData.newCredentials(store: store, hasher: CredentialHasher()),
                    let secret = credentials.clientSecret
                else {
                    throw ValidationError("\(database) has no demo data; start it once with sigil serve --demo.")
                }
                let tenant = try await DemoData.tenantId(store: store) ?? "?"
                print(
                    """
                    Demo attribute manager (Attribute Definition/Assignment/Log Administrator), new secret:
                      tenant id:     \(tenant)
                      client id:     \(credentials.clientId)
                      client secret: \(secret)
                    """)
            }
        }
    }
}
