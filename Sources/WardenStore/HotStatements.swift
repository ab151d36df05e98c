import CSQLite

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
        case recordBody, updateRecord
        case savepoint, release, rollbackTo

        var sql: String {
            switch self {
            case .recordBody: "SELECT body FROM records WHERE type = ? AND key = ?"
            case .updateRecord:
                """
                UPDATE records SET body = ?, event_at = ?, updated_at = ?, revision = revision + 1, source = ?
                WHERE type = ? AND key = ?
                """
            case .savepoint: "SAVEPOINT warden_file"
            case .release: "RELEASE SAVEPOINT warden_file"
            case .rollbackTo: "ROLLBACK TO SAVEPOINT warden_file"
            }
        }
    }

    /// Statements over one or several rows, by kind and row count (one row for a single
    /// record).
    enum Multi: Hashable {
        case insertRecords(rows: Int)
        case upsertOrders(rows: Int)
        case relatedOrders(rows: Int)
        case storedKeys(rows: Int)

        var sql: String {
            switch self {
            case .storedKeys(let n):
                "SELECT key FROM records WHERE type = ? AND key IN (" + Array(repeating: "?", count: n).joined(separator: ", ") + ")"
            case .relatedOrders(let n):
                "SELECT DISTINCT order_id FROM records INDEXED BY records_order_refs WHERE type != 'order' AND order_id IN ("
                    + Array(repeating: "?", count: n).joined(separator: ", ") + ")"
            case .insertRecords(let n):
                "INSERT INTO records (type, key, body, order_id, complaint_id, event_at, received_at, updated_at, source) VALUES "
                    + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: n).joined(separator: ", ")
                    + " ON CONFLICT(type, key) DO NOTHING RETURNING key"
            case .upsertOrders(let n):
                "INSERT INTO orders (order_id, category, module, shop, item, paid_fen, paid_at, ship_by, shipped_at, delivery_service, presale) VALUES "
                    + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: n).joined(separator: ", ")
                    + """
                     ON CONFLICT(order_id) DO UPDATE SET category = excluded.category, module = excluded.module,
                        shop = excluded.shop, item = excluded.item, paid_fen = excluded.paid_fen, paid_at = excluded.paid_at,
                        ship_by = excluded.ship_by, shipped_at = coalesce(excluded.shipped_at, orders.shipped_at),
                        delivery_service = excluded.delivery_service, presale = excluded.presale
                    """
            }
        }
    }

    let connection: OpaquePointer
    private var arena = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 8)
    private var arenaCapacity = 4096
    private var prepared: [OpaquePointer?]
    private var preparedMulti: [Multi: OpaquePointer] = [:]

    init(connection: OpaquePointer) {
        self.connection = connection
        prepared = Array(repeating: nil, count: Kind.allCases.count)
    }

    deinit {
        finalize()
        arena.deallocate()
    }

    /// Finalizes every statement (before the connection closes).
    func finalize() {
        for i in prepared.indices {
            if let s = prepared[i] { sqlite3_finalize(s) }
            prepared[i] = nil
        }
        for s in preparedMulti.values { sqlite3_finalize(s) }
        preparedMulti = [:]
    }

    /// Binds the values, steps the statement once and returns the first column of the row
    /// it produced (if any), then resets it.
    @discardableResult
    func run(_ kind: Kind, _ values: [HotValue]) throws -> HotValue {
        let statement = try self.statement(kind)
        // Every parameter is bound on every call (checked in `bind`), so old bindings
        // need no clearing.
        defer { finish(statement) }
        if let rc = bind(values, to: statement) { throw error(rc, kind.sql) }
        switch sqlite3_step(statement) {
        case SQLITE_DONE: return .null
        case SQLITE_ROW: return column0(statement)
        case let rc: throw error(rc, kind.sql)
        }
    }

    /// Runs a several-row statement with `values` (every row's, in order) and returns the
    /// first column of each row it produced.
    func run(_ multi: Multi, _ values: [HotValue]) throws -> [HotValue] {
        let statement = try self.statement(multi)
        defer { finish(statement) }
        if let rc = bind(values, to: statement) { throw error(rc, multi.sql) }
        var out: [HotValue] = []
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_DONE: return out
            case SQLITE_ROW: out.append(column0(statement))
            case let rc: throw error(rc, multi.sql)
            }
        }
    }

    /// Binds `values` to the statement's parameters; returns SQLite's error code if one
    /// failed. Text is copied once into `arena` and bound without SQLite copying it again
    /// (`SQLITE_STATIC`): the arena is only rewritten by the next `bind`, and every
    /// statement is stepped and reset before that, with all its parameters bound anew.
    private func bind(_ values: [HotValue], to statement: OpaquePointer) -> Int32? {
        // An unbound parameter would keep a pointer into an older arena.
        precondition(values.count == Int(sqlite3_bind_parameter_count(statement)), "every parameter is bound on every call")
        var needed = 0
        for case .text(let s) in values { needed += s.utf8.count }
        if needed > arenaCapacity {
            arena.deallocate()
            arenaCapacity = max(needed, arenaCapacity * 2)
            arena = UnsafeMutableRawPointer.allocate(byteCount: arenaCapacity, alignment: 8)
        }
        var offset = 0
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .int(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .text(var s):
                let start = arena + offset
                let count = s.withUTF8 { utf8 -> Int in
                    if let base = utf8.baseAddress { start.copyMemory(from: base, byteCount: utf8.count) }
                    return utf8.count
                }
                offset += count
                // A zero length with a non-nil pointer binds an empty string, not NULL.
                rc = sqlite3_bind_text(statement, index, start.assumingMemoryBound(to: CChar.self), Int32(count), nil)
            }
            if rc != SQLITE_OK { return rc }
        }
        return nil
    }

    /// Resets a statement after use, and lets a large arena go (one batch of long
    /// lines should not keep tens of MiB for the life of the store). The reset statement
    /// still points into the old arena, but it is bound anew before it is stepped again.
    private func finish(_ statement: OpaquePointer) {
        sqlite3_reset(statement)
        if arenaCapacity > Self.arenaKept {
            arena.deallocate()
            arenaCapacity = 4096
            arena = UnsafeMutableRawPointer.allocate(byteCount: arenaCapacity, alignment: 8)
        }
    }

    /// The arena kept between calls, in bytes.
    static let arenaKept = 1 << 20

    private func column0(_ statement: OpaquePointer) -> HotValue {
        switch sqlite3_column_type(statement, 0) {
        case SQLITE_INTEGER: return .int(sqlite3_column_int64(statement, 0))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, 0))
            guard let bytes = sqlite3_column_text(statement, 0) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        default: return .null
        }
    }

    private func statement(_ kind: Kind) throws -> OpaquePointer {
        if let s = prepared[kind.rawValue] { return s }
        let statement = try prepare(kind.sql)
        prepared[kind.rawValue] = statement
        return statement
    }

    private func statement(_ multi: Multi) throws -> OpaquePointer {
        if let s = preparedMulti[multi] { return s }
        let statement = try prepare(multi.sql)
        preparedMulti[multi] = statement
        return statement
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc, sql) }
        return statement
    }

    private func error(_ rc: Int32, _ sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
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
}

