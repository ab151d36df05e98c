// Integers, floats, booleans' neighbours, and date/time values.

extension Parser {
    enum Radix {
        case binary, octal, decimal, hexadecimal

        var base: Int64 {
            switch self {
            case .binary: return 2
            case .octal: return 8
            case .decimal: return 10
            case .hexadecimal: return 16
            }
        }

        func isDigit(_ c: UInt8) -> Bool {
            switch self {
            case .binary: return c == 0x30 || c == 0x31
            case .octal: return c >= 0x30 && c <= 0x37
            case .decimal: return c >= 0x30 && c <= 0x39
            case .hexadecimal: return ASCII.isHexDigit(c)
            }
        }

        var name: String {
            switch self {
            case .binary: return "binary"
            case .octal: return "octal"
            case .decimal: return "decimal"
            case .hexadecimal: return "hexadecimal"
            }
        }
    }

    /// `DIGIT *( ["_"] DIGIT )`; returns the digits without underscores.
    mutating func scanDigits(_ radix: Radix, what: String) throws(TOMLError) -> [UInt8] {
        guard i < n, radix.isDigit(b[i]) else {
            throw error("expected \(radix.name) digit in \(what), found \(describe(at: i))")
        }
        var out: [UInt8] = []
        while i < n {
            let c = b[i]
            if radix.isDigit(c) {
                out.append(c)
                i += 1
            } else if c == ASCII.underscore {
                guard i + 1 < n, radix.isDigit(b[i + 1]) else {
                    throw error("an underscore in \(what) must be between two digits")
                }
                i += 1
            } else {
                break
            }
        }
        return out
    }

    mutating func parseNumberOrDateTime() throws(TOMLError) -> TOMLValue {
        let start = i
        if ASCII.isDigit(peek()) && ASCII.isDigit(peek(1)) {
            if ASCII.isDigit(peek(2)) && ASCII.isDigit(peek(3)) && peek(4) == ASCII.minus {
                return try parseDateOrDateTime()
            }
            if peek(2) == ASCII.colon {
                let text = try parseTime()
                return .localTime(String(decoding: text, as: UTF8.self))
            }
        }

        var negative = false
        var hasSign = false
        if peek() == ASCII.plus || peek() == ASCII.minus {
            negative = peek() == ASCII.minus
            hasSign = true
            i += 1
        }
        let c = peek()
        if c == UInt8(ascii: "i") {
            try expectWord("inf")
            return .float(negative ? -Double.infinity : Double.infinity)
        }
        if c == UInt8(ascii: "n") {
            try expectWord("nan")
            return .float(negative ? -Double.nan : Double.nan)
        }
        guard ASCII.isDigit(c) else {
            throw error(hasSign ? "expected a digit, 'inf' or 'nan' after the sign, found \(describe(at: i))"
                                : "expected a value, found \(describe(at: i))")
        }

        if c == ASCII.zero {
            let p = peek(1)
            var radix: Radix?
            switch p {
            case UInt8(ascii: "x"): radix = .hexadecimal
            case UInt8(ascii: "o"): radix = .octal
            case UInt8(ascii: "b"): radix = .binary
            case UInt8(ascii: "X"), UInt8(ascii: "O"), UInt8(ascii: "B"):
                throw error("integer prefixes must be lowercase ('0x', '0o', '0b')", at: i)
            default: radix = nil
            }
            if let radix {
                if hasSign {
                    throw error("a sign is not allowed on \(radix.name) integers", at: start)
                }
                i += 2
                let digits = try scanDigits(radix, what: "\(radix.name) integer")
                var v: Int64 = 0
                for d in digits {
                    let (m, o1) = v.multipliedReportingOverflow(by: radix.base)
                    let (s, o2) = m.addingReportingOverflow(Int64(Parser.hexValue(d)))
                    if o1 || o2 {
                        throw error("integer is out of range for a 64-bit signed integer", at: start)
                    }
                    v = s
                }
                return .integer(v)
            }
        }

        let intStart = i
        let intDigits = try scanDigits(.decimal, what: "number")
        if intDigits.count > 1 && intDigits[0] == ASCII.zero {
            throw error("leading zeros are not allowed in decimal numbers", at: intStart)
        }

        var text: [UInt8] = negative ? [ASCII.minus] : []
        text.append(contentsOf: intDigits)
        var isFloat = false
        if peek() == ASCII.dot {
            i += 1
            guard ASCII.isDigit(peek()) else {
                throw error("expected a digit after the decimal point, found \(describe(at: i))")
            }
            text.append(ASCII.dot)
            text.append(contentsOf: try scanDigits(.decimal, what: "fractional part"))
            isFloat = true
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            i += 1
            text.append(UInt8(ascii: "e"))
            if peek() == ASCII.plus || peek() == ASCII.minus {
                text.append(peek())
                i += 1
            }
            guard ASCII.isDigit(peek()) else {
                throw error("expected a digit in the exponent, found \(describe(at: i))")
            }
            text.append(contentsOf: try scanDigits(.decimal, what: "exponent"))
            isFloat = true
        }

        if isFloat {
            guard let d = Double(String(decoding: text, as: UTF8.self)) else {
                throw error("invalid float", at: start)
            }
            guard d.isFinite else {
                throw error("float is out of range for a 64-bit float", at: start)
            }
            return .float(d)
        }

        var v: Int64 = 0
        for d in intDigits {
            let digit = Int64(d - ASCII.zero)
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            if o1 || o2 {
                throw error("integer is out of range for a 64-bit signed integer", at: start)
            }
            v = s
        }
        return .integer(v)
    }

    // MARK: - Dates and times

    /// Exactly `count` ASCII digits as a number.
    private mutating func fixedDigits(_ count: Int, field: String) throws(TOMLError) -> Int {
        var v = 0
        for _ in 0..<count {
            guard i < n, ASCII.isDigit(b[i]) else {
                throw error("expected \(count) digits for the \(field), found \(describe(at: i))")
            }
            v = v * 10 + Int(b[i] - ASCII.zero)
            i += 1
        }
        return v
    }

    private mutating func expectByte(_ c: UInt8, _ what: String) throws(TOMLError) {
        guard peek() == c else {
            throw error("expected \(what), found \(describe(at: i))")
        }
        i += 1
    }

    static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    /// `HH:MM:SS[.fraction]`, validated. Returns the text.
    mutating func parseTime() throws(TOMLError) -> [UInt8] {
        let timeStart = i
        let hour = try fixedDigits(2, field: "hour")
        try expectByte(ASCII.colon, "':' after the hour")
        let minute = try fixedDigits(2, field: "minute")
        try expectByte(ASCII.colon, "':' after the minute (seconds are required in TOML 1.0)")
        let second = try fixedDigits(2, field: "second")
        if hour > 23 { throw error("hour \(hour) is out of range (00-23)", at: timeStart) }
        if minute > 59 { throw error("minute \(minute) is out of range (00-59)", at: timeStart + 3) }
        if second > 60 { throw error("second \(second) is out of range (00-60)", at: timeStart + 6) }
        if peek() == ASCII.dot {
            i += 1
            guard ASCII.isDigit(peek()) else {
                throw error("expected a digit after the decimal point in the time, found \(describe(at: i))")
            }
            while i < n && ASCII.isDigit(b[i]) { i += 1 }
        }
        return Array(b[timeStart..<i])
    }

    mutating func parseDateOrDateTime() throws(TOMLError) -> TOMLValue {
        let start = i
        let year = try fixedDigits(4, field: "year")
        try expectByte(ASCII.minus, "'-' after the year")
        let month = try fixedDigits(2, field: "month")
        try expectByte(ASCII.minus, "'-' after the month")
        let day = try fixedDigits(2, field: "day")
        if month < 1 || month > 12 {
            throw error("month \(month) is out of range (01-12)", at: start + 5)
        }
        if day < 1 || day > Parser.daysInMonth(month, year: year) {
            throw error("day \(day) is out of range for \(year)-\(month < 10 ? "0" : "")\(month)", at: start + 8)
        }
        var text = Array(b[start..<i])

        let c = peek()
        let hasTime: Bool
        if c == UInt8(ascii: "T") || c == UInt8(ascii: "t") {
            hasTime = true
        } else if c == ASCII.space && ASCII.isDigit(peek(1)) && ASCII.isDigit(peek(2)) && peek(3) == ASCII.colon {
            hasTime = true
        } else {
            hasTime = false
        }
        guard hasTime else {
            return .localDate(String(decoding: text, as: UTF8.self))
        }
        i += 1
        text.append(UInt8(ascii: "T"))
        text.append(contentsOf: try parseTime())

        let o = peek()
        if o == UInt8(ascii: "Z") || o == UInt8(ascii: "z") {
            i += 1
            text.append(UInt8(ascii: "Z"))
            return .offsetDateTime(String(decoding: text, as: UTF8.self))
        }
        if o == ASCII.plus || o == ASCII.minus {
            let offsetStart = i
            i += 1
            let oh = try fixedDigits(2, field: "offset hour")
            try expectByte(ASCII.colon, "':' in the UTC offset")
            let om = try fixedDigits(2, field: "offset minute")
            if oh > 23 { throw error("UTC offset hour \(oh) is out of range (00-23)", at: offsetStart) }
            if om > 59 { throw error("UTC offset minute \(om) is out of range (00-59)", at: offsetStart) }
            text.append(contentsOf: b[offsetStart..<i])
            return .offsetDateTime(String(decoding: text, as: UTF8.self))
        }
        return .localDateTime(String(decoding: text, as: UTF8.self))
    }
}
