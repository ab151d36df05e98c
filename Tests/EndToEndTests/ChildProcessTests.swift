import Testing
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// The harness's own process runner: what the end-to-end tests read of a child must be
/// all it wrote, on both outputs, whatever their sizes, and its status as it exited.
@Suite("Test harness: child processes")
struct ChildProcessTests {
    @Test func inputReachesTheChildAndBothOutputsComeBackWhole() throws {
        // More than a pipe holds on every stream at once: neither may stall the other.
        let input = (0..<300_000).map { UInt8(97 + $0 % 26) }
        let r = try ChildProcess.run("/bin/sh", ["-c", "tee /dev/stderr; exit 3"], input: input)
        #expect(r.status == 3)
        #expect(Array(r.stdout.utf8) == input)
        #expect(r.stdout == r.stderr)
    }

    @Test func aSignalledChildReportsTheSignalAndTimeoutsStopIt() throws {
        let p = try ChildProcess("/bin/sleep", ["30"], stdout: .null, stderr: .null)
        #expect(p.isRunning)
        #expect(p.wait(timeout: 0.2, grace: 5))
        #expect(!p.isRunning)
        #expect(p.terminationStatus == SIGTERM)
    }

    @Test func aProgramThatCannotRunIsAnError() {
        #expect(throws: HarnessError.self) { try ChildProcess.run("/nonexistent/program", []) }
    }
}
