import Foundation
import PostgresNIO
import SigilCore

/// Directory objects, their secrets and role assignments in PostgreSQL.
extension PostgresStore {
    // MARK: Directory objects

    static let objectColumns = "o.rowid, o.id, o.kind, o.properties"

    static func decodeObject(id: String, kind: String, properties: String) throws -> DirectoryObject {
        guard case .object(let members) = try JSON.parse(properties) else {
            throw PostgresStoreError.corrupt("directory object \(id) has corrupt properties")
        }
        return DirectoryObject(kind: DirectoryObjectKind(rawValue: kind) ?? .user, id: id, properties: members)
    }

    static func objects(_ rows: PostgresRowSequence) async throws -> [(rowid: Int64, object: DirectoryObject)] {
        var result: [(rowid: Int64, object: DirectoryObject)] = []
        for try await row in rows {
            var columns = ColumnReader(row)
            let (rowid, id) = (try columns.next(Int64.self), try columns.next(String.self))
            result.append((rowid, try decodeObject(id: id, kind: try columns.next(), properties: try columns.next())))
        }
        return result
    }

    public func create(
        _ object: DirectoryObject, passwordHash: String?, audit: AuditContext?,
        attributes: @escaping @Sendable (Schema) throws -> AttributeAssignments
    ) async throws {
        let audited = try await transaction { s -> Bool in
            try await s.execute("SELECT pg_advisory_xact_lock_shared(\(self.schemaLockKey))")
            let snapshot = try await self.snapshot(s)
            let values = try attributes(snapshot.schema)
            let rowids = try await self.insert([NewObject(object: object, passwordHash: passwordHash, attributes: values)], snapshot, s)
            try await Self.log(
                [(DirectoryChange.between(nil, ObjectState(object: object, attributes: values)), rowids[object.id])], s)
            guard let audit,
                let record = AuditLog.record(valuesOf: object, before: AttributeAssignments(), after: values, context: audit)
            else { return false }
            try await Self.append([record], s)
            return true
        }
        if audited { sealRequests.yield() }
    }

    public func createAll(_ objects: [NewObject]) async throws {
        guard !objects.isEmpty else { return }
        try await transaction { s in
            try await s.execute("SELECT pg_advisory_xact_lock_shared(\(self.schemaLockKey))")
            let rowids = try await self.insert(objects, try await self.snapshot(s), s)
            try await Self.log(
                objects.map {
                    (DirectoryChange.between(nil, ObjectState(object: $0.object, attributes: $0.attributes)), rowids[$0.object.id])
                }, s)
        }
    }

    /// Inserts objects and their values with one statement per table (arrays through unnest;
    /// empty strings stand for NULL there, as a bound text[] cannot carry NULLs). Returns the
    /// new objects' rowids by id.
    @discardableResult
    func insert(_ objects: [NewObject], _ snapshot: SchemaSnapshot, _ s: Session) async throws -> [String: Int64] {
        var rowids: [String: Int64] = [:]
        do {
            let rows = try await s.query(
                """
                INSERT INTO directory_objects (id, kind, upn_key, app_id, properties, password_hash)
                SELECT id, kind, NULLIF(upn, ''), NULLIF(app, ''), properties, NULLIF(hash, '')
                FROM unnest(\(objects.map(\.object.id))::text[], \(objects.map(\.object.kind.rawValue))::text[],
                    \(objects.map { $0.object.userPrincipalName.map(nameKey) ?? "" })::text[],
                    \(objects.map { $0.object.appId ?? "" })::text[],
                    \(objects.map { JSONValue.object($0.object.properties).serializedString })::text[],
                    \(objects.map { $0.passwordHash ?? "" })::text[]) AS n(id, kind, upn, app, properties, hash)
                RETURNING rowid, id
                """)
            for try await (rowid, id) in rows.decode((Int64, String).self) { rowids[id] = rowid }
        } catch let error as PSQLError where error.code == .server && Self.sqlState(error) == "23505" {
            throw GraphError.conflictingObject
        }
        var rows = ValueRows()
        for new in objects {
            guard let rowid = rowids[new.object.id] else { continue }
            rows.counts.objects[new.object.kind.rawValue, default: 0] += 1
            try rows.add(
                new.attributes, previous: AttributeAssignments(), rowid: rowid, kind: new.object.kind,
                definition: snapshot.definition(key:))
        }
        try await Self.write(rows, s)
        return rowids
    }

    public func object(_ kind: DirectoryObjectKind, id: String) async throws -> DirectoryObject? {
        try await objectState(kind, id: id, withAttributes: false)?.object
    }

    public func objectState(_ kind: DirectoryObjectKind, id: String) async throws -> ObjectState? {
        try await objectState(kind, id: id, withAttributes: true)
    }

    /// An object (by id, or a user by userPrincipalName) and its values in one statement, so one snapshot.
    func objectState(_ kind: DirectoryObjectKind, id: String, withAttributes: Bool) async throws -> ObjectState? {
        let byName = kind.isPrincipalName(id)
        let key = byName ? nameKey(id) : id.lowercased()
        let column = byName ? "upn_key" : "id"
        return try await withSession { s in
            let statement: SQLFragment =
                withAttributes
                ? """
                SELECT o.id, o.kind, o.properties, v.definition_seq, v.value_text, v.value_int
                FROM directory_objects o LEFT JOIN attribute_values v ON v.object_rowid = o.rowid
                WHERE o.\(sql: column) = \(key) AND o.kind = \(kind.rawValue) ORDER BY v.definition_seq, v.ordinal
                """
                : """
                SELECT o.id, o.kind, o.properties, NULL::bigint, NULL::text, NULL::bigint FROM directory_objects o
                WHERE o.\(sql: column) = \(key) AND o.kind = \(kind.rawValue)
                """
            var object: DirectoryObject?
            var values = ValueReader()
            var rows: [ObjectStateById.Row] = []
            if withAttributes && !byName {
                rows = try await s.execute(ObjectStateById(id: key, kind: kind.rawValue))
            } else {
                for try await row in try await s.select(statement) { rows.append(try ObjectStateById.row(from: row)) }
            }
            for (id, kind, properties, seq, text, int) in rows {
                if object == nil { object = try Self.decodeObject(id: id, kind: kind, properties: properties) }
                if let seq { values.add(rowid: 0, seq: seq, text: text, int: int) }
            }
            guard let object else { return nil }
            return ObjectState(object: object, attributes: try await self.decode(values, s)[0] ?? AttributeAssignments())
        }
    }

    public func objects(_ kind: DirectoryObjectKind, after cursor: Int64?, limit: Int) async throws -> DirectoryPage {
        try await query(kind, matching: nil, after: cursor, limit: limit, count: false).page
    }

    public func count(_ kind: DirectoryObjectKind) async throws -> Int {
        try await withSession { s in try await Self.total(kind, s) }
    }

    /// An object and its rowid, row-locked until the transaction ends.
    static func lockObject(_ kind: DirectoryObjectKind, id: String, _ s: Session) async throws -> (Int64, DirectoryObject)? {
        try await objects(
            s.query(
                """
                SELECT \(unescaped: objectColumns) FROM directory_objects o
                WHERE o.id = \(id.lowercased()) AND o.kind = \(kind.rawValue) FOR UPDATE
                """)
        ).first.map { ($0.rowid, $0.object) }
    }

    public func modify(
        _ kind: DirectoryObjectKind, id: String, passwordHash: String?, audit: AuditContext?,
        _ change: @escaping @Sendable (ObjectState, Schema) throws -> ObjectState
    ) async throws {
        let audited = try await transaction { s -> Bool in
            try await s.execute("SELECT pg_advisory_xact_lock_shared(\(self.schemaLockKey))")
            // The row lock serialises writers of one object across instances: no lost update.
            guard
                let (rowid, object) = try await Self.lockObject(kind, id: id, s)
            else { throw GraphError.notFound(id) }
            let snapshot = try await self.snapshot(s)
            let before = ObjectState(
                object: object, attributes: try await self.loadAttributes(s, rowids: [rowid])[rowid] ?? AttributeAssignments())
            let after = try change(before, snapshot.schema)
            if after.object != before.object || passwordHash != nil {
                do {
                    try await s.execute(
                        """
                        UPDATE directory_objects SET upn_key = \(after.object.userPrincipalName.map(nameKey)),
                            properties = \(JSONValue.object(after.object.properties).serializedString),
                            password_hash = COALESCE(\(passwordHash), password_hash)
                        WHERE rowid = \(rowid)
                        """)
                } catch let error as PSQLError where error.code == .server && Self.sqlState(error) == "23505" {
                    throw GraphError.conflictingObject
                }
                if after.object != before.object { try await Self.bump("access", s) }
            }
            var rows = ValueRows()
            try rows.add(
                after.attributes, previous: before.attributes, rowid: rowid, kind: kind, definition: snapshot.definition(key:))
            try await Self.write(rows, s)
            try await Self.log([(DirectoryChange.between(before, after), rowid)], s)
            guard let audit,
                let record = AuditLog.record(
                    valuesOf: after.object, before: before.attributes, after: after.attributes, context: audit)
            else { return false }
            try await Self.append([record], s)
            return true
        }
        if audited { sealRequests.yield() }
    }

    public func attributes(of objectIds: [String]) async throws -> [String: AttributeAssignments] {
        guard !objectIds.isEmpty else { return [:] }
        return try await transaction(readOnly: true) { s in
            var idByRowid: [Int64: String] = [:]
            for try await (rowid, id) in try await s.query(
                "SELECT rowid, id FROM directory_objects WHERE id = ANY(\(objectIds.map { $0.lowercased() }))"
            ).decode((Int64, String).self) {
                idByRowid[rowid] = id
            }
            let values = try await self.loadAttributes(s, rowids: Array(idByRowid.keys))
            return ValueReader.byRequestedId(objectIds, idByRowid: idByRowid, values)
        }
    }

    /// Value rows decoded against the schema; a definition the cached schema does not know yet
    /// (created through another instance a moment ago) makes it read the schema afresh.
    func decode(_ values: ValueReader, _ s: Session) async throws -> [Int64: AttributeAssignments] {
        guard !values.isEmpty else { return [:] }
        if let decoded = values.finish(try await snapshot(s, fresh: false).definitionsBySeq) { return decoded }
        return values.finish(try await snapshot(s, fresh: true).definitionsBySeq, skippingUnknown: true) ?? [:]
    }

    /// Attribute values of objects by rowid, in one statement.
    func loadAttributes(_ s: Session, rowids: [Int64]) async throws -> [Int64: AttributeAssignments] {
        guard !rowids.isEmpty else { return [:] }
        var reader = ValueReader()
        for try await row in try await s.query(
            """
            SELECT o.rowid, \(unescaped: Self.valueArrays)
            FROM unnest(\(rowids)::bigint[]) AS o(rowid) JOIN attribute_values v ON v.object_rowid = o.rowid GROUP BY o.rowid
            """
        ) {
            var columns = ColumnReader(row)
            try Self.readValueArrays(of: try columns.next(), &columns, into: &reader)
        }
        return try await decode(reader, s)
    }

    /// An object's values as three arrays in (definition, ordinal) order, aggregated over value
    /// rows `v` of one object `o`: one row per object instead of a row per value (a page of 100
    /// users holds ~800 values, and each row costs the client more than the database: its own
    /// message, state machine step and decode). A value's unused column is sent as '' or 0, which
    /// `ValueReader` ignores (it reads the column of the definition's type).
    static let valueArrays = """
        array_agg(v.definition_seq ORDER BY v.definition_seq, v.ordinal),
            array_agg(COALESCE(v.value_text, '') ORDER BY v.definition_seq, v.ordinal),
            array_agg(COALESCE(v.value_int, 0) ORDER BY v.definition_seq, v.ordinal)
        """

    /// Reads the three `valueArrays` columns (NULL for an object without values) of object `rowid`.
    static func readValueArrays(of rowid: Int64, _ columns: inout ColumnReader, into reader: inout ValueReader) throws {
        let definitions = try columns.next([Int64]?.self) ?? []
        let (texts, ints) = (try columns.next([String]?.self) ?? [], try columns.next([Int64]?.self) ?? [])
        guard definitions.count == texts.count, definitions.count == ints.count else {
            throw PostgresStoreError.corrupt("value arrays of different lengths")
        }
        for index in definitions.indices {
            reader.add(rowid: rowid, seq: definitions[index], text: texts[index], int: ints[index])
        }
    }

    public func delete(_ kind: DirectoryObjectKind, id: String) async throws -> Bool {
        try await transaction { s in
            guard
                let (rowid, object) = try await Self.lockObject(kind, id: id, s)
            else { return false }
            var doomed = [(rowid, object)]
            if kind == .application, let appId = object.appId {
                doomed += try await Self.objects(
                    s.query(
                        """
                        SELECT \(unescaped: Self.objectColumns) FROM directory_objects o
                        WHERE o.kind = 'servicePrincipal' AND o.app_id = \(appId.lowercased()) FOR UPDATE
                        """))
            }
            let snapshot = try await self.snapshot(s)
            let values = try await self.loadAttributes(s, rowids: doomed.map(\.0))
            var rows = ValueRows()
            for (rowid, object) in doomed {
                // Through the same path as a write, so the counts follow.
                try rows.add(
                    AttributeAssignments(), previous: values[rowid] ?? AttributeAssignments(), rowid: rowid, kind: object.kind,
                    definition: snapshot.definition(key:))
                rows.counts.objects[object.kind.rawValue, default: 0] -= 1
            }
            try await Self.write(rows, s)
            try await s.execute("DELETE FROM directory_objects WHERE rowid = ANY(\(doomed.map(\.0)))")
            try await Self.log(
                doomed.map { (DirectoryChange.between(ObjectState(object: $0.1, attributes: AttributeAssignments()), nil), $0.0) }, s)
            try await Self.bump("access", s)
            return true
        }
    }

    private func objectByAppId(_ kind: DirectoryObjectKind, _ appId: String) async throws -> DirectoryObject? {
        try await withSession { s in
            try await Self.objects(
                s.query(
                    """
                    SELECT \(unescaped: Self.objectColumns) FROM directory_objects o
                    WHERE o.kind = \(kind.rawValue) AND o.app_id = \(appId.lowercased())
                    """)
            ).first?.object
        }
    }

    public func servicePrincipal(appId: String) async throws -> DirectoryObject? {
        try await objectByAppId(.servicePrincipal, appId)
    }

    public func application(appId: String) async throws -> DirectoryObject? {
        try await objectByAppId(.application, appId)
    }

    public func userCredentials(userPrincipalName: String) async throws -> (user: DirectoryObject, passwordHash: String?)? {
        let found = try await withSession { s -> (String, String, String, String?)? in
            for try await row in try await s.query(
                """
                SELECT id, kind, properties, password_hash FROM directory_objects
                WHERE upn_key = \(nameKey(userPrincipalName)) AND kind = 'user'
                """
            ).decode((String, String, String, String?).self) {
                return row
            }
            return nil
        }
        guard let (id, kind, properties, hash) = found else { return nil }
        return (try Self.decodeObject(id: id, kind: kind, properties: properties), hash)
    }

    // MARK: Application secrets

    public func passwordCredentials(applicationId: String) async throws -> [PasswordCredential] {
        try await withSession { s in
            var result: [PasswordCredential] = []
            for try await (keyId, name, hint, start, end, hash) in try await s.query(
                """
                SELECT key_id, display_name, hint, start_time, end_time, secret_hash FROM password_credentials
                WHERE application_id = \(applicationId.lowercased()) ORDER BY start_time
                """
            ).decode((String, String?, String, Double, Double, String).self) {
                result.append(
                    PasswordCredential(
                        keyId: keyId, displayName: name, hint: hint, startDateTime: Date(timeIntervalSince1970: start),
                        endDateTime: Date(timeIntervalSince1970: end), secretHash: hash))
            }
            return result
        }
    }

    public func addPasswordCredential(_ credential: PasswordCredential, applicationId: String) async throws {
        let applicationId = applicationId.lowercased()
        try await transaction { s in
            // Locking the application serialises concurrent additions, so the limit holds.
            _ = try await s.scalar("SELECT rowid FROM directory_objects WHERE id = \(applicationId) FOR UPDATE", Int64.self)
            let count =
                try await s.scalar("SELECT count(*) FROM password_credentials WHERE application_id = \(applicationId)", Int64.self) ?? 0
            guard count < Limits.passwordCredentialsPerApplication else {
                throw GraphError.badRequest(
                    "The application already has the maximum of \(Limits.passwordCredentialsPerApplication) password credentials."
                )
            }
            try await s.execute(
                """
                INSERT INTO password_credentials (application_id, key_id, display_name, hint, start_time, end_time, secret_hash)
                VALUES (\(applicationId), \(credential.keyId), \(credential.displayName), \(credential.hint),
                    \(credential.startDateTime.timeIntervalSince1970), \(credential.endDateTime.timeIntervalSince1970),
                    \(credential.secretHash))
                """)
        }
    }

    public func removePasswordCredential(keyId: String, applicationId: String) async throws -> Bool {
        try await withSession { s in
            try await s.scalar(
                """
                WITH gone AS (DELETE FROM password_credentials
                    WHERE application_id = \(applicationId.lowercased()) AND lower(key_id) = \(keyId.lowercased()) RETURNING 1)
                SELECT count(*) FROM gone
                """, Int64.self) ?? 0 > 0
        }
    }

    // MARK: Role assignments

    public func create(_ assignment: RoleAssignment) async throws {
        try await transaction { s in
            do {
                try await s.execute(
                    """
                    INSERT INTO role_assignments (id, principal_id, role_id, scope, scope_key)
                    VALUES (\(assignment.id), \(assignment.principalId), \(assignment.role.rawValue),
                        \(assignment.scope.directoryScopeId), \(nameKey(assignment.scope.directoryScopeId)))
                    """)
            } catch let error as PSQLError where error.code == .server && Self.sqlState(error) == "23505" {
                throw GraphError.conflictingObject
            } catch let error as PSQLError where error.code == .server && Self.sqlState(error) == "23503" {
                throw GraphError.notFound(assignment.principalId)
            }
            try await Self.bump("access", s)
        }
    }

    static func assignments(_ rows: PostgresRowSequence) async throws -> [RoleAssignment] {
        var result: [RoleAssignment] = []
        for try await (id, principal, roleId, scopeId) in rows.decode((String, String, String, String).self) {
            guard let role = DirectoryRole(rawValue: roleId), let scope = RoleScope(directoryScopeId: scopeId) else { continue }
            result.append(RoleAssignment(id: id, principalId: principal, role: role, scope: scope))
        }
        return result
    }

    public func roleAssignments(principalId: String?) async throws -> [RoleAssignment] {
        try await withSession { s in
            if let principalId {
                return try await Self.assignments(
                    s.query(
                        """
                        SELECT id, principal_id, role_id, scope FROM role_assignments
                        WHERE principal_id = \(principalId.lowercased()) ORDER BY seq
                        """))
            }
            return try await Self.assignments(s.query("SELECT id, principal_id, role_id, scope FROM role_assignments ORDER BY seq"))
        }
    }

    public func roleAssignment(id: String) async throws -> RoleAssignment? {
        try await withSession { s in
            try await Self.assignments(
                s.query("SELECT id, principal_id, role_id, scope FROM role_assignments WHERE id = \(id.lowercased())")
            ).first
        }
    }

    public func deleteRoleAssignment(id: String) async throws -> Bool {
        try await transaction { s in
            let deleted =
                try await s.scalar(
                    "WITH gone AS (DELETE FROM role_assignments WHERE id = \(id.lowercased()) RETURNING 1) SELECT count(*) FROM gone",
                    Int64.self) ?? 0
            if deleted > 0 { try await Self.bump("access", s) }
            return deleted > 0
        }
    }

    /// Writes value rows with one statement per table (arrays through unnest), then the count
    /// changes in key order, as `CountDeltas` says.
    static func write(_ rows: ValueRows, _ s: Session) async throws {
        if !rows.deletes.isEmpty {
            try await s.execute(
                """
                DELETE FROM attribute_values WHERE (object_rowid, definition_seq) IN
                    (SELECT * FROM unnest(\(rows.deletes.map(\.rowid))::int8[], \(rows.deletes.map(\.seq))::int8[]))
                """)
        }
        let text = rows.inserts.filter { $0.text != nil }
        let int = rows.inserts.filter { $0.text == nil }
        let objectChanges = rows.counts.objectChanges
        let valueChanges = rows.counts.valueChanges
        guard !text.isEmpty || !int.isEmpty || !objectChanges.isEmpty || !valueChanges.isEmpty else { return }
        // New value rows and the maintained counts in one statement (a round trip fewer per
        // write); each part is a no-op when its arrays are empty. Old rows go first, above: a
        // value's new row may take its old row's key.
        try await s.execute(
            """
            WITH object_changes AS (
                INSERT INTO object_counts (kind, objects)
                SELECT * FROM unnest(\(objectChanges.map(\.key))::text[], \(objectChanges.map(\.value))::int8[])
                ON CONFLICT (kind) DO UPDATE SET objects = object_counts.objects + excluded.objects),
            value_changes AS (
                INSERT INTO attribute_value_counts (kind, definition_seq, value_key, objects)
                SELECT * FROM unnest(\(valueChanges.map(\.key.kind))::text[], \(valueChanges.map(\.key.seq))::int8[],
                    \(valueChanges.map(\.key.value))::text[], \(valueChanges.map(\.value))::int8[])
                ON CONFLICT (kind, definition_seq, value_key)
                DO UPDATE SET objects = attribute_value_counts.objects + excluded.objects),
            text_values AS (
                INSERT INTO attribute_values (object_rowid, definition_seq, value_text, ordinal, kind)
                SELECT r, d, v, o::integer, k FROM unnest(\(text.map(\.rowid))::int8[], \(text.map(\.seq))::int8[],
                    \(text.map { $0.text ?? "" })::text[], \(text.map(\.ordinal))::int8[], \(text.map(\.kind))::text[])
                    AS n(r, d, v, o, k))
            INSERT INTO attribute_values (object_rowid, definition_seq, value_int, ordinal, kind)
            SELECT r, d, v, o::integer, k FROM unnest(\(int.map(\.rowid))::int8[], \(int.map(\.seq))::int8[],
                \(int.map { $0.int ?? 0 })::int8[], \(int.map(\.ordinal))::int8[], \(int.map(\.kind))::text[])
                AS n(r, d, v, o, k)
            """)
    }
}

/// One object with its value rows (GET of an object, the hottest read).
struct ObjectStateById: PostgresPreparedStatement {
    static let sql = """
        SELECT o.id, o.kind, o.properties, v.definition_seq, v.value_text, v.value_int
        FROM directory_objects o LEFT JOIN attribute_values v ON v.object_rowid = o.rowid
        WHERE o.id = $1 AND o.kind = $2 ORDER BY v.definition_seq, v.ordinal
        """
    typealias Row = (String, String, String, Int64?, String?, Int64?)
    let id: String
    let kind: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(id)
        bindings.append(kind)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try Self.row(from: row) }

    static func row(from row: PostgresRow) throws -> Row {
        var columns = ColumnReader(row)
        return (try columns.next(), try columns.next(), try columns.next(), try columns.next(), try columns.next(), try columns.next())
    }
}
