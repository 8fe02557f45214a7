import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SigilCore
import SigilService

/// Builds Graph-shaped responses: JSON bodies, `@odata.context`, 204s and error envelopes.
enum GraphResponse {
    static let jsonContentType =
        "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        json(bytes: value.serialized(), status: status)
    }

    /// A JSON body already serialised.
    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: jsonContentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// An entity or collection body with its `@odata.context` first.
    static func entity(_ object: JSONObject, context: String, status: HTTPResponse.Status = .ok) -> Response {
        var body = JSONObject([("@odata.context", .string(context))])
        for member in object { body.append(member.key, member.value) }
        return json(.object(body), status: status)
    }

    static func collection(_ items: [JSONValue], context: String, count: Int? = nil, nextLink: String? = nil) -> Response {
        var body = collectionStart(context: context, count: count, nextLink: nextLink)
        for (index, item) in items.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            item.write(into: &body)
        }
        closeCollection(&body)
        return json(bytes: body)
    }

    /// A collection body up to its first item: `@odata.context`, `@odata.count`,
    /// `@odata.nextLink`, then `value`, the order Graph writes them in. The items follow,
    /// comma-separated, and `closeCollection` closes it.
    static func collectionStart(context: String, count: Int?, nextLink: String?, deltaLink: String? = nil) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(16_384)
        var head = JSONObject([("@odata.context", .string(context))])
        if let count { head.append("@odata.count", .integer(Int64(count))) }
        if let nextLink { head.append("@odata.nextLink", .string(nextLink)) }
        if let deltaLink { head.append("@odata.deltaLink", .string(deltaLink)) }
        head.append("value", .array([]))
        JSONValue.object(head).write(into: &body)
        // Open again the empty array and the object it closed.
        body.removeLast(2)
        return body
    }

    static func closeCollection(_ body: inout [UInt8]) {
        body.append(contentsOf: "]}".utf8)
    }

    static let noContent = Response(status: .noContent)

    static func text(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain;charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// `innerError.date` is second precision without a zone suffix, as Graph writes it.
    static func errorDate(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.string(from: date)
    }

    static func error(_ error: GraphError, context: GraphContext) -> Response {
        let inner: JSONValue = [
            "date": .string(errorDate()),
            "request-id": .string(context.requestId),
            "client-request-id": .string(context.clientRequestId ?? context.requestId),
        ]
        let body: JSONValue = [
            "error": ["code": .string(error.code.rawValue), "message": .string(error.message), "innerError": inner]
        ]
        return json(body, status: HTTPResponse.Status(code: error.status))
    }
}
