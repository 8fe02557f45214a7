import SigilCore

@testable import SigilClient

/// Definitions as the server returns them, and the catalog the tests type words with.
enum ClientFixtures {
    static func definition(
        _ set: String, _ name: String, type: String = "String", collection: Bool = false, predefined: Bool = false,
        status: String = "Available", values: [(String, Bool)]? = nil
    ) -> JSONValue {
        var object = JSONObject([
            ("id", .string("\(set)_\(name)")), ("attributeSet", .string(set)), ("name", .string(name)), ("type", .string(type)),
            ("isCollection", .bool(collection)), ("isSearchable", true), ("status", .string(status)),
            ("usePreDefinedValuesOnly", .bool(predefined)),
        ])
        if let values {
            object.append("allowedValues", .array(values.map { .object(JSONObject([("id", .string($0.0)), ("isActive", .bool($0.1))])) }))
        }
        return .object(object)
    }

    /// Engineering: Project (multi-valued, predefined: Alpine, Baker; Old inactive), NumVendors
    /// (Integer), Active (Boolean), ProjectDate (String). Marketing: AppCountry (String).
    static let definitions: [JSONValue] = [
        definition("Engineering", "Project", collection: true, predefined: true, values: [("Alpine", true), ("Baker", true), ("Old", false)]),
        definition("Engineering", "NumVendors", type: "Integer"),
        definition("Engineering", "Active", type: "Boolean"),
        definition("Engineering", "ProjectDate"),
        definition("Marketing", "AppCountry"),
    ]

    static var catalog: AttributeCatalog {
        var catalog = AttributeCatalog(definitions: definitions.compactMap(AttributeCatalog.decode))
        catalog.allowedValues = ["engineering_project": [AllowedValue(id: "Alpine", isActive: true), AllowedValue(id: "Baker", isActive: true), AllowedValue(id: "Old", isActive: false)]]
        return catalog
    }

    /// What a command-line refusal prints, or nil when there was none.
    static func refusal(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }
}
