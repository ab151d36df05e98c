#if canImport(Glibc)
import Glibc
#endif

/// An instant, in milliseconds since the Unix epoch (UTC).
///
/// Every time Warden stores or compares is a `Timestamp`; zones matter only when text is
/// read (`TimeFormat.parse`) or written (`TimeFormat.format`).
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public init(seconds: Int64) { self.milliseconds = seconds * 1000 }

    public var seconds: Int64 { milliseconds.floorDiv(1000) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }
    public static func + (lhs: Timestamp, rhs: TimeSpan) -> Timestamp {
        Timestamp(milliseconds: lhs.milliseconds + rhs.milliseconds)
    }
    public static func - (lhs: Timestamp, rhs: TimeSpan) -> Timestamp {
        Timestamp(milliseconds: lhs.milliseconds - rhs.milliseconds)
    }
    public static func - (lhs: Timestamp, rhs: Timestamp) -> TimeSpan {
        TimeSpan(milliseconds: lhs.milliseconds - rhs.milliseconds)
    }

    /// RFC 3339 in UTC; use `TimeFormat.format(_:in:)` for a zone.
    public var description: String { TimeFormat.format(self, in: .utc) }
}

/// A length of time, in milliseconds. Config durations (`"24h"`, `"1h30m"`) parse into it.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> TimeSpan { TimeSpan(milliseconds: s * 1000) }
    public static func minutes(_ m: Int64) -> TimeSpan { .seconds(m * 60) }
    public static func hours(_ h: Int64) -> TimeSpan { .seconds(h * 3600) }
    public static func days(_ d: Int64) -> TimeSpan { .seconds(d * 86_400) }

    public var seconds: Int64 { milliseconds.floorDiv(1000) }

    public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.milliseconds < rhs.milliseconds }
    public static func + (lhs: TimeSpan, rhs: TimeSpan) -> TimeSpan { TimeSpan(milliseconds: lhs.milliseconds + rhs.milliseconds) }

    /// The longest span `parse` reads: 999,999,999 days, the most `description` can
    /// write back (its day count has at most nine digits, as each part `parse` reads).
    public static let longestParsed = TimeSpan(milliseconds: 999_999_999 * 86_400_000)

    /// Parses `"24h"`, `"90m"`, `"1h30m"`, `"2d"`, `"45s"`, `"250ms"`: one or more
    /// `<integer><unit>` parts, units `d`, `h`, `m`, `s`, `ms`, adding up to at most
    /// `longestParsed` (many parts could add up to more: found by the fuzzer, a span
    /// whose description did not read back).
    public static func parse(_ text: String) -> TimeSpan? {
        var total: Int64 = 0
        var scalars = text.trimmingSpaces.unicodeScalars[...]
        guard !scalars.isEmpty else { return nil }
        while !scalars.isEmpty {
            let digits = scalars.prefix { ("0"..."9").contains($0) }
            // At most 9 digits: 999,999,999 days still fits in Int64 milliseconds.
            guard !digits.isEmpty, digits.count <= 9, let value = Int64(String(String.UnicodeScalarView(digits))) else {
                return nil
            }
            scalars = scalars.dropFirst(digits.count)
            let unit = String(String.UnicodeScalarView(scalars.prefix { ("a"..."z").contains($0) }))
            scalars = scalars.dropFirst(unit.unicodeScalars.count)
            let factor: Int64
            switch unit {
            case "d": factor = 86_400_000
            case "h": factor = 3_600_000
            case "m": factor = 60_000
            case "s": factor = 1000
            case "ms": factor = 1
            default: return nil
            }
            let (sum, overflow) = total.addingReportingOverflow(value * factor)
            if overflow || sum > longestParsed.milliseconds { return nil }
            total = sum
        }
        return TimeSpan(milliseconds: total)
    }

    /// The shortest `parse`-able text: `"24h"`, `"1h30m"`, `"0s"`.
    public var description: String {
        var rest = milliseconds
        if rest == 0 { return "0s" }
        var out = rest < 0 ? "-" : ""
        rest = abs(rest)
        // Days only from two days up: "24h" reads better than "1d" for the rules' windows.
        let units: [(String, Int64)] = rest >= 2 * 86_400_000 ? [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] : [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
        for (unit, size) in units where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}

extension Int64 {
    /// Division rounding toward negative infinity.
    @inlinable func floorDiv(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}
