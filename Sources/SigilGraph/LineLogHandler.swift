import Foundation
import Logging
import SigilCore
import SigilService

/// Writes each log entry as one line: text by default, or a JSON object (`--log-format json`)
/// for log collectors. A request's lines carry `request_id`.
///
/// Metadata is formatted when a line is written, not when it is set: swift-log's
/// `StreamLogHandler` (the text handler before this one) formatted its whole metadata again on
/// every set, and every request sets `request_id` on its logger though most log nothing.
public struct LineLogHandler: LogHandler {
    public enum Format: Sendable {
        /// `StreamLogHandler`'s layout: `<time> <level> <label>: <key=value …> [<source>] <message>`.
        case text
        /// Time, level, logger label, message, source location and the metadata as members.
        case json
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let format: Format
    let write: @Sendable (String) -> Void

    public init(label: String, format: Format, write: @escaping @Sendable (String) -> Void = LineLogHandler.standardError) {
        self.label = label
        self.format = format
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
        let merged = explicit.map { metadata.merging($0) { _, new in new } } ?? metadata
        switch format {
        case .text:
            write(textLine(level: level, message: message, metadata: merged, source: source))
        case .json:
            write(jsonLine(level: level, message: message, metadata: merged, file: file, line: line))
        }
    }

    func textLine(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata, source: String) -> String {
        let pairs = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let labelPart = label.isEmpty ? "" : " \(label)"
        return "\(Self.localTimestamp()) \(level)\(labelPart):\(pairs.isEmpty ? "" : " " + pairs) [\(source)] \(message)\n"
    }

    func jsonLine(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata, file: String, line: UInt) -> String {
        var entry = JSONObject([
            ("time", .string(AuditRecord.timestamp(Date()))), ("level", .string(level.rawValue)),
            ("logger", .string(label)), ("message", .string(message.description)),
        ])
        for key in metadata.keys.sorted() {
            if let value = metadata[key] { entry.append(key, Self.json(value)) }
        }
        entry.append("source", .string("\(file.split(separator: "/").last ?? ""):\(line)"))
        return String(decoding: JSONValue.object(entry).serialized(), as: UTF8.self) + "\n"
    }

    /// Local time with its offset, as `StreamLogHandler` wrote it.
    static func localTimestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
