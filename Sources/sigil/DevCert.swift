import ArgumentParser
import Crypto
import Foundation
import SwiftASN1
import X509

/// `sigil dev-cert`: a self-signed certificate for 127.0.0.1 and localhost, so clients that insist
/// on https (azure-identity) can talk to a local Sigil. Trust the certificate file in the client.
struct DevCert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-cert",
        abstract: "Write a self-signed TLS certificate and key for 127.0.0.1 and localhost.")

    @Option(help: "Certificate file to write (PEM, mode 0600).") var cert = "./sigil-data/dev-cert.pem"
    @Option(help: "Private key file to write (PEM, mode 0600).") var key = "./sigil-data/dev-key.pem"
    @Option(help: "Days the certificate is valid.") var days = 365
    @Flag(help: "Replace existing files.") var force = false

    func run() async throws {
        for path in [cert, key] where FileManager.default.fileExists(atPath: path) && !force {
            throw ValidationError("\(path) exists; pass --force to replace it.")
        }
        let privateKey = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName("Sigil development certificate")
            OrganizationName("Sigil")
        }
        let now = Date()
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames([
                .dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))),
            ])
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(privateKey.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: .init(privateKey))
        // The default place is the data directory, which holds the signing key: owner only, as serve makes it.
        umask(0o077)
        for path in [cert, key] {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        }
        for (path, pem) in [(cert, try certificate.serializeAsPEM().pemString), (key, privateKey.pemRepresentation)] {
            guard FileManager.default.createFile(atPath: path, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600])
            else { throw ValidationError("Could not write \(path).") }
        }
        print(
            """
            Wrote \(cert) and \(key) (valid \(days) days, for 127.0.0.1, ::1 and localhost).
            Serve with:  sigil serve --tls-cert \(cert) --tls-key \(key)
            Trust it in clients, e.g. SSL_CERT_FILE=\(cert) and REQUESTS_CA_BUNDLE=\(cert) for Python.
            """)
    }
}
