import Foundation
import PostgresNIO
import SigilCore

/// Conditional Access policies in PostgreSQL: one row each, the policy as a JSON document. Every
/// read goes to the database, so all instances see a change at once.
extension PostgresStore {
    static let conditionalAccessSchema = [
        """
        CREATE TABLE conditional_access_policies (
            seq bigserial PRIMARY KEY,
            id text COLLATE "C" NOT NULL UNIQUE,
            document text NOT NULL,
            created double precision NOT NULL,
            modified double precision
        )
        """
    ]

    public func conditionalAccessPolicies() async throws -> [ConditionalAccessPolicy] {
        try await withSession { s in try await Self.loadPolicies(s, id: nil) }
    }

    public func changeConditionalAccessPolicy(
        id: String,
        _ decide: @escaping @Sendable (ConditionalAccessPolicy?, Schema) throws -> (ConditionalAccessPolicy?, [AuditRecord])
    ) async throws -> ConditionalAccessPolicy? {
        let (written, audited) = try await transaction { s -> (ConditionalAccessPolicy?, Bool) in
            // Row lock on the policy (and on nothing for a new id): concurrent PATCHes serialise.
            let current = try await Self.loadPolicies(s, id: id, forUpdate: true).first
            let version = try await s.scalar("SELECT version FROM store_versions WHERE name = 'schema'", Int64.self) ?? 0
            let schema = try await Self.loadSchema(s, version: version).schema
            let (next, records) = try decide(current, schema)
            if let next {
                try await s.execute(
                    """
                    INSERT INTO conditional_access_policies (id, document, created, modified)
                    VALUES (\(next.id), \(next.document), \(next.createdDateTime.timeIntervalSince1970),
                        \(next.modifiedDateTime?.timeIntervalSince1970))
                    ON CONFLICT (id) DO UPDATE SET document = excluded.document, modified = excluded.modified
                    """)
            } else if current != nil {
                try await s.execute("DELETE FROM conditional_access_policies WHERE id = \(id)")
            }
            try await Self.append(records, s)
            return (next, !records.isEmpty)
        }
        if audited { sealRequests.yield() }
        return written
    }

    static func loadPolicies(_ s: Session, id: String?, forUpdate: Bool = false) async throws -> [ConditionalAccessPolicy] {
        let rows =
            if let id {
                try await s.query(
                    forUpdate
                        ? "SELECT id, document, created, modified FROM conditional_access_policies WHERE id = \(id) FOR UPDATE"
                        : "SELECT id, document, created, modified FROM conditional_access_policies WHERE id = \(id)")
            } else {
                try await s.query("SELECT id, document, created, modified FROM conditional_access_policies ORDER BY seq")
            }
        var policies: [ConditionalAccessPolicy] = []
        for try await (id, document, created, modified) in rows.decode((String, String, Double, Double?).self) {
            policies.append(try ConditionalAccessPolicy(id: id, document: document, created: created, modified: modified))
        }
        return policies
    }
}
