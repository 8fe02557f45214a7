import Foundation
import SigilCore
import SigilStore

/// The tenant's inbound provisioning mapping (`/sigil/v1/provisioning/mapping`): which SCIM
/// attribute matches users in a bulkUpload, and which SCIM attributes go to which custom security
/// attributes.
///
/// Access is decided here, in `require`: Attribute Provisioning Administrator and Reader, Global
/// Reader and Global Administrator read it; Attribute Provisioning Administrator and Global
/// Administrator replace it. A replacement is validated against the schema and audited, in the
/// transaction that writes it (refusals too), as access rules are.
public struct ProvisioningMappingService: Sendable {
    let services: SigilServices
    var store: any DirectoryStore { services.store }

    public init(services: SigilServices) { self.services = services }

    static func require(_ caller: Caller, _ capability: Capability) throws(GraphError) {
        try AccessPolicy.require(AccessPolicy.allows(caller, capability))
    }

    public func mapping(caller: Caller) async throws -> ProvisioningMapping {
        try Self.require(caller, .readProvisioningMapping)
        return try await store.provisioningMapping()
    }

    /// Replaces the mapping with the body's (read after the access check). Bad input changes nothing.
    public func replace(as initiator: Initiator, _ body: () async throws -> JSONValue) async throws -> ProvisioningMapping {
        try await services.recordingRefusal(
            .updateProvisioningMapping, target: AuditTarget.provisioningMapping(), audit: initiator.audit, logger: initiator.logger
        ) {
            try Self.require(initiator.caller, .manageProvisioningMapping)
            let value = try await body()
            return try await store.changeProvisioningMapping { current, schema in
                let next = try ProvisioningMapping.parse(value, schema: schema)
                return (next, [AuditLog.record(mappingBefore: current, after: next, context: initiator.audit)].compactMap { $0 })
            }
        }
    }
}
