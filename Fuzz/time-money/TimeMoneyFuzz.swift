import WardenCore
import WardenFuzzSupport

/// Times, durations and amounts as records and the config spell them. Properties:
/// nothing traps; what parses, formats back to text that parses to the same value.
func fuzzTimeMoney(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Fuzz.input(data, size)
    guard let text = String(validating: input, as: UTF8.self) else { return 0 }
    if let money = Money(parsing: text) {
        Fuzz.check(Money(parsing: money.description) == money, "amount \(text) → \(money) does not read back")
        _ = money.percentage(basisPoints: 500)
        _ = money.adding(money)
    }
    for zone in [Zone.shanghai, Zone.utc] {
        if let t = TimeFormat.parse(text, defaultZone: zone), RecordParser.timeRange.contains(t) {
            let formatted = TimeFormat.format(t, in: zone)
            Fuzz.check(TimeFormat.parse(formatted, defaultZone: .utc) == t, "time \(text) → \(formatted) does not read back")
            _ = TimeFormat.components(t, in: zone)
            _ = TimeFormat.date(t, in: zone)
        }
    }
    if let span = TimeSpan.parse(text) {
        Fuzz.check(TimeSpan.parse(span.description) == span, "duration \(text) → \(span) does not read back")
    }
    return 0
}

@main enum Main {
    static func main() { Fuzz.main(fuzzTimeMoney) }
}
