import Testing

@testable import SigilStore

/// Reading `--database-url`: needs no database.
@Suite struct PostgresLocationTests {
    @Test func readsEveryPart() throws {
        let location = try PostgresLocation(
            url: "postgresql://sigil%40corp:p%3Ass@db.example.com:6432/directory?sslmode=verify-full&schema=Tenant_A&pool_size=8")
        #expect(location.username == "sigil@corp")
        #expect(location.password == "p:ss")
        #expect(location.host == "db.example.com")
        #expect(location.port == 6432)
        #expect(location.database == "directory")
        #expect(location.schema == "Tenant_A")
        #expect(location.sslMode == "verify-full")
        #expect(location.poolSize == 8)
        #expect(location.redacted == "postgres://sigil@corp@db.example.com:6432/directory")
    }

    @Test func defaultsAreLibpqs() throws {
        let location = try PostgresLocation(url: "postgres://sigil@localhost")
        #expect(location.port == 5432)
        #expect(location.database == nil)
        #expect(location.sslMode == "prefer")
        #expect(location.schema == nil)
        #expect(location.poolSize == nil)
        // prefer and require encrypt without checking the certificate, as libpq does.
        #expect(location.tlsConfiguration().certificateVerification == .none)
        #expect(try PostgresLocation(url: "postgres://u@h?sslmode=verify-ca").tlsConfiguration().certificateVerification == .noHostnameVerification)
    }

    @Test(arguments: [
        "postgres://localhost/db",  // no user
        "postgres://u@/db",  // no host
        "mysql://u@h/db",
        "postgres://u@h/db?sslmode=allow",
        "postgres://u@h/db?pool_size=1",
        "postgres://u@h/db?pool_size=lots",
        "postgres://u@h/db?application_name=x",  // unknown: refused, not ignored
    ]) func refusesWhatItCannotUse(_ url: String) {
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(url: url) }
    }

    @Test func lockKeysAreDistinctPerSchemaAndPurpose() throws {
        let a = try PostgresLocation(url: "postgres://u@h/db?schema=a")
        let b = try PostgresLocation(url: "postgres://u@h/db?schema=b")
        #expect(a.lockKey("schema") != b.lockKey("schema"))
        #expect(a.lockKey("schema") != a.lockKey("migrations"))
        #expect(a.lockKey("schema") == (try PostgresLocation(url: "postgres://v@other/db?schema=a")).lockKey("schema"))
    }
}
