import GRDB
import GRDBSQLite

/// The statements every spool record runs (record insert, order upsert, the related-records
/// probe, the per-file savepoint), prepared once on the writer connection and driven
/// through the SQLite C API: binding values directly instead of boxing them into GRDB's
/// `StatementArguments`, and without looking the SQL up in a statement cache per call.
/// Everything else goes through GRDB.
///
/// Trusts: to be used only inside a write transaction on the writer connection it was
/// prepared on (`Store` hands it to write transactions only). Refuses nothing itself;
/// every SQLite error becomes a `DatabaseError` with the statement's SQL, so callers tell
/// environmental errors from data errors exactly as for GRDB's own.
final class HotStatements: @unchecked Sendable {
    enum Kind: Int, CaseIterable {
        case insertRecord, recordBody, updateRecord, upsertOrder, relatedRecords
        case savepoint, release, rollbackTo

        var sql: String {
            switch self {
            case .insertRecord:
                """
                INSERT INTO records (type, key, body, order_id, complaint_id, event_at, received_at, updated_at, source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(type, key) DO NOTHING
                """
            case .recordBody: "SELECT body FROM records WHERE type = ? AND key = ?"
            case .updateRecord:
                """
                UPDATE records SET body = ?, event_at = ?, updated_at = ?, revision = revision + 1, source = ?
                WHERE type = ? AND key = ?
                """
            case .upsertOrder:
                """
                INSERT INTO orders (order_id, category, module, shop, item, paid_fen, paid_at, ship_by, shipped_at, delivery_service, presale)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(order_id) DO UPDATE SET category = excluded.category, module = excluded.module,
                    shop = excluded.shop, item = excluded.item, paid_fen = excluded.paid_fen, paid_at = excluded.paid_at,
                    ship_by = excluded.ship_by, shipped_at = coalesce(excluded.shipped_at, orders.shipped_at),
                    delivery_service = excluded.delivery_service, presale = excluded.presale
                """
            case .relatedRecords: "SELECT EXISTS (SELECT 1 FROM records WHERE order_id = ? AND type != 'order')"
            case .savepoint: "SAVEPOINT warden_file"
            case .release: "RELEASE SAVEPOINT warden_file"
            case .rollbackTo: "ROLLBACK TO SAVEPOINT warden_file"
            }
        }
    }

    let connection: OpaquePointer
    private var prepared: [OpaquePointer?]

    init(connection: OpaquePointer) {
        self.connection = connection
        prepared = Array(repeating: nil, count: Kind.allCases.count)
    }

    deinit { finalize() }

    /// Finalizes every statement (before the connection closes).
    func finalize() {
        for i in prepared.indices {
            if let s = prepared[i] { sqlite3_finalize(s) }
            prepared[i] = nil
        }
    }

    /// Binds the values, steps the statement once and returns the first column of the row
    /// it produced (if any), then resets it.
    @discardableResult
    func run(_ kind: Kind, _ values: [HotValue]) throws -> HotValue {
        let statement = try self.statement(kind)
        // Every parameter is bound on every call, so old bindings need no clearing.
        defer { sqlite3_reset(statement) }
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .int(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .text(let s) where s.isEmpty:
                // Not through `withUTF8`: an empty buffer may have no address, and SQLite
                // binds a nil pointer as NULL.
                rc = sqlite3_bind_text(statement, index, "", 0, nil)
            case .text(var s):
                rc = s.withUTF8 { utf8 in
                    utf8.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count), sqliteTransient) }
                }
            }
            guard rc == SQLITE_OK else { throw error(rc, kind) }
        }
        switch sqlite3_step(statement) {
        case SQLITE_DONE: return .null
        case SQLITE_ROW:
            switch sqlite3_column_type(statement, 0) {
            case SQLITE_INTEGER: return .int(sqlite3_column_int64(statement, 0))
            case SQLITE_TEXT:
                let count = Int(sqlite3_column_bytes(statement, 0))
                guard let bytes = sqlite3_column_text(statement, 0) else { return .text("") }
                return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
            default: return .null
            }
        case let rc: throw error(rc, kind)
        }
    }

    /// Rows changed by the last statement.
    var changes: Int { Int(sqlite3_changes(connection)) }

    private func statement(_ kind: Kind) throws -> OpaquePointer {
        if let s = prepared[kind.rawValue] { return s }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection, kind.sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc, kind) }
        prepared[kind.rawValue] = statement
        return statement
    }

    private func error(_ rc: Int32, _ kind: Kind) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)), message: String(cString: sqlite3_errmsg(connection)), sql: kind.sql)
    }
}

/// A value bound to or read from a hot statement.
enum HotValue {
    case null
    case int(Int64)
    case text(String)

    init(_ s: String?) { self = s.map(HotValue.text) ?? .null }
    init(_ i: Int64?) { self = i.map(HotValue.int) ?? .null }
    init(_ b: Bool?) { self = b.map { .int($0 ? 1 : 0) } ?? .null }

    var string: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    var int: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }
}

/// SQLite copies the bound bytes (the Swift buffer does not outlive the call).
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
