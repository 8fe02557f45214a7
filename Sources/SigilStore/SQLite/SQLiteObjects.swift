import Foundation
import GRDB
import SigilCore

/// Directory objects, their secrets and role assignments in SQLite.
extension SQLiteStore {
    // MARK: Directory objects

    public func create(
        _ object: DirectoryObject, passwordHash: String?, audit: AuditContext?,
        attributes: @escaping @Sendable (Schema) throws -> AttributeAssignments
    ) async throws {
        try await writeValues { db in
            let values = try attributes(try self.writeSchema(db))
            try self.insert(object, passwordHash: passwordHash, attributes: values, db)
            try Self.log(DirectoryChange.between(nil, ObjectState(object: object, attributes: values)), db)
            if let audit,
                let record = AuditLog.record(valuesOf: object, before: AttributeAssignments(), after: values, context: audit)
            {
                try Self.append([record], db)
            }
        }
    }

    public func createAll(_ objects: [NewObject]) async throws {
        try await writeValues { db in
            for new in objects {
                try self.insert(new.object, passwordHash: new.passwordHash, attributes: new.attributes, db)
                try Self.log(DirectoryChange.between(nil, ObjectState(object: new.object, attributes: new.attributes)), db)
            }
        }
    }

    func insert(_ object: DirectoryObject, passwordHash: String?, attributes: AttributeAssignments, _ db: Database) throws {
        do {
            try db.cachedStatement(
                sql: """
                    INSERT INTO directory_objects (id, kind, upn_key, app_id, properties, password_hash)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    object.id, object.kind.rawValue, object.userPrincipalName.map(nameKey), object.appId,
                    JSONValue.object(object.properties).serializedString, passwordHash,
                ])
        } catch let error as DatabaseError
            where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        {
            throw GraphError.conflictingObject
        }
        var rows = ValueRows()
        rows.counts.objects[object.kind.rawValue] = 1
        try rows.add(
            attributes, previous: AttributeAssignments(), rowid: db.lastInsertedRowID, kind: object.kind,
            definition: self.definitionLookup(db))
        try write(rows, db)
    }

    /// Finds a definition by key among the committed ones kept in memory, else in `db` (one
    /// created in this transaction), for `ValueRows`. The statement was 2.9% of a batch's CPU.
    func definitionLookup(_ db: Database) -> (String) throws -> StoredDefinition? {
        let kept = committedDefinitions.withLock { $0.byKey }
        return { key in
            if let definition = kept[key] { return definition }
            // Cached statements: compiling one costs more than running it on this hot path.
            return try Row.fetchOne(db.cachedStatement(sql: "\(StoredDefinition.select) WHERE key = ?"), arguments: [key]).map {
                StoredDefinition(seq: $0[0], set: $0[1], name: $0[2], type: $0[3], isCollection: $0[4])
            }
        }
    }

    /// Writes value rows one statement each (SQLite has one writer and statements are cached), then
    /// the count changes (a decrease never creates a row), then the in-memory prefix indexes.
    func write(_ rows: ValueRows, _ db: Database) throws {
        let delete = try db.cachedStatement(sql: "DELETE FROM attribute_values WHERE object_rowid = ? AND definition_seq = ?")
        for (rowid, seq) in rows.deletes { try delete.execute(arguments: [rowid, seq]) }
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO attribute_values (object_rowid, definition_seq, value_text, value_int, ordinal)
                VALUES (?, ?, ?, ?, ?)
                """)
        for row in rows.inserts { try insert.execute(arguments: [row.rowid, row.seq, row.text, row.int, row.ordinal]) }
        for (kind, delta) in rows.counts.objectChanges {
            try db.cachedStatement(
                sql: delta < 0
                    ? "UPDATE object_counts SET objects = objects + ? WHERE kind = ?"
                    : "INSERT INTO object_counts (objects, kind) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET objects = objects + excluded.objects"
            ).execute(arguments: [delta, kind])
        }
        for (key, delta) in rows.counts.valueChanges {
            try db.cachedStatement(
                sql: delta < 0
                    ? "UPDATE attribute_value_counts SET objects = objects + ? WHERE kind = ? AND definition_seq = ? AND value_key = ?"
                    : """
                    INSERT INTO attribute_value_counts (objects, kind, definition_seq, value_key) VALUES (?, ?, ?, ?)
                    ON CONFLICT (kind, definition_seq, value_key) DO UPDATE SET objects = objects + excluded.objects
                    """
            ).execute(arguments: [delta, key.kind, key.seq, key.value])
        }
        let changes = PendingMemoryChanges(valueSets: rows.setChanges, prefixes: rows.prefixChanges)
        let held = pendingMemoryChanges.withLock { pending -> Bool in
            guard pending != nil else { return false }
            pending?.valueSets += changes.valueSets
            pending?.prefixes += changes.prefixes
            return true
        }
        if !held { apply(changes) }
    }

    /// Applies a write's changes to the in-memory prefix indexes and value sets.
    func apply(_ changes: PendingMemoryChanges) {
        valueSets.apply(changes.valueSets)
        for change in changes.prefixes {
            prefixIndexes.replace(
                PrefixIndexes.Key(kind: change.kind, definition: change.definitionKey), removing: change.removing,
                adding: change.adding)
        }
    }

    /// Runs a write transaction that may change attribute values. Its changes to the in-memory
    /// prefix indexes and value sets are held until its savepoint is released, so a write that
    /// fails (a refused value, say) never reaches them, and a transaction that does not commit
    /// drops them (`GroupCommit`, `SQLiteWriteScope`).
    func writeValues<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.write(body)
    }

    /// Attribute values of objects by id: resolves their rowids, then reads as a page does.
    func loadAttributes(_ db: Database, objectIds: [String]) throws -> [String: AttributeAssignments] {
        let lookup = try db.cachedStatement(sql: "SELECT rowid, id FROM directory_objects WHERE id = ?")
        var idByRowid: [Int64: String] = [:]
        for objectId in objectIds {
            guard let row = try Row.fetchOne(lookup, arguments: [objectId.lowercased()]) else { continue }
            idByRowid[row[0]] = row[1]
        }
        return ValueReader.byRequestedId(objectIds, idByRowid: idByRowid, try loadAttributes(db, rowids: Array(idByRowid.keys)))
    }

    public func attributes(of objectIds: [String]) async throws -> [String: AttributeAssignments] {
        try await writer.shortRead { db in try self.loadAttributes(db, objectIds: objectIds) }
    }

    /// The first columns of every row `decodeObject` reads, in this order.
    static let objectColumns = "rowid, id, kind, properties"

    /// Reads the columns by position: looking each up by name showed in a page's profile.
    static func decodeObject(_ row: Row) throws -> DirectoryObject {
        let id: String = row[1]
        let kind = DirectoryObjectKind(rawValue: row[2]) ?? .user
        let text: String = row[3]
        guard case .object(let properties) = try JSON.parse(text) else {
            throw DatabaseError(message: "directory object \(id) has corrupt properties")
        }
        return DirectoryObject(kind: kind, id: id, properties: properties)
    }

    public func object(_ kind: DirectoryObjectKind, id: String) async throws -> DirectoryObject? {
        try await writer.shortRead { db in
            let row =
                if kind.isPrincipalName(id) {
                    try Row.fetchOne(
                        db, sql: "SELECT \(Self.objectColumns) FROM directory_objects WHERE upn_key = ? AND kind = 'user'",
                        arguments: [nameKey(id)])
                } else {
                    try Row.fetchOne(
                        db.cachedStatement(sql: "SELECT \(Self.objectColumns) FROM directory_objects WHERE id = ? AND kind = ?"),
                        arguments: [id.lowercased(), kind.rawValue])
                }
            return try row.map(Self.decodeObject)
        }
    }

    public func objectState(_ kind: DirectoryObjectKind, id: String) async throws -> ObjectState? {
        let byName = kind.isPrincipalName(id)
        let key = byName ? nameKey(id) : id.lowercased()
        // The object and its value rows in one statement (the hottest read: GET of an object).
        return try await writer.statementRead { db in
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: byName ? Self.stateByName : Self.stateById), arguments: [key, kind.rawValue])
            guard let first = try rows.next() else { return nil }
            let object = try Self.decodeObject(first)
            let rowid: Int64 = first[0]
            var reader = ValueReader()
            func add(_ row: Row) {
                if let seq: Int64 = row[4] { reader.add(rowid: rowid, seq: seq, text: row[5], int: row[6]) }
            }
            add(first)
            while let row = try rows.next() { add(row) }
            return ObjectState(object: object, attributes: try self.decodeCommitted(reader, db)[rowid] ?? AttributeAssignments())
        }
    }

    /// An object (by id, or by principal name) with its value rows, one row per value (one row
    /// with NULL values when it has none), in the order `ValueReader` reads them.
    private static let stateById = stateSQL(where: "o.id = ?")
    private static let stateByName = stateSQL(where: "o.upn_key = ?")
    private static func stateSQL(where condition: String) -> String {
        """
        SELECT o.rowid, o.id, o.kind, o.properties, v.definition_seq, v.value_text, v.value_int
        FROM directory_objects o LEFT JOIN attribute_values v ON v.object_rowid = o.rowid
        WHERE \(condition) AND o.kind = ? ORDER BY v.definition_seq, v.ordinal
        """
    }

    public func objects(_ kind: DirectoryObjectKind, after cursor: Int64?, limit: Int) async throws -> DirectoryPage {
        try await query(kind, matching: nil, after: cursor, limit: limit, count: false).page
    }

    public func count(_ kind: DirectoryObjectKind) async throws -> Int {
        try await writer.read { db in
            try Self.total(kind, db)
        }
    }

    public func modify(
        _ kind: DirectoryObjectKind, id: String, passwordHash: String?, audit: AuditContext?,
        _ change: @escaping @Sendable (ObjectState, Schema) throws -> ObjectState
    ) async throws {
        let principalChanged = try await writeValues { db -> Bool in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT \(Self.objectColumns) FROM directory_objects WHERE id = ? AND kind = ?"),
                    arguments: [id.lowercased(), kind.rawValue])
            else { throw GraphError.notFound(id) }
            let object = try Self.decodeObject(row)
            let rowid: Int64 = row["rowid"]
            let before = ObjectState(
                object: object,
                attributes: try self.loadAttributes(db, rowids: [rowid])[rowid] ?? AttributeAssignments())
            let after = try change(before, try self.writeSchema(db))
            if after.object != before.object || passwordHash != nil {
                do {
                    try db.execute(
                        sql: """
                            UPDATE directory_objects SET upn_key = ?, properties = ?, password_hash = COALESCE(?, password_hash)
                            WHERE rowid = ?
                            """,
                        arguments: [
                            after.object.userPrincipalName.map(nameKey),
                            JSONValue.object(after.object.properties).serializedString,
                            passwordHash, rowid,
                        ])
                } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                    throw GraphError.conflictingObject
                }
            }
            var rows = ValueRows()
            try rows.add(
                after.attributes, previous: before.attributes, rowid: rowid, kind: kind, definition: self.definitionLookup(db))
            try self.write(rows, db)
            try Self.log(DirectoryChange.between(before, after), db)
            if let audit,
                let record = AuditLog.record(
                    valuesOf: after.object, before: before.attributes, after: after.attributes, context: audit)
            {
                try Self.append([record], db)
            }
            return after.object != before.object
        }
        if principalChanged { bumpAccessVersion() }
    }

    public func delete(_ kind: DirectoryObjectKind, id: String) async throws -> Bool {
        let deleted = try await writeValues { db -> Bool in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT rowid, id, app_id FROM directory_objects WHERE id = ? AND kind = ?",
                    arguments: [id.lowercased(), kind.rawValue])
            else { return false }
            var doomed: [(rowid: Int64, id: String, kind: DirectoryObjectKind)] = [(row["rowid"], row["id"], kind)]
            if kind == .application, let appId: String = row["app_id"] {
                for principal in try Row.fetchAll(
                    db, sql: "SELECT rowid, id FROM directory_objects WHERE kind = 'servicePrincipal' AND app_id = ?",
                    arguments: [appId])
                {
                    doomed.append((principal["rowid"], principal["id"], .servicePrincipal))
                }
            }
            for object in doomed {
                // Take the values out through the same path as a write, so counts and indexes follow.
                let values = try self.loadAttributes(db, rowids: [object.rowid])[object.rowid] ?? AttributeAssignments()
                var rows = ValueRows()
                rows.counts.objects[object.kind.rawValue] = -1
                try rows.add(
                    AttributeAssignments(), previous: values, rowid: object.rowid, kind: object.kind,
                    definition: self.definitionLookup(db))
                try self.write(rows, db)
                try db.execute(sql: "DELETE FROM directory_objects WHERE rowid = ?", arguments: [object.rowid])
                if DirectoryChange.isTracked(object.kind) {
                    try Self.log(DirectoryChange(kind: object.kind, objectId: object.id, type: .deleted), db)
                }
            }
            return true
        }
        if deleted { bumpAccessVersion() }
        return deleted
    }

    private func objectByAppId(_ kind: DirectoryObjectKind, _ appId: String) async throws -> DirectoryObject? {
        try await writer.shortRead { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.objectColumns) FROM directory_objects WHERE kind = ? AND app_id = ?",
                arguments: [kind.rawValue, appId.lowercased()]
            ).map(Self.decodeObject)
        }
    }

    public func servicePrincipal(appId: String) async throws -> DirectoryObject? {
        try await objectByAppId(.servicePrincipal, appId)
    }

    public func application(appId: String) async throws -> DirectoryObject? {
        try await objectByAppId(.application, appId)
    }

    public func userCredentials(userPrincipalName: String) async throws -> (user: DirectoryObject, passwordHash: String?)? {
        try await writer.shortRead { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.objectColumns), password_hash FROM directory_objects WHERE upn_key = ? AND kind = 'user'",
                    arguments: [nameKey(userPrincipalName)])
            else { return nil }
            return (try Self.decodeObject(row), row["password_hash"])
        }
    }

    // MARK: Application secrets

    public func passwordCredentials(applicationId: String) async throws -> [PasswordCredential] {
        try await writer.shortRead { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT key_id, display_name, hint, start_time, end_time, secret_hash FROM password_credentials
                    WHERE application_id = ? ORDER BY start_time
                    """,
                arguments: [applicationId.lowercased()]
            ).map { row in
                PasswordCredential(
                    keyId: row["key_id"], displayName: row["display_name"], hint: row["hint"],
                    startDateTime: Date(timeIntervalSince1970: row["start_time"]),
                    endDateTime: Date(timeIntervalSince1970: row["end_time"]), secretHash: row["secret_hash"])
            }
        }
    }

    public func addPasswordCredential(_ credential: PasswordCredential, applicationId: String) async throws {
        try await writer.write { db in
            let count =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM password_credentials WHERE application_id = ?", arguments: [applicationId])
                ?? 0
            guard count < Limits.passwordCredentialsPerApplication else {
                throw GraphError.badRequest(
                    "The application already has the maximum of \(Limits.passwordCredentialsPerApplication) password credentials."
                )
            }
            try db.execute(
                sql: """
                    INSERT INTO password_credentials (application_id, key_id, display_name, hint, start_time, end_time, secret_hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    applicationId.lowercased(), credential.keyId, credential.displayName, credential.hint,
                    credential.startDateTime.timeIntervalSince1970, credential.endDateTime.timeIntervalSince1970,
                    credential.secretHash,
                ])
        }
    }

    public func removePasswordCredential(keyId: String, applicationId: String) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM password_credentials WHERE application_id = ? AND lower(key_id) = ?",
                arguments: [applicationId.lowercased(), keyId.lowercased()])
            return db.changesCount > 0
        }
    }

    // MARK: Role assignments

    public func create(_ assignment: RoleAssignment) async throws {
        try await writer.write { db in
            do {
                try db.execute(
                    sql: "INSERT INTO role_assignments (id, principal_id, role_id, scope, scope_key) VALUES (?, ?, ?, ?, ?)",
                    arguments: [
                        assignment.id, assignment.principalId, assignment.role.rawValue,
                        assignment.scope.directoryScopeId, nameKey(assignment.scope.directoryScopeId),
                    ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                throw GraphError.conflictingObject
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
                throw GraphError.notFound(assignment.principalId)
            }
        }
        bumpAccessVersion()
    }

    static func decodeAssignment(_ row: Row) -> RoleAssignment? {
        guard let role = DirectoryRole(rawValue: row["role_id"]), let scope = RoleScope(directoryScopeId: row["scope"]) else {
            return nil
        }
        return RoleAssignment(id: row["id"], principalId: row["principal_id"], role: role, scope: scope)
    }

    public func roleAssignments(principalId: String?) async throws -> [RoleAssignment] {
        try await writer.shortRead { db in
            let rows =
                if let principalId {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM role_assignments WHERE principal_id = ? ORDER BY seq",
                        arguments: [principalId.lowercased()])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM role_assignments ORDER BY seq")
                }
            return rows.compactMap(Self.decodeAssignment)
        }
    }

    public func roleAssignment(id: String) async throws -> RoleAssignment? {
        try await writer.shortRead { db in
            try Row.fetchOne(db, sql: "SELECT * FROM role_assignments WHERE id = ?", arguments: [id.lowercased()]).flatMap(
                Self.decodeAssignment)
        }
    }

    public func deleteRoleAssignment(id: String) async throws -> Bool {
        let deleted = try await writer.write { db in
            try db.execute(sql: "DELETE FROM role_assignments WHERE id = ?", arguments: [id.lowercased()])
            return db.changesCount > 0
        }
        if deleted { bumpAccessVersion() }
        return deleted
    }
}
