import Foundation
import Hummingbird

/// The yardstick for `scripts/bench`: Hummingbird with nothing of Sigil's, one route answering
/// `GET /bare` with a small JSON object, on 127.0.0.1. Measured with the same wrk settings as
/// Sigil, so every Sigil figure can be printed as a ratio to it and survive a noisy machine.
///
///   sigil-bare-route PORT
struct Bare: ResponseEncodable {
    let id: String
    let displayName: String
    let accountEnabled: Bool
}

let port = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 8080
let router = Router()
router.get("bare") { _, _ in
    Bare(id: "00000000-0000-0000-0000-000000000000", displayName: "Bare", accountEnabled: true)
}
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { _ in
        // Unbuffered: scripts/bench waits for this line in a file.
        FileHandle.standardOutput.write(Data("sigil-bare-route is listening on 127.0.0.1:\(port)\n".utf8))
    })
try await app.runService()
