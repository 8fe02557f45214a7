import PostgresNIO

/// Reads a row's columns in order, each with its concrete type. postgres-nio's
/// `decode((A, B, …).self)` is generic over a parameter pack and is not specialized: it looked up
/// tuple metadata and decoded through witness tables for every row, a sixth of the CPU of a
/// filtered page of 100 users with their values. Used on the paths that read many rows.
struct ColumnReader {
    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) { cells = row.makeIterator() }

    mutating func next<T: PostgresDecodable>(_: T.Type = T.self) throws -> T {
        guard let cell = cells.next() else { throw PostgresStoreError.corrupt("a row has fewer columns than its query selects") }
        return try cell.decode(T.self, context: .default)
    }
}
