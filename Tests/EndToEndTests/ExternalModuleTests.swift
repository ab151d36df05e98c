import Foundation
import Testing
import WardenClient
import WardenCore
import WardenTestKit

/// External policy modules (SPEC.md §6) run by the built wardend: a Python module
/// (`plugins/cosmetics`, on the SDK in Plugins/sdk/python) that opens cases, has
/// deadlines fired, books and records findings from a record type it declares; and the
/// same module with faults on demand. Each fault: the daemon and the other modules
/// carry on, nothing of the failed input is applied, the held input is evaluated after
/// a reload, and no process is left behind.
@Suite("External modules", .serialized)
struct ExternalModuleTests {
    static let plugin = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("plugins/cosmetics").path

    static func config(_ d: DaemonHarness? = nil, tag: String, fault: String? = nil, timeout: String = "2s", window: String = "48h") -> String {
        var args = ["--tag", tag]
        if let fault { args += ["--fault", fault] }
        return """
            [policies.cosmetics]
            exec = "\(plugin)"
            args = [\(args.map { "\"\($0)\"" }.joined(separator: ", "))]
            timeout = "\(timeout)"
            evidence_window = "\(window)"
            """
    }

    static func harness(fault: String? = nil, timeout: String = "2s", window: String = "48h") throws -> DaemonHarness {
        let tag = "tag-\(UUID().uuidString)"
        let d = try DaemonHarness(extraConfig: config(tag: tag, fault: fault, timeout: timeout, window: window))
        try d.root.write("tag", tag)
        return d
    }

    static func tag(_ d: DaemonHarness) -> String { (try? String(contentsOfFile: d.root.path + "/tag", encoding: .utf8)) ?? "?" }

    /// Pids of processes whose command line holds `text`.
    static func processes(holding text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(text)
        }
    }

    /// Pids of processes in process group `pgid`.
    static func group(_ pgid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 3 && Int32(fields[2]) == pgid && !fields[0].hasPrefix("Z")
        }
    }

    static func cosmetics(_ d: DaemonHarness) throws -> JSON? {
        try d.call("policy.list")["policies"]?.array?.first { $0["id"] == "cosmetics" }
    }

    static func order(_ id: String, category: String = "cosmetics") -> String {
        #"{"type":"order","order_id":"\#(id)","category":"\#(category)","item":"lipstick","shop":"demo","paid_amount":"99.00","paid_at":"2023-04-01 10:12:00"}"#
    }

    static func pair(_ id: String, category: String = "cosmetics", openedAt: Timestamp = Fixtures.now()) -> String {
        order(id, category: category) + "\n" + Fixtures.complaint("C-" + id, order: id, openedAt: openedAt) + "\n"
    }

    @Test func aPythonModuleOpensCasesHasDeadlinesFiredBooksAndOwnsARecordType() throws {
        let d = try Self.harness(window: "3s")
        try d.start()
        defer { _ = d.stop() }
        let module = try #require(try Self.cosmetics(d))
        #expect(module["origin"] == "external")
        #expect(module["state"] == "running")
        #expect(module["categories"] == ["cosmetics", "lipstick"])
        #expect(module["record_types"]?.array?.first?["type"] == "batch-recall")
        #expect(module["parameters"]?["evidence_window"] == "3s")

        let now = Fixtures.now()
        try d.drop("a.ndjson", Self.pair("P1", category: "lipstick", openedAt: now) + Self.pair("P2", openedAt: now))
        try d.waitFor("two cosmetics cases") { try d.call("case.list", ["category": "cosmetics"])["cases"]?.array?.count == 2 }
        #expect(try d.call("case.get", ["case_id": "C-P1"])["case"]?["state"] == "awaiting-evidence")
        // Evidence for one in time: the module moves it; the core keeps the items.
        _ = try d.call("evidence.submit", ["case_id": "C-P1", "items": [["kind": "delivery-photo", "ref": "p.jpg"]]])
        try d.waitFor("C-P1 evidence-submitted") { try d.call("case.get", ["case_id": "C-P1"])["case"]?["state"] == "evidence-submitted" }
        #expect(try d.call("case.get", ["case_id": "C-P1"])["case"]?["evidence"]?.array?.count == 1)
        // The other's deadline fires: defaulted, C4 booked once.
        try d.waitFor("C-P2 defaulted", timeout: 30) { try d.call("case.get", ["case_id": "C-P2"])["case"]?["state"] == "defaulted" }
        try d.waitFor("C4 booked") { try d.call("ledger.summary", ["category": "cosmetics"])["count"] == 1 }
        #expect(try d.call("ledger.summary", ["category": "cosmetics"])["amount"] == "10.00")
        // A declared record type: validated by the core from the declaration.
        try d.drop("recall.json", #"{"type":"batch-recall","order_id":"P2","recalled_at":"2024-05-01T10:00:00+08:00","lot":"L7","severity":"major"}"#)
        try d.waitFor("C9 finding") { try d.call("finding.list", ["rule": "C9"])["findings"]?.array?.count == 1 }
        try d.drop("bad-recall.json", #"{"type":"batch-recall","order_id":"P2","recalled_at":"2024-05-01T10:00:00+08:00","severity":"huge"}"#)
        try d.waitFor("the bad recall rejected") {
            let files = try d.call("spool.rejected")["files"]?.array ?? []
            return files.contains { $0["file"] == "bad-recall.json" && "\($0["errors"] ?? .null)".contains("severity") }
        }
        #expect(try d.call("daemon.status")["records_waiting"] == .object(JSONObject()))
    }

    /// One test per fault: the poison order (and its complaint) are held, every other
    /// input of the module and of the built-in modules goes on; a reload without the
    /// fault evaluates the held inputs; no process is left behind.
    @Test(arguments: ["crash-on:PX", "hang-on:PX", "garbage-on:PX", "bad-decision-on:PX"])
    func aFaultOnOneRecordHoldsItAndNothingElse(fault: String) throws {
        let d = try Self.harness(fault: fault, timeout: "3s")
        try d.start()
        defer { _ = d.stop() }
        let tag = Self.tag(d)
        let now = Fixtures.now()
        try d.drop("mixed.ndjson", Self.pair("PX", openedAt: now) + Self.pair("OK1", openedAt: now) + Self.pair("K1", category: "stand-mixer", openedAt: now))
        // The kitchen case (built in) and the healthy cosmetics case open.
        try d.waitFor("kitchen case K1") { try d.call("case.get", ["case_id": "C-K1"])["case"]?["state"] == "awaiting-evidence" }
        try d.waitFor("cosmetics case OK1", timeout: 40) { try d.call("case.get", ["case_id": "C-OK1"])["case"]?["state"] == "awaiting-evidence" }
        // The poison order and its complaint are held (tried twice each), with events.
        try d.waitFor("PX held", timeout: 60) { try d.call("daemon.status")["records_held"]?["cosmetics"] == 2 }
        #expect(try d.call("daemon.status")["records_waiting"]?["cosmetics"] == 2)
        #expect(throws: (any Error).self) { try d.call("case.get", ["case_id": "C-PX"]) }
        let errors = try d.connect()
        _ = try errors.call("event.subscribe", ["topics": ["plugin.error"], "since": 0])
        let first = try #require(try errors.readMessage())
        #expect(first["params"]?["topic"] == "plugin.error")
        #expect(first["params"]?["module"] == "cosmetics")
        // The daemon answers throughout, and the module is still in service.
        #expect(try d.call("daemon.status")["api"] == 1)
        let state = try Self.cosmetics(d)?["state"]?.string
        #expect(state == "running" || state == "restarting")

        // A reload with the fault gone evaluates the held inputs, in arrival order.
        try d.root.write("warden.toml", (try String(contentsOfFile: d.configPath, encoding: .utf8)).replacingOccurrences(of: "\"--fault\", \"\(fault)\"", with: "\"--fault\", \"none\""))
        #expect(try d.call("daemon.reload")["reloaded"] == true)
        try d.waitFor("C-PX opened after the reload", timeout: 30) { try d.call("case.get", ["case_id": "C-PX"])["case"]?["state"] == "awaiting-evidence" }
        try d.waitFor("nothing waits") { try d.call("daemon.status")["records_waiting"] == .object(JSONObject()) }
        #expect(d.stop() == 0)
        #expect(Self.processes(holding: tag).isEmpty)
    }

    @Test func aModuleThatCrashesOnEverythingIsFailedAndTheRestCarriesOn() throws {
        let d = try Self.harness(fault: "crash-always", timeout: "3s")
        try d.start()
        defer { _ = d.stop() }
        try d.drop("many.ndjson", (0..<4).map { Self.pair("N\($0)") }.joined() + Self.pair("K2", category: "stand-mixer"))
        try d.waitFor("the module failed", timeout: 90) { try Self.cosmetics(d)?["state"] == "failed" }
        #expect(try Self.cosmetics(d)?["error"]?.string?.contains("restarts within") == true)
        #expect((try Self.cosmetics(d)?["restarts"]?.int ?? 0) >= 5)
        // Kitchen goes on; the daemon answers; the module's inputs wait in its queue.
        try d.waitFor("kitchen case K2") { try d.call("case.get", ["case_id": "C-K2"])["case"] != nil }
        #expect((try d.call("daemon.status")["records_waiting"]?["cosmetics"]?.int ?? 0) == 8)
        #expect(Self.processes(holding: Self.tag(d)).isEmpty)
    }

    @Test func aWrongProtocolVersionIsRefusedAtTheHandshake() throws {
        let d = try Self.harness(fault: "protocol:2")
        try d.start()
        defer { _ = d.stop() }
        let module = try #require(try Self.cosmetics(d))
        #expect(module["state"] == "failed")
        #expect(module["error"]?.string?.contains("protocol 2") == true)
        // Its records are refused as unknown types / stored unmanaged; the daemon runs.
        try d.drop("k.ndjson", Self.pair("K3", category: "stand-mixer"))
        try d.waitFor("kitchen case K3") { try d.call("case.get", ["case_id": "C-K3"])["case"] != nil }
        #expect(Self.processes(holding: Self.tag(d)).isEmpty)
    }

    /// A module that cannot start is still known from its last start: its records are
    /// validated and queued, not refused, and evaluated once a reload brings it back.
    /// A disabled built-in module's types are still accepted and stored.
    @Test func aModuleThatCannotStartKeepsItsRecordsWaiting() throws {
        let d = try Self.harness()
        try d.start()
        #expect(try Self.cosmetics(d)?["state"] == "running")
        #expect(d.stop() == 0)
        // Restart with a module that refuses the handshake (protocol 2), and luggage off.
        let config = try String(contentsOfFile: d.configPath, encoding: .utf8)
        try d.root.write("warden.toml", config.replacingOccurrences(of: "args = [\"--tag\"", with: "args = [\"--fault\", \"protocol:2\", \"--tag\"") + "\n[policies.luggage]\nenabled = false\n")
        try d.start()
        defer { _ = d.stop() }
        let module = try #require(try Self.cosmetics(d))
        #expect(module["state"] == "failed")
        #expect(module["record_types"]?.array?.first?["type"] == "batch-recall")
        try d.drop("waits.ndjson", Self.pair("W1") + #"{"type":"batch-recall","order_id":"W1","recalled_at":"2024-05-01T10:00:00+08:00","severity":"major"}"# + "\n")
        try d.drop("profile.json", #"{"type":"shop-profile","shop":"bags","ifashion":true}"#)
        try d.waitFor("three inputs wait for the module") { try d.call("daemon.status")["records_waiting"]?["cosmetics"] == 3 }
        try d.waitFor("both files processed") { try d.call("daemon.status")["spool"]?["processed"] == 2 }
        #expect(try d.call("daemon.status")["spool"]?["rejected"] == 0)
        // The module fixed: a reload evaluates what waited, in arrival order.
        try d.root.write("warden.toml", config + "\n[policies.luggage]\nenabled = false\n")
        #expect(try d.call("daemon.reload")["reloaded"] == true)
        try d.waitFor("C-W1 opened") { try d.call("case.get", ["case_id": "C-W1"])["case"]?["state"] == "awaiting-evidence" }
        try d.waitFor("the recall judged") { try d.call("finding.list", ["rule": "C9"])["findings"]?.array?.count == 1 }
        try d.waitFor("nothing waits") { try d.call("daemon.status")["records_waiting"] == .object(JSONObject()) }
    }

    @Test func aFloodOfStderrIsLoggedWithinLimitsAndTheModuleWorks() throws {
        // A generous timeout: this is about stderr, and a loaded machine may be slow to
        // answer while the module floods it.
        let d = try Self.harness(fault: "stderr-flood", timeout: "10s")
        try d.start()
        defer { _ = d.stop() }
        try d.drop("a.ndjson", Self.pair("F1"))
        try d.waitFor("F1 case", timeout: 30) { try d.call("case.get", ["case_id": "C-F1"])["case"] != nil }
        try d.waitFor("the flood was cut and said so") { d.log.contains("plugin.stderr_dropped") }
        let logged = d.log.components(separatedBy: "flood line").count - 1
        #expect(logged > 0 && logged < 100_000)
    }

    @Test func aGrandchildThatIgnoresSIGTERMDoesNotOutliveTheDaemon() throws {
        let d = try Self.harness(fault: "grandchild")
        try d.start()
        let pid = try #require(try Self.cosmetics(d)?["pid"]?.int)
        try d.waitFor("the grandchild runs") { Self.group(Int32(pid)).count >= 2 }
        #expect(d.stop() == 0)
        try d.waitFor("the group is gone") { Self.group(Int32(pid)).isEmpty }
    }

    @Test func aCallQueuedBehindAnotherRoundIsTimedFromWhenTheModuleCanStartOnIt() throws {
        // 600 inputs: a round of 512 (272 calls, 10 ms an input: over 5 s) and one of 88
        // sent behind it at once. Each call has 1 s, counted from the answer before it,
        // so none times out.
        let d = try Self.harness(fault: "slow:0.01", timeout: "1s")
        try d.start()
        defer { _ = d.stop() }
        try d.drop("queued.ndjson", (0..<600).map { Self.order("Q\($0)") }.joined(separator: "\n") + "\n")
        try d.waitFor("the orders stored and queued") { try d.call("daemon.status")["orders"] == 600 }
        try d.waitFor("every input evaluated", timeout: 60) { try d.call("daemon.status")["records_waiting"] == .object(JSONObject()) }
        let module = try #require(try Self.cosmetics(d))
        #expect(module["restarts"] == 0, "\(module)")
        #expect(module["state"] == "running")
    }

    @Test func aSlowModuleDoesNotHoldUpKitchenRecords() throws {
        let d = try Self.harness(fault: "slow:30", timeout: "60s")
        try d.start()
        defer { _ = d.stop() }
        try d.drop("slow.ndjson", Self.pair("S1"))
        try d.waitFor("S1 queued for the module") { try d.call("daemon.status")["records_waiting"]?["cosmetics"] == 2 }
        // While the module sleeps on S1 (30 s), a kitchen file is committed, its case
        // opens and the socket answers: S1 is still not applied when they are.
        try d.drop("kitchen.ndjson", Self.pair("K4", category: "stand-mixer"))
        try d.waitFor("kitchen case K4", timeout: 20) { try d.call("case.get", ["case_id": "C-K4"])["case"] != nil }
        #expect(try d.call("daemon.status")["records_waiting"]?["cosmetics"] == 2)
        #expect(throws: (any Error).self) { try d.call("case.get", ["case_id": "C-S1"]) }
    }
}

/// A built-in module served out of process (`wardend plugin serve`) gives what it gives
/// in process: the same records into two daemons, one with the module compiled in and
/// one running it through SPEC.md §6, leave identical cases, ledger and findings.
@Suite("Built-in modules both ways", .serialized)
struct BothWaysTests {
    static func snapshot(_ d: DaemonHarness) throws -> String {
        let cases = try d.call("case.list", ["limit": 1000])["cases"] ?? .null
        let ledger = try d.call("ledger.list", ["limit": 1000])["entries"] ?? .null
        let findings = try d.call("finding.list", ["limit": 1000])["findings"] ?? .null
        return JSONWriter.string(["cases": cases, "ledger": ledger, "findings": findings], sortedKeys: true)
    }

    /// `after[name]` runs once file `name` is processed, before the next is dropped: for
    /// a file whose outcome depends on a firing the one before it set off (a module out
    /// of process fires it asynchronously, so without the wait the next file could
    /// land first in one run and not in the other).
    static func run(
        _ files: [(String, String)], outOfProcess module: String?, exec: String? = nil, after: [String: (DaemonHarness) throws -> Void] = [:],
        settle: (DaemonHarness) throws -> Void
    ) throws -> String {
        let extra = module.map {
            if let exec { return "[policies.\($0)]\nexec = \"\(exec)\"\n" }
            return """
                [policies.\($0)]
                exec = "\(DaemonHarness.binary("wardend"))"
                args = ["plugin", "serve", "\($0)"]
                """
        } ?? ""
        let d = try DaemonHarness(extraConfig: extra)
        try d.start()
        defer { _ = d.stop() }
        if let module { #expect(try d.call("policy.list")["policies"]?.array?.first { $0["id"] == .string(module) }?["origin"] == "external") }
        for (name, contents) in files {
            try d.drop(name, contents)
            try d.waitFor("\(name) processed") { try d.call("daemon.status")["spool"]?["incoming"] == 0 }
            try after[name]?(d)
        }
        try d.waitFor("nothing waits for a module") { try d.call("daemon.status")["records_waiting"] == .object(JSONObject()) }
        try settle(d)
        return try snapshot(d)
    }

    @Test func kitchenAppliances() throws {
        // Fixed times in the past: every deadline has passed, so the run is the same
        // whenever it happens.
        let files = [
            ("orders.ndjson", """
                {"type":"order","order_id":"K1","category":"stand-mixer","shop":"demo","paid_amount":"1299.00","paid_at":"2023-04-01 10:12:00","delivery_service":"merchant"}
                {"type":"order","order_id":"K2","category":"massage-chair","shop":"demo","paid_amount":"5999.00","paid_at":"2023-04-01 10:00:00","delivery_service":"none"}
                {"type":"order","order_id":"K3","category":"steam-cleaner","shop":"demo","paid_amount":"399.00","paid_at":"2023-04-02 10:00:00","delivery_service":"platform"}
                {"type":"order","order_id":"K4","category":"stand-mixer","shop":"demo","paid_amount":"1299.00","paid_at":"2023-04-03 10:12:00","delivery_service":"merchant"}
                """),
            ("complaints.ndjson", """
                {"type":"complaint","complaint_id":"C1","order_id":"K1","reason":"not-delivered-to-door","opened_at":"2023-04-05 09:30:00"}
                {"type":"complaint","complaint_id":"C3","order_id":"K3","reason":"not-delivered-to-door","opened_at":"2023-04-05 09:30:00"}
                {"type":"complaint","complaint_id":"C4","order_id":"K4","reason":"not-delivered-to-door","opened_at":"2023-04-05 09:30:00"}
                {"type":"evidence","complaint_id":"C4","submitted_at":"2023-04-05 20:00:00","items":[{"kind":"signed-receipt","ref":"r.pdf"}]}
                {"type":"verdict","complaint_id":"C4","outcome":"seller-liable","decided_at":"2023-04-08 10:00:00"}
                """),
            ("late-evidence.ndjson", """
                {"type":"evidence","complaint_id":"C1","submitted_at":"2023-04-07 20:00:00","items":[{"kind":"delivery-photo","ref":"late.jpg"}]}
                """),
        ]
        let settle: (DaemonHarness) throws -> Void = { d in
            try d.waitFor("C1 defaulted") { try d.call("case.get", ["case_id": "C1"])["case"]?["state"] == "defaulted" }
            try d.waitFor("C4 liable") { try d.call("case.get", ["case_id": "C4"])["case"]?["state"] == "liable" }
        }
        // C1's deadline (past) fires as soon as C1 is stored; the late evidence is meant
        // to arrive after that, in both runs.
        let after: [String: (DaemonHarness) throws -> Void] = [
            "complaints.ndjson": { d in try d.waitFor("C1 defaulted") { try d.call("case.get", ["case_id": "C1"])["case"]?["state"] == "defaulted" } }
        ]
        let inProcess = try Self.run(files, outOfProcess: nil, after: after, settle: settle)
        let served = try Self.run(files, outOfProcess: "kitchen-appliances", after: after, settle: settle)
        #expect(inProcess.contains("\"K4\"") && inProcess.contains("\"liable\""))
        #expect(served == inProcess)
    }

    @Test func modelToys() throws {
        let files = [
            ("orders.ndjson", """
                {"type":"order","order_id":"T1","category":"model-toys","shop":"toys","paid_amount":"123.45","paid_at":"2023-03-01 10:00:00","ship_by":"2023-03-20 10:00:00"}
                {"type":"order","order_id":"T2","category":"model-toys","shop":"toys","paid_amount":"300.00","paid_at":"2023-03-01 10:00:00","ship_by":"2023-03-20 10:00:00"}
                {"type":"order","order_id":"T3","category":"model-toys","shop":"toys","paid_amount":"59.00","paid_at":"2023-03-01 10:00:00","ship_by":"2023-03-20 10:00:00"}
                {"type":"order","order_id":"T4","category":"model-toys","shop":"toys","paid_amount":"59.00","paid_at":"2023-03-01 10:00:00","ship_by":"2023-09-20 10:00:00"}
                """),
            ("actions.ndjson", """
                {"type":"complaint","complaint_id":"U1","order_id":"T1","reason":"urge-shipment","opened_at":"2023-03-22 10:00:00"}
                {"type":"complaint","complaint_id":"U2","order_id":"T2","reason":"urge-shipment","opened_at":"2023-03-22 10:00:00"}
                {"type":"shipment","order_id":"T2","shipped_at":"2023-03-22 18:00:00","carrier":"SF"}
                {"type":"ship-negotiation","order_id":"T3","new_ship_by":"2023-04-20 10:00:00","proposed_at":"2023-03-10 10:00:00","buyer_confirmed":true}
                {"type":"ship-negotiation","tid":"T3","new_ship_by":"2024-04-20 10:00:00","proposed_at":"2023-03-11 10:00:00","buyer_confirmed":true}
                {"type":"complaint","complaint_id":"L3","order_id":"T3","reason":"late-shipment","opened_at":"2023-03-25 10:00:00"}
                {"type":"complaint","complaint_id":"U3","order_id":"T1","reason":"urge-shipment","opened_at":"2023-03-24 10:00:00"}
                """),
            ("listings.ndjson", """
                {"type":"listing","listing_id":"M-L1","category":"model-toys","shop":"toys","ship_time_days":200,"first_listed_at":"2023-01-01 00:00:00"}
                {"type":"listing","listing_id":"M-L2","category":"model-toys","shop":"toys","presale":true,"first_listed_at":"2023-01-02 00:00:00"}
                """),
        ]
        let settle: (DaemonHarness) throws -> Void = { d in
            try d.waitFor("U1 penalized") { try d.call("case.get", ["case_id": "U1"])["case"]?["state"] == "penalized" }
            try d.waitFor("U2 resolved") { try d.call("case.get", ["case_id": "U2"])["case"]?["state"] == "resolved" }
        }
        let inProcess = try Self.run(files, outOfProcess: nil, settle: settle)
        let served = try Self.run(files, outOfProcess: "model-toys", settle: settle)
        for words in ["\"M1\"", "\"M4\"", "\"M5\"", "\"M7\"", "\"dismissed\"", "\"reminder\""] { #expect(inProcess.contains(words), "\(words)") }
        #expect(served == inProcess)
    }

    @Test func luggage() throws {
        let files = [
            ("luggage.ndjson", """
                {"type":"shop-profile","shop":"bags","ifashion":true,"serious_violation_points":0,"b_class_points":0,"counterfeit_penalty":false,"video_coverage":0.9,"live_streams_last_month":3,"s_level_promotions":2}
                {"type":"listing","listing_id":"B1","category":"luggage","shop":"bags","first_listed_at":"2023-03-01 00:00:00","prototype_registered_at":"2023-02-20 00:00:00"}
                {"type":"listing","listing_id":"B2","category":"luggage","shop":"bags","first_listed_at":"2023-03-01 00:00:00"}
                {"type":"listing","listing_id":"B3","category":"luggage","shop":"bags","first_listed_at":"2023-03-01 00:00:00","prototype_registered_at":"2023-03-05 00:00:00"}
                {"type":"order","order_id":"B-O1","category":"luggage","shop":"bags","paid_amount":"499.00","paid_at":"2023-04-01 10:00:00","listing_id":"B1"}
                {"type":"order","order_id":"B-O2","category":"luggage","shop":"bags","paid_amount":"499.00","paid_at":"2023-04-01 10:00:00","listing_id":"B1"}
                {"type":"complaint","complaint_id":"IP1","order_id":"B-O1","reason":"ip-infringement","opened_at":"2023-04-05 10:00:00"}
                {"type":"evidence","complaint_id":"IP1","submitted_at":"2023-04-05 12:00:00","items":[{"kind":"prototype-photo","ref":"b1.jpg","registered_at":"2023-02-20 00:00:00"}]}
                {"type":"complaint","complaint_id":"IP2","order_id":"B-O2","reason":"ip-infringement","opened_at":"2023-04-05 10:00:00"}
                """)
        ]
        let settle: (DaemonHarness) throws -> Void = { d in
            try d.waitFor("IP2 defaulted") { try d.call("case.get", ["case_id": "IP2"])["case"]?["state"] == "defaulted" }
            try d.waitFor("IP1 evidence-submitted") { try d.call("case.get", ["case_id": "IP1"])["case"]?["state"] == "evidence-submitted" }
        }
        let inProcess = try Self.run(files, outOfProcess: nil, settle: settle)
        let served = try Self.run(files, outOfProcess: "luggage", settle: settle)
        for words in ["\"L6\"", "listing:B2", "listing:B3", "evidence is strong"] { #expect(inProcess.contains(words), "\(words)") }
        #expect(served == inProcess)
    }

    @Test func serviceQuality() throws {
        let files = [
            ("chat.ndjson", """
                {"type":"chat-metrics","shop":"s1","month":"2022-08","ratings":45,"satisfied_ratings":30,"rounds":1100,"rounds_answered_within_3min":1000}
                {"type":"chat-metrics","shop":"s1","month":"2022-10","ratings":45,"satisfied_ratings":30,"rounds":1100,"rounds_answered_within_3min":1000}
                {"type":"chat-metrics","shop":"s1","month":"2022-11","ratings":25,"satisfied_ratings":10,"rounds":1100,"rounds_answered_within_3min":1000}
                {"type":"chat-metrics","shop":"s2","month":"2022-11","ratings":40,"satisfied_ratings":40,"rounds":1000,"rounds_answered_within_3min":899}
                """),
            ("again.ndjson", """
                {"type":"chat-metrics","shop":"s1","month":"2022-10","ratings":45,"satisfied_ratings":30,"rounds":1100,"rounds_answered_within_3min":1000}
                """),
            // Stored as received, line breaks and all: a module still gets it on one line.
            ("pretty.json", "{\r\n  \"type\": \"chat-metrics\",\n  \"shop\": \"s2\",\n  \"month\": \"2022-12\",\n"
                + "  \"ratings\": 40, \"satisfied_ratings\": 20,\n  \"rounds\": 1000, \"rounds_answered_within_3min\": 990\n}\n"),
        ]
        let settle: (DaemonHarness) throws -> Void = { d in
            try d.waitFor("three S3 bookings") { try d.call("ledger.summary")["count"] == 3 }
        }
        let inProcess = try Self.run(files, outOfProcess: nil, settle: settle)
        let served = try Self.run(files, outOfProcess: "service-quality", settle: settle)
        #expect(inProcess.contains("\"S3\"") && inProcess.contains("shop:s2"))
        #expect(served == inProcess)
        // The Python example (Plugins/examples/service_quality.py) in its place: the same.
        let example = ExternalModuleTests.plugin.replacingOccurrences(of: "Tests/EndToEndTests/plugins/cosmetics", with: "Plugins/examples/service_quality.py")
        let python = try Self.run(files, outOfProcess: "service-quality", exec: example, settle: settle)
        #expect(python == inProcess)
    }
}

@Suite("wardend plugin check")
struct PluginCheckTests {
    @Test func aGoodModulePassesAndABadOneIsNamed() throws {
        let (ok, out, _) = try DaemonHarness.run("wardend", ["plugin", "check", "--exec", ExternalModuleTests.plugin])
        #expect(ok == 0)
        #expect(out.contains("ok    handshake: Cosmetics"))
        #expect(out.contains("record type batch-recall"))
        #expect(out.contains("ok    shutdown"))
        let (bad, badOut, _) = try DaemonHarness.run("wardend", ["plugin", "check", "--exec", ExternalModuleTests.plugin, "--arg=--fault", "--arg=protocol:2"])
        #expect(bad == 1)
        #expect(badOut.contains("FAIL  handshake") && badOut.contains("protocol 2"))
        let (hung, hungOut, _) = try DaemonHarness.run("wardend", ["plugin", "check", "--exec", ExternalModuleTests.plugin, "--arg=--fault", "--arg=hang-on:CHECK-O0", "--timeout", "3s"])
        #expect(hung == 1)
        #expect(hungOut.contains("FAIL  evaluate order CHECK-O0") && hungOut.contains("no answer within 3s"))
        let (served, servedOut, _) = try DaemonHarness.run(
            "wardend", ["plugin", "check", "--exec", DaemonHarness.binary("wardend"), "--arg=plugin", "--arg=serve", "--arg=model-toys", "--id", "model-toys"])
        #expect(served == 0, "\(servedOut)")
    }
}
