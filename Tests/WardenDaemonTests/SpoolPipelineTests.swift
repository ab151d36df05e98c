import Foundation
#if canImport(Glibc)
import Glibc
#endif
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

    /// `struct inotify_event` bytes: wd, mask, cookie, len, then the NUL-padded name.
    static func event(_ mask: UInt32, _ name: String) -> [UInt8] {
        var padded = Array(name.utf8)
        if !padded.isEmpty { padded += Array(repeating: 0, count: 16 - padded.count % 16) }
        var bytes: [UInt8] = []
        for field in [UInt32(1), mask, 0, UInt32(padded.count)] { withUnsafeBytes(of: field.littleEndian) { bytes += $0 } }
        return bytes + padded
    }

    @Test(arguments: [
        ([event(UInt32(IN_MOVED_TO), "a.json"), event(UInt32(IN_CLOSE_WRITE), "b.ndjson")], ["a.json", "b.ndjson"], false),
        ([event(UInt32(IN_MOVED_TO) | UInt32(IN_ISDIR), "sub"), event(UInt32(IN_MOVED_TO), "c.csv")], ["c.csv"], false),
        ([event(UInt32(IN_CREATE), "link.json"), event(UInt32(IN_MOVED_TO), "d.json")], ["d.json"], true),
        ([event(UInt32(IN_CREATE) | UInt32(IN_ISDIR), "newdir")], [], false),
        ([event(UInt32(IN_Q_OVERFLOW), "")], [], true),
    ])
    func inotifyEventsBecomeNamesInArrivalOrder(events: [[UInt8]], names: [String], mustList: Bool) {
        let arrivals = InotifyWatcher.parse(Array(events.joined())[...])
        #expect(arrivals.names == names)
        #expect(arrivals.mustList == mustList)
    }

    @Test func theWatcherQueuesRenamedFilesAndFlagsOthers() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let watched = dir.path + "/incoming"
        #expect(mkdir(watched, 0o700) == 0)
        let watcher = try InotifyWatcher(path: watched, signal: AsyncSignal())
        func collect(until done: (InotifyWatcher.Arrivals) -> Bool) async throws -> InotifyWatcher.Arrivals {
            var arrivals = InotifyWatcher.Arrivals()
            for _ in 0..<3000 where !done(arrivals) {  // up to 30 s on a loaded machine
                try await Task.sleep(for: .milliseconds(10))
                let more = watcher.take()
                arrivals.names += more.names
                arrivals.mustList = arrivals.mustList || more.mustList
            }
            return arrivals
        }
        // Written elsewhere and renamed in (the producer's way): named, in order.
        for name in ["one.json", "two.json"] {
            try dir.write(name, "{}")
            #expect(rename(dir.path + "/" + name, watched + "/" + name) == 0)
        }
        let renamed = try await collect { $0.names.count >= 2 }
        #expect(renamed.names == ["one.json", "two.json"])
        #expect(!renamed.mustList)
        // A symlink gets no move or close event: the directory must be listed.
        #expect(symlink("/etc/hostname", watched + "/link.json") == 0)
        #expect(try await collect { $0.mustList }.mustList)
        await watcher.stop()
    }

    @Test func acceptedFilesMoveInOrderWithoutReplacingAndSkipTheVanished() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let spool = SpoolDirectory(root: dir.path + "/spool")
        try spool.prepare()
        try dir.write("spool/processed/2023-04-05/a.json", "earlier")  // a name already taken that day
        #expect(spool.counts().processed == 1)
        for name in ["a.json", "b.json", "c.json"] { try dir.write("spool/incoming/" + name, name) }
        try spool.moveToProcessed(["a.json", "gone.json", "b.json", "c.json"], day: "2023-04-05")
        let day = dir.path + "/spool/processed/2023-04-05/"
        #expect(try String(contentsOfFile: day + "a.json", encoding: .utf8) == "earlier")
        #expect(try String(contentsOfFile: day + "a.2.json", encoding: .utf8) == "a.json")
        #expect(try String(contentsOfFile: day + "b.json", encoding: .utf8) == "b.json")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/spool/incoming").isEmpty)
        #expect(spool.counts().processed == 4)  // three moved, one there before
        // A new day's directory is made on the way.
        try dir.write("spool/incoming/d.json", "d")
        try spool.moveToProcessed(["d.json"], day: "2023-04-06")
        #expect(FileManager.default.fileExists(atPath: dir.path + "/spool/processed/2023-04-06/d.json"))
        #expect(spool.counts().processed == 5)
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

    /// Memory is given back once, 2 s after the last write of a burst; never while
    /// writes go on, never again while idle.
    @Test func idleReleaseComesOnceAfterABurst() {
        let t0 = Timestamp(seconds: 1_700_000_000)
        var idle = SpoolService.IdleRelease(writes: 5, now: t0)
        let steps: [(writes: Int, at: TimeSpan, expected: SpoolService.IdleRelease.Action)] = [
            (5, .seconds(0), .none),  // idle since start: nothing to give back
            (5, .seconds(60), .none),
            (9, .seconds(61), .wait(.seconds(2))),  // a burst
            (12, TimeSpan(milliseconds: 62_500), .wait(.seconds(2))),  // still writing
            (12, .seconds(64), .wait(TimeSpan(milliseconds: 500))),
            (12, TimeSpan(milliseconds: 64_500), .release),
            (12, .seconds(70), .none),  // once
            (13, .seconds(80), .wait(.seconds(2))),
            (13, .seconds(83), .release),
        ]
        for step in steps {
            #expect(idle.step(writes: step.writes, now: t0 + step.at) == step.expected, "at \(step.at)")
        }
    }
}
