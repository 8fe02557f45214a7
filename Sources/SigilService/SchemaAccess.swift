import SigilCore

/// Attribute sets and definitions looked up as a caller may see them: the one place that decides
/// between "not found" and "forbidden", for the API and the console alike.
public enum SchemaAccess {
    /// The caller may learn that something does not exist only where it could read it if it did:
    /// with the capability tenant-wide, or in the set the missing thing would belong to (a
    /// definition's id names its set), as Graph answers set-scoped administrators.
    static func denyOrNotFound(_ caller: Caller, _ capability: Capability, id: String, inSet set: String?) -> GraphError {
        AccessPolicy.allows(caller, capability, inSet: set) ? .notFound(id) : .forbidden
    }

    /// The sets the caller may read (403 when it may read none): set-scoped roles see their sets.
    public static func readableSets(caller: Caller, in schema: Schema) throws(GraphError) -> [AttributeSet] {
        try AccessPolicy.require(AccessPolicy.allowsAnywhere(caller, .readAttributeSets))
        return schema.sets.filter { AccessPolicy.allows(caller, .readAttributeSets, inSet: $0.id) }
    }

    /// The definitions the caller may read (403 when it may read none), per set.
    public static func readableDefinitions(caller: Caller, in schema: Schema) throws(GraphError) -> [AttributeDefinition] {
        try AccessPolicy.require(AccessPolicy.allowsAnywhere(caller, .readDefinitions))
        return schema.definitions.filter { AccessPolicy.allows(caller, .readDefinitions, inSet: $0.attributeSet) }
    }

    /// The set named `name` (case-insensitively), if the caller holds `capability` in it.
    public static func set(
        _ name: String, caller: Caller, _ capability: Capability = .readAttributeSets, in schema: Schema
    ) throws(GraphError) -> AttributeSet {
        guard let set = schema.set(named: name) else {
            throw denyOrNotFound(caller, capability, id: name, inSet: nil)
        }
        try AccessPolicy.require(AccessPolicy.allows(caller, capability, inSet: set.id))
        return set
    }

    /// The definition `id` (`Set_Name`), if the caller holds `capability` in its set.
    public static func definition(
        _ id: String, caller: Caller, _ capability: Capability, in schema: Schema
    ) throws(GraphError) -> AttributeDefinition {
        guard let definition = schema.definition(id: id) else {
            let set = AttributeDefinition.split(id: id).flatMap { schema.set(named: $0.set)?.id }
            throw denyOrNotFound(caller, capability, id: id, inSet: set)
        }
        try AccessPolicy.require(AccessPolicy.allows(caller, capability, inSet: definition.attributeSet))
        return definition
    }
}
