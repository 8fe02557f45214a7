/// The OData system query options of one request. Names match case-insensitively, with or
/// without the `$`, as Graph accepts them.
public struct QueryOptions: Sendable, Equatable {
    public var select: [String]?
    public var top: Int?
    public var filter: FilterExpression?
    public var filterText: String?
    public var expand: [String]?
    public var count: Bool = false
    public var orderBy: String?
    public var skipToken: String?
    public var search: String?
    /// `ConsistencyLevel=eventual` given as a query parameter.
    public var consistencyLevelEventual = false

    public init() {}

    static let known: Set<String> = [
        "select", "top", "filter", "expand", "count", "orderby", "skiptoken", "search", "skip", "format",
    ]

    public static func parse(_ items: [(name: String, value: String)]) throws(GraphError) -> QueryOptions {
        var options = QueryOptions()
        var seen: Set<String> = []
        for (rawName, value) in items {
            let lowered = rawName.lowercased()
            if lowered == "consistencylevel" {
                options.consistencyLevelEventual = value.lowercased() == "eventual"
                continue
            }
            let name = lowered.hasPrefix("$") ? String(lowered.dropFirst()) : lowered
            guard known.contains(name) else {
                // Parameters without `$` that are not options are ignored, as Graph does.
                if lowered.hasPrefix("$") { throw .badRequest("Query option '\(rawName)' is not supported.") }
                continue
            }
            guard seen.insert(name).inserted else {
                throw .badRequest("Query option '$\(name)' was specified more than once; it may appear only once.")
            }
            switch name {
            case "select":
                let names = value.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
                guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
                    throw .badRequest("Invalid $select value '\(value)': expected a comma-separated list of properties.")
                }
                guard names.count <= Limits.selectProperties else {
                    throw .badRequest("$select names \(names.count) properties; the limit is \(Limits.selectProperties).")
                }
                options.select = names
            case "top":
                guard let top = Int(value.trimmingSpaces), top >= 1, top <= Limits.maxPageSize else {
                    throw .badRequest(
                        "Invalid page size specified: '\(value)'. Must be between 1 and \(Limits.maxPageSize) inclusive.")
                }
                options.top = top
            case "filter":
                options.filterText = value
                options.filter = try FilterParser.parse(value)
            case "expand":
                let names = value.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
                guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
                    throw .badRequest("Invalid $expand value '\(value)'.")
                }
                options.expand = names
            case "count":
                switch value.lowercased() {
                case "true": options.count = true
                case "false": options.count = false
                default: throw .badRequest("Invalid $count value '\(value)': expected true or false.")
                }
            case "orderby": options.orderBy = value.trimmingSpaces
            case "skiptoken": options.skipToken = value
            case "search": options.search = value
            case "skip": throw .badRequest("'$skip' is not supported by this API; follow @odata.nextLink to page.")
            case "format":
                guard value.lowercased() == "json" else { throw .badRequest("Only $format=json is supported.") }
            default: break
            }
        }
        return options
    }

    /// Refuses options a route does not implement, naming the first.
    public func reject(_ names: Set<String>) throws(GraphError) {
        let present: [(String, Bool)] = [
            ("select", select != nil), ("top", top != nil), ("filter", filter != nil), ("expand", expand != nil),
            ("count", count), ("orderby", orderBy != nil), ("skiptoken", skipToken != nil), ("search", search != nil),
        ]
        if let (name, _) = present.first(where: { names.contains($0.0) && $0.1 }) {
            throw .badRequest("Query option '$\(name)' is not supported on this resource.")
        }
    }

    /// Checks `$select` against the names a resource declares (case-insensitively) and returns
    /// them spelled as declared.
    public func selection(from declared: [String]) throws(GraphError) -> [String]? {
        guard let select else { return nil }
        var result: [String] = []
        for name in select {
            guard let match = declared.first(where: { $0.lowercased() == name.lowercased() }) else {
                throw .badRequest("Could not find a property named '\(name)' on type in $select.")
            }
            if !result.contains(match) { result.append(match) }
        }
        return result
    }
}

extension AttributeDefinition {
    /// Evaluates a definitions-list `$filter`: `eq` on the definition's own properties,
    /// combined with `and`, as Graph documents it. Names compare case-insensitively.
    public func matches(_ filter: FilterExpression) throws(GraphError) -> Bool {
        switch filter {
        case .and(let l, let r):
            let left = try matches(l)
            let right = try matches(r)
            return left && right
        case .comparison(let path, .eq, let literal) where path.count == 1:
            switch (path[0], literal) {
            case ("attributeSet", .string(let s)): return nameKey(attributeSet) == nameKey(s)
            case ("name", .string(let s)): return nameKey(name) == nameKey(s)
            case ("id", .string(let s)): return nameKey(id) == nameKey(s)
            case ("status", .string(let s)): return status.rawValue == s
            case ("type", .string(let s)): return type.rawValue == s
            case ("isCollection", .boolean(let b)): return isCollection == b
            case ("isSearchable", .boolean(let b)): return isSearchable == b
            case ("usePreDefinedValuesOnly", .boolean(let b)): return usePreDefinedValuesOnly == b
            case ("attributeSet", _), ("name", _), ("id", _), ("status", _), ("type", _), ("isCollection", _),
                ("isSearchable", _), ("usePreDefinedValuesOnly", _):
                throw .badRequest("Invalid filter clause: the value compared with '\(path[0])' has the wrong type.")
            default:
                throw .unsupportedQuery(
                    "Unsupported or invalid query filter clause specified for property '\(path.joined(separator: "/"))' of resource 'CustomSecurityAttributeDefinition'."
                )
            }
        default:
            throw .unsupportedQuery(
                "Unsupported Query: definitions can be filtered with 'eq' on their properties, combined with 'and'.")
        }
    }
}
