import GRDB

extension SQLiteStore {
    /// The database's history as ordered, named steps; a step once released never changes.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-directory-and-schema") { db in
            try db.execute(
                sql: """
                    CREATE TABLE settings (
                        key TEXT PRIMARY KEY,
                        value TEXT NOT NULL
                    );

                    -- Names are unique case-insensitively (key = lowercased name) but kept as created.
                    CREATE TABLE attribute_sets (
                        seq INTEGER PRIMARY KEY,
                        key TEXT NOT NULL UNIQUE,
                        id TEXT NOT NULL,
                        description TEXT,
                        max_attributes INTEGER
                    );

                    CREATE TABLE attribute_definitions (
                        seq INTEGER PRIMARY KEY,
                        key TEXT NOT NULL UNIQUE,
                        set_key TEXT NOT NULL REFERENCES attribute_sets(key),
                        attribute_set TEXT NOT NULL,
                        name TEXT NOT NULL,
                        description TEXT,
                        type TEXT NOT NULL,
                        is_collection INTEGER NOT NULL,
                        is_searchable INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        predefined_only INTEGER NOT NULL
                    );

                    -- Allowed value ids are case-sensitive, so the plain BINARY collation.
                    CREATE TABLE allowed_values (
                        seq INTEGER PRIMARY KEY,
                        definition_key TEXT NOT NULL REFERENCES attribute_definitions(key),
                        id TEXT NOT NULL,
                        is_active INTEGER NOT NULL,
                        UNIQUE (definition_key, id)
                    );

                    -- The integer rowid orders pages (keyset paging) and keys the value rows compactly.
                    CREATE TABLE directory_objects (
                        rowid INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL,
                        upn_key TEXT UNIQUE,
                        app_id TEXT,
                        properties TEXT NOT NULL,
                        password_hash TEXT
                    );
                    CREATE INDEX directory_objects_kind ON directory_objects(kind, rowid);
                    CREATE UNIQUE INDEX directory_objects_app_id ON directory_objects(kind, app_id) WHERE app_id IS NOT NULL;

                    CREATE TABLE password_credentials (
                        application_id TEXT NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
                        key_id TEXT NOT NULL,
                        display_name TEXT,
                        hint TEXT NOT NULL,
                        start_time REAL NOT NULL,
                        end_time REAL NOT NULL,
                        secret_hash TEXT NOT NULL,
                        PRIMARY KEY (application_id, key_id)
                    );

                    CREATE TABLE role_assignments (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        principal_id TEXT NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
                        role_id TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        scope_key TEXT NOT NULL,
                        UNIQUE (principal_id, role_id, scope_key)
                    );

                    -- Custom security attribute values, one row per value, so that eq and startsWith
                    -- filters are index range scans: (definition, value) -> objects.
                    CREATE TABLE attribute_values (
                        object_rowid INTEGER NOT NULL REFERENCES directory_objects(rowid) ON DELETE CASCADE,
                        definition_seq INTEGER NOT NULL REFERENCES attribute_definitions(seq),
                        value_text TEXT,
                        value_int INTEGER,
                        ordinal INTEGER NOT NULL,
                        PRIMARY KEY (object_rowid, definition_seq, ordinal)
                    ) WITHOUT ROWID;
                    CREATE INDEX attribute_values_text ON attribute_values(definition_seq, value_text, object_rowid)
                        WHERE value_text IS NOT NULL;
                    CREATE INDEX attribute_values_int ON attribute_values(definition_seq, value_int, object_rowid)
                        WHERE value_int IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v2-query-counts") { db in
            try db.execute(
                sql: """
                    -- How many objects of each kind hold each attribute value, kept in the same
                    -- transaction as the values, so an eq count is one lookup and ne is total minus eq.
                    CREATE TABLE attribute_value_counts (
                        kind TEXT NOT NULL,
                        definition_seq INTEGER NOT NULL,
                        value_key TEXT NOT NULL, -- 's:' || text, or 'i:' || integer (booleans 0/1)
                        objects INTEGER NOT NULL,
                        PRIMARY KEY (kind, definition_seq, value_key)
                    ) WITHOUT ROWID;

                    CREATE TABLE object_counts (
                        kind TEXT PRIMARY KEY,
                        objects INTEGER NOT NULL
                    );
                    INSERT INTO object_counts (kind, objects) SELECT kind, COUNT(*) FROM directory_objects GROUP BY kind;
                    INSERT INTO attribute_value_counts (kind, definition_seq, value_key, objects)
                        SELECT o.kind, v.definition_seq,
                            CASE WHEN v.value_text IS NOT NULL THEN 's:' || v.value_text ELSE 'i:' || v.value_int END,
                            COUNT(*)
                        FROM attribute_values v JOIN directory_objects o ON o.rowid = v.object_rowid
                        GROUP BY 1, 2, 3;
                    """)
        }
        migrator.registerMigration("v3-display-name-order") { db in
            // Serves $orderby=displayName with keyset paging; the expression matches the query's.
            try db.execute(
                sql: """
                    CREATE INDEX directory_objects_display_name
                        ON directory_objects(kind, lower(coalesce(json_extract(properties, '$.displayName'), '')), rowid)
                    """)
        }
        migrator.registerMigration("v4-audit-log") { db in
            try db.execute(sql: auditSchema)
            try db.execute(
                sql: "INSERT INTO audit_chain (id, head_seq, head_hash, anchor_seq, anchor_hash) VALUES (1, 0, ?, 0, ?)",
                arguments: [AuditChain.genesis, AuditChain.genesis])
        }
        migrator.registerMigration("v5-change-log") { db in
            try db.execute(sql: changeLogSchema)
        }
        registerConditionalAccessMigration(&migrator)
        registerAccessRulesMigration(&migrator)
        registerProvisioningMigration(&migrator)
        registerProvisioningMappingMigration(&migrator)
        registerHeldUploadsMigration(&migrator)
        registerKeptFiltersMigration(&migrator)
        return migrator
    }
}

extension SQLiteStore {
    /// The custom security attribute audit log. Records are kept as the canonical JSON that was
    /// hashed; the other columns only serve filters.
    static let auditSchema = """
        CREATE TABLE audit_records (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            activity_date_time TEXT NOT NULL, -- AuditRecord.timestamp: sorts as text
            activity TEXT NOT NULL,
            result TEXT NOT NULL,
            initiator_user_id TEXT,
            initiator_app_id TEXT,
            target_id TEXT, -- lower-cased
            record TEXT NOT NULL,
            previous_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_records_time ON audit_records(activity_date_time);
        CREATE INDEX audit_records_user ON audit_records(initiator_user_id, seq) WHERE initiator_user_id IS NOT NULL;
        CREATE INDEX audit_records_app ON audit_records(initiator_app_id, seq) WHERE initiator_app_id IS NOT NULL;
        CREATE INDEX audit_records_target ON audit_records(target_id, seq) WHERE target_id IS NOT NULL;

        -- One row: the chain's last record, and the anchor pruning left (genesis before any).
        CREATE TABLE audit_chain (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            head_seq INTEGER NOT NULL,
            head_hash TEXT NOT NULL,
            anchor_seq INTEGER NOT NULL,
            anchor_hash TEXT NOT NULL
        );
        """
}
