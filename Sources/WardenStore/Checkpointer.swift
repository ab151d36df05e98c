import Foundation
import GRDB
import GRDBSQLite

/// Copies the write-ahead log back into the database file on a connection and thread of
/// its own, so the writer never pays for it: SQLite's automatic checkpoint runs on the
/// committing connection and, with `synchronous=FULL`, adds a copy and an fsync of the
/// database file to whichever commit crosses the threshold (a latency spike for the
/// spool files waiting on it).
///
/// A WAL hook on the writer wakes the checkpointer once the log holds `threshold` pages;
/// it runs a PASSIVE checkpoint (never blocks the writer or readers). If the log still
/// grows past `inlineLimit` pages (the checkpointer cannot keep up, or is stopped) the
/// writer checkpoints itself, as SQLite would, so the log stays bounded.
///
/// Trusts: the database path it is given (already opened and migrated by `Store`).
/// Refuses nothing; a failed checkpoint is retried at the next wake-up.
final class Checkpointer: @unchecked Sendable {
    static let threshold: Int32 = 1000
    static let inlineLimit: Int32 = 20_000

    private let path: String
    private let condition = NSCondition()
    private var wanted = false
    private var stopping = false
    private var running = false
    private var hooked = false

    init(path: String) {
        self.path = path
    }

    /// Starts the thread and installs the WAL hook on the writer connection `db`.
    func start(writer db: Database) {
        condition.lock()
        running = true
        condition.unlock()
        let thread = Thread { [self] in run() }
        thread.name = "warden-checkpoint"
        thread.start()
        // Retained by the hook until `stop(writer:)` removes it, so a writer that outlives
        // the store never calls into a freed object.
        let context = Unmanaged.passRetained(self).toOpaque()
        sqlite3_wal_hook(db.sqliteConnection, { context, connection, _, pages in
            let checkpointer = Unmanaged<Checkpointer>.fromOpaque(context!).takeUnretainedValue()
            if pages >= Checkpointer.inlineLimit {
                sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            } else if pages >= Checkpointer.threshold {
                checkpointer.wake()
            }
            return SQLITE_OK
        }, context)
        hooked = true
    }

    /// Removes the hook (on the writer) and stops the thread; the caller closes the pool,
    /// which checkpoints what is left.
    func stop(writer db: Database) {
        if hooked {
            sqlite3_wal_hook(db.sqliteConnection, nil, nil)
            Unmanaged.passUnretained(self).release()
            hooked = false
        }
        stopThread()
    }

    /// Stops the thread (the hook, if still installed, then only sets a flag).
    func stopThread() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    func wake() {
        condition.lock()
        wanted = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        var connection: OpaquePointer?
        defer {
            if let connection { sqlite3_close_v2(connection) }
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
        guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else { return }
        sqlite3_busy_timeout(connection, 1000)
        while true {
            condition.lock()
            while !wanted && !stopping { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            wanted = false
            condition.unlock()
            sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        }
    }
}
