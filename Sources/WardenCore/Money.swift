/// An amount of CNY in integer fen (1 yuan = 100 fen). Warden never uses floating point
/// for money: amounts arrive as decimal strings (`"1299.00"`) and leave the same way.
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var fen: Int64

    public init(fen: Int64) { self.fen = fen }
    public static let zero = Money(fen: 0)
    public static func yuan(_ y: Int64) -> Money { Money(fen: y * 100) }

    /// The largest amount a record or a parameter may carry: one billion yuan. Far above
    /// any order on the marketplaces, and far enough below `Int64` that every sum and
    /// percentage the rules take of it is exact (RecordParser refuses larger amounts).
    public static let maximum = Money(fen: 100_000_000_000)

    /// Parses a decimal string with at most two decimals: `"10"`, `"10.5"`, `"10.00"`,
    /// `"-3.20"`. Nil for anything else (exponents, thousands separators, three decimals).
    public init?(parsing text: String) {
        var utf8 = Substring(text).utf8[...]
        var negative = false
        if utf8.first == UInt8(ascii: "-") {
            negative = true
            utf8 = utf8.dropFirst()
        }
        let whole = utf8.prefix { $0 >= 48 && $0 <= 57 }
        guard !whole.isEmpty, whole.count <= 15 else { return nil }
        var fen: Int64 = 0
        for c in whole { fen = fen * 10 + Int64(c - 48) }
        fen *= 100
        var rest = utf8.dropFirst(whole.count)
        if let dot = rest.first {
            guard dot == UInt8(ascii: ".") else { return nil }
            rest = rest.dropFirst()
            let decimals = Array(rest)
            guard (1...2).contains(decimals.count), decimals.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            fen += Int64(decimals[0] - 48) * 10
            if decimals.count == 2 { fen += Int64(decimals[1] - 48) }
        }
        self.fen = negative ? -fen : fen
    }

    /// `"10.00"`, `"-0.05"`.
    public var description: String {
        let a = fen.magnitude  // not abs(): abs(Int64.min) traps
        let cents = a % 100
        return (fen < 0 ? "-" : "") + "\(a / 100)." + (cents < 10 ? "0" : "") + "\(cents)"
    }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.fen < rhs.fen }

    /// The sum, or nil if it does not fit (amounts from input are bounded by `maximum`,
    /// so only a sum of billions of them could overflow; callers say what they do then).
    public func adding(_ other: Money) -> Money? {
        let (sum, overflow) = fen.addingReportingOverflow(other.fen)
        return overflow ? nil : Money(fen: sum)
    }

    /// `basisPoints`/10,000 of the amount, rounded half up to the fen (half away from zero
    /// for negative amounts): 5 % of 123.45 is 6.1725, which is 6.17.
    ///
    /// Exact for every amount and rate: the product is taken at double width, so no input
    /// can make it trap. A result beyond `Int64` fen (only for rates far above 100 %) is
    /// limited to the largest representable amount of its sign.
    public func percentage(basisPoints: Int64) -> Money {
        let negative = (fen < 0) != (basisPoints < 0)
        let product = fen.magnitude.multipliedFullWidth(by: basisPoints.magnitude)
        guard product.high < 10_000 else { return Money(fen: negative ? .min : .max) }
        let (q, r) = UInt64(10_000).dividingFullWidth(product)  // q < 2^64: high < divisor
        let rounded = r * 2 >= 10_000 ? q.addingReportingOverflow(1) : (partialValue: q, overflow: false)
        guard !rounded.overflow, rounded.partialValue <= UInt64(Int64.max) else { return Money(fen: negative ? .min : .max) }
        let magnitude = Int64(rounded.partialValue)
        return Money(fen: negative ? -magnitude : magnitude)
    }

    /// The amount limited to `range`.
    public func clamped(to range: ClosedRange<Money>) -> Money {
        min(max(self, range.lowerBound), range.upperBound)
    }
}
