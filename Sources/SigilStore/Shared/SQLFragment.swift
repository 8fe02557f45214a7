import GRDB
import PostgresNIO

/// A piece of SQL with its bound values, written once for both stores: interpolated values are
/// bound, never spliced; `\(sql:)` splices trusted text and `\(fragment)` nests another piece.
/// It renders to GRDB (`?` placeholders) and to postgres-nio (`$1`, `$2`, …) alike.
struct SQLFragment: Sendable, ExpressibleByStringInterpolation {
    /// One bound value, encoded for each store when it is bound.
    struct Bind: Sendable {
        let sqlite: DatabaseValue
        let postgres: @Sendable (inout PostgresBindings) -> Void

        init<T: DatabaseValueConvertible & PostgresDynamicTypeEncodable & Sendable>(_ value: T?) {
            sqlite = value?.databaseValue ?? .null
            postgres = { bindings in
                if let value { bindings.append(value, context: .default) } else { bindings.appendNull() }
            }
        }
    }

    enum Piece: Sendable {
        case text(String)
        case bind(Bind)
    }

    private(set) var pieces: [Piece]

    init(pieces: [Piece] = []) { self.pieces = pieces }

    init(stringLiteral value: String) { pieces = [.text(value)] }

    init(stringInterpolation: StringInterpolation) { pieces = stringInterpolation.pieces }

    struct StringInterpolation: StringInterpolationProtocol {
        var pieces: [Piece] = []

        init(literalCapacity: Int, interpolationCount: Int) {}

        mutating func appendLiteral(_ literal: String) { pieces.append(.text(literal)) }

        mutating func appendInterpolation<T: DatabaseValueConvertible & PostgresDynamicTypeEncodable & Sendable>(_ value: T?) {
            pieces.append(.bind(Bind(value)))
        }

        mutating func appendInterpolation(_ fragment: SQLFragment) { pieces += fragment.pieces }

        /// Trusted SQL text (column names, operators), spliced as is.
        mutating func appendInterpolation(sql text: String) { pieces.append(.text(text)) }
    }

    static func + (a: SQLFragment, b: SQLFragment) -> SQLFragment { SQLFragment(pieces: a.pieces + b.pieces) }

    /// The text with `?` placeholders and its arguments, for GRDB (and its statement cache).
    var sqlite: (sql: String, arguments: StatementArguments) {
        var sql = ""
        var values: [DatabaseValue] = []
        for piece in pieces {
            switch piece {
            case .text(let text): sql += text
            case .bind(let bind):
                sql += "?"
                values.append(bind.sqlite)
            }
        }
        return (sql, StatementArguments(values))
    }

    /// The same as a GRDB SQL literal.
    var grdb: SQL {
        let (sql, arguments) = sqlite
        return SQL(sql: sql, arguments: arguments)
    }

    /// The text with numbered placeholders and its bindings, for postgres-nio.
    var postgres: PostgresQuery {
        var sql = ""
        var bindings = PostgresBindings()
        for piece in pieces {
            switch piece {
            case .text(let text): sql += text
            case .bind(let bind):
                bind.postgres(&bindings)
                sql += "$\(bindings.count)"
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}

extension Sequence<SQLFragment> {
    func joined(separator: String) -> SQLFragment {
        var pieces: [SQLFragment.Piece] = []
        for (index, fragment) in enumerated() {
            if index > 0 { pieces.append(.text(separator)) }
            pieces += fragment.pieces
        }
        return SQLFragment(pieces: pieces)
    }
}
