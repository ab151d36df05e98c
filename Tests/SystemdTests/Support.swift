import Foundation
import Testing
import WardenCore
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// Shared by the systemd tests: where the repository and the built binaries are, and how
/// to run the `scripts/systemd-*` drivers and read their TAP output.
enum Systemd {
    /// The repository root, from this file's path (Tests/SystemdTests/Support.swift).
    static let repo: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The directory with the built wardend and wardenctl.
    static var binDirectory: String { DaemonHarness.binDirectory }

    static var isRoot: Bool { getuid() == 0 }

    /// The root-only tests run unless WARDEN_SKIP_SYSTEMD_TESTS is set (for a root shell
    /// on a machine where namespaces or overlayfs are not available).
    static var rootTestsEnabled: Bool {
        isRoot && ProcessInfo.processInfo.environment["WARDEN_SKIP_SYSTEMD_TESTS"] == nil
    }

    static let rootSkipMessage: Comment =
        "needs root: boots journald or systemd in a private namespace (run `swift test` as root; WARDEN_SKIP_SYSTEMD_TESTS=1 skips)"

    static func announceSkip(_ name: String) {
        if !isRoot { print("◇ SystemdTests: skipping \(name): not root (uid \(getuid())); these tests boot journald/systemd in a private namespace") }
    }

    struct Run {
        var status: Int32
        var output: String
        var timedOut: Bool
    }

    /// Runs `scripts/NAME ARGS…` from the repository root, stdout and stderr together,
    /// with a time limit (SIGTERM, then SIGKILL; the scripts tear their namespaces down).
    static func script(_ name: String, _ arguments: [String], timeout: Double) throws -> Run {
        let p = try ChildProcess(repo + "/scripts/" + name, arguments, stdout: .pipe, stderr: .stdout)
        // Read on another thread while this one keeps the time limit.
        let collected = Locked<[UInt8]>([])
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            collected.withLock { $0 = p.readOutput().stdout }
            done.signal()
        }
        reader.start()
        let timedOut = p.wait(timeout: timeout)
        done.wait()
        return Run(status: p.wait(), output: String(decoding: collected.withLock { $0 }, as: UTF8.self), timedOut: timedOut)
    }

    /// One TAP line: `ok 3 - what` / `not ok 4 - what`, with the `#` lines that follow.
    struct TAPResult {
        var ok: Bool
        var description: String
        var details: [String]
    }

    static func tap(_ output: String) -> [TAPResult] {
        var results: [TAPResult] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("ok ") || line.hasPrefix("not ok ") {
                let ok = line.hasPrefix("ok ")
                let body = line.drop(while: { $0 != "-" }).dropFirst().trimmingCharacters(in: .whitespaces)
                results.append(TAPResult(ok: ok, description: body, details: []))
            } else if line.hasPrefix("#"), !results.isEmpty {
                results[results.count - 1].details.append(line)
            }
        }
        return results
    }

    /// Records one expectation per TAP check, so a failure names the step that failed.
    static func expectAllPassed(_ run: Run, script: String, sourceLocation: SourceLocation = #_sourceLocation) {
        print(run.output)
        #expect(!run.timedOut, "scripts/\(script) timed out", sourceLocation: sourceLocation)
        let results = tap(run.output)
        #expect(!results.isEmpty, "scripts/\(script) reported no checks:\n\(run.output)", sourceLocation: sourceLocation)
        for r in results where !r.ok {
            Issue.record("scripts/\(script): \(r.description)\n\(r.details.joined(separator: "\n"))", sourceLocation: sourceLocation)
        }
        #expect(run.status == 0, "scripts/\(script) exited with \(run.status)", sourceLocation: sourceLocation)
    }
}
