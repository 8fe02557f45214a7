import Foundation
import SigilCore
import Testing

@testable import SigilGraph
@testable import SigilService

/// The attribute configuration routes (docs/api.md, "Attribute configuration"): attribute
/// sets, definitions and allowed values, each route's success shape and its documented failures,
/// every failure read back to prove it changed nothing.
@Suite struct SchemaRoutesTests {
    static let sets = "/v1.0/directory/attributeSets"
    static let definitions = "/v1.0/directory/customSecurityAttributeDefinitions"
    static let duplicateMessage = "Another object with the same value for property id already exists."
    static let methodNotAllowedMessage = "Specified HTTP method is not allowed for the request uri."

    static func values(_ definition: String) -> String { "\(definitions)/\(definition)/allowedValues" }

    static func notFoundMessage(_ id: String) -> String {
        "Resource '\(id)' does not exist or one of its queried reference-property objects are not present."
    }

    /// A fresh tenant and a token of a tenant-wide Attribute Definition Administrator.
    static func tenantWithAdministrator() async throws -> (tenant: TestTenant, admin: String) {
        let tenant = try await TestTenant.make()
        let admin = try await tenant.servicePrincipal("Definition admin", grants: [.tenant(.attributeDefinitionAdministrator)])
        return (tenant, admin.token)
    }

    /// Microsoft's example of a free-form, single-valued String definition.
    static func projectDate(set: String = "Engineering", name: String = "ProjectDate") -> JSONValue {
        [
            "attributeSet": .string(set), "description": "Target completion date", "isCollection": false, "isSearchable": true,
            "name": .string(name), "status": "Available", "type": "String", "usePreDefinedValuesOnly": false,
        ]
    }

    /// The documented multi-valued, predefined-only definition with its values inline.
    static func project(set: String = "Engineering") -> JSONValue {
        [
            "attributeSet": .string(set), "description": "Active projects for user", "isCollection": true, "isSearchable": true,
            "name": "Project", "status": "Available", "type": "String", "usePreDefinedValuesOnly": true,
            "allowedValues": [
                ["id": "Alpine", "isActive": true], ["id": "Baker", "isActive": true], ["id": "Cascade", "isActive": true],
            ],
        ]
    }

    static func createSet(
        _ client: GraphClient, _ token: String, _ id: String, description: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        var body = JSONObject([("id", .string(id))])
        if let description { body.append("description", .string(description)) }
        let reply = try await client.post(sets, token: token, .object(body))
        #expect(reply.status == .created, "\(reply.text)", sourceLocation: sourceLocation)
    }

    static func createDefinition(
        _ client: GraphClient, _ token: String, _ body: JSONValue, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let reply = try await client.post(definitions, token: token, body)
        #expect(reply.status == .created, "\(reply.text)", sourceLocation: sourceLocation)
    }

    /// Engineering with Project (Alpine, Baker, Cascade) and ProjectDate.
    static func seedEngineering(_ client: GraphClient, _ admin: String) async throws {
        try await createSet(client, admin, "Engineering", description: "Attributes for engineering team")
        try await createDefinition(client, admin, project())
        try await createDefinition(client, admin, projectDate())
    }

    /// The definition as the administrator reads it now.
    static func read(_ client: GraphClient, _ admin: String, _ path: String) async throws -> GraphReply {
        try await client.get(path, token: admin)
    }

    /// `id` and `isActive` of each allowed value, in order.
    static func allowedValues(_ client: GraphClient, _ admin: String, _ definition: String) async throws -> [String: Bool] {
        let reply = try await client.get(values(definition), token: admin)
        #expect(reply.status == .ok, "\(reply.text)")
        var result: [String: Bool] = [:]
        for value in reply.values {
            if let id = value.objectValue?["id"]?.stringValue { result[id] = value.objectValue?["isActive"]?.boolValue }
        }
        return result
    }

    // MARK: Attribute sets

    @Test func createAttributeSetReturns201WithTheEntity() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            let created = try await client.post(
                Self.sets, token: admin, ["id": "Engineering", "description": "Attributes for engineering team", "maxAttributesPerSet": 25])
            #expect(created.status == .created)
            #expect(created.hasContext("directory/attributeSets/$entity"), "\(created.text)")
            #expect(created.object.keys == ["@odata.context", "description", "id", "maxAttributesPerSet"])
            #expect(created["id"] == "Engineering")
            #expect(created["description"] == "Attributes for engineering team")
            #expect(created["maxAttributesPerSet"] == 25)

            // maxAttributesPerSet defaults to null, and is written out as null.
            let plain = try await client.post(Self.sets, token: admin, ["id": "Marketing"])
            #expect(plain.status == .created)
            #expect(plain["maxAttributesPerSet"] == .null)
            #expect(plain["description"] == .null)

            // The same shape on beta, with beta in the context.
            let beta = try await client.post("/beta/directory/attributeSets", token: admin, ["id": "Sales"])
            #expect(beta.status == .created)
            #expect(beta.hasContext("directory/attributeSets/$entity", version: "beta"), "\(beta.text)")
        }
    }

    @Test func getAttributeSetResolvesTheNameCaseInsensitivelyAndHonoursSelect() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.createSet(client, admin, "Engineering", description: "Attributes for engineering team")
            let read = try await client.get("\(Self.sets)/engineering", token: admin)
            #expect(read.status == .ok)
            #expect(read.hasContext("directory/attributeSets/$entity"), "\(read.text)")
            #expect(read["id"] == "Engineering")
            #expect(read["description"] == "Attributes for engineering team")
            #expect(read["maxAttributesPerSet"] == .null)

            let selected = try await client.get("\(Self.sets)/Engineering?$select=description", token: admin)
            #expect(selected.status == .ok)
            #expect(selected.object.keys == ["@odata.context", "description"], "\(selected.text)")
            #expect(selected["description"] == "Attributes for engineering team")

            let unknown = try await client.get("\(Self.sets)/Nope", token: admin)
            unknown.expectError(404, "Request_ResourceNotFound", Self.notFoundMessage("Nope"))
        }
    }

    @Test func listAttributeSetsWithSelectOrderByTopAndNextLink() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            for name in ["Zeta", "Alpha", "Marketing", "Engineering"] { try await Self.createSet(client, admin, name) }

            let all = try await client.get(Self.sets, token: admin)
            #expect(all.status == .ok)
            #expect(all.hasContext("directory/attributeSets"), "\(all.text)")
            #expect(Set(all.valueIds) == ["Zeta", "Alpha", "Marketing", "Engineering"])
            #expect(all.valueIds.count == 4)
            #expect(all["@odata.nextLink"] == nil)

            let selected = try await client.get("\(Self.sets)?$select=id", token: admin)
            #expect(selected.status == .ok)
            #expect(selected.values.count == 4)
            for item in selected.values { #expect(item.objectValue?.keys == ["id"], "\(selected.text)") }

            let ordered = try await client.get("\(Self.sets)?$orderby=id", token: admin)
            #expect(ordered.status == .ok)
            #expect(ordered.valueIds == ["Alpha", "Engineering", "Marketing", "Zeta"])
            let descending = try await client.get("\(Self.sets)?$orderby=\("id desc".formEncoded)", token: admin)
            #expect(descending.valueIds == ["Zeta", "Marketing", "Engineering", "Alpha"])

            // $top truncates and links to the rest; following the link gives the remainder once.
            let first = try await client.get("\(Self.sets)?$top=3&$orderby=id", token: admin)
            #expect(first.status == .ok)
            #expect(first.valueIds == ["Alpha", "Engineering", "Marketing"])
            let link = try #require(first["@odata.nextLink"]?.stringValue, "\(first.text)")
            #expect(link.contains("/v1.0/directory/attributeSets?"), "\(link)")
            #expect(link.contains("$top=3"), "\(link)")
            #expect(link.contains("$skiptoken="), "\(link)")
            let second = try await client.follow(link, token: admin)
            #expect(second.status == .ok, "\(second.text)")
            #expect(second.hasContext("directory/attributeSets"))
            #expect(second.valueIds == ["Zeta"])
            #expect(second["@odata.nextLink"] == nil)

            // Without $orderby, pages still cover every set exactly once.
            var seen: [String] = []
            var next: String? = "\(Self.sets)?$top=2"
            var pages = 0
            while let path = next, pages < 10 {
                let page = try await client.follow(path, token: admin)
                #expect(page.status == .ok, "\(page.text)")
                #expect(page.values.count <= 2)
                seen += page.valueIds
                next = page["@odata.nextLink"]?.stringValue
                pages += 1
            }
            #expect(pages == 2)
            #expect(seen.count == 4)
            #expect(Set(seen) == ["Zeta", "Alpha", "Marketing", "Engineering"])
        }
    }

    @Test func updateAttributeSetReturns204AndIsReadBack() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.createSet(client, admin, "Engineering", description: "Old")
            let update = try await client.patch(
                "\(Self.sets)/engineering", token: admin, ["description": "Attributes for engineering team", "maxAttributesPerSet": 20])
            #expect(update.status == .noContent, "\(update.text)")
            #expect(update.text.isEmpty)
            let read = try await client.get("\(Self.sets)/Engineering", token: admin)
            #expect(read["id"] == "Engineering")
            #expect(read["description"] == "Attributes for engineering team")
            #expect(read["maxAttributesPerSet"] == 20)

            let cleared = try await client.patch("\(Self.sets)/Engineering", token: admin, ["maxAttributesPerSet": nil])
            #expect(cleared.status == .noContent)
            #expect(try await client.get("\(Self.sets)/Engineering", token: admin)["maxAttributesPerSet"] == .null)
        }
    }

    @Test func attributeSetUpdateFailuresChangeNothing() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            let path = "\(Self.sets)/Engineering"
            let before = try await client.get(path, token: admin)
            let failures: [(String, JSONValue)] = [
                ("rename", ["id": "Renamed", "description": "Changed"]),
                ("below the definitions it has", ["maxAttributesPerSet": 1, "description": "Changed"]),
                ("zero", ["maxAttributesPerSet": 0]),
                ("description too long", ["description": .string(String(repeating: "d", count: 129))]),
                ("unknown property", ["colour": "blue", "description": "Changed"]),
                ("wrong type", ["maxAttributesPerSet": "20"]),
            ]
            for (label, body) in failures {
                let reply = try await client.patch(path, token: admin, body)
                #expect(reply.status == .badRequest, "\(label): \(reply.text)")
                #expect(reply.errorCode == "Request_BadRequest", "\(label): \(reply.text)")
            }
            let after = try await client.get(path, token: admin)
            #expect(after.object == before.object, "\(after.text)")
            #expect(after["description"] == "Attributes for engineering team")
            try await client.get("\(Self.sets)/Renamed", token: admin).expectError(404, "Request_ResourceNotFound")
            let unknown = try await client.patch("\(Self.sets)/Nope", token: admin, ["description": "x"])
            unknown.expectError(404, "Request_ResourceNotFound", Self.notFoundMessage("Nope"))
        }
    }

    @Test func duplicateAttributeSetInAnotherCaseIsRefused() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.createSet(client, admin, "Engineering", description: "Original")
            for id in ["Engineering", "engineering", "ENGINEERING"] {
                let duplicate = try await client.post(Self.sets, token: admin, ["id": .string(id), "description": "Duplicate"])
                duplicate.expectError(400, "Request_BadRequest", Self.duplicateMessage)
            }
            let list = try await client.get(Self.sets, token: admin)
            #expect(list.valueIds == ["Engineering"])
            #expect(try await client.get("\(Self.sets)/engineering", token: admin)["description"] == "Original")
        }
    }

    @Test func lookAlikeAttributeSetIsRefusedNamingTheExistingSet() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.createSet(client, admin, "Engineering", description: "Original")
            // Greek capital Epsilon, fullwidth E, a combining acute accent, Cyrillic capital Ie.
            for id in ["\u{395}ngineering", "\u{FF25}ngineering", "Engine\u{301}ering", "\u{415}NGINEERING"] {
                let lookAlike = try await client.post(Self.sets, token: admin, ["id": .string(id), "description": "Look-alike"])
                lookAlike.expectError(
                    400, "Request_BadRequest",
                    "Another object with a look-alike value for property id already exists: '\(id)' looks like attribute set 'Engineering'.")
            }
            let list = try await client.get(Self.sets, token: admin)
            #expect(list.valueIds == ["Engineering"])
            // Unicode names that look like nothing else are still welcome.
            try await Self.createSet(client, admin, "Ingenier\u{ED}a\u{5DE5}")
        }
    }

    // MARK: Definitions

    @Test func lookAlikeDefinitionIsRefusedNamingTheExistingOne() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            try await Self.createSet(client, admin, "Marketing")
            // Greek small omicron in Project.
            let name = "Pr\u{3BF}ject"
            let lookAlike = try await client.post(Self.definitions, token: admin, Self.projectDate(name: name))
            lookAlike.expectError(
                400, "Request_BadRequest",
                "Another object with a look-alike value for property name already exists: '\(name)' looks like attribute 'Project' of attribute set 'Engineering'."
            )
            let list = try await client.get(Self.definitions, token: admin)
            #expect(Set(list.valueIds) == ["Engineering_Project", "Engineering_ProjectDate"])
            // In another set the name collides with nothing.
            try await Self.createDefinition(client, admin, Self.projectDate(set: "Marketing", name: name))
        }
    }

    @Test func createDefinitionReturnsGeneratedIdAndEveryProperty() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.createSet(client, admin, "Engineering")
            let created = try await client.post(Self.definitions, token: admin, Self.projectDate())
            #expect(created.status == .created, "\(created.text)")
            #expect(created.hasContext("directory/customSecurityAttributeDefinitions/$entity"), "\(created.text)")
            #expect(
                Set(created.object.keys)
                    == [
                        "@odata.context", "attributeSet", "description", "id", "isCollection", "isSearchable", "name", "status",
                        "type", "usePreDefinedValuesOnly",
                    ])
            #expect(created["id"] == "Engineering_ProjectDate")
            #expect(created["attributeSet"] == "Engineering")
            #expect(created["name"] == "ProjectDate")
            #expect(created["description"] == "Target completion date")
            #expect(created["type"] == "String")
            #expect(created["status"] == "Available")
            #expect(created["isCollection"] == false)
            #expect(created["isSearchable"] == true)
            #expect(created["usePreDefinedValuesOnly"] == false)
        }
    }

    @Test func createDefinitionWithInlineValuesLeavesThemOutOfThe201Body() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.createSet(client, admin, "engineering")
            // The set is named in another case; the definition takes the set's stored name.
            var body = try #require(Self.project().objectValue)
            body["attributeSet"] = "ENGINEERING"
            let created = try await client.post(Self.definitions, token: admin, .object(body))
            #expect(created.status == .created, "\(created.text)")
            #expect(created["id"] == "engineering_Project")
            #expect(created["attributeSet"] == "engineering")
            #expect(created["isCollection"] == true)
            #expect(created["usePreDefinedValuesOnly"] == true)
            #expect(!created.object.contains("allowedValues"), "\(created.text)")
            #expect(try await Self.allowedValues(client, admin, "engineering_Project") == ["Alpine": true, "Baker": true, "Cascade": true])
        }
    }

    @Test func documentedDefinitionCreateFailuresChangeNothing() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            var withId = try #require(Self.projectDate(name: "Cost").objectValue)
            withId["id"] = "Engineering_Cost"
            var booleanCollection = try #require(Self.projectDate(name: "Cost").objectValue)
            booleanCollection["type"] = "Boolean"
            booleanCollection["isCollection"] = true
            var booleanPredefined = try #require(Self.projectDate(name: "Cost").objectValue)
            booleanPredefined["type"] = "Boolean"
            booleanPredefined["usePreDefinedValuesOnly"] = true
            var badType = try #require(Self.projectDate(name: "Cost").objectValue)
            badType["type"] = "Date"
            let failures: [(String, JSONValue, String?)] = [
                ("id sent", .object(withId), nil),
                ("Boolean collection", .object(booleanCollection), nil),
                ("Boolean predefined-only", .object(booleanPredefined), nil),
                ("unknown set", Self.projectDate(set: "Nope", name: "Cost"), nil),
                ("name starts with a digit", Self.projectDate(name: "1Cost"), nil),
                ("name with a space", Self.projectDate(name: "Project Cost"), nil),
                ("name with an underscore", Self.projectDate(name: "Project_Cost"), nil),
                ("unknown type", .object(badType), nil),
                ("duplicate", Self.projectDate(), Self.duplicateMessage),
                ("duplicate in another case", Self.projectDate(set: "engineering", name: "projectdate"), Self.duplicateMessage),
            ]
            for (label, body, message) in failures {
                let reply = try await client.post(Self.definitions, token: admin, body)
                #expect(reply.status == .badRequest, "\(label): \(reply.text)")
                #expect(reply.errorCode == "Request_BadRequest", "\(label): \(reply.text)")
                if let message { #expect(reply.errorMessage == message, "\(label)") }
            }
            let list = try await client.get(Self.definitions, token: admin)
            #expect(Set(list.valueIds) == ["Engineering_Project", "Engineering_ProjectDate"], "\(list.text)")
            #expect(list.valueIds.count == 2)
            let date = try await client.get("\(Self.definitions)/Engineering_ProjectDate", token: admin)
            #expect(date["description"] == "Target completion date")
            #expect(date["name"] == "ProjectDate")
        }
    }

    @Test func definitionCreateRespectsMaxAttributesPerSet() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            let set = try await client.post(Self.sets, token: admin, ["id": "Engineering", "maxAttributesPerSet": 2])
            #expect(set.status == .created)
            try await Self.createDefinition(client, admin, Self.projectDate())
            try await Self.createDefinition(client, admin, Self.projectDate(name: "Cost"))
            let third = try await client.post(Self.definitions, token: admin, Self.projectDate(name: "Owner"))
            third.expectError(400, "Request_BadRequest")
            try await client.get("\(Self.definitions)/Engineering_Owner", token: admin).expectError(404, "Request_ResourceNotFound")
            #expect(try await client.get(Self.definitions, token: admin).values.count == 2)
            // Raising the cap makes room.
            let raise = try await client.patch("\(Self.sets)/Engineering", token: admin, ["maxAttributesPerSet": 3])
            #expect(raise.status == .noContent)
            #expect(try await client.post(Self.definitions, token: admin, Self.projectDate(name: "Owner")).status == .created)
        }
    }

    @Test func listDefinitionsWithTheDocumentedFilters() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            try await Self.createSet(client, admin, "Marketing")
            try await Self.createDefinition(client, admin, Self.project(set: "Marketing"))
            var vendors = try #require(Self.projectDate(name: "NumVendors").objectValue)
            vendors["type"] = "Integer"
            try await Self.createDefinition(client, admin, .object(vendors))
            var legacy = try #require(Self.projectDate(name: "Legacy").objectValue)
            legacy["status"] = "Deprecated"
            try await Self.createDefinition(client, admin, .object(legacy))
            let deprecate = try await client.patch(
                "\(Self.definitions)/Marketing_Project", token: admin, ["status": "Deprecated"])
            #expect(deprecate.status == .noContent)

            let all = try await client.get(Self.definitions, token: admin)
            #expect(all.status == .ok)
            #expect(all.hasContext("directory/customSecurityAttributeDefinitions"), "\(all.text)")
            #expect(all.values.count == 5)

            let byName = try await client.get(
                "\(Self.definitions)?$filter=\("name eq 'Project' and status eq 'Available'".formEncoded)", token: admin)
            #expect(byName.status == .ok, "\(byName.text)")
            #expect(byName.hasContext("directory/customSecurityAttributeDefinitions"))
            #expect(byName.valueIds == ["Engineering_Project"])

            let bySetAndType = try await client.get(
                "\(Self.definitions)?$filter=\("attributeSet eq 'Engineering' and status eq 'Available' and type eq 'String'".formEncoded)",
                token: admin)
            #expect(bySetAndType.status == .ok, "\(bySetAndType.text)")
            #expect(Set(bySetAndType.valueIds) == ["Engineering_Project", "Engineering_ProjectDate"])
            #expect(bySetAndType.valueIds.count == 2)

            // The filter survives paging.
            let first = try await client.get(
                "\(Self.definitions)?$top=1&$filter=\("attributeSet eq 'Engineering' and status eq 'Available' and type eq 'String'".formEncoded)",
                token: admin)
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.values.count == 1)
            let link = try #require(first["@odata.nextLink"]?.stringValue, "\(first.text)")
            let second = try await client.follow(link, token: admin)
            #expect(second.status == .ok, "\(second.text)")
            #expect(second["@odata.nextLink"] == nil)
            #expect(Set(first.valueIds + second.valueIds) == ["Engineering_Project", "Engineering_ProjectDate"])
        }
    }

    @Test func listDefinitionsWithExpandAndSelect() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)

            let plain = try await client.get(Self.definitions, token: admin)
            #expect(plain.values.count == 2)
            for item in plain.values { #expect(item.objectValue?.contains("allowedValues") == false, "\(plain.text)") }

            let expanded = try await client.get("\(Self.definitions)?$expand=allowedValues", token: admin)
            #expect(expanded.status == .ok, "\(expanded.text)")
            let items = Dictionary(
                uniqueKeysWithValues: expanded.values.compactMap { item in
                    item.objectValue.flatMap { object in object["id"]?.stringValue.map { ($0, object) } }
                })
            #expect(
                items["Engineering_Project"]?["allowedValues"]
                    == [["id": "Alpine", "isActive": true], ["id": "Baker", "isActive": true], ["id": "Cascade", "isActive": true]])
            #expect(items["Engineering_ProjectDate"]?["allowedValues"] == [])
            #expect(items["Engineering_Project"]?["name"] == "Project")

            let selected = try await client.get("\(Self.definitions)?$select=id,name", token: admin)
            #expect(selected.status == .ok)
            #expect(selected.values.count == 2)
            for item in selected.values { #expect(item.objectValue.map { Set($0.keys) } == ["id", "name"], "\(selected.text)") }

            let both = try await client.get("\(Self.definitions)?$select=id&$expand=allowedValues", token: admin)
            #expect(both.status == .ok)
            for item in both.values { #expect(item.objectValue.map { Set($0.keys) } == ["id", "allowedValues"], "\(both.text)") }
        }
    }

    @Test func getDefinitionResolvesItsIdCaseInsensitively() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            let read = try await client.get("\(Self.definitions)/engineering_projectdate", token: admin)
            #expect(read.status == .ok, "\(read.text)")
            #expect(read.hasContext("directory/customSecurityAttributeDefinitions/$entity"), "\(read.text)")
            #expect(read["id"] == "Engineering_ProjectDate")
            #expect(read["attributeSet"] == "Engineering")
            #expect(read["name"] == "ProjectDate")
            #expect(read["type"] == "String")
            #expect(!read.object.contains("allowedValues"))

            let selected = try await client.get("\(Self.definitions)/ENGINEERING_PROJECTDATE?$select=name,type", token: admin)
            #expect(selected.status == .ok)
            #expect(selected.object.keys == ["@odata.context", "name", "type"], "\(selected.text)")

            let unknown = try await client.get("\(Self.definitions)/Engineering_Nope", token: admin)
            unknown.expectError(404, "Request_ResourceNotFound", Self.notFoundMessage("Engineering_Nope"))
        }
    }

    @Test func patchDefinitionDescriptionAndStatus() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            let path = "\(Self.definitions)/Engineering_ProjectDate"
            let description = try await client.patch(path, token: admin, ["description": "Target completion date (YYYY/MM/DD)"])
            #expect(description.status == .noContent, "\(description.text)")
            #expect(description.text.isEmpty)
            var read = try await client.get(path, token: admin)
            #expect(read["description"] == "Target completion date (YYYY/MM/DD)")
            #expect(read["status"] == "Available")

            let deprecate = try await client.patch("\(Self.definitions)/engineering_projectdate", token: admin, ["status": "Deprecated"])
            #expect(deprecate.status == .noContent, "\(deprecate.text)")
            read = try await client.get(path, token: admin)
            #expect(read["status"] == "Deprecated")
            #expect(read["description"] == "Target completion date (YYYY/MM/DD)")

            let reactivate = try await client.patch(path, token: admin, ["status": "Available"])
            #expect(reactivate.status == .noContent)
            #expect(try await client.get(path, token: admin)["status"] == "Available")

            // usePreDefinedValuesOnly may go from true to false.
            let loosen = try await client.patch("\(Self.definitions)/Engineering_Project", token: admin, ["usePreDefinedValuesOnly": false])
            #expect(loosen.status == .noContent, "\(loosen.text)")
            #expect(try await client.get("\(Self.definitions)/Engineering_Project", token: admin)["usePreDefinedValuesOnly"] == false)
        }
    }

    @Test func documentedDefinitionPatchFailuresChangeNothing() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            let path = "\(Self.definitions)/Engineering_ProjectDate"
            let before = try await client.get(path, token: admin)
            let failures: [(String, JSONValue)] = [
                ("type", ["type": "Integer", "description": "Changed"]),
                ("isCollection", ["isCollection": true]),
                ("isSearchable", ["isSearchable": false]),
                ("name", ["name": "Renamed"]),
                ("attributeSet", ["attributeSet": "Marketing"]),
                ("id", ["id": "Engineering_Renamed"]),
                ("false to true", ["usePreDefinedValuesOnly": true, "description": "Changed"]),
                ("bad status", ["status": "Retired"]),
                ("unknown property", ["colour": "blue", "description": "Changed"]),
            ]
            for (label, body) in failures {
                let reply = try await client.patch(path, token: admin, body)
                #expect(reply.status == .badRequest, "\(label): \(reply.text)")
                #expect(reply.errorCode == "Request_BadRequest", "\(label): \(reply.text)")
            }
            let after = try await client.get(path, token: admin)
            #expect(after.object == before.object, "\(after.text)")

            let unknown = try await client.patch("\(Self.definitions)/Engineering_Nope", token: admin, ["description": "x"])
            unknown.expectError(404, "Request_ResourceNotFound", Self.notFoundMessage("Engineering_Nope"))
        }
    }

    @Test func allowedValuesDeltaNeedsODataVersion401() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            let path = "\(Self.definitions)/Engineering_Project"
            let body: JSONValue = [
                "description": "Changed with the delta",
                "allowedValues@delta": [["id": "Baker", "isActive": false], ["id": "Skagit", "isActive": true]],
            ]

            let refused = try await client.patch(path, token: admin, body)
            refused.expectError(400, "Request_BadRequest")
            #expect(try await Self.allowedValues(client, admin, "Engineering_Project") == ["Alpine": true, "Baker": true, "Cascade": true])
            #expect(try await client.get(path, token: admin)["description"] == "Active projects for user")

            let accepted = try await client.patch(path, token: admin, body, headers: ["OData-Version": "4.01"])
            #expect(accepted.status == .noContent, "\(accepted.text)")
            #expect(accepted.text.isEmpty)
            let listed = try await client.get(Self.values("Engineering_Project"), token: admin)
            #expect(listed.valueIds == ["Alpine", "Baker", "Cascade", "Skagit"])
            #expect(
                try await Self.allowedValues(client, admin, "Engineering_Project")
                    == ["Alpine": true, "Baker": false, "Cascade": true, "Skagit": true])
            #expect(try await client.get(path, token: admin)["description"] == "Changed with the delta")
        }
    }

    // MARK: Allowed values

    @Test func listAndGetAllowedValues() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            let list = try await client.get(Self.values("Engineering_Project"), token: admin)
            #expect(list.status == .ok)
            #expect(list.hasContext("directory/customSecurityAttributeDefinitions('Engineering_Project')/allowedValues"), "\(list.text)")
            #expect(list.values == [["id": "Alpine", "isActive": true], ["id": "Baker", "isActive": true], ["id": "Cascade", "isActive": true]])

            // The context names the definition as stored, whatever case the URL used.
            let lower = try await client.get(Self.values("engineering_project"), token: admin)
            #expect(lower.hasContext("directory/customSecurityAttributeDefinitions('Engineering_Project')/allowedValues"), "\(lower.text)")

            let selected = try await client.get("\(Self.values("Engineering_Project"))?$select=id", token: admin)
            #expect(selected.values == [["id": "Alpine"], ["id": "Baker"], ["id": "Cascade"]], "\(selected.text)")

            let one = try await client.get("\(Self.values("Engineering_Project"))/Alpine", token: admin)
            #expect(one.status == .ok, "\(one.text)")
            #expect(one.hasContext("directory/customSecurityAttributeDefinitions('Engineering_Project')/allowedValues/$entity"), "\(one.text)")
            #expect(one.object.keys == ["@odata.context", "id", "isActive"])
            #expect(one["id"] == "Alpine")
            #expect(one["isActive"] == true)

            // Allowed value ids are case-sensitive.
            let otherCase = try await client.get("\(Self.values("Engineering_Project"))/alpine", token: admin)
            otherCase.expectError(404, "Request_ResourceNotFound", Self.notFoundMessage("alpine"))

            let empty = try await client.get(Self.values("Engineering_ProjectDate"), token: admin)
            #expect(empty.status == .ok)
            #expect(empty.values.isEmpty)
            #expect(empty.object.contains("value"))

            let unknown = try await client.get(Self.values("Engineering_Nope"), token: admin)
            unknown.expectError(404, "Request_ResourceNotFound", Self.notFoundMessage("Engineering_Nope"))
        }
    }

    @Test func createAndUpdateAllowedValuesWithTheDocumentedStringBooleans() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            let path = Self.values("Engineering_Project")
            let created = try await client.post(path, token: admin, ["id": "Skagit", "isActive": "true"])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.hasContext("directory/customSecurityAttributeDefinitions('Engineering_Project')/allowedValues/$entity"), "\(created.text)")
            #expect(created.object.keys == ["@odata.context", "id", "isActive"])
            #expect(created["id"] == "Skagit")
            #expect(created["isActive"] == true)

            let boolean = try await client.post(path, token: admin, ["id": "Tahoma", "isActive": false])
            #expect(boolean.status == .created)
            #expect(boolean["isActive"] == false)

            let update = try await client.patch("\(path)/Skagit", token: admin, ["isActive": "false"])
            #expect(update.status == .noContent, "\(update.text)")
            #expect(update.text.isEmpty)
            #expect(try await client.get("\(path)/Skagit", token: admin)["isActive"] == false)

            let reactivate = try await client.patch("\(path)/Skagit", token: admin, ["isActive": true])
            #expect(reactivate.status == .noContent)
            #expect(try await client.get("\(path)/Skagit", token: admin)["isActive"] == true)

            #expect(
                try await Self.allowedValues(client, admin, "Engineering_Project")
                    == ["Alpine": true, "Baker": true, "Cascade": true, "Skagit": true, "Tahoma": false])
        }
    }

    @Test func documentedAllowedValueFailuresChangeNothing() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            let path = Self.values("Engineering_Project")
            let duplicate = try await client.post(path, token: admin, ["id": "Alpine", "isActive": false])
            duplicate.expectError(400, "Request_BadRequest", Self.duplicateMessage)
            let tooLong = try await client.post(path, token: admin, ["id": .string(String(repeating: "x", count: 65)), "isActive": true])
            tooLong.expectError(400, "Request_BadRequest")
            let missingIsActive = try await client.post(path, token: admin, ["id": "Skagit"])
            missingIsActive.expectError(400, "Request_BadRequest")
            let rename = try await client.patch("\(path)/Alpine", token: admin, ["id": "Alpen", "isActive": false])
            rename.expectError(400, "Request_BadRequest")
            let notBoolean = try await client.patch("\(path)/Alpine", token: admin, ["isActive": "maybe"])
            notBoolean.expectError(400, "Request_BadRequest")
            let unknown = try await client.patch("\(path)/Nope", token: admin, ["isActive": false])
            unknown.expectError(404, "Request_ResourceNotFound", Self.notFoundMessage("Nope"))
            let unknownDefinition = try await client.post(Self.values("Engineering_Nope"), token: admin, ["id": "Skagit", "isActive": true])
            unknownDefinition.expectError(404, "Request_ResourceNotFound", Self.notFoundMessage("Engineering_Nope"))

            #expect(try await Self.allowedValues(client, admin, "Engineering_Project") == ["Alpine": true, "Baker": true, "Cascade": true])
            #expect(try await client.get(path, token: admin).valueIds == ["Alpine", "Baker", "Cascade"])
        }
    }

    @Test func allowedValueLimitsAndTypes() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.createSet(client, admin, "Engineering")
            var full = try #require(Self.project().objectValue)
            full["allowedValues"] = .array((0..<100).map { ["id": .string("V\($0)"), "isActive": true] })
            try await Self.createDefinition(client, admin, .object(full))
            let path = Self.values("Engineering_Project")
            let extra = try await client.post(path, token: admin, ["id": "V100", "isActive": true])
            extra.expectError(400, "Request_BadRequest")
            let delta = try await client.patch(
                "\(Self.definitions)/Engineering_Project", token: admin,
                ["allowedValues@delta": [["id": "V100", "isActive": true]]], headers: ["OData-Version": "4.01"])
            delta.expectError(400, "Request_BadRequest")
            let listed = try await client.get(path, token: admin)
            #expect(listed.values.count == 100)
            #expect(!listed.valueIds.contains("V100"))

            var tooMany = try #require(Self.project().objectValue)
            tooMany["name"] = "Crowded"
            tooMany["allowedValues"] = .array((0..<101).map { ["id": .string("V\($0)"), "isActive": true] })
            let crowded = try await client.post(Self.definitions, token: admin, .object(tooMany))
            crowded.expectError(400, "Request_BadRequest")
            try await client.get("\(Self.definitions)/Engineering_Crowded", token: admin).expectError(404, "Request_ResourceNotFound")

            var flag = try #require(Self.projectDate(name: "Flag").objectValue)
            flag["type"] = "Boolean"
            try await Self.createDefinition(client, admin, .object(flag))
            let onBoolean = try await client.post(Self.values("Engineering_Flag"), token: admin, ["id": "true", "isActive": true])
            onBoolean.expectError(400, "Request_BadRequest")
            #expect(try await client.get(Self.values("Engineering_Flag"), token: admin).values.isEmpty)
        }
    }

    // MARK: DELETE

    @Test func deleteIsRefusedWith405OnEveryConfigurationResource() async throws {
        let (tenant, admin) = try await Self.tenantWithAdministrator()
        try await tenant.test { client in
            try await Self.seedEngineering(client, admin)
            for path in [
                "\(Self.sets)/Engineering", "\(Self.definitions)/Engineering_Project",
                "\(Self.values("Engineering_Project"))/Alpine", "/beta/directory/attributeSets/Engineering",
            ] {
                let reply = try await client.delete(path, token: admin)
                #expect(reply.status.code == 405, "\(path): \(reply.text)")
                #expect(reply.errorCode == "Request_BadRequest", "\(path): \(reply.text)")
                #expect(reply.errorMessage == Self.methodNotAllowedMessage, "\(path)")
            }
            #expect(try await client.get("\(Self.sets)/Engineering", token: admin).status == .ok)
            #expect(try await client.get("\(Self.definitions)/Engineering_Project", token: admin).status == .ok)
            #expect(try await client.get("\(Self.values("Engineering_Project"))/Alpine", token: admin)["isActive"] == true)
            #expect(try await client.get(Self.sets, token: admin).valueIds == ["Engineering"])
            #expect(try await client.get(Self.values("Engineering_Project"), token: admin).valueIds == ["Alpine", "Baker", "Cascade"])
        }
    }
}
