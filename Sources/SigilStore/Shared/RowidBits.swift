import Foundation
import SigilCore

/// A set of object rowids as a bitset. `and`, `or` and `not` of attribute terms become word-wise
/// operations on the terms' sets, read from the value index, instead of a probe of every object:
/// the cost follows the sizes of the terms, not the size of the directory.
struct RowidBits: Sendable {
    private(set) var words: [UInt64]

    /// Room for rowids 0 through `maxRowid`.
    init(maxRowid: Int64) {
        words = Array(repeating: 0, count: Int(max(maxRowid, 0) / 64) + 1)
    }

    /// The set as `bytes` wrote it (the words in little-endian order); nil when they are not
    /// whole words.
    init?(bytes: some ContiguousBytes) {
        let words = bytes.withUnsafeBytes { raw -> [UInt64]? in
            guard !raw.isEmpty, raw.count % 8 == 0 else { return nil }
            return (0..<raw.count / 8).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        }
        guard let words else { return nil }
        self.words = words
    }

    /// The words as little-endian bytes, for keeping the set across a restart.
    var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(words.count * 8)
        for word in words { withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }

    mutating func insert(_ rowid: Int64) {
        let word = Int(rowid >> 6)
        guard rowid >= 0, word < words.count else { return }
        words[word] |= 1 << UInt64(rowid & 63)
    }

    /// Adds the rowids `64 * index` onwards whose bits are set in `word`.
    mutating func formUnion(word: UInt64, at index: Int) {
        guard index >= 0, index < words.count else { return }
        words[index] |= word
    }

    mutating func remove(_ rowid: Int64) {
        let word = Int(rowid >> 6)
        guard rowid >= 0, word < words.count else { return }
        words[word] &= ~(1 << UInt64(rowid & 63))
    }

    var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    var byteCount: Int { words.count * 8 }

    static func bytes(upTo maxRowid: Int64) -> Int { (Int(max(maxRowid, 0) / 64) + 1) * 8 }

    func contains(_ rowid: Int64) -> Bool {
        let word = Int(rowid >> 6)
        guard rowid >= 0, word < words.count else { return false }
        return words[word] & (1 << UInt64(rowid & 63)) != 0
    }

    /// Inserts, making room when `rowid` is past the end (a set kept across writes sees new
    /// objects); returns the bytes added.
    mutating func insertGrowing(_ rowid: Int64) -> Int {
        guard rowid >= 0 else { return 0 }
        let missing = Int(rowid >> 6) + 1 - words.count
        if missing > 0 { words.append(contentsOf: repeatElement(0, count: missing)) }
        insert(rowid)
        return max(missing, 0) * 8
    }

    /// The same set sized for rowids 0 through `maxRowid`, without any rowid above it, so it
    /// combines word by word with sets read in a snapshot whose largest rowid is `maxRowid`.
    func fitted(to maxRowid: Int64) -> RowidBits {
        var fitted = RowidBits(maxRowid: maxRowid)
        let shared = min(words.count, fitted.words.count)
        fitted.words.replaceSubrange(0..<shared, with: words[0..<shared])
        let lastBit = Int(max(maxRowid, 0) & 63)
        if let last = fitted.words.indices.last, lastBit < 63 { fitted.words[last] &= (1 << UInt64(lastBit + 1)) - 1 }
        return fitted
    }

    /// Up to `limit` rowids in the set after `cursor`, in order: a page.
    func rowids(after cursor: Int64, limit: Int) -> [Int64] {
        var found: [Int64] = []
        var index = Int(max(cursor + 1, 0) >> 6)
        guard index < words.count, limit > 0 else { return found }
        // The first word keeps only the bits after the cursor.
        var word = words[index] & (UInt64.max << UInt64(max(cursor + 1, 0) & 63))
        while true {
            while word != 0 {
                found.append(Int64(index) << 6 | Int64(word.trailingZeroBitCount))
                if found.count == limit { return found }
                word &= word - 1
            }
            index += 1
            guard index < words.count else { return found }
            word = words[index]
        }
    }

    /// Combines word by word; both sets were sized from the same largest rowid.
    mutating func combine(_ other: RowidBits, _ operation: (UInt64, UInt64) -> UInt64) {
        for index in words.indices where index < other.words.count {
            words[index] = operation(words[index], other.words[index])
        }
    }
}

/// An `and`/`or`/`not` combination of sets, kept either as the set itself or as its complement
/// (De Morgan), so no set of every object is ever built.
struct RowidTerm {
    var bits: RowidBits
    /// The term stands for every object *not* in `bits`.
    var complemented: Bool

    static func and(_ a: RowidTerm, _ b: RowidTerm) -> RowidTerm {
        combined(a, b, both: { $0 & $1 }, first: { $0 & ~$1 }, second: { ~$0 & $1 }, neither: { $0 | $1 })
    }

    static func or(_ a: RowidTerm, _ b: RowidTerm) -> RowidTerm {
        // a ∨ b = ¬(¬a ∧ ¬b)
        var result = and(a.negated, b.negated)
        result.complemented.toggle()
        return result
    }

    var negated: RowidTerm { RowidTerm(bits: bits, complemented: !complemented) }

    /// The number of objects the term stands for, among `total` objects of its kind.
    func count(among total: Int) -> Int { complemented ? total - bits.count : bits.count }

    /// `a ∧ b` by the four cases of which sides are complements; only `¬a ∧ ¬b` stays a
    /// complement (of `a ∪ b`).
    private static func combined(
        _ a: RowidTerm, _ b: RowidTerm, both: (UInt64, UInt64) -> UInt64, first: (UInt64, UInt64) -> UInt64,
        second: (UInt64, UInt64) -> UInt64, neither: (UInt64, UInt64) -> UInt64
    ) -> RowidTerm {
        var bits = a.bits
        switch (a.complemented, b.complemented) {
        case (false, false): bits.combine(b.bits, both)
        case (false, true): bits.combine(b.bits, first)
        case (true, false): bits.combine(b.bits, second)
        case (true, true): bits.combine(b.bits, neither)
        }
        return RowidTerm(bits: bits, complemented: a.complemented && b.complemented)
    }
}

extension ObjectPredicate {
    /// Whether every term tests a custom security attribute (none an ordinary property).
    var testsOnlyAttributes: Bool {
        switch self {
        case .attribute: true
        case .property: false
        case .not(let inner): inner.testsOnlyAttributes
        case .and(let l, let r), .or(let l, let r): l.testsOnlyAttributes && r.testsOnlyAttributes
        }
    }

    /// Whether terms are joined by `and` or `or` somewhere: one term alone (or its `not`) has
    /// faster ways to its count and page.
    var isCombination: Bool {
        switch self {
        case .and, .or: true
        case .not(let inner): inner.isCombination
        case .attribute, .property: false
        }
    }
}
