import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import WardenClient
import WardenCore

/// wardenctl: talk to wardend over its socket.
@main
struct Wardenctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wardenctl",
        abstract: "Query and drive wardend over its control socket.",
        discussion: """
            Every subcommand takes --socket PATH and --json (after the subcommand: wardenctl cases --json). \
            The socket is --socket, else $WARDEN_SOCKET, else /run/warden/warden.sock. Human output shows \
            times in the daemon's time zone and money in yuan with two decimals; --json prints the raw \
            result for scripts. Exit status: 0 on success, 2 when the thing asked for does not exist \
            (error 1001), 1 on any other error, with the daemon's message on standard error.
            """,
        version: "0.1.0",
        subcommands: [
            Status.self, Policies.self, Cases.self, CaseShow.self, OrderShow.self, Deadlines.self, Ledger.self, Findings.self, Shop.self, Spool.self,
            Evidence.self, SubmitRecords.self, Watch.self, Reload.self, Metrics.self, Call.self,
        ]
    )
}

struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("wardend's socket.", valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print the raw JSON result (for scripts).")
    var json = false

    var socketPath: String {
        socket ?? SystemIO.environment("WARDEN_SOCKET") ?? "/run/warden/warden.sock"
    }

    /// Calls a method; prints the raw result with --json and returns nil, else returns it.
    func call(_ method: String, _ params: JSON = .object(JSONObject())) throws -> JSON? {
        let result: JSON
        do {
            let connection = try WardenConnection(path: socketPath)
            result = try connection.call(method, params)
        } catch let e as WardenConnection.ServerError {
            var message = "wardenctl: \(method): \(e.message) (code \(e.code))"
            if let errors = e.data?["errors"]?.array {
                for err in errors { message += "\n  " + describe(err) }
            }
            SystemIO.writeError((message + "\n"))
            throw ExitCode(e.code == 1001 ? 2 : 1)
        } catch {
            SystemIO.writeError("wardenctl: \(error)\n")
            throw ExitCode(1)
        }
        if json {
            print(JSONWriter.string(result))
            return nil
        }
        return result
    }

    func describe(_ err: JSON) -> String {
        var parts: [String] = []
        if let f = err["file"]?.string { parts.append(f + (err["line"]?.int.map { ":\($0)" } ?? "")) }
        if let k = err["key"]?.string { parts.append(k) }
        if let r = err["record"]?.int { parts.append("record \(r)") }
        if err["file"] == nil, let l = err["line"]?.int { parts.append("line \(l)") }
        if let f = err["field"]?.string { parts.append(f) }
        return (parts.isEmpty ? "" : parts.joined(separator: ", ") + ": ") + (err["message"]?.string ?? "")
    }
}

// MARK: - Output helpers

/// Prints rows as an aligned table with a header.
func table(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padded(to: widths[i]) }
            .joined(separator: "  ")
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

/// `2023-04-06T09:30:00+08:00` → `2023-04-06 09:30:00+08:00`.
func when(_ value: JSON?) -> String {
    guard let s = value?.string else { return "-" }
    return String(s.map { $0 == "T" ? " " : $0 })
}

/// `5400` → `in 1h30m`, `-60` → `1m ago`.
func remaining(_ seconds: Int?) -> String {
    guard let s = seconds else { return "-" }
    let span = TimeSpan.seconds(Int64(abs(s)))
    let text = abs(s) >= 3600 ? TimeSpan.seconds(Int64(abs(s)) / 60 * 60).description : span.description
    return s >= 0 ? "in \(text)" : "\(text) ago"
}

func text(_ value: JSON?) -> String {
    switch value {
    case .string(let s)?: s
    case nil, .null?: "-"
    case let v?: v.description
    }
}

// MARK: - Commands

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the daemon's status.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        guard let r = try global.call("daemon.status") else { return }
        print("wardend \(text(r["version"])) (api \(text(r["api"]))), up \(TimeSpan.seconds(Int64(r["uptime_s"]?.int ?? 0)))")
        print("storage    \(text(r["storage"]))")
        print("policies   \((r["policies"]?.array ?? []).map(text).joined(separator: ", "))")
        print("spool      incoming \(text(r["spool"]?["incoming"])), processed \(text(r["spool"]?["processed"])), rejected \(text(r["spool"]?["rejected"]))")
        print("orders     \(text(r["orders"])) (\(text(r["unmanaged_orders"])) unmanaged)")
        print("cases      \(text(r["cases"]?["open"])) open, \(text(r["cases"]?["closed"])) closed")
        if let n = r["next_deadline"], !n.isNull {
            print("next       \(text(n["case_id"])) due \(when(n["due_at"])) (\(remaining(n["remaining_s"]?.int)))")
        } else {
            print("next       no pending deadline")
        }
    }
}

struct Policies: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List policy modules and their parameters.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        guard let r = try global.call("policy.list") else { return }
        let policies = r["policies"]?.array ?? []
        let rows = policies.map { p -> [String] in
            let params = (p["parameters"]?.object?.pairs ?? []).map { "\($0.key)=\(text($0.value))" }.joined(separator: " ")
            let restarts = p["restarts"]?.int ?? 0
            return [text(p["id"]), text(p["version"]), text(p["origin"] ?? "builtin"), text(p["state"] ?? p["status"]), restarts > 0 ? "\(restarts)" : "-", params]
        }
        table(["ID", "VERSION", "ORIGIN", "STATE", "RESTARTS", "PARAMETERS"], rows)
        // Why a module failed, or its last fault, and what external modules declare.
        for p in policies {
            if let error = p["error"]?.string { print("\(text(p["id"])): \(error)") }
            for t in p["record_types"]?.array ?? [] {
                print("\(text(p["id"])): record type \(text(t["type"])) (key \((t["key"]?.array ?? []).map(text).joined(separator: "+")))")
            }
        }
    }
}

struct Cases: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List cases.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only cases in this state (e.g. awaiting-evidence).", completion: .list(["awaiting-evidence", "awaiting-action", "evidence-submitted", "reminder", "platform-handled", "resolved", "dismissed", "defaulted", "liable", "penalized"]))
    var state: String?
    @Option(help: "Only cases of this category (policy id).") var category: String?
    @Option(help: "Only cases of this shop.") var shop: String?
    @Option(help: "At most this many (1-1000).") var limit: Int = 100
    @Option(help: "Continue after this cursor (from a previous page).") var cursor: String?

    func run() throws {
        var params: JSONObject = ["limit": JSON(limit)]
        if let state { params["state"] = .string(state) }
        if let category { params["category"] = .string(category) }
        if let shop { params["shop"] = .string(shop) }
        if let cursor { params["cursor"] = .string(cursor) }
        guard let r = try global.call("case.list", .object(params)) else { return }
        let rows = (r["cases"]?.array ?? []).map { c in
            [text(c["case_id"]), text(c["order_id"]), text(c["category"]), text(c["state"]), when(c["deadline"]), c["liability"]?["amount"].map(text) ?? "-"]
        }
        table(["CASE", "ORDER", "CATEGORY", "STATE", "DEADLINE", "OWED"], rows)
        if let next = r["next_cursor"]?.string { print("more: --cursor \(next)") }
    }
}

struct CaseShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "case", abstract: "Show one case with its evidence and history.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The case id (the complaint id).") var id: String

    func run() throws {
        guard let r = try global.call("case.get", ["case_id": .string(id)]), let c = r["case"] else { return }
        print("case      \(text(c["case_id"]))")
        print("order     \(text(c["order_id"]))  shop \(text(c["shop"]))")
        print("category  \(text(c["category"]))  reason \(text(c["reason"]))")
        print("state     \(text(c["state"]))")
        print("opened    \(when(c["opened_at"]))")
        print("deadline  \(when(c["deadline"]))")
        if let l = c["liability"], !l.isNull { print("liability \(text(l["amount"])) yuan, \(text(l["points"])) points") }
        let evidence = c["evidence"]?.array ?? []
        if !evidence.isEmpty {
            print("\nevidence")
            table(["KIND", "REF", "SUBMITTED", "IN TIME"], evidence.map { [text($0["kind"]), text($0["ref"]), when($0["submitted_at"]), text($0["in_time"])] })
        }
        print("\nhistory")
        table(["AT", "STATE", "NOTE"], (c["history"]?.array ?? []).map { [when($0["at"]), text($0["state"]), text($0["note"])] })
    }
}

struct OrderShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "order", abstract: "Show one order and its cases.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The order id.") var id: String

    func run() throws {
        guard let r = try global.call("order.get", ["order_id": .string(id)]), let o = r["order"] else { return }
        for key in ["order_id", "category", "shop", "item", "paid_amount", "paid_at", "ship_deadline", "shipped_at", "delivery_service", "managed_by"] {
            print(key.padded(to: 17) + (key.hasSuffix("_at") || key == "ship_deadline" ? when(o[key]) : text(o[key])))
        }
        let negotiations = o["negotiations"]?.array ?? []
        if !negotiations.isEmpty {
            print("")
            table(["PROPOSED", "NEW SHIP BY", "CONFIRMED", "IN FORCE", "NOTE"], negotiations.map { [when($0["proposed_at"]), when($0["new_ship_by"]), text($0["buyer_confirmed"]), text($0["in_force"]), text($0["note"])] })
        }
        let cases = r["cases"]?.array ?? []
        if !cases.isEmpty {
            print("")
            table(["CASE", "STATE", "DEADLINE"], cases.map { [text($0["case_id"]), text($0["state"]), when($0["deadline"])] })
        }
    }
}

struct Deadlines: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List pending deadlines, soonest first.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "How far ahead to look (e.g. 6h, 2d).") var within: String = "24h"
    @Option(help: "At most this many (1-1000).") var limit: Int = 100

    func run() throws {
        guard let span = TimeSpan.parse(within) else { throw ValidationError("--within: \"\(within)\" is not a duration (e.g. 6h, 90m, 2d)") }
        guard let r = try global.call("deadline.list", ["within_s": JSON(span.seconds), "limit": JSON(limit)]) else { return }
        let rows = (r["deadlines"]?.array ?? []).map {
            [text($0["case_id"]), text($0["category"]), text($0["state"]), when($0["due_at"]), remaining($0["remaining_s"]?.int)]
        }
        table(["CASE", "CATEGORY", "STATE", "DUE", "LEFT"], rows)
    }
}

struct Ledger: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show ledger totals and entries.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "From this time (inclusive).") var from: String?
    @Option(help: "Until this time (exclusive).") var to: String?

    func run() throws {
        var params = JSONObject()
        if let from { params["from"] = .string(from) }
        if let to { params["to"] = .string(to) }
        var plain = global
        plain.json = false
        guard let s = try plain.call("ledger.summary", .object(params)), let l = try plain.call("ledger.list", .object(params)) else { return }
        if global.json {
            print(JSONWriter.string(["summary": s, "entries": l["entries"] ?? .array([])]))
            return
        }
        print("total  \(text(s["amount"])) yuan, \(text(s["points"])) points, \(text(s["count"])) entries\n")
        table(["RULE", "AMOUNT", "POINTS", "COUNT"], (s["by_rule"]?.object?.pairs ?? []).map { [$0.key, text($0.value["amount"]), text($0.value["points"]), text($0.value["count"])] })
        print("")
        table(["CATEGORY", "AMOUNT", "POINTS", "COUNT"], (s["by_category"]?.object?.pairs ?? []).map { [$0.key, text($0.value["amount"]), text($0.value["points"]), text($0.value["count"])] })
        let entries = l["entries"]?.array ?? []
        if !entries.isEmpty {
            print("")
            table(["ENTRY", "AT", "RULE", "CASE", "AMOUNT", "POINTS"], entries.map { [text($0["entry_id"]), when($0["at"]), text($0["rule"]), text($0["case_id"]), text($0["amount"]), text($0["points"])] })
        }
    }
}

struct Findings: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List findings (rule breaches without a deadline).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this rule (e.g. K1, M4).") var rule: String?
    @Option(help: "Only this subject (e.g. listing:L1, order:O1, shop:S).") var subject: String?
    @Option(help: "At most this many (1-1000).") var limit: Int = 100
    @Option(help: "Continue after this cursor.") var cursor: String?

    func run() throws {
        var params: JSONObject = ["limit": JSON(limit)]
        if let rule { params["rule"] = .string(rule) }
        if let subject { params["subject"] = .string(subject) }
        if let cursor { params["cursor"] = .string(cursor) }
        guard let r = try global.call("finding.list", .object(params)) else { return }
        table(["FINDING", "RULE", "SEVERITY", "SUBJECT", "MESSAGE"], (r["findings"]?.array ?? []).map { [text($0["finding_id"]), text($0["rule"]), text($0["severity"]), text($0["subject"]), text($0["message"])] })
        if let next = r["next_cursor"]?.string { print("more: --cursor \(next)") }
    }
}

struct Shop: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a shop: original-design eligibility (L1-L5) and monthly service quality (S1-S3).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The shop name.") var name: String

    func run() throws {
        guard let r = try global.call("shop.get", ["shop": .string(name)]) else { return }
        print("shop \(text(r["shop"]))")
        if let od = r["original_design"], !od.isNull {
            print("\noriginal design: \(od["eligible"] == .bool(true) ? "eligible" : "not eligible"), next review \(text(od["next_review"]))")
            table(["RULE", "OK", "DETAIL"], (od["checks"]?.array ?? []).map { [text($0["rule"]), $0["ok"] == .bool(true) ? "yes" : "no", text($0["detail"])] })
        }
        let months = r["service_quality"]?.array ?? []
        if !months.isEmpty {
            func pct(_ v: JSON?, assessed: JSON?) -> String {
                guard let n = v?.number else { return "-" }
                let p = "\((n * 1000).rounded() / 10)%"
                return assessed == .bool(true) ? p : p + " (not assessed)"
            }
            print("\nservice quality")
            table(["MONTH", "SATISFACTION", "RESPONSE <3MIN", "PASSED", "POINTS"], months.map { [text($0["month"]), pct($0["satisfaction"], assessed: $0["satisfaction_assessed"]), pct($0["response_rate"], assessed: $0["response_assessed"]), $0["passed"] == .bool(true) ? "yes" : "no", text($0["points"])] })
        }
    }
}

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the daemon's metrics in the Prometheus text format (what GET /metrics serves).",
        discussion: "Works whether or not [metrics] listen is set: it asks over the socket (metrics.get).")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        guard let r = try global.call("metrics.get") else { return }
        print(r["text"]?.string ?? "", terminator: "")
    }
}

struct Spool: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the spool: files waiting, processed, rejected, and why files were rejected.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "At most this many rejected files (1-1000).") var limit: Int = 20

    func run() throws {
        if global.json {
            _ = try global.call("spool.rejected", ["limit": JSON(limit)])
            return
        }
        guard let s = try global.call("daemon.status"), let r = try global.call("spool.rejected", ["limit": JSON(limit)]) else { return }
        print("incoming \(text(s["spool"]?["incoming"])), processed \(text(s["spool"]?["processed"])), rejected \(text(s["spool"]?["rejected"]))")
        let files = r["files"]?.array ?? []
        if !files.isEmpty {
            print("")
            var rows: [[String]] = []
            for f in files {
                for (i, e) in (f["errors"]?.array ?? []).enumerated() {
                    rows.append([i == 0 ? text(f["file"]) : "", i == 0 ? when(f["at"]) : "", global.describe(e)])
                }
            }
            table(["FILE", "AT", "ERROR"], rows)
        }
    }
}

struct Evidence: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Submit evidence for a case.", subcommands: [Submit.self])

    struct Submit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Submit evidence items (KIND=REF) for a case now.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The case id.") var caseId: String
        @Option(name: .customLong("item"), help: ArgumentHelp("An item, e.g. delivery-photo=/srv/photos/1.jpg (repeatable).", valueName: "kind=ref"))
        var items: [String] = []
        @Option(help: "A note for the platform.") var note: String?

        func run() throws {
            guard !items.isEmpty else { throw ValidationError("give at least one --item KIND=REF") }
            var list: [JSON] = []
            for item in items {
                guard let eq = item.firstIndex(of: "=") else { throw ValidationError("--item \(item): expected KIND=REF") }
                list.append(["kind": .string(String(item[..<eq])), "ref": .string(String(item[item.index(after: eq)...]))])
            }
            var params: JSONObject = ["case_id": .string(caseId), "items": .array(list)]
            if let note { params["note"] = .string(note) }
            guard let r = try global.call("evidence.submit", .object(params)) else { return }
            print("case \(text(r["case"]?["case_id"])) is now \(text(r["case"]?["state"]))")
        }
    }
}

struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Call any method with JSON params and print the result.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The method, e.g. case.get.") var method: String
    @Argument(help: "Params as a JSON object, e.g. '{\"case_id\":\"C1\"}'.") var params: String?

    func run() throws {
        var value: JSON = .object(JSONObject())
        if let params {
            do { value = try JSONParser.parse(params) } catch { throw ValidationError("params: invalid JSON: \(error)") }
        }
        let result: JSON
        do {
            result = try WardenConnection(path: global.socketPath).call(method, value)
        } catch let e as WardenConnection.ServerError {
            var o: JSONObject = ["code": JSON(e.code), "message": .string(e.message)]
            if let d = e.data { o["data"] = d }
            SystemIO.writeError((JSONWriter.string(.object(o)) + "\n"))
            throw ExitCode(1)
        } catch {
            SystemIO.writeError("wardenctl: \(error)\n")
            throw ExitCode(1)
        }
        print(JSONWriter.string(result))
    }
}
