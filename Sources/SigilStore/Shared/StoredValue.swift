import SigilCore

/// How both SQL stores lay attribute values out: one text or one integer column per value, a
/// key per value in the maintained counts, and byte-order prefix ranges.
enum StoredValue {
    /// The (text, integer) columns of a value; Booleans are 0 and 1.
    static func columns(_ value: AttributeValue) -> (String?, Int64?) {
        switch value {
        case .string(let s): (s, nil)
        case .integer(let i): (nil, Int64(i))
        case .boolean(let b): (nil, b ? 1 : 0)
        }
    }

    /// The key of a value in `attribute_value_counts`.
    static func countKey(_ value: AttributeValue) -> String {
        let (text, int) = columns(value)
        return countKey(text: text, int: int)
    }

    /// The key of a value row with these (text, integer) columns.
    static func countKey(text: String?, int: Int64?) -> String {
        switch (text, int) {
        case (let text?, _): "s:" + text
        case (_, let int?): "i:\(int)"
        default: ""
        }
    }

    /// A value whose columns have this key in the maintained counts (a Boolean's key is its
    /// integer's), or nil for a key no value has.
    static func value(countKey key: String) -> AttributeValue? {
        if key.hasPrefix("s:") { return .string(String(key.dropFirst(2))) }
        if key.hasPrefix("i:"), let int = Int32(key.dropFirst(2)) { return .integer(int) }
        return nil
    }

    /// The most distinct values a `startsWith` count on a single-valued String attribute sums from
    /// the maintained per-value counts (about 2 ms); a prefix spanning more is counted another way.
    static let prefixCountRows = 16_384

    /// Whether a page of objects held by `holders` of `total` is found quickly by walking the
    /// kind's objects in order and probing each (about 50 per row of the page at most), rather
    /// than by reading every holder's rowid into a set first.
    static func pagesByWalking(holders: Int, among total: Int) -> Bool { holders * 50 >= total }

    /// The bounds of the maintained counts' keys of the texts that start with `prefix` (every
    /// text key for the empty prefix): from the prefix's own key (inclusive) to its successor
    /// (exclusive). The key's "s:" can always be stepped, so there is always an upper bound.
    static func prefixKeyRange(_ prefix: String) -> (low: String, high: String) {
        let low = countKey(text: prefix, int: nil)
        return (low, prefixSuccessor(low) ?? "s;")
    }

    /// The smallest string above every string that starts with `prefix`, in code point (and so
    /// UTF-8 byte) order; nil when there is none (empty prefix, or all maximal code points).
    static func prefixSuccessor(_ prefix: String) -> String? {
        var scalars = Array(prefix.unicodeScalars)
        while let last = scalars.popLast() {
            var next = last.value + 1
            if next == 0xD800 { next = 0xE000 }  // skip the surrogate range, which no string holds
            if let scalar = Unicode.Scalar(next) {
                scalars.append(scalar)
                var result = String.UnicodeScalarView()
                result.append(contentsOf: scalars)
                return String(result)
            }
        }
        return nil
    }
}

extension ObjectPredicate {
    /// The top-level `and` terms.
    var conjuncts: [ObjectPredicate] {
        if case .and(let l, let r) = self { return l.conjuncts + r.conjuncts }
        return [self]
    }

    /// An `or` of terms on one attribute (a filter's spellings in every case): the attribute
    /// and each term's match, so a store reads them as one pass over that attribute's values.
    var disjunctionOnOneAttribute: (definition: AttributeDefinition, matches: [AttributeMatch])? {
        switch self {
        case .attribute(let definition, let match): return (definition, [match])
        case .or(let l, let r):
            guard let a = l.disjunctionOnOneAttribute, let b = r.disjunctionOnOneAttribute,
                nameKey(a.definition.id) == nameKey(b.definition.id)
            else { return nil }
            return (a.definition, a.matches + b.matches)
        default: return nil
        }
    }

    /// The distinct count keys of an `or` of equalities on one attribute; nil when some term is
    /// not an equality.
    var equalityCountKeys: (definition: AttributeDefinition, keys: [String])? {
        guard let (definition, matches) = disjunctionOnOneAttribute else { return nil }
        var keys: [String] = []
        for match in matches {
            guard case .equals(let value) = match else { return nil }
            let key = StoredValue.countKey(value)
            if !keys.contains(key) { keys.append(key) }
        }
        return (definition, keys)
    }
}

extension StoredValue {
    /// The exact number of objects holding any of several values of one attribute, from each
    /// value's maintained count, when those counts decide it: an object holds one value of a
    /// single-valued attribute, so the counts add up; an object may hold several values of a
    /// collection, so there they decide only when at most one of the values is held at all (the
    /// usual case for a Conditional Access term, stored in one spelling of its many).
    static func disjointCount(_ counts: [Int], isCollection: Bool) -> Int? {
        let held = counts.filter { $0 > 0 }
        guard !isCollection || held.count <= 1 else { return nil }
        return held.reduce(0, +)
    }
}

extension ComparisonOperator {
    /// The operator in SQL (SQLite and PostgreSQL agree).
    var sql: String {
        switch self {
        case .eq: "="
        case .ne: "<>"
        case .gt: ">"
        case .ge: ">="
        case .lt: "<"
        case .le: "<="
        }
    }
}
