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
}
