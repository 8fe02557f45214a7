import Foundation
import GRDB
import SigilCore

/// Access rules in SQLite: one row each, the rule as a JSON document.
extension SQLiteStore {
    static let accessRulesSchema = """
        CREATE TABLE access_rules (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            document TEXT NOT NULL,
            created REAL NOT NULL,
            modified REAL
        );
        """

    /// Registered after the other migrations, under a name of its own.
    static func registerAccessRulesMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-access-rules") { db in
            try db.execute(sql: accessRulesSchema)
        }
    }

    /// Every access decision reads them, so they are cached like the schema (`VersionedCache`).
    /// A batch that changed a rule reads its own.
    public func accessRules() async throws -> [AccessRule] {
        if let scope = activeScope, scope.changesRules {
            return try await writer.read { db in try Self.loadRules(db, id: nil) }
        }
        return try await rulesCache.value { try await writer.shortRead { db in try Self.loadRules(db, id: nil) } }
    }

    /// Inside a batch, invalidated again once the batch's transaction has ended.
    func invalidateRulesCache() {
        rulesCache.invalidate()
        activeScope?.rulesChanged()
    }

    public func changeAccessRule(
        id: String, _ decide: @escaping @Sendable (AccessRule?, Schema) throws -> (AccessRule?, [AuditRecord])
    ) async throws -> AccessRule? {
        defer { invalidateRulesCache() }
        return try await writer.write { db in
            let current = try Self.loadRules(db, id: id).first
            let (next, records) = try decide(current, try Self.loadSchema(db).schema)
            if let next {
                try db.execute(
                    sql: """
                        INSERT INTO access_rules (id, document, created, modified) VALUES (?, ?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET document = excluded.document, modified = excluded.modified
                        """,
                    arguments: [
                        next.id, next.document, next.createdDateTime.timeIntervalSince1970,
                        next.modifiedDateTime?.timeIntervalSince1970,
                    ])
            } else if current != nil {
                try db.execute(sql: "DELETE FROM access_rules WHERE id = ?", arguments: [id])
            }
            try Self.append(records, db)
            return next
        }
    }

    static func loadRules(_ db: Database, id: String?) throws -> [AccessRule] {
        let rows =
            if let id {
                try Row.fetchAll(db, sql: "SELECT id, document, created, modified FROM access_rules WHERE id = ?", arguments: [id])
            } else {
                try Row.fetchAll(db, sql: "SELECT id, document, created, modified FROM access_rules ORDER BY seq")
            }
        return try rows.map { row in
            try AccessRule(id: row["id"], document: row["document"], created: row["created"], modified: row["modified"])
        }
    }
}
