import Foundation
import SigilCore
import Testing

@testable import SigilStore

/// The SQLite files hold the token signing key: only their owner may read them, whatever the umask.
@Suite struct FileModeTests {
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
    }

    @Test func aNewDatabaseAndItsWALAndSHMAreReadableByTheOwnerOnly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sigil-modes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sigil.sqlite").path
        // The usual umask, which left the files 0644 before.
        let previous = umask(0o022)
        defer { umask(previous) }
        let store = try SQLiteStore(path: path)
        _ = try await store.settingIfAbsent("probe", "value")
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(Self.mode(file) == 0o600, "\(file)")
        }
        // An existing database keeps its mode: the command line refuses shared ones instead.
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        _ = try SQLiteStore(path: path)
        #expect(Self.mode(path) == 0o640)
    }
}
