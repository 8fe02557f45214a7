import Foundation
import PostgresNIO
import SigilCore

/// SQL built piece by piece with its binds; `bind` returns the placeholder to write.
struct SQLStatement: Sendable {
    var sql = ""
    var binds = PostgresBindings()

    mutating func bind<T: PostgresDynamicTypeEncodable>(_ value: T) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

/// Changes to the maintained counts, applied at the end of a transaction in key order, so that
/// concurrent writers take the counter rows' locks in one order and cannot deadlock on them.
struct CountDeltas {
    var objects: [String: Int64] = [:]
    var values: [ValueCountKey: Int64] = [:]

    struct ValueCountKey: Hashable, Comparable {
        let kind: String
        let seq: Int64
        let value: String

        static func < (a: Self, b: Self) -> Bool { (a.kind, a.seq, a.value) < (b.kind, b.seq, b.value) }
    }

    func apply(_ s: PostgresStore.Session) async throws {
        let objectChanges = objects.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        if !objectChanges.isEmpty {
            try await s.execute(
                """
                INSERT INTO object_counts (kind, objects)
                SELECT * FROM unnest(\(objectChanges.map(\.key))::text[], \(objectChanges.map(\.value))::int8[])
                ON CONFLICT (kind) DO UPDATE SET objects = object_counts.objects + excluded.objects
                """)
        }
        let valueChanges = values.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        if !valueChanges.isEmpty {
            try await s.execute(
                """
                INSERT INTO attribute_value_counts (kind, definition_seq, value_key, objects)
                SELECT * FROM unnest(\(valueChanges.map(\.key.kind))::text[], \(valueChanges.map(\.key.seq))::int8[],
                    \(valueChanges.map(\.key.value))::text[], \(valueChanges.map(\.value))::int8[])
                ON CONFLICT (kind, definition_seq, value_key)
                DO UPDATE SET objects = attribute_value_counts.objects + excluded.objects
                """)
        }
    }
}

/// Value rows to rewrite: for each (object, attribute) whose values changed, the old rows go and
/// the new ones come, with the per-value counts following.
struct ValueRows {
    var deleteRowids: [Int64] = []
    var deleteSeqs: [Int64] = []
    var text: (rowids: [Int64], seqs: [Int64], values: [String], ordinals: [Int64], kinds: [String]) = ([], [], [], [], [])
    var int: (rowids: [Int64], seqs: [Int64], values: [Int64], ordinals: [Int64], kinds: [String]) = ([], [], [], [], [])

    mutating func add(
        _ new: AttributeAssignments, previous: AttributeAssignments, rowid: Int64, kind: DirectoryObjectKind,
        _ snapshot: PostgresStore.SchemaSnapshot, _ deltas: inout CountDeltas
    ) throws {
        var changed = Set(new.attributes.map { nameKey($0.definitionId) })
        changed.formUnion(previous.attributes.map { nameKey($0.definitionId) })
        for key in changed.sorted() {
            let old = previous.values(of: key)
            let fresh = new.values(of: key)
            guard old != fresh else { continue }
            guard let seq = snapshot.seq(key) else { throw GraphError.invalidProperty(key) }
            if !old.isEmpty {
                deleteRowids.append(rowid)
                deleteSeqs.append(seq)
            }
            for (ordinal, value) in fresh.enumerated() {
                switch value {
                case .string(let string):
                    text.rowids.append(rowid)
                    text.seqs.append(seq)
                    text.values.append(string)
                    text.ordinals.append(Int64(ordinal))
                    text.kinds.append(kind.rawValue)
                case .integer, .boolean:
                    int.rowids.append(rowid)
                    int.seqs.append(seq)
                    int.values.append(StoredValue.columns(value).1 ?? 0)
                    int.ordinals.append(Int64(ordinal))
                    int.kinds.append(kind.rawValue)
                }
            }
            for value in old where !fresh.contains(value) {
                deltas.values[.init(kind: kind.rawValue, seq: seq, value: StoredValue.countKey(value)), default: 0] -= 1
            }
            for value in fresh where !old.contains(value) {
                deltas.values[.init(kind: kind.rawValue, seq: seq, value: StoredValue.countKey(value)), default: 0] += 1
            }
        }
    }

    func write(_ s: PostgresStore.Session) async throws {
        if !deleteRowids.isEmpty {
            try await s.execute(
                """
                DELETE FROM attribute_values WHERE (object_rowid, definition_seq) IN
                    (SELECT * FROM unnest(\(deleteRowids)::int8[], \(deleteSeqs)::int8[]))
                """)
        }
        if !text.rowids.isEmpty {
            try await s.execute(
                """
                INSERT INTO attribute_values (object_rowid, definition_seq, value_text, ordinal, kind)
                SELECT r, d, v, o::integer, k FROM unnest(\(text.rowids)::int8[], \(text.seqs)::int8[], \(text.values)::text[],
                    \(text.ordinals)::int8[], \(text.kinds)::text[]) AS n(r, d, v, o, k)
                """)
        }
        if !int.rowids.isEmpty {
            try await s.execute(
                """
                INSERT INTO attribute_values (object_rowid, definition_seq, value_int, ordinal, kind)
                SELECT r, d, v, o::integer, k FROM unnest(\(int.rowids)::int8[], \(int.seqs)::int8[], \(int.values)::int8[],
                    \(int.ordinals)::int8[], \(int.kinds)::text[]) AS n(r, d, v, o, k)
                """)
        }
    }
}

/// Value rows, ordered by object, definition and ordinal, kept until they are decoded into
/// assignments per object against a schema snapshot.
struct ValueReader {
    private var rows: [(rowid: Int64, seq: Int64, text: String?, int: Int64?)] = []

    var isEmpty: Bool { rows.isEmpty }

    mutating func add(rowid: Int64, seq: Int64, text: String?, int: Int64?) {
        rows.append((rowid, seq, text, int))
    }

    /// Nil when a row's definition is not in `snapshot` (unless `skippingUnknown`).
    func finish(_ snapshot: PostgresStore.SchemaSnapshot, skippingUnknown: Bool = false) -> [Int64: AttributeAssignments]? {
        var result: [Int64: [AssignedAttribute]] = [:]
        var last: (rowid: Int64, seq: Int64) = (-1, -1)
        for row in rows {
            guard let definition = snapshot.definitionsBySeq[row.seq] else {
                if skippingUnknown { continue }
                return nil
            }
            let value: AttributeValue =
                switch definition.type {
                case .integer: .integer(Int32(truncatingIfNeeded: row.int ?? 0))
                case .boolean: .boolean((row.int ?? 0) != 0)
                case .string: .string(row.text ?? "")
                }
            if last == (row.rowid, row.seq), let index = result[row.rowid]?.indices.last {
                result[row.rowid]?[index].values.append(value)
            } else {
                result[row.rowid, default: []].append(AssignedAttribute(definitionId: definition.id, values: [value]))
            }
            last = (row.rowid, row.seq)
        }
        return result.mapValues { AttributeAssignments($0) }
    }
}

/// `$filter` on directory objects in PostgreSQL. Attribute conditions are `EXISTS` probes on the
/// value table, `eq` pages are driven from the (definition, value, object) index in object
/// order, and counts come from the maintained counts (`eq`, `ne`) or from index range scans.
extension PostgresStore {
    /// Compiles a predicate over `directory_objects o` into `statement`'s binds; returns the SQL.
    static func compile(_ predicate: ObjectPredicate, _ snapshot: SchemaSnapshot, into statement: inout SQLStatement) -> String {
        switch predicate {
        case .and(let l, let r):
            return "(\(compile(l, snapshot, into: &statement)) AND \(compile(r, snapshot, into: &statement)))"
        case .or(let l, let r):
            return "(\(compile(l, snapshot, into: &statement)) OR \(compile(r, snapshot, into: &statement)))"
        case .not(let inner):
            return "(NOT \(compile(inner, snapshot, into: &statement)))"
        case .attribute(let definition, let match):
            // An attribute with no row cannot match: -1 is never a seq.
            let seq = statement.bind(snapshot.seq(definition.id) ?? -1)
            let condition = valueCondition(match, alias: "v", into: &statement)
            return "EXISTS (SELECT 1 FROM attribute_values v WHERE v.object_rowid = o.rowid AND v.definition_seq = \(seq) AND \(condition))"
        case .property(let name, let match):
            return propertyCondition(name, match, into: &statement)
        }
    }

    /// The condition on one value row. Text compares in byte order (the columns are `COLLATE "C"`),
    /// so `startsWith` is a range on the value index.
    static func valueCondition(_ match: AttributeMatch, alias v: String, into statement: inout SQLStatement) -> String {
        switch match {
        case .equals(let value):
            switch StoredValue.columns(value) {
            case (let text?, _): return "\(v).value_text = \(statement.bind(text))"
            case (_, let int?): return "\(v).value_int = \(statement.bind(int))"
            default: return "false"
            }
        case .startsWith(let prefix):
            guard let upper = StoredValue.prefixSuccessor(prefix) else {
                return "\(v).value_text >= \(statement.bind(prefix))"
            }
            return "\(v).value_text >= \(statement.bind(prefix)) AND \(v).value_text < \(statement.bind(upper))"
        case .compare(let op, let bound):
            return "\(v).value_int \(op.sql) \(statement.bind(Int64(bound)))"
        }
    }

    /// Ordinary properties live in the JSON text; strings compare case-insensitively as in Graph.
    static func propertyCondition(_ name: String, _ match: PropertyMatch, into statement: inout SQLStatement) -> String {
        let column: String =
            switch name {
            case "id": "o.id"
            case "userPrincipalName": "o.upn_key"
            case "appId": "o.app_id"
            default: "(o.properties::json ->> \(statement.bind(name)))"
            }
        switch match {
        case .equals(nil):
            return "(\(column) IS NULL)"
        case .equals(let text?):
            return "(lower(\(column)) = lower(\(statement.bind(text))))"
        case .equalsBool(let flag):
            return "(\(column) = \(statement.bind(flag ? "true" : "false")))"
        case .startsWith(let prefix):
            return "starts_with(lower(\(column)), lower(\(statement.bind(prefix))))"
        }
    }

    // MARK: Counting

    static func total(_ kind: DirectoryObjectKind, _ s: Session) async throws -> Int {
        Int(try await s.scalar("SELECT objects FROM object_counts WHERE kind = \(kind.rawValue)", Int64.self) ?? 0)
    }

    /// The exact number of objects of `kind` matching `predicate`, by the cheapest exact means.
    static func countMatches(
        _ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, _ snapshot: SchemaSnapshot, _ s: Session
    ) async throws -> Int {
        guard let predicate else { return try await total(kind, s) }
        switch predicate {
        case .not(let inner):
            return try await total(kind, s) - countMatches(kind, inner, snapshot, s)
        case .attribute(let definition, .equals(let value)):
            return Int(
                try await s.scalar(
                    """
                    SELECT objects FROM attribute_value_counts
                    WHERE kind = \(kind.rawValue) AND definition_seq = \(snapshot.seq(definition.id) ?? -1)
                        AND value_key = \(StoredValue.countKey(value))
                    """, Int64.self) ?? 0)
        case .attribute(let definition, let match):
            return try await count(rangeCount(kind, definition, match, snapshot), s)
        default:
            var statement = SQLStatement()
            let kindBind = statement.bind(kind.rawValue)
            let condition = compile(predicate, snapshot, into: &statement)
            statement.sql = "SELECT count(*) FROM directory_objects o WHERE o.kind = \(kindBind) AND \(condition)"
            return try await count(statement, s)
        }
    }

    /// A count over one range of the value index (the value rows carry their object's kind);
    /// DISTINCT only for collections, where one object may match twice.
    static func rangeCount(
        _ kind: DirectoryObjectKind, _ definition: AttributeDefinition, _ match: AttributeMatch, _ snapshot: SchemaSnapshot
    ) -> SQLStatement {
        var statement = SQLStatement()
        let seq = statement.bind(snapshot.seq(definition.id) ?? -1)
        let condition = valueCondition(match, alias: "v", into: &statement)
        let counted = definition.isCollection ? "count(DISTINCT v.object_rowid)" : "count(*)"
        statement.sql = """
            SELECT \(counted) FROM attribute_values v
            WHERE v.definition_seq = \(seq) AND \(condition) AND v.kind = \(statement.bind(kind.rawValue))
            """
        return statement
    }

    static func count(_ statement: SQLStatement, _ s: Session) async throws -> Int {
        for try await value in try await s.query(statement).decode(Int64.self) { return Int(value) }
        return 0
    }

    // MARK: Paging

    public func query(
        _ kind: DirectoryObjectKind, matching predicate: ObjectPredicate?, reader: String?, order: ObjectOrder?,
        after cursor: Int64?, afterSortKey: String?, limit: Int, count: Bool, withAttributes: Bool
    ) async throws -> (page: DirectoryPage, count: Int?) {
        try await transaction(readOnly: true) { s in
            let snapshot = try await self.snapshot(s, fresh: false)
            let (seen, adjustment) = try await self.asSeen(predicate, by: reader, kind, s)
            // Counted with the original predicate's fast paths, corrected by the reader's object.
            let matches = count ? try await Self.countMatches(kind, predicate, snapshot, s) + adjustment : nil
            let statement = Self.pageStatement(
                kind, seen, order, after: cursor, afterSortKey: afterSortKey, limit: limit + 1, snapshot)
            var rows: [(rowid: Int64, object: DirectoryObject, sortKey: String)] = []
            for try await (rowid, id, kind, properties, sortKey) in try await s.query(statement).decode(
                (Int64, String, String, String, String).self)
            {
                rows.append((rowid, try Self.decodeObject(id: id, kind: kind, properties: properties), sortKey))
            }
            let page = rows.prefix(limit)
            let next = rows.count > limit ? page.last?.rowid : nil
            let attributes: [String: AttributeAssignments]?
            if withAttributes {
                let byRowid = try await self.loadAttributes(s, rowids: page.map(\.rowid))
                var byId: [String: AttributeAssignments] = [:]
                for row in page { byId[row.object.id] = byRowid[row.rowid] }
                attributes = byId
            } else {
                attributes = nil
            }
            return (
                DirectoryPage(
                    objects: page.map(\.object), next: next, attributes: attributes,
                    nextSortKey: next != nil && order != nil ? page.last?.sortKey : nil),
                matches
            )
        }
    }

    /// `predicate` as `reader` may apply it, judged against the reader's own object and values in
    /// this same transaction.
    func asSeen(_ predicate: ObjectPredicate?, by reader: String?, _ kind: DirectoryObjectKind, _ s: Session) async throws
        -> (ObjectPredicate?, Int)
    {
        guard let predicate, let reader, predicate.mentionsAttributes else { return (predicate, 0) }
        let found = try await Self.objects(
            s.query(
                """
                SELECT \(unescaped: Self.objectColumns) FROM directory_objects o
                WHERE o.id = \(reader.lowercased()) AND o.kind = \(kind.rawValue)
                """)
        ).first
        guard let (rowid, object) = found else { return (predicate, 0) }
        let values = try await loadAttributes(s, rowids: [rowid])[rowid]
        let seen = predicate.asSeen(by: object, holding: values ?? AttributeAssignments())
        return (seen.predicate, seen.countAdjustment)
    }

    /// The statement for one page: in display-name order along its index, else in rowid order,
    /// driven by an `eq` term's (definition, value, object) index when there is one.
    static func pageStatement(
        _ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, _ order: ObjectOrder?, after cursor: Int64?,
        afterSortKey: String?, limit: Int, _ snapshot: SchemaSnapshot
    ) -> SQLStatement {
        var statement = SQLStatement()
        let kindBind = statement.bind(kind.rawValue)
        let columns = "o.rowid, o.id, o.kind, o.properties, o.display_key"
        if case .displayName(let descending)? = order {
            let condition = predicate.map { compile($0, snapshot, into: &statement) } ?? "true"
            let (op, direction) = descending ? ("<", "DESC") : (">", "ASC")
            var keyset = "true"
            if let cursor {
                keyset = "(o.display_key, o.rowid) \(op) (\(statement.bind(afterSortKey ?? "")), \(statement.bind(cursor)))"
            }
            statement.sql = """
                SELECT \(columns) FROM directory_objects o WHERE o.kind = \(kindBind) AND \(keyset) AND \(condition)
                ORDER BY o.display_key \(direction), o.rowid \(direction) LIMIT \(statement.bind(Int64(limit)))
                """
            return statement
        }
        let after = statement.bind(cursor ?? 0)
        let terms = predicate?.conjuncts ?? []
        if let index = terms.firstIndex(where: {
            if case .attribute(_, .equals) = $0 { return true }
            return false
        }), case .attribute(let definition, .equals(let value)) = terms[index] {
            // The driving term is the index range itself; only the others are checked per object.
            var rest = terms
            rest.remove(at: index)
            let others = rest.map { compile($0, snapshot, into: &statement) }
            let seq = statement.bind(snapshot.seq(definition.id) ?? -1)
            let driver = valueCondition(.equals(value), alias: "d", into: &statement)
            statement.sql = """
                SELECT \(columns) FROM attribute_values d JOIN directory_objects o ON o.rowid = d.object_rowid
                WHERE d.definition_seq = \(seq) AND \(driver) AND d.kind = \(kindBind) AND d.object_rowid > \(after)
                    AND \((others + ["true"]).joined(separator: " AND "))
                ORDER BY d.object_rowid LIMIT \(statement.bind(Int64(limit)))
                """
            return statement
        }
        let condition = predicate.map { compile($0, snapshot, into: &statement) } ?? "true"
        statement.sql = """
            SELECT \(columns) FROM directory_objects o WHERE o.kind = \(kindBind) AND o.rowid > \(after) AND \(condition)
            ORDER BY o.rowid LIMIT \(statement.bind(Int64(limit)))
            """
        return statement
    }

    /// The plan PostgreSQL chooses for a page or count query (for tests and diagnosis).
    func explain(_ kind: DirectoryObjectKind, _ predicate: ObjectPredicate?, countOnly: Bool = false) async throws -> String {
        try await withSession { s in
            let snapshot = try await self.snapshot(s)
            var statement: SQLStatement
            if countOnly, case .attribute(let definition, let match)? = predicate {
                statement = Self.rangeCount(kind, definition, match, snapshot)
            } else {
                statement = Self.pageStatement(kind, predicate, nil, after: nil, afterSortKey: nil, limit: 101, snapshot)
            }
            statement.sql = "EXPLAIN " + statement.sql
            var lines: [String] = []
            for try await line in try await s.query(statement).decode(String.self) { lines.append(line) }
            return lines.joined(separator: "\n")
        }
    }
}

/// Where the PostgreSQL database is: parsed from a `postgres://user:password@host:port/database`
/// URL with optional query parameters:
/// - `sslmode`: `disable`, `prefer` (the default) or `require` encrypt without checking the
///   server's certificate, as libpq does; `verify-ca` checks its chain, `verify-full` its chain
///   and host name;
/// - `sslrootcert`: a PEM file of trusted CAs for the verify modes (else the system's);
/// - `schema`: Sigil's tables in a schema of their own, created when missing;
/// - `pool_size`: connections per instance (default 20).
public struct PostgresLocation: Sendable {
    public let host: String
    public let port: Int
    public let username: String
    public let password: String?
    public let database: String?
    public let schema: String?
    public let sslMode: String
    public let sslRootCertificate: String?
    public let poolSize: Int?

    static let sslModes = ["disable", "prefer", "require", "verify-ca", "verify-full"]
    static let parameters = ["sslmode", "sslrootcert", "schema", "pool_size"]

    public static func isPostgresURL(_ url: String) -> Bool {
        let lowered = url.lowercased()
        return lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://")
    }

    public init(url: String) throws {
        guard Self.isPostgresURL(url), let components = URLComponents(string: url) else {
            throw PostgresStoreError.invalidURL("expected postgres://user:password@host:port/database")
        }
        guard let host = components.host, !host.isEmpty else { throw PostgresStoreError.invalidURL("the URL names no host") }
        self.host = host
        port = components.port ?? 5432
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw PostgresStoreError.invalidURL("the URL names no user")
        }
        username = user
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        let items = components.queryItems ?? []
        if let unknown = items.first(where: { !Self.parameters.contains($0.name) }) {
            throw PostgresStoreError.invalidURL(
                "unknown parameter '\(unknown.name)' (Sigil reads \(Self.parameters.joined(separator: ", ")))")
        }
        let query = Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        schema = query["schema"].flatMap { $0.isEmpty ? nil : $0 }
        sslMode = query["sslmode"] ?? "prefer"
        guard Self.sslModes.contains(sslMode) else {
            throw PostgresStoreError.invalidURL("sslmode must be one of \(Self.sslModes.joined(separator: ", "))")
        }
        sslRootCertificate = query["sslrootcert"].flatMap { $0.isEmpty ? nil : $0 }
        if let size = query["pool_size"] {
            guard let value = Int(size), (2...1000).contains(value) else {
                throw PostgresStoreError.invalidURL("pool_size must be a number from 2 to 1000")
            }
            poolSize = value
        } else {
            poolSize = nil
        }
    }

    func tlsConfiguration() -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case "verify-full": tls.certificateVerification = .fullVerification
        case "verify-ca": tls.certificateVerification = .noHostnameVerification
        default: tls.certificateVerification = .none
        }
        if let sslRootCertificate { tls.trustRoots = .file(sslRootCertificate) }
        return tls
    }

    var tls: PostgresClient.Configuration.TLS {
        switch sslMode {
        case "disable": .disable
        case "prefer": .prefer(tlsConfiguration())
        default: .require(tlsConfiguration())
        }
    }

    func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        switch sslMode {
        case "disable": .disable
        case "prefer": .prefer(try .init(configuration: tlsConfiguration()))
        default: .require(try .init(configuration: tlsConfiguration()))
        }
    }

    /// The URL without its password, for messages.
    public var redacted: String { "postgres://\(username)@\(host):\(port)/\(database ?? username)" }

    /// An advisory lock key for `purpose`, distinct per schema, so tenants in different schemas
    /// of one database never wait on each other (FNV-1a of the names).
    func lockKey(_ purpose: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "sigil/\(schema ?? "")/\(purpose)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
