import CLibPQ
#if canImport(Glibc)
import Glibc
#endif

/// One connection to PostgreSQL through libpq, for the PostgreSQL backend (SPEC §7):
/// statements with `?` or `$n` parameters, prepared once per connection and cached by
/// their text; rows as the same `Row` and `DatabaseValue` the SQLite layer gives, so
/// the store reads both backends with one set of decoders; LISTEN and notifications.
///
/// libpq rather than an asynchronous client: the store's transactions are synchronous
/// closures run on the writer's own thread, which libpq's blocking calls fit without
/// a bridge; and it adds no TLS library of its own to the binaries (libpq5 is a
/// Debian package the daemon's package then depends on).
///
/// Trusts: the server's answers for the column types it declares. Refuses: text with a
/// NUL byte as a parameter (libpq would cut it there) — an error, never a cut value;
/// a second thread on the same connection (callers serialize: one connection, one
/// user at a time).
public final class PGConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    /// Statement text → its prepared name on this connection (emptied on reset: a new
    /// session has no prepared statements).
    private var prepared: [String: String] = [:]
    public let url: String
    /// A channel to notify just before the current transaction commits (set by a
    /// statement that wants listeners woken; cleared by `transaction`).
    public var notifyOnCommit: String?
    /// Applied to a statement's text before it is prepared (the store's SQL dialect).
    public var rewrite: (@Sendable (String) -> String)?

    /// Connects to `url` (a `postgres://` or `postgresql://` URI, or `key=value`
    /// connection settings), waiting at most `connectTimeout` seconds.
    public init(url: String, applicationName: String = "wardend", connectTimeout: Int = 10) throws(PGError) {
        self.url = url
        // Ours first: libpq reads the arrays in order and the last value of a key wins,
        // so settings in the URL (`connect_timeout=…`, `application_name=…`) override
        // these defaults.
        let keys = ["application_name", "connect_timeout", "dbname"]
        let values = [applicationName, "\(max(connectTimeout, 1))", url]
        handle = withCStrings(keys) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let handle else { throw PGError(.connection, "out of memory connecting to PostgreSQL", sql: nil) }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(handle))
            PQfinish(handle)
            self.handle = nil
            throw PGError(.connection, "cannot connect to PostgreSQL: \(message)", sql: nil)
        }
        // Notices (a NOTICE from CREATE ... IF NOT EXISTS) would go to stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit { close() }

    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        prepared = [:]
    }

    /// Whether the session is up as far as libpq knows (it learns of a lost connection
    /// when a call fails).
    public var isConnected: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// The server process serving this session (`pg_terminate_backend` takes it).
    public var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

    /// The server's version as a number: 150018 for 15.18.
    public var serverVersion: Int32 { handle.map { PQserverVersion($0) } ?? 0 }

    /// Connects again with the same settings (a lost session, a restarted server).
    public func reset() throws(PGError) {
        guard let handle else { throw PGError(.connection, "the connection is closed", sql: nil) }
        prepared = [:]
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PGError(.connection, "cannot reconnect to PostgreSQL: \(Self.trimmed(PQerrorMessage(handle)))", sql: nil)
        }
    }

    // MARK: - Statements

    /// Runs `sql`, which may hold several statements and no parameters (a migration).
    public func execute(script sql: String) throws(PGError) {
        let handle = try connected(sql)
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result, sql)
    }

    /// Runs one statement with its parameters (`?` or `$1`…), prepared on first use.
    @discardableResult
    public func execute(_ sql: String, _ arguments: StatementArguments = []) throws(PGError) -> Int {
        let result = try run(sql, arguments)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// The rows of one statement.
    public func fetchAll(_ sql: String, _ arguments: StatementArguments = []) throws(PGError) -> [Row] {
        try rows(try run(sql, arguments))
    }

    /// The rows of a statement run once and not kept prepared (its text varies per call).
    public func fetchAllUnprepared(_ sql: String, _ arguments: StatementArguments = []) throws(PGError) -> [Row] {
        try rows(try run(sql, arguments, prepare: false))
    }

    private func rows(_ result: OpaquePointer?) throws(PGError) -> [Row] {
        defer { PQclear(result) }
        let columns = (0..<PQnfields(result)).map { String(cString: PQfname(result, $0)) }
        let types = (0..<PQnfields(result)).map { PQftype(result, $0) }
        var rows: [Row] = []
        rows.reserveCapacity(Int(PQntuples(result)))
        for r in 0..<PQntuples(result) {
            var values: [DatabaseValue] = []
            values.reserveCapacity(columns.count)
            for c in 0..<Int32(columns.count) {
                values.append(PQgetisnull(result, r, c) != 0 ? .null : Self.value(PQgetvalue(result, r, c), length: Int(PQgetlength(result, r, c)), type: types[Int(c)]))
            }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }

    public func fetchOne(_ sql: String, _ arguments: StatementArguments = []) throws(PGError) -> Row? {
        try fetchAll(sql, arguments).first
    }

    /// The first column of the first row, converted.
    public func scalar<T: DatabaseValueConvertible>(_ sql: String, _ arguments: StatementArguments = [], as: T.Type = T.self) throws(PGError) -> T? {
        guard let row = try fetchOne(sql, arguments), let value = row.values.first else { return nil }
        return T.fromDatabaseValue(value)
    }

    /// `body` inside BEGIN … COMMIT, then `beforeCommit` (a statement) if given; an
    /// error rolls back (when the session is still up) and is rethrown.
    @discardableResult
    public func transaction<T>(beforeCommit: String? = nil, _ body: () throws -> T) throws -> T {
        notifyOnCommit = nil
        try execute("BEGIN")
        do {
            let value = try body()
            if let beforeCommit { try execute(beforeCommit) }
            if let channel = notifyOnCommit {
                notifyOnCommit = nil
                try execute(script: "NOTIFY " + Self.quoteIdentifier(channel))
            }
            try execute("COMMIT")
            return value
        } catch {
            if isConnected { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    // MARK: - Notifications

    public struct Notification: Sendable, Equatable {
        public var channel: String
        public var payload: String
        public var senderPID: Int32
    }

    /// Subscribes this session to `channel`.
    public func listen(_ channel: String) throws(PGError) {
        try execute(script: "LISTEN " + Self.quoteIdentifier(channel))
    }

    /// The notifications that arrived, waiting up to `timeoutMilliseconds` for the
    /// first one (0: only what is already here). Throws when the session is lost.
    public func notifications(timeoutMilliseconds: Int32) throws(PGError) -> [Notification] {
        let handle = try connected(nil)
        var out = drain(handle)
        if out.isEmpty && timeoutMilliseconds > 0 {
            var fds = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            var ready: Int32
            repeat { ready = poll(&fds, 1, timeoutMilliseconds) } while ready < 0 && errno == EINTR
        }
        guard PQconsumeInput(handle) == 1 else {
            throw PGError(.connection, "PostgreSQL connection lost: \(Self.trimmed(PQerrorMessage(handle)))", sql: nil)
        }
        out += drain(handle)
        return out
    }

    private func drain(_ handle: OpaquePointer) -> [Notification] {
        var out: [Notification] = []
        while let n = PQnotifies(handle) {
            out.append(Notification(channel: String(cString: n.pointee.relname), payload: String(cString: n.pointee.extra), senderPID: n.pointee.be_pid))
            PQfreemem(n)
        }
        return out
    }

    // MARK: - Internals

    private func connected(_ sql: String?) throws(PGError) -> OpaquePointer {
        guard let handle else { throw PGError(.connection, "the connection is closed", sql: sql) }
        return handle
    }

    private func run(_ sql: String, _ arguments: StatementArguments, prepare: Bool = true) throws(PGError) -> OpaquePointer? {
        let handle = try connected(sql)
        var name: String? = nil
        if !prepare {
        } else if let known = prepared[sql] {
            name = known
        } else {
            let made = "w\(prepared.count)"
            let text = Self.numberedPlaceholders(rewrite?(sql) ?? sql)
            let result = PQprepare(handle, made, text, 0, nil)
            defer { PQclear(result) }
            try check(result, sql)
            prepared[sql] = made
            name = made
        }
        var texts: [String?] = []
        texts.reserveCapacity(arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: texts.append(nil)
            case .integer(let i): texts.append("\(i)")
            case .real(let d): texts.append(d.isNaN ? "NaN" : d == .infinity ? "Infinity" : d == -.infinity ? "-Infinity" : "\(d)")
            case .text(let s):
                guard !s.utf8.contains(0) else { throw PGError(.misuse, "a text parameter holds a NUL byte, which PostgreSQL text cannot store", sql: sql) }
                texts.append(s)
            case .blob(let bytes):  // bytea in hex: \x0a1b…
                let hex = Array("0123456789abcdef".utf8)
                var out: [UInt8] = [92, 120]
                out.reserveCapacity(2 + bytes.count * 2)
                for b in bytes { out += [hex[Int(b >> 4)], hex[Int(b & 15)]] }
                texts.append(String(decoding: out, as: UTF8.self))
            }
        }
        let result = withCStrings(texts) { values in
            if let name {
                PQexecPrepared(handle, name, Int32(texts.count), values, nil, nil, 0)
            } else {
                PQexecParams(handle, Self.numberedPlaceholders(rewrite?(sql) ?? sql), Int32(texts.count), nil, values, nil, nil, 0)
            }
        }
        do {
            try check(result, sql)
        } catch {
            PQclear(result)
            throw error
        }
        return result
    }

    private func check(_ result: OpaquePointer?, _ sql: String?) throws(PGError) {
        guard let handle else { throw PGError(.connection, "the connection is closed", sql: sql) }
        guard let result else {
            throw PGError(PQstatus(handle) == CONNECTION_OK ? .misuse : .connection, Self.trimmed(PQerrorMessage(handle)), sql: sql)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            var message = Self.trimmed(PQresultErrorMessage(result))
            if message.isEmpty { message = Self.trimmed(PQerrorMessage(handle)) }
            let lost = PQstatus(handle) != CONNECTION_OK || (state.map(PGError.isConnectionState) ?? false)
            throw PGError(lost ? .connection : .server(sqlState: state ?? "XX000"), message, sql: sql)
        }
    }

    static func value(_ text: UnsafePointer<CChar>?, length: Int, type: Oid) -> DatabaseValue {
        guard let text else { return .null }
        let string = String(cString: text)
        switch type {
        case 16: return .integer(string == "t" ? 1 : 0)  // bool
        case 20, 21, 23, 26: return Int64(string).map(DatabaseValue.integer) ?? .text(string)  // int8, int2, int4, oid
        case 700, 701: return Double(string).map(DatabaseValue.real) ?? .text(string)  // float4, float8
        case 17:  // bytea, hex format: \x0a1b…
            let raw = UnsafeRawBufferPointer(start: text, count: length)
            guard raw.count >= 2, raw[0] == 92, raw[1] == 120, raw.count % 2 == 0 else { return .text(string) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity((raw.count - 2) / 2)
            var i = 2
            while i < raw.count {
                guard let hi = hexDigit(raw[i]), let lo = hexDigit(raw[i + 1]) else { return .text(string) }
                bytes.append(hi << 4 | lo)
                i += 2
            }
            return .blob(bytes)
        default: return .text(string)
        }
    }

    static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }

    /// `sql` with each `?` outside quotes and comments numbered `$1`, `$2`, … (so the
    /// store's statements read the same on both backends); `$n` already there is kept.
    public static func numberedPlaceholders(_ sql: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(sql.utf8.count + 8)
        var n = 0
        var quote: UInt8? = nil  // ' or "
        var lineComment = false
        var blockComment = 0
        let bytes = Array(sql.utf8)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            let next = i + 1 < bytes.count ? bytes[i + 1] : 0
            if lineComment {
                if c == 10 { lineComment = false }
            } else if blockComment > 0 {
                if c == 42 && next == 47 { blockComment -= 1; out += [c, next]; i += 2; continue }
                if c == 47 && next == 42 { blockComment += 1; out += [c, next]; i += 2; continue }
            } else if let q = quote {
                if c == q { quote = nil }  // a doubled quote closes and reopens: same result
            } else if c == 39 || c == 34 {
                quote = c
            } else if c == 45 && next == 45 {
                lineComment = true
            } else if c == 47 && next == 42 {
                blockComment = 1; out += [c, next]; i += 2; continue
            } else if c == 63 {  // ?
                n += 1
                out += Array("$\(n)".utf8)
                i += 1
                continue
            }
            out.append(c)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        var s = Substring(String(cString: message))
        while let last = s.last, last == "\n" || last == " " { s.removeLast() }
        return String(s)
    }
}

/// `strings` as a C array of C strings, nil for nil (libpq's NULL parameter), with a
/// nil after the last.
private func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { $0.flatMap { strdup($0) } }
    defer { for c in copies { free(c) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// A PostgreSQL failure: the connection (lost, refused: try again later), the server's
/// refusal of a statement (with its SQLSTATE), or a misuse on Warden's side.
public struct PGError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case connection
        case server(sqlState: String)
        case misuse
    }

    public var kind: Kind
    public var message: String
    public var sql: String?

    init(_ kind: Kind, _ message: String, sql: String?) {
        self.kind = kind
        self.message = message
        self.sql = sql
    }

    public var sqlState: String? {
        if case .server(let state) = kind { state } else { nil }
    }

    /// The session is gone or the server is going away: class 08 (connection
    /// exception) and 57P01–57P03 (terminated by an administrator, crash shutdown,
    /// cannot connect now).
    public var isConnectionLost: Bool { kind == .connection }

    static func isConnectionState(_ state: String) -> Bool {
        state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }

    public var description: String {
        let state = sqlState.map { " [\($0)]" } ?? ""
        return message + state + (sql.map { " in: \($0)" } ?? "")
    }
}

extension PGError {
    /// Whether the error comes from the environment (the session or server gone, a
    /// serialization failure or deadlock to retry, the server out of disk, memory or
    /// connections, an operator's intervention, an I/O error) rather than from the data.
    public var isEnvironmental: Bool {
        switch kind {
        case .connection: return true
        case .misuse: return false
        case .server(let state):
            return ["08", "40", "53", "57", "58"].contains(where: state.hasPrefix) || state == "55P03"  // lock not available
        }
    }
}
