import Foundation
import GRDB
import SigilCore

/// The attribute schema in SQLite, cached in memory until this process changes it.
extension SQLiteStore {

    public func schema() async throws -> Schema {
        // A batch that changed the schema reads its own, uncommitted one, and caches nothing.
        if let scope = activeScope, scope.changesSchema {
            return try await writer.read { db in try Self.loadSchema(db).schema }
        }
        return try await schemaCache.value { try await writer.read { db in try Self.loadSchema(db).schema } }
    }

    public func changeSchema(audit: AuditContext?, _ decide: @escaping @Sendable (Schema) throws -> [SchemaChange])
        async throws
    {
        defer { invalidateSchemaCache() }
        try await writer.write { db in
            self.heldSchema.withLock { $0.schema = nil }
            self.writerSchema.withLock { $0 = nil }
            let schema = try Self.loadSchema(db).schema
            let changes = try decide(schema)
            for change in changes { try Self.apply(change, db) }
            if let audit { try Self.append(AuditLog.records(for: changes, before: schema, context: audit), db) }
        }
    }

    /// Inside a batch, invalidated again once the batch's transaction has ended.
    func invalidateSchemaCache() {
        schemaCache.invalidate()
        activeScope?.schemaChanged()
    }

    /// The schema for a write transaction. Every schema change runs on the writer connection
    /// and forgets the copies kept here, so the writer keeps the schema it last read: outside a
    /// batch in `writerSchema` (reading it for every PATCH was 7% of one), inside a batch's held
    /// transaction in `heldSchema`, until a write of the batch changes the schema.
    func writeSchema(_ db: Database) throws -> Schema {
        let (holding, kept) = heldSchema.withLock { ($0.holding, $0.schema) }
        if let kept { return kept }
        if !holding, let committed = writerSchema.withLock({ $0 }) { return committed }
        let schema = try Self.loadSchema(db).schema
        if holding { heldSchema.withLock { $0.schema = schema } } else { writerSchema.withLock { $0 = schema } }
        return schema
    }

    /// The schema with its definitions' row numbers, read in the caller's transaction.
    static func loadSchema(_ db: Database) throws -> SchemaSnapshot {
        var rows = SchemaRows()
        for row in try Row.fetchAll(db.cachedStatement(sql: SchemaSQL.sets)) {
            rows.addSet(id: row["id"], description: row["description"], maxAttributes: row["max_attributes"])
        }
        for row in try Row.fetchAll(db.cachedStatement(sql: SchemaSQL.definitions)) {
            rows.addDefinition(
                seq: row["seq"], set: row["attribute_set"], name: row["name"], description: row["description"],
                type: row["type"], isCollection: row["is_collection"], isSearchable: row["is_searchable"],
                status: row["status"], predefinedOnly: row["predefined_only"])
        }
        for row in try Row.fetchAll(db.cachedStatement(sql: SchemaSQL.allowedValues)) {
            rows.addAllowedValue(definitionKey: row["definition_key"], id: row["id"], isActive: row["is_active"])
        }
        return rows.snapshot(version: 0)
    }

    static func apply(_ change: SchemaChange, _ db: Database) throws {
        for statement in SchemaSQL.statements(for: change) { try db.execute(literal: statement.grdb) }
    }
}
