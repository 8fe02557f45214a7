import Testing

@testable import SigilStore

/// The set algebra behind counts of combined filters: every and/or/not of two sets, each side
/// either a set or a complement, against the same combination of plain Swift sets.
@Suite struct RowidBitsTests {
    static let universe = Set<Int64>(0...200)

    static func term(_ members: Set<Int64>, complemented: Bool) -> RowidTerm {
        var bits = RowidBits(maxRowid: 200)
        for rowid in members { bits.insert(rowid) }
        return RowidTerm(bits: bits, complemented: complemented)
    }

    /// The members a term stands for, within the universe.
    static func members(_ term: RowidTerm) -> Set<Int64> {
        let inBits = universe.filter { rowid in
            term.bits.words[Int(rowid >> 6)] & (1 << UInt64(rowid & 63)) != 0
        }
        return term.complemented ? universe.subtracting(inBits) : inBits
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func andOrNotMatchSetAlgebra(_ sides: (Bool, Bool)) {
        let a: Set<Int64> = Set(stride(from: 0, through: 200, by: 3))
        let b: Set<Int64> = Set(stride(from: 0, through: 200, by: 5)).union([64, 127, 128, 199])
        let left = Self.term(a, complemented: sides.0)
        let right = Self.term(b, complemented: sides.1)
        let (x, y) = (Self.members(left), Self.members(right))
        #expect(Self.members(RowidTerm.and(left, right)) == x.intersection(y))
        #expect(Self.members(RowidTerm.or(left, right)) == x.union(y))
        #expect(Self.members(left.negated) == Self.universe.subtracting(x))
    }

    @Test func insertRemoveAndCount() {
        var bits = RowidBits(maxRowid: 130)
        for rowid: Int64 in [0, 63, 64, 130, 192, -1] { bits.insert(rowid) }
        #expect(bits.count == 4, "negative rowids and rowids past the last word are ignored")
        bits.remove(64)
        bits.remove(64)
        #expect(bits.count == 3)
    }

    @Test func pagesAreTheNextSetBitsAfterTheCursor() {
        var bits = RowidBits(maxRowid: 300)
        let members: [Int64] = [0, 1, 63, 64, 65, 127, 128, 200, 255, 256, 300]
        for rowid in members { bits.insert(rowid) }
        for cursor: Int64 in [-1, 0, 62, 63, 64, 127, 254, 255, 299, 300, 1000] {
            for limit in [1, 3, 100] {
                let expected = Array(members.filter { $0 > cursor }.prefix(limit))
                #expect(bits.rowids(after: cursor, limit: limit) == expected, "after \(cursor), limit \(limit)")
            }
        }
    }

    @Test func aKeptSetGrowsAndFitsASnapshot() {
        var bits = RowidBits(maxRowid: 10)
        #expect(bits.insertGrowing(700) == 80, "grown from 1 word to 11")
        #expect(bits.contains(700) && !bits.contains(699))
        bits.insert(5)
        // A snapshot whose largest rowid is 640 sees neither 700 nor anything above 640.
        var fitted = bits.fitted(to: 640)
        #expect(fitted.count == 1 && fitted.contains(5))
        fitted.insert(640)
        #expect(fitted.contains(640) && fitted.byteCount == RowidBits.bytes(upTo: 640))
        #expect(bits.fitted(to: 700).count == 2)
        #expect(bits.fitted(to: 699).count == 1, "a rowid above the snapshot's largest in the same word is masked out")
    }

    /// The log window of PostgreSQL's kept sets: what continues it is appended, a later range
    /// with a gap replaces it, an older one changes nothing, and only the latest entries stay.
    @Test func recentLogKeepsOneContiguousWindow() {
        var log = LoggedValueSets.RecentLog()
        log.record(after: 10, [101, 102, 103], limit: 5)
        #expect(log.rowids(after: 10, through: 13) == [101, 102, 103])
        #expect(log.rowids(after: 11, through: 12) == [102])
        #expect(log.rowids(after: 9, through: 12) == nil)  // entry 10 was never read
        log.record(after: 12, [103, 104, nil], limit: 5)  // overlaps, continues
        #expect(log.rowids(after: 10, through: 14) == [101, 102, 103, 104])
        #expect(log.rowids(after: 13, through: 15) == nil)  // entry 15 has no rowid
        log.record(after: 15, [106, 107], limit: 5)  // past the limit: the oldest go
        #expect(log.rowids(after: 10, through: 12) == nil)
        #expect(log.rowids(after: 12, through: 14) == [103, 104])
        log.record(after: 2, [1, 2], limit: 5)  // older and apart: ignored
        #expect(log.rowids(after: 15, through: 17) == [106, 107])
        log.record(after: 30, [131], limit: 5)  // a gap: replaces
        #expect(log.rowids(after: 15, through: 17) == nil)
        #expect(log.rowids(after: 30, through: 31) == [131])
        #expect(log.rowids(after: 31, through: 31) == [])
    }
}
