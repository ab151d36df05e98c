/// Reads and writes times as the contract says (SPEC.md §2): RFC 3339, and also a time
/// without an offset or the Taobao form `2023-04-05 09:30:00`, both read in the daemon's
/// zone. Written times are RFC 3339 with the offset of the zone given.
public enum TimeFormat {
    /// Parses a time; nil if the text is not one of the accepted forms or names an
    /// impossible date.
    public static func parse(_ text: String, defaultZone: Zone) -> Timestamp? {
        var utf8 = Array(text.utf8)
        // Trim surrounding spaces.
        while utf8.last == 0x20 { utf8.removeLast() }
        while utf8.first == 0x20 { utf8.removeFirst() }
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= utf8.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = utf8[i + k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < utf8.count, utf8[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
            let day = digits(2)
        else { return nil }
        guard i < utf8.count, [UInt8(ascii: "T"), UInt8(ascii: "t"), 0x20].contains(utf8[i]) else { return nil }
        i += 1
        guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2), expect(UInt8(ascii: ":")),
            let second = digits(2)
        else { return nil }
        var millis = 0
        if i < utf8.count, utf8[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 100
            var count = 0
            while i < utf8.count, utf8[i] >= 48, utf8[i] <= 57 {
                millis += Int(utf8[i] - 48) * scale
                scale /= 10
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
        }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour <= 23,
            minute <= 59, second <= 60
        else { return nil }
        let localSeconds = Int64(daysFromCivil(year: year, month: month, day: day)) * 86_400
            + Int64(hour * 3600 + minute * 60 + min(second, 59))
        let local = Timestamp(milliseconds: localSeconds * 1000 + Int64(millis))
        if i == utf8.count { return defaultZone.instant(fromLocal: local) }
        if utf8[i] == UInt8(ascii: "Z") || utf8[i] == UInt8(ascii: "z") {
            return i + 1 == utf8.count ? local : nil
        }
        let sign: Int64
        switch utf8[i] {
        case UInt8(ascii: "+"): sign = 1
        case UInt8(ascii: "-"): sign = -1
        default: return nil
        }
        i += 1
        guard let oh = digits(2), expect(UInt8(ascii: ":")), let om = digits(2), i == utf8.count, oh <= 23, om <= 59
        else { return nil }
        return local - .seconds(sign * Int64(oh * 3600 + om * 60))
    }

    /// RFC 3339 with the zone's offset at that instant (`2023-04-06T09:30:00+08:00`);
    /// milliseconds only when there are any.
    public static func format(_ t: Timestamp, in zone: Zone) -> String {
        let offset = zone.offset(at: t)
        let local = t.milliseconds + Int64(offset) * 1000
        let days = local.floorDiv(86_400_000)
        let msOfDay = local - days * 86_400_000
        let (y, m, d) = civilFromDays(Int(days))
        let secs = Int(msOfDay / 1000)
        let ms = Int(msOfDay % 1000)
        if (0...9999).contains(y) {
            // The usual case, written into one buffer (events and logs format times at
            // every expiry and booking).
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
                var i = 0
                func put(_ v: Int, _ width: Int) {
                    var divisor = 1
                    for _ in 1..<width { divisor *= 10 }
                    while divisor > 0 {
                        buffer[i] = UInt8(ascii: "0") + UInt8(v / divisor % 10)
                        i += 1
                        divisor /= 10
                    }
                }
                func put(_ c: Unicode.Scalar) {
                    buffer[i] = UInt8(ascii: c)
                    i += 1
                }
                put(y, 4); put("-"); put(m, 2); put("-"); put(d, 2); put("T")
                put(secs / 3600, 2); put(":"); put(secs % 3600 / 60, 2); put(":"); put(secs % 60, 2)
                if ms != 0 { put("."); put(ms, 3) }
                if offset == 0 {
                    put("Z")
                } else {
                    let a = abs(offset)
                    put(offset < 0 ? "-" : "+"); put(a / 3600, 2); put(":"); put(a % 3600 / 60, 2)
                }
                return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<i]), as: UTF8.self)
            }
        }
        var out = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(secs / 3600, 2) + ":"
            + pad(secs % 3600 / 60, 2) + ":" + pad(secs % 60, 2)
        if ms != 0 { out += "." + pad(ms, 3) }
        if offset == 0 { return out + "Z" }
        let a = abs(offset)
        return out + (offset < 0 ? "-" : "+") + pad(a / 3600, 2) + ":" + pad(a % 3600 / 60, 2)
    }

    /// The calendar date (`YYYY-MM-DD`) of an instant in a zone.
    public static func date(_ t: Timestamp, in zone: Zone) -> String {
        String(format(t, in: zone).prefix(10))
    }

    /// The local (year, month, day, weekday 0 = Sunday, seconds of day) of an instant.
    public static func components(_ t: Timestamp, in zone: Zone) -> (year: Int, month: Int, day: Int, weekday: Int, secondOfDay: Int) {
        let local = t.milliseconds + Int64(zone.offset(at: t)) * 1000
        let days = local.floorDiv(86_400_000)
        let (y, m, d) = civilFromDays(Int(days))
        let weekday = Int((days + 4).floorMod(7))  // 1970-01-01 was a Thursday
        return (y, m, d, weekday, Int((local - days * 86_400_000) / 1000))
    }

    /// The instant of a local date and time in a zone.
    public static func instant(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, in zone: Zone) -> Timestamp {
        let local = Int64(daysFromCivil(year: year, month: month, day: day)) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return zone.instant(fromLocal: Timestamp(seconds: local))
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's civil-date algorithms.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

extension Int64 {
    @inlinable func floorMod(_ d: Int64) -> Int64 { self - floorDiv(d) * d }
}
