import Foundation

/// What an administrator configures for API-driven inbound provisioning (`bulkUpload`): which
/// SCIM attribute identifies the user, and which SCIM attributes go to which custom security
/// attributes. One mapping per tenant (`/sigil/v1/provisioning/mapping`).
///
/// With nothing configured (`default`), `externalId` matches the user's employeeId and
/// `<flat CSA URN>:<Set>_<Attr>` (and Microsoft's `CustomSecurityAttributes` extension) go to
/// `<Set>_<Attr>`. A configured mapping adds its sources; those default names keep working for
/// every target the mapping does not name, and a target it names takes its value only from the
/// mapped source, so no attribute ever has two sources.
public struct ProvisioningMapping: Sendable, Equatable {
    /// The SCIM attribute that finds the user an operation is about.
    public enum MatchingIdentifier: String, Sendable, CaseIterable {
        case externalId
        case userName

        /// The user property the identifier is compared with (case-insensitively).
        public var property: String { self == .externalId ? "employeeId" : "userPrincipalName" }
    }

    /// One SCIM attribute and the custom security attribute it is written to.
    public struct AttributeMapping: Sendable, Equatable {
        /// As the administrator wrote it: `<extension URN>:<attribute>[.<sub-attribute>]` or a core
        /// attribute path (`userType`, `name.givenName`).
        public var source: String
        /// The definition id, `<Set>_<Attr>`, as the schema spells it.
        public var target: String

        public init(source: String, target: String) {
            self.source = source
            self.target = target
        }
    }

    public var matchingIdentifier: MatchingIdentifier
    public var attributeMappings: [AttributeMapping]

    public init(matchingIdentifier: MatchingIdentifier = .externalId, attributeMappings: [AttributeMapping] = []) {
        self.matchingIdentifier = matchingIdentifier
        self.attributeMappings = attributeMappings
    }

    /// Sigil's default: `externalId` matches employeeId, only the default attribute names.
    public static let `default` = ProvisioningMapping()

    /// Enough for every attribute of a large HR feed; keeps a mapping document small.
    public static let maxAttributeMappings = 500

    // MARK: JSON

    public var json: JSONObject {
        JSONObject([
            ("matchingIdentifier", .string(matchingIdentifier.rawValue)),
            (
                "attributeMappings",
                .array(attributeMappings.map { ["source": .string($0.source), "target": .string($0.target)] })
            ),
        ])
    }

    /// What the stores keep: the JSON form.
    public var document: String { JSONValue.object(json).serializedString }

    public init(document: String) throws {
        self = try Self.parse(try JSON.parse(document), schema: nil)
    }

    /// Reads a mapping from its JSON form (a PUT replaces the whole mapping: what is left out
    /// takes its default), refusing anything malformed with a message naming it. With `schema`,
    /// every target must be a defined attribute and is spelled as the schema spells it.
    public static func parse(_ body: JSONValue, schema: Schema?) throws(GraphError) -> ProvisioningMapping {
        guard case .object(let members) = body else { throw .badRequest("The body must be a provisioning mapping object.") }
        var mapping = ProvisioningMapping()
        for (key, value) in members where !key.hasPrefix("@odata.") {
            switch key {
            case "matchingIdentifier":
                guard let text = value.stringValue, let identifier = MatchingIdentifier(rawValue: text) else {
                    throw .badRequest("'matchingIdentifier' must be 'externalId' or 'userName'.")
                }
                mapping.matchingIdentifier = identifier
            case "attributeMappings":
                guard case .array(let list) = value else { throw .badRequest("'attributeMappings' must be a list.") }
                guard list.count <= maxAttributeMappings else {
                    throw .badRequest("'attributeMappings' has \(list.count) entries; at most \(maxAttributeMappings) are allowed.")
                }
                for (index, item) in list.enumerated() {
                    mapping.attributeMappings.append(try attributeMapping(item, number: index + 1, schema: schema))
                }
            default: throw .invalidProperty(key)
            }
        }
        try mapping.checkDuplicates()
        return mapping
    }

    static func attributeMapping(_ item: JSONValue, number: Int, schema: Schema?) throws(GraphError) -> AttributeMapping {
        let name = "Attribute mapping \(number)"
        guard case .object(let members) = item else { throw .badRequest("\(name) must be an object with 'source' and 'target'.") }
        for key in members.keys where key != "source" && key != "target" {
            throw .badRequest("\(name): property '\(key)' is not part of an attribute mapping; it takes 'source' and 'target'.")
        }
        guard let source = members["source"]?.stringValue, !source.isEmpty else {
            throw .badRequest("\(name): 'source' is required: a SCIM attribute such as 'urn:…:User:costCenter' or 'userType'.")
        }
        guard let target = members["target"]?.stringValue, !target.isEmpty else {
            throw .badRequest("\(name): 'target' is required: a custom security attribute as <Set>_<Attr>.")
        }
        do {
            _ = try SourcePath(source)
        } catch {
            throw .badRequest("\(name): source '\(source)' \(error.problem)")
        }
        guard AttributeDefinition.split(id: target) != nil else {
            throw .badRequest("\(name): target '\(target)' must name a custom security attribute as <Set>_<Attr>.")
        }
        guard let schema else { return AttributeMapping(source: source, target: target) }
        guard let definition = schema.definition(id: target) else {
            throw .badRequest("\(name): target '\(target)' is not a custom security attribute definition.")
        }
        return AttributeMapping(source: source, target: definition.id)
    }

    func checkDuplicates() throws(GraphError) {
        var sources: [String: String] = [:]
        var targets: Set<String> = []
        for mapping in attributeMappings {
            // Parsed already: a stored mapping or one `parse` accepted.
            let key = (try? SourcePath(mapping.source))?.key ?? mapping.source.lowercased()
            if let earlier = sources[key] {
                throw .badRequest("Source '\(mapping.source)' is mapped more than once ('\(earlier)' names the same attribute).")
            }
            sources[key] = mapping.source
            guard targets.insert(nameKey(mapping.target)).inserted else {
                throw .badRequest("Target '\(mapping.target)' is mapped more than once; each attribute takes one source.")
            }
        }
    }

    // MARK: Reading a SCIM user

    /// Whether the mapping names `definition` as a target: its default name is then ignored.
    func maps(_ definition: AttributeDefinition) -> Bool {
        attributeMappings.contains { nameKey($0.target) == nameKey(definition.id) }
    }

    /// Whether `path` (`<URN>:<attr>[.<sub>]`) is a mapped source: it is then read only as one.
    func isSource(_ path: String) -> Bool {
        guard let key = try? SourcePath(path).key else { return false }
        return attributeMappings.contains { (try? SourcePath($0.source))?.key == key }
    }

    /// The values of the mapped sources `user` carries, typed by their targets' definitions
    /// (absent sources are left out: what a bulkUpload leaves out stays).
    func values(in user: JSONObject, schema: Schema) throws(ScimError) -> [(definition: AttributeDefinition, values: [AttributeValue])] {
        var out: [(definition: AttributeDefinition, values: [AttributeValue])] = []
        for mapping in attributeMappings {
            guard let path = try? SourcePath(mapping.source), let raw = path.value(in: user) else { continue }
            guard let definition = schema.definition(id: mapping.target) else {
                throw .invalidValue("Unknown custom security attribute '\(mapping.target)' (the target of '\(mapping.source)').")
            }
            out.append((definition, try ScimUserMapping.typedValues(raw, definition)))
        }
        return out
    }

    /// The identifier's value in `user`, nil when it has none.
    public func identifier(of user: JSONObject) -> String? {
        user.scimValue(matchingIdentifier.rawValue)?.stringValue
    }
}

/// A mapping's source parsed: an attribute of an extension (nil for the core schema), with an
/// optional sub-attribute.
struct SourcePath: Equatable {
    struct Malformed: Error {
        let problem: String
    }

    var extensionURN: String?
    var attribute: String
    var subAttribute: String?

    /// Compares as SCIM compares names: case-insensitively.
    var key: String {
        [extensionURN ?? "", attribute, subAttribute ?? ""].joined(separator: "|").lowercased()
    }

    init(_ text: String) throws(Malformed) {
        var rest = Substring(text)
        if text.lowercased().hasPrefix("urn:") {
            guard let colon = text.lastIndex(of: ":") else { throw Malformed(problem: "is not a URN.") }
            let urn = String(text[..<colon])
            rest = text[text.index(after: colon)...]
            let parts = urn.split(separator: ":", omittingEmptySubsequences: false)
            // urn:<NID>:<NSS>, then the attribute: RFC 8141's shape, SCIM's schema URNs.
            guard parts.count >= 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(Self.isURNCharacter) }),
                parts[1].count <= 32, parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else {
                throw Malformed(problem: "is not a well-formed extension URN followed by ':<attribute>' (urn:<namespace>:<name>:<attribute>).")
            }
            extensionURN = urn.lowercased() == ScimURN.user.lowercased() ? nil : urn
        }
        let names = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(names.count), names.allSatisfy(Self.isAttributeName) else {
            throw Malformed(problem: "must end in an attribute name, with at most one sub-attribute (name or name.sub).")
        }
        attribute = String(names[0])
        subAttribute = names.count == 2 ? String(names[1]) : nil
    }

    /// RFC 7643's ATTRNAME: a letter, then letters, digits, '-' or '_'.
    static func isAttributeName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func isURNCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "-._~%!$&'()*+,;=@".contains(character))
    }

    /// The value at this path; a sub-attribute of a multi-valued attribute is read from its
    /// primary element (or the first).
    func value(in user: JSONObject) -> JSONValue? {
        var container = user
        if let extensionURN {
            guard case .object(let members)? = user.scimValue(extensionURN) else { return nil }
            container = members
        }
        guard let value = container.scimValue(attribute) else { return nil }
        guard let subAttribute else { return value }
        switch value {
        case .object(let members): return members.scimValue(subAttribute)
        case .array(let items):
            let objects = items.compactMap(\.objectValue)
            return (objects.first { $0.scimValue("primary") == .bool(true) } ?? objects.first)?.scimValue(subAttribute)
        default: return nil
        }
    }
}

extension AuditLog {
    /// The record of a mapping replaced, with its document before and after as the one modified
    /// property; nil when nothing changed.
    public static func record(
        mappingBefore before: ProvisioningMapping, after: ProvisioningMapping, context: AuditContext, at date: Date = Date()
    ) -> AuditRecord? {
        guard before != after else { return nil }
        let property = ModifiedProperty(displayName: "ProvisioningMapping", oldValue: before.document, newValue: after.document)
        return record(
            .updateProvisioningMapping, operationType: AuditActivity.updateProvisioningMapping.operationType,
            target: AuditTarget.provisioningMapping(modifiedProperties: [property]), context: context, at: date)
    }
}

extension AuditTarget {
    /// The tenant's one provisioning mapping, as an audit target.
    public static func provisioningMapping(modifiedProperties: [ModifiedProperty] = []) -> AuditTarget {
        AuditTarget(
            id: "provisioningMapping", displayName: "Provisioning mapping", type: "ProvisioningMapping",
            modifiedProperties: modifiedProperties)
    }
}
