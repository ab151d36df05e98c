import Foundation
import Testing

/// The .deb under a real systemd, PID 1 of a private namespace (scripts/systemd-test,
/// which boots it with scripts/systemd-ns): install, socket activation, STATUS=, reload,
/// SIGKILL and restart without losing spool files, the watchdog, stop, purge. One test,
/// one TAP check per step; about 40 s.
@Suite("wardend under a real systemd")
struct ServiceManagerTests {
    @Test(.enabled(if: Systemd.rootTestsEnabled, Systemd.rootSkipMessage))
    func thePackageBehavesUnderSystemdAsPID1() throws {
        let run = try Systemd.script("systemd-test", [Systemd.binDirectory], timeout: 170)
        Systemd.expectAllPassed(run, script: "systemd-test")
    }
}
