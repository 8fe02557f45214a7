import Foundation
import SigilCore

/// A sorted multiset of strings, ordered by UTF-8 bytes (SQLite's BINARY order), kept in chunks so
/// that inserting or removing one value costs O(√n) and counting the values that start with a
/// prefix costs two binary searches plus a sum over chunk sizes. It answers `startsWith` counts
/// over single-valued String attributes exactly, where a per-value count table would have to sum
/// hundreds of thousands of rows.
struct SortedStrings: Sendable {
    static let chunkSize = 512
    private(set) var chunks: [[String]] = []
    private(set) var count = 0

    init(sorted values: [String]) {
        var index = 0
        while index < values.count {
            let end = min(index + Self.chunkSize, values.count)
            chunks.append(Array(values[index..<end]))
            index = end
        }
        count = values.count
    }

    static func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// The values in order, each as a 4-byte little-endian length and its UTF-8 bytes, for keeping
    /// the index across a restart.
    var encoded: [UInt8] {
        var bytes: [UInt8] = []
        for chunk in chunks {
            for value in chunk {
                withUnsafeBytes(of: UInt32(value.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
                bytes.append(contentsOf: value.utf8)
            }
        }
        return bytes
    }

    /// The index `encoded` wrote; nil when the bytes are not such a list.
    init?(encoded bytes: some ContiguousBytes) {
        // A restart reads a million values here (two thirds of the start-up's time to read the
        // kept structures): the list is cut at chunk boundaries and the parts decoded side by side.
        let read = bytes.withUnsafeBytes { raw -> (chunks: [[String]], count: Int)? in
            guard let cuts = Self.cuts(raw) else { return nil }
            var parts = [[[String]]](repeating: [], count: cuts.count - 1)
            parts.withUnsafeMutableBufferPointer { buffer in
                // Each iteration reads its own bytes and writes its own element, and
                // `concurrentPerform` returns only when all have: the pointers outlive no work.
                nonisolated(unsafe) let (raw, parts) = (raw, buffer)
                DispatchQueue.concurrentPerform(iterations: parts.count) { part in
                    parts[part] = Self.chunks(UnsafeRawBufferPointer(rebasing: raw[cuts[part]..<cuts[part + 1]]))
                }
            }
            let chunks = parts.flatMap { $0 }
            return (chunks, chunks.reduce(0) { $0 + $1.count })
        }
        guard let read else { return nil }
        (chunks, count) = read
    }

    /// Where to cut an encoded list into parts for the cores (each starting a chunk), with 0
    /// first and the end last; nil when a length runs past the end.
    private static func cuts(_ raw: UnsafeRawBufferPointer) -> [Int]? {
        let parts = raw.count < 1 << 20 ? 1 : max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        var cuts = [0]
        var index = 0
        var values = 0
        while index < raw.count {
            guard index + 4 <= raw.count else { return nil }
            if values > 0, values % chunkSize == 0, index >= raw.count / parts * cuts.count { cuts.append(index) }
            let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt32.self)))
            index += 4 + length
            guard index <= raw.count else { return nil }
            values += 1
        }
        cuts.append(raw.count)
        return cuts
    }

    /// The values of one part of an encoded list (whose lengths `cuts` checked), in chunks.
    private static func chunks(_ raw: UnsafeRawBufferPointer) -> [[String]] {
        var chunks: [[String]] = []
        var chunk: [String] = []
        chunk.reserveCapacity(chunkSize)
        var index = 0
        while index < raw.count {
            let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt32.self)))
            index += 4
            chunk.append(String(decoding: UnsafeRawBufferPointer(rebasing: raw[index..<index + length]), as: UTF8.self))
            index += length
            if chunk.count == chunkSize {
                chunks.append(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if !chunk.isEmpty { chunks.append(chunk) }
        return chunks
    }

    /// The first chunk whose last element is not before `value` (where `value` would go).
    private func chunkIndex(for value: String) -> Int {
        var low = 0
        var high = chunks.count
        while low < high {
            let mid = (low + high) / 2
            if let last = chunks[mid].last, Self.precedes(last, value) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private static func firstIndex(in chunk: [String], where isPast: (String) -> Bool) -> Int {
        var low = 0
        var high = chunk.count
        while low < high {
            let mid = (low + high) / 2
            if isPast(chunk[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }

    mutating func insert(_ value: String) {
        count += 1
        guard !chunks.isEmpty else {
            chunks = [[value]]
            return
        }
        let c = min(chunkIndex(for: value), chunks.count - 1)
        let i = Self.firstIndex(in: chunks[c]) { !Self.precedes($0, value) }
        chunks[c].insert(value, at: i)
        if chunks[c].count > 2 * Self.chunkSize {
            let tail = Array(chunks[c][Self.chunkSize...])
            chunks[c].removeSubrange(Self.chunkSize...)
            chunks.insert(tail, at: c + 1)
        }
    }

    /// Removes one occurrence; returns false when the value is not there.
    @discardableResult
    mutating func remove(_ value: String) -> Bool {
        let c = chunkIndex(for: value)
        guard c < chunks.count else { return false }
        let i = Self.firstIndex(in: chunks[c]) { !Self.precedes($0, value) }
        guard i < chunks[c].count, chunks[c][i] == value else { return false }
        chunks[c].remove(at: i)
        if chunks[c].isEmpty { chunks.remove(at: c) }
        count -= 1
        return true
    }

    /// How many values start with `prefix` (byte-wise, as SQLite compares).
    func count(prefix: String) -> Int {
        let prefixBytes = Array(prefix.utf8)
        // Values that start with the prefix sit together, right after the values before it.
        let isPastStart: (String) -> Bool = { !Self.precedes($0, prefix) }
        let isPastEnd: (String) -> Bool = { value in
            !Self.precedes(value, prefix) && !value.utf8.starts(with: prefixBytes)
        }
        return position(isPastEnd) - position(isPastStart)
    }

    /// The number of values before the first one for which `isPast` holds (a monotone predicate).
    private func position(_ isPast: (String) -> Bool) -> Int {
        var before = 0
        for chunk in chunks {
            guard let last = chunk.last, !isPast(last) else {
                return before + Self.firstIndex(in: chunk, where: isPast)
            }
            before += chunk.count
        }
        return before
    }
}

/// The prefix indexes of one store, by (object kind, definition), behind a lock. They are built
/// and changed only inside the store's serialized write transactions, so they never miss or
/// double a committed write; a failed commit drops them all (they are rebuilt on next use).
final class PrefixIndexes: Sendable {
    struct Key: Hashable {
        let kind: String
        /// `nameKey` of the definition id.
        let definition: String
    }

    private let indexes = Locked<[Key: SortedStrings]>([:])

    func withIndex<T>(_ key: Key, _ body: (inout SortedStrings) -> T) -> T? {
        indexes.withLock { indexes in
            guard var index = indexes[key] else { return nil }
            // Taken out while changed, so the dictionary does not copy it.
            indexes[key] = nil
            let result = body(&index)
            indexes[key] = index
            return result
        }
    }

    func install(_ index: SortedStrings, for key: Key) {
        indexes.withLock { $0[key] = index }
    }

    func dropAll() {
        indexes.withLock { $0.removeAll() }
    }

    /// Every index, to be saved across a restart.
    func all() -> [(key: Key, index: SortedStrings)] {
        indexes.withLock { $0.map { ($0.key, $0.value) } }
    }

    /// Applies a value change if that index exists; absent indexes are built from the database later.
    func replace(_ key: Key, removing old: [String], adding new: [String]) {
        _ = withIndex(key) { index in
            for value in old { index.remove(value) }
            for value in new { index.insert(value) }
        }
    }
}
