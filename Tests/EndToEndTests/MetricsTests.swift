import Foundation
import Testing
import WardenClient
import WardenCore
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// SPEC.md §8 on the built wardend: `GET /metrics` on `[metrics] listen` counts what
/// happened (records, files, cases, deadlines, penalties, socket requests), `promtool
/// check metrics` finds nothing to say about it, and `wardenctl metrics` prints the same.
@Suite("Metrics", .serialized)
struct MetricsTests {
    /// A TCP socket bound to a free loopback port, and the port.
    static func boundSocket() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw HarnessError("bind: errno \(errno)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A loopback TCP port nothing listens on now.
    static func freePort() throws -> Int {
        let (fd, port) = try boundSocket()
        close(fd)
        return port
    }

    /// Sends `request` to 127.0.0.1:`port` and reads until the server closes: the status
    /// line, the headers and the body.
    static func http(_ port: Int, _ request: String) throws -> (status: Int, headers: String, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw HarnessError("connect to port \(port): errno \(errno)") }
        let bytes = Array(request.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw HarnessError("write: errno \(errno)") }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        let text = String(decoding: answer, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw HarnessError("no HTTP head in: \(text.prefix(200))") }
        let head = String(text[..<split.lowerBound])
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, head, String(text[split.upperBound...]))
    }

    static func get(_ port: Int, _ path: String = "/metrics", method: String = "GET") throws -> (status: Int, headers: String, body: String) {
        try http(port, "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    }

    /// The value of the sample `series` (name and labels exactly as printed), or nil.
    static func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func theEndpointCountsWhatHappenedAndPromtoolAcceptsIt() throws {
        let port = try Self.freePort()
        // With an external module that crashes on order MX.
        // (A long call timeout: on a loaded machine a slow answer must not add restarts.)
        let module = ExternalModuleTests.config(tag: "metrics-\(port)", fault: "crash-on:MX", timeout: "10s")
        let d = try DaemonHarness(extraConfig: "[metrics]\nlisten = \"127.0.0.1:\(port)\"\n\n" + module + "\n")
        try d.start()
        defer { _ = d.stop() }
        try d.drop("cosmetics.ndjson", ExternalModuleTests.pair("M1") + ExternalModuleTests.pair("MX"))
        // The order and the complaint of MX are each tried twice, then held: four restarts.
        try d.waitFor("MX held after two crashes each", timeout: 60) { try d.call("daemon.status")["records_held"]?["cosmetics"] == 2 }
        // Settled: the fourth restart (the one after MX's second failure, which begins
        // after the hold is committed) done, running again, or failed after five restarts
        // in a minute.
        try d.waitFor("the module settled", timeout: 60) {
            let module = try ExternalModuleTests.cosmetics(d)
            return ["running", "failed"].contains(module?["state"]?.string) && (module?["restarts"]?.int ?? 0) >= 4
        }
        // A complaint whose 24-hour deadline passed 30 s ago: the case opens and defaults
        // at once, booking 10.00 yuan under K4; and a file that is not JSON.
        try d.drop("orders.json", "[\(Fixtures.order("O1"))]")
        try d.drop("complaints.ndjson", Fixtures.complaint("C1", order: "O1", openedAt: Fixtures.now() - .hours(24) - .seconds(30)) + "\n")
        try d.drop("broken.json", "{not json")
        try d.waitFor("C1 defaulted", timeout: 30) { try d.call("case.get", ["case_id": "C1"])["case"]?["state"] == "defaulted" }
        try d.waitFor("the broken file rejected") { try d.call("daemon.status")["spool"]?["rejected"] == 1 }
        #expect(throws: WardenConnection.ServerError.self) { try d.call("case.get", ["case_id": "NOPE"]) }
        #expect(throws: WardenConnection.ServerError.self) { try d.call("no.such.method") }

        let answer = try Self.get(port)
        #expect(answer.status == 200)
        #expect(answer.headers.contains("Content-Type: text/plain; version=0.0.4"))
        let text = answer.body
        #expect(Self.sample(text, #"warden_records_ingested_total{type="order"}"#) == 3)
        #expect(Self.sample(text, #"warden_records_ingested_total{type="complaint"}"#) == 3)
        #expect(Self.sample(text, #"warden_spool_files_total{outcome="processed"}"#) == 3)
        #expect(Self.sample(text, #"warden_spool_files_total{outcome="rejected"}"#) == 1)
        #expect(Self.sample(text, #"warden_cases{state="closed"}"#) == 1)
        #expect(Self.sample(text, #"warden_cases{state="open"}"#) == 1)  // C-M1, 48 h to go
        #expect(Self.sample(text, "warden_deadlines_pending") == 1)
        // The module: MX's two inputs held after at least four restarts (five in a
        // minute fail it), calls and failures counted, `up` as policy.list says.
        let state = try ExternalModuleTests.cosmetics(d)?["state"]?.string
        #expect(Self.sample(text, #"warden_plugin_up{module="cosmetics"}"#) == (state == "running" ? 1 : 0))
        #expect((Self.sample(text, #"warden_plugin_restarts_total{module="cosmetics"}"#) ?? 0) >= 4)
        #expect(Self.sample(text, #"warden_plugin_restarts_total{module="cosmetics"}"#).map(Int.init) == (try ExternalModuleTests.cosmetics(d)?["restarts"]?.int))
        // (A crash fails the calls pipelined behind the one that caused it too.)
        #expect((Self.sample(text, #"warden_plugin_failures_total{module="cosmetics",kind="exited"}"#) ?? 0) >= 4)
        #expect((Self.sample(text, #"warden_plugin_calls_total{module="cosmetics"}"#) ?? 0) >= 6)
        // Inputs waiting as daemon.status counts them (a module failed after five restarts
        // may leave an input tried once, neither applied nor held).
        let counts = try d.call("daemon.status")
        let held = try #require(counts["records_held"]?["cosmetics"]?.int)
        let waiting = try #require(counts["records_waiting"]?["cosmetics"]?.int)
        #expect(held == 2)
        #expect(Self.sample(text, #"warden_plugin_inputs_waiting{module="cosmetics",held="true"}"#).map(Int.init) == held)
        #expect(Self.sample(text, #"warden_plugin_inputs_waiting{module="cosmetics",held="false"}"#).map(Int.init) == waiting - held)
        #expect(Self.sample(text, #"warden_penalties_total{category="kitchen-appliances",rule="K4"}"#) == 1)
        #expect(Self.sample(text, #"warden_penalty_amount_yuan_total{category="kitchen-appliances",rule="K4"}"#) == 10)
        #expect(Self.sample(text, #"warden_deadline_fire_lag_seconds_count{kind="expiry"}"#) == 1)
        // Fired about 30 s late: not in the 10 s bucket, in the 60 s one.
        #expect(Self.sample(text, #"warden_deadline_fire_lag_seconds_bucket{kind="expiry",le="10.0"}"#) == 0)
        #expect(Self.sample(text, #"warden_deadline_fire_lag_seconds_bucket{kind="expiry",le="60.0"}"#) == 1)
        #expect((Self.sample(text, #"warden_rpc_requests_total{method="case.get",outcome="ok"}"#) ?? 0) >= 1)
        #expect((Self.sample(text, #"warden_rpc_requests_total{method="case.get",outcome="not_found"}"#) ?? 0) >= 1)
        #expect(Self.sample(text, #"warden_rpc_requests_total{method="other",outcome="method_not_found"}"#) == 1)
        #expect((Self.sample(text, #"warden_rpc_request_duration_seconds_count{method="case.get"}"#) ?? 0) >= 2)
        #expect(text.contains("\nwarden_build_info{version=\"") && text.contains("\"} 1.0\n"))
        #expect(Self.sample(text, "warden_subscribers") == 0)
        // No ids in labels.
        for id in ["O1", "C1", "M1", "MX", "NOPE", "no.such.method", "broken"] {
            #expect(!text.split(separator: "\n").contains { !$0.hasPrefix("#") && $0.contains("\"\(id)") }, "an id in a label: \(id)")
        }

        // promtool (Debian's prometheus package) has nothing to say about it.
        if let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            let p = try ChildProcess.run(promtool, ["check", "metrics"], input: Array(text.utf8))
            let said = p.stdout + p.stderr
            #expect(p.status == 0 && said.isEmpty, "promtool check metrics: \(said)")
        } else {
            print("MetricsTests: promtool is not installed (apt-get install prometheus); the exposition's lint is not checked")
        }

        // The example alerts name only metrics that exist, and promtool accepts them.
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let rules = try String(contentsOfFile: repo + "/examples/prometheus/warden-rules.yml", encoding: .utf8)
        let named = Set(rules.matches(of: /warden_[a-z_]+/).map { String($0.output) }.map { $0.hasSuffix("_bucket") ? String($0.dropLast(7)) : $0 })
        #expect(named.count >= 3)
        for name in named {
            #expect(text.contains("# TYPE \(name) "), "examples/prometheus/warden-rules.yml names \(name), which wardend does not export")
        }
        if let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            for (command, file) in [("rules", "warden-rules.yml"), ("config", "prometheus.yml")] {
                let p = try ChildProcess(promtool, ["check", command, repo + "/examples/prometheus/" + file], stdout: .null, stderr: .null)
                p.wait()
                #expect(p.terminationStatus == 0, "promtool check \(command) examples/prometheus/\(file)")
            }
        }

        // wardenctl metrics prints the same families over the socket.
        let (status, printed, _) = try DaemonHarness.run("wardenctl", ["metrics", "--socket", d.socketPath])
        #expect(status == 0)
        let families = { (t: String) in Set(t.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }) }
        #expect(families(printed) == families(text))
        #expect(Self.sample(printed, #"warden_penalties_total{category="kitchen-appliances",rule="K4"}"#) == 1)
    }

    @Test func theEndpointServesOnlyGetOfMetricsAndSurvivesGarbage() throws {
        let port = try Self.freePort()
        let d = try DaemonHarness(extraConfig: "[metrics]\nlisten = \"127.0.0.1:\(port)\"\n")
        try d.start()
        defer { _ = d.stop() }
        #expect(try Self.get(port, "/").status == 404)
        #expect(try Self.get(port, "/metrics/x").status == 404)
        #expect(try Self.get(port, method: "POST").status == 405)
        let head = try Self.get(port, method: "HEAD")
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(try Self.get(port, "/metrics?x=1").status == 200)
        // Pipelined requests are answered in order.
        let pipelined = try Self.http(
            port, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\nHEAD /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        #expect(pipelined.status == 200)
        #expect(pipelined.body.components(separatedBy: "HTTP/1.1 404 Not Found").count == 2)
        #expect(pipelined.body.hasSuffix("\r\n\r\n") && pipelined.body.contains("HTTP/1.1 200 OK"))
        // Not HTTP at all, then a head far over the parser's limit: refused, and the
        // daemon answers as before.
        let garbage = try Self.http(port, "\u{1}\u{2}garbage\r\n\r\n")
        #expect(garbage.status == 400)
        let huge = try? Self.http(port, "GET /metrics HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 200_000) + "\r\n\r\n")
        #expect(huge == nil || huge?.status == 400 || huge?.status == 431)
        #expect(try Self.get(port).status == 200)
        #expect(try d.call("daemon.status")["version"] != nil)
    }

    @Test func aPortInUseLeavesTheDaemonRunningAndSaysSo() throws {
        // Hold the port with a listener of our own.
        let (fd, port) = try Self.boundSocket()
        defer { close(fd) }
        #expect(listen(fd, 1) == 0)
        let d = try DaemonHarness(extraConfig: "[metrics]\nlisten = \"127.0.0.1:\(port)\"\n")
        try d.start()
        defer { _ = d.stop() }
        #expect(d.log.contains("metrics.failed"))
        #expect(try d.call("metrics.get")["text"]?.string?.contains("warden_build_info") == true)
    }
}
