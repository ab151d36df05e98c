import WardenCore

/// What several nodes sharing one PostgreSQL database need of the store (SPEC §7): the
/// node list, the database's clock, and claiming deadlines so that each fires on one
/// node. On SQLite (one daemon, one writer) these are trivial.
extension StoreTransaction {
    /// Every node that has used the database, with when it was last seen (the database's
    /// clock); empty on SQLite.
    public func nodes() throws -> [(node: String, lastSeen: Timestamp)] {
        guard connection.isPostgres else { return [] }
        return try Row.fetchAll(statement(sql: "SELECT node, last_seen FROM nodes ORDER BY node")).map {
            (try $0["node"], Timestamp(milliseconds: try $0["last_seen"]))
        }
    }

    /// The database's clock, in milliseconds since the epoch; nil on SQLite.
    public func databaseNow() throws -> Timestamp? {
        guard connection.isPostgres else { return nil }
        return try Int64.fetchOne(statement(sql: "SELECT \(PostgresPool.nowMilliseconds)")).map(Timestamp.init(milliseconds:))
    }

    /// Records that `node` is alive now; returns the database's clock (milliseconds).
    public func touchNode(_ node: String) throws -> Timestamp? {
        guard connection.isPostgres else { return nil }
        let now = try Int64.fetchOne(
            statement(sql: """
                INSERT INTO nodes (node, started_at, last_seen) VALUES (?, \(PostgresPool.nowMilliseconds), \(PostgresPool.nowMilliseconds))
                ON CONFLICT (node) DO UPDATE SET last_seen = excluded.last_seen RETURNING last_seen
                """), arguments: [node])
        return now.map(Timestamp.init(milliseconds:))
    }

    /// Of these cases' deadlines, the ones still pending that this transaction now holds:
    /// on PostgreSQL each row is locked (`FOR UPDATE SKIP LOCKED`) until this transaction
    /// ends, so a deadline another node is firing right now is left to it (and is
    /// pending again if that node dies before it commits). On SQLite, every id given
    /// (one writer: nothing to share).
    public func claimDeadlines(_ caseIds: [String]) throws -> Set<String> {
        guard connection.isPostgres else { return Set(caseIds) }
        var claimed = Set<String>()
        var start = 0
        while start < caseIds.count {
            let end = min(start + 1_000, caseIds.count)
            let list = Array(repeating: "?", count: end - start).joined(separator: ", ")
            for row in try connection.fetchAllOnce(
                "SELECT case_id FROM deadlines WHERE case_id IN (\(list)) AND status = 'pending' ORDER BY case_id FOR UPDATE SKIP LOCKED",
                StatementArguments(Array(caseIds[start..<end])))
            {
                claimed.insert(try row["case_id"])
            }
            start = end
        }
        return claimed
    }

    /// Of these cases, those whose deadline is pending as far as this transaction sees
    /// (committed state: a row another node holds locked still reads as pending).
    public func stillPending(_ caseIds: [String]) throws -> Set<String> {
        guard !caseIds.isEmpty else { return [] }
        let list = Array(repeating: "?", count: caseIds.count).joined(separator: ", ")
        return Set(
            try connection.fetchAllOnce("SELECT case_id FROM deadlines WHERE case_id IN (\(list)) AND status = 'pending'", StatementArguments(caseIds)).map {
                try $0["case_id"] as String
            })
    }

    /// Pending deadlines needing attention at or before `time` (`next_at`), in order, at
    /// most `limit`: what other nodes scheduled that falls due soon.
    public func pendingDeadlines(nextBefore time: Timestamp, limit: Int) throws -> [PendingDeadline] {
        try Row.fetchAll(
            statement(sql: """
                SELECT case_id, due_at, warnings_done, next_at FROM deadlines INDEXED BY deadlines_next
                WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, case_id LIMIT ?
                """), arguments: [time.milliseconds, limit]
        ).map(Self.pending)
    }

    /// A position in the events of a shared database: every transaction with an id below
    /// it has ended. Events are read by the transaction that wrote them, not by `seq`
    /// (which is taken before commit, so a later `seq` can commit first and a reader
    /// going by `seq` would skip the earlier one for good).
    public func eventHorizon() throws -> String? {
        guard connection.isPostgres else { return nil }
        return try String.fetchOne(statement(sql: "SELECT CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT)"))
    }

    /// Events other nodes wrote in transactions that ended between `horizon` and now, in
    /// `seq` order, with the new horizon: each event is returned by exactly one call (a
    /// transaction's id falls in one interval). All of them: the nodes poll every second
    /// and when notified, so a call returns what the others wrote since. PostgreSQL only.
    public func foreignEvents(since horizon: String, node: String) throws -> (events: [(seq: Int64, topic: String, at: Timestamp, body: String)], horizon: String) {
        guard connection.isPostgres, let now = try eventHorizon() else { return ([], horizon) }
        let rows = try Row.fetchAll(
            statement(sql: """
                SELECT seq, topic, at, body FROM events
                WHERE xid >= CAST(? AS xid8) AND xid < CAST(? AS xid8) AND node <> ? ORDER BY seq
                """), arguments: [horizon, now, node])
        return (try rows.map { (try $0["seq"], try $0["topic"], Timestamp(milliseconds: try $0["at"]), try $0["body"]) }, now)
    }
}
