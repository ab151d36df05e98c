import LuggagePolicy
import ModelToysPolicy
import ServiceQualityPolicy
import Testing
import WardenCore

/// The record types the built-in modules declare are validated by the core from their
/// declarations, with the same bounds as the core's own types (RecordParserTests).
@Suite("Declared record types: bounds")
struct DeclaredTypeBoundsTests {
    static let parser = RecordParser(
        zone: .shanghai,
        declarations: Dictionary(uniqueKeysWithValues: [ShopProfile.declaration, ChatMetrics.declaration, ShipNegotiation.declaration].map { ($0.type, $0) }))

    @Test(arguments: [
        (#"{"type":"chat-metrics","shop":"s","month":"2023-04","ratings":1000000001,"satisfied_ratings":0,"rounds":1,"rounds_answered_within_3min":1}"#, "ratings", "over the largest value accepted (1000000000)"),
        (#"{"type":"shop-profile","shop":"s","b_class_points":1e300}"#, "b_class_points", "non-negative integer"),
        (#"{"type":"shop-profile","shop":"s","video_coverage":1.5}"#, "video_coverage", "from 0 to 1"),
        (#"{"type":"ship-negotiation","order_id":"A","new_ship_by":"10000-01-01T00:00:00Z","proposed_at":"2023-04-01 10:00:00","buyer_confirmed":true}"#, "new_ship_by", "not a time"),
    ])
    func outOfBoundsIsRefused(text: String, field: String, words: String) throws {
        guard case .failure(let e) = Self.parser.parse(try JSONParser.parse(text)) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(e.errors.contains { $0.field == field && $0.message.contains(words) }, "\(e.errors)")
    }

    @Test func theLatestTimeIsAccepted() throws {
        let text = #"{"type":"ship-negotiation","order_id":"A","new_ship_by":"9999-12-30T23:59:59Z","proposed_at":"2023-04-01 10:00:00","buyer_confirmed":true}"#
        #expect(throws: Never.self) { try Self.parser.parse(try JSONParser.parse(text)).get() }
    }
}
