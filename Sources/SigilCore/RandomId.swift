import Foundation

/// UUIDs in lower case, the form every id and request id takes here: random ones (version 4),
/// and time-ordered ones (version 7) for records that are only ever appended.
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

    /// A version 7 UUID (RFC 9562): the Unix time in milliseconds in the first 48 bits, then 74
    /// random bits. Ids made later sort after earlier ones (to the millisecond), so an index on
    /// them grows at its end instead of taking a random page per record: with audit record ids
    /// made so, a commit of one PATCH wrote ~16 pages to the log instead of ~18, and a `$batch`
    /// of 20 ~80 instead of ~86.
    public static func timeOrderedUUID(at date: Date) -> String {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1_000)) & 0xFFFF_FFFF_FFFF
        let random: UInt64 = generator.next()
        let high = milliseconds << 16 | 0x7000 | (random & 0x0FFF)
        let low = (generator.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        let uuid = unsafeBitCast((high.bigEndian, low.bigEndian), to: uuid_t.self)
        return UUID(uuid: uuid).uuidString.lowercased()
    }
}
