import Foundation
import SigilCore
import SigilStore

extension SigilServices {
    /// What checking an application's client secret found; the token endpoint words each case
    /// as Entra does.
    public enum ClientSecretCheck: Sendable {
        case valid(servicePrincipal: DirectoryObject, appId: String)
        case unknownApplication
        /// No current secret of the application matches.
        case invalidSecret
        case missingServicePrincipal
        case disabled
    }

    /// Checks `secret` against the application `clientId`'s current secrets (a secret may be
    /// used from 5 minutes before its start, for clocks that differ).
    public func checkClientSecret(clientId: String, secret: String, now: Date = Date()) async throws -> ClientSecretCheck {
        guard let application = try await store.application(appId: clientId) else { return .unknownApplication }
        let credentials = try await store.passwordCredentials(applicationId: application.id)
        let valid = credentials.contains {
            $0.startDateTime <= now.addingTimeInterval(300) && $0.endDateTime > now
                && hasher.verifySecret(secret, hash: $0.secretHash)
        }
        guard valid else { return .invalidSecret }
        guard let principal = try await store.servicePrincipal(appId: clientId) else { return .missingServicePrincipal }
        guard principal.accountEnabled else { return .disabled }
        return .valid(servicePrincipal: principal, appId: application.appId ?? clientId)
    }

    /// Whether an application with this client id exists.
    public func applicationExists(clientId: String) async throws -> Bool {
        try await store.application(appId: clientId) != nil
    }
}
