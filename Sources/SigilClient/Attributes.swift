import Foundation
import SigilCore

/// Turns command-line words (`Engineering.NumVendors=4`, `Marketing.AppCountry == Canada`) into
/// Graph payloads and filters, typed by the attribute definitions the server holds, never guessed
/// from the text.
public struct AttributeCatalog: Sendable {
    public let definitions: [AttributeDefinition]
    /// Predefined values by definition key, when loaded with them.
    public var allowedValues: [String: [AllowedValue]] = [:]

    public init(definitions: [AttributeDefinition]) { self.definitions = definitions }

    /// The definitions of the named sets, as the server returns them.
    public static func load(sets: [String], client: GraphAPIClient, withAllowedValues: Bool = false) async throws
        -> AttributeCatalog
    {
        var definitions: [AttributeDefinition] = []
        var allowed: [String: [AllowedValue]] = [:]
        for set in Set(sets.map { $0.lowercased() }) {
            let escaped = set.replacingOccurrences(of: "'", with: "''")
            let query = "attributeSet eq '\(escaped)'".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let expand = withAllowedValues ? "&$expand=allowedValues" : ""
            for item in try await client.all("/directory/customSecurityAttributeDefinitions?$filter=\(query)\(expand)") {
                guard let definition = Self.decode(item) else { continue }
                definitions.append(definition)
                allowed[nameKey(definition.id)] = item.objectValue?["allowedValues"]?.arrayValue?.compactMap { value in
                    value.objectValue?["id"]?.stringValue.map { AllowedValue(id: $0, isActive: value.objectValue?["isActive"]?.boolValue ?? true) }
                }
            }
        }
        var catalog = AttributeCatalog(definitions: definitions)
        catalog.allowedValues = allowed
        return catalog
    }

    static func decode(_ json: JSONValue) -> AttributeDefinition? {
        guard let object = json.objectValue, let set = object["attributeSet"]?.stringValue, let name = object["name"]?.stringValue,
            let type = object["type"]?.stringValue.flatMap(AttributeType.init(rawValue:))
        else { return nil }
        return AttributeDefinition(
            attributeSet: set, name: name, description: object["description"]?.stringValue, type: type,
            isCollection: object["isCollection"]?.boolValue ?? false, isSearchable: object["isSearchable"]?.boolValue ?? true,
            status: object["status"]?.stringValue.flatMap(DefinitionStatus.init(rawValue:)) ?? .available,
            usePreDefinedValuesOnly: object["usePreDefinedValuesOnly"]?.boolValue ?? false)
    }

    /// `Set.Attribute` split in two; the set names its definitions.
    public static func split(_ reference: String) throws -> (set: String, name: String) {
        let parts = reference.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ClientError.usage("'\(reference)' should name an attribute as Set.Attribute, e.g. Engineering.ProjectDate")
        }
        return (String(parts[0]), String(parts[1]))
    }

    public func definition(_ reference: String) throws -> AttributeDefinition {
        let (set, name) = try Self.split(reference)
        guard let definition = definitions.first(where: { nameKey($0.id) == nameKey(AttributeDefinition.id(set: set, name: name)) })
        else { throw ClientError.usage("There is no attribute '\(name)' in attribute set '\(set)' (or you may not read it).") }
        return definition
    }

    /// One value in the definition's type.
    public static func value(_ text: String, for definition: AttributeDefinition) throws -> AttributeValue {
        do {
            return try AttributeValue(text: text, for: definition)
        } catch {
            throw ClientError.usage(error.message)
        }
    }

    /// `Set.Attribute=value[,value…]` as a change; a comma separates values of multi-valued ones.
    public func assignment(_ word: String) throws -> (definition: AttributeDefinition, values: [AttributeValue]) {
        guard let equals = word.firstIndex(of: "=") else {
            throw ClientError.usage("'\(word)' should be Set.Attribute=value, e.g. Engineering.NumVendors=4")
        }
        let definition = try definition(String(word[..<equals]))
        let text = String(word[word.index(after: equals)...])
        let texts = definition.isCollection ? text.split(separator: ",").map(String.init) : [text]
        guard !texts.isEmpty, !text.isEmpty else {
            throw ClientError.usage("Give \(definition.attributeSet).\(definition.name) a value, or use `unset` to remove it.")
        }
        return (definition, try texts.map { try Self.value($0, for: definition) })
    }

    /// `Set.Attribute == value` (or `!=`, `starts-with`) as `$filter` text, typed by the
    /// definition read from the server.
    public static func filter(_ text: String, client: GraphAPIClient) async throws -> String {
        let reference = text.split(separator: " ").first.map(String.init) ?? ""
        return try await load(sets: [try split(reference).set], client: client).filter(text)
    }

    /// `Set.Attribute == value`, `!=` or `starts-with`, as Graph `$filter` text.
    public func filter(_ text: String) throws -> String {
        let words = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        guard words.count == 3 else {
            throw ClientError.usage("--filter takes 'Set.Attribute == value' (or != or starts-with), e.g. \"Marketing.AppCountry == Canada\"")
        }
        let definition = try definition(words[0])
        let path = "customSecurityAttributes/\(definition.attributeSet)/\(definition.name)"
        let literal: String
        // Spaces around the operator are separators, however many there are.
        switch try Self.value(String(words[2].drop(while: \.isWhitespace)), for: definition) {
        case .string(let text): literal = "'\(text.replacingOccurrences(of: "'", with: "''"))'"
        case .integer(let number): literal = String(number)
        case .boolean(let flag): literal = flag ? "true" : "false"
        }
        switch words[1] {
        case "==": return "\(path) eq \(literal)"
        case "!=": return "\(path) ne \(literal)"
        case "starts-with": return "startsWith(\(path),\(literal))"
        default: throw ClientError.usage("The operator must be ==, != or starts-with, not '\(words[1])'.")
        }
    }
}

/// Prints rows as aligned columns (the default) for people.
public enum Table {
    public static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)).joined(separator: "\n")
    }
}
