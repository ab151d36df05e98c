import Foundation
import Testing
import WardenClient
import WardenCore
import WardenTestKit

/// One scenario per policy module through the built daemon.
@Suite("Rule modules end to end", .serialized)
struct RuleModulesEndToEndTests {
    static func u(_ t: Timestamp) -> String { Fixtures.utc(t) }

    @Test func modelToysUrgeFeeNegotiationAndActions() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let now = Fixtures.now()
        // Given three model-toy orders past their promised ship time
        try d.drop(
            "orders.ndjson",
            """
            {"type":"order","order_id":"T1","category":"model-toys","shop":"toys","paid_amount":"123.45","paid_at":"\(Self.u(now - .days(30)))","ship_by":"\(Self.u(now - .days(2)))"}
            {"type":"order","order_id":"T2","category":"model-toys","shop":"toys","paid_amount":"300.00","paid_at":"\(Self.u(now - .days(30)))","ship_by":"\(Self.u(now - .days(2)))"}
            {"type":"order","order_id":"T3","category":"model-toys","shop":"toys","paid_amount":"59.00","paid_at":"\(Self.u(now - .days(30)))","ship_by":"\(Self.u(now - .days(2)))"}
            """)
        // When the buyers urge: T1 just under 24 h ago (nothing done), T2 an hour ago
        try d.drop(
            "urges.ndjson",
            """
            {"type":"complaint","complaint_id":"U1","order_id":"T1","reason":"urge-shipment","opened_at":"\(Self.u(now - .hours(24) + .seconds(8)))"}
            {"type":"complaint","complaint_id":"U2","order_id":"T2","reason":"urge-shipment","opened_at":"\(Self.u(now - .hours(1)))"}
            """)
        try d.waitFor("urge cases") { try d.call("case.list", ["state": "awaiting-action"])["cases"]?.array?.count == 2 }
        // and T2's seller ships in time
        try d.drop("ship.json", #"{"type":"shipment","order_id":"T2","shipped_at":"\#(Self.u(now))","carrier":"SF"}"#)
        try d.waitFor("U2 resolved") { try d.call("case.get", ["case_id": "U2"])["case"]?["state"] == "resolved" }
        // Then T1's window closes: penalized, 6.17 yuan (5 % of 123.45, rounded half up) under M1
        try d.waitFor("U1 penalized", timeout: 30) { try d.call("case.get", ["case_id": "U1"])["case"]?["state"] == "penalized" }
        let summary = try d.call("ledger.summary")
        #expect(summary["by_rule"]?["M1"]?["amount"] == "6.17")
        #expect(summary["by_category"]?["model-toys"]?["count"] == 1)
        // A later urge on the charged delay is only a reminder
        try d.drop("urge-again.json", #"{"type":"complaint","complaint_id":"U3","order_id":"T1","reason":"urge-shipment","opened_at":"\#(Self.u(now + .seconds(1)))"}"#)
        try d.waitFor("U3") { try d.call("case.get", ["case_id": "U3"])["case"]?["state"] == "reminder" }
        #expect(try d.call("ledger.summary")["count"] == 1)

        // A buyer-confirmed negotiation moves T3's deadline; a late-shipment complaint inside it is dismissed
        let newShipBy = now + .days(20)
        try d.drop(
            "negotiation.json",
            #"[{"type":"ship-negotiation","order_id":"T3","new_ship_by":"\#(Self.u(newShipBy))","proposed_at":"\#(Self.u(now - .days(3)))","buyer_confirmed":true},"#
                + #"{"type":"complaint","complaint_id":"L3","order_id":"T3","reason":"late-shipment","opened_at":"\#(Self.u(now))"}]"#)
        try d.waitFor("L3") { try d.call("case.get", ["case_id": "L3"])["case"]?["state"] == "dismissed" }
        let order = try #require(try d.call("order.get", ["order_id": "T3"])["order"])
        #expect(order["ship_deadline"]?.string.flatMap { TimeFormat.parse($0, defaultZone: .utc) } == newShipBy)
        #expect(order["negotiations"]?.array?.first?["in_force"] == true)
    }

    /// The case's module decides whether the socket takes evidence: model toys keep an
    /// agreement (M6) for an awaiting-action case, as the spool always did.
    @Test func evidenceOverTheSocketIsTheModulesCall() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let now = Fixtures.now()
        try d.drop(
            "toys.ndjson",
            """
            {"type":"order","order_id":"E1","category":"model-toys","shop":"toys","paid_amount":"100.00","paid_at":"\(Self.u(now - .days(30)))","ship_by":"\(Self.u(now - .days(2)))"}
            {"type":"complaint","complaint_id":"EU1","order_id":"E1","reason":"urge-shipment","opened_at":"\(Self.u(now - .hours(1)))"}
            """)
        try d.waitFor("EU1 awaiting action") { try d.call("case.get", ["case_id": "EU1"])["case"]?["state"] == "awaiting-action" }
        let c = try d.call("evidence.submit", ["case_id": "EU1", "items": [["kind": "agreement", "ref": "chat.png"]]])
        #expect(c["case"]?["evidence"]?.array?.count == 1)
        #expect(c["case"]?["history"]?.array?.last?["note"]?.string?.contains("M6") == true)
    }

    @Test func luggageShopEligibilityPrototypeFindingAndInfringementCase() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let now = Fixtures.now()
        try d.drop(
            "luggage.ndjson",
            """
            {"type":"shop-profile","shop":"bags","ifashion":true,"serious_violation_points":0,"b_class_points":0,"counterfeit_penalty":false,"video_coverage":0.9,"live_streams_last_month":3,"s_level_promotions":2}
            {"type":"listing","listing_id":"B1","category":"luggage","shop":"bags","first_listed_at":"2023-03-01 00:00:00","prototype_registered_at":"2023-02-20 00:00:00"}
            {"type":"listing","listing_id":"B2","category":"luggage","shop":"bags","first_listed_at":"2023-03-01 00:00:00"}
            {"type":"order","order_id":"B-O1","category":"luggage","shop":"bags","paid_amount":"499.00","paid_at":"2023-04-01 10:00:00","listing_id":"B1"}
            {"type":"complaint","complaint_id":"IP1","order_id":"B-O1","reason":"ip-infringement","opened_at":"\(Self.u(now - .hours(1)))"}
            """)
        try d.waitFor("IP1") { try d.call("case.get", ["case_id": "IP1"])["case"]?["state"] == "awaiting-evidence" }
        let shop = try d.call("shop.get", ["shop": "bags"])
        #expect(shop["original_design"]?["eligible"] == true)
        #expect(shop["original_design"]?["checks"]?.array?.count == 5)
        let review = try #require(shop["original_design"]?["next_review"]?.string)
        #expect(review.count == 10)
        let findings = try d.call("finding.list", ["rule": "L6"])["findings"]?.array ?? []
        #expect(findings.map { $0["subject"] } == ["listing:B2"])

        let c = try d.call("evidence.submit", ["case_id": "IP1", "items": [["kind": "prototype-photo", "ref": "b1.jpg", "registered_at": "2023-02-20 00:00:00"]]])
        #expect(c["case"]?["state"] == "evidence-submitted")
        #expect(c["case"]?["history"]?.array?.last?["note"]?.string?.contains("evidence is strong") == true)
        #expect(throws: WardenConnection.ServerError.self) { try d.call("shop.get", ["shop": "nobody"]) }
    }

    @Test func serviceQualityBooksPointsOncePerMonth() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        let metrics = """
            {"type":"chat-metrics","shop":"s1","month":"2022-10","ratings":45,"satisfied_ratings":30,"rounds":1100,"rounds_answered_within_3min":1000}
            {"type":"chat-metrics","shop":"s1","month":"2022-11","ratings":25,"satisfied_ratings":10,"rounds":1100,"rounds_answered_within_3min":1000}
            """
        try d.drop("chat.ndjson", metrics)
        try d.waitFor("S3 points") { try d.call("ledger.summary")["points"] == 4 }
        try d.drop("chat-again.ndjson", metrics)  // re-delivered: no second booking
        try d.waitFor("re-delivery processed") { try d.call("daemon.status")["spool"]?["processed"] == 2 }
        let summary = try d.call("ledger.summary", ["shop": "s1"])
        #expect(summary["points"] == 4)
        #expect(summary["amount"] == "0.00")
        #expect(summary["by_rule"]?["S3"]?["count"] == 1)
        let months = try d.call("shop.get", ["shop": "s1"])["service_quality"]?.array ?? []
        #expect(months.map { $0["points"] } == [4, 0])
        let (status, out, _) = try DaemonHarness.run("wardenctl", ["findings", "--rule", "S3"], environment: ["WARDEN_SOCKET": d.socketPath])
        #expect(status == 0)
        #expect(out.contains("shop:s1") && out.contains("2022-10 failed"))
    }

    @Test func kitchenDoorDeliveryFinding() throws {
        let d = try DaemonHarness()
        try d.start()
        defer { d.stop() }
        try d.drop("o.json", #"{"type":"order","order_id":"K1","category":"massage-chair","paid_amount":"5999.00","paid_at":"2023-04-01 10:00:00","delivery_service":"none"}"#)
        try d.waitFor("K1 finding") { try d.call("finding.list", ["rule": "K1"])["findings"]?.array?.first?["subject"] == "order:K1" }
        let (status, out, _) = try DaemonHarness.run("wardenctl", ["shop", "s1"], environment: ["WARDEN_SOCKET": d.socketPath])
        #expect(status != 0)
        #expect(out.isEmpty)
    }
}
