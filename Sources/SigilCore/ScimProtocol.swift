/// SCIM 2.0 (RFC 7643, RFC 7644) as Sigil's provisioning front end speaks it: the schema URNs,
/// the error shape and the numbers `ServiceProviderConfig` advertises.
public enum ScimURN {
    public static let user = "urn:ietf:params:scim:schemas:core:2.0:User"
    public static let enterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    /// Microsoft's SCIM API for Entra ID: one complex attribute per attribute set.
    public static let customSecurityAttributes =
        "urn:ietf:params:scim:schemas:extension:Microsoft:Entra:2.0:CustomSecurityAttributes"
    /// Input alias: flat `<Set>_<Attr>` members, the default mapping of HR sources.
    public static let flatCustomSecurityAttributes = "urn:ietf:params:scim:schemas:extension:microsoft:entra:csa"
    public static let listResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    public static let patchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    public static let searchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
    public static let bulkRequest = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
    public static let bulkResponse = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
    public static let error = "urn:ietf:params:scim:api:messages:2.0:Error"
    public static let serviceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    public static let resourceType = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
    public static let schema = "urn:ietf:params:scim:schemas:core:2.0:Schema"

    /// The schemas a User resource may carry, in the order a response lists them.
    public static let userSchemas = [user, enterpriseUser, customSecurityAttributes]
    /// What a write may name: the published schemas and the flat input alias.
    static let writable = userSchemas + [flatCustomSecurityAttributes]

    /// The known schema `text` names (case-insensitively, as RFC 7643 compares URNs).
    static func known(_ text: String) -> String? {
        writable.first { $0.lowercased() == text.lowercased() }
    }
}

/// The limits `ServiceProviderConfig` advertises; requests beyond them are refused whole.
public enum ScimLimits {
    public static let bulkMaxOperations = 1000
    /// User operations in one Graph `bulkUpload` request (API-driven inbound provisioning): Graph's maximum.
    public static let bulkUploadMaxOperations = 50
    /// Bytes of one Bulk request body.
    public static let bulkMaxPayloadSize = 4 << 20
    /// Resources one list response carries at most (`filter.maxResults`).
    public static let maxResults = 1000
}

/// A SCIM error response (RFC 7644 section 3.12): status, the `scimType` keyword and a detail
/// naming the problem.
public struct ScimError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    public let scimType: String?
    public let detail: String

    public init(status: Int, scimType: String? = nil, detail: String) {
        (self.status, self.scimType, self.detail) = (status, scimType, detail)
    }

    public var description: String { "\(status) \(scimType ?? "-"): \(detail)" }

    public static func invalidValue(_ detail: String) -> ScimError { ScimError(status: 400, scimType: "invalidValue", detail: detail) }
    public static func invalidSyntax(_ detail: String) -> ScimError { ScimError(status: 400, scimType: "invalidSyntax", detail: detail) }
    public static func invalidFilter(_ detail: String) -> ScimError { ScimError(status: 400, scimType: "invalidFilter", detail: detail) }
    public static func invalidPath(_ detail: String) -> ScimError { ScimError(status: 400, scimType: "invalidPath", detail: detail) }
    public static func noTarget(_ detail: String) -> ScimError { ScimError(status: 400, scimType: "noTarget", detail: detail) }
    public static func mutability(_ detail: String) -> ScimError { ScimError(status: 400, scimType: "mutability", detail: detail) }
    public static func notFound(_ id: String) -> ScimError { ScimError(status: 404, detail: "Resource \(id) not found.") }
    public static let preconditionFailed = ScimError(
        status: 412, detail: "The resource has changed: its version no longer matches If-Match.")

    /// The same failure in SCIM's words: Graph's validation and access errors keep their status
    /// and message; a clash on a unique property is SCIM's 409 `uniqueness`.
    public init(_ error: GraphError) {
        switch error.status {
        case 400 where error == .conflictingObject || error == .duplicateId:
            self.init(status: 409, scimType: "uniqueness", detail: error.message)
        case 400: self.init(status: 400, scimType: "invalidValue", detail: error.message)
        case 413: self.init(status: 413, scimType: "tooMany", detail: error.message)
        default: self.init(status: error.status, detail: error.message)
        }
    }

    /// The error body: `status` is a string, as RFC 7644 writes it.
    public var body: JSONValue {
        var out = JSONObject([("schemas", [.string(ScimURN.error)])])
        if let scimType { out.append("scimType", .string(scimType)) }
        out.append("detail", .string(detail))
        out.append("status", .string(String(status)))
        return .object(out)
    }
}

/// Case-insensitive member lookup: SCIM attribute names are case-insensitive (RFC 7643 2.1).
extension JSONObject {
    func scimKey(_ name: String) -> String? {
        let wanted = name.lowercased()
        return keys.first { $0.lowercased() == wanted }
    }

    func scimValue(_ name: String) -> JSONValue? { scimKey(name).flatMap { self[$0] } }

    mutating func setScim(_ name: String, _ value: JSONValue?) {
        self[scimKey(name) ?? name] = value
    }
}

/// A short stable fingerprint of a resource for weak ETags (FNV-1a, 64 bits): the version changes
/// whenever anything a client can read of the resource changes.
func fingerprint(_ bytes: [UInt8]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}
