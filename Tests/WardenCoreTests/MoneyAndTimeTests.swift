import Testing
@testable import WardenCore

@Suite("Money in fen")
struct MoneyTests {
    @Test(arguments: [
        ("10", 1000), ("10.5", 1050), ("10.00", 1000), ("0.05", 5), ("1299.00", 129_900), ("-3.20", -320),
    ])
    func parses(text: String, fen: Int64) {
        #expect(Money(parsing: text)?.fen == fen)
    }

    @Test(arguments: ["", "1.234", "1e3", "1,000.00", "abc", "1.", ".5", "+1", " 1"])
    func rejects(text: String) {
        #expect(Money(parsing: text) == nil)
    }

    @Test(arguments: [(1000, "10.00"), (5, "0.05"), (-320, "-3.20"), (0, "0.00"), (129_900, "1299.00")])
    func formats(fen: Int64, text: String) {
        #expect(Money(fen: fen).description == text)
    }

    /// RULES.md worked figures for 5 % (500 basis points), before the clamp.
    @Test(arguments: [("300.00", "15.00"), ("59.00", "2.95"), ("1299.00", "64.95"), ("123.45", "6.17"), ("0.10", "0.01"), ("0.09", "0.00")])
    func percentageRoundsHalfUp(paid: String, expected: String) {
        #expect(Money(parsing: paid)!.percentage(basisPoints: 500).description == expected)
    }

    /// Issue 10: 5 % of 999,999,999,999,999.99 trapped (SIGILL) inside the write
    /// transaction. Every amount and rate now gives an exact or saturated result.
    @Test(arguments: [
        (Int64.max, Int64(500), Int64(461_168_601_842_738_790)),  // exact at double width, rounded half up
        (Int64.min, Int64(500), Int64(-461_168_601_842_738_790)),
        (Int64(99_999_999_999_999_999), Int64(500), Int64(5_000_000_000_000_000)),
        (Int64.max, Int64.max, Int64.max),  // beyond Int64: saturated
        (Int64.min, Int64.max, Int64.min),
        (Int64.max, Int64(-10_000), -Int64.max),
        (Int64(-1), Int64(5_000), Int64(-1)),  // -0.005 rounds half away from zero
    ])
    func percentageNeverTraps(fen: Int64, basisPoints: Int64, expected: Int64) {
        #expect(Money(fen: fen).percentage(basisPoints: basisPoints).fen == expected)
    }

    @Test func additionReportsOverflow() {
        #expect(Money(fen: .max).adding(Money(fen: 1)) == nil)
        #expect(Money(fen: .min).adding(Money(fen: -1)) == nil)
        #expect(Money.maximum.adding(.maximum) == Money(fen: 200_000_000_000))
        #expect(Money(fen: Int64.min).description == "-92233720368547758.08")
    }

    @Test func clamps() {
        let range = Money.yuan(5)...Money.yuan(30)
        #expect(Money(fen: 295).clamped(to: range) == .yuan(5))
        #expect(Money(fen: 6495).clamped(to: range) == .yuan(30))
        #expect(Money(fen: 1500).clamped(to: range) == Money(fen: 1500))
    }
}

@Suite("Times and durations")
struct TimeTests {
    static let shanghai = Zone.shanghai

    @Test(arguments: [
        ("2023-04-05T09:30:00+08:00", "2023-04-05T01:30:00Z"),
        ("2023-04-05T01:30:00Z", "2023-04-05T01:30:00Z"),
        ("2023-04-05 09:30:00", "2023-04-05T01:30:00Z"),  // Taobao form, in the daemon zone
        ("2023-04-05T09:30:00", "2023-04-05T01:30:00Z"),  // no offset: daemon zone
        ("2023-04-05T09:30:00.250-05:00", "2023-04-05T14:30:00.250Z"),
        ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"),
    ])
    func parses(text: String, utc: String) throws {
        let t = try #require(TimeFormat.parse(text, defaultZone: Self.shanghai))
        #expect(TimeFormat.format(t, in: .utc) == utc)
    }

    @Test(arguments: ["2023-02-29 10:00:00", "2023-13-01T00:00:00Z", "2023-04-05", "yesterday", "2023-04-05T25:00:00Z", "2023-04-05T09:30:00+0800", "2023-04-05T09:30:00Zjunk"])
    func rejects(text: String) {
        #expect(TimeFormat.parse(text, defaultZone: Self.shanghai) == nil)
    }

    @Test func formatsInZone() throws {
        let t = try #require(TimeFormat.parse("2023-04-06T01:30:00Z", defaultZone: .utc))
        #expect(TimeFormat.format(t, in: Self.shanghai) == "2023-04-06T09:30:00+08:00")
        #expect(TimeFormat.date(t, in: Self.shanghai) == "2023-04-06")
    }

    @Test(arguments: [("24h", 86_400_000), ("90m", 5_400_000), ("1h30m", 5_400_000), ("2d", 172_800_000), ("45s", 45_000), ("250ms", 250)])
    func parsesDurations(text: String, ms: Int64) {
        #expect(TimeSpan.parse(text)?.milliseconds == ms)
    }

    @Test(arguments: ["", "24", "h", "1x", "-1h", "1.5h"])
    func rejectsDurations(text: String) {
        #expect(TimeSpan.parse(text) == nil)
    }

    /// Fuzz finding: parts that each fit add up to a span whose description (a ten-digit
    /// day count) would not read back. The sum is bounded; the largest one reads back.
    @Test func aDurationLongerThanItsDescriptionCanSayIsRefused() {
        #expect(TimeSpan.parse("999999999d") == TimeSpan.longestParsed)
        #expect(TimeSpan.parse(TimeSpan.longestParsed.description) == TimeSpan.longestParsed)
        #expect(TimeSpan.parse("999999999d1ms") == nil)
        #expect(TimeSpan.parse("808853650d808853650d") == nil)
    }

    @Test func describesDurations() {
        #expect(TimeSpan.hours(24).description == "24h")
        #expect(TimeSpan.minutes(90).description == "1h30m")
        #expect(TimeSpan.days(3).description == "3d")
    }
}

/// Zones come from the system's tz database through `TZif` (no Foundation): offsets
/// before, at and after transitions, half-hour and 45-minute zones, negative DST
/// (Dublin, Casablanca), and years past the table where the footer rule applies
/// (expected values from Python's zoneinfo on the same tz database).
@Suite("Time zones")
struct ZoneTests {
    @Test(arguments: [
        ("America/New_York", 1705320000, -18000),
        ("America/New_York", 1721044800, -14400),
        ("America/New_York", 1710053999, -18000),
        ("America/New_York", 1710054000, -14400),
        ("America/New_York", 7273756800, -14400),
        ("America/New_York", 7258118400, -18000),
        ("Europe/London", 1719792000, 3600),
        ("Australia/Lord_Howe", 1704067200, 39600),
        ("Australia/Lord_Howe", 1719792000, 37800),
        ("Asia/Kolkata", 1700000000, 19800),
        ("Asia/Shanghai", 583718400, 32400),
        ("Asia/Shanghai", 1700000000, 28800),
        ("Africa/Casablanca", 1710892800, 0),
        ("Africa/Casablanca", 1719792000, 3600),
        ("Europe/Dublin", 1705276800, 0),
        ("Europe/Dublin", 1721001600, 3600),
        ("Pacific/Chatham", 1704067200, 49500),
        ("UTC", 1700000000, 0),
    ] as [(String, Int64, Int)])
    func offsets(zone: String, seconds: Int64, offset: Int) throws {
        let z = try #require(Zone(identifier: zone))
        #expect(z.offset(at: Timestamp(milliseconds: seconds * 1000)) == offset)
    }

    /// The built-in Asia/Shanghai (used when tzdata is missing) answers as the file does.
    @Test func theBuiltInShanghaiMatchesTheTzDatabase() throws {
        let builtIn = try TZif(bytes: BuiltinZones.shanghai)
        let file = try #require(TZif.load(identifier: "Asia/Shanghai"))
        for t: Int64 in [-2_208_988_800, 0, 515_520_000, 583_718_400, 671_986_800, 694_224_000, 1_700_000_000, 4_102_444_800] {
            #expect(builtIn.offset(atUnixSeconds: t) == file.offset(atUnixSeconds: t), "at \(t)")
        }
    }

    @Test(arguments: ["", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "Asia/../Asia/Shanghai", ".hidden", "Asia/Shanghai\u{0}", "zone.tab", "tzdata.zi"])
    func unknownOrUnsafeNamesAreRefused(name: String) {
        #expect(Zone(identifier: name) == nil)
    }
}
