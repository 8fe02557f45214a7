import ArgumentParser
import Foundation
import SigilClient
import SigilCore

/// `sigil ca …`: Conditional Access policies and What-If, through the Graph API.
struct ConditionalAccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "Conditional Access policies that select apps and workload identities by attribute.",
        subcommands: [List.self, Show.self, Create.self, Update.self, Delete.self, WhatIf.self, Targets.self])

    static let path = "/identity/conditionalAccess/policies"

    /// One line per policy: id, state, name, and the filters' rules (or `(hidden)`).
    static func printPolicies(_ policies: [JSONValue], output: OutputOptions) {
        if output.isJSON { return output.print(json: .array(policies)) }
        let rows = policies.compactMap(\.objectValue).map { policy in
            let conditions = policy["conditions"]?.objectValue
            func filter(_ section: String, _ name: String) -> String {
                guard let object = conditions?[section]?.objectValue?[name]?.objectValue else { return "" }
                let rule = object["rule"]?.stringValue ?? "(hidden)"
                return "\(object["mode"]?.stringValue ?? "") \(rule)"
            }
            return [
                policy["id"]?.stringValue ?? "", policy["state"]?.stringValue ?? "", policy["displayName"]?.stringValue ?? "",
                filter("applications", "applicationFilter"), filter("clientApplications", "servicePrincipalFilter"),
            ]
        }
        Swift.print(Table.render(["ID", "STATE", "NAME", "APPLICATION FILTER", "SERVICE PRINCIPAL FILTER"], rows))
    }

    /// A policy body in Graph's JSON, from a file or `-` (standard input).
    static func body(_ file: String) throws -> JSONValue { try readJSONFile(file) }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the policies.")
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let reply = try await client.send("GET", ConditionalAccessCommand.path)
                ConditionalAccessCommand.printPolicies(reply?.objectValue?["value"]?.arrayValue ?? [], output: output)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one policy.")
        @Argument var id: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let policy = try await client.send("GET", "\(ConditionalAccessCommand.path)/\(AttributeSetCommand.encode(id))") ?? .null
                ConditionalAccessCommand.printPolicies([policy], output: output)
            }
        }
    }

    struct Targets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the service principals a policy selects (as workload identity or application), with the exact count.")
        @Argument var id: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let (count, targets) = try await client.sigilPages(
                    "GET", "/conditionalAccess/policies/\(AttributeSetCommand.encode(id))/targets?$top=999")
                let total = count ?? Int64(targets.count)
                if output.isJSON { return output.print(json: ["@odata.count": .integer(total), "value": .array(targets)]) }
                let rows = targets.compactMap(\.objectValue).map { target in
                    [
                        target["id"]?.stringValue ?? "", target["appId"]?.stringValue ?? "", target["displayName"]?.stringValue ?? "",
                        (target["selectedAs"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "),
                    ]
                }
                Swift.print(Table.render(["ID", "APP ID", "NAME", "SELECTED AS"], rows))
                Swift.print("\(total) selected")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a policy from a conditionalAccessPolicy JSON body.",
            discussion: "Example: sigil ca create --file block-baker.json")
        @Option(help: "The policy as Graph's JSON (- for standard input).") var file: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await runClient {
                let body = try ConditionalAccessCommand.body(file)
                let client = try await Credentials.load().client()
                let created = try await client.send("POST", ConditionalAccessCommand.path, body: body) ?? .null
                if output.isJSON { return output.print(json: created) }
                Swift.print("Created policy \(created.objectValue?["id"]?.stringValue ?? "").")
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a policy: the properties in the JSON body (or --state) replace its own.")
        @Argument var id: String
        @Option(help: "A JSON body of the properties to change (- for standard input).") var file: String?
        @Option(help: "enabled, disabled or enabledForReportingButNotEnforced.") var state: String?
        func run() async throws {
            try await runClient {
                var body = try file.map(ConditionalAccessCommand.body)?.objectValue ?? JSONObject()
                if let state { body["state"] = .string(state) }
                guard !body.isEmpty else { throw ClientError.usage("Give --file or --state.") }
                let client = try await Credentials.load().client()
                try await client.send("PATCH", "\(ConditionalAccessCommand.path)/\(AttributeSetCommand.encode(id))", body: .object(body))
                Swift.print("Updated policy \(id).")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a policy.")
        @Argument var id: String
        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                try await client.send("DELETE", "\(ConditionalAccessCommand.path)/\(AttributeSetCommand.encode(id))")
                Swift.print("Deleted policy \(id).")
            }
        }
    }

    struct WhatIf: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "whatif", abstract: "Which policies apply to a sign-in (Graph's evaluate, beta).")
        @Option(help: "The signing-in user's object id.") var user: String?
        @Option(help: "The signing-in service principal's object id.") var servicePrincipal: String?
        @Option(help: "The target application's appId (repeat it; Graph's when none).") var app: [String] = []
        @Flag(help: "Only the policies that apply.") var appliedOnly = false
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard (user == nil) != (servicePrincipal == nil) else {
                throw ValidationError("Give exactly one of --user and --service-principal.")
            }
        }

        func run() async throws {
            try await runClient {
                let identity: JSONValue =
                    if let user {
                        ["@odata.type": "#microsoft.graph.userSignIn", "userId": .string(user)]
                    } else {
                        ["@odata.type": "#microsoft.graph.servicePrincipalSignIn", "servicePrincipalId": .string(servicePrincipal ?? "")]
                    }
                var context = JSONObject([("@odata.type", "#microsoft.graph.applicationContext")])
                if !app.isEmpty { context["includeApplications"] = .array(app.map { .string($0) }) }
                let body: JSONValue = [
                    "signInIdentity": identity, "signInContext": .object(context), "signInConditions": [:],
                    "appliedPoliciesOnly": .bool(appliedOnly),
                ]
                let client = try await Credentials.load().client()
                let reply = try await client.send("POST", "/identity/conditionalAccess/evaluate", body: body, version: "beta")
                let results = reply?.objectValue?["value"]?.arrayValue ?? []
                if output.isJSON { return output.print(json: .array(results)) }
                let rows = results.compactMap(\.objectValue).map { result in
                    [
                        result["id"]?.stringValue ?? "", result["displayName"]?.stringValue ?? "",
                        result["policyApplies"]?.boolValue == true ? "applies" : "does not apply",
                        result["analysisReasons"]?.stringValue ?? "",
                    ]
                }
                Swift.print(Table.render(["ID", "NAME", "RESULT", "REASONS"], rows))
            }
        }
    }
}
