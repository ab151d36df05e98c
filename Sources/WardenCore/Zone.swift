/// A time zone for reading times written without an offset and for writing times people
/// read. Backed by the system's tz database (`/usr/share/zoneinfo`, read by `TZif`);
/// `Asia/Shanghai` (CST, UTC+8) is the marketplace's zone. `UTC` needs no file, and
/// `Asia/Shanghai` is built in too (`BuiltinZones`), so the defaults work without tzdata.
public struct Zone: Sendable, Hashable {
    public let identifier: String
    /// Nil for UTC.
    private let rules: TZif?
    /// Zones without transitions since `fixedSince` (Asia/Shanghai since 1991) answer
    /// offsets for later instants without asking the tz database each time.
    private let fixedOffset: Int?
    private let fixedSince: Int64

    public init?(identifier: String) {
        let since: Int64 = 694_224_000  // 1992-01-01
        fixedSince = since + 86_400
        self.identifier = identifier
        if identifier == "UTC" {
            rules = nil
            fixedOffset = 0
            return
        }
        // Asia/Shanghai, the default, is built in for a machine without tzdata.
        guard let tz = TZif.load(identifier: identifier) ?? (identifier == "Asia/Shanghai" ? try? TZif(bytes: BuiltinZones.shanghai) : nil) else {
            return nil
        }
        rules = tz
        // Fixed from 1992 on if there is no transition after then.
        fixedOffset = tz.hasTransitions(after: since) ? nil : tz.offset(atUnixSeconds: since)
    }

    public static func == (lhs: Zone, rhs: Zone) -> Bool { lhs.identifier == rhs.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }

    public static let utc = Zone(identifier: "UTC")!
    /// China Standard Time, the platform's zone (RULES.md).
    public static let shanghai = Zone(identifier: "Asia/Shanghai")!

    /// The offset from UTC in seconds at an instant.
    public func offset(at instant: Timestamp) -> Int {
        guard let rules else { return 0 }
        if let fixedOffset, instant.seconds >= fixedSince { return fixedOffset }
        return rules.offset(atUnixSeconds: instant.seconds)
    }

    /// The instant a local wall-clock time (given as if it were UTC) denotes in this zone.
    /// In a gap or overlap the earlier offset wins, as most libraries do.
    public func instant(fromLocal local: Timestamp) -> Timestamp {
        let guess = local - .seconds(Int64(offset(at: local)))
        let corrected = local - .seconds(Int64(offset(at: guess)))
        return corrected
    }
}
