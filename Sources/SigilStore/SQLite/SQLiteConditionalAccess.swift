import Foundation
import GRDB
import SigilCore

/// Conditional Access policies in SQLite: one row each, the policy as a JSON document.
extension SQLiteStore {
    static let conditionalAccessSchema = """
        CREATE TABLE conditional_access_policies (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            document TEXT NOT NULL,
            created REAL NOT NULL,
            modified REAL
        );
        """

    /// Registered after the other migrations, under a name of its own.
    static func registerConditionalAccessMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-conditional-access") { db in
            try db.execute(sql: conditionalAccessSchema)
        }
    }

    public func conditionalAccessPolicies() async throws -> [ConditionalAccessPolicy] {
        try await writer.read { db in try Self.loadPolicies(db, id: nil) }
    }

    public func changeConditionalAccessPolicy(
        id: String,
        _ decide: @escaping @Sendable (ConditionalAccessPolicy?, Schema) throws -> (ConditionalAccessPolicy?, [AuditRecord])
    ) async throws -> ConditionalAccessPolicy? {
        try await writer.write { db in
            let current = try Self.loadPolicies(db, id: id).first
            let (next, records) = try decide(current, try Self.loadSchema(db).schema)
            if let next {
                try db.execute(
                    sql: """
                        INSERT INTO conditional_access_policies (id, document, created, modified) VALUES (?, ?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET document = excluded.document, modified = excluded.modified
                        """,
                    arguments: [
                        next.id, next.document, next.createdDateTime.timeIntervalSince1970,
                        next.modifiedDateTime?.timeIntervalSince1970,
                    ])
            } else if current != nil {
                try db.execute(sql: "DELETE FROM conditional_access_policies WHERE id = ?", arguments: [id])
            }
            try Self.append(records, db)
            return next
        }
    }

    static func loadPolicies(_ db: Database, id: String?) throws -> [ConditionalAccessPolicy] {
        let rows =
            if let id {
                try Row.fetchAll(
                    db, sql: "SELECT id, document, created, modified FROM conditional_access_policies WHERE id = ?",
                    arguments: [id])
            } else {
                try Row.fetchAll(db, sql: "SELECT id, document, created, modified FROM conditional_access_policies ORDER BY seq")
            }
        return try rows.map { row in
            try ConditionalAccessPolicy(id: row["id"], document: row["document"], created: row["created"], modified: row["modified"])
        }
    }
}
