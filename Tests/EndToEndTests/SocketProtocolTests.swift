import Foundation
import Testing
import WardenClient
import WardenCore
import WardenTestKit

/// The JSON-RPC surface over the real socket: results, every error code this slice
/// answers, pipelining, and the line limit.
@Suite("Socket protocol", .serialized)
struct SocketProtocolTests {
    static func started() throws -> DaemonHarness {
        let d = try DaemonHarness(extraConfig: "[socket]\nmax_line = 4096\n")
        try d.start()
        let now = Fixtures.now()
        try d.drop(
            "seed.json",
            "[\(Fixtures.order("M1")),\(Fixtures.order("P1", mode: "platform")),\(Fixtures.complaint("CM", order: "M1", openedAt: now - .hours(1))),\(Fixtures.complaint("CP", order: "P1", openedAt: now - .hours(1)))]")
        try d.waitFor("seed cases") { try d.call("case.list")["cases"]?.array?.count == 2 }
        return d
    }

    func code(_ body: () throws -> JSON) -> Int? {
        do {
            _ = try body()
            return nil
        } catch let e as WardenConnection.ServerError {
            return e.code
        } catch {
            return -1
        }
    }

    @Test func methodsAndErrorCodes() throws {
        let d = try Self.started()
        defer { d.stop() }
        let status = try d.call("daemon.status")
        #expect(status["api"] == 1)
        #expect(status["storage"] == "sqlite")
        #expect(status["policies"] == ["kitchen-appliances", "luggage", "model-toys", "service-quality"])
        #expect(status["cases"]?["open"] == 1)
        #expect(status["next_deadline"]?["case_id"] == "CM")
        let policies = try d.call("policy.list")["policies"]?.array ?? []
        #expect(policies.first?["parameters"]?["evidence_window"] == "24h")
        #expect(policies.first?["parameters"]?["compensation"] == "10.00")
        #expect(policies.first?["origin"] == "builtin")
        let order = try d.call("order.get", ["order_id": "M1"])
        #expect(order["order"]?["delivery_service"] == "merchant")
        #expect(order["cases"]?.array?.first?["case_id"] == "CM")
        #expect(try d.call("case.list", ["state": "platform-handled"])["cases"]?.array?.map { $0["case_id"] } == ["CP"])
        let page = try d.call("case.list", ["limit": 1])
        #expect(page["cases"]?.array?.count == 1)
        let next = try #require(page["next_cursor"]?.string)
        #expect(try d.call("case.list", ["limit": 1, "cursor": .string(next)])["cases"]?.array?.first?["case_id"] == "CP")

        // Evidence on the merchant case moves it; on the platform case it is the wrong state.
        let submitted = try d.call("evidence.submit", ["case_id": "CM", "items": [["kind": "signed-receipt", "ref": "r.pdf"]], "note": "signed"])
        #expect(submitted["case"]?["state"] == "evidence-submitted")
        #expect(code { try d.call("evidence.submit", ["case_id": "CP", "items": [["kind": "signed-receipt", "ref": "r.pdf"]]]) } == 1003)
        #expect(code { try d.call("evidence.submit", ["case_id": "CM", "items": [["kind": "selfie", "ref": "r.pdf"]]]) } == 1005)
        #expect(code { try d.call("case.get", ["case_id": "nope"]) } == 1001)
        #expect(code { try d.call("case.get") } == -32602)
        #expect(code { try d.call("case.list", ["limit": 100_000]) } == -32602)
        #expect(code { try d.call("case.list", ["colour": "red"]) } == -32602)
        #expect(code { try d.call("no.such.method") } == -32601)

        // record.submit: all or nothing, with the spool's validation.
        let bad: JSON = ["records": [.init(stringLiteral: "x"), ["type": "order", "order_id": "R1"]]]
        do {
            _ = try d.call("record.submit", bad)
            Issue.record("accepted invalid records")
        } catch let e as WardenConnection.ServerError {
            #expect(e.code == 1005)
            #expect((e.data?["errors"]?.array?.count ?? 0) >= 2)
        }
        let ok = try d.call("record.submit", ["records": [try JSONParser.parse(Fixtures.order("R2"))]])
        #expect(ok["accepted"] == 1)
        #expect(try d.call("order.get", ["order_id": "R2"])["order"]?["order_id"] == "R2")
    }

    @Test func rawFramingErrorsDoNotCloseTheConnection() throws {
        let d = try Self.started()
        defer { d.stop() }
        let c = try d.connect()
        try c.send(raw: Array("this is not json\n".utf8))
        #expect(try c.readMessage()?["error"]?["code"] == -32700)
        try c.send(raw: Array(#"{"id":1,"method":"daemon.status"}"#.utf8) + [0x0A])
        #expect(try c.readMessage()?["error"]?["code"] == -32600)
        try c.send(raw: Array(#"{"jsonrpc":"2.0","id":2,"method":"case.get","params":["CM"]}"#.utf8) + [0x0D, 0x0A])  // CRLF
        #expect(try c.readMessage()?["error"]?["code"] == -32602)
        // A notification (no id) gets no answer; the next request does.
        try c.send(raw: Array(#"{"jsonrpc":"2.0","method":"daemon.status"}"#.utf8) + [0x0A])
        #expect(try c.call("case.get", ["case_id": "CP"])["case"]?["state"] == "platform-handled")
    }

    @Test func pipelinedRequestsAreAllAnsweredById() throws {
        let d = try Self.started()
        defer { d.stop() }
        let c = try d.connect()
        // Fewer than the 128 requests a connection may have in flight: beyond that the
        // daemon answers 1006 at once, which a loaded machine reaches with 300 (the
        // first case.get misses the case cache, and the ones behind it wait for it).
        let n = 120
        var batch: [UInt8] = []
        for i in 1...n {
            let method = i % 3 == 0 ? "evidence.submit" : "case.get"
            let params = i % 3 == 0 ? #"{"case_id":"CP","items":[{"kind":"other","ref":"x"}]}"# : #"{"case_id":"CM"}"#
            batch += Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"\#(method)","params":\#(params)}"#.utf8) + [0x0A]
        }
        try c.send(raw: batch)
        var seen = Set<Int>()
        for _ in 1...n {
            let m = try #require(try c.readMessage())
            let id = try #require(m["id"]?.int)
            if id % 3 == 0 { #expect(m["error"]?["code"] == 1003) } else { #expect(m["result"]?["case"]?["case_id"] == "CM") }
            seen.insert(id)
        }
        #expect(seen == Set(1...n))
    }

    /// A read that blocks (a cold disk, here 2 s injected into one case's read) holds
    /// a reader thread, not an event loop: every other connection, including those on
    /// the slow one's loop, is answered meanwhile. (Needs a debug build: the fault.)
    @Test func aSlowReadStallsNoOtherConnection() throws {
        let d = try DaemonHarness()
        d.environment["WARDEN_TEST_FAULT"] = "slow-case-read:SLOW"
        try d.start()
        defer { d.stop() }
        // Connections are spread over the event loops in turn: of eight, some share the
        // first one's loop whatever the number of cores up to seven.
        let connections = try (0..<8).map { _ in try d.connect() }
        try connections[0].send(raw: Array(#"{"jsonrpc":"2.0","id":1,"method":"case.get","params":{"case_id":"SLOW"}}"#.utf8) + [0x0A])
        usleep(100_000)  // the slow read has begun
        let start = ContinuousClock.now
        for c in connections.dropFirst() {
            _ = try c.call("policy.list")
            _ = try c.call("daemon.status")
        }
        let others = ContinuousClock.now - start
        #expect(others < .seconds(1), "14 answers took \(others) beside one slow read")
        let slow = try #require(try connections[0].readMessage())
        #expect(slow["error"]?["code"] == 1001)
        #expect(ContinuousClock.now - start > .milliseconds(1500))
    }

    @Test func aClientThatClosesItsSideStillGetsEveryAnswer() throws {
        // What `echo request | socat - UNIX-CONNECT:…` does: send, shut down writing, read.
        let d = try Self.started()
        defer { d.stop() }
        let c = try d.connect()
        try c.send(raw: Array(#"{"jsonrpc":"2.0","id":1,"method":"evidence.submit","params":{"case_id":"CM","items":[{"kind":"other","ref":"x"}]}}"#.utf8) + [0x0A])
        try c.send(raw: Array(#"{"jsonrpc":"2.0","id":2,"method":"case.get","params":{"case_id":"CP"}}"#.utf8) + [0x0A])
        c.shutdownWrite()
        var ids = Set<Int>()
        while let m = try c.readMessage() { if let id = m["id"]?.int { ids.insert(id) } }
        #expect(ids == [1, 2])
    }

    @Test func anOversizedLineIsRefusedAndClosed() throws {
        let d = try Self.started()
        defer { d.stop() }
        let c = try d.connect()
        try c.send(raw: Array(repeating: UInt8(ascii: "x"), count: 10_000))
        #expect(try c.readMessage()?["error"]?["code"] == -32600)
        #expect(try c.readLine() == nil)  // closed
        #expect(try d.call("daemon.status")["api"] == 1)  // the daemon is fine
    }

    @Test func connectionAndInFlightCapsAnswer1006AndKeepServing() throws {
        let d = try DaemonHarness(extraConfig: "[socket]\nmax_connections = 3\nmax_connections_per_uid = 3\nmax_in_flight = 2\n")
        try d.start()
        defer { d.stop() }
        // Given three connections (the cap), once the harness's probe has gone
        var open: [WardenConnection] = []
        try d.waitFor("three connections") {
            open.removeAll()
            for _ in 0..<3 {
                let c = try d.connect()
                _ = try c.call("daemon.status")
                open.append(c)
            }
            return true
        }
        // When a fourth connects, it gets 1006 and is closed; the others carry on
        let fourth = try d.connect()
        let refused = try #require(try fourth.readMessage())
        #expect(refused["error"]?["code"] == 1006)
        #expect(refused["id"] == .null)
        #expect(try fourth.readLine() == nil)
        #expect(try open[0].call("daemon.status")["api"] == 1)
        // When one closes, a new connection is served again
        open.removeLast()
        try d.waitFor("a free slot") { try d.connect().call("daemon.status")["api"] == 1 }

        // More than two writes in flight on one connection: the rest get 1006
        let c = open[0]
        var batch: [UInt8] = []
        for i in 1...6 {
            let record = try JSONParser.parse(Fixtures.order("IF\(i)"))
            batch += JSONWriter.bytes(["jsonrpc": "2.0", "id": JSON(i), "method": "record.submit", "params": ["records": [record]]]) + [0x0A]
        }
        try c.send(raw: batch)
        var answers: [Int: JSON] = [:]
        for _ in 1...6 {
            let m = try #require(try c.readMessage())
            answers[try #require(m["id"]?.int)] = m
        }
        #expect(answers.keys.sorted() == Array(1...6))
        #expect(answers.values.filter { $0["result"]?["accepted"] == 1 }.count == 2)
        #expect(answers.values.filter { $0["error"]?["code"] == 1006 }.count == 4)
        // and the connection stays usable
        #expect(try c.call("order.get", ["order_id": "IF1"])["order"]?["order_id"] == "IF1")
    }

    @Test func evidenceAfterTheDeadlineIs1002() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let late = Fixtures.now() - .hours(25)
        _ = try d.call("record.submit", ["records": [try JSONParser.parse(Fixtures.order("D1")), try JSONParser.parse(Fixtures.complaint("DC1", order: "D1", openedAt: late))]])
        try d.waitFor("DC1 defaulted") { try d.call("case.get", ["case_id": "DC1"])["case"]?["state"] == "defaulted" }
        #expect(code { try d.call("evidence.submit", ["case_id": "DC1", "items": [["kind": "delivery-photo", "ref": "p.jpg"]]]) } == 1002)
    }

    /// Sample params that succeed, per method (after `started()`'s seed).
    static let samples: [String: JSON] = [
        "order.get": ["order_id": "M1"], "case.get": ["case_id": "CM"], "shop.get": ["shop": "demo"],
        "evidence.submit": ["case_id": "CM", "items": [["kind": "signed-receipt", "ref": "r.pdf"]]],
        "record.submit": ["records": [["type": "order", "order_id": "X1", "category": "stand-mixer", "paid_amount": "1.00", "paid_at": "2023-04-01 10:00:00"]]],
        "event.subscribe": ["topics": ["case.opened"]],
    ]

    @Test func everyDiscoveredMethodIsAnsweredAsDescribed() throws {
        let d = try Self.started()
        defer { d.stop() }
        let document = try d.call("rpc.discover")
        #expect(document["openrpc"] == "1.2.6")
        let schemas = try #require(document["components"]?["schemas"])
        let methods = try #require(document["methods"]?.array)
        #expect(methods.count == 17)
        for method in methods {
            let name = try #require(method["name"]?.string)
            // Answered, with every property its result schema requires
            let result = try d.connect().call(name, Self.samples[name] ?? [:])
            var schema = try #require(method["result"]?["schema"])
            if let ref = schema["$ref"]?.string, ref.hasPrefix("#/components/schemas/") {
                schema = try #require(schemas[String(ref.dropFirst(21))])
            }
            for key in schema["required"]?.array ?? [] {
                #expect(result[key.string ?? ""] != nil, "\(name) result lacks \(key)")
            }
            // Every parameter listed is known to the method; others are refused
            for param in method["params"]?.array ?? [] {
                let p = try #require(param["name"]?.string)
                do {
                    _ = try d.connect().call(name, .object([p: Self.sample(for: param["schema"] ?? .null)]))
                } catch let e as WardenConnection.ServerError {
                    #expect(!e.message.contains("unknown parameter"), "\(name): \(p): \(e.message)")
                }
            }
            #expect(code { try d.connect().call(name, ["no_such_param": 1]) } == -32602, "\(name)")
        }
        #expect(code { try d.call("case.delete", ["case_id": "CM"]) } == -32601)
        #expect(code { try d.call("rpc.discover.all") } == -32601)
    }

    static func sample(for schema: JSON) -> JSON {
        switch schema["type"]?.string {
        case "integer": return schema["default"] ?? schema["minimum"] ?? 1
        case "array": return .array([])
        case "object": return .object(JSONObject())
        default: return schema["enum"]?.array?.first ?? "x"
        }
    }

    @Test func caseGetSeesEveryCommittedChangeEvenWithoutAnEvent() throws {
        let d = try Self.started()
        defer { d.stop() }
        // Given a case read once (a cache, if any, now holds it)
        let before = try #require(try d.call("case.get", ["case_id": "CM"])["case"]?["history"]?.array)
        // When a spool file updates its order (a new item name): the case gets a history
        // note, and no event is sent for it
        try d.drop("update.json", Fixtures.order("M1").replacingOccurrences(of: #""item":"mixer""#, with: #""item":"stand mixer 5L""#))
        // Then the next case.get shows the note
        try d.waitFor("the update's note in CM's history", timeout: 10) {
            let history = try d.call("case.get", ["case_id": "CM"])["case"]?["history"]?.array ?? []
            return history.count == before.count + 1 && history.last?["note"]?.string?.contains("order record updated") == true
        }
    }
}
