import Foundation
import SigilCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `sigil watch`: delta rounds on users or service principals, resumed from a saved deltaLink.
public struct DeltaWatch: Sendable {
    public let client: GraphAPIClient
    /// `users` or `servicePrincipals`.
    public let collection: String
    /// Where the deltaLink is kept between runs.
    public let stateFile: URL

    public init(client: GraphAPIClient, collection: String, stateFile: URL) {
        self.client = client
        self.collection = collection
        self.stateFile = stateFile
    }

    /// The saved state: the deltaLink and the filter it was started with.
    struct State: Codable {
        var deltaLink: String
        var filter: String?
    }

    /// The default state file, beside the credentials.
    public static func defaultStateFile(collection: String) -> URL {
        Credentials.file().deletingLastPathComponent().appendingPathComponent("watch-\(collection).json")
    }

    /// A deltaLink saved for the same filter, if any.
    func saved(filter: String?) -> String? {
        guard let data = try? Data(contentsOf: stateFile), let state = try? JSONDecoder().decode(State.self, from: data),
            state.filter == filter
        else { return nil }
        return state.deltaLink
    }

    func save(_ deltaLink: String, filter: String?) throws {
        try FileManager.default.createDirectory(
            at: stateFile.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try JSONEncoder().encode(State(deltaLink: deltaLink, filter: filter)).write(to: stateFile)
    }

    /// One GET of a path under /v1.0 or of an absolute link the server wrote.
    func get(_ pathOrURL: String) async throws -> JSONObject {
        if pathOrURL.hasPrefix("http") {
            guard let url = URL(string: pathOrURL) else { throw ClientError.usage("'\(pathOrURL)' is not a URL.") }
            var request = URLRequest(url: url)
            request.setValue("Bearer \(client.token)", forHTTPHeaderField: "Authorization")
            let (data, response) = try await GraphAPIClient.load(client.session, request)
            return try GraphAPIClient.decode(data, response)?.objectValue ?? JSONObject()
        }
        return try await client.send("GET", pathOrURL)?.objectValue ?? JSONObject()
    }

    /// Runs one round: from the saved deltaLink (or, the first time, an initial round that
    /// only establishes where changes start), hands each changed entry to `report`, then saves
    /// the new deltaLink. Returns whether this was a first round.
    @discardableResult
    public func round(filter: String?, report: (JSONObject) -> Void) async throws -> Bool {
        let resumed = saved(filter: filter)
        var next: String
        if let resumed {
            next = resumed
        } else {
            var query = "$select=id,displayName,userPrincipalName,appId,customSecurityAttributes"
            if collection == "servicePrincipals" { query = query.replacingOccurrences(of: "userPrincipalName,", with: "") }
            if collection == "users" { query = query.replacingOccurrences(of: "appId,", with: "") }
            if let filter { query += "&$filter=" + (filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? filter) }
            next = "/\(collection)/delta?\(query)"
        }
        while true {
            let page = try await get(next)
            if resumed != nil {
                for entry in page["value"]?.arrayValue ?? [] { entry.objectValue.map(report) }
            }
            if let link = page["@odata.nextLink"]?.stringValue {
                next = link
                continue
            }
            guard let deltaLink = page["@odata.deltaLink"]?.stringValue else {
                throw ClientError.usage("the server ended a delta round without an @odata.deltaLink")
            }
            try save(deltaLink, filter: filter)
            return resumed == nil
        }
    }
}
