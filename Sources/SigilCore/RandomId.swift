import Foundation

/// Random (version 4) UUIDs in lower case, the form every id and request id takes here.
public enum RandomId {
    /// From the system's generator (`getrandom`): Foundation's `UUID()` on Linux opens and reads
    /// a device file each time, which every request (its request id) and every write (its audit
    /// record) would pay.
    public static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        let words: (UInt64, UInt64) = (generator.next(), generator.next())
        var uuid = unsafeBitCast(words, to: uuid_t.self)
        uuid.6 = uuid.6 & 0x0F | 0x40
        uuid.8 = uuid.8 & 0x3F | 0x80
        return UUID(uuid: uuid).uuidString.lowercased()
    }
}
