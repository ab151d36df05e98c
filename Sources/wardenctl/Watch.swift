import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import WardenClient
import WardenCore

/// `wardenctl watch`: follows events live (`event.subscribe`), one line per event.
struct Watch: ParsableCommand {
    static let topics = ["case.opened", "case.changed", "deadline.warning", "deadline.expired", "ledger.entry", "finding.new", "spool.rejected"]

    static let configuration = CommandConfiguration(
        abstract: "Follow events live, one line per event.",
        discussion: """
            Topics: \(topics.joined(separator: ", ")) (default: all). With --since SEQ, stored events \
            after SEQ come first, then live ones, without gap or duplicate. If wardenctl falls \
            behind, wardend drops it with a lagged event; watch then says so on standard error and \
            resubscribes from the last event it printed, so nothing is missed. Ends when wardend \
            closes the connection (exit 1) or after --count events (exit 0).
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Topics to follow (default: all).", completion: .list(Watch.topics)) var topics: [String] = []
    @Option(help: "Replay stored events after this seq first.") var since: Int?
    @Option(help: "Exit after this many events.") var count: Int?

    func run() throws {
        let wanted = topics.isEmpty ? Self.topics : topics
        for t in wanted where !Self.topics.contains(t) {
            throw ValidationError("unknown topic \"\(t)\"; expected \(Self.topics.joined(separator: ", "))")
        }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        let connection: WardenConnection
        do {
            connection = try WardenConnection(path: global.socketPath, timeout: 0)
        } catch {
            throw fail("wardenctl: \(error)")
        }
        var last = since
        var printed = 0
        var subscribed = try subscribe(connection, wanted, since: last)
        if !global.json {
            let from = since.map { "after seq \($0)" } ?? "from seq \(subscribed + 1)"
            SystemIO.writeError("following \(wanted.joined(separator: ", ")) \(from)\n")
        }
        while true {
            let message: JSON?
            do { message = try connection.readMessage() } catch { throw fail("wardenctl: \(error)") }
            guard let message else { throw fail("wardenctl: wardend closed the connection") }
            guard message["method"] == "event", let event = message["params"] else { continue }
            if event["topic"] == "lagged" {
                let resume = event["resume_since"]?.int ?? last ?? subscribed
                SystemIO.writeError("wardenctl: fell behind, \(text(event["dropped"])) events dropped by wardend; resuming after seq \(resume)\n")
                last = resume
                subscribed = try subscribe(connection, wanted, since: resume)
                continue
            }
            if let seq = event["seq"]?.int { last = seq }
            // Written at once, also into a pipe: one line per event as it happens.
            SystemIO.writeOutput(((global.json ? JSONWriter.string(event) : Self.describe(event)) + "\n"))
            printed += 1
            if let count, printed >= count { return }
        }
    }

    /// Subscribes; returns the seq the daemon was at.
    func subscribe(_ connection: WardenConnection, _ topics: [String], since: Int?) throws -> Int {
        var params: JSONObject = ["topics": .array(topics.map(JSON.string))]
        if let since { params["since"] = JSON(since) }
        do {
            return try connection.call("event.subscribe", .object(params))["seq"]?.int ?? 0
        } catch let e as WardenConnection.ServerError {
            throw fail("wardenctl: event.subscribe: \(e.message) (code \(e.code))")
        } catch {
            throw fail("wardenctl: \(error)")
        }
    }

    /// `2023-04-06 09:30:00+08:00  #12  case.opened  case=TS-1001 order=… state=awaiting-evidence`
    static func describe(_ event: JSON) -> String {
        var parts = [when(event["at"]), "#" + text(event["seq"]), text(event["topic"]).padded(to: 16)]
        let first = ["case_id", "order_id", "entry_id", "finding_id", "rule", "state", "from", "amount", "points", "file"]
        let rest = (event.object?.pairs ?? []).map(\.key).filter { !["seq", "topic", "at"].contains($0) && !first.contains($0) }
        for key in first + rest {
            guard let value = event[key], !value.isNull else { continue }
            let name = key.hasSuffix("_id") ? String(key.dropLast(3)) : key
            var shown = key.hasSuffix("_at") || key == "deadline" ? when(value) : text(value)
            if key == "remaining_s", let s = value.int { shown = remaining(s) }
            if shown.contains(" ") { shown = "\"\(shown)\"" }
            parts.append("\(name)=\(shown)")
        }
        return parts.joined(separator: "  ")
    }
}
