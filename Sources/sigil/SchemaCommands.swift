import ArgumentParser
import Foundation
import SigilClient
import SigilCore

/// `sigil attribute-set …`, `sigil attribute …`, `sigil allowed-value …`: the attribute schema
/// through the Graph API, with Graph's own validation and roles.
struct AttributeSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribute-set", abstract: "Attribute sets.", subcommands: [List.self, Show.self, Create.self, Update.self])

    /// A path segment: unreserved characters stay as they are (Graph ids such as `Set_Name`).
    static func encode(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? segment
    }

    static func print(_ sets: [JSONValue], output: OutputOptions) {
        if output.isJSON { return output.print(json: .array(sets)) }
        let rows = sets.compactMap(\.objectValue).map { set in
            [
                set["id"]?.stringValue ?? "", set["maxAttributesPerSet"].flatMap { ObjectCommands.text($0) } ?? "",
                set["description"]?.stringValue ?? "",
            ]
        }
        Swift.print(Table.render(["ID", "MAX", "DESCRIPTION"], rows))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the attribute sets you may read.")
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                AttributeSetCommand.print(try await client.all("/directory/attributeSets"), output: output)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one attribute set.")
        @Argument var id: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let set = try await client.send("GET", "/directory/attributeSets/\(AttributeSetCommand.encode(id))") ?? .null
                AttributeSetCommand.print([set], output: output)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an attribute set.",
            discussion: #"Example: sigil attribute-set create Engineering --description "Attributes for engineering team" --max 25"#)
        @Argument var id: String
        @Option var description: String?
        @Option(help: "Maximum number of attributes in the set.") var max: Int?
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                var body = JSONObject([("id", .string(id))])
                if let description { body.append("description", .string(description)) }
                if let max { body.append("maxAttributesPerSet", .integer(Int64(max))) }
                try await client.send("POST", "/directory/attributeSets", body: .object(body))
                Swift.print("Created attribute set \(id).")
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an attribute set's description or maximum.")
        @Argument var id: String
        @Option var description: String?
        @Option(help: "Maximum number of attributes in the set.") var max: Int?
        func run() async throws {
            try await runClient {
                guard description != nil || max != nil else { throw ClientError.usage("Give --description or --max.") }
                let client = try await Credentials.load().client()
                var body = JSONObject()
                if let description { body.append("description", .string(description)) }
                if let max { body.append("maxAttributesPerSet", .integer(Int64(max))) }
                try await client.send("PATCH", "/directory/attributeSets/\(AttributeSetCommand.encode(id))", body: .object(body))
                Swift.print("Updated attribute set \(id).")
            }
        }
    }
}

struct AttributeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribute", abstract: "Custom security attribute definitions, named Set.Attribute.",
        subcommands: [List.self, Show.self, Create.self, Update.self, Deactivate.self, Reactivate.self])

    static func path(_ reference: String) throws -> String {
        let (set, name) = try AttributeCatalog.split(reference)
        return "/directory/customSecurityAttributeDefinitions/\(AttributeSetCommand.encode(AttributeDefinition.id(set: set, name: name)))"
    }

    static func print(_ items: [JSONValue], output: OutputOptions) {
        if output.isJSON { return output.print(json: .array(items)) }
        let rows = items.compactMap(\.objectValue).map { item -> [String] in
            let values = item["allowedValues"]?.arrayValue?.compactMap(\.objectValue).map {
                ($0["id"]?.stringValue ?? "") + ($0["isActive"]?.boolValue == false ? " (inactive)" : "")
            }
            return [
                "\(item["attributeSet"]?.stringValue ?? "").\(item["name"]?.stringValue ?? "")", item["type"]?.stringValue ?? "",
                item["isCollection"]?.boolValue == true ? "yes" : "no", item["usePreDefinedValuesOnly"]?.boolValue == true ? "yes" : "no",
                item["status"]?.stringValue ?? "", values?.joined(separator: ", ") ?? "",
            ]
        }
        Swift.print(Table.render(["ATTRIBUTE", "TYPE", "MULTI", "PREDEFINED ONLY", "STATUS", "ALLOWED VALUES"], rows))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List attribute definitions, optionally of one set.")
        @Option(help: "Only this attribute set.") var set: String?
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                var path = "/directory/customSecurityAttributeDefinitions?$expand=allowedValues"
                if let set {
                    let filter = "attributeSet eq '\(set.replacingOccurrences(of: "'", with: "''"))'"
                    path += "&$filter=" + (filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
                }
                AttributeCommand.print(try await client.all(path), output: output)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one attribute definition with its allowed values.")
        @Argument(help: "Set.Attribute") var attribute: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let item = try await client.send("GET", try AttributeCommand.path(attribute) + "?$expand=allowedValues") ?? .null
                AttributeCommand.print([item], output: output)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an attribute definition.",
            discussion: """
                Example: sigil attribute create Engineering.Project --type String --multi --predefined-only \
                --values Alpine,Baker,Cascade --description "Active projects for user"
                """)
        @Argument(help: "Set.Attribute") var attribute: String
        @Option(help: "String, Integer or Boolean.") var type = "String"
        @Flag(help: "Allow multiple values.") var multi = false
        @Flag(help: "Only allow predefined values.") var predefinedOnly = false
        @Flag(inversion: .prefixedNo, help: "Searchable (filterable).") var searchable = true
        @Option(help: "Predefined values, comma-separated.") var values: String?
        @Option var description: String?
        func run() async throws {
            try await runClient {
                let (set, name) = try AttributeCatalog.split(attribute)
                let client = try await Credentials.load().client()
                var body = JSONObject([
                    ("attributeSet", .string(set)), ("name", .string(name)), ("type", .string(type)), ("status", "Available"),
                    ("isCollection", .bool(multi)), ("isSearchable", .bool(searchable)), ("usePreDefinedValuesOnly", .bool(predefinedOnly)),
                ])
                if let description { body.append("description", .string(description)) }
                if let values {
                    body.append(
                        "allowedValues",
                        .array(values.split(separator: ",").map { .object(JSONObject([("id", .string(String($0))), ("isActive", true)])) }))
                }
                try await client.send("POST", "/directory/customSecurityAttributeDefinitions", body: .object(body))
                Swift.print("Created attribute \(set).\(name).")
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change what may change: the description, or predefined-only to no.")
        @Argument(help: "Set.Attribute") var attribute: String
        @Option var description: String?
        @Flag(help: "Allow values that are not predefined (cannot be undone).") var allowAnyValue = false
        func run() async throws {
            try await runClient {
                guard description != nil || allowAnyValue else { throw ClientError.usage("Give --description or --allow-any-value.") }
                let client = try await Credentials.load().client()
                var body = JSONObject()
                if let description { body.append("description", .string(description)) }
                if allowAnyValue { body.append("usePreDefinedValuesOnly", false) }
                try await client.send("PATCH", try AttributeCommand.path(attribute), body: .object(body))
                Swift.print("Updated attribute \(attribute).")
            }
        }
    }

    static func setStatus(_ attribute: String, _ status: String) async throws {
        let client = try await Credentials.load().client()
        try await client.send("PATCH", try path(attribute), body: .object(JSONObject([("status", .string(status))])))
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deactivate an attribute: no new assignments; existing values stay (there is no delete).")
        @Argument(help: "Set.Attribute") var attribute: String
        func run() async throws {
            try await runClient {
                try await AttributeCommand.setStatus(attribute, "Deprecated")
                Swift.print("Deactivated \(attribute).")
            }
        }
    }

    struct Reactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a deactivated attribute available again.")
        @Argument(help: "Set.Attribute") var attribute: String
        func run() async throws {
            try await runClient {
                try await AttributeCommand.setStatus(attribute, "Available")
                Swift.print("Reactivated \(attribute).")
            }
        }
    }
}

struct AllowedValueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allowed-value", abstract: "Predefined values of an attribute.",
        subcommands: [List.self, Add.self, Deactivate.self, Activate.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List an attribute's predefined values and whether each is active.",
            discussion: """
                Example: sigil allowed-value list Engineering.Project
                --output json prints [{"id", "isActive"}], in the server's order.
                """)
        @Argument(help: "Set.Attribute") var attribute: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let values = try await client.all(try AttributeCommand.path(attribute) + "/allowedValues").compactMap(\.objectValue)
                if output.isJSON {
                    return output.print(
                        json: .array(
                            values.map {
                                .object(JSONObject([("id", $0["id"] ?? .null), ("isActive", .bool($0["isActive"]?.boolValue ?? true))]))
                            }))
                }
                let rows = values.map { [$0["id"]?.stringValue ?? "", $0["isActive"]?.boolValue == false ? "no" : "yes"] }
                Swift.print(Table.render(["ID", "ACTIVE"], rows))
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a predefined value.", discussion: "Example: sigil allowed-value add Engineering.Project Denali")
        @Argument(help: "Set.Attribute") var attribute: String
        @Argument var value: String
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                try await client.send(
                    "POST", try AttributeCommand.path(attribute) + "/allowedValues",
                    body: .object(JSONObject([("id", .string(value)), ("isActive", true)])))
                Swift.print("Added \(value) to \(attribute).")
            }
        }
    }

    static func setActive(_ attribute: String, _ value: String, _ active: Bool) async throws {
        let client = try await Credentials.load().client()
        try await client.send(
            "PATCH",
            try AttributeCommand.path(attribute) + "/allowedValues/"
                + AttributeSetCommand.encode(value),
            body: .object(JSONObject([("isActive", .bool(active))])))
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a predefined value from being assigned to more objects.")
        @Argument(help: "Set.Attribute") var attribute: String
        @Argument var value: String
        func run() async throws {
            try await runClient {
                try await AllowedValueCommand.setActive(attribute, value, false)
                Swift.print("Deactivated \(value) of \(attribute).")
            }
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a predefined value assignable again.")
        @Argument(help: "Set.Attribute") var attribute: String
        @Argument var value: String
        func run() async throws {
            try await runClient {
                try await AllowedValueCommand.setActive(attribute, value, true)
                Swift.print("Activated \(value) of \(attribute).")
            }
        }
    }
}
