import ArgumentParser
import Foundation
import SigilClient
import SigilCore

/// `sigil apply -f tenant.yaml` and `sigil export tenant`: the attribute schema and attribute
/// roles as code.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make the server match a tenant file (YAML): sets, attributes, values, roles, policies, access rules, provisioning mapping.",
        discussion: """
            Creates and updates what differs and prints each step. It never deletes, because Entra cannot: an attribute \
            marked status: Deprecated is deactivated, and values not in the file stay (and are listed). Differences Entra \
            cannot make (an attribute's type, say) are reported and left. With --dry-run it prints the plan only.
            --output json prints the plan as {"changes": [{"action", "kind", "name", "details"}], "refusals": […], "notes": […]}, \
            action one of create, update, deactivate, reactivate and kind one of attributeSet, attribute, allowedValue, \
            roleAssignment, conditionalAccessPolicy, accessRule, provisioningMapping (after applying it, without --dry-run). Conditional Access \
            policies (conditionalAccessPolicies: displayName, state, and conditions, grantControls, sessionControls in \
            Graph's JSON shape) and access rules (accessRules: displayName, description, principals as all or a list of \
            user principal names and appIds, actions, condition, conditionVersion) are matched by display name, created \
            or patched, never deleted. The provisioning mapping (provisioningMapping: matchingIdentifier externalId or \
            userName, attributeMappings as a list of source and target Set_Attr) is replaced whole when it differs.
            Example file:
              attributeSets:
              - id: Engineering
                description: Attributes for engineering team
                maxAttributesPerSet: 25
                attributes:
                - name: Project
                  type: String
                  multiple: true
                  predefinedOnly: true
                  allowedValues: [{id: Alpine}, {id: Baker}]
              roleAssignments:
              - {principal: alain@sigil.local, role: Attribute Assignment Administrator, scope: /attributeSets/Engineering}
            """)
    @Option(name: .shortAndLong, help: "The tenant file.") var file: String
    @Flag(help: "Print the plan; change nothing.") var dryRun = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await runClient {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ClientError.usage("cannot read \(file)") }
            let tenant = try TenantFile.parse(text)
            let client = try await Credentials.load().client()
            let plan = try await TenantPlan.make(tenant, client: client)
            if output.isJSON {
                // The plan as JSON, printed before (dry run) or after (done) it is carried out.
                if !dryRun { try await plan.apply(client: client) { _ in } }
                output.print(json: plan.json)
                if !plan.refusals.isEmpty { throw ExitCode(1) }
                return
            }
            for refusal in plan.refusals { print("! \(refusal)") }
            for note in plan.notes { print("  note: \(note)") }
            if plan.steps.isEmpty {
                print("No changes: the server matches \(file).")
            } else if dryRun {
                for step in plan.steps { print("\(Self.symbol(step.action)) \(step.action.rawValue) \(step.what)\(step.detail.isEmpty ? "" : " (\(step.detail))")") }
                print(plan.summary)
            } else {
                try await plan.apply(client: client) { step in
                    print("\(Self.symbol(step.action)) \(step.action.rawValue) \(step.what): done")
                }
                print("Applied. \(plan.summary.replacingOccurrences(of: "Plan: ", with: ""))")
            }
            if !plan.refusals.isEmpty { throw ExitCode(1) }
        }
    }

    static func symbol(_ action: TenantPlan.Action) -> String {
        switch action {
        case .create: "+"
        case .update: "~"
        case .deactivate: "-"
        case .reactivate: "^"
        }
    }
}

struct ExportTenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Write the attribute schema, attribute roles, Conditional Access policies and access rules (when readable) as a tenant file (YAML).",
        discussion: "Example: sigil export tenant > tenant.yaml, then on another server: sigil apply -f tenant.yaml")
    @Flag(help: "Leave out role assignments (their principals may not exist on the other server).") var noRoles = false

    func run() async throws {
        try await runClient {
            let client = try await Credentials.load().client()
            print(try await TenantPlan.export(client: client, roles: !noRoles).yaml(), terminator: "")
        }
    }
}
