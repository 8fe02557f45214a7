import ArgumentParser

@main
struct Sigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sigil",
        abstract: "Microsoft Entra custom security attributes behind a Microsoft Graph–compatible API.",
        subcommands: [
            Serve.self, Login.self, Logout.self, WhoAmI.self, AttributeSetCommand.self, AttributeCommand.self,
            AllowedValueCommand.self, UserCommand.self, UsersCommand.self, AppCommand.self,
            AppsCommand.self, ImportCommand.self, ExportCommand.self, ApplyCommand.self, AuditCommand.self, KeysCommand.self,
            DevCert.self, DemoCommand.self,
        ])
}
