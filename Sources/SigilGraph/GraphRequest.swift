import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SigilCore
import SigilService
import SigilStore

// Literal, valid header names: the force unwraps cannot fail.
// swift-format-ignore: NeverForceUnwrap
extension HTTPField.Name {
    static let consistencyLevel = Self("ConsistencyLevel")!
    static let odataVersion = Self("OData-Version")!
    static let requestId = Self("request-id")!
    static let clientRequestId = Self("client-request-id")!
    static let xForwardedFor = Self("X-Forwarded-For")!
}

extension Request {
    /// Reads the body as one JSON value: JSON content type (`mediaType`, which `typeRequired`
    /// makes mandatory), at most `Limits.requestBodyBytes`.
    func jsonBody(context: GraphContext, mediaType: String = "application/json", typeRequired: Bool = false) async throws
        -> JSONValue
    {
        let type = headers[.contentType]?.lowercased()
        if type == nil && typeRequired { throw GraphError.badRequest("The Content-Type header is required; send \(mediaType).") }
        if let type, !type.hasPrefix(mediaType) {
            throw GraphError.badRequest("Content-Type '\(type)' is not supported; send \(mediaType).")
        }
        // A batch's inner request: its body was parsed, bounded and checked for NUL with the batch.
        if let parsed = context.batchedBody { return parsed }
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: Limits.requestBodyBytes)
        } catch is NIOTooManyBytesError {
            throw GraphError(
                status: 413, code: .entityTooLarge,
                message: "The request body is larger than the limit of \(Limits.requestBodyBytes) bytes.")
        }
        guard buffer.readableBytes > 0 else {
            throw GraphError.badRequest("The request body is empty; a JSON object was expected.")
        }
        let value: JSONValue
        do {
            value = try JSON.parse(buffer.readableBytesView)
        } catch {
            throw GraphError.badRequest("The request body is not valid JSON: \(error.message)")
        }
        guard !value.containsNul else { throw GraphError.nulCharacter("The request body") }
        return value
    }

    /// The query string's parameters, percent-decoded, `+` read as a space, order kept.
    public var queryItems: [(name: String, value: String)] {
        formFields(uri.query ?? "")
    }

    /// `queryItems` for the API: a name or value holding U+0000 (`%00`) is refused.
    func apiQueryItems() throws -> [(name: String, value: String)] {
        let items = queryItems
        if let item = items.first(where: { $0.name.utf8.contains(0) || $0.value.utf8.contains(0) }) {
            throw GraphError.nulCharacter("Query option '\(item.name.replacingOccurrences(of: "\u{0}", with: "%00"))'")
        }
        return items
    }

    func queryOptions() throws -> QueryOptions {
        try QueryOptions.parse(apiQueryItems())
    }

    /// Advanced queries need `ConsistencyLevel: eventual` as a header or query parameter.
    func isEventualConsistency(_ options: QueryOptions) -> Bool {
        options.consistencyLevelEventual || headers[.consistencyLevel]?.lowercased() == "eventual"
    }

    /// `http(s)://host[:port]` as the client addressed us, for `@odata.context` and nextLinks.
    func baseURL(scheme: String) -> String {
        let host = head.authority ?? "localhost"
        return "\(scheme)://\(host)"
    }

    /// The API version segment the request came through (`v1.0` or `beta`).
    var apiVersion: String {
        uri.path.hasPrefix("/beta") ? "beta" : "v1.0"
    }

    /// A nextLink: this request's URL with `$skiptoken` replaced.
    func nextLink(origin: String, skipToken: String) -> String {
        var parts = queryItems.filter { $0.name.lowercased() != "$skiptoken" && $0.name.lowercased() != "skiptoken" }
        parts.append(("$skiptoken", skipToken))
        let query = parts.map { "\(Self.encode($0.name))=\(Self.encode($0.value))" }.joined(separator: "&")
        return "\(origin)\(uri.path)?\(query)"
    }

    static let queryAllowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~$'(),/:@")
        return set
    }()

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? text
    }
}

extension GraphError {
    /// U+0000 cannot be stored (PostgreSQL's text and jsonb refuse it) and names nothing, so
    /// requests carrying it are refused up front, alike on every store.
    public static func nulCharacter(_ subject: String) -> GraphError {
        .badRequest("\(subject) contains the character U+0000 (NUL), which is not allowed.")
    }
}

extension JSONValue {
    /// Whether any string or member name in the value holds U+0000.
    var containsNul: Bool {
        switch self {
        // As bytes: `String.contains` with Foundation imported searches through NSString.
        case .string(let text): text.utf8.contains(0)
        case .array(let elements): elements.contains { $0.containsNul }
        case .object(let object): object.contains { $0.key.utf8.contains(0) || $0.value.containsNul }
        case .null, .bool, .integer, .double: false
        }
    }
}

/// The `name=value` pairs of a query string or form body, decoded, in order.
public func formFields(_ text: String) -> [(name: String, value: String)] {
    text.split(separator: "&").map { part in
        let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (formDecode(pieces[0]), pieces.count > 1 ? formDecode(pieces[1]) : "")
    }
}

/// Decodes one path segment (RFC 3986): `%XX` is a byte and `+` stays a plus, unlike in a query.
/// A `%` without two hexadecimal digits, bytes that are not UTF-8, or U+0000 are refused (400).
public func decodePathSegment(_ segment: Substring) throws(GraphError) -> String {
    guard segment.utf8.contains(UInt8(ascii: "%")) else {
        guard !segment.utf8.contains(0) else { throw GraphError.nulCharacter("The path segment") }
        return String(segment)
    }
    let input = Array(segment.utf8)
    var output: [UInt8] = []
    output.reserveCapacity(input.count)
    var i = 0
    while i < input.count {
        guard input[i] == UInt8(ascii: "%") else {
            output.append(input[i])
            i += 1
            continue
        }
        guard i + 2 < input.count, let high = hexDigit(input[i + 1]), let low = hexDigit(input[i + 2]) else {
            throw GraphError.badRequest(
                "The path segment '\(segment)' has an invalid percent escape at position \(i + 1): '%' must be followed by two hexadecimal digits.")
        }
        output.append(high << 4 | low)
        i += 3
    }
    guard let text = String(validating: output, as: UTF8.self) else {
        throw GraphError.badRequest("The path segment '\(segment)' does not decode to UTF-8 text.")
    }
    guard !text.utf8.contains(0) else { throw GraphError.nulCharacter("The path segment '\(segment)'") }
    return text
}

func hexDigit(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Decodes one `application/x-www-form-urlencoded` (or query) component: `+` is a space, `%XX` a
/// byte. Malformed escapes stay as written; invalid UTF-8 becomes U+FFFD.
func formDecode(_ text: Substring) -> String {
    guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return String(text) }
    let input = Array(text.utf8)
    var output: [UInt8] = []
    output.reserveCapacity(input.count)
    var i = 0
    while i < input.count {
        let byte = input[i]
        if byte == UInt8(ascii: "+") {
            output.append(UInt8(ascii: " "))
        } else if byte == UInt8(ascii: "%"), i + 2 < input.count, let high = hexDigit(input[i + 1]), let low = hexDigit(input[i + 2]) {
            output.append(high << 4 | low)
            i += 2
        } else {
            output.append(byte)
        }
        i += 1
    }
    return String(decoding: output, as: UTF8.self)
}
