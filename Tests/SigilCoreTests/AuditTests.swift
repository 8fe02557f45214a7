import Foundation
import Testing

@testable import SigilCore

@Suite struct AuditChangesTests {
    let engineering = AttributeSet(id: "Engineering", description: "Attributes for engineering team", maxAttributesPerSet: 25)

    @Test func addingASetListsWhatItHasWithoutASummary() {
        let properties = AuditChanges.attributeSet(before: nil, after: engineering)
        #expect(
            properties == [
                ModifiedProperty(displayName: "Description", oldValue: nil, newValue: #"["Attributes for engineering team"]"#),
                ModifiedProperty(displayName: "MaxAttributesPerSet", oldValue: nil, newValue: "[25]"),
            ])
    }

    /// Graph's documented example: lowering the limit from 25 to 20.
    @Test func updatingASetListsOnlyTheChangeAndTheSummary() {
        var after = engineering
        after.maxAttributesPerSet = 20
        #expect(
            AuditChanges.attributeSet(before: engineering, after: after) == [
                ModifiedProperty(displayName: "MaxAttributesPerSet", oldValue: "[25]", newValue: "[20]"),
                ModifiedProperty(displayName: "Included Updated Properties", oldValue: nil, newValue: #""MaxAttributesPerSet""#),
            ])
        #expect(AuditChanges.attributeSet(before: engineering, after: engineering).isEmpty)
    }

    @Test func definitionsRecordStatusAndAllowedValues() {
        let project = AttributeDefinition(
            attributeSet: "Engineering", name: "Project", description: "Active projects", type: .string, isCollection: true,
            isSearchable: true, usePreDefinedValuesOnly: true)
        let added = AuditChanges.definition(
            before: nil, after: project, allowedBefore: [], allowedAfter: [AllowedValue(id: "Alpine", isActive: true)])
        #expect(
            added.map(\.displayName) == [
                "Description", "Status", "UsePreDefinedValuesOnly", "AttributeSet", "Name", "Type", "IsCollection", "IsSearchable",
                "AllowedValues",
            ])
        #expect(added.last?.newValue == #"[{"id":"Alpine","isActive":true}]"#)
        #expect(added.allSatisfy { $0.oldValue == nil })

        var deprecated = project
        deprecated.status = .deprecated
        let updated = AuditChanges.definition(
            before: project, after: deprecated, allowedBefore: [AllowedValue(id: "Alpine", isActive: true)],
            allowedAfter: [AllowedValue(id: "Alpine", isActive: false)])
        #expect(
            updated == [
                ModifiedProperty(displayName: "Status", oldValue: #"["Available"]"#, newValue: #"["Deprecated"]"#),
                ModifiedProperty(
                    displayName: "AllowedValues", oldValue: #"[{"id":"Alpine","isActive":true}]"#,
                    newValue: #"[{"id":"Alpine","isActive":false}]"#),
                ModifiedProperty(displayName: "Included Updated Properties", oldValue: nil, newValue: #""Status, AllowedValues""#),
            ])
    }

    @Test func valuesListEachChangedAttributeWithRemovalAsNil() {
        let before = AttributeAssignments([
            AssignedAttribute(definitionId: "Engineering_Project", values: [.string("Baker")]),
            AssignedAttribute(definitionId: "Engineering_NumVendors", values: [.integer(4)]),
            AssignedAttribute(definitionId: "Marketing_EmployeeId", values: [.string("GS1")]),
        ])
        let after = AttributeAssignments([
            AssignedAttribute(definitionId: "Engineering_Project", values: [.string("Alpine"), .string("Baker")]),
            AssignedAttribute(definitionId: "Engineering_NumVendors", values: [.integer(4)]),
            AssignedAttribute(definitionId: "Engineering_Certification", values: [.boolean(true)]),
        ])
        let properties = AuditChanges.values(before: before, after: after)
        #expect(
            properties == [
                ModifiedProperty(displayName: "Engineering_Project", oldValue: #"["Baker"]"#, newValue: #"["Alpine","Baker"]"#),
                ModifiedProperty(displayName: "Marketing_EmployeeId", oldValue: #"["GS1"]"#, newValue: nil),
                ModifiedProperty(displayName: "Engineering_Certification", oldValue: nil, newValue: "[true]"),
            ])
        #expect(AuditChanges.valuesOperation(properties) == "Assign")
        #expect(AuditChanges.valuesOperation([properties[1]]) == "Unassign")
        #expect(AuditChanges.values(before: before, after: before).isEmpty)
    }

    @Test func valueActivityFollowsTheObjectKind() {
        #expect(AuditActivity.values(of: .user) == .updateUserValues)
        #expect(AuditActivity.values(of: .servicePrincipal) == .updateServicePrincipalValues)
        #expect(AuditActivity.attributeActivities.count == 6)
    }
}

@Suite struct AuditRecordTests {
    static let record = AuditRecord(
        id: "9f1c0d1e-0000-4000-8000-000000000001", activity: .updateUserValues,
        activityDateTime: Date(timeIntervalSince1970: 1_795_000_000.25), operationType: "Assign", result: .success,
        correlationId: "req-1",
        initiatedBy: AuditInitiator(kind: .app(appId: "app-1"), id: "sp-1", displayName: "Attribute manager", ipAddress: "127.0.0.1"),
        targets: [
            AuditTarget(
                id: "user-1", displayName: "Jana", type: "User", userPrincipalName: "jana@sigil.local",
                modifiedProperties: [ModifiedProperty(displayName: "Engineering_ProjectDate", oldValue: nil, newValue: #"["2024-11-15"]"#)])
        ],
        userAgent: "msgraph-sdk-python")

    @Test func rendersGraphsShapeInAFixedOrder() throws {
        let json = Self.record.json
        let object = try #require(json.objectValue)
        #expect(
            object.keys == [
                "id", "category", "correlationId", "result", "resultReason", "activityDisplayName", "activityDateTime",
                "loggedByService", "operationType", "initiatedBy", "targetResources", "userAgent", "additionalDetails",
            ])
        #expect(object["category"] == "AttributeManagement")
        #expect(object["activityDisplayName"] == "Update attribute values assigned to a user")
        #expect(object["activityDateTime"] == "2026-11-18T11:06:40.2500000Z")
        #expect(object["initiatedBy"]?.objectValue?["app"]?.objectValue?["appId"] == "app-1")
        #expect(object["initiatedBy"]?.objectValue?["user"] == .null)
        let target = try #require(object["targetResources"]?.arrayValue?.first?.objectValue)
        #expect(target["modifiedProperties"]?.arrayValue?.first?.objectValue?["oldValue"] == .null)
        #expect(object["additionalDetails"]?.arrayValue?.first?.objectValue?["value"] == "msgraph-sdk-python")
        // Same record, same bytes: the canonical form a hash chain is computed over.
        #expect(Self.record.json.serialized() == json.serialized())
        #expect(try JSON.parse(json.serializedString) == json)
    }

    @Test func aUserInitiatorCarriesItsPrincipalName() throws {
        var record = Self.record
        record.initiatedBy = AuditInitiator(
            kind: .user(userPrincipalName: "chandra@sigil.local"), id: "u-9", displayName: "Chandra", ipAddress: nil)
        let initiator = try #require(record.json.objectValue?["initiatedBy"]?.objectValue)
        #expect(initiator["app"] == .null)
        #expect(initiator["user"]?.objectValue?["userPrincipalName"] == "chandra@sigil.local")
    }
}
