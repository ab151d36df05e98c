import Foundation
import Testing
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// The .deb passes lintian, Debian's package checker, with no error and no warning
/// (docs/PACKAGING.md). The package is the one scripts/build-deb makes of the test
/// binaries, as scripts/systemd-test installs it. Runs when lintian is installed
/// (`apt-get install lintian`; scripts/install-deps leaves it out), skips otherwise;
/// under a minute (lintian reads the unstripped debug binaries).
@Suite("the Debian package passes lintian")
struct PackageLintTests {
    /// lintian, if it is on PATH.
    static let lintian: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/lintian" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Tags only the test binaries earn: they are debug builds, not stripped, with a
    /// RUNPATH to the Swift toolchain's libraries. The release binaries of
    /// `scripts/build-deb` (no --bin-dir) are stripped and link the Swift runtime
    /// statically; check that package by hand:
    /// `lintian --fail-on error,warning dist/warden_*.deb`.
    static let testBinaryTags = ["unstripped-binary-or-object", "custom-library-search-path"]

    @Test(.enabled(if: lintian != nil, "needs lintian (Debian: apt-get install lintian)"))
    func thePackageHasNoLintianErrorOrWarning() throws {
        let lintian = try #require(Self.lintian)
        let out = try TemporaryDirectory(prefix: "warden-lintian")
        defer { out.remove() }

        let build = try Systemd.script("build-deb", ["--bin-dir", Systemd.binDirectory, "--fast", "--out", out.path], timeout: 300)
        try #require(build.status == 0 && !build.timedOut, "scripts/build-deb failed (status \(build.status)):\n\(build.output)")
        let debs = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".deb") }
        let debName = try #require(debs.first, "scripts/build-deb made no .deb in \(out.path):\n\(build.output)")
        let deb = out.path + "/" + debName

        let arguments = [
            "--fail-on", "error,warning", "--tag-display-limit", "0",
            "--suppress-tags", Self.testBinaryTags.joined(separator: ","), deb,
        ]
        let run = try Self.run(lintian, arguments, log: out.path + "/lintian.log", timeout: 600)
        print("lintian \(arguments.joined(separator: " ")) → status \(run.status)\n\(run.output)")

        let findings = run.output.split(separator: "\n").filter { $0.hasPrefix("E: ") || $0.hasPrefix("W: ") }
        #expect(!run.timedOut, "lintian timed out:\n\(run.output)")
        #expect(findings.isEmpty, "lintian reports \(findings.count) error(s) or warning(s) on the package:\n\(run.output)")
        #expect(run.status == 0, "lintian exited with \(run.status):\n\(run.output)")
    }

    /// Runs a command with its stdout and stderr in the file `log` (a pipe could fill
    /// while it runs), with a time limit.
    static func run(_ executable: String, _ arguments: [String], log: String, timeout: Double) throws -> Systemd.Run {
        guard FileManager.default.createFile(atPath: log, contents: nil) else { throw HarnessError("cannot create \(log)") }
        let p = try ChildProcess(executable, arguments, stdout: .file(log), stderr: .stdout)
        let timedOut = p.wait(timeout: timeout)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return Systemd.Run(status: p.wait(), output: output, timedOut: timedOut)
    }
}
