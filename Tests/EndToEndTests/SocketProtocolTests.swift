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
        var batch: [UInt8] = []
        for i in 1...300 {
            let method = i % 3 == 0 ? "evidence.submit" : "case.get"
            let params = i % 3 == 0 ? #"{"case_id":"CP","items":[{"kind":"other","ref":"x"}]}"# : #"{"case_id":"CM"}"#
            batch += Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"\#(method)","params":\#(params)}"#.utf8) + [0x0A]
        }
        try c.send(raw: batch)
        var seen = Set<Int>()
        for _ in 1...300 {
            let m = try #require(try c.readMessage())
            let id = try #require(m["id"]?.int)
            if id % 3 == 0 { #expect(m["error"]?["code"] == 1003) } else { #expect(m["result"]?["case"]?["case_id"] == "CM") }
            seen.insert(id)
        }
        #expect(seen == Set(1...300))
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
}
