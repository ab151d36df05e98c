import Foundation

/// A time zone for reading times written without an offset and for writing times people
/// read. Backed by the system's tz database; `Asia/Shanghai` (CST, UTC+8) is the
/// marketplace's zone.
public struct Zone: Sendable, Hashable {
    public let identifier: String
    private let timeZone: TimeZone
    /// Zones without transitions since `fixedSince` (Asia/Shanghai since 1991) answer
    /// offsets for later instants without asking the tz database each time.
    private let fixedOffset: Int?
    private let fixedSince: Int64

    public init?(identifier: String) {
        guard let tz = TimeZone(identifier: identifier) else { return nil }
        self.identifier = identifier
        self.timeZone = tz
        // Fixed from 1992 on if there is no transition between then and 2100.
        let since = Date(timeIntervalSince1970: 694_224_000)  // 1992-01-01
        if let next = tz.nextDaylightSavingTimeTransition(after: since), next.timeIntervalSince1970 < 4_102_444_800 {
            fixedOffset = nil
        } else {
            fixedOffset = tz.secondsFromGMT(for: since)
        }
        fixedSince = 694_224_000 + 86_400
    }

    public static func == (lhs: Zone, rhs: Zone) -> Bool { lhs.identifier == rhs.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }

    public static let utc = Zone(identifier: "UTC")!
    /// China Standard Time, the platform's zone (RULES.md).
    public static let shanghai = Zone(identifier: "Asia/Shanghai")!

    /// The offset from UTC in seconds at an instant.
    public func offset(at instant: Timestamp) -> Int {
        if identifier == "UTC" { return 0 }
        if let fixedOffset, instant.seconds >= fixedSince { return fixedOffset }
        return timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant.seconds)))
    }

    /// The instant a local wall-clock time (given as if it were UTC) denotes in this zone.
    /// In a gap or overlap the earlier offset wins, as most libraries do.
    public func instant(fromLocal local: Timestamp) -> Timestamp {
        let guess = local - .seconds(Int64(offset(at: local)))
        let corrected = local - .seconds(Int64(offset(at: guess)))
        return corrected
    }
}
