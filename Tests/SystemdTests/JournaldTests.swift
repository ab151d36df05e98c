import Foundation
import Testing
import WardenCore
import WardenTestKit

/// wardend under a real journald (scripts/systemd-journal-run: journald and wardend in
/// a private mount and PID namespace): every event with a MESSAGE_ID is logged natively,
/// with its priority and WARDEN_* fields, and read back with `journalctl -o json`.
@Suite("wardend logs to journald", .serialized)
struct JournaldTests {
    struct Outcome: Sendable {
        var entries: [JSON]
        var wardendPID: String
        var wardendStatus: String
        /// The two starts that crashed on the poison record.
        var poisonPIDs: [String]
        var log: String
    }

    /// The scenario runs once (about 15 s); the tests below judge what it logged.
    static let outcome: Result<Outcome, HarnessError> = {
        do {
            let dir = try TemporaryDirectory(prefix: "warden-journald")
            defer { dir.remove() }
            let run = try Systemd.script("systemd-journal-run", [dir.path, Systemd.binDirectory], timeout: 120)
            let read = { (name: String) in ((try? String(contentsOfFile: dir.path + "/" + name, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
            let log = "--- run.log ---\n\(read("run.log"))\n--- wardend stderr ---\n\(read("wardend.stderr"))\n\(run.output)"
            guard run.status == 0, !run.timedOut else {
                return .failure(HarnessError("scripts/systemd-journal-run failed (\(run.status)):\n\(log)"))
            }
            var entries: [JSON] = []
            for line in read("journal.json").split(separator: "\n") {
                entries.append(try JSONParser.parse(String(line)))
            }
            return .success(Outcome(entries: entries, wardendPID: read("wardend.pid"), wardendStatus: read("wardend.status"),
                poisonPIDs: read("wardend.poison-pids").split(separator: "\n").map(String.init), log: log))
        } catch {
            return .failure(HarnessError("\(error)"))
        }
    }()

    static func field(_ entry: JSON, _ name: String) -> String? { entry[name]?.string }

    static func entries(_ o: Outcome, event: String) -> [JSON] {
        o.entries.filter { field($0, "WARDEN_EVENT") == event }
    }

    /// docs/MESSAGE_IDS.md: `| `event` … | `id` | priority |`.
    static func documentedMessageIDs() throws -> [String: (id: String, priority: String)] {
        let text = try String(contentsOfFile: Systemd.repo + "/docs/MESSAGE_IDS.md", encoding: .utf8)
        var table: [String: (String, String)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3 else { continue }
            let event = cells[0].split(separator: "`").first.map(String.init) ?? ""
            let id = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            table[event] = (id, cells[2])
        }
        return table
    }

    @Test(.enabled(if: Systemd.rootTestsEnabled, Systemd.rootSkipMessage))
    func everyEventHasItsMessageIDAndPriority() throws {
        let o = try Self.outcome.get()
        let documented = try Self.documentedMessageIDs()
        #expect(documented.count == 10, "docs/MESSAGE_IDS.md lists \(documented.count) events")
        for (event, expected) in documented.sorted(by: { $0.key < $1.key }) {
            let found = Self.entries(o, event: event)
            #expect(!found.isEmpty, "no \(event) entry in the journal\n\(o.log)")
            for e in found {
                #expect(Self.field(e, "MESSAGE_ID") == expected.id, "\(event): MESSAGE_ID")
                #expect(Self.field(e, "PRIORITY") == expected.priority, "\(event): PRIORITY")
            }
        }
        // SPEC §5: deadline warnings priority 4, expiries and penalties 3.
        #expect(Self.entries(o, event: "deadline.warning").first.flatMap { Self.field($0, "PRIORITY") } == "4")
        #expect(Self.entries(o, event: "deadline.expired").first.flatMap { Self.field($0, "PRIORITY") } == "3")
        #expect(Self.entries(o, event: "ledger.entry").first.flatMap { Self.field($0, "PRIORITY") } == "3")
    }

    @Test(.enabled(if: Systemd.rootTestsEnabled, Systemd.rootSkipMessage))
    func caseDeadlineAndPenaltyCarryTheirIDs() throws {
        let o = try Self.outcome.get()
        for event in ["case.opened", "deadline.warning", "deadline.expired", "ledger.entry"] {
            let found = Self.entries(o, event: event)
            // Each happens exactly once for the one case.
            #expect(found.count == 1, "\(event): \(found.count) entries\n\(o.log)")
            guard let e = found.first else { continue }
            #expect(Self.field(e, "WARDEN_CASE_ID") == "J-C1", "\(event): WARDEN_CASE_ID")
            #expect(Self.field(e, "WARDEN_ORDER_ID") == "J-O1", "\(event): WARDEN_ORDER_ID")
            #expect(Self.field(e, "WARDEN_CATEGORY") == "kitchen-appliances", "\(event): WARDEN_CATEGORY")
        }
        let penalty = Self.entries(o, event: "ledger.entry").first
        #expect(penalty.flatMap { Self.field($0, "WARDEN_RULE") } == "K4")
        #expect(penalty.flatMap { Self.field($0, "MESSAGE") }?.contains("10.00") == true)
    }

    /// SPEC.md §6: a module's stderr lines reach the journal with WARDEN_PLUGIN and the
    /// priority of their `<N>` prefix; a held input names module and record.
    @Test(.enabled(if: Systemd.rootTestsEnabled, Systemd.rootSkipMessage))
    func externalModulesLogWithTheirIDs() throws {
        let o = try Self.outcome.get()
        let stderr = o.entries.filter { Self.field($0, "WARDEN_PLUGIN") == "broken" && Self.field($0, "WARDEN_EVENT") == "plugin.stderr" }
        #expect(stderr.contains { Self.field($0, "MESSAGE") == "this module refuses to start" && Self.field($0, "PRIORITY") == "3" }, "\(o.log)")
        let failed = Self.entries(o, event: "plugin.failed").filter { Self.field($0, "WARDEN_PLUGIN") == "broken" }
        #expect(!failed.isEmpty)
        let held = Self.entries(o, event: "plugin.error")
        #expect(held.contains { Self.field($0, "WARDEN_PLUGIN") == "cosmetics" && Self.field($0, "WARDEN_RECORD") == "order:J-P1" }, "\(held)")
    }

    @Test(.enabled(if: Systemd.rootTestsEnabled, Systemd.rootSkipMessage))
    func rejectedFilesAndConfigProblemsNameTheFile() throws {
        let o = try Self.outcome.get()
        let rejected = Self.entries(o, event: "spool.rejected").filter { Self.field($0, "WARDEN_FILE") != "poison.json" }
        #expect(rejected.count == 1)
        #expect(rejected.first.flatMap { Self.field($0, "WARDEN_FILE") } == "bad.json")
        #expect(rejected.first.flatMap { Self.field($0, "MESSAGE") }?.contains("order_id") == true)

        let invalid = Self.entries(o, event: "config.invalid")
        #expect(invalid.count == 1)
        // The file, line and key of the error (issue 4).
        let message = invalid.first.flatMap { Self.field($0, "MESSAGE") } ?? ""
        #expect(message.contains("warden.toml:"), "\(message)")
        #expect(message.contains("no_such_key"), "\(message)")
        #expect(Self.entries(o, event: "config.reloaded").count == 1)
    }

    /// Issue 10: a file that crashed the daemon at two starts is quarantined at the
    /// third, at PRIORITY=2, and the daemon goes on (the case of the scenario still
    /// opens, warns and expires in the same run).
    @Test(.enabled(if: Systemd.rootTestsEnabled, Systemd.rootSkipMessage))
    func aFileThatCrashedTwoStartsIsQuarantinedAtTheThird() throws {
        let o = try Self.outcome.get()
        #expect(o.poisonPIDs.count == 2, "\(o.log)")
        #expect(o.log.contains("poison start 1: wardend (PID \(o.poisonPIDs.first ?? "?")) exited with 134"), "the first start did not abort\n\(o.log)")
        #expect(o.log.contains("poison start 2: wardend (PID \(o.poisonPIDs.last ?? "?")) exited with 134"), "the second start did not abort\n\(o.log)")
        let quarantined = Self.entries(o, event: "spool.quarantined")
        #expect(quarantined.count == 1, "\(o.log)")
        guard let q = quarantined.first else { return }
        #expect(Self.field(q, "PRIORITY") == "2")
        #expect(Self.field(q, "_PID") == o.wardendPID, "quarantined by the third start")
        #expect(Self.field(q, "WARDEN_FILE") == "poison.json")
        #expect(Self.field(q, "MESSAGE")?.contains("2 times") == true, "\(Self.field(q, "MESSAGE") ?? "")")
        #expect(Self.entries(o, event: "deadline.expired").count == 1, "the daemon went on after the quarantine")
    }

    @Test(.enabled(if: Systemd.rootTestsEnabled, Systemd.rootSkipMessage))
    func everyLineIsANativeStructuredEntry() throws {
        let o = try Self.outcome.get()
        #expect(o.wardendStatus == "0", "wardend's exit status after SIGTERM")
        #expect(o.entries.count >= 7)
        for e in o.entries {
            let message = Self.field(e, "MESSAGE") ?? "?"
            #expect(Self.field(e, "SYSLOG_IDENTIFIER") == "wardend", "\(message)")
            #expect(Self.field(e, "_TRANSPORT") == "journal", "not sent natively: \(message)")
            #expect(Self.field(e, "_PID").map { $0 == o.wardendPID || o.poisonPIDs.contains($0) } == true, "\(message)")
            #expect(Self.field(e, "PRIORITY").flatMap(Int.init).map { (0...7).contains($0) } == true, "\(message)")
            #expect(Self.field(e, "WARDEN_EVENT") != nil, "no WARDEN_EVENT: \(message)")
        }
    }
}
