import Logging
import PostgresNIO

/// The PostgreSQL schema's history as ordered, named steps, applied at start under an advisory
/// lock so that instances starting together migrate once. A step once released never changes.
///
/// Text that is compared or ordered in SQL is `COLLATE "C"`: byte order, whatever the cluster's
/// locale, so `eq` and `startsWith` are index range scans and order as in SQLite and in Core.
enum PostgresMigrations {
    static let steps: [(id: String, sql: [String])] = [
        (
            "v1-directory-and-schema",
            [
                """
                CREATE TABLE settings (
                    key text COLLATE "C" PRIMARY KEY,
                    value text NOT NULL
                )
                """,
                // Counters other instances read to know that their caches are stale.
                """
                CREATE TABLE store_versions (
                    name text COLLATE "C" PRIMARY KEY,
                    version bigint NOT NULL
                )
                """,
                "INSERT INTO store_versions (name, version) VALUES ('schema', 0), ('access', 0)",
                """
                CREATE TABLE attribute_sets (
                    seq bigserial PRIMARY KEY,
                    key text COLLATE "C" NOT NULL UNIQUE,
                    id text NOT NULL,
                    description text,
                    max_attributes integer
                )
                """,
                """
                CREATE TABLE attribute_definitions (
                    seq bigserial PRIMARY KEY,
                    key text COLLATE "C" NOT NULL UNIQUE,
                    set_key text COLLATE "C" NOT NULL REFERENCES attribute_sets(key),
                    attribute_set text NOT NULL,
                    name text NOT NULL,
                    description text,
                    type text NOT NULL,
                    is_collection boolean NOT NULL,
                    is_searchable boolean NOT NULL,
                    status text NOT NULL,
                    predefined_only boolean NOT NULL
                )
                """,
                """
                CREATE TABLE allowed_values (
                    seq bigserial PRIMARY KEY,
                    definition_key text COLLATE "C" NOT NULL REFERENCES attribute_definitions(key),
                    id text COLLATE "C" NOT NULL,
                    is_active boolean NOT NULL,
                    UNIQUE (definition_key, id)
                )
                """,
                // properties is the object's JSON as text: Sigil keeps member order, jsonb would not.
                // display_key is the $orderby=displayName key, as SQLite computes it.
                """
                CREATE TABLE directory_objects (
                    rowid bigserial PRIMARY KEY,
                    id text COLLATE "C" NOT NULL UNIQUE,
                    kind text COLLATE "C" NOT NULL,
                    upn_key text COLLATE "C" UNIQUE,
                    app_id text COLLATE "C",
                    properties text NOT NULL,
                    password_hash text,
                    display_key text COLLATE "C" GENERATED ALWAYS AS
                        (lower(coalesce((properties::json ->> 'displayName'), '') COLLATE "C")) STORED
                )
                """,
                "CREATE INDEX directory_objects_kind ON directory_objects (kind, rowid)",
                "CREATE UNIQUE INDEX directory_objects_app_id ON directory_objects (kind, app_id) WHERE app_id IS NOT NULL",
                "CREATE INDEX directory_objects_display_name ON directory_objects (kind, display_key, rowid)",
                """
                CREATE TABLE password_credentials (
                    application_id text COLLATE "C" NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
                    key_id text COLLATE "C" NOT NULL,
                    display_name text,
                    hint text NOT NULL,
                    start_time double precision NOT NULL,
                    end_time double precision NOT NULL,
                    secret_hash text NOT NULL,
                    PRIMARY KEY (application_id, key_id)
                )
                """,
                """
                CREATE TABLE role_assignments (
                    seq bigserial PRIMARY KEY,
                    id text COLLATE "C" NOT NULL UNIQUE,
                    principal_id text COLLATE "C" NOT NULL REFERENCES directory_objects(id) ON DELETE CASCADE,
                    role_id text COLLATE "C" NOT NULL,
                    scope text NOT NULL,
                    scope_key text COLLATE "C" NOT NULL,
                    UNIQUE (principal_id, role_id, scope_key)
                )
                """,
                // One row per value, so eq and startsWith are range scans: (definition, value) -> objects.
                """
                CREATE TABLE attribute_values (
                    object_rowid bigint NOT NULL REFERENCES directory_objects(rowid) ON DELETE CASCADE,
                    definition_seq bigint NOT NULL REFERENCES attribute_definitions(seq),
                    kind text COLLATE "C" NOT NULL, -- of the object, so counts need no join
                    value_text text COLLATE "C",
                    value_int bigint,
                    ordinal integer NOT NULL,
                    PRIMARY KEY (object_rowid, definition_seq, ordinal)
                )
                """,
                """
                CREATE INDEX attribute_values_text ON attribute_values (definition_seq, value_text, object_rowid)
                    INCLUDE (kind) WHERE value_text IS NOT NULL
                """,
                """
                CREATE INDEX attribute_values_int ON attribute_values (definition_seq, value_int, object_rowid)
                    INCLUDE (kind) WHERE value_int IS NOT NULL
                """,
                // Objects per kind and per attribute value, kept in the writing transaction: an eq
                // count is one lookup, ne is total minus eq.
                """
                CREATE TABLE attribute_value_counts (
                    kind text COLLATE "C" NOT NULL,
                    definition_seq bigint NOT NULL,
                    value_key text COLLATE "C" NOT NULL,
                    objects bigint NOT NULL,
                    PRIMARY KEY (kind, definition_seq, value_key)
                )
                """,
                """
                CREATE TABLE object_counts (
                    kind text COLLATE "C" PRIMARY KEY,
                    objects bigint NOT NULL
                )
                """,
            ]
        ),
        (
            "v2-audit-log",
            [
                """
                CREATE TABLE audit_records (
                    seq bigserial PRIMARY KEY,
                    id text COLLATE "C" NOT NULL UNIQUE,
                    activity_date_time text COLLATE "C" NOT NULL,
                    activity text COLLATE "C" NOT NULL,
                    result text COLLATE "C" NOT NULL,
                    initiator_user_id text COLLATE "C",
                    initiator_app_id text COLLATE "C",
                    target_id text COLLATE "C",
                    record text NOT NULL,
                    -- Set by the sealer after commit: the place in the hash chain and the links.
                    chain_seq bigint UNIQUE,
                    previous_hash text,
                    hash text
                )
                """,
                "CREATE INDEX audit_records_unsealed ON audit_records (seq) WHERE chain_seq IS NULL",
                "CREATE INDEX audit_records_time ON audit_records (activity_date_time)",
                """
                CREATE INDEX audit_records_user ON audit_records (initiator_user_id, seq)
                WHERE initiator_user_id IS NOT NULL
                """,
                "CREATE INDEX audit_records_app ON audit_records (initiator_app_id, seq) WHERE initiator_app_id IS NOT NULL",
                "CREATE INDEX audit_records_target ON audit_records (target_id, seq) WHERE target_id IS NOT NULL",
                """
                CREATE TABLE audit_chain (
                    id integer PRIMARY KEY CHECK (id = 1),
                    head_seq bigint NOT NULL,
                    head_hash text NOT NULL,
                    anchor_seq bigint NOT NULL,
                    anchor_hash text NOT NULL
                )
                """,
                """
                INSERT INTO audit_chain (id, head_seq, head_hash, anchor_seq, anchor_hash)
                VALUES (1, 0, '\(AuditChain.genesis)', 0, '\(AuditChain.genesis)')
                """,
            ]
        ),
        ("change-log", PostgresStore.changeLogSchema),
        ("conditional-access", PostgresStore.conditionalAccessSchema),
        ("access-rules", PostgresStore.accessRulesSchema),
        ("inbound-provisioning", PostgresStore.provisioningSchema),
        ("provisioning-mapping", PostgresStore.provisioningMappingSchema),
        ("held-uploads", PostgresStore.heldUploadsSchema),
        ("held-upload-claims", PostgresStore.heldUploadClaimsSchema),
        ("access-rules-version", PostgresStore.accessRulesVersionSchema),
        ("change-log-rowids", PostgresStore.changeLogRowidSchema),
        ("kept-value-sets", PostgresStore.keptValueSetsSchema),
    ]

    /// Applies the steps not yet applied. Holds a session advisory lock on one connection for the
    /// whole run, so a second instance waits and then finds nothing left to do.
    static func migrate(_ connection: PostgresConnection, _ location: PostgresLocation, logger: Logger) async throws {
        let lockKey = location.lockKey("migrations")
        try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
        do {
            // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema
            // exists, so an existing schema is only looked up.
            if let schema = location.schema,
                try await connection.query("SELECT 1 FROM pg_namespace WHERE nspname = \(schema)", logger: logger)
                    .collect().isEmpty
            {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(quoteIdentifier(schema))"), logger: logger)
            }
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS sigil_migrations (
                    id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var applied: Set<String> = []
            for try await id in try await connection.query("SELECT id FROM sigil_migrations", logger: logger).decode(String.self) {
                applied.insert(id)
            }
            for step in steps where !applied.contains(step.id) {
                try await connection.query("BEGIN", logger: logger)
                do {
                    for statement in step.sql { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                    try await connection.query("INSERT INTO sigil_migrations (id) VALUES (\(step.id))", logger: logger)
                    try await connection.query("COMMIT", logger: logger)
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
                logger.info("applied database migration", metadata: ["migration": "\(step.id)"])
            }
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            throw error
        }
        try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
    }

    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
