import SigilCore

/// The rowid sets of broad filter terms (an attribute equal to a value, or starting with a
/// prefix), per object kind, kept in memory beside the database: an `and`/`or`/`not` of such terms
/// becomes word-wise operations on sets already at hand, and a page is the next set bits after the
/// cursor, instead of reading hundreds of thousands of value rows per request.
///
/// Kept in step as `PrefixIndexes` are: a set is built inside a write transaction (no commit can
/// slip between the read and the set going live), every later write changes it in its own
/// transaction, and a failed write drops them all. Only terms held by at least `minimumObjects`
/// objects are kept (below that, reading the rows is as quick), and at most `byteBudget` bytes of
/// sets in all, so memory cannot grow with the number of distinct values: 125 KB per set per
/// million objects.
final class ValueSets: Sendable {
    let minimumObjects: Int
    let byteBudget: Int

    init(minimumObjects: Int = 1024, byteBudget: Int = 64 << 20) {
        self.minimumObjects = minimumObjects
        self.byteBudget = byteBudget
    }

    /// A term's value as UTF-8 bytes: Swift's `String` equality is canonical equivalence, but
    /// the database compares bytes, and so must the keys.
    enum Term: Hashable, Sendable {
        /// `StoredValue.countKey` of the value.
        case equals([UInt8])
        case prefix([UInt8])

        init?(_ match: AttributeMatch) {
            switch match {
            case .equals(let value): self = .equals(Array(StoredValue.countKey(value).utf8))
            case .startsWith(let prefix): self = .prefix(Array(prefix.utf8))
            case .compare: return nil
            }
        }

        /// The term as saved: a tag byte (`=` or `^`), then the value's bytes.
        var encoded: [UInt8] {
            switch self {
            case .equals(let key): [UInt8(ascii: "=")] + key
            case .prefix(let prefix): [UInt8(ascii: "^")] + prefix
            }
        }

        init?(encoded: [UInt8]) {
            switch encoded.first {
            case UInt8(ascii: "=")?: self = .equals(Array(encoded.dropFirst()))
            case UInt8(ascii: "^")?: self = .prefix(Array(encoded.dropFirst()))
            default: return nil
            }
        }

        /// Whether one stored value satisfies the term, exactly as the store's SQL condition does.
        func holds(_ value: AttributeValue) -> Bool {
            let (text, int) = StoredValue.columns(value)
            return holds(text: text, int: int)
        }

        /// Whether a value row with these (text, integer) columns satisfies the term.
        func holds(text: String?, int: Int64?) -> Bool {
            switch self {
            case .equals(let key): return StoredValue.countKey(text: text, int: int).utf8.elementsEqual(key)
            case .prefix(let prefix):
                return text?.utf8.starts(with: prefix) ?? false
            }
        }
    }

    /// Sets are grouped by (kind, definition), so a write visits only its attribute's sets.
    struct Attribute: Hashable, Sendable {
        let kind: String
        let seq: Int64
    }

    /// One object's values of one attribute before and after a write.
    struct Change: Sendable {
        let attribute: Attribute
        let rowid: Int64
        let old: [AttributeValue]
        let new: [AttributeValue]
    }

    private struct State {
        var sets: [Attribute: [Term: RowidBits]] = [:]
        var bytes = 0
    }

    private let state = Locked(State())

    /// A copy of the term's set holding only rowids up to `maxRowid` (the reading snapshot's
    /// largest), or nil when it is not kept.
    func bits(_ attribute: Attribute, _ term: Term, upTo maxRowid: Int64) -> RowidBits? {
        state.withLock { $0.sets[attribute]?[term] }.map { $0.fitted(to: maxRowid) }
    }

    func contains(_ attribute: Attribute, _ term: Term) -> Bool {
        state.withLock { $0.sets[attribute]?[term] != nil }
    }

    /// Whether a set over rowids up to `maxRowid` still fits in the budget.
    func hasRoom(upTo maxRowid: Int64) -> Bool {
        state.withLock { $0.bytes + RowidBits.bytes(upTo: maxRowid) <= byteBudget }
    }

    /// Keeps a set built inside a write transaction; refused (and so read from rows again next
    /// time) when it would go over the budget.
    func install(_ bits: RowidBits, for attribute: Attribute, _ term: Term) {
        state.withLock { state in
            guard state.sets[attribute]?[term] == nil, state.bytes + bits.byteCount <= byteBudget else { return }
            state.sets[attribute, default: [:]][term] = bits
            state.bytes += bits.byteCount
        }
    }

    func dropAll() {
        state.withLock { $0 = State() }
    }

    var isEmpty: Bool { state.withLock { $0.sets.isEmpty } }

    /// Every kept set, to be saved across a restart.
    func all() -> [(attribute: Attribute, term: Term, bits: RowidBits)] {
        state.withLock { state in
            state.sets.flatMap { attribute, terms in terms.map { (attribute, $0.key, $0.value) } }
        }
    }

    /// Applies a write's changes to the sets that exist; absent sets are built from the database later.
    func apply(_ changes: [Change]) {
        guard !changes.isEmpty else { return }
        state.withLock { state in
            guard !state.sets.isEmpty else { return }
            for change in changes {
                guard var terms = state.sets[change.attribute] else { continue }
                // Taken out while changed, so the dictionary does not copy the sets.
                state.sets[change.attribute] = nil
                for term in Array(terms.keys) {
                    let before = change.old.contains(where: term.holds)
                    let after = change.new.contains(where: term.holds)
                    guard before != after, var bits = terms.removeValue(forKey: term) else { continue }
                    if after { state.bytes += bits.insertGrowing(change.rowid) } else { bits.remove(change.rowid) }
                    terms[term] = bits
                }
                state.sets[change.attribute] = terms
            }
        }
    }
}
