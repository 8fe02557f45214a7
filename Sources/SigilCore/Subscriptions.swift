import Foundation

/// A change-notification subscription on users or service principals (Graph's `subscription`).
public struct Subscription: Sendable, Equatable {
    public var id: String
    public var kind: DirectoryObjectKind
    /// The change types asked for, as sent (lower-cased): `updated`, `deleted`.
    public var changeTypes: [String]
    public var notificationUrl: String
    public var lifecycleNotificationUrl: String?
    public var clientState: String?
    public var expirationDateTime: Date
    public var creatorId: String
    public var creatorIsApp: Bool
    public var applicationId: String?
    public var latestSupportedTlsVersion: String

    public init(
        id: String, kind: DirectoryObjectKind, changeTypes: [String], notificationUrl: String,
        lifecycleNotificationUrl: String?, clientState: String?, expirationDateTime: Date, creatorId: String,
        creatorIsApp: Bool, applicationId: String?, latestSupportedTlsVersion: String
    ) {
        self.id = id
        self.kind = kind
        self.changeTypes = changeTypes
        self.notificationUrl = notificationUrl
        self.lifecycleNotificationUrl = lifecycleNotificationUrl
        self.clientState = clientState
        self.expirationDateTime = expirationDateTime
        self.creatorId = creatorId
        self.creatorIsApp = creatorIsApp
        self.applicationId = applicationId
        self.latestSupportedTlsVersion = latestSupportedTlsVersion
    }

    /// Graph's `resource` string.
    public var resource: String { kind.entitySet }
}

/// Graph's rules for subscription bodies, for users and service principals.
public enum SubscriptionRules {
    /// Directory resources: at most 41,760 minutes (under 29 days), as Graph's table says.
    public static let maxLifetime: TimeInterval = 41_760 * 60
    public static let maxClientStateLength = 128
    /// For users and groups Graph documents `updated` (created, updated, soft-deleted) and
    /// `deleted`; Sigil takes the same two for service principals.
    public static let changeTypes = ["updated", "deleted"]
    public static let tlsVersions = ["v1_0", "v1_1", "v1_2", "v1_3"]

    /// What a POST body asks for, before the owner is filled in.
    public struct Draft: Sendable, Equatable {
        public var kind: DirectoryObjectKind
        public var changeTypes: [String]
        public var notificationUrl: String
        public var lifecycleNotificationUrl: String?
        public var clientState: String?
        public var expirationDateTime: Date
        public var latestSupportedTlsVersion: String
    }

    static func invalid(_ message: String) -> GraphError { .badRequest(message) }

    /// `users` or `servicePrincipals` (a leading `/` allowed, case-insensitive).
    public static func kind(ofResource text: String) throws(GraphError) -> DirectoryObjectKind {
        let name = (text.hasPrefix("/") ? String(text.dropFirst()) : text).lowercased()
        switch name {
        case "users": return .user
        case "serviceprincipals": return .servicePrincipal
        default:
            throw invalid("Resource '\(text)' is not supported; subscriptions are available for 'users' and 'servicePrincipals'.")
        }
    }

    public static func changeTypes(_ text: String) throws(GraphError) -> [String] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard !parts.isEmpty, parts.allSatisfy({ changeTypes.contains($0) }), Set(parts).count == parts.count else {
            throw invalid(
                "Invalid changeType '\(text)': users and servicePrincipals support 'updated' and 'deleted', comma-separated.")
        }
        return parts
    }

    /// An `https` URL, or `http` to a loopback address (local development only).
    public static func webhookURL(_ text: String, property: String) throws(GraphError) -> String {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty
        else { throw invalid("Property '\(property)' must be an absolute https URL.") }
        switch scheme {
        case "https": return text
        case "http" where isLoopback(host): return text
        case "http": throw invalid("Property '\(property)' must use https; plain http is accepted only for loopback addresses.")
        default: throw invalid("Property '\(property)' must be an absolute https URL.")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public static func expiration(_ text: String, now: Date) throws(GraphError) -> Date {
        guard let date = parseDate(text) else {
            throw invalid("Property 'expirationDateTime' must be an ISO 8601 date and time.")
        }
        guard date > now else {
            throw invalid("Subscription expiration can only be in the future: 'expirationDateTime' is in the past.")
        }
        guard date <= now.addingTimeInterval(maxLifetime) else {
            throw invalid(
                "Subscription expiration exceeds the maximum of \(Int(maxLifetime / 60)) minutes for this resource.")
        }
        return date
    }

    static func parseDate(_ text: String) -> Date? {
        (try? Date(text, strategy: .iso8601)) ?? (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
    }

    /// A POST body: required `changeType`, `notificationUrl`, `resource`, `expirationDateTime`.
    public static func create(_ body: JSONValue, now: Date) throws(GraphError) -> Draft {
        var payload = try Payload(body, resource: "subscription")
        let kind = try kind(ofResource: try payload.requiredString("resource"))
        let changeTypes = try changeTypes(try payload.requiredString("changeType"))
        let notificationUrl = try webhookURL(try payload.requiredString("notificationUrl"), property: "notificationUrl")
        let lifecycle = try payload.string("lifecycleNotificationUrl").value.map { (text) throws(GraphError) in
            try webhookURL(text, property: "lifecycleNotificationUrl")
        }
        let clientState = try payload.string("clientState").value
        if let clientState, clientState.count > maxClientStateLength {
            throw invalid("Property 'clientState' may be at most \(maxClientStateLength) characters long.")
        }
        let expiration = try expiration(try payload.requiredString("expirationDateTime"), now: now)
        if try payload.bool("includeResourceData").value == true {
            throw invalid("Rich notifications (includeResourceData) are not supported for this resource; use basic notifications.")
        }
        let tls = try payload.string("latestSupportedTlsVersion").value ?? "v1_2"
        guard tlsVersions.contains(tls) else {
            throw invalid("Property 'latestSupportedTlsVersion' must be one of \(tlsVersions.joined(separator: ", ")).")
        }
        // Read-only or unsupported members Graph's SDKs may send empty.
        for name in ["id", "applicationId", "creatorId", "notificationQueryOptions", "encryptionCertificate", "encryptionCertificateId"] {
            guard let value = payload.raw(name) else { continue }
            guard value == .null else { throw invalid("Property '\(name)' is read-only or not supported for this resource.") }
        }
        try payload.rejectUnknownProperties()
        return Draft(
            kind: kind, changeTypes: changeTypes, notificationUrl: notificationUrl, lifecycleNotificationUrl: lifecycle,
            clientState: clientState, expirationDateTime: expiration, latestSupportedTlsVersion: tls)
    }

    /// A PATCH body: a new `expirationDateTime` and/or `notificationUrl`, nothing else.
    public static func update(_ body: JSONValue, now: Date) throws(GraphError) -> (expiration: Date?, notificationUrl: String?) {
        var payload = try Payload(body, resource: "subscription")
        let expiration = try payload.string("expirationDateTime").value.map { (text) throws(GraphError) in
            try Self.expiration(text, now: now)
        }
        let url = try payload.string("notificationUrl").value.map { (text) throws(GraphError) in
            try webhookURL(text, property: "notificationUrl")
        }
        try payload.rejectUnknownProperties()
        guard expiration != nil || url != nil else {
            throw invalid("A subscription update must change 'expirationDateTime' or 'notificationUrl'.")
        }
        return (expiration, url)
    }
}
