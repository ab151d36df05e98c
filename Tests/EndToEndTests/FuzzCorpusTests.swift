import Foundation
import Testing
import WardenTestKit

/// Every fuzz target's committed corpus (Fuzz/corpus/NAME: seeds and past findings)
/// replays through the target's properties in the ordinary build, so a regression of
/// a fixed finding fails `swift test`, not only a fuzzing run (scripts/fuzz).
@Suite("Fuzz corpora replay")
struct FuzzCorpusTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test(arguments: ["records", "rpc", "csv", "ndjson", "config", "time-money", "plugin", "tzif"])
    func theCorpusReplaysWithoutAFinding(target: String) throws {
        let corpus = Self.repo + "/Fuzz/corpus/" + target
        let seeds = try FileManager.default.contentsOfDirectory(atPath: corpus).filter { !$0.hasPrefix(".") }
        #expect(seeds.count >= 3, "Fuzz/corpus/\(target) has \(seeds.count) seeds")
        let (status, out, err) = try DaemonHarness.run("fuzz-\(target)", [corpus], environment: ["SWIFT_BACKTRACE": "enable=no"])
        #expect(status == 0, "fuzz-\(target) found something in its corpus:\n\(err.suffix(3000))")
        #expect(out.contains("replayed \(seeds.count) inputs without a finding"), "\(out)")
    }
}
