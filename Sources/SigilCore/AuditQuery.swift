import Foundation

/// What a read of the audit log asks for: the `$filter` clauses Graph supports on
/// `customSecurityAttributeAudits`, all joined by `and`, plus the order.
public struct AuditQuery: Sendable, Equatable {
    /// Bounds on `activityDateTime`, as record timestamps (`AuditRecord.timestamp`), which sort
    /// as text.
    public var earliest: String?
    public var latest: String?
    public var activity: AuditActivity?
    /// Lower-cased prefix of the activity name.
    public var activityPrefix: String?
    public var initiatorUserId: String?
    public var initiatorAppId: String?
    /// Lower-cased id of an object among the record's targets.
    public var targetId: String?
    public var result: AuditRecord.Result?
    public var newestFirst = true

    public init() {}

    /// Whether a record of `activity` can match the activity clauses (they can be decided
    /// before touching the store).
    public func admits(_ activity: AuditActivity) -> Bool {
        activity.category == AuditActivity.category
            && (self.activity.map { $0 == activity } ?? true)
            && (activityPrefix.map { activity.rawValue.lowercased().hasPrefix($0) } ?? true)
    }

    /// The activities the activity clauses admit: all six attribute activities when there are none.
    public var activities: [AuditActivity] { AuditActivity.allCases.filter(admits) }

    /// Reads `$filter` and `$orderby`. Anything outside the supported clauses is refused with a
    /// message naming it.
    public static func parse(filter: String?, orderBy: [String]?) throws(GraphError) -> AuditQuery {
        var query = AuditQuery()
        if let orderBy {
            guard orderBy.count == 1 else { throw .badRequest("$orderby supports 'activityDateTime' only.") }
            let parts = orderBy[0].split(separator: " ", omittingEmptySubsequences: true).map { $0.lowercased() }
            guard parts.first == "activitydatetime", parts.count <= 2 else {
                throw .badRequest("$orderby supports 'activityDateTime' only.")
            }
            if parts.count == 2 {
                guard ["asc", "desc"].contains(parts[1]) else { throw .badRequest("$orderby direction must be 'asc' or 'desc'.") }
                query.newestFirst = parts[1] == "desc"
            } else {
                query.newestFirst = false
            }
        }
        guard let filter else { return query }
        try AuditFilterScanner.clauses(of: filter, lambdas: true) { (scanner) throws(GraphError) in try scanner.clause(into: &query) }
        return query
    }

    static func invalid(_ detail: String) -> GraphError { ODataTokenizer.invalid(detail) }

    /// An OData date-time literal (`2026-11-30`, `2026-11-30T08:00:00Z`, with fractions or an
    /// offset) as a record timestamp.
    static func timestamp(_ literal: String) throws(GraphError) -> String {
        // Fractions are kept digit for digit (Foundation would round them to milliseconds), so a
        // record's own activityDateTime finds it with eq.
        if let dot = literal.firstIndex(of: "."), literal.hasSuffix("Z") {
            let digits = literal[literal.index(after: dot)..<literal.index(before: literal.endIndex)]
            if !digits.isEmpty, digits.count <= 7, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                let whole = try? Date.ISO8601FormatStyle().parse(literal[..<dot] + "Z")
            {
                return "\(AuditRecord.timestamp(whole).prefix(19)).\(digits.padding(toLength: 7, withPad: "0", startingAt: 0))Z"
            }
        }
        let styles: [Date.ISO8601FormatStyle] = [
            .iso8601, Date.ISO8601FormatStyle(includingFractionalSeconds: true),
            Date.ISO8601FormatStyle().year().month().day(),
        ]
        for style in styles {
            if let date = try? style.parse(literal) { return AuditRecord.timestamp(date) }
        }
        throw invalid("'\(literal)' is not a date-time; write it as 2026-11-30T08:00:00Z")
    }
}

/// Reads the clauses of an audit `$filter` from `ODataTokenizer`'s tokens: words (property
/// paths, operators), quoted strings, unquoted date-times, and the punctuation of
/// `startswith(...)` and `any(t: ...)`.
struct AuditFilterScanner {
    let tokens: [ODataToken]
    /// The position just past the text, for errors at its end.
    let end: Int
    var position = 0

    /// The position of the current token (or the end of the text).
    var here: Int { position < tokens.count ? tokens[position].position : end }

    /// An error pointing at the current token (or the end of the text).
    func invalidHere(_ detail: String) -> GraphError {
        AuditQuery.invalid("\(detail) at position \(here)")
    }

    var peek: String? { position < tokens.count ? tokens[position].text : nil }

    mutating func takeWord(_ word: String) -> Bool {
        guard position < tokens.count, case .word(let found) = tokens[position].kind, found.lowercased() == word else { return false }
        position += 1
        return true
    }

    mutating func word() throws(GraphError) -> String {
        guard position < tokens.count, case .word(let found) = tokens[position].kind else {
            throw invalidHere(peek.map { "expected a property or value but found '\($0)'" } ?? "the filter ends too early")
        }
        position += 1
        return found
    }

    mutating func string() throws(GraphError) -> String {
        guard position < tokens.count, case .string(let found) = tokens[position].kind else {
            throw invalidHere(peek.map { "expected a quoted string but found '\($0)'" } ?? "the filter ends too early")
        }
        position += 1
        return found
    }

    mutating func expect(_ symbol: ODataToken.Kind) throws(GraphError) {
        guard position < tokens.count, tokens[position].kind == symbol else {
            throw invalidHere("expected '\(symbol.text)'" + (peek.map { " but found '\($0)'" } ?? ""))
        }
        position += 1
    }

    /// A string literal, or an unquoted date-time, number or word as written (date-times are
    /// written without quotes).
    mutating func literal() throws(GraphError) -> String {
        guard position < tokens.count else { throw invalidHere("the filter ends too early") }
        switch tokens[position].kind {
        case .string: return try string()
        case .dateTime, .number:
            position += 1
            return tokens[position - 1].source
        default: return try word()
        }
    }

    /// Reads `filter` as clauses joined by `and`, each read by `clause`; anything after the last
    /// clause is refused. A chain of n clauses is n - 1 levels deep, as in resource filters.
    static func clauses(
        of filter: String, lambdas: Bool, _ clause: (inout AuditFilterScanner) throws(GraphError) -> Void
    ) throws(GraphError) {
        var scanner = AuditFilterScanner(
            tokens: try ODataTokenizer.tokenize(filter, lambdas: lambdas, dateTimes: true), end: ODataTokenizer.end(of: filter))
        var clauses = 0
        repeat {
            clauses += 1
            guard clauses - 1 <= Limits.filterDepth else { throw ODataTokenizer.tooDeep(at: scanner.here) }
            try clause(&scanner)
        } while scanner.takeWord("and")
        if let extra = scanner.peek { throw scanner.invalidHere("unexpected '\(extra)'") }
    }

    mutating func clause(into query: inout AuditQuery) throws(GraphError) {
        let head = try word()
        let lowered = head.lowercased()
        if lowered == "startswith" {
            try expect(.open)
            let property = try word()
            guard property.lowercased() == "activitydisplayname" else {
                throw AuditQuery.invalid("startswith is supported on 'activityDisplayName' only")
            }
            try expect(.comma)
            let prefix = try string()
            try expect(.close)
            try set(&query.activityPrefix, prefix.lowercased(), "activityDisplayName")
            return
        }
        if lowered == "targetresources/any" {
            try expect(.open)
            let variable = try word()
            try expect(.colon)
            guard try word().lowercased() == "\(variable.lowercased())/id", takeWord("eq") else {
                throw AuditQuery.invalid("targetResources/any supports '\(variable)/id eq' only")
            }
            let id = try string()
            try expect(.close)
            try set(&query.targetId, id.lowercased(), "targetResources")
            return
        }
        let op = try word().lowercased()
        switch lowered {
        case "activitydatetime":
            let value = try AuditQuery.timestamp(try literal())
            switch op {
            case "eq":
                query.earliest = value
                query.latest = value
            case "ge": query.earliest = value
            case "le": query.latest = value
            default: throw AuditQuery.invalid("activityDateTime supports eq, ge and le, not '\(op)'")
            }
        case "activitydisplayname":
            guard op == "eq" else { throw AuditQuery.invalid("activityDisplayName supports eq and startswith, not '\(op)'") }
            let name = try string()
            guard let activity = AuditActivity.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
                // No record can have another name: an empty result, not an error.
                query.activityPrefix = "\u{0}"
                return
            }
            query.activity = activity
        case "initiatedby/user/id":
            guard op == "eq" else { throw AuditQuery.invalid("initiatedBy/user/id supports eq only") }
            try set(&query.initiatorUserId, try string().lowercased(), head)
        case "initiatedby/app/appid":
            guard op == "eq" else { throw AuditQuery.invalid("initiatedBy/app/appId supports eq only") }
            try set(&query.initiatorAppId, try string().lowercased(), head)
        case "result":
            guard op == "eq", let result = AuditRecord.Result(rawValue: try string().lowercased()) else {
                throw AuditQuery.invalid("result supports eq 'success' or eq 'failure' only")
            }
            query.result = result
        default:
            throw AuditQuery.invalid(
                "'\(head)' cannot be filtered on; use activityDateTime, activityDisplayName, initiatedBy/user/id, "
                    + "initiatedBy/app/appId, result or targetResources/any(t: t/id eq '...')")
        }
    }

    func set(_ field: inout String?, _ value: String, _ name: String) throws(GraphError) {
        guard field == nil else { throw AuditQuery.invalid("'\(name)' appears more than once") }
        field = value
    }
}
