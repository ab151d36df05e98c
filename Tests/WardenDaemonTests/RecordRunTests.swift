import Testing
import WardenCore
import WardenStore
import WardenTestKit

@testable import WardenDaemon

/// Where a file's records are cut into runs stored several rows per statement
/// (`Applier.parts`); `EngineTests` checks that runs end as one by one.
@Suite("Record runs")
struct RecordRunTests {
    @Test func aRunHoldsNewOrdersComplaintsEvidenceAndVerdictsAndStopsWhereARecordCouldSeeALaterOne() async throws {
        let f = try EngineFixture()
        func order(_ id: String) -> String {
            #"{"type":"order","order_id":"\#(id)","category":"stand-mixer","paid_amount":"1299.00","paid_at":"2023-04-01 10:00:00","shop":"s1","delivery_service":"merchant"}"#
        }
        func complaint(_ id: String, order: String) -> String {
            #"{"type":"complaint","complaint_id":"\#(id)","order_id":"\#(order)","reason":"not-delivered-to-door","opened_at":"2023-04-05 09:30:00"}"#
        }
        let evidence = #"{"type":"evidence","complaint_id":"Q1","submitted_at":"2023-04-05 12:00:00","items":[{"kind":"delivery-photo","ref":"p.jpg"}]}"#
        let listing = #"{"type":"listing","listing_id":"L1","category":"stand-mixer","title":"Mixer"}"#
        try await f.ingest(order("P0"), complaint("Q8", order: "P8"))  // stored before; Q8 waits for P8
        let texts = [
            order("P1"), complaint("Q1", order: "P1"), evidence, complaint("Q3", order: "P3"),  // 0..<4: one run
            order("P3"),  // 4: an earlier record of the window refers to it
            order("P5"), order("P0"),  // 5 alone before 6, stored already
            order("P8"),  // 7: a stored record refers to it
            order("P6"),  // 8: the window ends before the same key again
            order("P6"), order("P7"), listing, complaint("Q7", order: "P7"),  // 9..<11; a listing is not batched
        ]
        let records = try texts.map { try f.records($0)[0] }
        let many = try (0..<600).map { try f.records(order("M\($0)"))[0] }
        let settings = f.settings
        let (parts, limited) = try await f.store.write { tx in
            let applier = Applier(tx: tx, settings: settings, now: EngineFixture.opened, source: "test")
            return (try [0, 9, 11, 12].map { try applier.parts(records, from: $0) }, try applier.parts(many, from: 0))
        }
        #expect(parts[0] == [0..<4, 4..<5, 5..<6, 6..<7, 7..<8, 8..<9])
        #expect(parts[1] == [9..<11])
        #expect(parts[2] == [11..<12])
        #expect(parts[3] == [12..<13])
        #expect(limited == [0..<Applier.runLimit])
    }
}
