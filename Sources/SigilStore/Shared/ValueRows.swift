import SigilCore

/// An attribute definition's row: the number that keys its values, and how they decode.
struct StoredDefinition: Sendable {
    let seq: Int64
    let id: String
    let type: AttributeType
    let isCollection: Bool

    /// The columns `init(columns:)` reads, in this order.
    static let select = "SELECT seq, attribute_set, name, type, is_collection FROM attribute_definitions"

    init(seq: Int64, id: String, type: AttributeType, isCollection: Bool) {
        self.seq = seq
        self.id = id
        self.type = type
        self.isCollection = isCollection
    }

    init(seq: Int64, set: String, name: String, type: String, isCollection: Bool) {
        self.init(
            seq: seq, id: AttributeDefinition.id(set: set, name: name), type: AttributeType(rawValue: type) ?? .string,
            isCollection: isCollection)
    }

    /// Only these have in-memory prefix indexes for `startsWith` counts.
    var isSingleValuedString: Bool { type == .string && !isCollection }
}

/// Changes to the maintained counts, summed per key, so a store can apply them in key order
/// (concurrent writers then take the counter rows' locks in one order and cannot deadlock).
struct CountDeltas {
    var objects: [String: Int64] = [:]
    var values: [ValueCountKey: Int64] = [:]

    struct ValueCountKey: Hashable, Comparable {
        let kind: String
        let seq: Int64
        let value: String

        static func < (a: Self, b: Self) -> Bool { (a.kind, a.seq, a.value) < (b.kind, b.seq, b.value) }
    }

    var objectChanges: [(key: String, value: Int64)] { objects.filter { $0.value != 0 }.sorted { $0.key < $1.key } }
    var valueChanges: [(key: ValueCountKey, value: Int64)] { values.filter { $0.value != 0 }.sorted { $0.key < $1.key } }
}

/// Value rows to rewrite, written once for both stores: for each (object, attribute) whose
/// values changed, the old rows go and the new ones come, with the per-value counts and the
/// prefix indexes following. Each store then writes them its own way.
struct ValueRows {
    struct Insert {
        let rowid: Int64
        let seq: Int64
        let text: String?
        let int: Int64?
        let ordinal: Int64
        let kind: String
    }

    /// A single-valued String attribute's values that left and joined, for its prefix index.
    struct PrefixChange {
        let kind: String
        let definitionKey: String
        let removing: [String]
        let adding: [String]
    }

    var deletes: [(rowid: Int64, seq: Int64)] = []
    var inserts: [Insert] = []
    var counts = CountDeltas()
    var prefixChanges: [PrefixChange] = []
    var setChanges: [ValueSets.Change] = []

    /// The rows that turn `previous` into `new` for the object at `rowid`; `definition` finds a
    /// definition by its key, and a value of one it does not find is an invalid property.
    mutating func add(
        _ new: AttributeAssignments, previous: AttributeAssignments, rowid: Int64, kind: DirectoryObjectKind,
        definition: (String) throws -> StoredDefinition?
    ) throws {
        var changed = Set(new.attributes.map { nameKey($0.definitionId) })
        changed.formUnion(previous.attributes.map { nameKey($0.definitionId) })
        for key in changed.sorted() {
            let old = previous.values(of: key)
            let fresh = new.values(of: key)
            guard old != fresh else { continue }
            guard let stored = try definition(key) else { throw GraphError.invalidProperty(key) }
            if !old.isEmpty { deletes.append((rowid, stored.seq)) }
            for (ordinal, value) in fresh.enumerated() {
                let (text, int) = StoredValue.columns(value)
                inserts.append(
                    Insert(rowid: rowid, seq: stored.seq, text: text, int: int, ordinal: Int64(ordinal), kind: kind.rawValue))
            }
            for value in old where !fresh.contains(value) {
                counts.values[.init(kind: kind.rawValue, seq: stored.seq, value: StoredValue.countKey(value)), default: 0] -= 1
            }
            for value in fresh where !old.contains(value) {
                counts.values[.init(kind: kind.rawValue, seq: stored.seq, value: StoredValue.countKey(value)), default: 0] += 1
            }
            setChanges.append(
                ValueSets.Change(attribute: .init(kind: kind.rawValue, seq: stored.seq), rowid: rowid, old: old, new: fresh))
            if stored.isSingleValuedString {
                prefixChanges.append(
                    PrefixChange(
                        kind: kind.rawValue, definitionKey: key, removing: old.compactMap(\.stringValue),
                        adding: fresh.compactMap(\.stringValue)))
            }
        }
    }
}

/// Value rows, ordered by object, definition and ordinal, kept until they are decoded into
/// assignments per object (by rowid) against the definitions.
struct ValueReader {
    /// The SELECT of value rows, before the store's condition on `object_rowid`.
    static let select = "SELECT object_rowid, definition_seq, value_text, value_int FROM attribute_values"
    static let order = "ORDER BY object_rowid, definition_seq, ordinal"

    private var rows: [(rowid: Int64, seq: Int64, text: String?, int: Int64?)] = []

    var isEmpty: Bool { rows.isEmpty }

    mutating func add(rowid: Int64, seq: Int64, text: String?, int: Int64?) {
        rows.append((rowid, seq, text, int))
    }

    /// Nil when a row's definition is not in `definitions` (unless `skippingUnknown`). Rows come
    /// grouped by object, so each object's values are gathered in a local array and stored once.
    func finish(_ definitions: [Int64: StoredDefinition], skippingUnknown: Bool = false) -> [Int64: AttributeAssignments]? {
        var result: [Int64: AttributeAssignments] = [:]
        var rowid: Int64 = -1
        var seq: Int64 = -1
        var attributes: [AssignedAttribute] = []
        for row in rows {
            guard let definition = definitions[row.seq] else {
                if skippingUnknown { continue }
                return nil
            }
            let value: AttributeValue =
                switch definition.type {
                case .integer: .integer(Int32(truncatingIfNeeded: row.int ?? 0))
                case .boolean: .boolean((row.int ?? 0) != 0)
                case .string: .string(row.text ?? "")
                }
            if row.rowid != rowid {
                if !attributes.isEmpty { result[rowid] = AttributeAssignments(attributes) }
                // An object met again (rows not grouped) continues where it stopped.
                (rowid, seq, attributes) = (row.rowid, -1, result.removeValue(forKey: row.rowid)?.attributes ?? [])
            }
            if row.seq == seq, !attributes.isEmpty {
                attributes[attributes.count - 1].values.append(value)
            } else {
                attributes.append(AssignedAttribute(definitionId: definition.id, values: [value]))
            }
            seq = row.seq
        }
        if !attributes.isEmpty { result[rowid] = AttributeAssignments(attributes) }
        return result
    }

    /// Values by rowid re-keyed by object id, as the caller gave the ids (objects without values absent).
    static func byRequestedId(
        _ objectIds: [String], idByRowid: [Int64: String], _ values: [Int64: AttributeAssignments]
    ) -> [String: AttributeAssignments] {
        var byId: [String: AttributeAssignments] = [:]
        for (rowid, assignments) in values { if let id = idByRowid[rowid] { byId[id] = assignments } }
        var result: [String: AttributeAssignments] = [:]
        for objectId in objectIds { result[objectId] = byId[objectId.lowercased()] }
        return result
    }
}
