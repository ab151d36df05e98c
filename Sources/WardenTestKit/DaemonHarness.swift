import Foundation
import WardenClient
import WardenCore

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `wardend` binary on a temporary directory, as a user would: a config
/// file, a spool, a state directory, a socket. Used by the end-to-end tests.
public final class DaemonHarness: @unchecked Sendable {
    public let root: TemporaryDirectory
    public var configPath: String { root.path + "/warden.toml" }
    public var socketPath: String { root.path + "/run/warden.sock" }
    public var spoolDir: String { root.path + "/spool" }
    public var stateDir: String { root.path + "/state" }
    public var logPath: String { root.path + "/wardend.log" }
    public private(set) var process: ChildProcess?
    /// A command and arguments that run wardend (e.g. `prlimit --nofile=1024:1024 --`).
    public var launcher: [String] = []
    /// The wardend it runs: the one built beside the tests, unless set.
    public var wardend = DaemonHarness.binary("wardend")
    /// Extra environment for wardend (e.g. `WARDEN_TEST_FAULT` in a debug build).
    public var environment: [String: String] = [:]

    /// The directory holding the built executables (next to the test bundle).
    public static var binDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    public static func binary(_ name: String) -> String { binDirectory + "/" + name }

    /// `extra` is appended to the generated config (e.g. policy tables).
    public init(extraConfig: String = "") throws {
        root = try TemporaryDirectory(prefix: "wardend-e2e")
        try root.write(
            "warden.toml",
            """
            [daemon]
            socket = "\(socketPath)"
            spool_dir = "\(spoolDir)"
            state_dir = "\(stateDir)"
            timezone = "Asia/Shanghai"
            log_level = "debug"

            [deadlines]
            warn_before = ["4h", "1h"]

            \(extraConfig)
            """)
    }

    /// Starts wardend and waits until its socket answers.
    public func start(timeout: Double = 60) throws {
        let command = launcher.isEmpty ? [wardend] : launcher + [wardend]
        var env = environment
        env["WARDEN_LOG_TARGET"] = env["WARDEN_LOG_TARGET"] ?? SystemIO.environment()["WARDEN_LOG_TARGET"] ?? "stderr"  // the harness reads the log from stderr
        let p = try ChildProcess(command[0], Array(command.dropFirst()) + ["--config", configPath], environment: env, stdout: .file(logPath), stderr: .stdout)
        process = p
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if !p.isRunning { throw HarnessError("wardend exited with \(p.terminationStatus) during start-up:\n\(self.log)") }
            if let c = try? WardenConnection(path: socketPath), (try? c.call("daemon.status")) != nil { return }
            usleep(50_000)
        }
        throw HarnessError("wardend did not answer on \(socketPath) within \(timeout)s:\n\(self.log)")
    }

    /// Sends SIGTERM and waits (SIGKILL past `timeout`); returns the exit status.
    @discardableResult
    public func stop(timeout: Double = 20) -> Int32 {
        guard let p = process else { return -1 }
        if p.isRunning { kill(p.pid, SIGTERM) }
        p.wait(timeout: timeout, grace: 0)
        process = nil
        return p.wait()
    }

    /// SIGKILL, no goodbye.
    public func kill9() {
        guard let p = process else { return }
        kill(p.pid, SIGKILL)
        p.wait()
        process = nil
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public func connect() throws -> WardenConnection { try WardenConnection(path: socketPath) }

    public func call(_ method: String, _ params: JSON = .object(JSONObject())) throws -> JSON {
        try connect().call(method, params)
    }

    /// Hands a file to the spool the way producers must: write into `tmp/`, rename into
    /// `incoming/`.
    public func drop(_ name: String, _ contents: String) throws {
        try drop(name, bytes: Array(contents.utf8))
    }

    /// Hands over raw bytes (for files that are not valid UTF-8).
    public func drop(_ name: String, bytes: [UInt8]) throws {
        let tmp = spoolDir + "/tmp/" + name
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0, bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw HarnessError("cannot write \(tmp): \(errno)")
        }
        close(fd)
        guard rename(tmp, spoolDir + "/incoming/" + name) == 0 else { throw HarnessError("rename failed: \(errno)") }
    }

    /// Polls `condition` until it holds or `timeout` passes.
    public func waitFor(_ what: String, timeout: Double = 20, _ condition: () throws -> Bool) throws {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if (try? condition()) == true { return }
            usleep(50_000)
        }
        throw HarnessError("timed out waiting for \(what)\n--- wardend log ---\n\(log)")
    }

    /// Runs a built executable (e.g. wardenctl) and returns (status, stdout, stderr).
    public static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String, String) {
        try runPath(binary(name), arguments, environment: environment)
    }

    /// Runs any program by path and returns (pid, status, stdout, stderr).
    public static func runProcess(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (pid: Int32, status: Int32, stdout: String, stderr: String) {
        try ChildProcess.run(path, arguments, environment: environment)
    }

    /// Runs any program by path and returns (status, stdout, stderr).
    public static func runPath(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String, String) {
        let r = try runProcess(path, arguments, environment: environment)
        return (r.status, r.stdout, r.stderr)
    }

    deinit {
        if let p = process, p.isRunning {
            kill(p.pid, SIGKILL)
            p.wait()
        }
        root.remove()
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
