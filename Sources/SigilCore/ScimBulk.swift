import Foundation

/// A parsed BulkRequest (RFC 7644 section 3.7): checked whole before any operation runs, so a
/// malformed or oversized request writes nothing.
public struct ScimBulkRequest: Sendable {
    public struct Operation: Sendable {
        public var method: String
        public var bulkId: String?
        public var version: String?
        public var path: String
        public var data: JSONValue?
        /// bulkIds this operation refers to, in its path or anywhere in its data.
        public var references: [String]

        /// The user id a PUT, PATCH or DELETE path names (`/Users/{id}`), nil for `/Users`.
        public var userId: String? {
            let parts = path.split(separator: "/", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0] == "Users" else { return nil }
            return String(parts[1])
        }

        /// The operation with every `bulkId:<id>` replaced by the id it created.
        public func resolved(_ created: [String: String]) -> Operation {
            var copy = self
            for (bulkId, id) in created {
                copy.path = copy.path.replacingOccurrences(of: "bulkId:\(bulkId)", with: id)
            }
            copy.data = data.map { Self.substitute($0, created) }
            return copy
        }

        static func substitute(_ value: JSONValue, _ created: [String: String]) -> JSONValue {
            switch value {
            case .string(let s) where s.hasPrefix("bulkId:"): return created[String(s.dropFirst(7))].map { .string($0) } ?? value
            case .array(let items): return .array(items.map { substitute($0, created) })
            case .object(let members): return .object(JSONObject(members.map { ($0.key, substitute($0.value, created)) }))
            default: return value
            }
        }

        static func references(in value: JSONValue, into out: inout [String]) {
            switch value {
            case .string(let s) where s.hasPrefix("bulkId:"): out.append(String(s.dropFirst(7)))
            case .array(let items): for item in items { references(in: item, into: &out) }
            case .object(let members): for member in members { references(in: member.value, into: &out) }
            default: break
            }
        }
    }

    public var operations: [Operation]
    public var failOnErrors: Int?
    /// Which operation (a POST) defines each bulkId.
    public var definingIndex: [String: Int] = [:]

    public init(_ body: JSONValue, maxOperations: Int = ScimLimits.bulkMaxOperations) throws(ScimError) {
        guard case .object(let request) = body else { throw .invalidSyntax("The body must be a BulkRequest object.") }
        guard case .array(let schemas)? = request.scimValue("schemas"), schemas.contains(.string(ScimURN.bulkRequest)) else {
            throw .invalidValue("'schemas' must be [\"\(ScimURN.bulkRequest)\"].")
        }
        guard case .array(let list)? = request.scimValue("Operations") else { throw .invalidValue("'Operations' must be a list.") }
        guard list.count <= maxOperations else {
            throw ScimError(
                status: 413, detail: "The request has \(list.count) operations; the limit (maxOperations) is \(maxOperations).")
        }
        switch request.scimValue("failOnErrors") {
        case nil, .null?: failOnErrors = nil
        case .integer(let n)? where n >= 1: failOnErrors = Int(n)
        default: throw .invalidValue("'failOnErrors' must be a positive integer.")
        }
        operations = []
        for (index, item) in list.enumerated() {
            guard case .object(let op) = item else { throw .invalidValue("Operation \(index + 1) is not an object.") }
            guard let method = op.scimValue("method")?.stringValue?.uppercased(), ["POST", "PUT", "PATCH", "DELETE"].contains(method) else {
                throw .invalidValue("Operation \(index + 1): 'method' must be POST, PUT, PATCH or DELETE.")
            }
            guard let path = op.scimValue("path")?.stringValue else { throw .invalidValue("Operation \(index + 1): 'path' is required.") }
            let bulkId = op.scimValue("bulkId")?.stringValue
            if method == "POST" {
                guard let bulkId, !bulkId.isEmpty else { throw .invalidValue("Operation \(index + 1): a POST needs a 'bulkId'.") }
                guard definingIndex[bulkId] == nil else { throw .invalidValue("bulkId '\(bulkId)' is used by more than one POST.") }
                definingIndex[bulkId] = index
            }
            var references: [String] = []
            if let at = path.range(of: "bulkId:") { references.append(String(path[at.upperBound...])) }
            if let data = op.scimValue("data") { Operation.references(in: data, into: &references) }
            operations.append(
                Operation(
                    method: method, bulkId: bulkId, version: op.scimValue("version")?.stringValue, path: path,
                    data: op.scimValue("data"), references: references))
        }
    }
}
