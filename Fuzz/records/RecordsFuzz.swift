import LuggagePolicy
import ModelToysPolicy
import ServiceQualityPolicy
import WardenCore
import WardenFuzzSupport
import WardenSpool

/// The record types the built-in modules declare, validated by the core from their
/// declarations like any module's.
let declarations = Dictionary(
    uniqueKeysWithValues: [ShopProfile.declaration, ChatMetrics.declaration, ShipNegotiation.declaration].map { ($0.type, $0) })

/// The JSON parser and `RecordParser` together, as the spool uses them on a `.json` file.
/// Properties: nothing traps or hangs; a parsed document written back parses to the same
/// value; every accepted record stays within the bounds arithmetic relies on.
func fuzzRecords(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Fuzz.input(data, size)
    let bytes = Array(input)
    if let value = try? JSONParser.parse(bytes) {
        let written = JSONWriter.bytes(value)
        Fuzz.check((try? JSONParser.parse(written)) == value, "a written document does not parse back to itself")
    }
    guard case .success(let decoded) = SpoolFormat.decode(name: "fuzz.json", bytes: bytes) else { return 0 }
    let parser = RecordParser(zone: .shanghai, declarations: declarations)
    for (index, item) in decoded.enumerated() {
        guard case .success(let record) = parser.parse(item.value, index: index + 1, line: item.line) else { continue }
        RecordInvariants.check(record)
    }
    return 0
}

enum RecordInvariants {
    static func check(_ record: Record) {
        switch record.payload {
        case .order(let o):
            Fuzz.check(o.paidAmount.fen >= 0 && o.paidAmount <= Money.maximum, "an order amount out of bounds: \(o.paidAmount)")
            // What the rules compute from an amount: never traps.
            _ = o.paidAmount.percentage(basisPoints: 500).clamped(to: Money.yuan(5)...Money.yuan(30))
            Fuzz.check(RecordParser.timeRange.contains(o.paidAt), "paid_at out of range")
        case .listing(let l):
            if let days = l.shipTimeDays { Fuzz.check(days >= 0 && days <= RecordParser.maxShipDays, "ship_time_days out of bounds") }
        case .declared(let d):
            if record.type == ChatMetrics.type {
                guard let m = ChatMetrics(record) else { return Fuzz.check(false, "an accepted chat-metrics record does not decode") }
                Fuzz.check(m.satisfiedRatings <= m.ratings && m.roundsAnsweredWithin3Min <= m.rounds, "chat metrics inconsistent")
                Fuzz.check(m.ratings >= 0 && m.ratings <= RecordParser.maxCount && m.rounds <= RecordParser.maxCount, "chat metrics out of bounds")
            } else if record.type == ShopProfile.type {
                Fuzz.check(ShopProfile(record) != nil, "an accepted shop-profile record does not decode")
            } else if record.type == ShipNegotiation.type {
                guard let n = ShipNegotiation(record) else { return Fuzz.check(false, "an accepted ship-negotiation record does not decode") }
                Fuzz.check(n.newShipBy > n.proposedAt, "a negotiation ending before it was proposed")
            }
            for t in d.times.values { Fuzz.check(RecordParser.timeRange.contains(t), "a time out of range: \(t.milliseconds) ms") }
        default:
            break
        }
    }
}

@main enum Main {
    static func main() { Fuzz.main(fuzzRecords) }
}
