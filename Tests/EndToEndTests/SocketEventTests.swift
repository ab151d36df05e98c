import Foundation
import Testing
import WardenClient
import WardenCore
import WardenTestKit

#if canImport(Glibc)
import Glibc
#endif

/// `event.subscribe` over the real socket: replay with `since` then live without gap or
/// duplicate, topic filtering, a subscriber that never reads (cut off with one `lagged`
/// event while the daemon and other clients stay responsive), and graceful stop.
@Suite("Socket events", .serialized)
struct SocketEventTests {
    static let allTopics: JSON = ["case.opened", "case.changed", "deadline.warning", "deadline.expired", "ledger.entry", "finding.new", "spool.rejected"]

    /// `count` merchant orders with a complaint each, opened an hour ago: one `case.opened`
    /// event per complaint.
    /// With `padding`, ids are that much longer (bigger events fill buffers sooner).
    static func complaints(_ prefix: String, _ range: Range<Int>, padding: Int = 0) throws -> JSON {
        let opened = Fixtures.now() - .hours(1)
        let pad = String(repeating: "x", count: padding)
        var records: [JSON] = []
        for i in range {
            records.append(try JSONParser.parse(Fixtures.order("\(prefix)O\(pad)\(i)")))
            records.append(try JSONParser.parse(Fixtures.complaint("\(prefix)C\(pad)\(i)", order: "\(prefix)O\(pad)\(i)", openedAt: opened)))
        }
        return ["records": .array(records)]
    }

    static func line(_ id: Int, _ method: String, _ params: JSON) -> [UInt8] {
        JSONWriter.bytes(["jsonrpc": "2.0", "id": JSON(id), "method": .string(method), "params": params]) + [0x0A]
    }

    /// Subscribes on `c` and returns the result (events that follow are left unread).
    static func subscribe(_ c: WardenConnection, _ params: JSON) throws -> JSON {
        try c.send(raw: line(1, "event.subscribe", params))
        let m = try #require(try c.readMessage())
        if let e = m["error"] { throw WardenConnection.ServerError(code: e["code"]?.int ?? 0, message: e["message"]?.string ?? "", data: nil) }
        return try #require(m["result"])
    }

    /// Reads event notifications until one has `seq >= last`.
    static func events(_ c: WardenConnection, through last: Int64) throws -> [JSON] {
        var out: [JSON] = []
        while let m = try c.readMessage() {
            #expect(m["method"] == "event" && m["id"] == nil)
            guard let params = m["params"] else { continue }
            out.append(params)
            if let seq = params["seq"]?.int, Int64(seq) >= last { break }
        }
        return out
    }

    @Test func replayThenLiveHasNoGapAndNoDuplicate() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        // Given stored events
        _ = try d.call("record.submit", try Self.complaints("A", 0..<20))
        let writer = try d.connect()

        // When a client subscribes with since = 0 while another keeps writing
        let sub = try d.connect()
        try writer.send(raw: Self.line(7, "record.submit", try Self.complaints("B", 0..<50)))
        let result = try Self.subscribe(sub, ["topics": Self.allTopics, "since": 0])
        #expect(result["subscribed"] == Self.allTopics)
        let seqAtSubscribe = try #require(result["seq"]?.int)
        #expect(seqAtSubscribe >= 20)
        #expect(try writer.readMessage()?["result"]?["accepted"] == 100)
        _ = try writer.call("record.submit", try Self.complaints("C", 0..<30))
        // Then it gets every stored event once, in order: 20 + 50 + 30 case.opened
        let got = try Self.events(sub, through: 100)
        let seqs = got.compactMap { $0["seq"]?.int }
        #expect(seqs == Array(1...100))
        #expect(got.allSatisfy { $0["topic"] == "case.opened" && $0["case_id"]?.string != nil && $0["at"]?.string != nil })
        #expect(got.first?["case_id"] == "AC0")
        #expect(got.last?["case_id"] == "CC29")
    }

    @Test func topicsFilterAndBadSubscriptionsAreRefused() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let c = try d.connect()
        func code(_ params: JSON) -> Int? {
            do {
                _ = try Self.subscribe(c, params)
                return nil
            } catch let e as WardenConnection.ServerError {
                return e.code
            } catch {
                return -1
            }
        }
        #expect(code(["topics": ["case.opened", "case.closed"]]) == -32602)
        #expect(code(["topics": []]) == -32602)
        #expect(code([:]) == -32602)
        #expect(code(["topics": ["case.opened"], "since": -1]) == -32602)
        #expect(code(["topics": ["case.opened"], "since": 5]) == -32602)  // after the newest event
        #expect(code(["topics": ["case.opened"], "colour": "red"]) == -32602)
        // A refused subscription leaves the connection usable
        #expect(try c.call("daemon.status")["api"] == 1)

        // Only the topics asked for: ledger entries, not the cases that caused them
        let result = try Self.subscribe(c, ["topics": ["ledger.entry", "deadline.expired"]])
        #expect(result["subscribed"] == ["ledger.entry", "deadline.expired"])
        #expect(result["seq"] == 0)
        #expect(code(["topics": ["case.opened"]]) == 1003)  // one subscription per connection
        let late = Fixtures.now() - .hours(25)
        _ = try d.call("record.submit", ["records": [try JSONParser.parse(Fixtures.order("L1")), try JSONParser.parse(Fixtures.complaint("LC1", order: "L1", openedAt: late))]])
        let got = try Self.events(c, through: 3)
        #expect(got.map { $0["topic"] } == ["deadline.expired", "ledger.entry"])
        #expect(got.last?["rule"] == "K4")
        #expect(got.last?["amount"] == "10.00")
        #expect(got.allSatisfy { $0["case_id"] == "LC1" })
    }

    @Test func aSubscriberThatNeverReadsIsCutOffAndNobodyElseWaits() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        // Given a subscriber that never reads and one that does
        let slow = try d.connect()
        #expect(try Self.subscribe(slow, ["topics": Self.allTopics])["seq"] == 0)
        let fast = try d.connect()
        #expect(try Self.subscribe(fast, ["topics": ["case.opened"]])["seq"] == 0)
        let other = try d.connect()

        // When more events go out than its queue (1024), the socket and NIO's buffer hold
        // (events of about 400 bytes: long ids)
        let total = 3000
        var fastSeqs: [Int] = []
        for batch in 0..<(total / 500) {
            let started = Date()
            #expect(try other.call("record.submit", try Self.complaints("S", batch * 500..<(batch + 1) * 500, padding: 100))["accepted"] == 1000)
            // Then other clients are answered at once
            let asked = Date()
            #expect(try other.call("daemon.status")["api"] == 1)
            #expect(Date().timeIntervalSince(asked) < 1)
            #expect(Date().timeIntervalSince(started) < 20)
            fastSeqs += try Self.events(fast, through: Int64((batch + 1) * 500)).compactMap { $0["seq"]?.int }
        }
        // The reading subscriber got everything
        #expect(fastSeqs == Array(1...total))

        // And the one that did not read gets what fitted, then exactly one lagged event
        var seqs: [Int] = []
        var lagged: [JSON] = []
        while lagged.isEmpty, let m = try slow.readMessage() {
            let p = try #require(m["params"])
            if p["topic"] == "lagged" { lagged.append(p) } else { seqs.append(try #require(p["seq"]?.int)) }
        }
        #expect(seqs == Array(1...seqs.count))
        #expect(seqs.count < total)
        let notice = try #require(lagged.first)
        #expect(notice["dropped"]?.int.map { $0 > 0 && $0 <= total - seqs.count } == true)
        #expect(notice["resume_since"]?.int == seqs.last)
        #expect(notice["at"]?.string != nil)

        // It is unsubscribed but still connected: nothing more arrives, requests are answered
        _ = try other.call("record.submit", try Self.complaints("T", 0..<1))
        try slow.send(raw: Self.line(9, "daemon.status", [:]))
        let reply = try #require(try slow.readMessage())
        #expect(reply["id"] == 9)
        #expect(reply["result"]?["api"] == 1)
        // and may subscribe again from where it was cut off
        let again = try Self.subscribe(slow, ["topics": Self.allTopics, "since": .number(Double(seqs.last!))])
        #expect(again["seq"] == .number(Double(total + 1)))
        let rest = try Self.events(slow, through: Int64(total + 1)).compactMap { $0["seq"]?.int }
        #expect(rest == Array((seqs.last! + 1)...(total + 1)))
    }

    @Test func gracefulStopClosesSubscribersAndExitsZeroQuickly() throws {
        let d = try DaemonHarness()
        try d.start()
        let sub = try d.connect()
        _ = try Self.subscribe(sub, ["topics": Self.allTopics])
        let idle = try d.connect()
        _ = try idle.call("daemon.status")

        let started = Date()
        #expect(d.stop(timeout: 10) == 0)
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(try sub.readLine() == nil)  // end of stream
        #expect(try idle.readLine() == nil)
    }
}
