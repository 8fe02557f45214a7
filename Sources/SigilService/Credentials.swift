import Crypto
import CryptoExtras
import Foundation
import NIOPosix
import SigilCore

/// Salted hashes for the two kinds of secret Sigil checks. Client secrets are long random
/// strings, so one salted SHA-256 suffices; passwords are chosen by people, so they get
/// PBKDF2-SHA256 with a configurable cost, computed on a thread pool off the event loops.
public struct CredentialHasher: Sendable {
    public let passwordRounds: Int

    public init(passwordRounds: Int = 210_000) {
        self.passwordRounds = passwordRounds
    }

    public static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// How long a client secret lives unless its creator says otherwise (Graph's default: 2 years).
    public static let secretLifetime: TimeInterval = 2 * 365 * 24 * 3600

    /// The stored form of client secret `secret`: a new key id, Entra's 3-character hint and the
    /// salted hash, valid from now until `end`.
    public func credential(for secret: String, displayName: String?, until end: Date) -> PasswordCredential {
        PasswordCredential(
            keyId: SigilServices.newId(), displayName: displayName, hint: String(secret.prefix(3)), startDateTime: Date(),
            endDateTime: end, secretHash: hashSecret(secret))
    }

    public func hashSecret(_ secret: String) -> String {
        let salt = Self.randomBytes(16)
        let digest = SHA256.hash(data: salt + Array(secret.utf8))
        return "sha256$\(Data(salt).base64EncodedString())$\(Data(digest).base64EncodedString())"
    }

    public func verifySecret(_ secret: String, hash: String) -> Bool {
        let parts = hash.split(separator: "$")
        guard parts.count == 3, parts[0] == "sha256", let salt = Data(base64Encoded: String(parts[1])),
            let expected = Data(base64Encoded: String(parts[2]))
        else { return false }
        let digest = SHA256.hash(data: Array(salt) + Array(secret.utf8))
        return constantTimeEqual(Array(digest), Array(expected))
    }

    public func hashPassword(_ password: String) async throws -> String {
        let rounds = passwordRounds
        let salt = Self.randomBytes(16)
        let derived = try await NIOThreadPool.singleton.runIfActive {
            try Self.derive(password, salt: salt, rounds: rounds)
        }
        return "pbkdf2-sha256$\(rounds)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// A well-formed hash no password matches, to spend a real check's time on unknown users.
    package static func dummyHash(rounds: Int) -> String {
        "pbkdf2-sha256$\(rounds)$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    }

    public func verifyPassword(_ password: String, hash: String) async throws -> Bool {
        let parts = hash.split(separator: "$")
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]), rounds > 0,
            let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3]))
        else { return false }
        let derived = try await NIOThreadPool.singleton.runIfActive {
            try Self.derive(password, salt: Array(salt), rounds: rounds)
        }
        return constantTimeEqual(derived, Array(expected))
    }

    package static func derive(_ password: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds)
        return key.withUnsafeBytes { Array($0) }
    }
}

/// Compares without an early exit, so timing does not reveal how much of a secret matched.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in a.indices { difference |= a[i] ^ b[i] }
    return difference == 0
}

/// Generates client secrets in Entra's shape: 40 characters, a `~` after the 3-character hint.
package enum SecretGenerator {
    package static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")

    package static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        func random(_ n: Int, from characters: ArraySlice<Character> = alphabet[...]) -> String {
            String((0..<n).map { _ in characters[characters.startIndex + Int.random(in: 0..<characters.count, using: &generator)] })
        }
        // A letter or digit first: a secret starting with '-' reads as an option on command lines.
        return random(1, from: alphabet[..<62]) + random(2) + "8Q~" + random(34)
    }
}
