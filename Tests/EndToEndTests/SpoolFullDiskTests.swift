import Foundation
import Testing
import WardenCore
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// A full state filesystem pauses ingestion; nothing is moved or lost; it resumes.
@Suite("Spool on a full disk", .serialized)
struct SpoolFullDiskTests {
    static var isRoot: Bool { getuid() == 0 }

    @Test(.enabled(if: isRoot, "needs root to mount a small tmpfs for the state directory"))
    func aFullStateDirectoryPausesAndResumes() throws {
        let d = try DaemonHarness()
        try FileManager.default.createDirectory(atPath: d.stateDir, withIntermediateDirectories: true)
        let mount = try DaemonHarness.runPath("/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", d.stateDir])
        #expect(mount.0 == 0, "\(mount.2)")
        defer { _ = try? DaemonHarness.runPath("/bin/umount", ["-l", d.stateDir]) }
        try d.start()
        defer { d.stop() }

        // Given a state filesystem with no room left
        let filler = d.stateDir + "/filler"
        _ = try DaemonHarness.runPath("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=64k", "count=100"])
        // When a file arrives
        let records = (0..<300).map { #"{"type":"order","order_id":"FULL-\#($0)","category":"stand-mixer","paid_amount":"1.00","paid_at":"2023-04-01 10:00:00","note":"\#(String(repeating: "x", count: 400))"}"# }
        try d.drop("while-full.ndjson", records.joined(separator: "\n"))
        // Then ingestion pauses, says why, and leaves the file where it is
        try d.waitFor("the pause to be logged") { d.log.contains("Spool ingestion paused") }
        #expect(FileManager.default.fileExists(atPath: d.spoolDir + "/incoming/while-full.ndjson"))
        #expect(try d.call("daemon.status")["orders"] == 0)

        // When space comes back, it resumes and commits the file once
        unlink(filler)
        try d.waitFor("resumed", timeout: 30) { try d.call("daemon.status")["orders"] == 300 }
        try d.waitFor("the resume to be logged") { d.log.contains("Spool ingestion resumed") }
        #expect(try d.call("daemon.status")["spool"]?["rejected"] == 0)
    }
}
