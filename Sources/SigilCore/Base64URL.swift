import Foundation

/// Base64 with the URL-safe alphabet and no padding (RFC 4648, section 5), for skip tokens and
/// console cookies. Mapped byte by byte: Foundation's `replacingOccurrences` was most of the cost
/// of a page's skip token.
public func base64URL(_ data: Data) -> String {
    let encoded = data.base64EncodedData().compactMap { byte -> UInt8? in
        switch byte {
        case UInt8(ascii: "+"): UInt8(ascii: "-")
        case UInt8(ascii: "/"): UInt8(ascii: "_")
        case UInt8(ascii: "="): nil
        default: byte
        }
    }
    return String(decoding: encoded, as: UTF8.self)
}

/// The bytes of base64 in either alphabet, padded or not; nil when `text` is not base64.
public func base64URLDecoded(_ text: String) -> Data? {
    var base64 = text.utf8.map { byte in
        switch byte {
        case UInt8(ascii: "-"): UInt8(ascii: "+")
        case UInt8(ascii: "_"): UInt8(ascii: "/")
        default: byte
        }
    }
    while base64.count % 4 != 0 { base64.append(UInt8(ascii: "=")) }
    return Data(base64Encoded: Data(base64))
}
