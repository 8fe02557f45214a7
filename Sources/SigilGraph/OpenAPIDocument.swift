import Hummingbird
import NIOCore

/// The OpenAPI 3.1 document of Sigil's HTTP API (every route but the web console), served at
/// `GET /openapi.yaml`. It is edited as `Sources/SigilGraph/Resources/openapi.yaml`, which SwiftPM
/// compiles into the binary (`.embedInCode`), so the binary keeps working wherever it is moved.
/// Nothing in it is computed: the served bytes are the file's. `OpenAPITests` checks that its paths
/// and the router's routes agree, both ways.
enum OpenAPIDocument {
    static let bytes: [UInt8] = PackageResources.openapi_yaml
    static let yaml = String(decoding: bytes, as: UTF8.self)

    /// `GET /openapi.yaml`: the document as `application/yaml`, no token needed.
    static func response() -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
