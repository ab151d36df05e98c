import Foundation
import Testing
import WardenClient
import WardenCore
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// The spool as a producer sees it: floods, crashes, big files, hostile files.
@Suite("Spool end to end", .serialized)
struct SpoolEndToEndTests {
    static func order(_ id: String) -> String {
        #"{"type":"order","order_id":"\#(id)","category":"stand-mixer","paid_amount":"10.00","paid_at":"2023-04-01 10:00:00","delivery_service":"merchant"}"#
    }

    @Test func killNineDuringAFloodLosesAndDuplicatesNothing() throws {
        let d = try DaemonHarness()
        try d.start()
        let total = 3000
        // A producer hands over files while wardend is killed and restarted under it.
        let producer = Thread {
            for i in 0..<total {
                try? d.drop(String(format: "flood-%05d.json", i), Self.order("F\(i)"))
            }
        }
        producer.start()
        try d.waitFor("some files committed", timeout: 30) {
            ((try? FileManager.default.contentsOfDirectory(atPath: d.spoolDir + "/processed"))?.first).map { day in
                ((try? FileManager.default.contentsOfDirectory(atPath: d.spoolDir + "/processed/" + day))?.count ?? 0) > 300
            } ?? false
        }
        d.kill9()
        try d.start()
        try d.waitFor("the flood drained", timeout: 120) {
            let s = try d.call("daemon.status")
            return s["spool"]?["incoming"] == 0 && s["orders"] == JSON(total)
        }
        // Every record stored exactly once, every file moved exactly once.
        let status = try d.call("daemon.status")
        #expect(status["orders"] == JSON(total))
        #expect(status["spool"]?["processed"] == JSON(total))
        #expect(status["spool"]?["rejected"] == 0)
        #expect(d.stop() == 0)
    }

    @Test func reDeliveringAFileIsANoOp() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let opened = Fixtures.now() - .hours(1)
        let content = "[\(Fixtures.order("R1")),\(Fixtures.complaint("RC1", order: "R1", openedAt: opened))]"
        try d.drop("first.json", content)
        try d.waitFor("case") { try d.call("case.get", ["case_id": "RC1"])["case"] != nil }
        try d.drop("again.json", content)
        try d.waitFor("second file processed") { try d.call("daemon.status")["spool"]?["processed"] == 2 }
        let c = try d.call("case.get", ["case_id": "RC1"])["case"]!
        #expect(c["history"]?.array?.count == 1)
        #expect(try d.call("daemon.status")["orders"] == 1)
    }

    @Test func aLargeNDJSONFileIsStreamedInOneTransaction() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let count = 12_000  // about 1.8 MB: over the streaming threshold
        let text = (0..<count).map { Self.order("N\($0)") }.joined(separator: "\n") + "\n"
        #expect(text.utf8.count > 1 << 20)
        try d.drop("big.ndjson", text)
        try d.waitFor("all records", timeout: 60) { try d.call("daemon.status")["orders"] == JSON(count) }
        // One bad line in a big file rejects the whole file, and stores nothing from it.
        let bad = (0..<count).map { Self.order("M\($0)") }.joined(separator: "\n") + "\n{\"type\":\"order\",\"order_id\":7}\n"
        try d.drop("big-bad.ndjson", bad)
        try d.waitFor("rejected") { FileManager.default.fileExists(atPath: d.spoolDir + "/rejected/big-bad.ndjson.error.json") }
        let report = try JSONParser.parse(Array(FileManager.default.contents(atPath: d.spoolDir + "/rejected/big-bad.ndjson.error.json")!))
        #expect(report["errors"]?.array?.first?["line"] == JSON(count + 1))
        #expect(try d.call("daemon.status")["orders"] == JSON(count))
    }

    @Test func hostileFilesAreRejectedWithAReason() throws {
        let d = try DaemonHarness(extraConfig: "[spool]\nmax_file_size = 4096\nmax_line = 512\n")
        try d.start()
        defer { d.stop() }
        let incoming = d.spoolDir + "/incoming/"
        try "secret".write(toFile: d.root.path + "/target.json", atomically: false, encoding: .utf8)
        symlink(d.root.path + "/target.json", incoming + "link.json")
        mkfifo(incoming + "pipe.json", 0o600)
        try d.drop("huge.json", "[" + Array(repeating: Self.order("H"), count: 40).joined(separator: ",") + "]")
        try d.drop("longline.ndjson", Self.order("L1") + "\n" + "{\"type\":\"order\",\"pad\":\"" + String(repeating: "x", count: 600) + "\"}\n")
        try d.drop("binary.json", bytes: [0x22, 0xC3, 0x28, 0x22])
        try d.drop("notes.txt", "hello")
        try d.drop(".hidden.json", Self.order("X1"))
        try d.drop("partial.json.part", Self.order("X2"))
        let expected = ["link.json": "symbolic link", "pipe.json": "FIFO", "huge.json": "over the 4096-byte limit", "longline.ndjson": "over the 512-byte limit", "binary.json": "invalid", "notes.txt": "unsupported file type"]
        try d.waitFor("all rejected") { expected.keys.allSatisfy { FileManager.default.fileExists(atPath: d.spoolDir + "/rejected/" + $0 + ".error.json") } }
        for (name, fragment) in expected {
            let text = try String(contentsOfFile: d.spoolDir + "/rejected/" + name + ".error.json", encoding: .utf8)
            #expect(text.contains(fragment), "\(name): \(text)")
        }
        // Ignored names stay where they are, untouched.
        #expect(FileManager.default.fileExists(atPath: incoming + ".hidden.json"))
        #expect(FileManager.default.fileExists(atPath: incoming + "partial.json.part"))
        #expect(try String(contentsOfFile: d.root.path + "/target.json", encoding: .utf8) == "secret")
        let rejected = try d.call("spool.rejected")["files"]?.array ?? []
        #expect(rejected.count == expected.count)
    }
}
