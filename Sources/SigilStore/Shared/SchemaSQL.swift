import SigilCore

/// The attribute schema's tables, written once for both stores: the statements a change makes,
/// and the SELECTs that read the schema back (each store decodes their rows into `SchemaRows`).
enum SchemaSQL {
    static let sets = "SELECT id, description, max_attributes FROM attribute_sets ORDER BY seq"
    static let definitions = """
        SELECT seq, attribute_set, name, description, type, is_collection, is_searchable, status, predefined_only
        FROM attribute_definitions ORDER BY seq
        """
    static let allowedValues = "SELECT definition_key, id, is_active FROM allowed_values ORDER BY seq"

    /// The statements that persist `change`, in order. Names are unique by their lowercased key.
    static func statements(for change: SchemaChange) -> [SQLFragment] {
        switch change {
        case .createSet(let set):
            return [
                """
                INSERT INTO attribute_sets (key, id, description, max_attributes)
                VALUES (\(nameKey(set.id)), \(set.id), \(set.description), \(set.maxAttributesPerSet))
                """
            ]
        case .updateSet(let set):
            return [
                """
                UPDATE attribute_sets SET description = \(set.description), max_attributes = \(set.maxAttributesPerSet)
                WHERE key = \(nameKey(set.id))
                """
            ]
        case .createDefinition(let d, let values):
            let definition: SQLFragment = """
                INSERT INTO attribute_definitions (key, set_key, attribute_set, name, description, type,
                    is_collection, is_searchable, status, predefined_only)
                VALUES (\(nameKey(d.id)), \(nameKey(d.attributeSet)), \(d.attributeSet), \(d.name), \(d.description),
                    \(d.type.rawValue), \(d.isCollection), \(d.isSearchable), \(d.status.rawValue), \(d.usePreDefinedValuesOnly))
                """
            return [definition] + values.map { putAllowedValue($0, definitionId: d.id) }
        case .updateDefinition(let d):
            return [
                """
                UPDATE attribute_definitions SET description = \(d.description), status = \(d.status.rawValue),
                    predefined_only = \(d.usePreDefinedValuesOnly)
                WHERE key = \(nameKey(d.id))
                """
            ]
        case .putAllowedValue(let definitionId, let value):
            return [putAllowedValue(value, definitionId: definitionId)]
        }
    }

    static func putAllowedValue(_ value: AllowedValue, definitionId: String) -> SQLFragment {
        """
        INSERT INTO allowed_values (definition_key, id, is_active) VALUES (\(nameKey(definitionId)), \(value.id), \(value.isActive))
        ON CONFLICT (definition_key, id) DO UPDATE SET is_active = excluded.is_active
        """
    }
}

/// The schema with the row numbers that key its values, as of one version (PostgreSQL's
/// `store_versions`; SQLite reads it in the transaction that uses it and leaves it 0).
struct SchemaSnapshot: Sendable {
    let version: Int64
    let schema: Schema
    let definitionsBySeq: [Int64: StoredDefinition]
    let seqByKey: [String: Int64]

    func seq(_ definitionId: String) -> Int64? { seqByKey[nameKey(definitionId)] }

    /// A definition by its key (`nameKey` of its id).
    func definition(key: String) -> StoredDefinition? { seqByKey[key].flatMap { definitionsBySeq[$0] } }
}

/// The rows of `SchemaSQL`'s three SELECTs, decoded by a store and added in order.
struct SchemaRows {
    private var sets: [AttributeSet] = []
    private var definitions: [AttributeDefinition] = []
    private var bySeq: [Int64: StoredDefinition] = [:]
    private var seqByKey: [String: Int64] = [:]
    private var allowed: [String: [AllowedValue]] = [:]

    mutating func addSet(id: String, description: String?, maxAttributes: Int?) {
        sets.append(
            AttributeSet(id: id, description: description, maxAttributesPerSet: maxAttributes.map { Int32(truncatingIfNeeded: $0) }))
    }

    mutating func addDefinition(
        seq: Int64, set: String, name: String, description: String?, type: String, isCollection: Bool, isSearchable: Bool,
        status: String, predefinedOnly: Bool
    ) {
        let definition = AttributeDefinition(
            attributeSet: set, name: name, description: description, type: AttributeType(rawValue: type) ?? .string,
            isCollection: isCollection, isSearchable: isSearchable, status: DefinitionStatus(rawValue: status) ?? .available,
            usePreDefinedValuesOnly: predefinedOnly)
        definitions.append(definition)
        bySeq[seq] = StoredDefinition(seq: seq, id: definition.id, type: definition.type, isCollection: isCollection)
        seqByKey[nameKey(definition.id)] = seq
    }

    mutating func addAllowedValue(definitionKey: String, id: String, isActive: Bool) {
        allowed[definitionKey, default: []].append(AllowedValue(id: id, isActive: isActive))
    }

    func snapshot(version: Int64) -> SchemaSnapshot {
        SchemaSnapshot(
            version: version, schema: Schema(sets: sets, definitions: definitions, allowedValues: allowed),
            definitionsBySeq: bySeq, seqByKey: seqByKey)
    }
}
