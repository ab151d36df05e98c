/// The connection one store transaction runs on, whichever the backend: the store's
/// statements are written once, in the SQL both SQLite and PostgreSQL read (`?`
/// parameters, `ON CONFLICT`, `RETURNING`, row values, `CAST(… AS BIGINT)`), and
/// `PostgresDialect` rewrites the two SQLite-only spellings the hot paths use.
///
/// Trusts: the SQL it is given (the store's own constants and the values' placeholders).
/// Refuses: nothing itself; each backend's errors pass through unchanged, so
/// `Store.isEnvironmental` classifies them.
enum StoreConnection {
    case sqlite(Database, HotStatements?)
    case postgres(PGConnection, writable: Bool)

    /// Runs a statement; returns the rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: StatementArguments) throws -> Int {
        switch self {
        case .sqlite(let db, _):
            try db.cachedStatement(sql: sql).execute(arguments: arguments)
            return db.changesCount
        case .postgres(let pg, _):
            return try pg.execute(sql, arguments)
        }
    }

    func fetchAll(_ sql: String, _ arguments: StatementArguments) throws -> [Row] {
        switch self {
        case .sqlite(let db, _): try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
        case .postgres(let pg, _): try pg.fetchAll(sql, arguments)
        }
    }

    /// Runs a statement built for one call (its text varies with the call's filters or
    /// list lengths), so it is not kept prepared on SQLite.
    func fetchAllOnce(_ sql: String, _ arguments: StatementArguments) throws -> [Row] {
        switch self {
        case .sqlite(let db, _): try Row.fetchAll(db, sql: sql, arguments: arguments)
        case .postgres(let pg, _): try pg.fetchAllUnprepared(sql, arguments)
        }
    }

    /// Runs one of the hot statements; the first column of its first row.
    @discardableResult
    func run(_ kind: HotStatements.Kind, _ values: [HotValue]) throws -> HotValue {
        switch self {
        case .sqlite(_, let hot):
            guard let hot else { throw DatabaseError(resultCode: .SQLITE_READONLY, message: "a write outside a write transaction") }
            return try hot.run(kind, values)
        case .postgres(let pg, let writable):
            return try Self.firstColumns(pg, writable: writable, kind.sql, values).first ?? .null
        }
    }

    /// Runs a several-row hot statement; the first column of every row.
    func run(_ multi: HotStatements.Multi, _ values: [HotValue]) throws -> [HotValue] {
        switch self {
        case .sqlite(_, let hot):
            guard let hot else { throw DatabaseError(resultCode: .SQLITE_READONLY, message: "a write outside a write transaction") }
            return try hot.run(multi, values)
        case .postgres(let pg, let writable):
            return try Self.firstColumns(pg, writable: writable, multi.sql, values)
        }
    }

    /// A hot statement on PostgreSQL (prepared like any other): the first column of
    /// every row.
    private static func firstColumns(_ pg: PGConnection, writable: Bool, _ sql: String, _ values: [HotValue]) throws -> [HotValue] {
        guard writable else { throw PGError(.misuse, "a write outside a write transaction", sql: sql) }
        return try pg.fetchAll(sql, StatementArguments(values: values.map(\.databaseValue))).map { HotValue($0.values.first) }
    }

    /// Runs an `INSERT` of one row into a table whose integer primary key is
    /// `insert.key`; the new row's key, nil when it inserted nothing (`ON CONFLICT DO
    /// NOTHING`). PostgreSQL reads the key with `RETURNING`; SQLite runs the statement
    /// without it and reads the last inserted rowid, because SQLite's `RETURNING`
    /// buffers its rows in a temporary table, opened and freed per row, which was most
    /// of an event's insert in a burst of expiries (`docs/PERFORMANCE.md`).
    func insert(_ insert: KeyedInsert, _ arguments: StatementArguments) throws -> Int64? {
        switch self {
        case .sqlite(let db, _):
            try db.cachedStatement(sql: insert.sql).execute(arguments: arguments)
            return db.changesCount > 0 ? db.lastInsertedRowID : nil
        case .postgres(let pg, _):
            guard let row = try pg.fetchAll(insert.returningSQL, arguments).first, case .integer(let key) = row.values.first else { return nil }
            return key
        }
    }

    var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }
}

/// The store's SQL as PostgreSQL reads it: SQLite's `INDEXED BY name` (a planner hint
/// PostgreSQL has no syntax for) is dropped, and `instr(` is `strpos(` (same arguments,
/// same result). Applied once per statement text, when it is prepared.
public enum PostgresDialect {
    public static func rewrite(_ sql: String) -> String {
        var out = sql
        while let r = out.firstRange(of: " INDEXED BY ") {
            var end = r.upperBound
            while end < out.endIndex, out[end].isLetter || out[end].isNumber || out[end] == "_" { end = out.index(after: end) }
            out.replaceSubrange(r.lowerBound..<end, with: "")
        }
        return out.replacing("instr(", with: "strpos(")
    }
}

extension HotValue {
    init(_ value: DatabaseValue?) {
        switch value {
        case .integer(let i): self = .int(i)
        case .text(let s): self = .text(s)
        default: self = .null
        }
    }

    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .int(let i): .integer(i)
        case .text(let s): .text(s)
        }
    }
}

extension StatementArguments {
    init(values: [DatabaseValue]) {
        self = []
        self.values = values
    }
}

/// A one-row `INSERT` whose new integer primary key (SQLite's rowid) the caller
/// wants back: `StoreConnection.insert`.
struct KeyedInsert: Sendable {
    let sql: String
    let returningSQL: String

    init(_ sql: String, key: String) {
        self.sql = sql
        self.returningSQL = sql + " RETURNING " + key
    }
}

/// A statement of the store's SQL bound to a transaction's connection (prepared once
/// per connection by each backend).
struct PortableStatement {
    let sql: String
    let connection: StoreConnection

    /// Runs it; returns the rows it changed.
    @discardableResult
    func execute(arguments: StatementArguments = []) throws -> Int {
        try connection.execute(sql, arguments)
    }
}

extension Row {
    static func fetchAll(_ statement: PortableStatement, arguments: StatementArguments = []) throws -> [Row] {
        switch statement.connection {
        case .sqlite(let db, _): try fetchAll(db.cachedStatement(sql: statement.sql), arguments: arguments)
        case .postgres(let pg, _): try pg.fetchAll(statement.sql, arguments)
        }
    }

    static func fetchOne(_ statement: PortableStatement, arguments: StatementArguments = []) throws -> Row? {
        switch statement.connection {
        case .sqlite(let db, _): try fetchOne(db.cachedStatement(sql: statement.sql), arguments: arguments)
        case .postgres(let pg, _): try pg.fetchAll(statement.sql, arguments).first
        }
    }
}

extension DatabaseValueConvertible {
    /// The first column of every row, converted.
    static func fetchAll(_ statement: PortableStatement, arguments: StatementArguments = []) throws -> [Self] {
        switch statement.connection {
        case .sqlite(let db, _): return try fetchAll(db.cachedStatement(sql: statement.sql), arguments: arguments)
        case .postgres(let pg, _): return try pg.fetchAll(statement.sql, arguments).map { row throws(PGError) in try convert(row, statement.sql) }
        }
    }

    /// The first column of the first row; nil without a row or for NULL.
    static func fetchOne(_ statement: PortableStatement, arguments: StatementArguments = []) throws -> Self? {
        switch statement.connection {
        case .sqlite(let db, _): return try fetchOne(db.cachedStatement(sql: statement.sql), arguments: arguments)
        case .postgres(let pg, _):
            guard let row = try pg.fetchAll(statement.sql, arguments).first, row.values.first != .null else { return nil }
            return try convert(row, statement.sql)
        }
    }

    private static func convert(_ row: Row, _ sql: String) throws(PGError) -> Self {
        guard let value = row.values.first, let x = Self.fromDatabaseValue(value) else {
            throw PGError(.misuse, "cannot read \(row.values.first.map { "\($0)" } ?? "no column") as \(Self.self)", sql: sql)
        }
        return x
    }
}
