import Testing
import WardenCore

@Suite("Record validation")
struct RecordParserTests {
    let parser = RecordParser(zone: .shanghai)

    func parse(_ text: String) throws -> Result<Record, RecordErrors> {
        parser.parse(try JSONParser.parse(text), index: 1, line: 1)
    }

    @Test func acceptsAnOrderWithTaobaoAliases() throws {
        let r = try parse(#"{"type":"order","tid":"3398211045551234567","category":"stand-mixer","payment":"1299.00","pay_time":"2023-04-01 10:12:00","consign_time":"2023-04-02 08:00:00","extra":{"kept":true}}"#)
        let record = try r.get()
        guard case .order(let o) = record.payload else { Issue.record("not an order"); return }
        #expect(o.orderId == "3398211045551234567")
        #expect(o.paidAmount == Money(fen: 129_900))
        #expect(TimeFormat.format(o.paidAt, in: .shanghai) == "2023-04-01T10:12:00+08:00")
        #expect(o.shippedAt != nil)
        #expect(record.body["extra"] != nil)  // unknown fields kept
        #expect(record.key == "3398211045551234567")
    }

    /// Each row: a record and the (field, message fragment) errors it must produce.
    @Test(arguments: [
        (#"{"type":"order","order_id":3398211045551234567,"category":"x","paid_amount":"1.00","paid_at":"2023-04-01 10:00:00"}"#, [("order_id", "must be JSON strings")]),
        (#"{"type":"order","order_id":"A","category":"x","paid_amount":12.5,"paid_at":"2023-04-01 10:00:00"}"#, [("paid_amount", "decimal string")]),
        (#"{"type":"order","order_id":"A","category":"x","paid_amount":"1.005","paid_at":"2023-04-01 10:00:00"}"#, [("paid_amount", "at most two decimals")]),
        (#"{"type":"order","order_id":"A","category":"x","paid_amount":"1.00","paid_at":"soon"}"#, [("paid_at", "is not a time")]),
        (#"{"type":"order","order_id":"A"}"#, [("category", "missing"), ("paid_amount", "missing"), ("paid_at", "missing")]),
        (#"{"type":"order","order_id":"A","category":"x","paid_amount":"1.00","paid_at":"2023-04-01 10:00:00","delivery_service":"drone"}"#, [("delivery_service", "is not one of")]),
        (#"{"type":"complaint","complaint_id":"C","order_id":"A","reason":"angry","opened_at":"2023-04-01 10:00:00"}"#, [("reason", "is not one of")]),
        (#"{"type":"evidence","complaint_id":"C","submitted_at":"2023-04-01 10:00:00","items":[]}"#, [("items", "at least one")]),
        (#"{"type":"evidence","complaint_id":"C","submitted_at":"2023-04-01 10:00:00","items":[{"kind":"selfie","ref":""}]}"#, [("items[0].kind", "is not one of"), ("items[0].ref", "must not be empty")]),
        (#"{"type":"verdict","complaint_id":"C","outcome":"maybe","decided_at":"2023-04-01 10:00:00"}"#, [("outcome", "is not one of")]),
        (#"{"type":"teleport"}"#, [("type", "unknown record type")]),
        (#"{"order_id":"A"}"#, [("type", "missing")]),
        (#"[1]"#, [("", "must be a JSON object")]),
        // Issue 10: bounds on what arithmetic is done with, each naming the field.
        (#"{"type":"order","order_id":"A","category":"x","paid_amount":"999999999999999.99","paid_at":"2023-04-01 10:00:00"}"#, [("paid_amount", "over the largest amount")]),
        (#"{"type":"order","order_id":"A","category":"x","paid_amount":"99999999999999999999999.00","paid_at":"2023-04-01 10:00:00"}"#, [("paid_amount", "is not an amount")]),
        (#"{"type":"order","order_id":"A","category":"x","paid_amount":"1.00","paid_at":"10000-01-01 00:00:00"}"#, [("paid_at", "is not a time")]),
        (#"{"type":"order","order_id":"A","category":"x","paid_amount":"1.00","paid_at":"1969-12-31T23:59:59Z"}"#, [("paid_at", "outside 1970-01-01 to 9999-12-30")]),
        (#"{"type":"listing","listing_id":"L","category":"x","ship_time_days":36501}"#, [("ship_time_days", "over the largest value accepted (36500)")]),
        (#"{"type":"listing","listing_id":"L","category":"x","ship_time_days":9223372036854775807}"#, [("ship_time_days", "non-negative integer")]),
        (#"{"type":"order","order_id":"A","category":"x","paid_amount":"1.00","paid_at":"9999-12-31T00:00:00Z"}"#, [("paid_at", "outside 1970-01-01 to 9999-12-30")]),
    ])
    func rejects(text: String, expected: [(String, String)]) throws {
        if expected.isEmpty {  // the largest value accepted is accepted
            #expect(throws: Never.self) { try parse(text).get() }
            return
        }
        guard case .failure(let failure) = try parse(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(failure.errors.count == expected.count, "\(failure.errors)")
        for (field, fragment) in expected {
            #expect(failure.errors.contains { ($0.field ?? "") == field && $0.message.contains(fragment) }, "no \(field): \(fragment) in \(failure.errors)")
        }
        #expect(failure.errors.allSatisfy { $0.record == 1 && $0.line == 1 })
    }

    @Test func theLargestAmountIsAccepted() throws {
        let r = try parse(#"{"type":"order","order_id":"A","category":"x","paid_amount":"1000000000.00","paid_at":"2023-04-01 10:00:00"}"#).get()
        guard case .order(let o) = r.payload else { Issue.record("not an order"); return }
        #expect(o.paidAmount == Money.maximum)
    }

    @Test func evidenceKeyNormalisesTheTime() throws {
        let a = try parse(#"{"type":"evidence","complaint_id":"C","submitted_at":"2023-04-05 10:00:00","items":[{"kind":"delivery-photo","ref":"p.jpg"}]}"#).get()
        let b = try parse(#"{"type":"evidence","complaint_id":"C","submitted_at":"2023-04-05T02:00:00Z","items":[{"kind":"delivery-photo","ref":"p.jpg"}]}"#).get()
        #expect(a.key == b.key)
    }
}
