import Foundation
import Logging
import Testing
import WardenCore
import WardenDaemon
import WardenSpool
import WardenTestKit

@Suite("Spool pipeline")
struct SpoolPipelineTests {
    func lines(_ text: String, maxLine: Int, buffer: Int = 16) throws -> [String] {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("f.ndjson", text)
        guard var reader = LineReader(path: dir.path + "/f.ndjson", maxLine: maxLine, bufferSize: buffer) else {
            Issue.record("cannot open")
            return []
        }
        var out: [String] = []
        while let line = try reader.next() {
            switch line {
            case .text(let bytes, let n): out.append("\(n):\(String(decoding: bytes, as: UTF8.self))")
            case .tooLong(let n, let length): out.append("\(n):TOO LONG \(length)")
            }
        }
        return out
    }

    @Test func lineReaderStreamsWithASmallBuffer() throws {
        #expect(try lines("a\r\nbb\n\nccc", maxLine: 8, buffer: 4) == ["1:a", "2:bb", "3:", "4:ccc"])
        #expect(try lines("short\n" + String(repeating: "x", count: 50) + "\nend\n", maxLine: 10, buffer: 4) == ["1:short", "2:TOO LONG 50", "3:end"])
        #expect(try lines("", maxLine: 10) == [])
    }

    @Test func retentionRemovesOnlyExpiredDays() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let spool = SpoolDirectory(root: dir.path)
        try spool.prepare()
        let now = TimeFormat.parse("2023-05-31 12:00:00", defaultZone: .shanghai)!
        for (day, count) in [("2023-04-30", 5), ("2023-05-01", 3), ("2023-05-31", 2)] {
            for i in 0..<count { try dir.write("processed/\(day)/f\(i).json", "{}") }
        }
        try dir.write("rejected/old.json", "{}")
        let service = RetentionService(spool: spool, retention: .days(30), zone: .shanghai, clock: FakeClock(now: now), logger: Logger(label: "test"), batch: 2, pauseBetween: .milliseconds(1))
        #expect(service.expiredDays() == ["2023-04-30"])
        await service.purge()
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool.processed).sorted() == ["2023-05-01", "2023-05-31"])
        #expect(FileManager.default.fileExists(atPath: spool.rejected + "/old.json"))
    }
}
