import CSQLite
import Dispatch
import Synchronization
import WardenCore

#if canImport(Glibc)
import Glibc
#endif

// A small SQLite layer over the C API: connections, cached statements, rows, typed
// values, a pool of one writer and on-demand readers (WAL), and forward-only
// migrations. It keeps the names of the GRDB API the store was first written against
// (`Row.fetchAll`, `db.cachedStatement`, `DatabaseMigrator`, …) so the store reads the
// same; it exists because GRDB links all of Foundation, whose ICU data alone is 30 MB
// of every static binary.
//
// Trusts: the database file is Warden's own (a value of the wrong type in a column the
// schema declares is a programming error and traps, as GRDB did). Refuses: nothing
// silently: every SQLite error is thrown as a `DatabaseError` with its code, message
// and SQL.

/// A value as SQLite stores it.
public enum DatabaseValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift value that can be bound to a statement and read from a column.
public protocol DatabaseValueConvertible: Sendable {
    var databaseValue: DatabaseValue { get }
    static func fromDatabaseValue(_ value: DatabaseValue) -> Self?
}

extension Int64: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .integer(self) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Int64? {
        switch value {
        case .integer(let i): i
        case .real(let d): Int64(exactly: d)
        default: nil
        }
    }
}

extension Int: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .integer(Int64(self)) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Int? { Int64.fromDatabaseValue(value).flatMap { Int(exactly: $0) } }
}

extension Int32: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .integer(Int64(self)) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Int32? { Int64.fromDatabaseValue(value).flatMap { Int32(exactly: $0) } }
}

extension Bool: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .integer(self ? 1 : 0) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Bool? { Int64.fromDatabaseValue(value).map { $0 != 0 } }
}

extension Double: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .real(self) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Double? {
        switch value {
        case .real(let d): d
        case .integer(let i): Double(i)
        default: nil
        }
    }
}

extension String: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .text(self) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> String? {
        switch value {
        case .text(let s): s
        case .blob(let b): String(validating: b, as: UTF8.self)
        default: nil
        }
    }
}

/// Bytes stored as a blob (SQLite) or bytea (PostgreSQL).
public struct Blob: DatabaseValueConvertible, Equatable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var databaseValue: DatabaseValue { .blob(bytes) }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> Blob? {
        if case .blob(let b) = value { Blob(b) } else { nil }
    }
}

/// SQLite's result code of an error (the primary code is the low byte).
public struct ResultCode: Sendable, Equatable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public var primary: ResultCode { ResultCode(rawValue: rawValue & 0xFF) }
    public var description: String { String(cString: sqlite3_errstr(rawValue)) + " (\(rawValue))" }

    public static let SQLITE_ERROR = ResultCode(rawValue: CSQLite.SQLITE_ERROR)
    public static let SQLITE_INTERNAL = ResultCode(rawValue: CSQLite.SQLITE_INTERNAL)
    public static let SQLITE_PERM = ResultCode(rawValue: CSQLite.SQLITE_PERM)
    public static let SQLITE_ABORT = ResultCode(rawValue: CSQLite.SQLITE_ABORT)
    public static let SQLITE_BUSY = ResultCode(rawValue: CSQLite.SQLITE_BUSY)
    public static let SQLITE_LOCKED = ResultCode(rawValue: CSQLite.SQLITE_LOCKED)
    public static let SQLITE_NOMEM = ResultCode(rawValue: CSQLite.SQLITE_NOMEM)
    public static let SQLITE_READONLY = ResultCode(rawValue: CSQLite.SQLITE_READONLY)
    public static let SQLITE_INTERRUPT = ResultCode(rawValue: CSQLite.SQLITE_INTERRUPT)
    public static let SQLITE_IOERR = ResultCode(rawValue: CSQLite.SQLITE_IOERR)
    public static let SQLITE_CORRUPT = ResultCode(rawValue: CSQLite.SQLITE_CORRUPT)
    public static let SQLITE_FULL = ResultCode(rawValue: CSQLite.SQLITE_FULL)
    public static let SQLITE_CANTOPEN = ResultCode(rawValue: CSQLite.SQLITE_CANTOPEN)
    public static let SQLITE_PROTOCOL = ResultCode(rawValue: CSQLite.SQLITE_PROTOCOL)
    public static let SQLITE_CONSTRAINT = ResultCode(rawValue: CSQLite.SQLITE_CONSTRAINT)
    public static let SQLITE_MISMATCH = ResultCode(rawValue: CSQLite.SQLITE_MISMATCH)
    public static let SQLITE_MISUSE = ResultCode(rawValue: CSQLite.SQLITE_MISUSE)
    public static let SQLITE_NOTADB = ResultCode(rawValue: CSQLite.SQLITE_NOTADB)
}

/// An SQLite error: its code, SQLite's message, and the statement that failed.
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public var resultCode: ResultCode
    public var message: String?
    public var sql: String?

    public init(resultCode: ResultCode, message: String? = nil, sql: String? = nil) {
        self.resultCode = resultCode
        self.message = message
        self.sql = sql
    }

    public var description: String {
        var s = "SQLite error \(resultCode.rawValue)"
        if let message { s += ": \(message)" }
        if let sql { s += " - while executing `\(sql)`" }
        return s
    }
}

/// Arguments of a statement, in parameter order.
public struct StatementArguments: ExpressibleByArrayLiteral, Sendable {
    var values: [DatabaseValue]
    public init(_ values: [any DatabaseValueConvertible]) { self.values = values.map(\.databaseValue) }
    public init(arrayLiteral elements: (any DatabaseValueConvertible)?...) { values = elements.map { $0?.databaseValue ?? .null } }
}

/// One connection. Used by one thread at a time (the pool sees to it: hence
/// `@unchecked Sendable`).
public final class Database: @unchecked Sendable {
    let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    private var commitHooks: [() -> Void] = []

    /// SQLite's process-wide settings (`warden_sqlite3_configure`), made once before the
    /// first connection opens.
    private static let configured: Int32 = warden_sqlite3_configure()

    init(path: String, readOnly: Bool, busyTimeout: Int32) throws(DatabaseError) {
        _ = Self.configured
        var h: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &h, flags, nil)
        guard rc == SQLITE_OK, let h else {
            let message = h.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let h { sqlite3_close_v2(h) }
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: "\(message): \(path)")
        }
        handle = h
        sqlite3_extended_result_codes(h, 1)
        sqlite3_busy_timeout(h, busyTimeout)
    }

    /// The raw connection (for `HotStatements`).
    public var sqliteConnection: OpaquePointer? { handle }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changesCount: Int { Int(sqlite3_changes(handle)) }

    public var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    func error(_ rc: Int32, sql: String?) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(handle)), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements (no results).
    public func execute(sql: String, arguments: StatementArguments = []) throws(DatabaseError) {
        if arguments.values.isEmpty {
            var message: UnsafeMutablePointer<CChar>?
            let rc = sqlite3_exec(handle, sql, nil, nil, &message)
            if rc != SQLITE_OK {
                let text = message.map { String(cString: $0) }
                sqlite3_free(message)
                throw DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(handle)), message: text, sql: sql)
            }
        } else {
            let statement = try makeStatement(sql: sql)
            try statement.execute(arguments: arguments)
        }
    }

    /// A prepared statement for `sql`, kept for the connection's lifetime.
    public func cachedStatement(sql: String) throws(DatabaseError) -> Statement {
        if let s = cache[sql] { return s }
        let s = try makeStatement(sql: sql)
        cache[sql] = s
        return s
    }

    /// A new prepared statement (finalized when released).
    public func makeStatement(sql: String) throws(DatabaseError) -> Statement {
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil)
        guard rc == SQLITE_OK, let s else { throw error(rc, sql: sql) }
        return Statement(database: self, handle: s, sql: sql)
    }

    /// Runs `onCommit` once the current transaction commits (dropped if it rolls back).
    public func afterNextTransaction(onCommit: @escaping (Database) -> Void) {
        commitHooks.append { [unowned self] in onCommit(self) }
    }

    /// Runs `body` in a transaction (`BEGIN IMMEDIATE` for writes, `DEFERRED` for reads):
    /// committed if it returns, rolled back if it throws.
    func inTransaction<T>(immediate: Bool, _ body: (Database) throws -> T) throws -> T {
        commitHooks = []
        // Prepared once per connection (every read is a transaction of its own), not
        // parsed at each one.
        try cachedStatement(sql: immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED").execute()
        let value: T
        do {
            value = try body(self)
            try cachedStatement(sql: "COMMIT").execute()
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { try? cachedStatement(sql: "ROLLBACK").execute() }
            commitHooks = []
            throw error
        }
        let hooks = commitHooks
        commitHooks = []
        for hook in hooks { hook() }
        return value
    }

    func close() {
        for s in cache.values { s.finalize() }
        cache = [:]
        sqlite3_close_v2(handle)
    }
}

/// A column of the current row by position, for readers that know their statement's
/// columns (`StoreTransaction.caseRecord`).
enum Column {
    static func text(_ h: OpaquePointer, _ i: Int32) -> String {
        guard let p = sqlite3_column_text(h, i) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(h, i))), as: UTF8.self)
    }

    static func int64(_ h: OpaquePointer, _ i: Int32) -> Int64 { sqlite3_column_int64(h, i) }

    static func isNull(_ h: OpaquePointer, _ i: Int32) -> Bool { sqlite3_column_type(h, i) == SQLITE_NULL }
    static func isText(_ h: OpaquePointer, _ i: Int32) -> Bool { sqlite3_column_type(h, i) == SQLITE_TEXT }
    static func isInteger(_ h: OpaquePointer, _ i: Int32) -> Bool { sqlite3_column_type(h, i) == SQLITE_INTEGER }
}

/// A prepared statement.
public final class Statement: @unchecked Sendable {
    unowned let database: Database
    private(set) var handle: OpaquePointer?
    public let sql: String
    private var names: [String]?

    init(database: Database, handle: OpaquePointer, sql: String) {
        self.database = database
        self.handle = handle
        self.sql = sql
    }

    deinit { finalize() }

    func finalize() {
        if let handle { sqlite3_finalize(handle) }
        handle = nil
    }

    /// Resets the statement and binds `arguments` (all of them, or an error).
    func bind(_ arguments: StatementArguments) throws(DatabaseError) -> OpaquePointer {
        guard let handle else { throw DatabaseError(resultCode: .SQLITE_ERROR, message: "statement finalized", sql: sql) }
        sqlite3_reset(handle)
        let count = Int(sqlite3_bind_parameter_count(handle))
        guard count == arguments.values.count else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "wrong number of statement arguments: \(arguments.values.count), expected \(count)", sql: sql)
        }
        for (i, value) in arguments.values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(handle, index)
            case .integer(let v): rc = sqlite3_bind_int64(handle, index, v)
            case .real(let v): rc = sqlite3_bind_double(handle, index, v)
            case .text(let s): rc = sqlite3_bind_text(handle, index, s, -1, Self.transient)
            case .blob(let b): rc = b.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), Self.transient) }
            }
            if rc != SQLITE_OK { throw database.error(rc, sql: sql) }
        }
        return handle
    }

    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Runs the statement to completion, ignoring rows.
    public func execute(arguments: StatementArguments = []) throws(DatabaseError) {
        let h = try bind(arguments)
        defer { sqlite3_reset(h) }
        while true {
            let rc = sqlite3_step(h)
            if rc == SQLITE_DONE { return }
            if rc != SQLITE_ROW { throw database.error(rc, sql: sql) }
        }
    }

    /// Every row, each as `transform` reads it.
    func rows<T>(_ arguments: StatementArguments, limit: Int = .max, _ transform: (OpaquePointer) throws -> T) throws -> [T] {
        let h = try bind(arguments)
        defer { sqlite3_reset(h) }
        var out: [T] = []
        while out.count < limit {
            let rc = sqlite3_step(h)
            if rc == SQLITE_DONE { break }
            if rc != SQLITE_ROW { throw database.error(rc, sql: sql) }
            out.append(try transform(h))
        }
        return out
    }

    static func value(_ h: OpaquePointer, _ i: Int32) -> DatabaseValue {
        switch sqlite3_column_type(h, i) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(h, i))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(h, i))
        case SQLITE_TEXT:
            let n = Int(sqlite3_column_bytes(h, i))
            guard let p = sqlite3_column_text(h, i) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(h, i))
            guard let p = sqlite3_column_blob(h, i) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }

    /// The column names, in order: read once per statement (a prepared statement's
    /// columns do not change; cached statements run thousands of times).
    func columnNames(_ h: OpaquePointer) -> [String] {
        // (The count is checked: a statement SQLite prepares again after a schema
        // change may have gained a column.)
        if let names, names.count == Int(sqlite3_column_count(h)) { return names }
        let read = (0..<sqlite3_column_count(h)).map { String(cString: sqlite3_column_name(h, $0)) }
        names = read
        return read
    }
}

/// A stored value Warden cannot read as the type its schema gives the column.
public struct UnreadableValue: Error, Sendable, CustomStringConvertible {
    public var column: String
    /// nil: the result has no such column.
    public var value: DatabaseValue?
    public var type: String
    public var description: String {
        let shown: String
        switch value {
        case nil: return "the database's result has no column \(column)"
        case .null?: shown = "NULL"
        case .integer(let n)?: shown = "\(n)"
        case .real(let d)?: shown = "\(d)"
        case .text(let t)?: shown = "\"\(t.count > 60 ? t.prefix(60) + "…" : Substring(t))\""
        case .blob(let b)?: shown = "a blob of \(b.count) bytes"
        }
        return "the database holds \(shown) in column \(column), where Warden's schema has a \(type)"
    }
}

/// One row of a result: values by column name.
public struct Row {
    let columns: [String]
    let values: [DatabaseValue]

    func index(_ column: String) -> Int? {
        columns.firstIndex(of: column) ?? columns.firstIndex { $0.lowercased() == column.lowercased() }
    }

    /// The value of `column` converted to `T`; an error when the column is missing or its
    /// value is NULL or of another type (a hand-edited or damaged database: the schema
    /// is Warden's own, but SQLite stores any value in any column). Never traps.
    public subscript<T: DatabaseValueConvertible>(_ column: String) -> T {
        get throws(UnreadableValue) {
            guard let i = index(column) else { throw UnreadableValue(column: column, value: nil, type: "\(T.self)") }
            guard let v = T.fromDatabaseValue(values[i]) else { throw UnreadableValue(column: column, value: values[i], type: "\(T.self)") }
            return v
        }
    }

    /// The value of `column` converted to `T`, or nil for NULL (and for a missing column);
    /// an error when the value is of another type.
    public subscript<T: DatabaseValueConvertible>(_ column: String) -> T? {
        get throws(UnreadableValue) {
            guard let i = index(column) else { return nil }
            if case .null = values[i] { return nil }
            guard let v = T.fromDatabaseValue(values[i]) else { throw UnreadableValue(column: column, value: values[i], type: "\(T.self)") }
            return v
        }
    }

    public static func fetchAll(_ statement: Statement, arguments: StatementArguments = []) throws -> [Row] {
        var names: [String]?
        return try statement.rows(arguments) { h in
            let columns = names ?? statement.columnNames(h)
            names = columns
            return Row(columns: columns, values: (0..<Int32(columns.count)).map { Statement.value(h, $0) })
        }
    }

    public static func fetchOne(_ statement: Statement, arguments: StatementArguments = []) throws -> Row? {
        try statement.rows(arguments, limit: 1) { h in
            let columns = statement.columnNames(h)
            return Row(columns: columns, values: (0..<Int32(columns.count)).map { Statement.value(h, $0) })
        }.first
    }

    public static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [Row] {
        try fetchAll(try db.makeStatement(sql: sql), arguments: arguments)
    }
}

extension DatabaseValueConvertible {
    /// The first column of every row (a NULL or unreadable value is an error, as in `Row`).
    public static func fetchAll(_ statement: Statement, arguments: StatementArguments = []) throws -> [Self] {
        try statement.rows(arguments) { h in
            let v = Statement.value(h, 0)
            guard let x = Self.fromDatabaseValue(v) else { throw UnreadableValue(column: Self.firstColumn(statement, h), value: v, type: "\(Self.self)") }
            return x
        }
    }

    static func firstColumn(_ statement: Statement, _ h: OpaquePointer) -> String {
        sqlite3_column_name(h, 0).map { String(cString: $0) } ?? "1 of `\(statement.sql)`"
    }

    /// The first column of the first row; nil without a row or for NULL.
    public static func fetchOne(_ statement: Statement, arguments: StatementArguments = []) throws -> Self? {
        try statement.rows(arguments, limit: 1) { h -> Self? in
            let v = Statement.value(h, 0)
            if case .null = v { return nil }
            guard let x = Self.fromDatabaseValue(v) else { throw UnreadableValue(column: Self.firstColumn(statement, h), value: v, type: "\(Self.self)") }
            return x
        }.first ?? nil
    }

    public static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [Self] {
        try fetchAll(try db.makeStatement(sql: sql), arguments: arguments)
    }

    public static func fetchOne(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> Self? {
        try fetchOne(try db.makeStatement(sql: sql), arguments: arguments)
    }
}

/// How connections are opened.
public struct Configuration: Sendable {
    /// Seconds a statement waits for a lock before `SQLITE_BUSY`.
    public var busyTimeout: Int32 = 10
    /// Run on every new connection (writer and readers), e.g. pragmas.
    public var prepareDatabase: (@Sendable (Database) throws -> Void)?
    /// Idle readers kept open.
    public var maximumIdleReaders = 8
    public init() {}
}

/// One writer connection (transactions one at a time, on a serial queue) and read-only
/// connections opened as needed, in WAL mode: a read is a consistent snapshot and never
/// waits for the writer.
public final class DatabasePool: @unchecked Sendable {
    // @unchecked: `writer` is only touched on `writerQueue`; `idle` under `lock`.
    let path: String
    let configuration: Configuration
    private let writer: Database
    private let writerQueue = DispatchQueue(label: "warden.store.writer")
    private let idle = Locked<[Database]>([])
    private let closed = Atomic<Bool>(false)

    public init(path: String, configuration: Configuration) throws {
        self.path = path
        self.configuration = configuration
        writer = try Database(path: path, readOnly: false, busyTimeout: configuration.busyTimeout * 1000)
        do {
            let mode = try String.fetchOne(writer, sql: "PRAGMA journal_mode = WAL")
            guard mode?.lowercased() == "wal" else {
                throw DatabaseError(resultCode: .SQLITE_ERROR, message: "could not set WAL mode (journal_mode is \(mode ?? "unknown"))")
            }
            try configuration.prepareDatabase?(writer)
        } catch {
            writer.close()
            throw error
        }
    }

    /// What any use of the pool after `close()` throws (the connections are gone; using
    /// one would touch freed memory).
    static let closedError = DatabaseError(resultCode: .SQLITE_MISUSE, message: "the database is closed")

    /// Runs `body` on the writer outside any transaction.
    public func writeWithoutTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        try writerQueue.sync {
            guard !closed.load(ordering: .acquiring) else { throw Self.closedError }
            return try body(writer)
        }
    }

    /// Runs `body` in a write transaction on the writer, after the writes before it.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            writerQueue.async { [self] in
                guard !closed.load(ordering: .acquiring) else { return continuation.resume(throwing: Self.closedError) }
                continuation.resume(with: Result { try writer.inTransaction(immediate: true, body) })
            }
        }
    }

    /// Runs `body` in a read transaction on a reader (a snapshot of the last commit).
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        guard !closed.load(ordering: .acquiring) else { throw Self.closedError }
        let reader = try takeReader()
        defer { giveBack(reader) }
        return try reader.inTransaction(immediate: false, body)
    }

    /// Runs `body` on a reader outside a transaction: for a body that runs one statement
    /// (a statement reads one snapshot by itself), without BEGIN and COMMIT around it.
    public func readStatement<T>(_ body: (Database) throws -> T) throws -> T {
        guard !closed.load(ordering: .acquiring) else { throw Self.closedError }
        let reader = try takeReader()
        defer { giveBack(reader) }
        return try body(reader)
    }

    private func takeReader() throws -> Database {
        if let db = idle.withLock({ $0.popLast() }) { return db }
        let db = try Database(path: path, readOnly: true, busyTimeout: configuration.busyTimeout * 1000)
        do {
            try configuration.prepareDatabase?(db)
        } catch {
            db.close()
            throw error
        }
        return db
    }

    private func giveBack(_ db: Database) {
        let keep = idle.withLock { idle -> Bool in
            guard !closed.load(ordering: .acquiring), idle.count < configuration.maximumIdleReaders else { return false }
            idle.append(db)
            return true
        }
        if !keep { db.close() }
    }

    /// Closes every connection; the pool is unusable after (its methods throw), and a
    /// second close does nothing.
    public func close() throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for db in idle.withLock({ idle -> [Database] in defer { idle = [] }; return idle }) { db.close() }
        writerQueue.sync { writer.close() }
    }
}

/// Forward-only schema migrations, applied in order, each in its own transaction, and
/// recorded by name in `grdb_migrations` (the table GRDB kept, so databases written
/// before keep their history).
public struct DatabaseMigrator: Sendable {
    private var migrations: [(name: String, body: @Sendable (Database) throws -> Void)] = []

    public init() {}

    public mutating func registerMigration(_ name: String, _ body: @escaping @Sendable (Database) throws -> Void) {
        migrations.append((name, body))
    }

    static let table = "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)"

    func applied(_ db: Database) throws -> Set<String> {
        let exists = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'") ?? 0
        guard exists > 0 else { return [] }
        return Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
    }

    /// Whether the database has migrations this program does not know (a newer Warden).
    public func hasBeenSuperseded(_ db: Database) throws -> Bool {
        !(try applied(db).subtracting(migrations.map(\.name))).isEmpty
    }

    /// Applies the migrations not applied yet.
    public func migrate(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: Self.table)
            let done = try applied(db)
            for migration in migrations where !done.contains(migration.name) {
                try db.inTransaction(immediate: true) { db in
                    try migration.body(db)
                    try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [migration.name])
                }
            }
        }
    }
}
