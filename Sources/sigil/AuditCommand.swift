import ArgumentParser
import Foundation
import Logging
import SigilCore
import SigilStore

/// `sigil audit verify` and `sigil audit export`: the audit log from outside the server, on the
/// same database (a running server may keep writing).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Check or export the custom security attribute audit log.",
        subcommands: [Verify.self, Export.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the audit log's hash chain and report the first broken link.",
            discussion: """
                Exit status 0 when the chain is intact, 1 when a record was edited, removed or reordered.
                --output json prints {"intact": true, "records", "headHash", "unsealed"} or {"intact": false, "brokenAt", \
                "id", "reason"}.
                """)

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await reportingFailure {
                let store = try await database.openStore(logger: Logger(label: "sigil"), mustExist: true)
                let result = try await store.verifyAuditChain()
                if output.isJSON {
                    output.print(json: Self.json(result))
                    if case .broken = result { throw ExitCode(1) }
                    return
                }
                switch result {
                case .intact(let records, let head, let unsealed):
                    print("Audit chain intact: \(records) records verified (\(database)); head hash \(head).")
                    if unsealed > 0 {
                        print("\(unsealed) committed records are not sealed into the chain yet (the next audited write seals them).")
                    }
                case .broken(let seq, let id, let reason):
                    print("Audit chain BROKEN at record \(seq)\(id.map { " (id \($0))" } ?? ""): \(reason).")
                    throw ExitCode(1)
                }
            }
        }

        static func json(_ result: AuditVerification) -> JSONValue {
            switch result {
            case .intact(let records, let head, let unsealed):
                .object(
                    JSONObject([
                        ("intact", true), ("records", .integer(Int64(records))), ("headHash", .string(head)),
                        ("unsealed", .integer(Int64(unsealed))),
                    ]))
            case .broken(let seq, let id, let reason):
                .object(
                    JSONObject([("intact", false), ("brokenAt", .integer(seq)), ("id", JSONValue(id)), ("reason", .string(reason))]))
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write audit records, oldest first, one JSON object per line.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only records at or after this date-time (e.g. 2026-11-01 or 2026-11-01T08:00:00Z).") var since: String?
        @Option(help: "Output format; jsonl is the one supported.") var format = "jsonl"

        func validate() throws {
            guard format == "jsonl" else { throw ValidationError("--format must be jsonl.") }
        }

        func run() async throws {
            try await reportingFailure {
                var query = try AuditQuery.parse(filter: since.map { "activityDateTime ge \($0)" }, orderBy: nil)
                query.newestFirst = false
                let store = try await database.openStore(logger: Logger(label: "sigil"), mustExist: true)
                var cursor: Int64?
                repeat {
                    let page = try await store.auditRecords(query, after: cursor, limit: 500)
                    let lines = page.records.map { $0.json + "\n" }.joined()
                    FileHandle.standardOutput.write(Data(lines.utf8))
                    cursor = page.next
                } while cursor != nil
            }
        }
    }
}

/// Ends a command with one `sigil: …` line on standard error and exit status 1.
func reportingFailure(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error where !(error is ExitCode) && !(error is CancellationError) {
        let message = (error as? GraphError)?.message ?? "\(error)"
        FileHandle.standardError.write(Data("sigil: \(message)\n".utf8))
        throw ExitCode(1)
    }
}
