import Foundation
import PostgresNIO
import SigilCore

/// The change log in PostgreSQL. Numbers come from one counter row that a writing transaction
/// updates last, holding its lock until commit: the next writer gets its numbers only after this
/// one committed, so numbers grow in commit order and a reader never skips a late commit.
extension PostgresStore {
    static let changeLogSchema = [
        "CREATE TABLE change_log_head (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL)",
        "INSERT INTO change_log_head (id, seq) VALUES (1, 0)",
        """
        CREATE TABLE directory_changes (
            seq bigint PRIMARY KEY,
            kind text COLLATE "C" NOT NULL,
            object_id text COLLATE "C" NOT NULL,
            change text NOT NULL,
            properties text NOT NULL,
            attribute_sets text NOT NULL,
            time double precision NOT NULL
        )
        """,
        "CREATE INDEX directory_changes_kind ON directory_changes (kind, seq)",
        "CREATE INDEX directory_changes_object ON directory_changes (object_id, seq)",
        """
        CREATE TABLE subscriptions (
            seq bigserial PRIMARY KEY,
            id text COLLATE "C" NOT NULL UNIQUE,
            kind text NOT NULL,
            change_types text NOT NULL,
            notification_url text NOT NULL,
            lifecycle_url text,
            client_state text,
            expiration double precision NOT NULL,
            creator_id text COLLATE "C" NOT NULL,
            creator_is_app boolean NOT NULL,
            application_id text,
            tls_version text NOT NULL,
            cursor bigint NOT NULL,
            delivered bigint NOT NULL DEFAULT 0,
            failures bigint NOT NULL DEFAULT 0,
            total_failures bigint NOT NULL DEFAULT 0,
            last_error text,
            next_attempt double precision NOT NULL DEFAULT 0,
            last_delivery double precision,
            paused boolean NOT NULL DEFAULT false,
            lease_owner text,
            lease_until double precision NOT NULL DEFAULT 0
        )
        """,
        "CREATE INDEX subscriptions_creator ON subscriptions (creator_id, seq)",
    ]

    /// Each change's object rowid, so an instance's kept value sets can follow the log (a
    /// deleted object's id no longer leads to its rowid). Rows logged before this step have none.
    static let changeLogRowidSchema = ["ALTER TABLE directory_changes ADD COLUMN object_rowid bigint"]

    /// Appends the changes (nils skipped), each with its object's rowid, inside the writing
    /// transaction.
    static func log(_ changes: [(change: DirectoryChange?, rowid: Int64?)], _ s: Session) async throws {
        let logged = changes.compactMap { entry in entry.change.map { ($0, entry.rowid ?? -1) } }
        guard !logged.isEmpty else { return }
        let changes = logged.map(\.0)
        let count = Int64(changes.count)
        // One statement: the head row's update (whose lock, held to commit, orders the numbers)
        // and the rows it numbers.
        var inserted = 0
        for try await _ in try await s.query(
            """
            WITH head AS (UPDATE change_log_head SET seq = seq + \(count) WHERE id = 1 RETURNING seq)
            INSERT INTO directory_changes (seq, kind, object_id, change, properties, attribute_sets, object_rowid, time)
            SELECT head.seq - \(count) + c.n, c.kind, c.object_id, c.change, c.properties, c.attribute_sets,
                NULLIF(c.object_rowid, -1), \(Date().timeIntervalSince1970)::float8
            FROM head, unnest(\(changes.map(\.kind.rawValue))::text[], \(changes.map(\.objectId))::text[],
                \(changes.map(\.type.rawValue))::text[], \(changes.map { DirectoryChange.column($0.properties) })::text[],
                \(changes.map { DirectoryChange.column($0.attributeSets) })::text[], \(logged.map(\.1))::bigint[])
                WITH ORDINALITY AS c(kind, object_id, change, properties, attribute_sets, object_rowid, n)
            RETURNING seq
            """
        ) {
            inserted += 1
        }
        guard inserted == changes.count else { throw PostgresStoreError.corrupt("the change log has no head row") }
    }

    public func latestChange() async throws -> Int64 {
        try await withSession { s in
            try await s.scalar("SELECT seq FROM change_log_head WHERE id = 1", Int64.self) ?? 0
        }
    }

    public func changes(_ query: ChangeQuery) async throws -> [DirectoryChange] {
        if let ids = query.objectIds, ids.isEmpty { return [] }
        return try await withSession { s in
            let rows =
                if let ids = query.objectIds {
                    try await s.query(
                        """
                        SELECT seq, kind, object_id, change, properties, attribute_sets, time FROM directory_changes
                        WHERE kind = \(query.kind.rawValue) AND seq > \(query.after) AND seq <= \(query.through)
                            AND object_id = ANY(\(ids)) ORDER BY seq LIMIT \(Int64(query.limit))
                        """)
                } else {
                    try await s.query(
                        """
                        SELECT seq, kind, object_id, change, properties, attribute_sets, time FROM directory_changes
                        WHERE kind = \(query.kind.rawValue) AND seq > \(query.after) AND seq <= \(query.through)
                        ORDER BY seq LIMIT \(Int64(query.limit))
                        """)
                }
            var result: [DirectoryChange] = []
            for try await (seq, kind, id, change, properties, sets, time) in rows.decode(
                (Int64, String, String, String, String, String, Double).self)
            {
                guard let kind = DirectoryObjectKind(rawValue: kind), let type = DirectoryChange.ChangeType(rawValue: change)
                else { continue }
                var entry = DirectoryChange(
                    seq: seq, kind: kind, objectId: id, type: type, properties: DirectoryChange.names(properties),
                    attributeSets: DirectoryChange.names(sets))
                entry.time = time
                result.append(entry)
            }
            return result
        }
    }
}

/// Subscriptions in PostgreSQL: instances lease due subscriptions with `FOR UPDATE SKIP LOCKED`,
/// so two never deliver to one subscription at once.
extension PostgresStore {
    static func subscriptionRecords(_ rows: PostgresRowSequence) async throws -> [SubscriptionRecord] {
        var result: [SubscriptionRecord] = []
        for try await row in rows {
            result.append(SubscriptionColumns.record(try row.decode(SubscriptionColumns.Row.self)))
        }
        return result
    }

    public func createSubscription(_ s: Subscription) async throws -> SubscriptionRecord {
        try await withSession { session in
            let rows = try await session.query(
                """
                INSERT INTO subscriptions (id, kind, change_types, notification_url, lifecycle_url, client_state, expiration,
                    creator_id, creator_is_app, application_id, tls_version, cursor)
                VALUES (\(s.id), \(s.kind.rawValue), \(DirectoryChange.column(s.changeTypes)), \(s.notificationUrl),
                    \(s.lifecycleNotificationUrl), \(s.clientState), \(s.expirationDateTime.timeIntervalSince1970), \(s.creatorId),
                    \(s.creatorIsApp), \(s.applicationId), \(s.latestSupportedTlsVersion), (SELECT seq FROM change_log_head WHERE id = 1))
                RETURNING \(unescaped: SubscriptionColumns.list)
                """)
            guard let record = try await Self.subscriptionRecords(rows).first else {
                throw PostgresStoreError.corrupt("subscription \(s.id) was not stored")
            }
            return record
        }
    }

    public func subscriptions(creatorId: String?) async throws -> [SubscriptionRecord] {
        try await withSession { s in
            if let creatorId {
                try await Self.subscriptionRecords(
                    s.query(
                        """
                        SELECT \(unescaped: SubscriptionColumns.list) FROM subscriptions
                        WHERE creator_id = \(creatorId.lowercased()) ORDER BY seq
                        """))
            } else {
                try await Self.subscriptionRecords(
                    s.query("SELECT \(unescaped: SubscriptionColumns.list) FROM subscriptions ORDER BY seq"))
            }
        }
    }

    public func subscription(id: String) async throws -> SubscriptionRecord? {
        try await withSession { s in
            try await Self.subscriptionRecords(
                s.query("SELECT \(unescaped: SubscriptionColumns.list) FROM subscriptions WHERE id = \(id.lowercased())")
            ).first
        }
    }

    public func updateSubscription(id: String, expiration: Date, notificationUrl: String, resume: Bool) async throws -> Bool {
        try await withSession { s in
            try await s.scalar(
                """
                UPDATE subscriptions SET expiration = \(expiration.timeIntervalSince1970), notification_url = \(notificationUrl),
                    paused = CASE WHEN \(resume) THEN false ELSE paused END, failures = 0, next_attempt = 0
                WHERE id = \(id.lowercased()) RETURNING 1
                """, Int32.self) != nil
        }
    }

    public func deleteSubscription(id: String) async throws -> Bool {
        try await withSession { s in
            try await s.scalar("DELETE FROM subscriptions WHERE id = \(id.lowercased()) RETURNING 1", Int32.self) != nil
        }
    }

    public func claimSubscriptions(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws
        -> [SubscriptionRecord]
    {
        let at = now.timeIntervalSince1970
        return try await withSession { s in
            try await Self.subscriptionRecords(
                s.query(
                    """
                    UPDATE subscriptions SET lease_owner = \(owner), lease_until = \(at + lease)
                    WHERE id IN (
                        SELECT id FROM subscriptions WHERE next_attempt <= \(at) AND (lease_owner IS NULL OR lease_until < \(at))
                        ORDER BY next_attempt, seq LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
                    RETURNING \(unescaped: SubscriptionColumns.list)
                    """))
        }
    }

    public func finishDelivery(id: String, owner: String, _ d: DeliveryState) async throws -> Bool {
        try await withSession { s in
            try await s.scalar(
                """
                UPDATE subscriptions SET cursor = \(d.cursor), delivered = \(d.delivered), failures = \(Int64(d.failures)),
                    total_failures = \(d.totalFailures), last_error = \(d.lastError),
                    next_attempt = \(d.nextAttempt.timeIntervalSince1970), last_delivery = \(d.lastDelivery?.timeIntervalSince1970),
                    paused = \(d.paused), lease_owner = NULL, lease_until = 0
                WHERE id = \(id) AND lease_owner = \(owner) RETURNING 1
                """, Int32.self) != nil
        }
    }
}
