import ArgumentParser
import Foundation
import SigilClient
import SigilCore

/// `sigil access …`: access rules, decisions and "who has access", through Sigil's API.
struct AccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access", abstract: "Access rules on custom security attributes, decisions and who they admit.",
        subcommands: [RuleCommand.self, Check.self, Who.self])

    static func printRules(_ rules: [JSONValue], output: OutputOptions) {
        if output.isJSON { return output.print(json: .array(rules)) }
        let rows = rules.compactMap(\.objectValue).map { rule in
            [
                rule["id"]?.stringValue ?? "", rule["displayName"]?.stringValue ?? "",
                rule["principals"].map(ObjectCommands.text) ?? "",
                rule["actions"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ") ?? "",
                rule["condition"]?.stringValue ?? "",
            ]
        }
        Swift.print(Table.render(["ID", "NAME", "PRINCIPALS", "ACTIONS", "CONDITION"], rows))
    }

    /// `key=value` pairs as an object of attribute values; a value given twice becomes a list.
    static func attributes(_ pairs: [String], option: String) throws -> JSONObject {
        var object = JSONObject()
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ClientError.usage("\(option) takes key=value, not '\(pair)'.")
            }
            let key = String(pair[..<equals])
            let value = JSONValue.string(String(pair[pair.index(after: equals)...]))
            switch object[key] {
            case nil: object[key] = value
            case .array(let items)?: object[key] = .array(items + [value])
            case let existing?: object[key] = .array([existing, value])
            }
        }
        return object
    }

    struct RuleCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rule", abstract: "Access rules.", subcommands: [List.self, Show.self, Create.self, Update.self, Delete.self])
    }

    struct RuleOptions: ParsableArguments {
        @Option(name: .customLong("name"), help: "The rule's display name.") var displayName: String?
        @Option var description: String?
        @Option(help: "A user or service principal id the rule grants to (repeat it), or 'all'.") var principal: [String] = []
        @Option(help: "A data-action pattern, as ActionMatches takes it (repeat it).") var action: [String] = []
        @Option(help: "An Azure role-assignment condition (conditionVersion 2.0).") var condition: String?
        @Flag(help: "Remove the rule's condition.") var noCondition = false

        var body: JSONObject {
            var body = JSONObject()
            if let displayName { body["displayName"] = .string(displayName) }
            if let description { body["description"] = .string(description) }
            if !principal.isEmpty {
                body["principals"] = principal == ["all"] ? "all" : .array(principal.map { .string($0) })
            }
            if !action.isEmpty { body["actions"] = .array(action.map { .string($0) }) }
            if let condition { body["condition"] = .string(condition) }
            if noCondition { body["condition"] = .null }
            return body
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the access rules.")
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let reply = try await client.send("GET", "/accessRules", version: "sigil/v1")
                AccessCommand.printRules(reply?.objectValue?["value"]?.arrayValue ?? [], output: output)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one access rule.")
        @Argument var id: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let rule = try await client.send("GET", "/accessRules/\(AttributeSetCommand.encode(id))", version: "sigil/v1") ?? .null
                AccessCommand.printRules([rule], output: output)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an access rule.",
            discussion: """
                Example: sigil access rule create --name "Cascade readers" --principal all \
                --action 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read' \
                --condition "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project] \
                ForAnyOfAnyValues:StringEquals {'Cascade'}"
                """)
        @OptionGroup var rule: RuleOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let created = try await client.send("POST", "/accessRules", body: .object(rule.body), version: "sigil/v1") ?? .null
                if output.isJSON { return output.print(json: created) }
                Swift.print("Created access rule \(created.objectValue?["id"]?.stringValue ?? "").")
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an access rule: the options given replace its values.")
        @Argument var id: String
        @OptionGroup var rule: RuleOptions
        func run() async throws {
            try await runClient {
                guard !rule.body.isEmpty else { throw ClientError.usage("Give at least one property to change.") }
                let client = try await Credentials.load().client()
                try await client.send(
                    "PATCH", "/accessRules/\(AttributeSetCommand.encode(id))", body: .object(rule.body), version: "sigil/v1")
                Swift.print("Updated access rule \(id).")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an access rule.")
        @Argument var id: String
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                try await client.send("DELETE", "/accessRules/\(AttributeSetCommand.encode(id))", version: "sigil/v1")
                Swift.print("Deleted access rule \(id).")
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the decision point (AuthZEN) whether a subject may perform an action; exit status 1 when denied.")
        @Option(help: "The subject: a user id or userPrincipalName, or a service principal id with --service-principal.")
        var subject: String
        @Flag(help: "The subject is a service principal.") var servicePrincipal = false
        @Option var action: String
        @Option(name: .customLong("resource-attr"), help: "A resource attribute as key=value (repeat it).")
        var resourceAttributes: [String] = []
        @Option(name: .customLong("context-attr"), help: "A request or environment attribute as key=value (repeat it).")
        var contextAttributes: [String] = []
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let body: JSONValue = [
                    "subject": ["type": .string(servicePrincipal ? "servicePrincipal" : "user"), "id": .string(subject)],
                    "action": ["name": .string(action)],
                    "resource": [
                        "type": "resource", "id": "cli",
                        "properties": .object(try AccessCommand.attributes(resourceAttributes, option: "--resource-attr")),
                    ],
                    "context": .object(try AccessCommand.attributes(contextAttributes, option: "--context-attr")),
                ]
                let reply = try await client.send("POST", "/evaluation", body: body, version: "access/v1") ?? .null
                let allowed = reply.objectValue?["decision"] == true
                if output.isJSON {
                    output.print(json: reply)
                } else {
                    let rule = reply.objectValue?["context"]?.objectValue?["ruleId"]?.stringValue
                    Swift.print(allowed ? "allowed (rule \(rule ?? "?"))" : "denied")
                }
                if !allowed { throw ExitCode(1) }
            }
        }
    }

    struct Who: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the users and service principals a condition or a stored rule admits, with the exact count.")
        @Option(help: "A stored access rule's id.") var rule: String?
        @Option(help: "An Azure role-assignment condition.") var condition: String?
        @Option var action: String?
        @Option(name: .customLong("resource-attr"), help: "A resource attribute as key=value (repeat it).")
        var resourceAttributes: [String] = []
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard (rule == nil) != (condition == nil) else { throw ValidationError("Give exactly one of --rule and --condition.") }
        }

        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                var body = JSONObject()
                if let rule { body["ruleId"] = .string(rule) }
                if let condition { body["condition"] = .string(condition) }
                if let action { body["action"] = .string(action) }
                body["resource"] = .object(try AccessCommand.attributes(resourceAttributes, option: "--resource-attr"))
                let (count, principals) = try await client.sigilPages("POST", "/conditions/principals?$top=999", body: .object(body))
                if output.isJSON {
                    return output.print(json: ["@odata.count": .integer(count ?? Int64(principals.count)), "value": .array(principals)])
                }
                let rows = principals.compactMap(\.objectValue).map { p in
                    [p["id"]?.stringValue ?? "", p["type"]?.stringValue ?? "", p["displayName"]?.stringValue ?? ""]
                }
                Swift.print(Table.render(["ID", "TYPE", "NAME"], rows))
                Swift.print("\(count ?? Int64(principals.count)) admitted")
            }
        }
    }
}
