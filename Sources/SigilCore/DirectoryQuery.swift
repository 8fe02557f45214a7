/// What an attribute condition asks of one value; an object matches when any of its values does.
public enum AttributeMatch: Sendable, Equatable {
    case equals(AttributeValue)
    case startsWith(String)
    /// `gt`, `ge`, `lt`, `le` on Integer attributes, only with extended compatibility.
    case compare(ComparisonOperator, Int32)
}

/// What a condition on an ordinary property (displayName, appId, ...) asks.
public enum PropertyMatch: Sendable, Equatable {
    /// Case-insensitive equality, as Graph compares directory strings; nil matches a missing value.
    case equals(String?)
    case equalsBool(Bool)
    case startsWith(String)
}

/// A `$filter` on users or service principals, checked against the schema and the caller.
public indirect enum ObjectPredicate: Sendable, Equatable {
    case attribute(AttributeDefinition, AttributeMatch)
    case property(String, PropertyMatch)
    case not(ObjectPredicate)
    case and(ObjectPredicate, ObjectPredicate)
    case or(ObjectPredicate, ObjectPredicate)

    /// Evaluates against one object in memory: the reference semantics the stores must match.
    public func matches(_ object: DirectoryObject, _ attributes: AttributeAssignments) -> Bool {
        switch self {
        case .attribute(let definition, let match):
            return attributes.values(of: definition.id).contains { value in
                // Strings compare as UTF-8 bytes, as the stores' indexes do (no canonical equivalence).
                switch (match, value) {
                case (.equals(.string(let wanted)), .string(let s)): s.utf8.elementsEqual(wanted.utf8)
                case (.equals(let wanted), _): value == wanted
                case (.startsWith(let prefix), .string(let s)): s.utf8.starts(with: prefix.utf8)
                case (.compare(let op, let bound), .integer(let i)): op.holds(i, bound)
                default: false
                }
            }
        case .property(let name, let match):
            let value: JSONValue? = name == "id" ? .string(object.id) : object.properties[name]
            switch match {
            case .equals(nil): return value == nil || value == .null
            case .equals(let wanted?): return value?.stringValue?.lowercased() == wanted.lowercased()
            case .equalsBool(let wanted): return value?.boolValue == wanted
            case .startsWith(let prefix): return value?.stringValue?.lowercased().hasPrefix(prefix.lowercased()) == true
            }
        case .not(let inner): return !inner.matches(object, attributes)
        case .and(let l, let r): return l.matches(object, attributes) && r.matches(object, attributes)
        case .or(let l, let r): return l.matches(object, attributes) || r.matches(object, attributes)
        }
    }
}

extension ObjectPredicate {
    /// Whether any term tests a custom security attribute.
    public var mentionsAttributes: Bool {
        switch self {
        case .attribute: true
        case .property: false
        case .not(let inner): inner.mentionsAttributes
        case .and(let l, let r), .or(let l, let r): l.mentionsAttributes || r.mentionsAttributes
        }
    }

    /// Evaluates as `reader` may: its own object holds no values it can read, so it is judged as
    /// holding none (`eq` false, `ne` true), exactly as a GET shows it. The reference semantics.
    public func matches(_ object: DirectoryObject, _ attributes: AttributeAssignments, reader: String?) -> Bool {
        let readable = reader.map { $0.lowercased() == object.id.lowercased() } == true ? AttributeAssignments() : attributes
        return matches(object, readable)
    }

    /// This predicate as `reader` may apply it, given the reader's own object and its stored
    /// values (read in the same transaction as the query). Where the stored values would change
    /// the reader's own verdict, the reader's object is added or taken out by id; `countAdjustment`
    /// corrects a count of the original predicate by the same one object. Stores keep their fast
    /// paths for the original, since the divergent case is one object.
    public func asSeen(by reader: DirectoryObject?, holding attributes: AttributeAssignments) -> (
        predicate: ObjectPredicate, countAdjustment: Int
    ) {
        guard let reader, mentionsAttributes else { return (self, 0) }
        let stored = matches(reader, attributes)
        let seen = matches(reader, AttributeAssignments())
        let itself = ObjectPredicate.property("id", .equals(reader.id))
        switch (stored, seen) {
        case (true, false): return (.and(self, .not(itself)), -1)
        case (false, true): return (.or(self, itself), 1)
        default: return (self, 0)
        }
    }
}

extension ComparisonOperator {
    func holds(_ value: Int32, _ bound: Int32) -> Bool {
        switch self {
        case .eq: value == bound
        case .ne: value != bound
        case .gt: value > bound
        case .ge: value >= bound
        case .lt: value < bound
        case .le: value <= bound
        }
    }
}

/// Turns a parsed `$filter` on `/users` or `/servicePrincipals` into an `ObjectPredicate`,
/// enforcing Graph's rules (docs/api.md, "`$filter` on users and service principals"): advanced-query parameters for custom security
/// attributes, operators per type, searchable attributes only, and the caller's read scope.
public struct DirectoryQuery: Sendable {
    public let kind: DirectoryObjectKind
    public let schema: Schema
    public let caller: Caller
    /// `ConsistencyLevel: eventual` and `$count=true` were both given.
    public let isAdvanced: Bool
    /// `--compat extended`: range operators on Integer attributes.
    public let allowsRanges: Bool

    public init(kind: DirectoryObjectKind, schema: Schema, caller: Caller, isAdvanced: Bool, allowsRanges: Bool = false) {
        self.kind = kind
        self.schema = schema
        self.caller = caller
        self.isAdvanced = isAdvanced
        self.allowsRanges = allowsRanges
    }

    /// Properties that `$filter` accepts for each kind (besides custom security attributes).
    public static func filterableProperties(_ kind: DirectoryObjectKind) -> [String: PropertyKind] {
        switch kind {
        case .user:
            [
                "id": .string, "displayName": .string, "userPrincipalName": .string, "mail": .string, "givenName": .string,
                "surname": .string, "userType": .string, "accountEnabled": .boolean, "jobTitle": .string, "department": .string,
            ]
        case .servicePrincipal:
            [
                "id": .string, "appId": .string, "displayName": .string, "servicePrincipalType": .string,
                "accountEnabled": .boolean,
            ]
        case .application:
            ["id": .string, "appId": .string, "displayName": .string]
        }
    }

    public enum PropertyKind: Sendable { case string, boolean }

    public func compile(_ expression: FilterExpression) throws(GraphError) -> ObjectPredicate {
        switch expression {
        case .and(let l, let r): return .and(try compile(l), try compile(r))
        case .or(let l, let r): return .or(try compile(l), try compile(r))
        case .not(let inner):
            // The inner clause first: on a custom security attribute its own message applies.
            let compiled = try compile(inner)
            guard isAdvanced else {
                throw .unsupportedQuery(
                    "Operator 'not' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
                )
            }
            return .not(compiled)
        case .comparison(let path, let op, let literal):
            if path.first?.lowercased() == "customsecurityattributes" {
                return try attributeComparison(path, op, literal)
            }
            return try propertyComparison(path, op, literal)
        case .startsWith(let path, let prefix):
            if path.first?.lowercased() == "customsecurityattributes" {
                let definition = try attributeDefinition(path)
                guard definition.type == .string, case .string(let text) = prefix else {
                    throw unsupported(definition, detail: "startsWith applies to String attributes and a quoted prefix.")
                }
                return .attribute(definition, .startsWith(text))
            }
            let (name, type) = try property(path)
            guard type == .string, case .string(let text) = prefix else {
                throw GraphError.badRequest("Invalid filter clause: startsWith needs a String property and a quoted prefix.")
            }
            return .property(name, .startsWith(text))
        }
    }

    func unsupported(_ definition: AttributeDefinition, detail: String? = nil) -> GraphError {
        .unsupportedQuery(
            "Unsupported or invalid query filter clause specified for property '\(definition.id)' of resource 'CustomSecurityAttributeValue'."
                + (detail.map { " \($0)" } ?? ""))
    }

    /// Resolves `customSecurityAttributes/{Set}/{Attr}` and applies the rules every attribute
    /// condition shares: readable set, searchable, advanced query.
    func attributeDefinition(_ path: [String]) throws(GraphError) -> AttributeDefinition {
        guard kind != .application else {
            throw .badRequest("Invalid filter clause: applications have no customSecurityAttributes; filter service principals instead.")
        }
        guard path.count == 3 else {
            throw .badRequest("Invalid filter clause: use customSecurityAttributes/{attributeSet}/{attribute}.")
        }
        guard let set = schema.set(named: path[1]) else {
            // Unknown and unreadable look the same to a caller without tenant-wide read.
            throw AccessPolicy.allows(caller, .readAssignments)
                ? .badRequest("Invalid filter clause: attribute set '\(path[1])' does not exist.") : .forbidden
        }
        // A filter that could reveal values must never run for a caller who may not read them.
        try AccessPolicy.require(AccessPolicy.allows(caller, .readAssignments, inSet: set.id))
        guard let definition = schema.definition(set: set.id, name: path[2]) else {
            throw .badRequest("Invalid filter clause: attribute '\(path[2])' is not defined in attribute set '\(set.id)'.")
        }
        guard isAdvanced else { throw unsupported(definition) }
        guard definition.isSearchable else {
            throw unsupported(definition, detail: "The attribute is not searchable (isSearchable is false).")
        }
        return definition
    }

    func attributeComparison(_ path: [String], _ op: ComparisonOperator, _ literal: FilterLiteral) throws(GraphError)
        -> ObjectPredicate
    {
        let definition = try attributeDefinition(path)
        let value: AttributeValue
        switch (definition.type, literal) {
        case (.string, .string(let s)): value = .string(s)
        case (.integer, .integer(let i)):
            guard let v = Int32(exactly: i) else {
                throw .badRequest("Invalid filter clause: \(i) is out of range for the Int32 attribute '\(definition.id)'.")
            }
            value = .integer(v)
        case (.boolean, .boolean(let b)): value = .boolean(b)
        default:
            throw .badRequest(
                "Invalid filter clause: attribute '\(definition.id)' is of type \(definition.type.rawValue); compare it with an unquoted integer, true/false, or a quoted string as its type requires."
            )
        }
        switch op {
        case .eq: return .attribute(definition, .equals(value))
        case .ne: return .not(.attribute(definition, .equals(value)))
        case .gt, .ge, .lt, .le:
            guard allowsRanges, case .integer(let bound) = value else { throw unsupported(definition) }
            return .attribute(definition, .compare(op, bound))
        }
    }

    func property(_ path: [String]) throws(GraphError) -> (String, PropertyKind) {
        let properties = Self.filterableProperties(kind)
        guard path.count == 1, let match = properties.keys.first(where: { $0.lowercased() == path[0].lowercased() }),
            let type = properties[match]
        else {
            throw .badRequest(
                "Invalid filter clause: '\(path.joined(separator: "/"))' is not a filterable property of \(kind.entitySet).")
        }
        return (match, type)
    }

    func propertyComparison(_ path: [String], _ op: ComparisonOperator, _ literal: FilterLiteral) throws(GraphError)
        -> ObjectPredicate
    {
        let (name, type) = try property(path)
        let match: PropertyMatch
        switch (type, literal) {
        case (.string, .string(let s)): match = .equals(s)
        case (.string, .null), (.boolean, .null): match = .equals(nil)
        case (.boolean, .boolean(let b)): match = .equalsBool(b)
        default:
            throw .badRequest("Invalid filter clause: property '\(name)' cannot be compared with that value.")
        }
        switch op {
        case .eq: return .property(name, match)
        case .ne:
            guard isAdvanced else {
                throw .unsupportedQuery(
                    "Operator 'ne' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"
                )
            }
            return .not(.property(name, match))
        default:
            throw .unsupportedQuery("Operator '\(op.rawValue)' is not supported on property '\(name)'.")
        }
    }
}

/// `$orderby` on users and service principals: by display name (case-insensitively), then by
/// the object's stable position, so pages never skip or repeat an object.
public enum ObjectOrder: Sendable, Equatable {
    case displayName(descending: Bool)

    /// Parses `displayName`, `displayName asc` or `displayName desc` (names case-insensitive).
    public init(orderBy: String) throws(GraphError) {
        let parts = orderBy.split(separator: " ", omittingEmptySubsequences: true).map { $0.lowercased() }
        guard let property = parts.first, property == "displayname", parts.count <= 2 else {
            throw .unsupportedQuery("Unsupported Query: $orderby is supported on displayName only.")
        }
        switch parts.count == 2 ? parts[1] : "asc" {
        case "asc": self = .displayName(descending: false)
        case "desc": self = .displayName(descending: true)
        default: throw .badRequest("Invalid $orderby direction '\(parts[1])': use asc or desc.")
        }
    }
}
