/// An amount of CNY in integer fen (1 yuan = 100 fen). Warden never uses floating point
/// for money: amounts arrive as decimal strings (`"1299.00"`) and leave the same way.
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var fen: Int64

    public init(fen: Int64) { self.fen = fen }
    public static let zero = Money(fen: 0)
    public static func yuan(_ y: Int64) -> Money { Money(fen: y * 100) }

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
        let a = abs(fen)
        let cents = a % 100
        return (fen < 0 ? "-" : "") + "\(a / 100)." + (cents < 10 ? "0" : "") + "\(cents)"
    }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.fen < rhs.fen }
    public static func + (lhs: Money, rhs: Money) -> Money { Money(fen: lhs.fen + rhs.fen) }

    /// `basisPoints`/10,000 of the amount, rounded half up to the fen (half away from zero
    /// for negative amounts): 5 % of 123.45 is 6.1725, which is 6.17.
    public func percentage(basisPoints: Int64) -> Money {
        let product = fen * basisPoints  // fen * bp / 10_000 fen
        let q = product / 10_000
        let r = product % 10_000
        if abs(r) * 2 >= 10_000 { return Money(fen: q + (product < 0 ? -1 : 1)) }
        return Money(fen: q)
    }

    /// The amount limited to `range`.
    public func clamped(to range: ClosedRange<Money>) -> Money {
        min(max(self, range.lowerBound), range.upperBound)
    }
}
