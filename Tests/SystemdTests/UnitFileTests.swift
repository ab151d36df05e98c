import Foundation
import Testing

/// The unit files and the other files of packaging/, checked by systemd's own tools
/// (scripts/systemd-verify): `systemd-analyze verify`, `systemd-analyze security`,
/// sysusers.d and tmpfiles.d on a scratch root, the journal catalog, the default config.
@Suite("systemd unit files and packaging")
struct UnitFileTests {
    static let haveSystemdTools = FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")

    @Test(.enabled(if: haveSystemdTools, "needs systemd-analyze (Debian: the systemd package)"))
    func unitsVerifyCleanlyAndTheServiceIsSandboxed() throws {
        let run = try Systemd.script("systemd-verify", [Systemd.binDirectory], timeout: 120)
        Systemd.expectAllPassed(run, script: "systemd-verify")

        // The exposure score, printed for the log and checked here too: at most 1.0, "SAFE".
        let line = run.output.split(separator: "\n").first { $0.contains("systemd-analyze security --offline=true wardend.service:") }
        let words = line.map { $0.split(separator: " ").suffix(2).map(String.init) } ?? []
        let score = words.first.flatMap(Double.init)
        print("systemd-analyze security wardend.service → exposure \(score.map { String($0) } ?? "?") \(words.last ?? "")")
        #expect(score != nil, "no exposure score in the output")
        #expect((score ?? 10) <= 1.0)
        #expect(words.last == "SAFE")
    }
}
