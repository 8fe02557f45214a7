import Foundation

/// One request of a JSON batch (`POST /{version}/$batch`), checked before any request of the
/// batch runs: a malformed batch changes nothing.
public struct BatchStep: Sendable, Equatable {
    /// As the client wrote it; responses echo it unchanged.
    public let id: String
    /// Upper case.
    public let method: String
    /// The path and query to dispatch, always under a version segment (`/v1.0/...` or `/beta/...`).
    public let target: String
    /// In the client's order; names and values already checked as HTTP fields.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]?
    /// The body as the batch carried it, when it was JSON (an object or array): already parsed
    /// and checked with the batch, so the inner request need not parse `body` again.
    public let json: JSONValue?
    /// Indices into the batch's steps, not ids.
    public let dependsOn: [Int]

    public static func == (lhs: BatchStep, rhs: BatchStep) -> Bool {
        lhs.id == rhs.id && lhs.method == rhs.method && lhs.target == rhs.target && lhs.body == rhs.body
            && lhs.dependsOn == rhs.dependsOn && lhs.headers.elementsEqual(rhs.headers, by: { $0 == $1 })
    }
}

/// Graph's JSON batching rules: the payload's shape, the 20-request limit, unique ids, and a
/// `dependsOn` graph without unknown ids or cycles.
public enum BatchRules {
    /// The methods an inner request may use: those Graph's API answers.
    static let methods: Set<String> = ["GET", "POST", "PATCH", "PUT", "DELETE"]

    /// Parses a batch body for a batch posted to `version` (`v1.0` or `beta`).
    public static func parse(_ payload: JSONValue, version: String) throws(GraphError) -> [BatchStep] {
        guard let object = payload.objectValue else { throw .badRequest("The batch request body must be a JSON object.") }
        guard let requests = object["requests"] else {
            throw .badRequest("The batch request body has no 'requests' property; it must list the requests to run.")
        }
        try rejectUnknown(object, known: ["requests"], in: "The batch request body")
        guard let items = requests.arrayValue else { throw .badRequest("The batch property 'requests' must be an array.") }
        guard !items.isEmpty else { throw .badRequest("The batch property 'requests' is empty; send at least one request.") }
        guard items.count <= Limits.batchRequests else {
            throw .badRequest(
                "The batch holds \(items.count) requests; the limit is \(Limits.batchRequests) requests per batch.")
        }
        var positions: [String: Int] = [:]
        var drafts:
            [(
                id: String, method: String, target: String, headers: [(String, String)], body: [UInt8]?, json: JSONValue?,
                dependsOn: [String]
            )] = []
        for (index, item) in items.enumerated() {
            let draft = try parseItem(item, index: index, version: version)
            // Graph compares batch ids case-insensitively.
            let key = draft.id.lowercased()
            guard positions[key] == nil else { throw .badRequest("The batch holds more than one request with the id '\(draft.id)'.") }
            positions[key] = index
            drafts.append(draft)
        }
        var steps: [BatchStep] = []
        for draft in drafts {
            var dependsOn: [Int] = []
            for name in draft.dependsOn {
                guard let position = positions[name.lowercased()] else {
                    throw .badRequest("Request '\(draft.id)' depends on '\(name)', which is not a request id in this batch.")
                }
                guard position != positions[draft.id.lowercased()] else {
                    throw .badRequest("Request '\(draft.id)' depends on itself.")
                }
                if !dependsOn.contains(position) { dependsOn.append(position) }
            }
            steps.append(
                BatchStep(
                    id: draft.id, method: draft.method, target: draft.target, headers: draft.headers, body: draft.body,
                    json: draft.json,
                    dependsOn: dependsOn))
        }
        if let cycle = firstCycle(steps) {
            throw .badRequest("The batch's dependsOn references form a cycle: \(cycle.map { steps[$0].id }.joined(separator: " -> ")).")
        }
        return steps
    }

    /// The order Sigil runs the steps in: one at a time, each after everything it depends on,
    /// otherwise in the order the client listed them.
    public static func executionOrder(_ steps: [BatchStep]) -> [Int] {
        var done = [Bool](repeating: false, count: steps.count)
        var order: [Int] = []
        while order.count < steps.count {
            guard let next = steps.indices.first(where: { !done[$0] && steps[$0].dependsOn.allSatisfy { done[$0] } }) else {
                break  // unreachable after parse: it refuses cycles
            }
            done[next] = true
            order.append(next)
        }
        return order
    }

    static func parseItem(_ item: JSONValue, index: Int, version: String) throws(GraphError) -> (
        id: String, method: String, target: String, headers: [(String, String)], body: [UInt8]?, json: JSONValue?,
        dependsOn: [String]
    ) {
        let label = "Request \(index + 1) of the batch"
        guard let object = item.objectValue else { throw .badRequest("\(label) must be a JSON object.") }
        guard let id = object["id"]?.stringValue, !id.isEmpty else {
            throw .badRequest("\(label) has no 'id'; each request needs a string id unique in the batch.")
        }
        try rejectUnknown(object, known: itemMembers, in: "Request '\(id)'")
        guard let method = object["method"]?.stringValue, !method.isEmpty else {
            throw .badRequest("Request '\(id)' has no 'method'.")
        }
        guard methods.contains(method.uppercased()) else {
            throw .badRequest("Request '\(id)' has the method '\(method)'; use GET, POST, PATCH, PUT or DELETE.")
        }
        guard let url = object["url"]?.stringValue, !url.isEmpty else { throw .badRequest("Request '\(id)' has no 'url'.") }
        let target = try target(of: url, id: id, version: version)
        let headers = try headers(object["headers"], id: id)
        let body = try body(object["body"], id: id)
        if body != nil, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            throw .badRequest("Request '\(id)' has a body but no Content-Type header; a request with a body must name its type.")
        }
        let json: JSONValue? =
            switch object["body"] {
            case .object?, .array?: object["body"]
            default: nil
            }
        return (id, method.uppercased(), target, headers, body, json, try dependsOn(object, id: id))
    }

    /// A relative URL, with or without a version segment; `/$batch` may not be nested.
    static func target(of url: String, id: String, version: String) throws(GraphError) -> String {
        // Searched as bytes by hand: `String.contains` goes through Foundation, and the
        // generic `firstRange(of:)` was 2% of a batch's CPU, 20 times a batch.
        let bytes = Array(url.utf8)
        let absolute = bytes.count >= 3 && (0...(bytes.count - 3)).contains { bytes[$0] == 0x3A && bytes[$0 + 1] == 0x2F && bytes[$0 + 2] == 0x2F }
        guard !absolute, !url.hasPrefix("//") else {
            throw .badRequest("Request '\(id)' has the absolute url '\(url)'; a batched url is relative, such as '/users/{id}'.")
        }
        guard !url.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) else {
            throw .badRequest("Request '\(id)' has a url with spaces or control characters; percent-encode them.")
        }
        var path = url.hasPrefix("/") ? url : "/" + url
        let segments = path.split(separator: "?", maxSplits: 1)[0].split(separator: "/", omittingEmptySubsequences: false)
        let first = segments.count > 1 ? String(segments[1]) : ""
        if first != "v1.0" && first != "beta" { path = "/\(version)" + path }
        let route = path.split(separator: "?", maxSplits: 1)[0].split(separator: "/")
        if route.count == 2, route[1].lowercased() == "$batch" || route[1].lowercased() == "%24batch" {
            throw .badRequest("Request '\(id)' is itself a $batch request; batches cannot be nested.")
        }
        return path
    }

    static func headers(_ value: JSONValue?, id: String) throws(GraphError) -> [(String, String)] {
        guard let value, !value.isNull else { return [] }
        guard let object = value.objectValue else { throw .badRequest("Request '\(id)' has 'headers' that are not a JSON object.") }
        var headers: [(String, String)] = []
        for (name, value) in object {
            guard !name.isEmpty, name.unicodeScalars.allSatisfy(isTokenCharacter) else {
                throw .badRequest("Request '\(id)' has the header name '\(name)', which is not a valid HTTP header name.")
            }
            guard let text = value.stringValue else {
                throw .badRequest("Request '\(id)' has the header '\(name)' with a value that is not a string.")
            }
            guard !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else {
                throw .badRequest("Request '\(id)' has the header '\(name)' with control characters in its value.")
            }
            headers.append((name, text))
        }
        return headers
    }

    /// A JSON object or array is sent as JSON; a string is a base64 (or base64url) encoded body.
    static func body(_ value: JSONValue?, id: String) throws(GraphError) -> [UInt8]? {
        switch value {
        case nil, .null?: return nil
        case .object?, .array?: return value?.serialized()
        case .string(let text)?:
            guard let data = base64URLDecoded(text) else {
                throw .badRequest("Request '\(id)' has a string body that is not base64 encoded; send JSON as an object.")
            }
            return [UInt8](data)
        default:
            throw .badRequest("Request '\(id)' has a body that is neither a JSON object nor a base64 encoded string.")
        }
    }

    /// `dependsOn` as Graph spells it; `depends_on`, as msgraph-core for Python writes it, is read
    /// the same way, since a client writing it means the order.
    static func dependsOn(_ object: JSONObject, id: String) throws(GraphError) -> [String] {
        var ids: [String] = []
        for member in ["dependsOn", "depends_on"] {
            guard let value = object[member], !value.isNull else { continue }
            guard let names = value.arrayValue else { throw .badRequest("Request '\(id)' has a '\(member)' that is not an array of ids.") }
            for name in names {
                guard let text = name.stringValue, !text.isEmpty else {
                    throw .badRequest("Request '\(id)' has a '\(member)' entry that is not a request id.")
                }
                ids.append(text)
            }
        }
        return ids
    }

    /// The members of a batched request; `depends_on` is how msgraph-core for Python spells `dependsOn`.
    static let itemMembers: Set<String> = ["id", "method", "url", "headers", "body", "dependsOn", "depends_on"]

    /// As everywhere in Sigil, a member the payload does not define is refused (OData annotations pass).
    static func rejectUnknown(_ object: JSONObject, known: Set<String>, in subject: String) throws(GraphError) {
        for key in object.keys where !known.contains(key) && !key.hasPrefix("@odata.") && !key.hasPrefix("@microsoft.graph.") {
            throw .badRequest("\(subject) has the property '\(key)', which a batch does not define.")
        }
    }

    /// A cycle in the dependsOn graph, as step indices from its first step back to it, or nil.
    static func firstCycle(_ steps: [BatchStep]) -> [Int]? {
        // 0: not visited, 1: on the current path, 2: finished.
        var state = [Int](repeating: 0, count: steps.count)
        var path: [Int] = []
        func visit(_ node: Int) -> [Int]? {
            state[node] = 1
            path.append(node)
            for next in steps[node].dependsOn {
                if state[next] == 1, let start = path.firstIndex(of: next) { return Array(path[start...]) + [next] }
                if state[next] == 0, let cycle = visit(next) { return cycle }
            }
            path.removeLast()
            state[node] = 2
            return nil
        }
        for node in steps.indices where state[node] == 0 {
            if let cycle = visit(node) { return cycle }
        }
        return nil
    }

    static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": true
        case "!", "#", "$", "%", "&", "'", "*", "+", "-", ".", "^", "_", "`", "|", "~": true
        default: false
        }
    }
}
