import ArgumentParser
import Foundation
import SigilClient
import SigilCore

// Commands that work through the Graph API of a running server (never the database), with the
// token `sigil login` keeps. Exit status: 0 done, 1 the server refused or could not be reached,
// 2 the command line itself was wrong.

/// Runs a client command, printing failures as one `sigil: …` line with the documented status.
func runClient(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ClientError {
        FileHandle.standardError.write(Data("sigil: \(error)\n".utf8))
        if case .usage = error { throw ExitCode(usageStatus) }
        throw ExitCode(1)
    }
}

struct OutputOptions: ParsableArguments {
    @Option(help: "table (aligned columns, the default) or json (for scripts).") var output = "table"

    func validate() throws {
        guard ["table", "json"].contains(output) else { throw ValidationError("--output must be table or json.") }
    }

    var isJSON: Bool { output == "json" }

    func print(json: JSONValue) {
        Swift.print(String(decoding: json.serialized(), as: UTF8.self))
    }
}

/// A JSON document from a file, or from standard input for `-`; a file that cannot be read or
/// is not JSON is a command-line mistake (status 2).
func readJSONFile(_ file: String) throws -> JSONValue {
    let data: Data
    if file == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        guard let read = FileManager.default.contents(atPath: file) else { throw ClientError.usage("Cannot read '\(file)'.") }
        data = read
    }
    do {
        return try JSON.parse(Array(data))
    } catch {
        throw ClientError.usage("'\(file)' is not JSON: \(error.message)")
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign in to a Sigil (or Graph-compatible) server and keep the token.",
        discussion: """
            Client credentials: sigil login --server http://127.0.0.1:8080 --client-id <appId> --client-secret <secret>
            A user: sigil login --server http://127.0.0.1:8080 --client-id <appId> --username chandra@sigil.local (password from \
            SIGIL_PASSWORD or --password)
            The token is kept in $XDG_CONFIG_HOME/sigil/credentials.json, else $HOME/.config/sigil/credentials.json (mode \
            0600); with client credentials it is renewed when it expires.
            """)

    @Option(help: "The server's base URL.") var server = "http://127.0.0.1:8080"
    @Option(help: "Tenant id, or organizations.") var tenant = "organizations"
    @Option(help: "The application (client) id.") var clientId: String
    @Option(help: "The client secret (or SIGIL_CLIENT_SECRET).") var clientSecret: String?
    @Option(help: "Sign in as this user (password grant).") var username: String?
    @Option(help: "The user's password (or SIGIL_PASSWORD).") var password: String?

    func run() async throws {
        try await runClient {
            let environment = ProcessInfo.processInfo.environment
            let secret = clientSecret ?? environment["SIGIL_CLIENT_SECRET"]
            guard username != nil || secret != nil else {
                throw ClientError.usage("Give --client-secret (or SIGIL_CLIENT_SECRET), or --username for a user.")
            }
            let credentials = try await Credentials.signIn(
                server: server, tenant: tenant, clientId: clientId, clientSecret: secret, username: username,
                password: password ?? environment["SIGIL_PASSWORD"])
            try credentials.save()
            print("Signed in to \(credentials.server) as \(username ?? "application \(clientId)").")
        }
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Forget the kept token and client secret.")

    func run() async throws {
        let file = Credentials.file()
        if FileManager.default.fileExists(atPath: file.path) { try FileManager.default.removeItem(at: file) }
        print("Signed out.")
    }
}

struct WhoAmI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show who the kept token signs in as.")
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runClient {
            let credentials = try Credentials.load()
            _ = try await credentials.client()
            let who = credentials.username ?? "application \(credentials.clientId)"
            if output.isJSON {
                output.print(json: ["server": .string(credentials.server), "signedInAs": .string(who)])
            } else {
                print("\(who) on \(credentials.server)")
            }
        }
    }
}

/// `sigil user …` and `sigil app …`: one object's custom security attributes.
struct ObjectCommands {
    let kind: DirectoryObjectKind

    var collection: String { kind == .user ? "users" : "servicePrincipals" }

    /// The object's path. A user is found by object id or user principal name (Graph takes both
    /// in the path); a service principal by object id or by its application's appId, looked up.
    func path(_ id: String, client: GraphAPIClient) async throws -> String {
        var objectId = id
        if kind == .servicePrincipal {
            let filter = "appId eq '\(id.replacingOccurrences(of: "'", with: "''"))'"
            let query = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let matches = try await client.send("GET", "/servicePrincipals?$filter=\(query)&$select=id")?.objectValue?["value"]?.arrayValue
            if let found = matches?.first?.objectValue?["id"]?.stringValue { objectId = found }
        }
        return "/\(collection)/\(objectId.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? objectId)"
    }

    func show(_ id: String, output: OutputOptions) async throws {
        let client = try await Credentials.load().client()
        let path = try await path(id, client: client)
        let select = kind == .user ? "id,displayName,userPrincipalName,customSecurityAttributes" : "id,displayName,appId,customSecurityAttributes"
        guard let object = try await client.send("GET", "\(path)?$select=\(select)")?.objectValue else { return }
        if output.isJSON { return output.print(json: .object(object)) }
        print("\(object["displayName"]?.stringValue ?? "")  \(object["userPrincipalName"]?.stringValue ?? object["appId"]?.stringValue ?? "")  \(object["id"]?.stringValue ?? "")")
        var rows: [[String]] = []
        for (set, members) in object["customSecurityAttributes"]?.objectValue ?? JSONObject() {
            for (name, value) in members.objectValue ?? JSONObject() where !name.contains("@") {
                let text: String =
                    switch value {
                    case .array(let items): items.map(Self.text).joined(separator: ", ")
                    default: Self.text(value)
                    }
                rows.append([set, name, text])
            }
        }
        print(rows.isEmpty ? "No custom security attributes you may read." : Table.render(["SET", "ATTRIBUTE", "VALUES"], rows))
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .integer(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        default: String(decoding: value.serialized(), as: UTF8.self)
        }
    }

    func change(_ id: String, _ words: [String], removing: Bool) async throws {
        let client = try await Credentials.load().client()
        let references =
            removing
            ? words
            : try words.map { word in
                guard let equals = word.firstIndex(of: "=") else { throw ClientError.usage("'\(word)' should be Set.Attribute=value") }
                return String(word[..<equals])
            }
        let catalog = try await AttributeCatalog.load(sets: try references.map { try AttributeCatalog.split($0).set }, client: client)
        let changes = try words.map { word in
            removing ? (try catalog.definition(word), [AttributeValue]()) : try catalog.assignment(word)
        }
        let path = try await path(id, client: client)
        try await client.send(
            "PATCH", path,
            body: .object(JSONObject([("customSecurityAttributes", AssignmentRules.payload(setting: changes.map { ($0.0, $0.1) }))])))
        print("\(removing ? "Removed" : "Set") \(changes.count) attribute\(changes.count == 1 ? "" : "s") on \(id).")
    }

    func list(filter: String?, odataFilter: String?, output: OutputOptions) async throws {
        let client = try await Credentials.load().client()
        var filterText = odataFilter
        if let filter { filterText = try await AttributeCatalog.filter(filter, client: client) }
        let select = kind == .user ? "id,displayName,userPrincipalName" : "id,displayName,appId"
        var path = "/\(collection)?$select=\(select)&$top=999"
        if let filterText {
            path += "&$count=true&$filter=" + (filterText.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        }
        let items = try await client.all(path, headers: ["ConsistencyLevel": "eventual"])
        if output.isJSON { return output.print(json: .array(items)) }
        let rows = items.compactMap(\.objectValue).map { object in
            [
                object["displayName"]?.stringValue ?? "",
                object["userPrincipalName"]?.stringValue ?? object["appId"]?.stringValue ?? "", object["id"]?.stringValue ?? "",
            ]
        }
        print(Table.render(["DISPLAY NAME", kind == .user ? "USER PRINCIPAL NAME" : "APP ID", "ID"], rows))
        print("\(rows.count) \(kind == .user ? "users" : "applications")")
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "One user's custom security attributes.", subcommands: [Show.self, SetValues.self, Unset.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a user's custom security attributes.")
        @Argument(help: "Object id or user principal name.") var id: String
        @OptionGroup var output: OutputOptions
        func run() async throws { try await runClient { try await ObjectCommands(kind: .user).show(id, output: output) } }
    }

    struct SetValues: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Assign values, typed by the attribute definitions.",
            discussion: """
                Example: sigil user set chandra@sigil.local Engineering.ProjectDate=2024-11-15 \
                Engineering.Project=Baker,Cascade Engineering.NumVendors=4 Engineering.Certification=true
                """)
        @Argument(help: "Object id or user principal name.") var id: String
        @Argument(help: "Set.Attribute=value; commas separate the values of multi-valued attributes.") var values: [String]
        func run() async throws { try await runClient { try await ObjectCommands(kind: .user).change(id, values, removing: false) } }
    }

    struct Unset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove attributes.", discussion: "Example: sigil user unset chandra@sigil.local Engineering.ProjectDate Engineering.Project")
        @Argument(help: "Object id or user principal name.") var id: String
        @Argument(help: "Set.Attribute to remove.") var attributes: [String]
        func run() async throws { try await runClient { try await ObjectCommands(kind: .user).change(id, attributes, removing: true) } }
    }
}

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "users", abstract: "Users.", subcommands: [ListUsers.self])

    struct ListUsers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List users, optionally filtered on a custom security attribute.",
            discussion: #"Example: sigil users list --filter "Marketing.AppCountry == Canada""#)
        @Option(help: "Set.Attribute == value, != value or starts-with prefix.") var filter: String?
        @Option(help: "A raw OData $filter, passed through.") var odataFilter: String?
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient { try await ObjectCommands(kind: .user).list(filter: filter, odataFilter: odataFilter, output: output) }
        }
    }
}

struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app", abstract: "One enterprise application's (service principal's) custom security attributes.",
        discussion: "Each subcommand takes the service principal's object id or its application's appId.",
        subcommands: [Show.self, SetValues.self, Unset.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a service principal's custom security attributes.")
        @Argument(help: "Service principal object id, or its application's appId.") var id: String
        @OptionGroup var output: OutputOptions
        func run() async throws { try await runClient { try await ObjectCommands(kind: .servicePrincipal).show(id, output: output) } }
    }

    struct SetValues: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Assign values, typed by the definitions.")
        @Argument(help: "Service principal object id, or its application's appId.") var id: String
        @Argument(help: "Set.Attribute=value; commas separate the values of multi-valued attributes.") var values: [String]
        func run() async throws {
            try await runClient { try await ObjectCommands(kind: .servicePrincipal).change(id, values, removing: false) }
        }
    }

    struct Unset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove attributes.")
        @Argument(help: "Service principal object id, or its application's appId.") var id: String
        @Argument(help: "Set.Attribute to remove.") var attributes: [String]
        func run() async throws {
            try await runClient { try await ObjectCommands(kind: .servicePrincipal).change(id, attributes, removing: true) }
        }
    }
}

struct AppsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apps", abstract: "Enterprise applications.", subcommands: [ListApps.self])

    struct ListApps: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List service principals, optionally filtered on a custom security attribute.")
        @Option(help: "Set.Attribute == value, != value or starts-with prefix.") var filter: String?
        @Option(help: "A raw OData $filter, passed through.") var odataFilter: String?
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                try await ObjectCommands(kind: .servicePrincipal).list(filter: filter, odataFilter: odataFilter, output: output)
            }
        }
    }
}
