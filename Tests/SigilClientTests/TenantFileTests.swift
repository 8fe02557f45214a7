import SigilCore
import Testing

@testable import SigilClient

/// The tenant file: its YAML, and the plan `sigil apply` makes from comparing it with the server.
@Suite struct TenantFileTests {
    static let yaml = """
        attributeSets:
          - id: Engineering
            description: Engineering attributes
            maxAttributesPerSet: 10
            attributes:
              - name: Project
                type: String
                multiple: true
                predefinedOnly: true
                allowedValues:
                  - id: Alpine
                  - id: Baker
                    active: false
                  - id: Cedar
              - name: Level
                type: String
              - name: Code
                type: String
                status: Deprecated
          - id: Finance
        roleAssignments:
          - principal: app-1
            role: Attribute Assignment Reader
            scope: /attributeSets/Engineering
          - principal: ghost@sigil.test
            role: Attribute Log Reader
          - principal: app-1
            role: Attribute Janitor

        """

    @Test func theYAMLReadsIntoEntries() throws {
        let file = try TenantFile.parse(Self.yaml)
        let engineering = try #require(file.attributeSets?.first)
        #expect(engineering.maxAttributesPerSet == 10)
        #expect(engineering.attributes?.map(\.name) == ["Project", "Level", "Code"])
        #expect(engineering.attributes?[0].allowedValues?.map(\.active) == [nil, false, nil])
        #expect(engineering.attributes?[2].status == "Deprecated")
        #expect(file.attributeSets?[1] == TenantFile.AttributeSetEntry(id: "Finance"))
        #expect(file.roleAssignments?.map(\.scope) == ["/attributeSets/Engineering", nil, nil])
        #expect(try TenantFile.parse(file.yaml()) == file)
        #expect(try TenantFile.parse("{}") == TenantFile())
    }

    @Test(arguments: ["attributeSets: 5", "attributeSets:\n  - description: no id", "attributeSets:\n  - id: A\n    attributes:\n      - name: NoType", "roleAssignments: [{role: x}]", "[unclosed"])
    func anInvalidFileIsRefused(_ yaml: String) {
        let message = ClientFixtures.refusal { _ = try TenantFile.parse(yaml) }
        #expect(message?.hasPrefix("The tenant file is not valid: ") == true, "\(message ?? "accepted")")
    }

    /// The server: Engineering (an old description) with Project (predefined: Alpine, Baker and
    /// Old, all active) and Level (Integer); one service principal, `app-1`; no role assignments.
    static func server(refusing refused: String? = nil) -> StubGraph {
        StubGraph { request in
            switch (request.method, request.path) {
            case ("GET", "/directory/attributeSets"):
                return (200, StubGraph.page([["id": "Engineering", "description": "old", "maxAttributesPerSet": 10]]))
            case ("GET", "/directory/customSecurityAttributeDefinitions?$expand=allowedValues"):
                return (
                    200,
                    StubGraph.page([
                        ClientFixtures.definition("Engineering", "Project", collection: true, predefined: true, values: [("Alpine", true), ("Baker", true), ("Old", true)]),
                        ClientFixtures.definition("Engineering", "Level", type: "Integer"),
                    ])
                )
            case ("GET", "/roleManagement/directory/roleAssignments"): return (200, StubGraph.page([]))
            case ("GET", let path) where path.hasPrefix("/servicePrincipals?$filter=appId%20eq%20%27app%2D1%27"):
                return (200, StubGraph.page([["id": "sp-1"]]))
            case (let method, let path) where method != "GET" && path != refused: return (201, ["id": "new"])
            default: return (404, StubGraph.error("Request_ResourceNotFound", "Not found: \(request.method) \(request.path)"))
            }
        }
    }

    @Test func thePlanListsChangesRefusalsAndNotes() async throws {
        let stub = Self.server()
        let plan = try await TenantPlan.make(try TenantFile.parse(Self.yaml), client: stub.client)
        #expect(
            plan.steps.map { "\($0.action.rawValue) \($0.kind.rawValue) \($0.name)" } == [
                "update attributeSet Engineering",
                "deactivate allowedValue Engineering.Project/Baker",
                "create allowedValue Engineering.Project/Cedar",
                "create attribute Engineering.Code",
                "deactivate attribute Engineering.Code",
                "create attributeSet Finance",
                "create roleAssignment Attribute Assignment Reader for app-1 at /attributeSets/Engineering",
            ])
        #expect(plan.steps[0].detail == "description")
        #expect(
            plan.refusals == [
                "attribute Engineering.Level: type cannot change once created (Entra cannot); left as it is",
                "ghost@sigil.test (for Attribute Log Reader) does not exist here",
                "role 'Attribute Janitor' is unknown",
            ])
        #expect(plan.notes == ["value Old of Engineering.Project is not in the file; values cannot be deleted, so it stays"])
        #expect(plan.summary == "Plan: 4 to create, 1 to update, 2 to deactivate, 0 to reactivate.")
        #expect(plan.json.objectValue?["changes"]?.arrayValue?.count == 7)
        #expect(plan.json.objectValue?["refusals"]?.arrayValue?.count == 3)
        // Only reads so far.
        #expect(stub.writes.isEmpty)
    }

    static let policiesYAML = """
        conditionalAccessPolicies:
          - displayName: Block Baker workloads
            state: enabled
            conditions:
              clientAppTypes: [all]
              applications:
                includeApplications: [All]
              clientApplications:
                includeServicePrincipals: []
                servicePrincipalFilter:
                  mode: include
                  rule: 'CustomSecurityAttribute.Engineering_Project -eq "Baker"'
            grantControls:
              operator: OR
              builtInControls: [block]
          - displayName: Report Gold apps
            state: enabled
            conditions:
              clientAppTypes: [all]
              applications: {includeApplications: [All]}
              users: {includeUsers: [All]}
            grantControls: {operator: OR, builtInControls: [block]}
          - displayName: New policy
            state: disabled
            conditions:
              clientAppTypes: [all]
              applications: {includeApplications: [None]}
              users: {includeUsers: [None]}

        """

    /// Policies by display name: the same one (members in another order, nulls the server adds)
    /// is left alone, a changed state is patched, a missing one created, an unlisted one noted.
    @Test func policiesAreMatchedByNameAndNeverDeleted() async throws {
        let file = try TenantFile.parse(Self.policiesYAML)
        let first = try #require(file.conditionalAccessPolicies?.first)
        #expect(
            first.conditions.value.objectValue?["clientApplications"]?.objectValue?["servicePrincipalFilter"]?.objectValue?["rule"]
                == .string(#"CustomSecurityAttribute.Engineering_Project -eq "Baker""#))
        #expect(try TenantFile.parse(file.yaml()) == file)
        let stub = StubGraph { request in
            switch (request.method, request.path) {
            case ("GET", "/identity/conditionalAccess/policies"):
                return (
                    200,
                    StubGraph.page([
                        [
                            "id": "p-1", "displayName": "Block Baker workloads", "state": "enabled", "sessionControls": .null,
                            "grantControls": ["builtInControls": ["block"], "operator": "OR"],
                            "conditions": [
                                "applications": ["includeApplications": ["All"], "excludeApplications": .null],
                                "clientApplications": [
                                    "servicePrincipalFilter": [
                                        "rule": #"CustomSecurityAttribute.Engineering_Project -eq "Baker""#, "mode": "include",
                                    ],
                                    "includeServicePrincipals": [],
                                ],
                                "clientAppTypes": ["all"],
                            ],
                        ],
                        [
                            "id": "p-2", "displayName": "Report Gold apps", "state": "enabledForReportingButNotEnforced",
                            "grantControls": ["operator": "OR", "builtInControls": ["block"]],
                            "conditions": [
                                "clientAppTypes": ["all"], "applications": ["includeApplications": ["All"]],
                                "users": ["includeUsers": ["All"]],
                            ],
                        ],
                        ["id": "p-3", "displayName": "Made by hand", "state": "disabled", "conditions": [:]],
                    ])
                )
            case ("POST", _), ("PATCH", _): return (201, ["id": "new"])
            default: return (404, StubGraph.error("Request_ResourceNotFound", "Not found: \(request.method) \(request.path)"))
            }
        }
        let plan = try await TenantPlan.make(file, client: stub.client)
        #expect(
            plan.steps.map { "\($0.action.rawValue) \($0.kind.rawValue) \($0.name) \($0.detail)" } == [
                "update conditionalAccessPolicy Report Gold apps state",
                "create conditionalAccessPolicy New policy ",
            ])
        #expect(plan.notes == ["Conditional Access policy Made by hand is not in the file; apply never deletes policies, so it stays"])
        try await plan.apply(client: stub.client) { _ in }
        #expect(stub.writes == ["PATCH /identity/conditionalAccess/policies/p-2", "POST /identity/conditionalAccess/policies"])
        let created = stub.requests.first { $0.method == "POST" }?.body?.objectValue
        #expect(created?["displayName"] == "New policy" && created?["state"] == "disabled")
        #expect(created?["conditions"]?.objectValue?["users"]?.objectValue?["includeUsers"] == ["None"])
        #expect(created?["grantControls"] == nil)
    }

    @Test func applyingSendsEachStepInOrderAndStopsAtARefusal() async throws {
        let stub = Self.server(refusing: "/directory/attributeSets")
        let plan = try await TenantPlan.make(try TenantFile.parse(Self.yaml), client: stub.client)
        let done = Locked<[String]>([])
        await #expect(throws: ClientError.self) { try await plan.apply(client: stub.client) { step in done.withLock { $0.append(step.name) } } }
        #expect(done.withLock { $0 } == ["Engineering", "Engineering.Project/Baker", "Engineering.Project/Cedar", "Engineering.Code", "Engineering.Code"])
        #expect(
            stub.writes == [
                "PATCH /directory/attributeSets/Engineering",
                "PATCH /directory/customSecurityAttributeDefinitions/Engineering_Project/allowedValues/Baker",
                "POST /directory/customSecurityAttributeDefinitions/Engineering_Project/allowedValues",
                "POST /directory/customSecurityAttributeDefinitions",
                "PATCH /directory/customSecurityAttributeDefinitions/Engineering_Code",
                "POST /directory/attributeSets",
            ])
        let created = stub.requests.first { $0.method == "POST" && $0.path == "/directory/customSecurityAttributeDefinitions" }?.body
        #expect(created?.objectValue?["status"] == "Available", "created available, then deprecated")
        #expect(created?.objectValue?["isSearchable"] == true)
    }

    @Test func whatCannotChangeIsRefusedAndWhatCanIsUpdated() {
        let current = [
            ClientFixtures.definition("S", "Open", predefined: false).objectValue,
            ClientFixtures.definition("S", "Closed", predefined: true, status: "Deprecated").objectValue,
        ].compactMap { $0 }
        var plan = TenantPlan()
        plan.compare(TenantFile.AttributeEntry(name: "Open", type: "String", multiple: true, searchable: false, predefinedOnly: true), in: "S", with: current)
        plan.compare(TenantFile.AttributeEntry(name: "Closed", description: "now", type: "String"), in: "S", with: current)
        #expect(
            plan.refusals == [
                "attribute S.Open: multiple cannot change once created (Entra cannot); left as it is",
                "attribute S.Open: searchable cannot change once created (Entra cannot); left as it is",
                "attribute S.Open: predefined values only cannot be turned back on (Entra cannot); left off",
            ])
        #expect(plan.steps.map { "\($0.action.rawValue) \($0.name) \($0.detail)" } == ["update S.Closed description, usePreDefinedValuesOnly", "reactivate S.Closed "])
        #expect(plan.steps.map(\.body) == [["description": "now", "usePreDefinedValuesOnly": false], ["status": "Available"]])
    }

    static let rulesYAML = """
        accessRules:
          - displayName: Readers of Baker blobs
            principals: all
            actions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read']
            condition: "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project] StringEquals 'Baker'"
            conditionVersion: '2.0'
          - displayName: Writers
            description: Chandra and the sync app
            principals: [chandra@sigil.test, app-7]
            actions: ['*/write']
          - displayName: New rule
            principals: [Chandra@Sigil.test]
            actions: ['*/read']
          - displayName: Ghost rule
            principals: [ghost@sigil.test]
            actions: ['*/read']

        """

    /// Rules by display name: an identical one is left alone, a changed one patched (its
    /// condition removed, its principals resolved from names), a missing one created on Sigil's
    /// own path, one naming an unknown principal refused, an unlisted one noted.
    @Test func accessRulesAreMatchedByNameWithPrincipalsByName() async throws {
        let file = try TenantFile.parse(Self.rulesYAML)
        #expect(file.accessRules?.first?.principals == .all)
        #expect(file.accessRules?[1].principals == .listed(["chandra@sigil.test", "app-7"]))
        #expect(try TenantFile.parse(file.yaml()) == file)
        #expect(throws: (any Error).self) { try TenantFile.parse("accessRules:\n  - displayName: x\n    principals: everyone\n    actions: []\n") }
        let condition = "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project] StringEquals 'Baker'"
        let stub = StubGraph { request in
            switch (request.method, request.path) {
            case ("GET", "/sigil/v1/accessRules"):
                return (
                    200,
                    StubGraph.page([
                        [
                            "id": "r-1", "displayName": "Readers of Baker blobs", "description": .null, "principals": "all",
                            "actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
                            "condition": .string(condition), "conditionVersion": "2.0",
                        ],
                        [
                            "id": "r-2", "displayName": "Writers", "description": "Chandra and the sync app",
                            "principals": ["SP-7", "u-chandra"], "actions": ["*/write"], "condition": "@Request[x] StringEquals 'y'",
                            "conditionVersion": "2.0",
                        ],
                        ["id": "r-3", "displayName": "Made by hand", "principals": "all", "actions": ["*"]],
                    ])
                )
            case ("GET", let path) where path.lowercased().hasPrefix("/users/chandra@sigil.test"): return (200, ["id": "u-chandra"])
            case ("GET", let path) where path.hasPrefix("/servicePrincipals?"):
                return (200, StubGraph.page(path.removingPercentEncoding?.contains("appId eq 'app-7'") == true ? [["id": "sp-7"]] : []))
            case ("POST", _), ("PATCH", _): return (201, ["id": "new"])
            default: return (404, StubGraph.error("Request_ResourceNotFound", "Not found: \(request.method) \(request.path)"))
            }
        }
        let plan = try await TenantPlan.make(file, client: stub.client)
        #expect(
            plan.steps.map { "\($0.action.rawValue) \($0.kind.rawValue) \($0.name) \($0.detail)" } == [
                "update accessRule Writers condition, conditionVersion",
                "create accessRule New rule ",
            ])
        #expect(plan.refusals == ["ghost@sigil.test (for access rule Ghost rule) does not exist here"])
        #expect(plan.notes == ["access rule Made by hand is not in the file; apply never deletes rules, so it stays"])
        try await plan.apply(client: stub.client) { _ in }
        #expect(stub.writes == ["PATCH /sigil/v1/accessRules/r-2", "POST /sigil/v1/accessRules"])
        let patched = stub.requests.first { $0.method == "PATCH" }?.body?.objectValue
        #expect(patched?["condition"] == .null && patched?["conditionVersion"] == .null)
        let created = stub.requests.first { $0.method == "POST" }?.body?.objectValue
        #expect(created?["principals"] == ["u-chandra"] && created?["actions"] == ["*/read"])
        #expect(created?["condition"] == nil, "a rule without a condition is created without one")
    }
}

@Suite struct TenantFileMappingTests {
    static let yaml = """
        provisioningMapping:
          matchingIdentifier: userName
          attributeMappings:
            - source: 'urn:ietf:params:scim:schemas:extension:acme:2.0:User:costCenter'
              target: Engineering_CostCenter

        """

    static func stub(current: JSONValue) -> StubGraph {
        StubGraph { request in
            switch (request.method, request.path) {
            case ("GET", "/sigil/v1/provisioning/mapping"): return (200, current)
            case ("PUT", "/sigil/v1/provisioning/mapping"): return (200, request.body ?? .null)
            case ("GET", let path) where path.hasPrefix("/directory/"): return (200, StubGraph.page([]))
            default: return (404, StubGraph.error("Request_ResourceNotFound", "Not found: \(request.method) \(request.path)"))
            }
        }
    }

    /// The mapping is replaced whole on Sigil's own path when it differs, left alone when it does
    /// not (case aside), and exported only when it is not the default.
    @Test func theMappingIsReplacedWholeWhenItDiffersAndExported() async throws {
        let file = try TenantFile.parse(Self.yaml)
        #expect(file.provisioningMapping?.attributeMappings?.first?.target == "Engineering_CostCenter")
        #expect(try TenantFile.parse(file.yaml()) == file)
        let changed = Self.stub(current: ["matchingIdentifier": "externalId", "attributeMappings": []])
        let plan = try await TenantPlan.make(file, client: changed.client)
        #expect(plan.steps.map { "\($0.action.rawValue) \($0.kind.rawValue)" } == ["update provisioningMapping"])
        try await plan.apply(client: changed.client) { _ in }
        #expect(changed.writes == ["PUT /sigil/v1/provisioning/mapping"])
        let sent = changed.requests.first { $0.method == "PUT" }?.body
        #expect(sent?.objectValue?["matchingIdentifier"] == "userName")
        #expect(
            sent?.objectValue?["attributeMappings"] == [
                ["source": "urn:ietf:params:scim:schemas:extension:acme:2.0:User:costCenter", "target": "Engineering_CostCenter"]
            ])

        let same = Self.stub(current: [
            "matchingIdentifier": "userName",
            "attributeMappings": [["source": "urn:ietf:params:scim:schemas:extension:ACME:2.0:User:costCenter", "target": "engineering_costcenter"]],
        ])
        #expect(try await TenantPlan.make(file, client: same.client).steps.isEmpty)

        let exporting = Self.stub(current: [
            "matchingIdentifier": "userName", "attributeMappings": [["source": "userType", "target": "Engineering_Project"]],
        ])
        let exported = try await TenantPlan.export(client: exporting.client, roles: false)
        #expect(exported.provisioningMapping?.matchingIdentifier == "userName")
        #expect(exported.provisioningMapping?.attributeMappings == [.init(source: "userType", target: "Engineering_Project")])
        let untouched = Self.stub(current: ["matchingIdentifier": "externalId", "attributeMappings": []])
        #expect(try await TenantPlan.export(client: untouched.client, roles: false).provisioningMapping == nil)
    }
}
