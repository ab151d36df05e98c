import WardenCore
import WardenFuzzSupport

/// Time zone files (TZif, RFC 8536) as `Zone` reads them from the tz database. They are
/// system files, but a parser is a parser. Properties: nothing traps or hangs, whatever
/// the bytes; a file that parses answers an offset within ±26 hours at any instant,
/// including far outside its table (where the footer's POSIX rule applies).
func fuzzTZif(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Array(Fuzz.input(data, size))
    guard let zone = try? TZif(bytes: input) else { return 0 }
    let instants: [Int64] = [.min, -(1 << 40), -2_208_988_800, 0, 694_224_000, 1_700_000_000, 4_102_444_800, 253_402_300_799, 1 << 40, .max]
    for t in instants {
        let offset = zone.offset(atUnixSeconds: t)
        Fuzz.check(abs(offset) <= 26 * 3600, "offset \(offset) s at \(t) is more than 26 hours")
        _ = zone.hasTransitions(after: t)
    }
    return 0
}

@main enum Main {
    static func main() { Fuzz.main(fuzzTZif) }
}
