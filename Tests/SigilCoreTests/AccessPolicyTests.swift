import Testing

@testable import SigilCore

private let allCapabilities: [Capability] = [
    .readAttributeSets, .manageAttributeSets, .readDefinitions, .manageDefinitions, .readAllowedValue, .readAssignments, .manageAssignments,
    .readAuditLogs, .manageUsers, .manageApplications, .manageRoleAssignments, .readConditionalAccess, .manageConditionalAccess,
    .readProvisioning, .provisionUsers, .readProvisioningLogs, .readAccessRules, .manageAccessRules, .evaluateAccess,
    .readProvisioningMapping, .manageProvisioningMapping,
]

/// Everything that touches custom security attributes: configuration, values and their audit log.
private let attributeCapabilities: [Capability] = [
    .readAttributeSets, .manageAttributeSets, .readDefinitions, .manageDefinitions, .readAllowedValue, .readAssignments, .manageAssignments, .readAuditLogs,
]

private let attributeRoles: [DirectoryRole] = [
    .attributeDefinitionAdministrator, .attributeDefinitionReader, .attributeAssignmentAdministrator, .attributeAssignmentReader, .attributeLogAdministrator,
    .attributeLogReader,
]

/// The role matrix of docs/security.md, written out independently of the code.
private let expectedMatrix: [DirectoryRole: Set<Capability>] = [
    .attributeDefinitionAdministrator: [.readAttributeSets, .manageAttributeSets, .readDefinitions, .manageDefinitions, .readAllowedValue],
    .attributeDefinitionReader: [.readAttributeSets, .readDefinitions, .readAllowedValue],
    .attributeAssignmentAdministrator: [.readAttributeSets, .readDefinitions, .readAssignments, .manageAssignments],
    .attributeAssignmentReader: [.readAttributeSets, .readDefinitions, .readAssignments],
    .attributeLogAdministrator: [.readAuditLogs],
    .attributeLogReader: [.readAuditLogs],
    .attributeProvisioningAdministrator: [
        .readAttributeSets, .readDefinitions, .readProvisioning, .provisionUsers, .readProvisioningLogs, .readProvisioningMapping,
        .manageProvisioningMapping,
    ],
    .attributeProvisioningReader: [.readAttributeSets, .readDefinitions, .readProvisioning, .readProvisioningLogs, .readProvisioningMapping],
    .globalAdministrator: [
        .manageUsers, .manageApplications, .manageRoleAssignments, .readConditionalAccess, .manageConditionalAccess, .readProvisioningLogs,
        .readProvisioningMapping, .manageProvisioningMapping,
    ],
    .privilegedRoleAdministrator: [.manageRoleAssignments],
    .userAdministrator: [.manageUsers],
    .conditionalAccessAdministrator: [.readConditionalAccess, .manageConditionalAccess],
    .securityAdministrator: [.readConditionalAccess, .manageConditionalAccess, .readProvisioningLogs],
    .securityReader: [.readConditionalAccess, .readProvisioningLogs],
    .globalReader: [.readConditionalAccess, .readProvisioningLogs, .readProvisioningMapping],
    .attributeAccessAdministrator: [.readAccessRules, .manageAccessRules],
    .attributeAccessEvaluator: [.readAccessRules, .evaluateAccess],
]

private func member(_ grants: RoleGrant...) -> Caller { Caller(principalId: "member-1", kind: .member, grants: grants) }
private func guest(_ grants: RoleGrant...) -> Caller { Caller(principalId: "guest-1", kind: .guest, grants: grants) }
private func app(_ grants: RoleGrant...) -> Caller { Caller(principalId: "sp-1", kind: .servicePrincipal, grants: grants) }
private func tenant(_ role: DirectoryRole) -> RoleGrant { RoleGrant(role: role, scope: .tenant) }
private func scoped(_ role: DirectoryRole, _ set: String) -> RoleGrant { RoleGrant(role: role, scope: .attributeSet(set)) }

@Suite struct RoleMatrixTests {
    @Test(arguments: DirectoryRole.allCases)
    func capabilitiesMatchTheDocumentedMatrix(_ role: DirectoryRole) {
        #expect(role.capabilities == expectedMatrix[role])
    }

    /// A tenant-wide grant gives exactly the role's capabilities, tenant-wide and in every set.
    @Test(arguments: DirectoryRole.allCases)
    func tenantGrantGivesExactlyTheRolesCapabilities(_ role: DirectoryRole) {
        let expected = expectedMatrix[role] ?? []
        for caller in [member(tenant(role)), app(tenant(role))] {
            for capability in allCapabilities {
                let allowed = expected.contains(capability)
                #expect(AccessPolicy.allows(caller, capability) == allowed, "\(role) \(capability) tenant-wide")
                #expect(AccessPolicy.allows(caller, capability, inSet: "Engineering") == allowed, "\(role) \(capability) in Engineering")
                #expect(AccessPolicy.allowsAnywhere(caller, capability) == allowed, "\(role) \(capability) anywhere")
            }
        }
    }

    @Test func definitionAdministratorCannotReadAssignments() {
        let caller = member(tenant(.attributeDefinitionAdministrator))
        #expect(!AccessPolicy.allows(caller, .readAssignments, inSet: "Engineering"))
        #expect(!AccessPolicy.allows(caller, .manageAssignments, inSet: "Engineering"))
        #expect(AccessPolicy.allows(caller, .manageDefinitions, inSet: "Engineering"))
    }

    @Test func onlyDefinitionRolesReadASingleAllowedValue() {
        #expect(AccessPolicy.allows(member(tenant(.attributeDefinitionReader)), .readAllowedValue, inSet: "Engineering"))
        #expect(AccessPolicy.allows(member(tenant(.attributeDefinitionAdministrator)), .readAllowedValue, inSet: "Engineering"))
        #expect(!AccessPolicy.allows(member(tenant(.attributeAssignmentAdministrator)), .readAllowedValue, inSet: "Engineering"))
        #expect(!AccessPolicy.allows(member(tenant(.attributeAssignmentReader)), .readAllowedValue, inSet: "Engineering"))
    }

    @Test func globalAdministratorHasNoAttributeCapability() {
        let caller = member(tenant(.globalAdministrator))
        for capability in attributeCapabilities {
            #expect(!AccessPolicy.allows(caller, capability), "\(capability)")
            #expect(!AccessPolicy.allows(caller, capability, inSet: "Engineering"), "\(capability)")
            #expect(!AccessPolicy.allowsAnywhere(caller, capability), "\(capability)")
        }
        #expect(AccessPolicy.allows(caller, .manageUsers))
        #expect(AccessPolicy.allows(caller, .manageApplications))
        #expect(AccessPolicy.allows(caller, .manageRoleAssignments))
    }

    @Test func noGrantsMeansNothing() {
        for caller in [member(), app()] {
            for capability in allCapabilities {
                #expect(!AccessPolicy.allows(caller, capability, inSet: "Engineering"), "\(capability)")
                #expect(!AccessPolicy.allowsAnywhere(caller, capability), "\(capability)")
            }
        }
    }

    @Test func grantsAreAdditive() {
        let caller = member(tenant(.attributeDefinitionReader), scoped(.attributeAssignmentAdministrator, "Engineering"), tenant(.userAdministrator))
        #expect(AccessPolicy.allows(caller, .readDefinitions, inSet: "Marketing"))
        #expect(AccessPolicy.allows(caller, .manageAssignments, inSet: "Engineering"))
        #expect(!AccessPolicy.allows(caller, .manageAssignments, inSet: "Marketing"))
        #expect(AccessPolicy.allows(caller, .manageUsers))
        #expect(!AccessPolicy.allows(caller, .manageDefinitions, inSet: "Engineering"))
    }

    @Test func requireThrowsForbidden() throws {
        try AccessPolicy.require(true)
        #expect(throws: GraphError(status: 403, code: .authorizationDenied, message: "Insufficient privileges to complete the operation.")) {
            try AccessPolicy.require(false)
        }
    }

    @Test func directoryReadsAreForMembersAndServicePrincipals() {
        #expect(AccessPolicy.mayReadDirectory(member()))
        #expect(AccessPolicy.mayReadDirectory(app()))
        #expect(!AccessPolicy.mayReadDirectory(guest(tenant(.globalAdministrator))))
        #expect(member().isUser)
        #expect(guest().isUser)
        #expect(!app().isUser)
    }
}

@Suite struct SetScopedGrantTests {
    /// A set-scoped grant gives the role's per-set capabilities in that set only (names compared case-insensitively).
    @Test(arguments: [DirectoryRole.attributeDefinitionAdministrator, .attributeDefinitionReader, .attributeAssignmentAdministrator, .attributeAssignmentReader])
    func setScopedGrantMatchesOnlyItsSet(_ role: DirectoryRole) {
        let caller = member(scoped(role, "Engineering"))
        for capability in expectedMatrix[role] ?? [] where capability != .manageAttributeSets {
            #expect(AccessPolicy.allows(caller, capability, inSet: "Engineering"), "\(role) \(capability)")
            #expect(AccessPolicy.allows(caller, capability, inSet: "engineering"), "\(role) \(capability)")
            #expect(AccessPolicy.allows(caller, capability, inSet: "ENGINEERING"), "\(role) \(capability)")
            #expect(!AccessPolicy.allows(caller, capability, inSet: "Marketing"), "\(role) \(capability)")
            #expect(!AccessPolicy.allows(caller, capability, inSet: "EngineeringTwo"), "\(role) \(capability)")
            #expect(!AccessPolicy.allows(caller, capability), "\(role) \(capability) tenant-wide")
            #expect(AccessPolicy.allowsAnywhere(caller, capability), "\(role) \(capability) anywhere")
        }
    }

    @Test func scopeCasingDoesNotMatter() {
        let caller = member(scoped(.attributeAssignmentReader, "engineering"))
        #expect(AccessPolicy.allows(caller, .readAssignments, inSet: "Engineering"))
        #expect(!AccessPolicy.allows(caller, .manageAssignments, inSet: "Engineering"))
    }

    @Test func setScopedDefinitionAdministratorCannotManageAttributeSets() {
        let caller = member(scoped(.attributeDefinitionAdministrator, "Engineering"))
        #expect(!AccessPolicy.allows(caller, .manageAttributeSets))
        #expect(!AccessPolicy.allows(caller, .manageAttributeSets, inSet: "Engineering"))
        #expect(AccessPolicy.allows(caller, .manageDefinitions, inSet: "Engineering"))
        #expect(AccessPolicy.allows(caller, .readAttributeSets, inSet: "Engineering"))
        #expect(!AccessPolicy.allows(caller, .readAttributeSets, inSet: "Marketing"))
        // Tenant-scoped, the same role may.
        #expect(AccessPolicy.allows(member(tenant(.attributeDefinitionAdministrator)), .manageAttributeSets))
    }

    @Test func setScopedGrantNeverReachesTenantWideActions() {
        let caller = member(scoped(.attributeAssignmentAdministrator, "Engineering"), scoped(.userAdministrator, "Engineering"))
        #expect(!AccessPolicy.allows(caller, .readAssignments))
        #expect(!AccessPolicy.allows(caller, .manageUsers))
        #expect(!AccessPolicy.allows(caller, .manageUsers, inSet: "Engineering"))
    }
}

@Suite struct GuestAccessTests {
    /// Guests never get custom security attribute access, whatever roles they hold (compatibility.md, "Guests").
    @Test(arguments: attributeCapabilities)
    func guestsGetNoAttributeCapabilityEvenWithAGrant(_ capability: Capability) {
        let everything = guest(
            tenant(.attributeDefinitionAdministrator), tenant(.attributeDefinitionReader), tenant(.attributeAssignmentAdministrator), tenant(.attributeAssignmentReader),
            tenant(.attributeLogAdministrator), tenant(.attributeLogReader), scoped(.attributeDefinitionAdministrator, "Engineering"),
            scoped(.attributeAssignmentAdministrator, "Engineering"))
        #expect(!AccessPolicy.allows(everything, capability))
        #expect(!AccessPolicy.allows(everything, capability, inSet: "Engineering"))
        #expect(!AccessPolicy.allowsAnywhere(everything, capability))
    }

    /// The provisioning mapping names custom security attributes: no guest reads or changes it.
    @Test func guestsGetNoProvisioningMappingCapability() {
        let caller = guest(tenant(.attributeProvisioningAdministrator), tenant(.globalAdministrator), tenant(.globalReader))
        for capability: Capability in [.readProvisioningMapping, .manageProvisioningMapping] {
            #expect(!AccessPolicy.allows(caller, capability))
            #expect(!AccessPolicy.allowsAnywhere(caller, capability))
        }
    }

    @Test func theSameGrantsWorkForAMember() {
        let caller = member(tenant(.attributeDefinitionAdministrator), tenant(.attributeAssignmentAdministrator), tenant(.attributeLogReader))
        for capability in attributeCapabilities {
            let expected = [DirectoryRole.attributeDefinitionAdministrator, .attributeAssignmentAdministrator, .attributeLogReader].contains { expectedMatrix[$0]?.contains(capability) == true }
            #expect(AccessPolicy.allows(caller, capability, inSet: "Engineering") == expected, "\(capability)")
        }
    }
}

@Suite struct RoleScopeTests {
    @Test func tenantScope() {
        #expect(RoleScope(directoryScopeId: "/") == .tenant)
        #expect(RoleScope.tenant.directoryScopeId == "/")
    }

    @Test func attributeSetScope() {
        #expect(RoleScope(directoryScopeId: "/attributeSets/Engineering") == .attributeSet("Engineering"))
        #expect(RoleScope(directoryScopeId: "/attributesets/Engineering") == .attributeSet("Engineering"))
        #expect(RoleScope(directoryScopeId: "/ATTRIBUTESETS/engineering") == .attributeSet("engineering"))
        #expect(RoleScope.attributeSet("Engineering").directoryScopeId == "/attributeSets/Engineering")
        #expect(RoleScope(directoryScopeId: RoleScope.attributeSet("Ingeniería").directoryScopeId) == .attributeSet("Ingeniería"))
    }

    @Test(arguments: [
        "", "//", "attributeSets/Engineering", "/attributeSets", "/attributeSets/", "/attributeSets/Engineering/", "/attributeSets/A/B", "/administrativeUnits/123",
        "/Engineering", " /", "/ ",
    ])
    func badScopesAreRefused(_ scope: String) {
        #expect(RoleScope(directoryScopeId: scope) == nil)
    }

    @Test func roleIdsAndNamesMatchEntra() {
        let expected: [(DirectoryRole, String, String)] = [
            (.attributeDefinitionAdministrator, "8424c6f0-a189-499e-bbd0-26c1753c96d4", "Attribute Definition Administrator"),
            (.attributeDefinitionReader, "1d336d2c-4ae8-42ef-9711-b3604ce3fc2c", "Attribute Definition Reader"),
            (.attributeAssignmentAdministrator, "58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d", "Attribute Assignment Administrator"),
            (.attributeAssignmentReader, "ffd52fa5-98dc-465c-991d-fc073eb59f8f", "Attribute Assignment Reader"),
            (.attributeLogAdministrator, "5b784334-f94b-471a-a387-e7219fc49ca2", "Attribute Log Administrator"),
            (.attributeLogReader, "9c99539d-8186-4804-835f-fd51ef9e2dcd", "Attribute Log Reader"),
            (.attributeProvisioningAdministrator, "ecb2c6bf-0ab6-418e-bd87-7986f8d63bbe", "Attribute Provisioning Administrator"),
            (.attributeProvisioningReader, "422218e4-db15-4ef9-bbe0-8afb41546d79", "Attribute Provisioning Reader"),
            (.globalAdministrator, "62e90394-69f5-4237-9190-012177145e10", "Global Administrator"),
            (.privilegedRoleAdministrator, "e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator"),
            (.userAdministrator, "fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
            (.conditionalAccessAdministrator, "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator"),
            (.securityAdministrator, "194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator"),
            (.securityReader, "5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader"),
            (.globalReader, "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"),
            // Sigil's own roles: fixed ids of Sigil's choosing (docs/security.md).
            (.attributeAccessAdministrator, "5a9c1e2b-7d43-4f08-9b6e-3c1d0a8f4e21", "Attribute Access Administrator"),
            (.attributeAccessEvaluator, "c47e0d93-2b18-4a6f-8e5d-91f3b2a6c7d0", "Attribute Access Evaluator"),
        ]
        #expect(expected.count == DirectoryRole.allCases.count)
        for (role, id, name) in expected {
            #expect(role.templateId == id)
            #expect(role.displayName == name)
            #expect(!role.roleDescription.isEmpty)
        }
    }

    @Test func definitionAdministratorResourceActions() {
        #expect(
            DirectoryRole.attributeDefinitionAdministrator.resourceActions == [
                "microsoft.directory/attributeSets/allProperties/allTasks", "microsoft.directory/customSecurityAttributeDefinitions/allProperties/allTasks",
            ])
        #expect(DirectoryRole.attributeLogReader.resourceActions == ["microsoft.directory/customSecurityAttributeAuditLogs/allProperties/read"])
        #expect(!DirectoryRole.globalAdministrator.resourceActions.contains { $0.contains("customSecurityAttribute") })
    }

    @Test func nonAttributeRolesAreTenantScopeOnly() {
        #expect(!DirectoryRole.globalAdministrator.allowsAttributeSetScope)
        #expect(!DirectoryRole.privilegedRoleAdministrator.allowsAttributeSetScope)
        #expect(!DirectoryRole.userAdministrator.allowsAttributeSetScope)
    }

    /// docs/compatibility.md: "scope `/` or `/attributeSets/{name}` for the six attribute roles", and
    /// `allowsAttributeSetScope` documents the same. BUG: the two log roles are refused at set scope.
    @Test(arguments: attributeRoles)
    func theSixAttributeRolesMayBeScopedToASet(_ role: DirectoryRole) {
        #expect(role.allowsAttributeSetScope)
    }
}

@Suite struct ProvisioningLogRoleTests {
    /// `roleDefinitions` lists Entra's provisioning log read action exactly for the roles that read the logs.
    @Test(arguments: DirectoryRole.allCases)
    func theLogReadActionMatchesTheCapability(_ role: DirectoryRole) {
        #expect(
            role.resourceActions.contains("microsoft.directory/provisioningLogs/allProperties/read")
                == role.capabilities.contains(.readProvisioningLogs))
    }
}

@Suite struct ProvisioningMappingRoleTests {
    /// `roleDefinitions` lists Sigil's mapping actions exactly for the roles that read or replace it.
    @Test(arguments: DirectoryRole.allCases)
    func theMappingActionsMatchTheCapabilities(_ role: DirectoryRole) {
        let manages = role.capabilities.contains(.manageProvisioningMapping)
        #expect(role.resourceActions.contains("sigil.provisioning/mapping/allProperties/allTasks") == manages)
        #expect(
            role.resourceActions.contains("sigil.provisioning/mapping/allProperties/read")
                == (!manages && role.capabilities.contains(.readProvisioningMapping)))
    }
}

@Suite struct AccessRuleRoleTests {
    /// Sigil's two access roles: tenant-wide only, and never for guests.
    @Test func accessRolesAreTenantWideAndNotForGuests() {
        for role in [DirectoryRole.attributeAccessAdministrator, .attributeAccessEvaluator] {
            #expect(!role.allowsAttributeSetScope)
            for capability in role.capabilities {
                #expect(AccessPolicy.allows(member(tenant(role)), capability))
                #expect(!AccessPolicy.allows(guest(tenant(role)), capability))
                #expect(!AccessPolicy.allowsAnywhere(guest(tenant(role)), capability))
            }
        }
        #expect(!AccessPolicy.allows(member(tenant(.attributeAccessAdministrator)), .evaluateAccess))
        #expect(!AccessPolicy.allows(member(tenant(.attributeAccessEvaluator)), .manageAccessRules))
    }
}
