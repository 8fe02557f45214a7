import Foundation
import Logging
import SigilCore
import SigilService

/// Writes each log entry as one JSON object on its own line (`--log-format json`), for log
/// collectors: time, level, logger label, message, source location and the metadata (a
/// request's lines carry `request_id`).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        var entry = JSONObject([
            ("time", .string(AuditRecord.timestamp(Date()))), ("level", .string(level.rawValue)),
            ("logger", .string(label)), ("message", .string(message.description)),
        ])
        let merged = metadata.merging(explicit ?? [:]) { _, new in new }
        for key in merged.keys.sorted() {
            if let value = merged[key] { entry.append(key, Self.json(value)) }
        }
        entry.append("source", .string("\(file.split(separator: "/").last ?? ""):\(line)"))
        write(String(decoding: JSONValue.object(entry).serialized(), as: UTF8.self) + "\n")
    }

    static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let value): .string(value.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let members): .object(JSONObject(members.keys.sorted().compactMap { key in members[key].map { (key, json($0)) } }))
        }
    }
}
