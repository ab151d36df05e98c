import Foundation
import Testing
import WardenCore
import WardenTestKit

/// wardenctl and wardend's own commands, run as built binaries.
@Suite("Command line", .serialized)
struct CommandLineTests {
    @Test func wardenctlPrintsTablesAndJSON() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let opened = Fixtures.now() - .hours(2)
        try d.drop("seed.json", "[\(Fixtures.order("O1")),\(Fixtures.complaint("C1", order: "O1", openedAt: opened))]")
        try d.waitFor("case C1") { try d.call("case.get", ["case_id": "C1"])["case"] != nil }
        let env = ["WARDEN_SOCKET": d.socketPath]

        let (s1, status, _) = try DaemonHarness.run("wardenctl", ["status"], environment: env)
        #expect(s1 == 0)
        #expect(status.contains("1 open, 0 closed"))
        #expect(status.contains("next       C1 due"))

        let (s2, cases, _) = try DaemonHarness.run("wardenctl", ["cases"], environment: env)
        #expect(s2 == 0)
        let lines = cases.split(separator: "\n")
        #expect(lines.first?.hasPrefix("CASE") == true)
        #expect(lines.contains { $0.contains("C1") && $0.contains("awaiting-evidence") })

        let (s3, deadlines, _) = try DaemonHarness.run("wardenctl", ["deadlines", "--within", "24h"], environment: env)
        #expect(s3 == 0)
        #expect(deadlines.contains("C1") && (deadlines.contains("in 21h") || deadlines.contains("in 22h")))

        let (s4, show, _) = try DaemonHarness.run("wardenctl", ["case", "C1", "--socket", d.socketPath], environment: [:])
        #expect(s4 == 0)
        #expect(show.contains("K3: submit evidence within 24h"))

        let (s5, json, _) = try DaemonHarness.run("wardenctl", ["cases", "--json"], environment: env)
        #expect(s5 == 0)
        #expect(try JSONParser.parse(json)["cases"]?.array?.count == 1)

        let (s6, _, missing) = try DaemonHarness.run("wardenctl", ["case", "nope"], environment: env)
        #expect(s6 != 0)
        #expect(missing.contains("Not found: case nope"))

        let (s7, called, _) = try DaemonHarness.run("wardenctl", ["call", "case.get", #"{"case_id":"C1"}"#], environment: env)
        #expect(s7 == 0)
        #expect(try JSONParser.parse(called)["case"]?["state"] == "awaiting-evidence")

        let (s8, submitted, _) = try DaemonHarness.run("wardenctl", ["evidence", "submit", "C1", "--item", "delivery-photo=/srv/p/1.jpg"], environment: env)
        #expect(s8 == 0)
        #expect(submitted.contains("evidence-submitted"))

        let (s9, _, unreachable) = try DaemonHarness.run("wardenctl", ["status"], environment: ["WARDEN_SOCKET": d.root.path + "/none.sock"])
        #expect(s9 != 0)
        #expect(unreachable.contains("is wardend running?"))
    }

    @Test func versionAndCheckConfig() throws {
        let (s1, version, _) = try DaemonHarness.run("wardend", ["--version"])
        #expect(s1 == 0)
        #expect(version.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")

        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("good.toml", "[daemon]\nstate_dir = \"/tmp/x\"\n")
        try dir.write("bad.toml", "[daemon]\nstate_dir = \"/tmp/x\"\n\n[policies.kitchen-appliances]\nevidence_window = \"a day\"\n")
        let (s2, ok, _) = try DaemonHarness.run("wardend", ["check-config", "--config", dir.path + "/good.toml"])
        #expect(s2 == 0)
        #expect(ok.contains("OK"))
        let (s3, _, err) = try DaemonHarness.run("wardend", ["check-config", "--config", dir.path + "/bad.toml"])
        #expect(s3 == 1)
        #expect(err.contains("bad.toml:5: policies.kitchen-appliances.evidence_window"))
        let (s4, _, runErr) = try DaemonHarness.run("wardend", ["--config", dir.path + "/bad.toml"])
        #expect(s4 == 1)
        #expect(runErr.contains("invalid configuration"))
    }
}
