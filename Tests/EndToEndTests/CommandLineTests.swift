import Foundation
import Testing
import WardenClient
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

    @Test func wardenctlSubmitsFilesWatchesEventsAndReloads() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let env = ["WARDEN_SOCKET": d.socketPath]
        let opened = Fixtures.now() - .hours(2)

        // submit: a .json array, then an .ndjson file with CRLF and a blank line
        try d.root.write("orders.json", "[\(Fixtures.order("W1")),\(Fixtures.order("W2"))]")
        let (s1, out1, err1) = try DaemonHarness.run("wardenctl", ["submit", d.root.path + "/orders.json"], environment: env)
        #expect(s1 == 0, "\(err1)")
        #expect(out1.contains("2 records from \(d.root.path)/orders.json: 2 new, 0 updated, 0 unchanged"))
        try d.root.write("complaints.ndjson", Fixtures.complaint("WC1", order: "W1", openedAt: opened) + "\r\n\r\n" + Fixtures.complaint("WC2", order: "W2", openedAt: Fixtures.now() - .hours(22) - .minutes(30)) + "\n")
        let (s2, _, _) = try DaemonHarness.run("wardenctl", ["submit", d.root.path + "/complaints.ndjson"], environment: env)
        #expect(s2 == 0)
        #expect(try d.call("case.get", ["case_id": "WC1"])["case"]?["state"] == "awaiting-evidence")

        // an invalid record: nothing stored, the error names the file and line
        try d.root.write("bad.ndjson", Fixtures.order("W3") + "\n\n" + #"{"type":"order","order_id":4,"category":"stand-mixer","paid_amount":"1.00","paid_at":"2023-04-01 10:00:00"}"# + "\n")
        let (s3, _, err3) = try DaemonHarness.run("wardenctl", ["submit", d.root.path + "/bad.ndjson"], environment: env)
        #expect(s3 == 1)
        #expect(err3.contains("Validation failed"))
        #expect(err3.contains("bad.ndjson:3: record 2, order_id:"))
        #expect(throws: WardenConnection.ServerError.self) { try d.call("order.get", ["order_id": "W3"]) }
        let (s4, _, err4) = try DaemonHarness.run("wardenctl", ["submit", d.root.path + "/missing.json"], environment: env)
        #expect(s4 == 1)
        #expect(err4.contains("cannot read"))

        // watch --since 0: the stored events, in order, one per line
        let (s5, json, _) = try DaemonHarness.run("wardenctl", ["watch", "--since", "0", "--count", "2", "--json"], environment: env)
        #expect(s5 == 0)
        let events = try json.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(events.map { $0["seq"] } == [1, 2])
        #expect(events.map { $0["case_id"] } == ["WC1", "WC2"])
        let (s6, human, _) = try DaemonHarness.run("wardenctl", ["watch", "case.opened", "--since", "1", "--count", "1"], environment: env)
        #expect(s6 == 0)
        #expect(human.contains("#2  case.opened"))
        #expect(human.contains("case=WC2"))
        #expect(human.contains("state=awaiting-evidence"))
        let (s7, _, err7) = try DaemonHarness.run("wardenctl", ["watch", "case.closed"], environment: env)
        #expect(s7 != 0)
        #expect(err7.contains("unknown topic"))

        // watch follows live events as they happen (--since the current seq: whether the
        // watcher subscribes before or after the event, it gets it exactly once)
        let now = try #require(try d.call("event.subscribe", ["topics": ["ledger.entry"]])["seq"]?.int)
        let watcher = try ChildProcess(
            DaemonHarness.binary("wardenctl"), ["watch", "ledger.entry", "--since", "\(now)", "--count", "1", "--json"], environment: env, stderr: .null)
        defer { if watcher.isRunning { kill(watcher.pid, SIGTERM) } }
        let late = Fixtures.now() - .hours(25)
        _ = try d.call("record.submit", ["records": [try JSONParser.parse(Fixtures.order("W9")), try JSONParser.parse(Fixtures.complaint("WC9", order: "W9", openedAt: late))]])
        let line = try JSONParser.parse(watcher.readOutput().stdout)
        #expect(watcher.wait() == 0)
        #expect(line["topic"] == "ledger.entry")
        #expect(line["case_id"] == "WC9")
        #expect(line["amount"] == "10.00")

        // reload, and the deadlines table with the time left
        let (s8, reloaded, _) = try DaemonHarness.run("wardenctl", ["reload"], environment: env)
        #expect(s8 == 0)
        #expect(reloaded.contains("reloaded; policies: kitchen-appliances"))
        let (_, deadlines, _) = try DaemonHarness.run("wardenctl", ["deadlines", "--within", "6h"], environment: env)
        #expect(deadlines.contains("WC2") && deadlines.contains("in 1h") && !deadlines.contains("WC1"))
        let (_, owed, _) = try DaemonHarness.run("wardenctl", ["case", "WC9"], environment: env)
        #expect(owed.contains("liability 10.00 yuan"))
    }

    @Test func completionsAndManualAreGeneratedFromTheCommands() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        for (shell, file) in [("bash", "wardenctl.bash"), ("zsh", "_wardenctl"), ("fish", "wardenctl.fish")] {
            let (status, script, _) = try DaemonHarness.run("wardenctl", ["--generate-completion-script", shell])
            #expect(status == 0)
            #expect(script.contains("watch") && script.contains("submit") && script.contains("reload"))
            let committed = try? String(contentsOfFile: "\(repo)/docs/completions/\(file)", encoding: .utf8)
            #expect(committed == script, "docs/completions/\(file) is stale: regenerate with docs/man/generate.sh")
        }
        let manual = try String(contentsOfFile: "\(repo)/docs/man/wardenctl.1", encoding: .utf8)
        for command in ["status", "policies", "cases", "case", "order", "deadlines", "ledger", "findings", "shop", "spool", "evidence", "submit", "watch", "reload", "metrics", "call"] {
            #expect(manual.contains(command), "wardenctl.1 lacks \(command)")
        }
    }

    /// wardend parses its own command line: every option its help pages name is in the
    /// hand-kept wardend.1, and each kind of mistake is a usage error (exit 64) that
    /// names what was wrong.
    @Test func wardendCommandLineHelpManualAndUsageErrors() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let manual = try String(contentsOfFile: "\(repo)/docs/man/wardend.1", encoding: .utf8)
        for page in [["--help"], ["run", "--help"], ["check-config", "-h"], ["plugin", "--help"], ["plugin", "serve", "--help"], ["plugin", "check", "--help"], ["help", "plugin", "check"]] {
            let (status, help, _) = try DaemonHarness.run("wardend", page)
            #expect(status == 0, "wardend \(page)")
            #expect(help.contains("USAGE: wardend"), "wardend \(page)")
            let options = help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "]" }).filter { $0.hasPrefix("--") }
            for option in Set(options) {
                #expect(manual.contains("Fl -\(option.dropFirst(2))") || manual.contains(", -\(option.dropFirst(2))"), "wardend.1 lacks \(option) (from wardend \(page.joined(separator: " ")))")
            }
        }
        for command in ["run", "check-config", "plugin", "serve", "check"] {
            #expect(manual.contains("Em \(command)"), "wardend.1 lacks \(command)")
        }
        let mistakes: [([String], String)] = [
            (["bogus"], "unknown command 'bogus'"),
            (["--config"], "missing a value for '--config'"),
            (["run", "--config", "a", "--config=b"], "'--config' given twice"),
            (["check-config", "--verbose"], "unknown option '--verbose'"),
            (["plugin"], "missing a plugin command"),
            (["plugin", "serve"], "missing the module"),
            (["plugin", "serve", "luggage", "extra"], "unexpected argument 'extra'"),
            (["plugin", "check", "--arg", "x"], "missing '--exec <path>'"),
            (["plugin", "frobnicate"], "unknown plugin command 'frobnicate'"),
        ]
        for (args, message) in mistakes {
            let (status, out, err) = try DaemonHarness.run("wardend", args)
            #expect(status == 64, "wardend \(args)")
            #expect(out.isEmpty && err.contains("Error: \(message)") && err.contains("Usage: wardend"), "wardend \(args): \(err)")
        }
        let (serveStatus, _, serveErr) = try DaemonHarness.run("wardend", ["plugin", "serve", "cosmetics"])
        #expect(serveStatus == 2 && serveErr.contains("no built-in module \"cosmetics\""))
        let (timeoutStatus, _, timeoutErr) = try DaemonHarness.run("wardend", ["plugin", "check", "--exec", "/bin/true", "--timeout", "soon"])
        #expect(timeoutStatus == 2 && timeoutErr.contains("--timeout \"soon\" is not a duration"))
    }
}
