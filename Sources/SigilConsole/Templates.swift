import Mustache

/// The console's pages, as Mustache templates compiled into the binary (no files to ship beside
/// it). Each is edited as `Sources/SigilConsole/Resources/templates/<name>.mustache`, and the
/// stylesheet and script as `Resources/console.css` and `Resources/console.js`; SwiftPM embeds them
/// (`.embedInCode` in Package.swift) as `PackageResources` byte arrays. Every page fills the `layout`
/// parent; `{{…}}` escapes HTML. A new template file needs a line here too.
enum Templates {
    static let sources: [(name: String, text: String)] = [
        ("layout", PackageResources.layout_mustache),
        ("sign-in", PackageResources.sign_in_mustache),
        ("list", PackageResources.list_mustache),
        ("object", PackageResources.object_mustache),
        ("assignment", PackageResources.assignment_mustache),
        ("remove", PackageResources.remove_mustache),
        ("sets", PackageResources.sets_mustache),
        ("set", PackageResources.set_mustache),
        ("attribute", PackageResources.attribute_mustache),
        ("roles", PackageResources.roles_mustache),
        ("audit", PackageResources.audit_mustache),
        ("subscriptions", PackageResources.subscriptions_mustache),
        ("policies", PackageResources.policies_mustache),
        ("policy", PackageResources.policy_mustache),
        ("policy-form", PackageResources.policy_form_mustache),
        ("policy-delete", PackageResources.policy_delete_mustache),
        ("whatif", PackageResources.whatif_mustache),
        ("access-rules", PackageResources.access_rules_mustache),
        ("access-rule", PackageResources.access_rule_mustache),
        ("access-rule-form", PackageResources.access_rule_form_mustache),
        ("access-rule-delete", PackageResources.access_rule_delete_mustache),
        ("access-test", PackageResources.access_test_mustache),
        ("access-who", PackageResources.access_who_mustache),
        ("provisioning-mapping", PackageResources.provisioning_mapping_mustache),
        ("problem", PackageResources.problem_mustache),
    ].map { ($0, String(decoding: $1, as: UTF8.self)) }

    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in sources {
            library.register(try MustacheTemplate(string: text), named: name)
        }
        return library
    }

    /// Small progressive enhancement: "Add another value" and "Remove" on multi-value editors.
    static let script = String(decoding: PackageResources.console_js, as: UTF8.self)

    static let stylesheet = String(decoding: PackageResources.console_css, as: UTF8.self)
}
