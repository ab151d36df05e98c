import Foundation
import Testing
import WardenClient
import WardenCore
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// Issue 10, fault injection counted on the deadline side: wardend killed with SIGKILL
/// 20 times at random moments while 10,000 deadlines expire, restarted each time. Every
/// deadline fires exactly once and the ledger has exactly 10,000 entries.
@Suite("kill -9 during an expiry burst", .serialized)
struct ExpiryBurstKillTests {
    static func sql(_ database: String, _ query: String) throws -> String {
        let (status, out, err) = try DaemonHarness.runPath("/usr/bin/sqlite3", [database, query])
        guard status == 0 else { throw HarnessError("sqlite3 \(query): \(err)") }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func twentyKillsDuringTenThousandExpiriesFireEachExactlyOnce() throws {
        let d = try DaemonHarness()
        let total = 10_000
        // The burst is in incoming/ before the first start: it is ingested before READY,
        // and every complaint's 24-hour window closed an hour ago, so all expire at once.
        for dir in ["incoming", "tmp"] {
            try FileManager.default.createDirectory(atPath: d.spoolDir + "/" + dir, withIntermediateDirectories: true)
        }
        let opened = Fixtures.now() - .hours(25)
        var text = ""
        text.reserveCapacity(total * 330)
        for i in 0..<total {
            text += Fixtures.order(String(format: "KB%05d", i)) + "\n"
            text += Fixtures.complaint(String(format: "KC%05d", i), order: String(format: "KB%05d", i), openedAt: opened) + "\n"
        }
        try text.write(toFile: d.spoolDir + "/incoming/burst.ndjson", atomically: false, encoding: .utf8)

        let database = d.stateDir + "/warden.sqlite"
        var seed = UInt64.random(in: 1...UInt64.max)
        if let fixed = ProcessInfo.processInfo.environment["WARDEN_TEST_SEED"].flatMap(UInt64.init) { seed = fixed }
        var rng = SplitMix64(seed: seed)
        var booked: [Int] = []
        var stored: [Int] = []
        // Kills land up to `upper` after the socket answers. Before its first commit a
        // start has work of its own (storing the burst file, in one transaction; then
        // reading the first window of the schedule, 10,000 rows, which a debug build on
        // a loaded machine may take longer than 150 ms over): while kills keep landing
        // before any progress, each next start gets twice as long (up to 5 s), so that
        // they move on to the firing this test is about.
        var upper: UInt32 = 150_000
        for _ in 0..<20 {
            try d.start()
            usleep(UInt32.random(in: 0...upper, using: &rng))
            d.kill9()
            let before = (stored.last ?? 0, booked.last ?? 0)
            booked.append(Int(try Self.sql(database, "SELECT count(*) FROM ledger")) ?? -1)
            stored.append(Int(try Self.sql(database, "SELECT count(*) FROM cases")) ?? -1)
            if (stored.last!, booked.last!) == before && booked.last! < total { upper = min(upper * 2, 5_000_000) }
        }
        let midBurst = booked.filter { $0 > 0 && $0 < total }.count
        print("◇ kill -9 during the expiry burst (seed \(seed)): cases stored at each kill \(stored); ledger entries \(booked); \(midBurst) kills mid-burst")
        #expect(booked == booked.sorted(), "the ledger shrank after a kill: \(booked)")

        try d.start()
        try d.waitFor("every deadline fired", timeout: 600) { try d.call("ledger.summary")["count"] == JSON(total) }
        #expect(d.stop() == 0)
        #expect(try Self.sql(database, "SELECT count(*) FROM ledger") == "\(total)")
        #expect(try Self.sql(database, "SELECT count(DISTINCT case_id) FROM ledger") == "\(total)")
        #expect(try Self.sql(database, "SELECT count(*) FROM events WHERE topic = 'deadline.expired'") == "\(total)")
        #expect(try Self.sql(database, "SELECT count(*) FROM events WHERE topic = 'ledger.entry'") == "\(total)")
        #expect(try Self.sql(database, "SELECT count(*) FROM deadlines WHERE status = 'fired'") == "\(total)")
        #expect(try Self.sql(database, "SELECT count(*) FROM cases WHERE state = 'defaulted'") == "\(total)")
        #expect(try Self.sql(database, "SELECT count(*) FROM orders") == "\(total)")
        #expect(midBurst >= 1, "no kill landed while deadlines were firing: \(booked)")
    }
}

