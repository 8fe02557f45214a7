import Foundation
import GRDB
import SigilCore

/// The change log in SQLite: one writer, so AUTOINCREMENT numbers changes in commit order.
extension SQLiteStore {
    static let changeLogSchema = """
        CREATE TABLE directory_changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            object_id TEXT NOT NULL,
            change TEXT NOT NULL,
            properties TEXT NOT NULL, -- changed property names, comma-separated
            attribute_sets TEXT NOT NULL, -- sets whose values changed, comma-separated
            time REAL NOT NULL
        );
        CREATE INDEX directory_changes_kind ON directory_changes(kind, seq);
        CREATE INDEX directory_changes_object ON directory_changes(object_id, seq);

        -- Change-notification subscriptions with their delivery state (cursor into the log above).
        CREATE TABLE subscriptions (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            change_types TEXT NOT NULL,
            notification_url TEXT NOT NULL,
            lifecycle_url TEXT,
            client_state TEXT,
            expiration REAL NOT NULL,
            creator_id TEXT NOT NULL,
            creator_is_app INTEGER NOT NULL,
            application_id TEXT,
            tls_version TEXT NOT NULL,
            cursor INTEGER NOT NULL,
            delivered INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            total_failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt REAL NOT NULL DEFAULT 0,
            last_delivery REAL,
            paused INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_until REAL NOT NULL DEFAULT 0
        );
        CREATE INDEX subscriptions_creator ON subscriptions(creator_id, seq);
        """

    /// Appends `change` (nothing when nil) inside the writing transaction.
    static func log(_ change: DirectoryChange?, _ db: Database) throws {
        guard let change else { return }
        try db.cachedStatement(
            sql: "INSERT INTO directory_changes (kind, object_id, change, properties, attribute_sets, time) VALUES (?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [
            change.kind.rawValue, change.objectId, change.type.rawValue, DirectoryChange.column(change.properties),
            DirectoryChange.column(change.attributeSets), Date().timeIntervalSince1970,
        ])
    }

    public func latestChange() async throws -> Int64 {
        try await writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT max(seq) FROM directory_changes") ?? 0
        }
    }

    public func changes(_ query: ChangeQuery) async throws -> [DirectoryChange] {
        try await writer.read { db in
            var sql = """
                SELECT seq, kind, object_id, change, properties, attribute_sets, time FROM directory_changes
                WHERE kind = ? AND seq > ? AND seq <= ?
                """
            var arguments: StatementArguments = [query.kind.rawValue, query.after, query.through]
            if let ids = query.objectIds {
                guard !ids.isEmpty else { return [] }
                sql += " AND object_id IN (\(databaseQuestionMarks(count: ids.count)))"
                arguments += StatementArguments(ids)
            }
            sql += " ORDER BY seq LIMIT ?"
            arguments += [query.limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap { row in
                guard let kind = DirectoryObjectKind(rawValue: row[1]), let type = DirectoryChange.ChangeType(rawValue: row[3])
                else { return nil }
                var change = DirectoryChange(
                    seq: row[0], kind: kind, objectId: row[2], type: type, properties: DirectoryChange.names(row[4]),
                    attributeSets: DirectoryChange.names(row[5]))
                change.time = row[6]
                return change
            }
        }
    }
}

/// Subscriptions in SQLite. One process owns the file, but leases are kept as on PostgreSQL so
/// the dispatcher has one shape.
extension SQLiteStore {
    static func subscriptionRow(_ row: Row) -> SubscriptionRecord {
        SubscriptionColumns.record(
            (
                row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10], row[11], row[12], row[13],
                row[14], row[15], row[16], row[17], row[18]
            ))
    }

    public func createSubscription(_ s: Subscription) async throws -> SubscriptionRecord {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO subscriptions (id, kind, change_types, notification_url, lifecycle_url, client_state, expiration,
                        creator_id, creator_is_app, application_id, tls_version, cursor)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) FROM directory_changes))
                    """,
                arguments: [
                    s.id, s.kind.rawValue, DirectoryChange.column(s.changeTypes), s.notificationUrl, s.lifecycleNotificationUrl,
                    s.clientState, s.expirationDateTime.timeIntervalSince1970, s.creatorId, s.creatorIsApp, s.applicationId,
                    s.latestSupportedTlsVersion,
                ])
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT \(SubscriptionColumns.list) FROM subscriptions WHERE id = ?", arguments: [s.id])
            else { throw StoreError.corrupt("subscription \(s.id) vanished") }
            return Self.subscriptionRow(row)
        }
    }

    public func subscriptions(creatorId: String?) async throws -> [SubscriptionRecord] {
        try await writer.read { db in
            let rows =
                if let creatorId {
                    try Row.fetchAll(
                        db, sql: "SELECT \(SubscriptionColumns.list) FROM subscriptions WHERE creator_id = ? ORDER BY seq",
                        arguments: [creatorId.lowercased()])
                } else {
                    try Row.fetchAll(db, sql: "SELECT \(SubscriptionColumns.list) FROM subscriptions ORDER BY seq")
                }
            return rows.map(Self.subscriptionRow)
        }
    }

    public func subscription(id: String) async throws -> SubscriptionRecord? {
        try await writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(SubscriptionColumns.list) FROM subscriptions WHERE id = ?", arguments: [id.lowercased()]
            ).map(Self.subscriptionRow)
        }
    }

    public func updateSubscription(id: String, expiration: Date, notificationUrl: String, resume: Bool) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE subscriptions SET expiration = ?, notification_url = ?,
                        paused = CASE WHEN ? THEN 0 ELSE paused END, failures = 0, next_attempt = 0
                    WHERE id = ?
                    """,
                arguments: [expiration.timeIntervalSince1970, notificationUrl, resume, id.lowercased()])
            return db.changesCount > 0
        }
    }

    public func deleteSubscription(id: String) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM subscriptions WHERE id = ?", arguments: [id.lowercased()])
            return db.changesCount > 0
        }
    }

    public func claimSubscriptions(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws
        -> [SubscriptionRecord]
    {
        try await writer.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(SubscriptionColumns.list) FROM subscriptions
                    WHERE next_attempt <= ? AND (lease_owner IS NULL OR lease_owner <> ? OR lease_until < ?)
                    ORDER BY next_attempt, seq LIMIT ?
                    """,
                // One process owns the file: a lease held by another owner is a crashed process's.
                arguments: [now.timeIntervalSince1970, owner, now.timeIntervalSince1970, limit])
            let claimed = rows.map(Self.subscriptionRow)
            for record in claimed {
                try db.execute(
                    sql: "UPDATE subscriptions SET lease_owner = ?, lease_until = ? WHERE id = ?",
                    arguments: [owner, now.addingTimeInterval(lease).timeIntervalSince1970, record.subscription.id])
            }
            return claimed
        }
    }

    public func finishDelivery(id: String, owner: String, _ d: DeliveryState) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE subscriptions SET cursor = ?, delivered = ?, failures = ?, total_failures = ?, last_error = ?,
                        next_attempt = ?, last_delivery = ?, paused = ?, lease_owner = NULL, lease_until = 0
                    WHERE id = ? AND lease_owner = ?
                    """,
                arguments: [
                    d.cursor, d.delivered, d.failures, d.totalFailures, d.lastError, d.nextAttempt.timeIntervalSince1970,
                    d.lastDelivery?.timeIntervalSince1970, d.paused, id, owner,
                ])
            return db.changesCount > 0
        }
    }
}
