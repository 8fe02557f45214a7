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
}
