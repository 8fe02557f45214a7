import Foundation
import PostgresNIO
import SigilCore

/// Access rules in PostgreSQL: one row each, the rule as a JSON document. Every change bumps the
/// `access-rules` version in its transaction; every read compares that version first, so all
/// instances decide on the same rules while reading them only after a change.
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

    static let accessRulesVersionSchema = [
        "INSERT INTO store_versions (name, version) VALUES ('access-rules', 0) ON CONFLICT (name) DO NOTHING"
    ]

    public func accessRules() async throws -> [AccessRule] {
        let version = try await withSession { s in try await Self.rulesVersion(s) }
        if let cached = rulesCache.withLock({ $0 }), cached.version == version { return cached.rules }
        // The rules with the version they are, in one snapshot, so what is cached is that version.
        let (read, rules) = try await transaction(readOnly: true) { s in
            (try await Self.rulesVersion(s), try await Self.loadRules(s, id: nil))
        }
        rulesCache.withLock { current in
            if (current?.version ?? -1) < read { current = (read, rules) }
        }
        return rules
    }

    static func rulesVersion(_ s: Session) async throws -> Int64 {
        try await s.scalar("SELECT version FROM store_versions WHERE name = 'access-rules'", Int64.self) ?? 0
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
            try await Self.bump("access-rules", s)
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
