import Foundation
import Testing
import WardenClient
import WardenCore
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// The built wardend on a temp directory: files dropped through tmp/ → incoming/, answers
/// read over the real socket.
@Suite("wardend end to end", .serialized)
struct DaemonEndToEndTests {
    @Test func aComplaintBecomesADeadlineThatFiresAndBooksTenYuan() throws {
        let d = try DaemonHarness()
        try d.start()
        // Given a merchant order and a complaint opened just under 24 hours ago
        let opened = Fixtures.now() - .hours(24) + .seconds(8)
        try d.drop("orders.json", "[\(Fixtures.order("O1"))]")
        try d.drop("complaints.ndjson", Fixtures.complaint("C1", order: "O1", openedAt: opened) + "\n")

        // Then a case opens with the 24-hour evidence deadline
        try d.waitFor("case C1") { try d.call("case.get", ["case_id": "C1"])["case"]?["state"] == "awaiting-evidence" }
        let due = opened + .hours(24)
        let c = try d.call("case.get", ["case_id": "C1"])["case"]!
        #expect(c["deadline"]?.string.flatMap { TimeFormat.parse($0, defaultZone: .utc) } == due)
        let deadlines = try d.call("deadline.list")["deadlines"]?.array ?? []
        #expect(deadlines.first?["case_id"] == "C1")
        #expect((deadlines.first?["remaining_s"]?.int ?? -1) <= 9)

        // When the deadline passes, the case defaults and 10.00 yuan is booked under K4
        try d.waitFor("case C1 defaulted", timeout: 30) { try d.call("case.get", ["case_id": "C1"])["case"]?["state"] == "defaulted" }
        let summary = try d.call("ledger.summary")
        #expect(summary["amount"] == "10.00")
        #expect(summary["count"] == 1)
        #expect(summary["by_rule"]?["K4"]?["amount"] == "10.00")
        #expect(summary["by_category"]?["kitchen-appliances"]?["count"] == 1)
        let entry = try #require(try d.call("ledger.list")["entries"]?.array?.first)
        #expect(entry["rule"] == "K4")
        #expect(entry["case_id"] == "C1")
        #expect(entry["at"]?.string.flatMap { TimeFormat.parse($0, defaultZone: .utc) } == due)

        // And evidence is now refused: the deadline passed
        #expect {
            try d.call("evidence.submit", ["case_id": "C1", "items": [["kind": "delivery-photo", "ref": "p.jpg"]]])
        } throws: { ($0 as? WardenConnection.ServerError)?.code == 1002 }

        // The files moved to processed/YYYY-MM-DD/, nothing left in incoming/
        let status = try d.call("daemon.status")
        #expect(status["spool"]?["incoming"] == 0)
        #expect(status["spool"]?["processed"] == 2)
        #expect(status["cases"]?["closed"] == 1)
        #expect(d.stop() == 0)
        #expect(d.log.contains("Penalty booked"))
    }

    @Test func aDeadlineThatPassedWhileStoppedFiresOnceAtStartUp() throws {
        let d = try DaemonHarness()
        try d.start()
        let opened = Fixtures.now() - .hours(24) + .seconds(6)
        try d.drop("batch.json", "[\(Fixtures.order("O2")),\(Fixtures.complaint("C2", order: "O2", openedAt: opened))]")
        try d.waitFor("case C2") { try d.call("case.get", ["case_id": "C2"])["case"]?["state"] == "awaiting-evidence" }
        #expect(try d.call("ledger.summary")["count"] == 0)
        #expect(Fixtures.now() < opened + .hours(24))  // stopped before the deadline
        #expect(d.stop() == 0)
        #expect(Fixtures.now() < opened + .hours(24))

        // The deadline passes while wardend is stopped (waited for, not guessed).
        while Fixtures.now() < opened + .hours(24) { usleep(50_000) }
        try d.start()
        try d.waitFor("C2 defaulted at start-up") { try d.call("case.get", ["case_id": "C2"])["case"]?["state"] == "defaulted" }
        #expect(try d.call("ledger.summary")["count"] == 1)
        #expect(d.stop() == 0)

        try d.start()  // and never again: no deadline is pending that could fire
        #expect(try d.call("daemon.status")["next_deadline"] == .null)
        #expect(try d.call("deadline.list")["deadlines"] == [])
        #expect(try d.call("ledger.summary")["count"] == 1)
        #expect(try d.call("ledger.list")["entries"]?.array?.count == 1)
        #expect(d.stop() == 0)
    }

    @Test func anInvalidFileIsRejectedWholeWithItsReasons() throws {
        let d = try DaemonHarness()
        try d.start()
        let bad = """
            {"type":"order","order_id":"O3","category":"stand-mixer","paid_amount":"10.00","paid_at":"2023-04-01 10:00:00"}
            {"type":"order","order_id":3398211045551234567,"category":"stand-mixer","paid_amount":9.5,"paid_at":"2023-04-01 10:00:00"}
            """
        try d.drop("mixed.ndjson", bad)
        let rejected = d.spoolDir + "/rejected/mixed.ndjson"
        try d.waitFor("mixed.ndjson rejected") { FileManager.default.fileExists(atPath: rejected + ".error.json") && FileManager.default.fileExists(atPath: rejected) }
        #expect(try String(contentsOfFile: rejected, encoding: .utf8) == bad)  // unchanged
        let report = try JSONParser.parse(Array(FileManager.default.contents(atPath: rejected + ".error.json")!))
        #expect(report["file"] == "mixed.ndjson")
        let errors = report["errors"]?.array ?? []
        #expect(errors.count == 2)
        #expect(errors.allSatisfy { $0["record"] == 2 && $0["line"] == 2 })
        #expect(Set(errors.compactMap { $0["field"]?.string }) == ["order_id", "paid_amount"])
        // Nothing from the file was stored, not even its valid first record.
        #expect(throws: WardenConnection.ServerError.self) { try d.call("order.get", ["order_id": "O3"]) }
        #expect(try d.call("daemon.status")["spool"]?["rejected"] == 1)
        #expect(d.stop() == 0)
    }

    @Test func filesDroppedWhileStoppedArePickedUpAtStart() throws {
        let d = try DaemonHarness()
        try d.start()
        #expect(d.stop() == 0)
        try d.drop("late.json", Fixtures.order("O4"))
        try d.start()
        #expect(try d.call("order.get", ["order_id": "O4"])["order"]?["paid_amount"] == "1299.00")
        #expect(d.stop() == 0)
    }
}
