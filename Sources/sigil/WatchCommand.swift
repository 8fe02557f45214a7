import ArgumentParser
import Foundation
import SigilClient
import SigilCore

/// `sigil watch users` / `sigil watch apps`: prints changes as they happen, through delta
/// queries, resuming where the last run stopped (the deltaLink is saved after each round).
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Print changes to users or applications as they happen (delta queries).",
        discussion: """
            The first run records where changes start and prints nothing; later runs, and each round of a running \
            watch, print what was created, changed or deleted since, one line each (or a JSON object with --output \
            json). The deltaLink is kept in $XDG_CONFIG_HOME/sigil/watch-<collection>.json (or --state), so a watch \
            stopped and started again resumes where it stopped. Attribute changes show only in sets you may read.
            """)

    @Argument(help: "users or apps (service principals).") var collection: String
    @Option(help: "Graph's delta filter: id eq '<id>', several joined with or.") var filter: String?
    @Option(help: "The file that keeps the deltaLink between runs.") var state: String?
    @Option(help: "Seconds between rounds.") var interval: Double = 2
    @Flag(help: "Run one round and exit.") var once = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard ["users", "apps"].contains(collection) else { throw ValidationError("watch takes users or apps.") }
        guard interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1 seconds.") }
    }

    func run() async throws {
        try await runClient {
            let set = collection == "users" ? "users" : "servicePrincipals"
            let watch = DeltaWatch(
                client: try await Credentials.load().client(), collection: set,
                stateFile: state.map { URL(fileURLWithPath: $0) } ?? DeltaWatch.defaultStateFile(collection: set))
            while true {
                let first = try await watch.round(filter: filter) { entry in print(entry) }
                if first, !output.isJSON { Swift.print("Watching \(set) from now on.") }
                if once { return }
                try await Task.sleep(for: .seconds(interval))
            }
        }
    }

    func print(_ entry: JSONObject) {
        if output.isJSON { return output.print(json: .object(entry)) }
        let id = entry["id"]?.stringValue ?? ""
        let when = ISO8601DateFormatter().string(from: Date())
        if entry["@removed"] != nil {
            Swift.print("\(when)  deleted  \(id)")
            return
        }
        let name = entry["userPrincipalName"]?.stringValue ?? entry["appId"]?.stringValue ?? ""
        let values = entry["customSecurityAttributes"].map { $0 == .null ? "" : "  \($0.serializedString)" } ?? ""
        Swift.print("\(when)  changed  \(id)  \(entry["displayName"]?.stringValue ?? "")  \(name)\(values)")
    }
}
