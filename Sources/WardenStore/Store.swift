import CSQLite
import Synchronization
import WardenCore

/// The store: the embedded SQLite file (the default backend, through the small layer in
/// `SQLite.swift`) or a PostgreSQL database that several nodes share (SPEC §7, through
/// `PostgresPool`). Both run the same statements (`StoreTransaction`) on the same
/// tables and encodings.
///
/// Trusts: its own database file under `state_dir` (created mode 0600 by the umask the
/// daemon sets), or the PostgreSQL database it is pointed at to hold only Warden's
/// tables. Refuses: a database written by a newer schema than it knows (migrations
/// are forward-only, and an unknown applied migration is an error).
///
/// Durability (SQLite): WAL with `synchronous=FULL` on the writer connection, so a transaction
/// that returned is on disk; the spool only moves a file after that. SQLite's automatic checkpoint stays on the writer: a
/// checkpointer on a connection of its own was measured and made the latency tail
/// worse (its fsyncs of the database file compete with the log's; docs/PERFORMANCE.md).
/// PostgreSQL: a transaction that returned is committed with the server's own
/// durability settings.
public final class Store: Sendable {
    /// The database file, or the PostgreSQL URL with any password left out.
    public let path: String
    let backend: Backend
    /// The hot statements, prepared on the writer connection at first use (SQLite).
    let hot = Locked<HotStatements?>(nil)
    /// Write transactions run so far (idle housekeeping watches it).
    let writes = Atomic<Int>(0)

    enum Backend {
        case sqlite(DatabasePool)
        case postgres(PostgresPool)
    }

    public struct Error: Swift.Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The writer connection's page cache, in KiB.
    static let writerCacheKiB = 64 * 1024

    /// Opens (creating and migrating as needed) the SQLite database at `path`.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyTimeout = 10
        configuration.prepareDatabase = { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        backend = .sqlite(pool)
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // SQLite's default page cache (2 MiB) is smaller than what one large spool
            // file dirties: it would spill pages to the log in the middle of the
            // transaction and write them again at commit.
            try db.execute(sql: "PRAGMA cache_size = -\(Self.writerCacheKiB)")
            // Savepoints (one per spool file, one per external module's input) keep
            // their statement journals in memory, not in a temporary file created and
            // deleted every transaction.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        let migrator = Schema.migrator
        try pool.read { db in
            if try migrator.hasBeenSuperseded(db) {
                throw Error(message: "\(path) was written by a newer Warden (unknown schema migrations); refusing to open it")
            }
        }
        try migrator.migrate(pool)
    }

    /// Connects to the PostgreSQL database at `url` as node `node`, applying the schema's
    /// migrations if no node has yet (SPEC §7).
    public init(postgres url: String, node: String) throws {
        path = PostgresPool.redacted(url)
        backend = .postgres(try PostgresPool(url: url, node: node))
    }

    /// A PostgreSQL URL with its password left out, for logs and status.
    public static func redacted(_ url: String) -> String { PostgresPool.redacted(url) }

    /// `sqlite` or `postgres` (`daemon.status` `storage`).
    public var kind: String {
        switch backend {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// This node's name on a shared PostgreSQL database; nil for SQLite.
    public var node: String? {
        if case .postgres(let pg) = backend { return pg.node }
        return nil
    }

    /// A connection listening for the notification that events committed (on a shared
    /// PostgreSQL database); nil for SQLite.
    public func makeEventListener() throws -> PGConnection? {
        guard case .postgres(let pg) = backend else { return nil }
        let c = try PGConnection(url: pg.url, applicationName: "wardend \(pg.node) events", connectTimeout: PostgresPool.connectTimeout)
        try c.listen(StoreTransaction.eventsChannel)
        return c
    }

    /// Whether an error comes from the environment (full disk, read-only or missing
    /// files, a lock held too long, a lost database connection, shutdown) rather than
    /// from the data: such errors pause work and are retried; others quarantine the
    /// input that caused them.
    public static func isEnvironmental(_ error: any Swift.Error) -> Bool {
        if error is CancellationError { return true }
        if let e = error as? PGError { return e.isEnvironmental }
        guard let e = error as? DatabaseError else { return false }
        switch e.resultCode.primary {
        case .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_PERM,
            .SQLITE_NOMEM, .SQLITE_PROTOCOL, .SQLITE_INTERRUPT, .SQLITE_ABORT, .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return true
        default:
            return false
        }
    }

    /// Closes every connection (checkpointing the WAL). The store is unusable after.
    public func close() throws {
        switch backend {
        case .sqlite(let pool):
            try? pool.writeWithoutTransaction { _ in hot.withLock { $0?.finalize(); $0 = nil } }
            try pool.close()
        case .postgres(let pg):
            pg.close()
        }
    }

    /// The writer's `synchronous` setting (2 = FULL); exposed for tests of durability.
    public func synchronousMode() throws -> Int {
        guard case .sqlite(let pool) = backend else { return -1 }
        return try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    public func journalMode() throws -> String {
        guard case .sqlite(let pool) = backend else { return "" }
        return try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// How many write transactions have run (committed or not) since the store opened.
    public var writeCount: Int { writes.load(ordering: .relaxed) }

    /// Frees what the writer's page cache holds (up to 64 MiB after a large ingest). For
    /// when the daemon goes idle after a burst: the next transaction reads its pages
    /// again from the OS's cache. (PostgreSQL's caches are the server's.)
    public func releaseCache() {
        guard case .sqlite(let pool) = backend else { return }
        try? pool.writeWithoutTransaction { db in
            if let connection = db.sqliteConnection { _ = sqlite3_db_release_memory(connection) }
        }
    }

    /// Runs `body` in one write transaction: all of it commits (durably) or none does.
    public func write<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        try await write({ tx in (try body(tx), ()) }, afterCommit: { _ in })
    }

    /// Runs `body` in one write transaction; once it has committed, and before any later
    /// transaction commits, `afterCommit` receives what `body` returned as its effects.
    /// Writers commit one at a time, so effects are released in commit order (events in
    /// `seq` order) however many tasks write concurrently. Nothing is released if the
    /// transaction rolls back. `afterCommit` runs on the writer: it must not block.
    public func write<T: Sendable, E: Sendable>(
        _ body: @escaping @Sendable (StoreTransaction) throws -> (T, E), afterCommit: @escaping @Sendable (E) -> Void
    ) async throws -> T {
        writes.add(1, ordering: .relaxed)
        switch backend {
        case .sqlite(let pool):
            return try await pool.write { db in
                let (value, effects) = try body(StoreTransaction(connection: .sqlite(db, self.hotStatements(db))))
                db.afterNextTransaction(onCommit: { _ in afterCommit(effects) })
                return value
            }
        case .postgres(let pg):
            return try await pg.write({ c in try body(StoreTransaction(connection: .postgres(c, writable: true), node: pg.node)) }, afterCommit: afterCommit)
        }
    }

    /// Records that this node is alive (`nodes.last_seen`, on a shared PostgreSQL
    /// database; nothing on SQLite). Not counted in `writeCount`: a heartbeat is not
    /// work the idle housekeeping should wait out.
    public func touchNode() async throws {
        guard case .postgres(let pg) = backend else { return }
        let node = pg.node
        _ = try await pg.write({ c in (try StoreTransaction(connection: .postgres(c, writable: true), node: node).touchNode(node), ()) }, afterCommit: { _ in })
    }

    /// The hot statements for the writer connection `db` (called on the writer only).
    func hotStatements(_ db: Database) -> HotStatements? {
        guard let connection = db.sqliteConnection else { return nil }
        return hot.withLock { hot in
            if let h = hot, h.connection == connection { return h }
            hot = HotStatements(connection: connection)
            return hot
        }
    }

    /// Runs `body` on a read connection (a consistent snapshot; never waits for the writer).
    public func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        switch backend {
        case .sqlite(let pool): try pool.read { db in try body(StoreTransaction(connection: .sqlite(db, nil))) }
        case .postgres(let pg): try pg.read { c in try body(StoreTransaction(connection: .postgres(c, writable: false), node: pg.node)) }
        }
    }

    /// As `read`, for a body that reads with one SQL statement on SQLite (which is then
    /// a snapshot by itself, and runs without BEGIN and COMMIT): `caseRecord`.
    public func readStatement<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        switch backend {
        case .sqlite(let pool): try pool.readStatement { db in try body(StoreTransaction(connection: .sqlite(db, nil))) }
        case .postgres: try read(body)
        }
    }
}
