import Dispatch
import Glibc
import Testing
import WardenCore
import WardenStore
import WardenTestKit

/// The PostgreSQL connection layer (SPEC §7's backend builds on it) against a real
/// server the test starts itself: values both ways, errors with their SQLSTATE, the
/// claim primitive (`FOR UPDATE SKIP LOCKED`), LISTEN/NOTIFY, and sessions lost to
/// `pg_terminate_backend` and to a server restart.
@Suite("PostgreSQL connection", .serialized, .enabled(if: PostgresServer.unavailable == nil, "\(PostgresServer.unavailable ?? "")"))
struct PostgresConnectionTests {
    @Test func placeholdersAreNumberedOutsideQuotesAndComments() {
        #expect(PGConnection.numberedPlaceholders("SELECT ?, ? FROM t WHERE a = ?") == "SELECT $1, $2 FROM t WHERE a = $3")
        #expect(PGConnection.numberedPlaceholders("SELECT '?', \"a?\", ? -- ?\n, /* ? /* ? */ ? */ ?") == "SELECT '?', \"a?\", $1 -- ?\n, /* ? /* ? */ ? */ $2")
        #expect(PGConnection.numberedPlaceholders("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', $1")
        #expect(PGConnection.numberedPlaceholders("SELECT $1") == "SELECT $1")
    }

    @Test func valuesGoAndComeBackAsTheyWere() throws {
        let server = try PostgresServer()
        defer { server.remove() }
        let db = try PGConnection(url: server.url)
        try db.execute(script: "CREATE TABLE v (id bigint PRIMARY KEY, n bigint, d double precision, t text, b bytea, f boolean)")
        let rows: [(Int64, Int64?, Double?, String?, [UInt8]?, Bool?)] = [
            (1, Int64.max, 0.1, "不送货上门 ✓", [0, 1, 254, 255], true),
            (2, Int64.min, -1e300, "", [], false),
            (3, nil, nil, nil, nil, nil),
            (4, 0, .infinity, "quote ' and \" and ? and $1", Array(0...255), true),
        ]
        for r in rows {
            try db.execute("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?)", [r.0, r.1, r.2, r.3, r.4.map(Blob.init), r.5])
        }
        let back = try db.fetchAll("SELECT * FROM v ORDER BY id")
        #expect(back.count == rows.count)
        for (row, r) in zip(back, rows) {
            #expect(try row["id"] as Int64 == r.0)
            #expect(try row["n"] as Int64? == r.1)
            #expect(try row["d"] as Double? == r.2)
            #expect(try row["t"] as String? == r.3)
            #expect((try row["b"] as Blob?)?.bytes == r.4)
            #expect(try row["f"] as Bool? == r.5)
        }
        #expect(try db.scalar("SELECT count(*) FROM v WHERE t = ?", ["不送货上门 ✓"], as: Int64.self) == 1)
        #expect(try db.execute("UPDATE v SET n = n WHERE id > ?", [1]) == 3)
        // A NUL in text is refused, not cut short.
        #expect {
            try db.execute("INSERT INTO v (id, t) VALUES (?, ?)", [5, "a\u{0}b"])
        } throws: { ($0 as? PGError)?.kind == .misuse }
        #expect(try db.scalar("SELECT count(*) FROM v", as: Int64.self) == 4)
    }

    /// Settings in the URL win over the connection's defaults.
    @Test func theURLsOwnSettingsOverrideTheDefaults() throws {
        let server = try PostgresServer.shared()
        let own = try PGConnection(url: server.url + "&application_name=from-url&connect_timeout=7", applicationName: "wardend")
        defer { own.close() }
        #expect(try own.scalar("SELECT current_setting('application_name')", as: String.self) == "from-url")
        let plain = try PGConnection(url: server.url, applicationName: "wardend n1")
        defer { plain.close() }
        #expect(try plain.scalar("SELECT current_setting('application_name')", as: String.self) == "wardend n1")
    }

    @Test func aRefusedStatementNamesItsStateAndTextAndTheSessionGoesOn() throws {
        let server = try PostgresServer()
        defer { server.remove() }
        let db = try PGConnection(url: server.url)
        try db.execute(script: "CREATE TABLE u (k text PRIMARY KEY)")
        try db.execute("INSERT INTO u VALUES (?)", ["K4:C1"])
        do {
            try db.execute("INSERT INTO u VALUES (?)", ["K4:C1"])
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(error.sqlState == "23505")
            #expect(!error.isConnectionLost)
            #expect(error.description.contains("INSERT INTO u VALUES (?)"))
        }
        // A failed statement inside a transaction rolls the transaction back.
        #expect(throws: PGError.self) {
            try db.transaction {
                try db.execute("INSERT INTO u VALUES (?)", ["K4:C2"])
                try db.execute("INSERT INTO u VALUES (?)", ["K4:C1"])
            }
        }
        #expect(try db.scalar("SELECT count(*) FROM u", as: Int64.self) == 1)
    }

    /// The claim SPEC §7's deadlines rely on: rows one session holds are skipped by the
    /// others, and a session that dies mid-way gives its rows back by rolling back.
    @Test func skipLockedHandsEachRowToOneSessionAndARollbackGivesThemBack() throws {
        let server = try PostgresServer()
        defer { server.remove() }
        let a = try PGConnection(url: server.url)
        let b = try PGConnection(url: server.url)
        try a.execute(script: "CREATE TABLE due (id bigint PRIMARY KEY, fired boolean NOT NULL DEFAULT false); INSERT INTO due (id) SELECT generate_series(1, 10)")
        let claim = "SELECT id FROM due WHERE NOT fired ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED"
        try a.execute("BEGIN")
        let first = try a.fetchAll(claim, [6]).map { try $0["id"] as Int64 }
        try b.execute("BEGIN")
        let second = try b.fetchAll(claim, [10]).map { try $0["id"] as Int64 }
        #expect(first == [1, 2, 3, 4, 5, 6])
        #expect(second == [7, 8, 9, 10])
        for id in second { try b.execute("UPDATE due SET fired = true WHERE id = ?", [id]) }
        try b.execute("COMMIT")
        // a's session is killed before it commits: its rows are free again.
        #expect(try b.scalar("SELECT pg_terminate_backend(?)", [a.backendPID], as: Bool.self) == true)
        try b.execute("BEGIN")
        var third: [Int64] = []
        for _ in 0..<100 {
            third = try b.fetchAll(claim, [10]).map { try $0["id"] as Int64 }
            if third.count == 6 { break }
            try b.execute("ROLLBACK")
            usleep(20_000)
            try b.execute("BEGIN")
        }
        #expect(third == [1, 2, 3, 4, 5, 6])
        try b.execute("COMMIT")
    }

    @Test func notificationsReachTheListeningSessionOnlyAfterCommit() throws {
        let server = try PostgresServer()
        defer { server.remove() }
        let listener = try PGConnection(url: server.url)
        let sender = try PGConnection(url: server.url)
        try listener.listen("warden_events")
        #expect(try listener.notifications(timeoutMilliseconds: 0).isEmpty)
        try sender.execute("BEGIN")
        try sender.execute("SELECT pg_notify('warden_events', ?)", ["41"])
        #expect(try listener.notifications(timeoutMilliseconds: 200).isEmpty)
        try sender.execute("COMMIT")
        try sender.execute("SELECT pg_notify('warden_events', ?)", ["42"])
        var got: [PGConnection.Notification] = []
        for _ in 0..<20 where got.count < 2 { got += try listener.notifications(timeoutMilliseconds: 500) }
        #expect(got.map(\.payload) == ["41", "42"])
        #expect(got.allSatisfy { $0.channel == "warden_events" && $0.senderPID == sender.backendPID })
    }

    @Test func aTerminatedSessionAndARestartedServerAreReportedAndReconnected() throws {
        let server = try PostgresServer()
        defer { server.remove() }
        let db = try PGConnection(url: server.url)
        let admin = try PGConnection(url: server.url)
        let query = "SELECT ?::bigint + 1 AS n"
        #expect(try db.scalar(query, [1], as: Int64.self) == 2)
        #expect(try admin.scalar("SELECT pg_terminate_backend(?)", [db.backendPID], as: Bool.self) == true)
        #expect {
            try db.scalar(query, [2], as: Int64.self)
        } throws: { ($0 as? PGError)?.isConnectionLost == true }
        try db.reset()
        #expect(try db.scalar(query, [3], as: Int64.self) == 4)  // prepared again on the new session

        try server.restart()
        #expect {
            try db.scalar(query, [4], as: Int64.self)
        } throws: { ($0 as? PGError)?.isConnectionLost == true }
        try db.reset()
        #expect(try db.scalar(query, [5], as: Int64.self) == 6)

        try server.stop()
        #expect {
            try PGConnection(url: server.url, connectTimeout: 2)
        } throws: { ($0 as? PGError)?.isConnectionLost == true && "\($0)".contains("cannot connect") }
    }
}

/// The PostgreSQL schema (SPEC §7): migrations applied once whichever of several nodes
/// starts first, and counts kept per node and read as their sum.
@Suite("PostgreSQL schema", .serialized, .enabled(if: PostgresServer.unavailable == nil, "\(PostgresServer.unavailable ?? "")"))
struct PostgresSchemaTests {
    @Test func threeNodesStartingTogetherMigrateOnce() throws {
        let server = try PostgresServer()
        defer { server.remove() }
        let applied = Locked<[String: [String]]>([:])
        let failures = Locked<[String]>([])
        // Three sessions at once, each as a node starting up.
        DispatchQueue.concurrentPerform(iterations: 3) { k in
            let i = k + 1
            do {
                let db = try PGConnection(url: server.url)
                let names = try PostgresSchema.migrate(db, node: "node-\(i)")
                applied.withLock { $0["node-\(i)"] = names }
            } catch {
                failures.withLock { $0.append("node-\(i): \(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let all = applied.withLock { $0 }
        #expect(all.values.filter { !$0.isEmpty }.count == 1, "\(all)")
        #expect(all.values.flatMap { $0 }.sorted() == PostgresSchema.migrations.map(\.0).sorted())

        let db = try PGConnection(url: server.url)
        #expect(try db.scalar("SELECT count(*) FROM warden_migrations", as: Int64.self) == Int64(PostgresSchema.migrations.count))
        #expect(try PostgresSchema.migrate(db, node: "late") == [])
    }

    @Test func countsAreKeptPerNodeAndSumToTheRows() throws {
        let server = try PostgresServer()
        defer { server.remove() }
        let a = try PGConnection(url: server.url)
        let b = try PGConnection(url: server.url)
        try PostgresSchema.migrate(a, node: "a")
        try PostgresSchema.setNode(a, node: "a")
        try PostgresSchema.setNode(b, node: "b")
        func addCase(_ db: PGConnection, _ id: String, open: Int) throws {
            try db.execute("INSERT INTO orders (order_id, category, module, paid_fen, paid_at) VALUES (?, 'k', ?, 100, 0)", ["O-" + id, open == 1 ? "k" : nil])
            try db.execute(
                "INSERT INTO cases (case_id, order_id, category, reason, state, open, opened_at, updated_at) VALUES (?, ?, 'k', 'r', 's', ?, 0, 0)",
                [id, "O-" + id, open])
            try db.execute("INSERT INTO deadlines (case_id, due_at, status, next_at) VALUES (?, 1, 'pending', 1)", [id])
        }
        // The count changes of a transaction are folded in once, before it commits; a
        // savepoint rolled back takes its changes back with it.
        let flush = PostgresSchema.flushCounts
        try a.transaction(beforeCommit: flush) { for i in 0..<5 { try addCase(a, "A\(i)", open: 1) } }
        try b.transaction(beforeCommit: flush) {
            for i in 0..<3 { try addCase(b, "B\(i)", open: i % 2) }
            try b.execute("SAVEPOINT s")
            try addCase(b, "B9", open: 1)
            try b.execute("ROLLBACK TO SAVEPOINT s")
        }
        try b.transaction(beforeCommit: flush) { _ = try b.execute("UPDATE cases SET open = 0 WHERE case_id = ?", ["A0"]) }  // node b closes a's case
        try a.transaction(beforeCommit: flush) {
            try a.execute("UPDATE deadlines SET status = 'fired' WHERE case_id IN (?, ?)", ["A1", "B1"])
            try a.execute("UPDATE orders SET module = NULL WHERE order_id = ?", ["O-A2"])
        }
        let counts = Dictionary(uniqueKeysWithValues: try a.fetchAll("SELECT name, sum(n)::bigint AS n FROM store_counts GROUP BY name").map { (try $0["name"] as String, try $0["n"] as Int64) })
        let truth: [String: Int64] = [
            "orders": try a.scalar("SELECT count(*) FROM orders", as: Int64.self)!,
            "orders_unmanaged": try a.scalar("SELECT count(*) FROM orders WHERE module IS NULL", as: Int64.self)!,
            "cases": try a.scalar("SELECT count(*) FROM cases", as: Int64.self)!,
            "cases_open": try a.scalar("SELECT count(*) FROM cases WHERE open <> 0", as: Int64.self)!,
            "deadlines_pending": try a.scalar("SELECT count(*) FROM deadlines WHERE status = 'pending'", as: Int64.self)!,
        ]
        #expect(counts == truth)
        #expect(truth == ["orders": 8, "orders_unmanaged": 3, "cases": 8, "cases_open": 5, "deadlines_pending": 6])
        #expect(try a.fetchAll("SELECT DISTINCT node FROM store_counts ORDER BY node").map { try $0["node"] as String } == ["a", "b"])
        // Events carry one sequence for the database, the writing node and transaction.
        try a.execute("INSERT INTO events (topic, at, body) VALUES ('t', 0, '{}')")
        try b.execute("INSERT INTO events (topic, at, body) VALUES ('t', 0, '{}')")
        let events = try a.fetchAll("SELECT seq, node, xid::text AS xid FROM events ORDER BY seq")
        #expect(try events.map { try $0["node"] as String } == ["a", "b"])
        #expect(try events.map { try $0["seq"] as Int64 } == [1, 2])
    }

    /// The events other nodes wrote are read by writing transaction: an event whose
    /// `seq` was taken first but whose transaction commits last is not skipped (a
    /// reader going by `seq` would have moved past it), and none comes twice.
    @Test func eventsOfATransactionCommittingLateAreNotSkipped() throws {
        let url = try PostgresServer.shared().freshDatabase()
        let store = try Store(postgres: url, node: "reader")
        defer { try? store.close() }
        let early = try PGConnection(url: url)
        let late = try PGConnection(url: url)
        let insert = "INSERT INTO events (topic, at, body, node) VALUES (?, 0, '{}', 'writer')"
        var horizon = try #require(try store.read { try $0.eventHorizon() })
        func poll() throws -> [Int64] {
            let (events, next) = try store.read { try $0.foreignEvents(since: horizon, node: "reader") }
            horizon = next
            return events.map(\.seq)
        }
        // Until `n` events came: the horizon is the server's oldest open transaction, and
        // other tests' transactions on the shared test server (in other databases)
        // can hold it back for a moment.
        func collect(_ n: Int) throws -> [Int64] {
            var got: [Int64] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while got.count < n && ContinuousClock.now < deadline {
                got += try poll()
                if got.count < n { usleep(10_000) }
            }
            return got
        }
        try early.execute("BEGIN")
        try early.execute(insert, ["early"])  // seq 1, still open
        try late.transaction { try late.execute(insert, ["late"]) }  // seq 2, committed
        #expect(try poll() == [])  // 2 is held back while 1's transaction is open
        try early.execute("COMMIT")
        #expect(try collect(2) == [1, 2])
        #expect(try poll() == [])
        // The node's own events are not handed back to it.
        try late.transaction { try late.execute("INSERT INTO events (topic, at, body, node) VALUES ('own', 0, '{}', 'reader')") }
        try late.transaction { try late.execute(insert, ["other"]) }
        #expect(try collect(1) == [4])
        #expect(try poll() == [])
    }
}
