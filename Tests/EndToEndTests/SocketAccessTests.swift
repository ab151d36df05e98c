import Foundation
import Testing
import WardenClient
import WardenCore
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// Who may write (SO_PEERCRED, checked against a real other uid) and socket activation
/// (a listening socket handed over by `systemd-socket-activate`).
@Suite("Socket access and activation", .serialized)
struct SocketAccessTests {
    /// Runs `executable` and returns (pid, status, stdout, stderr).
    static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, Int32, String, String) {
        let r = try DaemonHarness.runProcess(executable, arguments)
        return (r.pid, r.status, r.stdout, r.stderr)
    }

    @Test func aWriterWhoIsNotAllowedGets1004AndIsLoggedWithUidAndPid() throws {
        guard getuid() == 0 else {
            print("skipped: running wardenctl as another uid needs root (this test runs as uid \(getuid()))")
            return
        }
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv) else {
            print("skipped: \(setpriv) (util-linux) is not installed")
            return
        }
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        // The socket is 0660 in a 0750 directory: let uid 65534 reach it, so that the
        // refusal is the daemon's, not the file system's.
        chmod(d.root.path, 0o711)
        chmod((d.socketPath as NSString).deletingLastPathComponent, 0o711)
        chmod(d.socketPath, 0o666)
        let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", DaemonHarness.binary("wardenctl")]

        // Reading is open to whoever can connect
        let (_, readStatus, status, readErr) = try Self.run(setpriv, asNobody + ["status", "--socket", d.socketPath])
        #expect(readStatus == 0, "\(readErr)")
        #expect(status.contains("api 1"))

        // Writing is refused with 1004 and logged with the peer's uid and pid
        let record = Fixtures.order("N1")
        let (pid, writeStatus, _, writeErr) = try Self.run(setpriv, asNobody + ["call", "record.submit", #"{"records":[\#(record)]}"#, "--socket", d.socketPath])
        #expect(writeStatus != 0)
        #expect(writeErr.contains("1004"))
        #expect(writeErr.contains("uid 65534"))
        try d.waitFor("the refusal in the log") { d.log.contains("Refused record.submit") }
        let line = try #require(d.log.split(separator: "\n").first { $0.contains("Refused record.submit") })
        #expect(line.contains("warden.peer_uid=65534"))
        #expect(line.contains("warden.peer_pid=\(pid)"))
        #expect(line.contains("warden.event=access.denied"))
        // Nothing was written; root may write
        #expect(throws: WardenConnection.ServerError.self) { try d.call("order.get", ["order_id": "N1"]) }
        #expect(try d.call("record.submit", ["records": [try JSONParser.parse(record)]])["accepted"] == 1)
    }

    @Test func socketActivationStartsTheDaemonOnTheFirstConnection() throws {
        let activate = "/usr/bin/systemd-socket-activate"
        guard FileManager.default.isExecutableFile(atPath: activate) else {
            print("skipped: \(activate) (systemd) is not installed")
            return
        }
        let d = try DaemonHarness()
        let socket = d.root.path + "/activation/warden.sock"
        try FileManager.default.createDirectory(atPath: d.root.path + "/activation", withIntermediateDirectories: true)
        // Given the service manager listening on the socket, wardend not started yet
        let p = try ChildProcess(
            activate, ["-l", socket, DaemonHarness.binary("wardend"), "--config", d.configPath], environment: ["WARDEN_LOG_TARGET": "stderr"],
            stdout: .file(d.logPath), stderr: .stdout)
        defer {
            if p.isRunning { kill(p.pid, SIGKILL) }
            p.wait()
        }
        try d.waitFor("the activation socket") { FileManager.default.fileExists(atPath: socket) }
        #expect(!d.log.contains("ready"))

        // When a client connects, the daemon starts, adopts the socket and answers
        let c = try WardenConnection(path: socket, timeout: 60)
        let status = try c.call("daemon.status")
        #expect(status["api"] == 1)
        // (The log line may reach the file a moment after the first answer.)
        try d.waitFor("the adoption log line") { d.log.contains("Listening on the socket passed by the service manager") }
        #expect(!FileManager.default.fileExists(atPath: d.socketPath))  // the configured path is not bound
        // Other clients are served on the same socket
        #expect(try WardenConnection(path: socket).call("case.list")["cases"] == [])

        // And SIGTERM stops it cleanly (systemd-socket-activate execs wardend in place).
        // The socket answers a moment before the service group runs: wait for it (a
        // SIGTERM before would be recorded and honoured too, but this tests the usual stop).
        try d.waitFor("the service group runs") { d.log.contains("sl-service=WardenDaemon.SystemdService") }
        kill(p.pid, SIGTERM)
        let start = Date()
        while p.isRunning && Date().timeIntervalSince(start) < 10 { usleep(20_000) }
        #expect(!p.isRunning)
        if !p.isRunning { #expect(p.terminationStatus == 0) }
        #expect(try c.readLine() == nil)
    }
}
