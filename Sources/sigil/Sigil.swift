import ArgumentParser

@main
struct Sigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sigil",
        abstract: "Microsoft Entra custom security attributes behind a Microsoft Graph–compatible API.",
        subcommands: [Serve.self, AuditCommand.self, DevCert.self])
}
