import Foundation
import Testing

@testable import SigilCore

/// `$filter` and `$orderby` of the audit log, and how changes become records.
@Suite struct AuditQueryTests {
    func parse(_ filter: String?, _ orderBy: String? = nil) throws -> AuditQuery {
        try AuditQuery.parse(filter: filter, orderBy: orderBy.map { [$0] })
    }

    @Test func everySupportedClause() throws {
        let query = try parse(
            """
            activityDateTime ge 2026-11-01T00:00:00Z and activityDateTime le 2026-11-30 and \
            startswith(activityDisplayName,'Update') and initiatedBy/user/id eq 'ABC' and \
            initiatedBy/app/appId eq 'App-1' and targetResources/any(t: t/id eq 'Engineering') and result eq 'failure'
            """)
        #expect(query.earliest == "2026-11-01T00:00:00.0000000Z")
        #expect(query.latest == "2026-11-30T00:00:00.0000000Z")
        #expect(query.activityPrefix == "update")
        #expect(query.activities.count == 4)
        #expect(query.initiatorUserId == "abc")
        #expect(query.initiatorAppId == "app-1")
        #expect(query.targetId == "engineering")
        #expect(query.result == .failure)
        #expect(query.newestFirst)
    }

    @Test func activityEqualityIgnoresCaseAndAnUnknownNameMatchesNothing() throws {
        #expect(try parse("activityDisplayName eq 'add an attribute set'").activities == [.addAttributeSet])
        #expect(try parse("activityDisplayName eq 'Delete a user'").activities.isEmpty)
        #expect(try parse("activityDateTime eq 2026-11-30T08:00:00.5Z").earliest == "2026-11-30T08:00:00.5000000Z")
        #expect(try parse("activityDateTime eq '2026-11-30T08:00:00Z'").latest == "2026-11-30T08:00:00.0000000Z")
        #expect(try parse("targetResources/any(x:x/id eq 'it''s')").targetId == "it's")
    }

    @Test func orderBy() throws {
        #expect(try parse(nil, "activityDateTime desc").newestFirst)
        #expect(try !parse(nil, "activityDateTime asc").newestFirst)
        #expect(try !parse(nil, "activityDateTime").newestFirst)
    }

    @Test(arguments: [
        "category eq 'AttributeManagement'",
        "activityDateTime gt 2026-11-01T00:00:00Z",
        "activityDateTime ge yesterday",
        "activityDisplayName ne 'Add an attribute set'",
        "startswith(result,'f')",
        "targetResources/any(t: t/type eq 'User')",
        "initiatedBy/user/id eq 'a' and initiatedBy/user/id eq 'b'",
        "initiatedBy/user/id eq 'a' or result eq 'success'",
        "activityDisplayName eq 'unterminated",
        "result eq 'maybe'",
        "",
    ])
    func unsupportedFiltersAreRefused(_ filter: String) {
        #expect(throws: GraphError.self) { try parse(filter) }
    }

    @Test func unsupportedOrdersAreRefused() {
        #expect(throws: GraphError.self) { try parse(nil, "id") }
        #expect(throws: GraphError.self) { try parse(nil, "activityDateTime sideways") }
    }
}

@Suite struct AuditLogTests {
    let context = AuditContext(
        initiatedBy: AuditInitiator(kind: .app(appId: "app"), id: "sp", displayName: "Manager", ipAddress: "10.0.0.1"),
        correlationId: "request-1", userAgent: "tests")

    @Test func aDefinitionAndItsAllowedValuesMakeOneRecordPerTarget() {
        var schema = Schema()
        schema.apply(.createSet(AttributeSet(id: "Engineering")))
        let definition = AttributeDefinition(
            attributeSet: "Engineering", name: "Project", type: .string, isCollection: false, isSearchable: true,
            usePreDefinedValuesOnly: true)
        schema.apply(.createDefinition(definition, allowedValues: [AllowedValue(id: "Alpine", isActive: true)]))
        var updated = definition
        updated.description = "Projects"
        let records = AuditLog.records(
            for: [
                .updateDefinition(updated), .putAllowedValue(definitionId: "engineering_project", AllowedValue(id: "Baker", isActive: true)),
                .createSet(AttributeSet(id: "Finance")),
            ], before: schema, context: context)
        #expect(records.map(\.activity) == [.addAttributeSet, .updateDefinition])
        #expect(records.allSatisfy { $0.correlationId == "request-1" && $0.result == .success })
        let names = records.last?.targets.first?.modifiedProperties.map(\.displayName)
        #expect(names == ["Description", "AllowedValues", "Included Updated Properties"])
    }

    @Test func valuesRecordOnlyRealChanges() {
        let user = DirectoryObject(
            kind: .user, id: "u1",
            properties: JSONObject([("displayName", "Chandra"), ("userPrincipalName", "chandra@sigil.test")]))
        let before = AttributeAssignments([AssignedAttribute(definitionId: "Engineering_Level", values: [.integer(3)])])
        #expect(AuditLog.record(valuesOf: user, before: before, after: before, context: context) == nil)
        let removed = AuditLog.record(valuesOf: user, before: before, after: AttributeAssignments(), context: context)
        #expect(removed?.operationType == "Unassign")
        #expect(removed?.targets.first?.userPrincipalName == "chandra@sigil.test")
        #expect(removed?.targets.first?.modifiedProperties == [ModifiedProperty(displayName: "Engineering_Level", oldValue: "[3]", newValue: nil)])
        let failure = AuditLog.failure(.updateUserValues, target: nil, reason: "no", context: context)
        #expect(failure.result == .failure)
        #expect(failure.resultReason == "no")
        #expect(failure.targets.isEmpty)
    }
}

@Suite struct AuditTimestampTests {
    /// The hand-written calendar agrees with Foundation's across eras, leap days and the epoch.
    @Test func matchesFoundationsISO8601() {
        let style = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC") ?? .current)
        var generator = SystemRandomNumberGenerator()
        let fixed: [Double] = [0, -1, 951_782_400, 1_709_164_800.25, 4_107_542_399.9999999, -2_208_988_800, 1_764_489_600.5]
        let random = (0..<2000).map { _ in Double.random(in: -5_000_000_000...8_000_000_000, using: &generator) }
        for seconds in fixed + random {
            let date = Date(timeIntervalSince1970: seconds)
            let text = AuditRecord.timestamp(date)
            #expect(text.count == 28, "\(text)")
            #expect(String(text.prefix(19)) + "Z" == date.formatted(style), "\(seconds)")
        }
        #expect(AuditRecord.timestamp(Date(timeIntervalSince1970: 1_764_489_600.1234567)).hasSuffix(".1234567Z"))
    }
}
