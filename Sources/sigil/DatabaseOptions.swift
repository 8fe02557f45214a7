import ArgumentParser
import Foundation
import Logging
import SigilStore

/// Where the data lives: shared by `serve` and the commands that read the same database.
struct DatabaseOptions: ParsableArguments, CustomStringConvertible {
    @Option(help: "Directory for the SQLite database and the bootstrap credentials file.") var dataDir = "./sigil-data"
    @Option(
        help: """
            Database: postgres://user:password@host:port/database[?sslmode=…&sslrootcert=…&schema=…&pool_size=…] \
            (see docs/deployment.md), \
            or a SQLite file path or sqlite:// URL (default: <data-dir>/sigil.sqlite).
            """)
    var databaseURL: String?

    func validate() throws {
        if let url = location, PostgresLocation.isPostgresURL(url) {
            do { _ = try PostgresLocation(url: url) } catch { throw ValidationError("\(error)") }
        }
    }

    /// --database-url, else SIGIL_DATABASE_URL.
    var location: String? {
        databaseURL ?? ProcessInfo.processInfo.environment["SIGIL_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var isPostgres: Bool { location.map(PostgresLocation.isPostgresURL) ?? false }

    func sqlitePath() throws -> String {
        guard let url = location else { return (dataDir as NSString).appendingPathComponent("sigil.sqlite") }
        if url.lowercased().hasPrefix("sqlite://") { return String(url.dropFirst("sqlite://".count)) }
        if url.contains("://") { throw ValidationError("--database-url must be a postgres:// URL, a SQLite path or a sqlite:// URL.") }
        return url
    }

    /// Where the data is, for people (a PostgreSQL URL without its password).
    var description: String {
        if let url = location, let location = try? PostgresLocation(url: url) { return location.redacted }
        return (try? sqlitePath()).map { "SQLite \($0)" } ?? "SQLite"
    }

    /// PostgreSQL for a postgres:// URL, else the SQLite file. With `mustExist`, a missing
    /// SQLite file is an error rather than a new, empty database.
    func openStore(logger: Logger, mustExist: Bool = false) async throws -> any DirectoryStore {
        if let url = location, PostgresLocation.isPostgresURL(url) {
            return try await PostgresStore(url: url, logger: logger)
        }
        let path = try sqlitePath()
        if mustExist, !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("There is no Sigil database at \(path); give --data-dir or --database-url.")
        }
        return try SQLiteStore(path: path)
    }
}
