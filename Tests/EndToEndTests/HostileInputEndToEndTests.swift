import Foundation
import Testing
import WardenClient
import WardenCore
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// Issue 10, through the built daemon: records that used to crash it, names it could not
/// read, keys said twice. Each is refused with a report that names the file and field,
/// and the daemon goes on answering.
@Suite("Hostile input end to end", .serialized)
struct HostileInputEndToEndTests {
    static func u(_ t: Timestamp) -> String { Fixtures.utc(t) }

    static func report(_ d: DaemonHarness, _ name: String) throws -> JSON {
        try JSONParser.parse(String(contentsOfFile: d.spoolDir + "/rejected/" + name + ".error.json", encoding: .utf8))
    }

    /// The record that killed wardend with SIGILL at every start (5 % of an amount near
    /// Int64.max, from ModelToys inside the write transaction) is refused naming
    /// paid_amount; the largest amount accepted is charged the 30-yuan cap.
    @Test func theRecordThatCrashedTheDaemonIsRefusedAndTheLargestAmountIsCharged() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let now = Fixtures.now()
        try d.drop(
            "poison.ndjson",
            """
            {"type":"order","order_id":"P1","category":"model-toys","paid_amount":"999999999999999.99","paid_at":"\(Self.u(now - .days(30)))","ship_by":"\(Self.u(now - .days(2)))"}
            {"type":"complaint","complaint_id":"PU1","order_id":"P1","reason":"urge-shipment","opened_at":"\(Self.u(now - .hours(25)))"}
            """)
        try d.drop(
            "largest.ndjson",
            """
            {"type":"order","order_id":"P2","category":"model-toys","paid_amount":"1000000000.00","paid_at":"\(Self.u(now - .days(30)))","ship_by":"\(Self.u(now - .days(2)))"}
            {"type":"complaint","complaint_id":"PU2","order_id":"P2","reason":"urge-shipment","opened_at":"\(Self.u(now - .hours(25)))"}
            """)
        try d.waitFor("poison rejected") { FileManager.default.fileExists(atPath: d.spoolDir + "/rejected/poison.ndjson.error.json") }
        let errors = try Self.report(d, "poison.ndjson")["errors"]?.array ?? []
        #expect(errors.contains { $0["field"] == "paid_amount" && $0["line"] == 1 }, "\(errors)")
        try d.waitFor("PU2 penalized", timeout: 30) { try d.call("case.get", ["case_id": "PU2"])["case"]?["state"] == "penalized" }
        #expect(try d.call("ledger.summary")["by_rule"]?["M1"]?["amount"] == "30.00")
        #expect(try d.call("daemon.status")["orders"] == 1)
    }

    /// Two values for one key: which is the amount? Refused, naming the key.
    @Test func aKeySaidTwiceIsRefusedNamingIt() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        try d.drop("twice.json", #"{"type":"order","order_id":"D1","category":"stand-mixer","paid_amount":"10.00","paid_at":"2023-04-01 10:00:00","paid_amount":"99999.00"}"#)
        try d.drop(
            "twice.ndjson",
            #"{"type":"order","order_id":"D2","category":"stand-mixer","paid_amount":"10.00","paid_at":"2023-04-01 10:00:00"}"# + "\n"
                + #"{"type":"order","order_id":"D3","category":"stand-mixer","paid_amount":"10.00","paid_at":"2023-04-01 10:00:00","extra":{"a":1,"a":2}}"# + "\n")
        try d.waitFor("both rejected") {
            ["twice.json", "twice.ndjson"].allSatisfy { FileManager.default.fileExists(atPath: d.spoolDir + "/rejected/" + $0 + ".error.json") }
        }
        let json = try Self.report(d, "twice.json")["errors"]?.array?.first
        #expect(json?["field"] == "paid_amount", "\(String(describing: json))")
        #expect(json?["message"]?.string?.contains("duplicate key") == true)
        let ndjson = try Self.report(d, "twice.ndjson")["errors"]?.array?.first
        #expect(ndjson?["line"] == 2 && ndjson?["field"] == "a", "\(String(describing: ndjson))")
        #expect(try d.call("daemon.status")["orders"] == 0)
        #expect(throws: (any Error).self) { try d.call("order.get", ["order_id": "D1"]) }  // not found
    }

    /// A name that is not UTF-8 used to stay in incoming/ forever, unread and unlogged.
    /// Now it is moved to rejected/ under a readable name (bytes as %XX) with a report
    /// that gives the original bytes; a name too long to take the `.error.json` suffix
    /// is shortened for the report and keeps its original name in it.
    @Test func unreadableAndOverlongNamesAreRejectedWithAReport() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let raw: [UInt8] = Array("bad-".utf8) + [0xFF, 0xFE] + Array(".json".utf8)
        let content = Array(#"{"type":"order","order_id":"N1","category":"stand-mixer","paid_amount":"10.00","paid_at":"2023-04-01 10:00:00"}"#.utf8)
        let tmp = Array((d.spoolDir + "/tmp/").utf8) + raw + [0]
        let dest = Array((d.spoolDir + "/incoming/").utf8) + raw + [0]
        let fd = tmp.withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC, 0o640) } }
        #expect(fd >= 0)
        _ = content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let renamed = tmp.withUnsafeBufferPointer { t in
            dest.withUnsafeBufferPointer { n in
                t.withMemoryRebound(to: CChar.self) { tp in n.withMemoryRebound(to: CChar.self) { rename(tp.baseAddress!, $0.baseAddress!) } }
            }
        }
        #expect(renamed == 0)
        let long = String(repeating: "x", count: 250) + ".json"  // 255 bytes: no room for ".error.json"
        try d.drop(long, "{not json")
        try d.waitFor("the unreadable name rejected") { FileManager.default.fileExists(atPath: d.spoolDir + "/rejected/bad-%FF%FE.json.error.json") }
        let message = try Self.report(d, "bad-%FF%FE.json")["errors"]?.array?.first?["message"]?.string ?? ""
        #expect(message.contains("not valid UTF-8") && message.contains("ff fe"), "\(message)")
        try d.waitFor("the long name rejected") {
            ((try? FileManager.default.contentsOfDirectory(atPath: d.spoolDir + "/rejected")) ?? []).contains { $0.hasPrefix("xxxx") && $0.hasSuffix(".error.json") }
        }
        let reportName = try #require(try FileManager.default.contentsOfDirectory(atPath: d.spoolDir + "/rejected").first { $0.hasPrefix("xxxx") && $0.hasSuffix(".error.json") })
        #expect(reportName.utf8.count <= 255)
        let longReport = try JSONParser.parse(String(contentsOfFile: d.spoolDir + "/rejected/" + reportName, encoding: .utf8))
        #expect(longReport["original_name"]?.string == long)
        #expect(try FileManager.default.contentsOfDirectory(atPath: d.spoolDir + "/incoming").isEmpty)
        #expect(try d.call("daemon.status")["spool"]?["rejected"] == 2)
        #expect(d.log.contains("not valid UTF-8"))
    }
}
