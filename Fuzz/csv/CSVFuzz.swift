import WardenCore
import WardenFuzzSupport
import WardenSpool

/// CSV orders (a header row, Taobao column aliases, quoted fields) into records.
/// Properties: nothing traps or hangs; every row becomes a record or an error naming
/// its line; lines are increasing; accepted orders are within bounds.
func fuzzCSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Fuzz.input(data, size)
    let bytes = Array(input)
    switch SpoolFormat.decode(name: "fuzz.csv", bytes: bytes) {
    case .success(let rows):
        var last = 0
        let parser = RecordParser(zone: .shanghai)
        for (index, row) in rows.enumerated() {
            Fuzz.check(row.line > last, "CSV row lines not increasing: \(row.line) after \(last)")
            last = row.line
            if case .success(let record) = parser.parse(row.value, index: index + 1, line: row.line), case .order(let o) = record.payload {
                Fuzz.check(o.paidAmount.fen >= 0 && o.paidAmount <= Money.maximum, "an order amount out of bounds")
            }
        }
    case .failure(let errors):
        Fuzz.check(!errors.errors.isEmpty, "a refusal without a reason")
    }
    return 0
}

@main enum Main {
    static func main() { Fuzz.main(fuzzCSV) }
}
