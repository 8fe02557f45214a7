/// An attribute path (RFC 7644 section 3.10 and 3.5.2): an optional extension URN, an attribute,
/// an optional value filter on a multi-valued attribute, and an optional sub-attribute. Custom
/// security attributes are `<CSA URN>:<Set>.<Attr>`; the flat `<csa URN>:<Set>_<Attr>` form is
/// read as the same path.
struct ScimPath: Sendable, Equatable {
    var container: String?
    var attribute: String
    var filter: ScimFilter?
    var subAttribute: String?

    static func parse(_ text: String) throws(ScimError) -> ScimPath {
        var rest = Substring(text)
        var container: String?
        let lower = text.lowercased()
        if lower.hasPrefix("urn:") {
            // The longest known URN the path starts with; the core schema is no container.
            let candidates = ScimURN.writable.sorted { $0.count > $1.count }
            guard let urn = candidates.first(where: { lower == $0.lowercased() || lower.hasPrefix($0.lowercased() + ":") }) else {
                throw .invalidPath("Unknown schema in path '\(text)'.")
            }
            rest = rest.dropFirst(urn.count)
            if rest.first == ":" { rest = rest.dropFirst() }
            if urn == ScimURN.flatCustomSecurityAttributes {
                guard let split = AttributeDefinition.split(id: String(rest)) else {
                    throw .invalidPath("'\(text)' must name <set>_<attribute>.")
                }
                return ScimPath(container: ScimURN.customSecurityAttributes, attribute: split.set, subAttribute: split.name)
            }
            if urn != ScimURN.user { container = urn }
            if rest.isEmpty {
                guard let container else { throw .invalidPath("'\(text)' names no attribute.") }
                return ScimPath(container: nil, attribute: container)
            }
        }
        var filter: ScimFilter?
        var attributePart = rest
        var after = Substring("")
        if let open = rest.firstIndex(of: "[") {
            guard let close = rest.lastIndex(of: "]"), close > open else { throw .invalidPath("'\(text)' has an unclosed '['.") }
            attributePart = rest[..<open]
            filter = try ScimFilter.parse(String(rest[rest.index(after: open)..<close]))
            after = rest[rest.index(after: close)...]
            if after.first == "." { after = after.dropFirst() } else if !after.isEmpty { throw .invalidPath("Unexpected '\(after)' in '\(text)'.") }
        } else if let dot = rest.firstIndex(of: ".") {
            attributePart = rest[..<dot]
            after = rest[rest.index(after: dot)...]
        }
        guard !attributePart.isEmpty, !attributePart.contains(":") else { throw .invalidPath("'\(text)' is not a valid attribute path.") }
        return ScimPath(
            container: container, attribute: String(attributePart), filter: filter, subAttribute: after.isEmpty ? nil : String(after))
    }
}

/// PATCH (RFC 7644 section 3.5.2) applied to a rendered resource; the result is then written as
/// a replace, so a PATCH is validated exactly like a PUT and a Graph write.
public enum ScimPatch {
    static let immutable: Set<String> = ["id", "meta", "schemas"]
    /// Attributes a user always has (Graph requires them): replaced, never removed.
    static let required: Set<String> = ["username", "displayname", "active"]

    public static func apply(_ body: JSONValue, to resource: JSONObject) throws(ScimError) -> JSONObject {
        guard case .object(let request) = body else { throw .invalidSyntax("The PATCH body must be a PatchOp object.") }
        guard case .array(let schemas)? = request.scimValue("schemas"), schemas.contains(.string(ScimURN.patchOp)) else {
            throw .invalidValue("'schemas' must be [\"\(ScimURN.patchOp)\"].")
        }
        guard case .array(let operations)? = request.scimValue("Operations"), !operations.isEmpty else {
            throw .invalidValue("'Operations' must be a non-empty list.")
        }
        var document = resource
        for operation in operations {
            guard case .object(let op) = operation, let verb = op.scimValue("op")?.stringValue?.lowercased() else {
                throw .invalidValue("Each operation needs 'op': add, replace or remove.")
            }
            guard ["add", "replace", "remove"].contains(verb) else { throw .invalidValue("Unknown op '\(verb)'.") }
            let value = op.scimValue("value")
            if let pathText = op.scimValue("path")?.stringValue {
                try apply(verb, ScimPath.parse(pathText), value, to: &document)
            } else {
                guard verb != "remove" else { throw .noTarget("'remove' needs a 'path'.") }
                guard case .object(let members)? = value else { throw .invalidValue("An operation without 'path' needs an object 'value'.") }
                for (key, member) in members {
                    if let urn = ScimURN.known(key), urn != ScimURN.user, case .object(let inner) = member {
                        // An extension object: each of its attributes is applied in turn.
                        for (attribute, attributeValue) in inner where attribute.lowercased() != "schemas" {
                            try apply(verb, ScimPath.parse("\(key):\(attribute)"), attributeValue, to: &document)
                        }
                        addSchema(urn, to: &document)
                    } else {
                        try apply(verb, ScimPath.parse(key), member, to: &document)
                    }
                }
            }
        }
        return document
    }

    static func addSchema(_ urn: String, to document: inout JSONObject) {
        guard case .array(var schemas)? = document["schemas"], !schemas.contains(.string(urn)) else { return }
        schemas.append(.string(urn))
        document["schemas"] = .array(schemas)
    }

    static func apply(_ verb: String, _ path: ScimPath, _ value: JSONValue?, to document: inout JSONObject) throws(ScimError) {
        if path.container == nil, immutable.contains(path.attribute.lowercased()) {
            throw .mutability("'\(path.attribute)' cannot be changed.")
        }
        if verb == "remove", path.container == nil, path.subAttribute == nil, required.contains(path.attribute.lowercased()) {
            throw .mutability("'\(path.attribute)' is required and cannot be removed.")
        }
        if path.container == nil, let urn = ScimURN.known(path.attribute), urn != ScimURN.user {
            // The whole extension object: its attributes one by one, so the schema is listed.
            guard verb != "remove" else {
                document.setScim(urn, nil)
                return
            }
            guard case .object(let inner)? = value else { throw .invalidValue("'\(urn)' takes an object.") }
            for (attribute, attributeValue) in inner where attribute.lowercased() != "schemas" {
                try apply(verb, ScimPath.parse("\(urn):\(attribute)"), attributeValue, to: &document)
            }
            addSchema(urn, to: &document)
            return
        }
        if verb != "remove", value == nil { throw .invalidValue("'\(verb)' needs a 'value'.") }
        if let container = path.container {
            var inner = document.scimValue(container)?.objectValue ?? JSONObject()
            try apply(verb, ScimPath(container: nil, attribute: path.attribute, filter: path.filter, subAttribute: path.subAttribute), value, to: &inner)
            document.setScim(container, inner.isEmpty ? nil : .object(inner))
            if !inner.isEmpty { addSchema(container, to: &document) }
            return
        }
        let existing = document.scimValue(path.attribute)
        if let filter = path.filter {
            guard case .array(var elements) = existing ?? .array([]) else {
                throw .invalidPath("'\(path.attribute)' is not multi-valued; a value filter does not apply.")
            }
            let matching = elements.indices.filter { filter.matches(elements[$0]) }
            if verb == "remove" {
                guard !matching.isEmpty else { throw .noTarget("No value of '\(path.attribute)' matches the filter.") }
                for index in matching.reversed() {
                    if let sub = path.subAttribute, case .object(var element) = elements[index] {
                        element.setScim(sub, nil)
                        elements[index] = .object(element)
                    } else {
                        elements.remove(at: index)
                    }
                }
            } else if matching.isEmpty {
                // As Entra's clients send it: a filter on one equality adds the element it names.
                guard case .compare(let key, .eq, let wanted) = filter else {
                    throw .noTarget("No value of '\(path.attribute)' matches the filter.")
                }
                var element = JSONObject([(key, wanted)])
                if let sub = path.subAttribute {
                    element.append(sub, value ?? .null)
                } else if case .object(let given)? = value {
                    for member in given where member.key.lowercased() != key.lowercased() { element.append(member.key, member.value) }
                }
                elements.append(.object(element))
            } else {
                for index in matching {
                    if let sub = path.subAttribute, case .object(var element) = elements[index] {
                        element.setScim(sub, value)
                        elements[index] = .object(element)
                    } else if case .object(let given)? = value, case .object(var element) = elements[index] {
                        for member in given { element.setScim(member.key, member.value) }
                        elements[index] = .object(element)
                    } else if let value {
                        elements[index] = value
                    }
                }
            }
            document.setScim(path.attribute, elements.isEmpty ? nil : .array(elements))
            return
        }
        if let sub = path.subAttribute {
            guard case .object(var inner) = existing ?? .object(JSONObject()) else {
                throw .invalidPath("'\(path.attribute).\(sub)' needs '\(path.attribute)' to be complex and single-valued.")
            }
            switch (verb, inner.scimValue(sub), value) {
            case ("remove", _, _): inner.setScim(sub, nil)
            case ("add", .array(let current)?, let value?): inner.setScim(sub, .array(current + (value.arrayValue ?? [value])))
            default: inner.setScim(sub, value == .null ? nil : value)
            }
            document.setScim(path.attribute, inner.isEmpty ? nil : .object(inner))
            return
        }
        switch (verb, existing, value) {
        case ("remove", _, _):
            document.setScim(path.attribute, nil)
        case ("add", .array(let current)?, let value?):
            document.setScim(path.attribute, .array(current + (value.arrayValue ?? [value])))
        case (_, .object(var current)?, .object(let given)?):
            // A complex attribute: the sub-attributes given replace theirs, the rest stay.
            for member in given { current.setScim(member.key, member.value) }
            document.setScim(path.attribute, .object(current))
        default:
            document.setScim(path.attribute, value == .null ? nil : value)
        }
    }

    // MARK: attributes and excludedAttributes

    /// The resource with only the `attributes` asked for (plus `schemas` and `id`, always
    /// returned), or without the `excluded` ones.
    public static func project(_ resource: JSONObject, attributes: [String], excluded: [String]) throws(ScimError) -> JSONObject {
        if !attributes.isEmpty {
            var out = JSONObject()
            for key in ["schemas", "id"] { if let value = resource[key] { out.append(key, value) } }
            for text in attributes {
                let path = try ScimPath.parse(text)
                copy(path, from: resource, into: &out)
            }
            return out
        }
        var out = resource
        for text in excluded {
            let path = try ScimPath.parse(text)
            guard !(path.container == nil && ["schemas", "id"].contains(path.attribute.lowercased())) else { continue }
            try? apply("remove", ScimPath(container: path.container, attribute: path.attribute, subAttribute: path.subAttribute), nil, to: &out)
        }
        return out
    }

    static func copy(_ path: ScimPath, from source: JSONObject, into out: inout JSONObject) {
        if let container = path.container {
            guard let key = source.scimKey(container), case .object(let inner)? = source[key] else { return }
            var target = out[key]?.objectValue ?? JSONObject()
            copy(ScimPath(container: nil, attribute: path.attribute, subAttribute: path.subAttribute), from: inner, into: &target)
            if !target.isEmpty { out[key] = .object(target) }
            return
        }
        guard let key = source.scimKey(path.attribute), let value = source[key] else { return }
        guard let sub = path.subAttribute else {
            out[key] = value
            return
        }
        switch value {
        case .object(let inner):
            guard let subKey = inner.scimKey(sub), let subValue = inner[subKey] else { return }
            var target = out[key]?.objectValue ?? JSONObject()
            target[subKey] = subValue
            out[key] = .object(target)
        case .array(let elements):
            out[key] = .array(
                elements.compactMap { element in
                    guard let inner = element.objectValue, let subKey = inner.scimKey(sub), let subValue = inner[subKey] else { return nil }
                    return .object(JSONObject([(subKey, subValue)]))
                })
        default: return
        }
    }
}
