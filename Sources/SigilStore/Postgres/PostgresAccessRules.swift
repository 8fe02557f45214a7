import Foundation
import PostgresNIO
import SigilCore

/// Access rules in PostgreSQL: one row each, the rule as a JSON document. Every read goes to the
/// database, so all instances decide on the same rules.
extension PostgresStore {
    static let accessRulesSchema = [
        """
        CREATE TABLE access_rules (
            seq bigserial PRIMARY KEY,
            id text COLLATE "C" NOT NULL UNIQUE,
            document text NOT NULL,
            created double precision NOT NULL,
            modified double precision
        )
        """
    ]

    public func accessRules() async throws -> [AccessRule] {
        try await withSession { s in try await Self.loadRules(s, id: nil) }
    }

    public func changeAccessRule(
        id: String, _ decide: @escaping @Sendable (AccessRule?, Schema) throws -> (AccessRule?, [AuditRecord])
    ) async throws -> AccessRule? {
        let (written, audited) = try await transaction { s -> (AccessRule?, Bool) in
            // Row lock on the rule (and on nothing for a new id): concurrent changes serialise.
            let current = try await Self.loadRules(s, id: id, forUpdate: true).first
            let version = try await s.scalar("SELECT version FROM store_versions WHERE name = 'schema'", Int64.self) ?? 0
            let schema = try await Self.loadSchema(s, version: version).schema
            let (next, records) = try decide(current, schema)
            if let next {
                try await s.execute(
                    """
                    INSERT INTO access_rules (id, document, created, modified)
                    VALUES (\(next.id), \(next.document), \(next.createdDateTime.timeIntervalSince1970),
                        \(next.modifiedDateTime?.timeIntervalSince1970))
                    ON CONFLICT (id) DO UPDATE SET document = excluded.document, modified = excluded.modified
                    """)
            } else if current != nil {
                try await s.execute("DELETE FROM access_rules WHERE id = \(id)")
            }
            try await Self.append(records, s)
            return (next, !records.isEmpty)
        }
        if audited { sealRequests.yield() }
        return written
    }

    static func loadRules(_ s: Session, id: String?, forUpdate: Bool = false) async throws -> [AccessRule] {
        let rows =
            if let id {
                try await s.query(
                    forUpdate
                        ? "SELECT id, document, created, modified FROM access_rules WHERE id = \(id) FOR UPDATE"
                        : "SELECT id, document, created, modified FROM access_rules WHERE id = \(id)")
            } else {
                try await s.query("SELECT id, document, created, modified FROM access_rules ORDER BY seq")
            }
        var rules: [AccessRule] = []
        for try await (id, document, created, modified) in rows.decode((String, String, Double, Double?).self) {
            rules.append(try AccessRule(id: id, document: document, created: created, modified: modified))
        }
        return rules
    }
}
