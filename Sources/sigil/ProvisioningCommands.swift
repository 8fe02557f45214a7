import ArgumentParser
import Foundation
import SigilClient
import SigilCore

/// `sigil provisioning …`: the tenant's inbound provisioning configuration, through the API.
struct ProvisioningCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provisioning", abstract: "Inbound provisioning: the tenant's provisioning mapping.",
        subcommands: [MappingCommand.self])
}

/// `sigil provisioning mapping show|set`: `GET`/`PUT /sigil/v1/provisioning/mapping`.
struct MappingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mapping",
        abstract: "The provisioning mapping bulkUpload uses: the matching identifier and SCIM attributes → custom security attributes.",
        subcommands: [Show.self, Replace.self])

    static let path = "/provisioning/mapping"

    /// The mapping as a table (the matching identifier, then one row per attribute mapping), or
    /// as the server's JSON.
    static func print(_ mapping: JSONValue, output: OutputOptions) {
        if output.isJSON { return output.print(json: mapping) }
        let object = mapping.objectValue
        let identifier = object?["matchingIdentifier"]?.stringValue ?? ""
        let property = identifier == "userName" ? "userPrincipalName" : "employeeId"
        Swift.print("Matching identifier: \(identifier) (matches \(property))")
        let rows = (object?["attributeMappings"]?.arrayValue ?? []).compactMap(\.objectValue).map { row in
            [row["source"]?.stringValue ?? "", row["target"]?.stringValue ?? ""]
        }
        Swift.print(rows.isEmpty ? "No attribute mappings: Sigil's default names apply." : Table.render(["SOURCE", "TARGET"], rows))
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the mapping (Sigil's default when none was saved).")
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let mapping = try await client.send("GET", MappingCommand.path, version: "sigil/v1") ?? .null
                MappingCommand.print(mapping, output: output)
            }
        }
    }

    struct Replace: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Replace the whole mapping with a JSON document; what it leaves out takes its default ({} restores Sigil's default).",
            discussion: """
                The document: {"matchingIdentifier": "externalId" | "userName", "attributeMappings": [{"source": \
                "urn:ietf:params:scim:schemas:extension:acme:2.0:User:costCenter", "target": "Engineering_CostCenter"}]}
                Example: sigil provisioning mapping set --file mapping.json
                """)
        @Option(help: "The mapping as JSON (- for standard input).") var file: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let body = try readJSONFile(file)
                let client = try await Credentials.load().client()
                let saved = try await client.send("PUT", MappingCommand.path, body: body, version: "sigil/v1") ?? .null
                if output.isJSON { return output.print(json: saved) }
                Swift.print("Saved the provisioning mapping.")
                MappingCommand.print(saved, output: output)
            }
        }
    }
}
