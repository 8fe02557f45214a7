import Foundation
import Hummingbird
import SigilCore
import SigilService
import SigilStore

/// `/subscriptions`: change notifications for `users` and `servicePrincipals`.
struct SubscriptionController {
    let services: SigilServices
    var subscriptions: SubscriptionService { SubscriptionService(services: services) }

    func register(on group: RouterGroup<GraphContext>) {
        group.get("subscriptions", use: list)
        group.post("subscriptions", use: create)
        group.get("subscriptions/:id", use: get)
        group.patch("subscriptions/:id", use: update)
        group.delete("subscriptions/:id", use: delete)
        group.post("subscriptions/:id/reauthorize", use: reauthorize)
    }

    /// A subscription as Graph writes it.
    static func encode(_ s: Subscription) -> JSONObject {
        JSONObject([
            ("id", .string(s.id)), ("resource", .string(s.resource)), ("applicationId", JSONValue(s.applicationId)),
            ("changeType", .string(s.changeTypes.joined(separator: ","))), ("clientState", JSONValue(s.clientState)),
            ("notificationUrl", .string(s.notificationUrl)), ("notificationQueryOptions", .null),
            ("lifecycleNotificationUrl", JSONValue(s.lifecycleNotificationUrl)),
            ("expirationDateTime", .string(graphTimestamp(s.expirationDateTime))), ("creatorId", .string(s.creatorId)),
            ("includeResourceData", false), ("latestSupportedTlsVersion", .string(s.latestSupportedTlsVersion)),
            ("encryptionCertificate", .null), ("encryptionCertificateId", .null), ("notificationUrlAppId", .null),
        ])
    }

    func entity(_ request: Request, _ record: SubscriptionRecord, status: HTTPResponse.Status = .ok) -> Response {
        GraphResponse.entity(
            Self.encode(record.subscription), context: services.odataContext(request, "subscriptions/$entity"), status: status)
    }

    @Sendable func list(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        try request.queryOptions().reject(["filter", "top", "count", "orderby", "search", "skiptoken", "expand", "select"])
        let records = try await subscriptions.list(caller: caller)
        return GraphResponse.collection(
            records.map { .object(Self.encode($0.subscription)) }, context: services.odataContext(request, "subscriptions"))
    }

    @Sendable func create(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let record = try await subscriptions.create(
            try await request.jsonBody(context: context), caller: caller, applicationId: caller.isUser ? nil : caller.signInName)
        return entity(request, record, status: .created)
    }

    @Sendable func get(_ request: Request, context: GraphContext) async throws -> Response {
        let record = try await subscriptions.get(try context.parameters.require("id"), caller: try context.requireCaller())
        return entity(request, record)
    }

    @Sendable func update(_ request: Request, context: GraphContext) async throws -> Response {
        let caller = try context.requireCaller()
        let record = try await subscriptions.update(
            try context.parameters.require("id"), try await request.jsonBody(context: context), caller: caller)
        return entity(request, record)
    }

    @Sendable func delete(_ request: Request, context: GraphContext) async throws -> Response {
        try await subscriptions.delete(try context.parameters.require("id"), caller: try context.requireCaller())
        return GraphResponse.noContent
    }

    @Sendable func reauthorize(_ request: Request, context: GraphContext) async throws -> Response {
        try await subscriptions.reauthorize(try context.parameters.require("id"), caller: try context.requireCaller())
        return GraphResponse.noContent
    }
}
