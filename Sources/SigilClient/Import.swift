import Foundation
import SigilCore

/// Bulk assignment import: CSV rows (object, set, attribute, value with `|` between multiple
/// values) grouped by object, each group one PATCH (all or nothing), sent 20 to a `$batch` when the
/// server offers it (else one request each), several requests in flight at once.
public struct AssignmentImport: Sendable {
    public struct Row: Sendable {
        public let line: Int
        public let fields: [String]
        public var object: String { fields[0] }
        public var reference: String { "\(fields[1]).\(fields[2])" }
    }

    public struct Rejected: Sendable {
        public let row: Row
        public let reason: String
    }

    public struct Report: Sendable {
        public var written = 0
        public var objects = 0
        public var rejected: [Rejected] = []
    }

    public let rows: [Row]
    public let collection: String

    /// Reads the file's rows; a first row starting with `object` is a header.
    public init(csv: String, collection: String) throws {
        var parsed = CSV.parse(csv)
        var firstLine = 1
        if let header = parsed.first, header.first?.lowercased() == "object" {
            parsed.removeFirst()
            firstLine = 2
        }
        rows = parsed.enumerated().map { Row(line: $0.offset + firstLine, fields: $0.element) }
        self.collection = collection
    }

    /// Rows grouped by object, in the order objects first appear.
    var groups: [(object: String, rows: [Row])] {
        var order: [String] = []
        var byObject: [String: [Row]] = [:]
        for row in rows where row.fields.count == 4 {
            let key = row.object.lowercased()
            if byObject[key] == nil { order.append(key) }
            byObject[key, default: []].append(row)
        }
        return order.map { (byObject[$0]?.first?.object ?? $0, byObject[$0] ?? []) }
    }

    /// Checks one row against the definitions (and their predefined values): what a dry run
    /// reports, and what is refused before anything is sent.
    static func check(_ row: Row, _ catalog: AttributeCatalog) -> Result<(AttributeDefinition, [AttributeValue]), ClientError> {
        guard row.fields.count == 4 else {
            return .failure(.usage("expected 4 columns (object, set, attribute, value), found \(row.fields.count)"))
        }
        guard !row.object.isEmpty else { return .failure(.usage("the object column is empty")) }
        do {
            let definition = try catalog.definition(row.reference)
            let texts = row.fields[3].split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard definition.isCollection || texts.count == 1 else {
                return .failure(.usage("\(row.reference) takes one value, not \(texts.count)"))
            }
            let values = try texts.map { try AttributeCatalog.value($0, for: definition) }
            for case .string(let text) in values {
                guard !text.isEmpty, text.count <= Limits.assignedValueLength else {
                    return .failure(.usage("values of \(row.reference) must be 1 to \(Limits.assignedValueLength) characters"))
                }
            }
            if definition.usePreDefinedValuesOnly, let allowed = catalog.allowedValues[nameKey(definition.id)] {
                for value in texts where !allowed.contains(where: { $0.id == value && $0.isActive }) {
                    return .failure(.usage("'\(value)' is not an active predefined value of \(row.reference)"))
                }
            }
            return .success((definition, values))
        } catch let error as ClientError {
            return .failure(error)
        } catch {
            return .failure(.usage("\(error)"))
        }
    }

    /// Validates every row; with `client` and not `dryRun`, writes each valid object group.
    /// `progress` is told how many rows are done.
    typealias Work = (object: String, rows: [Row], payload: JSONValue)

    static func path(_ item: Work, collection: String) -> String {
        "/\(collection)/\(item.object.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? item.object)"
    }

    static func body(_ item: Work) -> JSONValue { .object(JSONObject([("customSecurityAttributes", item.payload)])) }

    /// One object's PATCH on its own; a refusal is the rows' reason, an unreachable server ends the run.
    static func write(_ item: Work, collection: String, client: GraphAPIClient) async throws -> (rows: [Row], error: String?) {
        do {
            try await client.send("PATCH", path(item, collection: collection), body: body(item))
            return (item.rows, nil)
        } catch let error as ClientError {
            if case .unreachable = error { throw error }
            return (item.rows, "\(error)")
        }
    }

    /// The objects' PATCHes as one `$batch`, each answered on its own; nil when the server has no
    /// `$batch`. A refusal of the whole batch is every row's reason.
    static func write(batch items: [Work], collection: String, client: GraphAPIClient) async throws -> [(rows: [Row], error: String?)]? {
        let parts = items.enumerated().map { BatchPart(id: String($0.offset + 1), method: "PATCH", path: path($0.element, collection: collection), body: body($0.element)) }
        let answers: [String: ClientError?]
        do {
            guard let answered = try await client.batch(parts) else { return nil }
            answers = answered
        } catch let error as ClientError {
            if case .unreachable = error { throw error }
            return items.map { ($0.rows, "\(error)") }
        }
        return zip(items, parts).map { item, part in (item.rows, answers[part.id].flatMap { $0.map { "\($0)" } }) }
    }

    public func run(
        client: GraphAPIClient, dryRun: Bool, concurrency: Int, progress: @escaping @Sendable (Int) -> Void
    ) async throws -> Report {
        let sets = Array(Set(rows.filter { $0.fields.count == 4 }.map { $0.fields[1] }))
        let catalog = try await AttributeCatalog.load(sets: sets, client: client, withAllowedValues: true)
        var report = Report()
        for row in rows where row.fields.count != 4 {
            report.rejected.append(Rejected(row: row, reason: "expected 4 columns (object, set, attribute, value), found \(row.fields.count)"))
        }
        var work: [Work] = []
        for (object, groupRows) in groups {
            var changes: [(definition: AttributeDefinition, values: [AttributeValue])] = []
            var failures: [Rejected] = []
            for row in groupRows {
                switch Self.check(row, catalog) {
                case .success(let (definition, values)):
                    if let index = changes.firstIndex(where: { nameKey($0.definition.id) == nameKey(definition.id) }),
                        definition.isCollection
                    {
                        changes[index].values += values
                    } else {
                        changes.append((definition, values))
                    }
                case .failure(let error): failures.append(Rejected(row: row, reason: "\(error)"))
                }
            }
            if failures.isEmpty {
                work.append((object, groupRows, AssignmentRules.payload(setting: changes)))
            } else {
                report.rejected += failures
                let bad = Set(failures.map(\.row.line))
                report.rejected += groupRows.filter { !bad.contains($0.line) }.map {
                    Rejected(row: $0, reason: "not written: another row for \(object) was refused")
                }
                progress(groupRows.count)
            }
        }
        if dryRun {
            for item in work { progress(item.rows.count) }
            report.written = work.reduce(0) { $0 + $1.rows.count }
            report.objects = work.count
            return report
        }
        func record(_ outcomes: [(rows: [Row], error: String?)]) {
            for (rows, error) in outcomes {
                if let error {
                    report.rejected += rows.map { Rejected(row: $0, reason: error) }
                } else {
                    report.written += rows.count
                    report.objects += 1
                }
                progress(rows.count)
            }
        }
        // Up to 20 objects per `$batch` when the server offers it; the first batch finds out.
        var units = stride(from: 0, to: work.count, by: Limits.batchRequests).map {
            Array(work[$0..<min($0 + Limits.batchRequests, work.count)])
        }
        var batched = false
        if let first = units.first {
            if let outcomes = try await Self.write(batch: first, collection: collection, client: client) {
                record(outcomes)
                units.removeFirst()
                batched = true
            } else {
                units = work.map { [$0] }
            }
        }
        let collection = collection
        let useBatch = batched
        try await withThrowingTaskGroup(of: [(rows: [Row], error: String?)].self) { group in
            var iterator = units.makeIterator()
            func launch() {
                guard let unit = iterator.next() else { return }
                group.addTask {
                    if useBatch, let outcomes = try await Self.write(batch: unit, collection: collection, client: client) {
                        return outcomes
                    }
                    var outcomes: [(rows: [Row], error: String?)] = []
                    for item in unit { outcomes.append(try await Self.write(item, collection: collection, client: client)) }
                    return outcomes
                }
            }
            for _ in 0..<max(1, concurrency) { launch() }
            while let outcomes = try await group.next() {
                record(outcomes)
                launch()
            }
        }
        report.rejected.sort { $0.row.line < $1.row.line }
        return report
    }
}
