import Foundation
import HTTPTypes
import SigilCore
import SigilStore
import SigilTestSupport
import Testing

@testable import SigilGraph
@testable import SigilService

/// The job actions beside `start` (docs/api.md, "API-driven inbound provisioning"): `pause` (a
/// paused job holds what bulkUpload sends until `start`), `restart` (a paused job's held
/// uploads are discarded), `provisionOnDemand` (one user's held records now), and the rate
/// limits Microsoft documents for bulkUpload and provisionOnDemand, on the store the suite runs on.
@Suite struct SynchronizationJobActionsTests {
    typealias Base = InboundProvisioningTests

    static func action(_ client: GraphClient, _ s: Base.Setup, _ job: String, _ name: String, token: String? = nil, body: JSONValue? = nil)
        async throws -> GraphReply
    {
        try await client.send(
            .post, s.synchronization + "/jobs/\(job)/\(name)", token: token ?? s.writer.token, body: body?.serializedString)
    }

    static func status(_ client: GraphClient, _ s: Base.Setup, _ job: String) async throws -> (code: String?, schedule: String?) {
        let reply = try await client.get(s.synchronization + "/jobs/\(job)", token: s.reader)
        #expect(reply.status == .ok, "\(reply.text)")
        return (reply["status"]?.objectValue?["code"]?.stringValue, reply["schedule"]?.objectValue?["state"]?.stringValue)
    }

    static func onDemand(_ subject: String, type: String = "User") -> JSONValue {
        ["parameters": [["ruleId": "03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8", "subjects": [["objectId": .string(subject), "objectTypeName": .string(type)]]]]]
    }

    /// A started, then paused job that holds the Postman sample's three users; and the user count.
    static func pausedJobHoldingTheSample(_ client: GraphClient, _ s: Base.Setup) async throws -> (job: String, users: Int) {
        let job = try await Base.startedJob(client, s)
        #expect(try await Self.action(client, s, job, "pause").status == .noContent)
        #expect(try await Base.upload(client, s, job: job, Base.sample()).status == .accepted)
        return (job, try await s.tenant.store.count(.user))
    }

    /// The job's oldest held operation free to claim (claimed for a moment that is already over,
    /// so the check itself keeps nothing from the service).
    static func held(_ s: Base.Setup, _ job: String) async throws -> HeldUploadOperation? {
        try await s.tenant.store.claimHeldUpload(jobId: job, sourceKey: nil, now: Date(), until: Date.distantPast)?.operation
    }

    static func logCount(_ s: Base.Setup) async throws -> Int {
        try await s.tenant.store.provisioningLog(ProvisioningLogQuery(), after: nil, limit: 100).entries.count
    }

    @Test func aPausedJobHoldsUploadsUntilItIsStartedAgain() async throws {
        let s = try await Base.make()
        try await s.tenant.test { client in
            let job = try await Base.startedJob(client, s)
            #expect(try await Self.status(client, s, job) == ("Active", "Active"))
            #expect(try await Self.action(client, s, job, "pause").status == .noContent)
            #expect(try await Self.status(client, s, job) == ("Paused", "Paused"))
            #expect(try await Self.action(client, s, job, "pause").status == .noContent, "pausing a paused job changes nothing")

            let users = try await s.tenant.store.count(.user)
            let accepted = try await Base.upload(client, s, job: job, Base.sample())
            #expect(accepted.status == .accepted, "\(accepted.text)")
            #expect(accepted.header("Location")?.contains("/beta/auditLogs/provisioning/") == true)
            // Held: checked, accepted, nothing written and nothing logged yet.
            #expect(try await s.tenant.store.count(.user) == users)
            #expect(try await Self.logCount(s) == 0)
            // A malformed request is still refused whole while the job is paused.
            let bad = try await Base.upload(client, s, job: job, ["schemas": ["x"], "Operations": []])
            bad.expectError(400, "Request_BadRequest")

            #expect(try await Self.action(client, s, job, "start").status == .noContent)
            #expect(try await Self.status(client, s, job) == ("Active", "Active"))
            #expect(try await s.tenant.store.count(.user) == users + 3)
            let entries = Base.entries(try await Base.logs(client, "jobid eq '\(job)'", token: s.reader))
            #expect(entries.map { $0["provisioningAction"] } == ["create", "create", "create"], "\(entries)")
            // Each held operation ran as its uploader, in its upload's cycle.
            #expect(Set(entries.compactMap { $0["initiatedBy"]?.objectValue?["id"]?.stringValue }) == [s.writer.id])
            #expect(Set(entries.compactMap { $0["cycleId"]?.stringValue }).count == 1)
            #expect(try await Self.held(s, job) == nil, "nothing is left held")
            let monica = try #require(try await Base.scimUser(client, s, "521195").first)
            #expect(monica[ScimURN.customSecurityAttributes]?.objectValue?["Engineering"]?.objectValue?["NumVendors"] == 4)

            // A job never started cannot be paused; an unknown job is 404.
            let idle = try await client.post(s.synchronization + "/jobs", token: s.writer.token, ["templateId": "API2AAD"])
            let idleId = try #require(idle["id"]?.stringValue)
            try await Self.action(client, s, idleId, "pause").expectError(400, "Request_BadRequest")
            try await Self.action(client, s, "API2AAD.0.0", "pause").expectError(404, "Request_ResourceNotFound")
        }
    }

    @Test func aHeldUploadOutlivesAProcessThatStoppedWhileProcessingIt() async throws {
        let s = try await Base.make()
        try await s.tenant.test { client in
            let (job, users) = try await Self.pausedJobHoldingTheSample(client, s)
            // A process claims the first operation and stops before processing it: nothing is
            // written, and while its claim is live no other request takes the operation.
            let now = Date()
            let claimed = try #require(
                try await s.tenant.store.claimHeldUpload(jobId: job, sourceKey: nil, now: now, until: now.addingTimeInterval(3600)))
            #expect(try await Self.action(client, s, job, "start").status == .noContent)
            #expect(try await s.tenant.store.count(.user) == users + 2, "the two others were processed")
            #expect(try await Self.logCount(s) == 2)
            #expect(try await Self.held(s, job) == nil, "the claimed operation is not free yet")
            // An hour on, the claim has run out (claimed again at that instant with an end already
            // past, which frees it now): the next request processes it; nothing accepted was lost.
            _ = try await s.tenant.store.claimHeldUpload(jobId: job, sourceKey: nil, now: now.addingTimeInterval(3600), until: now)
            #expect(try await Self.action(client, s, job, "start").status == .noContent)
            #expect(try await s.tenant.store.count(.user) == users + 3)
            let entries = Base.entries(try await Base.logs(client, "jobid eq '\(job)'", token: s.reader))
            #expect(entries.count == 3)
            let sources = entries.compactMap { $0["sourceIdentity"]?.objectValue?["id"]?.stringValue?.lowercased() }
            #expect(sources.contains(try #require(claimed.operation.sourceKey)), "\(entries)")
            #expect(try await Self.held(s, job) == nil)
        }
    }

    @Test func restartingAPausedJobDiscardsWhatItHeld() async throws {
        let s = try await Base.make()
        try await s.tenant.test { client in
            let (job, users) = try await Self.pausedJobHoldingTheSample(client, s)

            // Criteria are checked before anything changes.
            let unknownScope = try await Self.action(client, s, job, "restart", body: ["criteria": ["resetScope": "Watermark, Everything"]])
            unknownScope.expectError(400, "Request_BadRequest")
            #expect(unknownScope.errorMessage?.contains("'Everything'") == true, "\(unknownScope.text)")
            try await Self.action(client, s, job, "restart", body: ["criteria": ["scope": "Full"]]).expectError(400, "Request_BadRequest")
            try await Self.action(client, s, job, "restart", body: ["reset": true]).expectError(400, "Request_BadRequest")
            #expect(try await Self.status(client, s, job).code == "Paused")

            // Graph's documented example body.
            let restarted = try await Self.action(
                client, s, job, "restart", body: ["criteria": ["resetScope": "Watermark, Escrows, QuarantineState"]])
            #expect(restarted.status == .noContent, "\(restarted.text)")
            #expect(try await Self.status(client, s, job) == ("Active", "Active"))
            #expect(try await s.tenant.store.count(.user) == users, "the held uploads were discarded, not processed")
            #expect(try await Self.logCount(s) == 0)
            #expect(try await Self.held(s, job) == nil)
            // Running again: the next upload is processed at once. A restart without a body is fine too.
            #expect(try await Base.upload(client, s, job: job, Base.sample()).status == .accepted)
            #expect(try await s.tenant.store.count(.user) == users + 3)
            #expect(try await Self.action(client, s, job, "restart").status == .noContent)
            #expect(try await s.tenant.store.count(.user) == users + 3)
        }
    }

    @Test func provisionOnDemandProcessesOneUsersHeldRecords() async throws {
        let s = try await Base.make()
        try await s.tenant.test { client in
            let (job, users) = try await Self.pausedJobHoldingTheSample(client, s)

            let done = try await Self.action(client, s, job, "provisionOnDemand", body: Self.onDemand("521193"))
            #expect(done.status == .ok, "\(done.text)")
            #expect(done.hasContext("microsoft.graph.stringKeyStringValuePair"), "\(done.text)")
            let key = try #require(done["key"]?.stringValue.flatMap { try? JSON.parse($0) })
            #expect(key.objectValue?["result"] == "Success", "\(key)")
            let value = try #require(done["value"]?.stringValue.flatMap { try? JSON.parse($0) }?.objectValue)
            #expect(value["sourceIdentity"]?.objectValue?["id"] == "521193")
            #expect(value["provisioningAction"] == "create")
            #expect(try await s.tenant.store.count(.user) == users + 1, "only that user")
            #expect(try await Self.status(client, s, job).code == "Paused", "the job stays paused")

            // Nothing more is held for it: Skipped.
            let again = try await Self.action(client, s, job, "provisionOnDemand", body: Self.onDemand("521193"))
            let skipped = try #require(again["key"]?.stringValue.flatMap { try? JSON.parse($0) }?.objectValue)
            #expect(skipped["result"] == "Skipped")
            #expect(skipped["details"]?.objectValue?["errorCode"] == "NoHeldRecord")

            // Malformed bodies, and callers who may not run the job.
            let group = try await Self.action(client, s, job, "provisionOnDemand", body: Self.onDemand("x", type: "Group"))
            group.expectError(400, "Request_BadRequest")
            try await Self.action(client, s, job, "provisionOnDemand", body: ["parameters": []]).expectError(400, "Request_BadRequest")
            try await Self.action(client, s, job, "provisionOnDemand", token: s.reader, body: Self.onDemand("521195"))
                .expectError(403, "Authorization_RequestDenied")

            // The other two are still held, and start processes them.
            #expect(try await Self.action(client, s, job, "start").status == .noContent)
            #expect(try await s.tenant.store.count(.user) == users + 3)
            #expect(try await Self.logCount(s) == 3)
        }
    }

    @Test func heldOperationsRunAsTheirUploaderWithTheRolesItHoldsThen() async throws {
        let s = try await Base.make()
        let second = try await s.tenant.servicePrincipal("HR feed", grants: [.tenant(.attributeProvisioningAdministrator)])
        try await s.tenant.test { client in
            let job = try await Base.startedJob(client, s)
            #expect(try await Self.action(client, s, job, "pause").status == .noContent)
            #expect(try await Base.upload(client, s, job: job, Base.sample(), token: second.token).status == .accepted)
            let users = try await s.tenant.store.count(.user)
            // The uploader is removed before the job runs again.
            let removed = try await client.delete("/v1.0/servicePrincipals/\(second.id)", token: try await s.tenant.bootstrapToken())
            #expect(removed.status == .noContent, "\(removed.text)")
            #expect(try await Self.action(client, s, job, "start").status == .noContent)
            #expect(try await s.tenant.store.count(.user) == users)
            let entries = Base.entries(try await Base.logs(client, "jobid eq '\(job)'", token: s.reader))
            #expect(entries.count == 3)
            #expect(entries.allSatisfy { Base.status($0) == "failure" }, "\(entries)")
            #expect(entries.first?["statusInfo"]?.objectValue?["reason"]?.stringValue?.contains("no longer") == true)
        }
    }

    @Test func deletingAPausedJobDropsWhatItHeld() async throws {
        let s = try await Base.make()
        try await s.tenant.test { client in
            let job = try await Base.startedJob(client, s)
            #expect(try await Self.action(client, s, job, "pause").status == .noContent)
            #expect(try await Base.upload(client, s, job: job, Base.sample()).status == .accepted)
            #expect(try await client.delete(s.synchronization + "/jobs/\(job)", token: s.writer.token).status == .noContent)
            #expect(try await Self.held(s, job) == nil)
        }
    }

    // MARK: Rate limits

    @Test func bulkUploadAllowsFortyCallsInAnyFiveSecondsThen429() async throws {
        let s = try await Base.make()
        // Every call counts at one instant: the window cannot slide, however slow the machine.
        s.tenant.services.provisioningThrottle.freezeClock()
        try await s.tenant.test { client in
            let job = try await Base.startedJob(client, s)
            // Callers refused for their roles are not counted.
            for _ in 0..<3 {
                try await Base.upload(client, s, job: job, Base.request([]), token: s.reader).expectError(403, "Authorization_RequestDenied")
            }
            for call in 1...ProvisioningThrottle.bulkUploads {
                let reply = try await Base.upload(client, s, job: job, Base.request([]))
                #expect(reply.status == .accepted, "call \(call): \(reply.text)")
            }
            let throttled = try await Base.upload(client, s, job: job, Base.sample())
            throttled.expectError(429, "TooManyRequests")
            let retryAfter = try #require(throttled.header("Retry-After").flatMap(Int.init))
            // The oldest counted call leaves the window five seconds after it was made.
            #expect(retryAfter == 5, "\(retryAfter)")
            #expect(try await Self.logCount(s) == 0, "a throttled upload writes nothing")
        }
    }

    @Test func provisionOnDemandAllowsFiveCallsInAnyTenSecondsThen429() async throws {
        let s = try await Base.make()
        s.tenant.services.provisioningThrottle.freezeClock()
        try await s.tenant.test { client in
            let job = try await Base.startedJob(client, s)
            for _ in 1...ProvisioningThrottle.onDemand {
                #expect(try await Self.action(client, s, job, "provisionOnDemand", body: Self.onDemand("1")).status == .ok)
            }
            let throttled = try await Self.action(client, s, job, "provisionOnDemand", body: Self.onDemand("1"))
            throttled.expectError(429, "TooManyRequests")
            #expect(throttled.header("Retry-After").flatMap(Int.init) == 10)
        }
    }

    @Test func theWindowSlides() {
        let window = SlidingWindow(limit: 2, window: .seconds(5))
        let start = ContinuousClock.now
        #expect(window.admit(now: start) == nil)
        #expect(window.admit(now: start + .seconds(2)) == nil)
        #expect(window.admit(now: start + .seconds(3)) == 2, "the first call leaves the window at 5 s")
        #expect(window.admit(now: start + .milliseconds(4_500)) == 1, "a refused call is not counted; at least 1 s")
        #expect(window.admit(now: start + .seconds(5)) == nil)
        #expect(window.admit(now: start + .seconds(6)) == 1)
        #expect(window.admit(now: start + .seconds(7)) == nil)
    }
}
