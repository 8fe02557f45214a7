import Foundation
import SigilCore
import Testing

@testable import SigilGraph
@testable import SigilService

/// Every request of Microsoft's two custom security attribute walkthroughs ("Assign, update, or
/// remove custom security attributes" with the Graph API, and "Assign, update, list, or remove
/// custom security attributes for a user"), sent with their exact JSON and checked against their
/// statuses and responses. Ids differ; collections are compared as sets because the walkthroughs
/// themselves show Graph reordering them.
@Suite struct SeedConformanceTests {
    static let setAnnotation = "#Microsoft.DirectoryServices.CustomSecurityAttributeValue"

    /// A tenant with the seeds' attribute definitions, one user, one service principal, and an
    /// Attribute Assignment Administrator.
    struct Fixture {
        let tenant: TestTenant
        let admin: String
        let userId: String
        let servicePrincipalId: String

        static func make(datacenterName: String = "Datacenter") async throws -> Fixture {
            let tenant = try await TestTenant.make()
            try await tenant.store.changeSchema { schema in
                var schema = schema
                var changes: [SchemaChange] = []
                let bodies =
                    DemoData.sets
                    + DemoData.definitions.map { body -> JSONValue in
                        guard case .object(var members) = body, members["name"] == "Datacenter" else { return body }
                        members["name"] = .string(datacenterName)
                        return .object(members)
                    }
                for body in bodies {
                    let change =
                        body.objectValue?["attributeSet"] == nil
                        ? try SchemaRules.createSet(body, in: schema) : try SchemaRules.createDefinition(body, in: schema)
                    schema.apply(change)
                    changes.append(change)
                }
                return changes
            }
            let admin = try await tenant.servicePrincipal("Assigner", grants: [.tenant(.attributeAssignmentAdministrator)])
            let user = try await tenant.user("Chandra")
            let principal = try await tenant.servicePrincipal("Seed App")
            return Fixture(tenant: tenant, admin: admin.token, userId: user.id, servicePrincipalId: principal.id)
        }
    }

    /// The seed's PATCH body for one attribute of the Engineering set, written as the seeds write it.
    static func engineering(_ members: String) -> String {
        """
        {
            "customSecurityAttributes":
            {
                "Engineering":
                {
                    "@odata.type":"\(setAnnotation)",
                    \(members)
                }
            }
        }
        """
    }

    /// `customSecurityAttributes` of an object, as the fixture's administrator reads it.
    static func read(_ client: GraphClient, _ path: String, token: String) async throws -> JSONValue? {
        let reply = try await client.get("\(path)?$select=customSecurityAttributes", token: token)
        #expect(reply.status == .ok)
        return reply["customSecurityAttributes"]
    }

    static func patch(_ client: GraphClient, _ path: String, token: String, _ body: String) async throws {
        let reply = try await client.send(.patch, path, token: token, body: body)
        #expect(reply.status == .noContent, "\(reply.text)")
        #expect(reply.text.isEmpty)
    }

    // MARK: Seed 000 (beta) — assign

    @Test func customsecurityattribute_assign_user_string() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.patch(
                client, "/beta/users/\(f.userId)", token: f.admin, Self.engineering(##""ProjectDate":"2022-10-01""##))
            let read = try await Self.read(client, "/beta/users/\(f.userId)", token: f.admin)
            expectSameJSON(
                read,
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2022-10-01"}}"##)
        }
    }

    @Test func customsecurityattribute_assign_serviceprincipal_string() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            let path = "/beta/servicePrincipals/\(f.servicePrincipalId)"
            try await Self.patch(client, path, token: f.admin, Self.engineering(##""ProjectDate":"2022-10-01""##))
            expectSameJSON(
                try await Self.read(client, path, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","ProjectDate":"2022-10-01"}}"##)
        }
    }

    @Test func customsecurityattribute_assign_user_multistring() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.patch(
                client, "/beta/users/\(f.userId)", token: f.admin,
                Self.engineering(##""Project@odata.type":"#Collection(String)", "Project":["Baker","Cascade"]"##))
            let read = try await Self.read(client, "/beta/users/\(f.userId)", token: f.admin)
            expectSameJSON(
                read,
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","Project@odata.type":"#Collection(String)","Project":["Baker","Cascade"]}}"##
            )
            expectAnnotationsPrecedeValues(read)
        }
    }

    @Test func customsecurityattribute_assign_user_integer() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.patch(
                client, "/beta/users/\(f.userId)", token: f.admin,
                Self.engineering(##""NumVendors@odata.type":"#Int32", "NumVendors":4"##))
            // No #Int32 annotation on read.
            expectSameJSON(
                try await Self.read(client, "/beta/users/\(f.userId)", token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","NumVendors":4}}"##)
        }
    }

    @Test func customsecurityattribute_assign_user_multiinteger() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.patch(
                client, "/beta/users/\(f.userId)", token: f.admin,
                Self.engineering(##""CostCenter@odata.type":"#Collection(Int32)", "CostCenter":[1001,1003]"##))
            expectSameJSON(
                try await Self.read(client, "/beta/users/\(f.userId)", token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","CostCenter@odata.type":"#Collection(Int32)","CostCenter":[1001,1003]}}"##
            )
        }
    }

    @Test func customsecurityattribute_assign_user_boolean() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            try await Self.patch(client, "/beta/users/\(f.userId)", token: f.admin, Self.engineering(##""Certification":true"##))
            expectSameJSON(
                try await Self.read(client, "/beta/users/\(f.userId)", token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","Certification":true}}"##)
        }
    }

    // MARK: Seed 000 (beta) — update

    @Test func customsecurityattribute_update_user_integer() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            let path = "/beta/users/\(f.userId)"
            try await Self.patch(
                client, path, token: f.admin, Self.engineering(##""NumVendors@odata.type":"#Int32", "NumVendors":4"##))
            try await Self.patch(
                client, path, token: f.admin, Self.engineering(##""NumVendors@odata.type":"#Int32", "NumVendors":8"##))
            expectSameJSON(
                try await Self.read(client, path, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","NumVendors":8}}"##)
        }
    }

    @Test func customsecurityattribute_update_user_boolean() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            let path = "/beta/users/\(f.userId)"
            try await Self.patch(client, path, token: f.admin, Self.engineering(##""Certification":true"##))
            try await Self.patch(client, path, token: f.admin, Self.engineering(##""Certification":false"##))
            expectSameJSON(
                try await Self.read(client, path, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","Certification":false}}"##)
        }
    }

    // MARK: Seed 000 (beta) — get, remove

    @Test func customsecurityattribute_get_for_user() async throws {
        // Seed 000 defines the attribute as lower-case `datacenter`; Sigil echoes names as created.
        let f = try await Fixture.make(datacenterName: "datacenter")
        try await f.tenant.test { client in
            let path = "/beta/users/\(f.userId)"
            try await Self.patch(
                client, path, token: f.admin,
                Self.engineering(##""datacenter@odata.type":"#Collection(String)", "datacenter":["Redmond"]"##))
            let reply = try await client.get("\(path)?$select=customSecurityAttributes", token: f.admin)
            #expect(reply.status == .ok)
            #expect(
                reply["@odata.context"]?.stringValue?.hasSuffix("/beta/$metadata#users(customSecurityAttributes)/$entity") == true
            )
            expectSameJSON(
                reply.json,
                ##"""
                {
                    "@odata.context": "IGNORED",
                    "customSecurityAttributes": {
                        "Engineering": {
                            "@odata.type": "#microsoft.graph.customSecurityAttributeValue",
                            "datacenter@odata.type": "#Collection(String)",
                            "datacenter": ["Redmond"]
                        }
                    }
                }
                """##, ignoring: ["@odata.context"])
        }
    }

    @Test func customsecurityattribute_remove_user_singlevalue() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            let path = "/beta/users/\(f.userId)"
            try await Self.patch(client, path, token: f.admin, Self.engineering(##""ProjectDate":"2022-10-01""##))
            try await Self.patch(client, path, token: f.admin, Self.engineering(##""ProjectDate":null"##))
            #expect(try await Self.read(client, path, token: f.admin) == .null)
        }
    }

    @Test func customsecurityattribute_remove_user_multistring() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            let path = "/beta/users/\(f.userId)"
            try await Self.patch(
                client, path, token: f.admin,
                Self.engineering(##""Project@odata.type":"#Collection(String)", "Project":["Baker","Cascade"]"##))
            try await Self.patch(client, path, token: f.admin, Self.engineering(##""Project":[]"##))
            #expect(try await Self.read(client, path, token: f.admin) == .null)
        }
    }

    // MARK: Seed 002 (v1.0) — the five assignments, two updates, the multi-string update, the read

    @Test func seed002_assign_update_and_get_user_attributes() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            let path = "/v1.0/users/\(f.userId)"
            for members in [
                ##""ProjectDate":"2024-11-15""##,
                ##""Project@odata.type":"#Collection(String)", "Project":["Baker","Cascade"]"##,
                ##""NumVendors@odata.type":"#Int32", "NumVendors":4"##,
                ##""CostCenter@odata.type":"#Collection(Int32)", "CostCenter":[1001,1003]"##,
                ##""Certification":true"##,
                ##""NumVendors@odata.type":"#Int32", "NumVendors":8"##,
                ##""Certification":false"##,
                ##""Project@odata.type":"#Collection(String)", "Project":["Alpine","Baker"]"##,
            ] {
                try await Self.patch(client, path, token: f.admin, Self.engineering(members))
            }
            try await Self.patch(
                client, path, token: f.admin,
                ##"{"customSecurityAttributes":{"Marketing":{"@odata.type":"#Microsoft.DirectoryServices.CustomSecurityAttributeValue","EmployeeId":"GS45897"}}}"##
            )
            let reply = try await client.get("\(path)?$select=customSecurityAttributes", token: f.admin)
            #expect(reply.status == .ok)
            #expect(
                reply["@odata.context"]?.stringValue?.hasSuffix("/v1.0/$metadata#users(customSecurityAttributes)/$entity") == true
            )
            expectSameJSON(
                reply.json,
                ##"""
                {
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(customSecurityAttributes)/$entity",
                    "customSecurityAttributes": {
                        "Engineering": {
                            "@odata.type": "#microsoft.graph.customSecurityAttributeValue",
                            "Project@odata.type": "#Collection(String)",
                            "Project": ["Baker", "Alpine"],
                            "ProjectDate": "2024-11-15",
                            "NumVendors": 8,
                            "CostCenter@odata.type": "#Collection(Int32)",
                            "CostCenter": [1001, 1003],
                            "Certification": false
                        },
                        "Marketing": {
                            "@odata.type": "#microsoft.graph.customSecurityAttributeValue",
                            "EmployeeId": "GS45897"
                        }
                    }
                }
                """##, ignoring: ["@odata.context"])
            expectAnnotationsPrecedeValues(reply["customSecurityAttributes"])
        }
    }

    @Test func seed002_get_user_without_access_or_values_is_null() async throws {
        let f = try await Fixture.make()
        let reader = try await f.tenant.servicePrincipal("No attribute role")
        try await f.tenant.test { client in
            let path = "/v1.0/users/\(f.userId)"
            // No values yet: null for the administrator.
            var reply = try await client.get("\(path)?$select=customSecurityAttributes", token: f.admin)
            expectSameJSON(reply.json, ##"{"@odata.context":"x","customSecurityAttributes":null}"##, ignoring: ["@odata.context"])
            try await Self.patch(client, path, token: f.admin, Self.engineering(##""ProjectDate":"2024-11-15""##))
            // Values exist, but this caller has no access: still 200 with null, never a 403.
            reply = try await client.get("\(path)?$select=customSecurityAttributes", token: reader.token)
            #expect(reply.status == .ok)
            expectSameJSON(reply.json, ##"{"@odata.context":"x","customSecurityAttributes":null}"##, ignoring: ["@odata.context"])
        }
    }

    @Test func seed002_remove_user_singlevalue_and_multistring() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            let path = "/v1.0/users/\(f.userId)"
            try await Self.patch(client, path, token: f.admin, Self.engineering(##""ProjectDate":"2024-11-15""##))
            try await Self.patch(
                client, path, token: f.admin,
                Self.engineering(##""Project@odata.type":"#Collection(String)", "Project":["Alpine","Baker"]"##))
            try await Self.patch(client, path, token: f.admin, Self.engineering(##""ProjectDate":null"##))
            expectSameJSON(
                try await Self.read(client, path, token: f.admin),
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","Project@odata.type":"#Collection(String)","Project":["Alpine","Baker"]}}"##
            )
            try await Self.patch(client, path, token: f.admin, Self.engineering(##""Project":[]"##))
            #expect(try await Self.read(client, path, token: f.admin) == .null)
        }
    }

    @Test func seed002_serviceprincipal_assign_update_remove_multistring() async throws {
        let f = try await Fixture.make()
        try await f.tenant.test { client in
            let path = "/v1.0/servicePrincipals/\(f.servicePrincipalId)"
            try await Self.patch(
                client, path, token: f.admin,
                Self.engineering(##""Project@odata.type":"#Collection(String)", "Project":["Baker","Cascade"]"##))
            try await Self.patch(
                client, path, token: f.admin,
                Self.engineering(##""Project@odata.type":"#Collection(String)", "Project":["Alpine","Baker"]"##))
            let reply = try await client.get("\(path)?$select=customSecurityAttributes", token: f.admin)
            #expect(
                reply["@odata.context"]?.stringValue?.hasSuffix("$metadata#servicePrincipals(customSecurityAttributes)/$entity")
                    == true)
            expectSameJSON(
                reply["customSecurityAttributes"],
                ##"{"Engineering":{"@odata.type":"#microsoft.graph.customSecurityAttributeValue","Project@odata.type":"#Collection(String)","Project":["Alpine","Baker"]}}"##
            )
            try await Self.patch(client, path, token: f.admin, Self.engineering(##""Project":[]"##))
            #expect(try await Self.read(client, path, token: f.admin) == .null)
        }
    }
}

// MARK: - JSON comparison

/// Compares JSON semantically: object member order ignored, arrays compared as multisets
/// (Graph does not keep collection order), top-level `ignoring` members dropped on both sides.
func expectSameJSON(
    _ actual: JSONValue?, _ expectedText: String, ignoring: Set<String> = [], sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let expected = try? JSON.parse(expectedText) else {
        Issue.record("expected text is not JSON", sourceLocation: sourceLocation)
        return
    }
    func strip(_ value: JSONValue?) -> JSONValue? {
        guard case .object(let object)? = value else { return value }
        return .object(JSONObject(object.members.filter { !ignoring.contains($0.key) }))
    }
    let a = strip(actual).map(canonical)
    let e = strip(expected).map(canonical)
    #expect(a == e, "\(actual?.serializedString ?? "nil") is not \(expected.serializedString)", sourceLocation: sourceLocation)
}

func canonical(_ value: JSONValue) -> JSONValue {
    switch value {
    case .object(let object):
        return .object(JSONObject(object.members.map { ($0.key, canonical($0.value)) }.sorted { $0.key < $1.key }))
    case .array(let elements):
        return .array(elements.map(canonical).sorted { $0.serializedString < $1.serializedString })
    default:
        return value
    }
}

/// Graph writes `X@odata.type` immediately before `X`.
func expectAnnotationsPrecedeValues(_ attributes: JSONValue?, sourceLocation: SourceLocation = #_sourceLocation) {
    guard case .object(let sets)? = attributes else { return }
    for (_, set) in sets {
        guard case .object(let members) = set else { continue }
        let keys = members.keys
        for (i, key) in keys.enumerated() where key.hasSuffix("@odata.type") && key != "@odata.type" {
            let attribute = String(key.dropLast("@odata.type".count))
            #expect(
                i + 1 < keys.count && keys[i + 1] == attribute, "\(key) not followed by \(attribute)",
                sourceLocation: sourceLocation)
        }
    }
}

/// Seed 002's list examples, on the demo tenant that carries the seed's users and values.
@Suite struct SeedFilterExamplesTests {
    static func demo() async throws -> (TestTenant, String) {
        let tenant = try await TestTenant.make()
        _ = try await DemoData.load(services: tenant.services)
        let reader = try await tenant.servicePrincipal("Reader", grants: [.tenant(.attributeAssignmentReader)])
        return (tenant, reader.token)
    }

    static func names(_ reply: GraphReply) -> [String] {
        reply.values.compactMap { $0.objectValue?["displayName"]?.stringValue }.sorted()
    }

    static let select = "$count=true&$select=id,displayName,customSecurityAttributes"

    @Test func list_users_where_attribute_equals_value() async throws {
        let (tenant, token) = try await Self.demo()
        try await tenant.test { client in
            let reply = try await client.get(
                "/v1.0/users?\(Self.select)&$filter=customSecurityAttributes/Marketing/AppCountry%20eq%20'Canada'",
                token: token, headers: ["ConsistencyLevel": "eventual"])
            #expect(reply.status == .ok)
            #expect(
                reply["@odata.context"]?.stringValue?.hasSuffix("$metadata#users(id,displayName,customSecurityAttributes)")
                    == true)
            #expect(reply["@odata.count"] == 2)
            #expect(Self.names(reply) == ["Jana", "Jiya"])
            let jiya = reply.values.first { $0.objectValue?["displayName"] == "Jiya" }
            expectSameJSON(
                jiya?.objectValue?["customSecurityAttributes"],
                ##"""
                {
                    "Engineering": {
                        "@odata.type": "#microsoft.graph.customSecurityAttributeValue",
                        "Datacenter@odata.type": "#Collection(String)",
                        "Datacenter": ["India"]
                    },
                    "Marketing": {
                        "@odata.type": "#microsoft.graph.customSecurityAttributeValue",
                        "AppCountry@odata.type": "#Collection(String)",
                        "AppCountry": ["India", "Canada"],
                        "EmployeeId": "KX19476"
                    }
                }
                """##)
        }
    }

    @Test func list_users_where_attribute_starts_with_value() async throws {
        let (tenant, token) = try await Self.demo()
        try await tenant.test { client in
            let reply = try await client.get(
                "/v1.0/users?\(Self.select)&$filter=startsWith(customSecurityAttributes/Marketing/EmployeeId,'GS')",
                token: token, headers: ["ConsistencyLevel": "eventual"])
            #expect(reply.status == .ok)
            #expect(reply["@odata.count"] == 3)
            #expect(Self.names(reply) == ["Chandra", "Jana", "Joe"])
        }
    }

    @Test func list_users_where_attribute_does_not_equal_value() async throws {
        let (tenant, token) = try await Self.demo()
        try await tenant.test { client in
            let reply = try await client.get(
                "/v1.0/users?\(Self.select)&$filter=customSecurityAttributes/Marketing/AppCountry%20ne%20'Canada'",
                token: token, headers: ["ConsistencyLevel": "eventual"])
            #expect(reply.status == .ok)
            // Users with no AppCountry, and Dara with no attributes at all, are included.
            #expect(reply["@odata.count"] == 5)
            #expect(Self.names(reply) == ["Alain", "Chandra", "Dara", "Isabella", "Joe"])
            let dara = reply.values.first { $0.objectValue?["displayName"] == "Dara" }
            #expect(dara?.objectValue?["customSecurityAttributes"] == .null)
        }
    }

    @Test func filter_without_advanced_query_parameters_is_refused() async throws {
        let (tenant, token) = try await Self.demo()
        try await tenant.test { client in
            for query in [
                "$filter=customSecurityAttributes/Marketing/AppCountry%20eq%20'Canada'",
                "$count=true&$filter=customSecurityAttributes/Marketing/AppCountry%20eq%20'Canada'",
            ] {
                let reply = try await client.get("/v1.0/users?\(query)", token: token)
                #expect(reply.status == .badRequest)
                #expect(reply.errorCode == "Request_UnsupportedQuery")
                #expect(
                    reply.errorMessage
                        == "Unsupported or invalid query filter clause specified for property 'Marketing_AppCountry' of resource 'CustomSecurityAttributeValue'."
                )
            }
            // ConsistencyLevel may come as a query parameter instead of a header.
            let reply = try await client.get(
                "/v1.0/users?$count=true&ConsistencyLevel=eventual&$filter=customSecurityAttributes/Marketing/AppCountry%20eq%20'Canada'",
                token: token)
            #expect(reply.status == .ok)
            #expect(reply["@odata.count"] == 2)
        }
    }

    @Test func serviceprincipals_where_project_equals_baker() async throws {
        let (tenant, token) = try await Self.demo()
        let admin = try await tenant.servicePrincipal("Assigner", grants: [.tenant(.attributeAssignmentAdministrator)])
        let app = try await tenant.servicePrincipal("Project app")
        try await tenant.test { client in
            let patch = try await client.send(
                .patch, "/v1.0/servicePrincipals/\(app.id)", token: admin.token,
                body:
                    ##"{"customSecurityAttributes":{"Engineering":{"@odata.type":"#Microsoft.DirectoryServices.CustomSecurityAttributeValue","Project@odata.type":"#Collection(String)","Project":["Baker","Cascade"]}}}"##
            )
            #expect(patch.status == .noContent)
            let reply = try await client.get(
                "/v1.0/servicePrincipals?$count=true&$select=id,displayName,customSecurityAttributes&$filter=customSecurityAttributes/Engineering/Project%20eq%20'Baker'",
                token: token, headers: ["ConsistencyLevel": "eventual"])
            #expect(reply.status == .ok)
            #expect(reply["@odata.count"] == 1)
            #expect(Self.names(reply) == ["Project app"])
        }
    }
}

@Suite struct OrderByTests {
    static func pages(_ client: GraphClient, _ first: String, token: String, headers: [String: String] = [:]) async throws -> [[String]] {
        var pages: [[String]] = []
        var reply = try await client.get(first, token: token, headers: headers)
        while true {
            #expect(reply.status == .ok, "\(reply.text)")
            pages.append(reply.values.compactMap { $0.objectValue?["displayName"]?.stringValue })
            guard let next = reply["@odata.nextLink"]?.stringValue, let url = URLComponents(string: next) else { break }
            reply = try await client.get("\(url.path)?\(url.percentEncodedQuery ?? "")", token: token, headers: headers)
        }
        return pages
    }

    @Test func usersPageInDisplayNameOrderBothWays() async throws {
        let (tenant, token) = try await SeedFilterExamplesTests.demo()
        try await tenant.test { client in
            let ascending = try await Self.pages(client, "/v1.0/users?$orderby=displayName&$top=3&$select=displayName", token: token)
            #expect(ascending == [["Alain", "Chandra", "Dara"], ["Isabella", "Jana", "Jiya"], ["Joe"]])
            let descending = try await Self.pages(client, "/v1.0/users?$orderBy=displayName%20desc&$top=4&$select=displayName", token: token)
            #expect(descending == [["Joe", "Jiya", "Jana", "Isabella"], ["Dara", "Chandra", "Alain"]])
        }
    }

    @Test func orderingAFilterNeedsTheAdvancedQueryParameters() async throws {
        let (tenant, token) = try await SeedFilterExamplesTests.demo()
        try await tenant.test { client in
            let filter = "$filter=customSecurityAttributes/Marketing/AppCountry%20ne%20'Canada'&$orderby=displayName&$select=displayName"
            let refused = try await client.get("/v1.0/users?\(filter)", token: token)
            #expect(refused.status == .badRequest)
            #expect(refused.errorCode == "Request_UnsupportedQuery")
            let pages = try await Self.pages(
                client, "/v1.0/users?\(filter)&$count=true&$top=2", token: token, headers: ["ConsistencyLevel": "eventual"])
            #expect(pages == [["Alain", "Chandra"], ["Dara", "Isabella"], ["Joe"]])
            let other = try await client.get("/v1.0/users?$orderby=mail", token: token)
            #expect(other.status == .badRequest)
        }
    }

    @Test func skipTokensCannotBeForgedOrMovedToAnotherQuery() async throws {
        let (tenant, token) = try await SeedFilterExamplesTests.demo()
        try await tenant.test { client in
            let first = try await client.get("/v1.0/users?$top=2&$select=displayName", token: token)
            let next = try #require(first["@odata.nextLink"]?.stringValue)
            let skip = try #require(URLComponents(string: next)?.queryItems?.first { $0.name == "$skiptoken" }?.value)
            let elsewhere = try await client.get("/v1.0/users?$top=2&$orderby=displayName&$skiptoken=\(skip)", token: token)
            #expect(elsewhere.status == .badRequest)
            let forged = try await client.get("/v1.0/users?$top=2&$skiptoken=\(String(skip.dropLast(2)))AA", token: token)
            #expect(forged.status == .badRequest)
        }
    }
}
