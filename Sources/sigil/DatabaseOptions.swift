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
    @Flag(
        help: """
            Start even when the data directory or the SQLite database is open to other users (group or world \
            permissions). They hold the token signing key: anyone who reads them can forge tokens.
            """)
    var allowSharedDataDir = false

    func validate() throws {
        if let url = location, PostgresLocation.isPostgresURL(url) {
            do { _ = try PostgresLocation(url: url) } catch { throw ValidationError("\(error)") }
        }
        // A URL of another scheme is a wrong command line (status 2), found before anything runs.
        if !isPostgres { _ = try sqlitePath() }
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

    /// The options that name this database again, for commands printed to people (no password).
    var arguments: String {
        guard let url = location else { return "--data-dir \(shellWord(dataDir))" }
        return isPostgres ? "--database-url <your postgres:// URL>" : "--database-url \(shellWord(url))"
    }

    /// Where the data is, for people (a PostgreSQL URL without its password).
    var description: String {
        if let url = location, let location = try? PostgresLocation(url: url) { return location.redacted }
        return (try? sqlitePath()).map { "SQLite \($0)" } ?? "SQLite"
    }

    /// PostgreSQL for a postgres:// URL, else the SQLite file. With `mustExist`, a missing
    /// SQLite file is an error rather than a new, empty database.
    /// Without `mustExist`, the data directory is created (0700) when missing.
    func openStore(logger: Logger, mustExist: Bool = false) async throws -> any DirectoryStore {
        // Whatever this process writes from here on (database, credentials) is the owner's alone.
        umask(0o077)
        try refuseSharedFiles()
        if !mustExist {
            try FileManager.default.createDirectory(
                atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if let url = location, PostgresLocation.isPostgresURL(url) {
            return try await PostgresStore(url: url, logger: logger)
        }
        let path = try sqlitePath()
        if mustExist, !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("There is no Sigil database at \(path); give --data-dir or --database-url.")
        }
        return try SQLiteStore(path: path)
    }

    /// The data directory, the SQLite files and the bootstrap credentials hold the signing key and
    /// secrets: any group or world permission on one that exists stops the command.
    func refuseSharedFiles() throws {
        guard !allowSharedDataDir else { return }
        var paths = [dataDir, (dataDir as NSString).appendingPathComponent("bootstrap-credentials.json")]
        if !isPostgres {
            let database = try sqlitePath()
            paths += [database, database + "-wal", database + "-shm"]
        }
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let mode = info.st_mode & 0o777
            guard mode & 0o077 == 0 else { throw SharedDataError(path: path, mode: mode) }
        }
    }
}

/// One line naming the file, its mode, the fix and the override.
struct SharedDataError: Error, CustomStringConvertible {
    let path: String
    let mode: mode_t

    var description: String {
        let octal = "0" + String(mode, radix: 8)
        return "\(path) is open to other users (mode \(octal)) and holds the token signing key or secrets; "
            + "run chmod go-rwx \(path) or pass --allow-shared-data-dir."
    }
}

/// `text` as one shell word: as it is when it holds only safe characters, else in single quotes.
func shellWord(_ text: String) -> String {
    let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@,=")
    guard text.unicodeScalars.contains(where: { !safe.contains($0) }) else { return text }
    return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
}
