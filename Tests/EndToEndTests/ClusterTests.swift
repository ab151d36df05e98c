import Foundation
import Testing
import WardenClient
import WardenCore
import WardenStore
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// SPEC §7 end to end: several built wardend sharing one real PostgreSQL (started by the
/// tests: initdb and pg_ctl on a Unix socket), each with its own spool and socket.
@Suite("Several wardend on one PostgreSQL", .serialized, .enabled(if: PostgresServer.unavailable == nil, "\(PostgresServer.unavailable ?? "")"))
struct ClusterTests {
    /// A node: its own directory, spool and socket, the shared database.
    /// A release wardend to run instead of the debug one beside the tests
    /// (`scripts/test` builds one): SPEC §7's 10 s is a figure of the daemon as shipped.
    static let releaseWardend = ProcessInfo.processInfo.environment["WARDEN_CLUSTER_WARDEND"]

    static func node(_ name: String, url: String) throws -> DaemonHarness {
        let d = try DaemonHarness(
            extraConfig: """
                [storage]
                backend = "postgres"
                url = "\(url)"
                node = "\(name)"
                """)
        if let release = releaseWardend { d.wardend = release }
        return d
    }

    /// Writes `lines` into a node's spool as one file, renamed in whole.
    static func drop(_ d: DaemonHarness, _ name: String, _ lines: [String]) throws {
        try FileManager.default.createDirectory(atPath: d.spoolDir + "/tmp", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: d.spoolDir + "/incoming", withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: d.spoolDir + "/tmp/" + name, atomically: false, encoding: .utf8)
        guard rename(d.spoolDir + "/tmp/" + name, d.spoolDir + "/incoming/" + name) == 0 else { throw HarnessError("rename \(name)") }
    }

    static func count(_ db: PGConnection, _ sql: String) throws -> Int { try db.scalar(sql, as: Int.self) ?? -1 }

    @Test func threeNodesShareCasesEventsAndStatus() throws {
        let server = try PostgresServer.shared()
        let url = try server.freshDatabase()
        let nodes = try ["n1", "n2", "n3"].map { try Self.node($0, url: url) }
        for n in nodes { try n.start() }
        defer { for n in nodes { n.stop() } }

        // A subscriber on n3 sees what n1 ingests, live.
        let watcher = try nodes[2].connect()
        try watcher.send(raw: JSONWriter.bytes(["jsonrpc": "2.0", "id": 1, "method": "event.subscribe", "params": ["topics": ["case.opened"]]]) + [0x0A])
        #expect(try watcher.readMessage()?["result"]?["subscribed"] == ["case.opened"])
        let opened = Fixtures.now() - .hours(1)
        try Self.drop(nodes[0], "a.ndjson", [Fixtures.order("CO1"), Fixtures.complaint("CC1", order: "CO1", openedAt: opened)])
        let event = try #require(try watcher.readMessage())
        #expect(event["params"]?["case_id"] == "CC1" && event["params"]?["topic"] == "case.opened")

        // n2 answers from the shared state: the case n1 opened, and then n3's evidence.
        try nodes[1].waitFor("the case on n2") { (try? nodes[1].call("case.get", ["case_id": "CC1"]))?["case"]?["state"] == "awaiting-evidence" }
        _ = try nodes[2].call("evidence.submit", ["case_id": "CC1", "items": [["kind": "delivery-photo", "ref": "p.jpg"]]])
        #expect(try nodes[1].call("case.get", ["case_id": "CC1"])["case"]?["state"] == "evidence-submitted")
        #expect(try nodes[0].call("case.get", ["case_id": "CC1"])["case"]?["state"] == "evidence-submitted")

        // Status: storage, this node, every node with when it was last seen.
        let status = try nodes[1].call("daemon.status")
        #expect(status["storage"] == "postgres")
        #expect(status["node"] == "n2")
        let listed = status["nodes"]?.array?.compactMap { $0["node"]?.string } ?? []
        #expect(listed == ["n1", "n2", "n3"])
        #expect(status["nodes"]?.array?.allSatisfy { $0["last_seen"]?.string != nil } == true)
        #expect(status["cases"]?["open"] == 1)
        // A subscriber on n2 resuming from the start: the replay, then n1's next case
        // live, each once.
        let resumer = try nodes[1].connect()
        try resumer.send(raw: JSONWriter.bytes(["jsonrpc": "2.0", "id": 2, "method": "event.subscribe", "params": ["topics": ["case.opened"], "since": 0]]) + [0x0A])
        #expect(try resumer.readMessage()?["result"]?["subscribed"] == ["case.opened"])
        try Self.drop(nodes[0], "b.ndjson", [Fixtures.order("CO2"), Fixtures.complaint("CC2", order: "CO2", openedAt: opened)])
        var seen: [String] = []
        while seen.count < 2, let m = try resumer.readMessage() { seen.append(m["params"]?["case_id"]?.string ?? "?") }
        #expect(seen == ["CC1", "CC2"])
        #expect(try watcher.readMessage()?["params"]?["case_id"] == "CC2")
        // Migrations ran once, whichever node came first.
        let db = try PGConnection(url: url)
        defer { db.close() }
        #expect(try Self.count(db, "SELECT count(*) FROM warden_migrations") == PostgresSchema.migrations.count)
    }

    /// The issue's figure: 10,000 deadlines due in the same second, three nodes, one
    /// killed with SIGKILL at the due time. Exactly 10,000 ledger entries, each deadline
    /// fired once, all booked within 10 s of the due time.
    @Test func tenThousandDueTogetherWithANodeKilledAtTheDueTimeFireOnce() throws {
        let server = try PostgresServer.shared()
        let url = try server.freshDatabase()
        let nodes = try ["k1", "k2", "k3"].map { try Self.node($0, url: url) }
        for n in nodes { try n.start() }
        defer { for n in nodes { n.stop() } }
        let total = 10_000
        // Due together, far enough ahead for the three spools to be stored first.
        let margin = TimeSpan.seconds(90)
        let now = Fixtures.now()
        let due = Timestamp(milliseconds: (now + margin).milliseconds / 1000 * 1000)
        let opened = due - .hours(24)
        for (k, node) in nodes.enumerated() {
            var lines: [String] = []
            for i in stride(from: k, to: total, by: nodes.count) {
                lines.append(Fixtures.order(String(format: "KO%05d", i)))
                lines.append(Fixtures.complaint(String(format: "KC%05d", i), order: String(format: "KO%05d", i), openedAt: opened))
            }
            try Self.drop(node, "burst.ndjson", lines)
        }
        try nodes[1].waitFor("every case stored", timeout: 300) { try nodes[1].call("daemon.status")["cases"]?["open"] == JSON(total) }
        let stored = Fixtures.now()
        #expect(stored < due, "storing took longer than the margin: the deadlines were due before all were stored")
        // Kill k1 as the deadlines come due, 0–500 ms in (its firing transaction, if
        // any, rolls back).
        let into = UInt32.random(in: 0...500)
        if stored < due { usleep(UInt32((due - stored).milliseconds) * 1000 + into * 1000) }
        nodes[0].kill9()
        try nodes[1].waitFor("every deadline fired", timeout: 120) { try nodes[1].call("ledger.summary")["count"] == JSON(total) }

        let db = try PGConnection(url: url)
        defer { db.close() }
        #expect(try Self.count(db, "SELECT count(*) FROM ledger") == total)
        #expect(try Self.count(db, "SELECT count(DISTINCT case_id) FROM ledger") == total)
        #expect(try Self.count(db, "SELECT count(*) FROM events WHERE topic = 'deadline.expired'") == total)
        #expect(try Self.count(db, "SELECT count(*) FROM deadlines WHERE status = 'fired'") == total)
        let last = try #require(try db.scalar("SELECT max(fired_at) FROM deadlines", as: Int64.self))
        let byNode = try db.fetchAll("SELECT node, count(*) AS n FROM events WHERE topic = 'deadline.expired' GROUP BY node ORDER BY node")
        let perNode = try byNode.map { "\(try $0["node"] as String)=\(try $0["n"] as Int)" }
        print("◇ 10,000 due together on three nodes, k1 killed \(into) ms after the due time: last fired \(Double(last - due.milliseconds) / 1000) s after due; wardend \(Self.releaseWardend ?? "debug build"); fired per node: \(perNode)")
        // SPEC §7's 10 s holds for the release build (scripts/test runs this test on
        // one); a debug build, three to five times slower per firing, is held to 30 s.
        let bound: Int64 = Self.releaseWardend == nil ? 30_000 : 10_000
        #expect(last - due.milliseconds <= bound, "the last deadline fired \(last - due.milliseconds) ms after due (bound \(bound) ms, \(Self.releaseWardend ?? "debug build"))")
    }

    /// Sessions cut by `pg_terminate_backend`, then the whole server stopped and started
    /// again, while two nodes ingest: files wait in `incoming/` while the database is
    /// gone, socket reads answer 1006, and everything is stored exactly once after.
    @Test func lostSessionsAndADatabaseRestartMidIngestLoseNothing() throws {
        let server = try PostgresServer()  // its own: this test restarts it
        defer { server.remove() }
        let nodes = try ["t1", "t2"].map { try Self.node($0, url: server.url) }
        for n in nodes { try n.start() }
        defer { for n in nodes { n.stop() } }
        let admin = { try PGConnection(url: server.url(database: "postgres"), applicationName: "warden-tests") }
        let files = 24
        let perFile = 50
        let opened = Fixtures.now() - .hours(1)
        func batch(_ f: Int) throws {
            var lines: [String] = []
            for i in 0..<perFile {
                let id = String(format: "%02d%03d", f, i)
                lines.append(Fixtures.order("TO" + id))
                lines.append(Fixtures.complaint("TC" + id, order: "TO" + id, openedAt: opened))
            }
            try Self.drop(nodes[f % nodes.count], "f\(f).ndjson", lines)
        }
        for f in 0..<(files / 3) { try batch(f) }
        // Every session of the nodes cut, mid-ingest.
        let cut = try admin()
        let terminated = try Self.count(cut, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'wardend%'")
        cut.close()
        #expect(terminated >= 2, "no wardend session to terminate")
        for f in (files / 3)..<(2 * files / 3) { try batch(f) }
        // The server gone: reads answer 1006, files wait.
        try server.stop()
        for f in (2 * files / 3)..<files { try batch(f) }
        var refused: JSON?
        try nodes[0].waitFor("a read answering 1006 while the database is down") {
            do {
                _ = try nodes[0].call("case.get", ["case_id": "TC00000"])
                return false
            } catch let e as WardenConnection.ServerError {
                refused = JSON(e.code)
                return e.code == 1006
            }
        }
        #expect(refused == 1006)
        usleep(500_000)
        let waiting = try FileManager.default.contentsOfDirectory(atPath: nodes[0].spoolDir + "/incoming").count
            + FileManager.default.contentsOfDirectory(atPath: nodes[1].spoolDir + "/incoming").count
        #expect(waiting > 0, "files should wait in incoming/ while the database is down")
        try server.start()

        let db = try PGConnection(url: server.url)
        defer { db.close() }
        let total = files * perFile
        try nodes[1].waitFor("every case stored after the restart", timeout: 120) { try Self.count(db, "SELECT count(*) FROM cases") == total }
        try nodes[0].waitFor("both spools empty", timeout: 60) {
            try FileManager.default.contentsOfDirectory(atPath: nodes[0].spoolDir + "/incoming").isEmpty
                && FileManager.default.contentsOfDirectory(atPath: nodes[1].spoolDir + "/incoming").isEmpty
        }
        #expect(try Self.count(db, "SELECT count(*) FROM records") == 2 * total)
        #expect(try Self.count(db, "SELECT count(*) FROM orders") == total)
        #expect(try Self.count(db, "SELECT count(*) FROM events WHERE topic = 'case.opened'") == total)
        #expect(try Self.count(db, "SELECT count(*) FROM case_history") == total)
        #expect(try Self.count(db, "SELECT count(*) FROM rejections") == 0)
        for n in nodes {
            let status = try n.call("daemon.status")
            #expect(status["cases"]?["open"] == JSON(total))
            #expect(status["spool"]?["rejected"] == 0)
        }
        // The pause was said, and so was its end.
        let logs = nodes[0].log + nodes[1].log
        #expect(logs.contains("spool.paused"))
        #expect(logs.contains("spool.resumed"))
    }
}
