import SigilCore
import SigilStore

/// The schema's write use-cases: attribute sets, definitions and predefined values. Each checks
/// the caller's access once, records a refusal in the audit log naming what was attempted, runs
/// the store transaction and returns what it created. The API and the console both come through
/// here, so they cannot answer differently.
public struct SchemaService: Sendable {
    let services: SigilServices

    public init(services: SigilServices) { self.services = services }

    /// One audited schema write. `body` is read inside, so a malformed one is recorded as refused
    /// too; `target` names what was attempted from the body once read (or from the URL);
    /// `authorize` runs before validation, so a caller without the role learns nothing from
    /// validation messages; `decide` runs in the transaction against the current schema.
    func write(
        _ activity: AuditActivity, as initiator: Initiator, body: () async throws -> JSONValue,
        target: @escaping @Sendable (JSONValue?) -> String?, authorize: (JSONValue) throws -> Void = { _ in },
        decide: @escaping @Sendable (JSONValue, Schema) throws -> [SchemaChange]
    ) async throws -> [SchemaChange] {
        let sent = Locked<JSONValue?>(nil)
        let made = Locked<[SchemaChange]>([])
        try await services.recordingRefusal(
            activity, target: schemaTarget(target(sent.withLock { $0 })), audit: initiator.audit, logger: initiator.logger
        ) {
            let json = try await body()
            sent.withLock { $0 = json }
            try authorize(json)
            try await services.store.changeSchema(audit: initiator.audit) { schema in
                let changes = try decide(json, schema)
                made.withLock { $0 = changes }
                return changes
            }
        }
        return made.withLock { $0 }
    }

    public func createSet(_ body: () async throws -> JSONValue, as initiator: Initiator) async throws -> AttributeSet {
        let caller = initiator.caller
        let changes = try await write(
            .addAttributeSet, as: initiator, body: body, target: { $0?.objectValue?["id"]?.stringValue },
            authorize: { _ in try AccessPolicy.require(AccessPolicy.allows(caller, .manageAttributeSets)) },
            decide: { json, schema in [try SchemaRules.createSet(json, in: schema)] })
        guard case .createSet(let set)? = changes.first else { throw GraphError.internalError }
        return set
    }

    public func updateSet(_ name: String, with body: () async throws -> JSONValue, as initiator: Initiator) async throws {
        let caller = initiator.caller
        _ = try await write(.updateAttributeSet, as: initiator, body: body, target: { _ in name }) { json, schema in
            let set = try SchemaAccess.set(name, caller: caller, .manageAttributeSets, in: schema)
            return [try SchemaRules.updateSet(set, with: json, in: schema)]
        }
    }

    public func createDefinition(_ body: () async throws -> JSONValue, as initiator: Initiator) async throws
        -> AttributeDefinition
    {
        let caller = initiator.caller
        let changes = try await write(
            .addDefinition, as: initiator, body: body, target: Self.definitionId(in:),
            authorize: { json in
                if let set = json.objectValue?["attributeSet"]?.stringValue {
                    try AccessPolicy.require(AccessPolicy.allows(caller, .manageDefinitions, inSet: set))
                } else {
                    try AccessPolicy.require(AccessPolicy.allowsAnywhere(caller, .manageDefinitions))
                }
            },
            decide: { json, schema in [try SchemaRules.createDefinition(json, in: schema)] })
        guard case .createDefinition(let definition, _)? = changes.first else { throw GraphError.internalError }
        return definition
    }

    public func updateDefinition(
        _ id: String, with body: () async throws -> JSONValue, odataVersion: String?, as initiator: Initiator
    ) async throws {
        let caller = initiator.caller
        _ = try await write(.updateDefinition, as: initiator, body: body, target: { _ in id }) { json, schema in
            let definition = try SchemaAccess.definition(id, caller: caller, .manageDefinitions, in: schema)
            return try SchemaRules.updateDefinition(definition, with: json, odataVersion: odataVersion, in: schema)
        }
    }

    public func createAllowedValue(
        _ body: () async throws -> JSONValue, of definitionId: String, as initiator: Initiator
    ) async throws -> (AttributeDefinition, AllowedValue) {
        let caller = initiator.caller
        let definition = Locked<AttributeDefinition?>(nil)
        let changes = try await write(.updateDefinition, as: initiator, body: body, target: { _ in definitionId }) {
            json, schema in
            let found = try SchemaAccess.definition(definitionId, caller: caller, .manageDefinitions, in: schema)
            definition.withLock { $0 = found }
            return [try SchemaRules.createAllowedValue(json, for: found, in: schema)]
        }
        guard case .putAllowedValue(_, let value)? = changes.first, let created = definition.withLock({ $0 }) else {
            throw GraphError.internalError
        }
        return (created, value)
    }

    public func updateAllowedValue(
        _ valueId: String, of definitionId: String, with body: () async throws -> JSONValue, as initiator: Initiator
    ) async throws {
        let caller = initiator.caller
        _ = try await write(.updateDefinition, as: initiator, body: body, target: { _ in definitionId }) { json, schema in
            let definition = try SchemaAccess.definition(definitionId, caller: caller, .manageDefinitions, in: schema)
            guard let value = schema.allowedValues(of: definition).first(where: { $0.id == valueId }) else {
                throw GraphError.notFound(valueId)
            }
            return [try SchemaRules.updateAllowedValue(value, of: definition, with: json)]
        }
    }

    /// `Set_Name` from a definition body, when it names both.
    static func definitionId(in body: JSONValue?) -> String? {
        guard let set = body?.objectValue?["attributeSet"]?.stringValue, let name = body?.objectValue?["name"]?.stringValue
        else { return nil }
        return AttributeDefinition.id(set: set, name: name)
    }
}
