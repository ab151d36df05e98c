import Dispatch
import Synchronization
import WardenCore

/// The PostgreSQL backend's connections for one node (SPEC §7): a writer, whose
/// transactions run one at a time on a serial queue (as SQLite's writer does, so
/// effects are released in this node's commit order), and readers opened as needed,
/// each read a `REPEATABLE READ READ ONLY` transaction (one snapshot for all its
/// queries). Every session sets `warden.node`, which the count triggers and
/// `events.node` read.
///
/// Trusts: the server to be PostgreSQL 13 or later (`pg_current_xact_id`). Refuses:
/// nothing; a lost connection is an environmental error (`PGError.isEnvironmental`)
/// for the caller to pause and retry on, and the next call connects again.
final class PostgresPool: @unchecked Sendable {
    // @unchecked: `writer` is only touched on `writerQueue`; `idle` under its lock.
    let url: String
    let node: String
    private var writer: PGConnection?
    private let writerQueue = DispatchQueue(label: "warden.store.postgres.writer")
    private let idle = Locked<[PGConnection]>([])
    private let closed = Locked(false)
    static let maximumIdleReaders = 8
    static let connectTimeout = 5

    init(url: String, node: String) throws {
        self.url = url
        self.node = node
        let writer = try connect()
        try PostgresSchema.migrate(writer, node: node)
        _ = try StoreTransaction(connection: .postgres(writer, writable: true), node: node).touchNode(node)
        self.writer = writer
    }

    /// The database's clock in milliseconds since the epoch, as SQL.
    static let nowMilliseconds = "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)"

    /// `url` with the password (of a URI's user info, or a `password=` setting in its
    /// query or in `key=value` form) left out, for logs and `daemon.status`.
    static func redacted(_ url: String) -> String {
        var out = url
        if let scheme = out.firstRange(of: "://") {
            let rest = out[scheme.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
                out = String(out[..<out.index(after: colon)]) + "***" + String(out[at...])
            }
        }
        var result = ""
        var rest = out[...]
        while let r = rest.firstRange(of: "password=") {
            result += rest[..<r.upperBound] + "***"
            rest = rest[r.upperBound...]
            rest = rest[(rest.firstIndex(where: { $0 == "&" || $0 == " " }) ?? rest.endIndex)...]
        }
        return result + rest
    }

    private func connect() throws -> PGConnection {
        // At most 5 s: a connection attempt to a host that does not answer blocks its
        // caller (the spool, the deadline loop, a socket reader), and the watchdog
        // wants each loop to move within 15 s.
        let c = try PGConnection(url: url, applicationName: "wardend \(node)", connectTimeout: Self.connectTimeout)
        c.rewrite = PostgresDialect.rewrite
        try PostgresSchema.setNode(c, node: node)
        return c
    }

    /// Runs `body` in a write transaction on the writer, after the writes before it;
    /// `afterCommit` gets its effects once it committed, still on the writer's queue.
    func write<T: Sendable, E: Sendable>(
        _ body: @escaping @Sendable (PGConnection) throws -> (T, E), afterCommit: @escaping @Sendable (E) -> Void
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            writerQueue.async { [self] in
                continuation.resume(with: Result {
                    let c = try writerConnection()
                    do {
                        let (value, effects) = try c.transaction(beforeCommit: PostgresSchema.flushCounts) { try body(c) }
                        afterCommit(effects)
                        return value
                    } catch let error as PGError where error.kind == .connection {
                        c.close()
                        writer = nil
                        throw error
                    }
                })
            }
        }
    }

    /// The writer, connected again if the last one was lost (on `writerQueue`).
    private func writerConnection() throws -> PGConnection {
        if let writer, writer.isConnected { return writer }
        writer?.close()
        writer = nil
        guard !closed.value else { throw PGError(.connection, "the store is closed", sql: nil) }
        let c = try connect()
        writer = c
        return c
    }

    /// Runs `body` in a read-only snapshot on a reader.
    func read<T>(_ body: (PGConnection) throws -> T) throws -> T {
        let reader = try takeReader()
        do {
            try reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let value = try body(reader)
            try reader.execute("COMMIT")
            giveBack(reader)
            return value
        } catch {
            if reader.isConnected, (try? reader.execute("ROLLBACK")) != nil {
                giveBack(reader)
            } else {
                reader.close()
            }
            throw error
        }
    }

    private func takeReader() throws -> PGConnection {
        while let c = idle.withLock({ $0.popLast() }) {
            if c.isConnected { return c }
            c.close()
        }
        guard !closed.value else { throw PGError(.connection, "the store is closed", sql: nil) }
        return try connect()
    }

    private func giveBack(_ c: PGConnection) {
        let keep = idle.withLock { idle -> Bool in
            guard !closed.value, idle.count < Self.maximumIdleReaders else { return false }
            idle.append(c)
            return true
        }
        if !keep { c.close() }
    }

    /// Closes every connection; the pool is unusable after.
    func close() {
        closed.value = true
        for c in idle.withLock({ idle -> [PGConnection] in defer { idle = [] }; return idle }) { c.close() }
        writerQueue.sync {
            writer?.close()
            writer = nil
        }
    }
}
