import Foundation
import SigilCore
import Testing

/// Ids and request ids are RFC 9562 version 4 UUIDs, written in lower case.
@Suite struct RandomIdTests {
    @Test func idsAreLowerCaseVersion4UUIDsAndDistinct() throws {
        var seen = Set<String>()
        for _ in 0..<1_000 {
            let id = RandomId.uuid()
            #expect(id == id.lowercased())
            let parsed = try #require(UUID(uuidString: id))
            #expect(parsed.uuid.6 >> 4 == 4)  // version
            #expect(parsed.uuid.8 >> 6 == 0b10)  // variant
            seen.insert(id)
        }
        #expect(seen.count == 1_000)
    }

    @Test func timeOrderedIdsAreVersion7WithTheirMillisecondFirst() throws {
        let date = Date(timeIntervalSince1970: 1_765_000_000.5)
        var seen = Set<String>()
        for _ in 0..<1_000 {
            let id = RandomId.timeOrderedUUID(at: date)
            #expect(id == id.lowercased())
            let parsed = try #require(UUID(uuidString: id))
            #expect(parsed.uuid.6 >> 4 == 7)  // version
            #expect(parsed.uuid.8 >> 6 == 0b10)  // variant
            // 1,765,000,000,500 ms is 0x019a_f232_b3f4.
            #expect(id.hasPrefix("019af232-b3f4-7"))
            seen.insert(id)
        }
        #expect(seen.count == 1_000)
        let later = RandomId.timeOrderedUUID(at: date.addingTimeInterval(0.001))
        #expect(seen.allSatisfy { $0 < later })
    }
}
