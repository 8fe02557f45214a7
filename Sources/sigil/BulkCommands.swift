import ArgumentParser
import Foundation
import SigilClient
import SigilCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `sigil import assignments` and `sigil export assignments`: CSV in and out, round-trip safe.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Bulk imports.", subcommands: [Assignments.self])

    struct Assignments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Assign custom security attribute values from a CSV file.",
            discussion: """
                Columns: object (id or user principal name), set, attribute, value; `|` separates the values of a \
                multi-valued attribute; a first row starting with `object` is a header. Rows of one object are written \
                together or not at all, 20 objects to a request through `$batch` when the server offers it (one request \
                per object when `/$batch` answers 404). Refused rows go to <file>.rejects.csv with the reason. Exit \
                status 1 when any row was refused.
                Example: object,set,attribute,value
                         chandra@sigil.local,Engineering,Project,Baker|Cascade
                --output json prints {"dryRun", "rows", "accepted", "objects", "refused": [{"line", "object", "set", \
                "attribute", "value", "reason"}], "rejectsFile"}: accepted rows were written (or, in a dry run, would be).
                """)
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "Check every row against the definitions and report; write nothing.") var dryRun = false
        @Flag(help: "The objects are service principals (ids), not users.") var apps = false
        @Option(help: "Requests in flight at once (each a $batch of up to 20 objects when the server offers it).") var concurrency = 16
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await runClient {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw ClientError.usage("cannot read \(file)")
                }
                let client = try await Credentials.load().client()
                let job = try AssignmentImport(csv: text, collection: apps ? "servicePrincipals" : "users")
                let meter = ProgressMeter(total: job.rows.count, label: dryRun ? "checked" : "written")
                let began = Date()
                let report = try await job.run(client: client, dryRun: dryRun, concurrency: concurrency) { meter.advance($0) }
                meter.finish()
                let seconds = Date().timeIntervalSince(began)
                let rate = seconds > 0 ? Int(Double(report.written) / seconds) : report.written
                let rejects = file.hasSuffix(".csv") ? String(file.dropLast(4)) + ".rejects.csv" : file + ".rejects.csv"
                let rejectsFile = dryRun || report.rejected.isEmpty ? nil : rejects
                if output.isJSON {
                    output.print(json: Self.json(report, rows: job.rows.count, dryRun: dryRun, rejectsFile: rejectsFile))
                } else if dryRun {
                    print("Dry run: \(report.written) rows for \(report.objects) objects would be written; \(report.rejected.count) rows refused.")
                    for rejected in report.rejected { print("  line \(rejected.row.line): \(rejected.reason)") }
                } else {
                    print(
                        "Wrote \(report.written) rows for \(report.objects) objects in \(String(format: "%.1f", seconds)) s "
                            + "(\(rate) rows/s); \(report.rejected.count) rows refused.")
                }
                if dryRun, !report.rejected.isEmpty { throw ExitCode(1) }
                if let rejects = rejectsFile {
                    let lines =
                        [CSV.line(["line", "object", "set", "attribute", "value", "reason"])]
                        + report.rejected.map { CSV.line([String($0.row.line)] + $0.row.fields + [$0.reason]) }
                    try (lines.joined(separator: "\n") + "\n").write(toFile: rejects, atomically: true, encoding: .utf8)
                    if !output.isJSON { print("Refused rows and reasons: \(rejects)") }
                    throw ExitCode(1)
                }
            }
        }

        /// The report for `--output json`: each refused row with its line, columns and reason.
        static func json(_ report: AssignmentImport.Report, rows: Int, dryRun: Bool, rejectsFile: String?) -> JSONValue {
            let refused = report.rejected.map { rejected -> JSONValue in
                let fields = rejected.row.fields
                var object = JSONObject([("line", .integer(Int64(rejected.row.line)))])
                for (index, column) in ["object", "set", "attribute", "value"].enumerated() {
                    object.append(column, index < fields.count ? .string(fields[index]) : .null)
                }
                object.append("reason", .string(rejected.reason))
                return .object(object)
            }
            return .object(
                JSONObject([
                    ("dryRun", .bool(dryRun)), ("rows", .integer(Int64(rows))), ("accepted", .integer(Int64(report.written))),
                    ("objects", .integer(Int64(report.objects))), ("refused", .array(refused)), ("rejectsFile", JSONValue(rejectsFile)),
                ]))
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Exports: assignments as CSV, the tenant as YAML.",
        subcommands: [Assignments.self, ExportTenantCommand.self])

    struct Assignments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write custom security attribute values as CSV (the import format) to standard output.",
            discussion: #"Example: sigil export assignments --filter "Marketing.AppCountry == Canada" > canada.csv"#)
        @Flag(help: "Service principals instead of users.") var apps = false
        @Option(help: "Only objects matching Set.Attribute == value (or != or starts-with).") var filter: String?

        func run() async throws {
            try await runClient {
                let client = try await Credentials.load().client()
                let collection = apps ? "servicePrincipals" : "users"
                var path = "/\(collection)?$select=id,userPrincipalName,customSecurityAttributes&$top=999"
                if let filter {
                    let text = try await AttributeCatalog.filter(filter, client: client)
                    path += "&$count=true&$filter=" + (text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
                }
                print(CSV.line(["object", "set", "attribute", "value"]))
                for item in try await client.all(path, headers: ["ConsistencyLevel": "eventual"]) {
                    guard let object = item.objectValue else { continue }
                    let id = object["userPrincipalName"]?.stringValue ?? object["id"]?.stringValue ?? ""
                    for (set, members) in object["customSecurityAttributes"]?.objectValue ?? JSONObject() {
                        for (name, value) in members.objectValue ?? JSONObject() where !name.contains("@") {
                            let text: String =
                                if case .array(let values) = value { values.map(ObjectCommands.text).joined(separator: "|") } else {
                                    ObjectCommands.text(value)
                                }
                            print(CSV.line([id, set, name, text]))
                        }
                    }
                }
            }
        }
    }
}

/// Progress on standard error: a bar redrawn in place on a terminal, plain lines every tenth
/// otherwise (logs, CI).
final class ProgressMeter: Sendable {
    private let total: Int
    private let label: String
    /// Rows done, and the last tenth announced on a non-terminal.
    private let progress = Locked<(done: Int, lastTenth: Int)>((0, 0))
    private let terminal = isatty(STDERR_FILENO) != 0

    init(total: Int, label: String) {
        self.total = max(total, 1)
        self.label = label
    }

    func advance(_ rows: Int) {
        progress.withLock { progress in
            progress.done += rows
            let done = progress.done
            let fraction = Double(done) / Double(total)
            if terminal {
                let width = 30
                let filled = Int(fraction * Double(width))
                let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
                FileHandle.standardError.write(Data("\r[\(bar)] \(Int(fraction * 100))% \(done)/\(total) rows \(label)".utf8))
            } else if Int(fraction * 10) > progress.lastTenth {
                progress.lastTenth = Int(fraction * 10)
                FileHandle.standardError.write(Data("\(done)/\(total) rows \(label) (\(progress.lastTenth * 10)%)\n".utf8))
            }
        }
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
