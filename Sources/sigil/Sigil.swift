import ArgumentParser
import Foundation
import SigilClient

@main
struct Sigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sigil",
        abstract: "Microsoft Entra custom security attributes behind a Microsoft Graph–compatible API.",
        version: SigilVersion.current,
        subcommands: [
            Serve.self, Login.self, Logout.self, WhoAmI.self, AttributeSetCommand.self, AttributeCommand.self,
            AllowedValueCommand.self, UserCommand.self, UsersCommand.self, AppCommand.self,
            AppsCommand.self, ImportCommand.self, ExportCommand.self, ApplyCommand.self, AuditCommand.self, KeysCommand.self,
            DevCert.self, DemoCommand.self, WatchCommand.self, AccessCommand.self, ConditionalAccessCommand.self,
            ProvisioningCommand.self,
        ])

    /// ArgumentParser's own `main`, except that a wrong command line (a parsing error, an unknown
    /// option, a failed validation) ends with status 2 as documented, not 64.
    static func main() async {
        do {
            var command = try await asyncParseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            exitProcess(usageStatus)
        }
    }
}

/// The status of a wrong command line, here and in `runClient`.
let usageStatus: Int32 = 2

private func exitProcess(_ status: Int32) -> Never { exit(status) }
