// String literals: basic, literal, and their multi-line forms.

extension Parser {
    /// `"..."` starting at the opening quote. Returns the UTF-8 content.
    mutating func parseBasicString() throws(TOMLError) -> [UInt8] {
        let open = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < n else {
                throw error("unterminated string (missing closing '\"' for the string at \(src.position(at: open)))")
            }
            let c = b[i]
            if c == ASCII.quote {
                i += 1
                return out
            }
            if c == ASCII.backslash {
                try parseEscape(into: &out, multiline: false)
                continue
            }
            if c == ASCII.lf || c == ASCII.cr {
                throw error("unterminated string: a single-line string cannot contain a newline (use \"\"\" for multi-line strings)")
            }
            if ASCII.isForbiddenControl(c) {
                throw error("\(describe(at: i)) must be escaped in a string")
            }
            out.append(c)
            i += 1
        }
    }

    /// `'...'` starting at the opening apostrophe.
    mutating func parseLiteralString() throws(TOMLError) -> [UInt8] {
        let open = i
        i += 1
        let s = i
        while true {
            guard i < n else {
                throw error("unterminated literal string (missing closing \"'\" for the string at \(src.position(at: open)))")
            }
            let c = b[i]
            if c == ASCII.apostrophe {
                let out = Array(b[s..<i])
                i += 1
                return out
            }
            if c == ASCII.lf || c == ASCII.cr {
                throw error("unterminated literal string: a single-line string cannot contain a newline (use ''' for multi-line strings)")
            }
            if ASCII.isForbiddenControl(c) {
                throw error("\(describe(at: i)) is not allowed in a literal string")
            }
            i += 1
        }
    }

    /// Skips the newline immediately following a multi-line string opener.
    private mutating func skipOpeningNewline() {
        if peek() == ASCII.lf {
            i += 1
        } else if peek() == ASCII.cr && peek(1) == ASCII.lf {
            i += 2
        }
    }

    /// Handles a run of delimiter characters inside a multi-line string.
    /// Returns true when the string is closed.
    private mutating func handleDelimiterRun(_ delimiter: UInt8, into out: inout [UInt8]) throws(TOMLError) -> Bool {
        var q = 0
        while q < 6 && i + q < n && b[i + q] == delimiter { q += 1 }
        if q < 3 {
            for _ in 0..<q { out.append(delimiter) }
            i += q
            return false
        }
        if q == 6 {
            throw error("too many consecutive \(delimiter == ASCII.quote ? "quotes" : "apostrophes") in multi-line string (at most two may precede the closing delimiter)", at: i + 5)
        }
        // The last three close the string; up to two before them are content.
        for _ in 0..<(q - 3) { out.append(delimiter) }
        i += q
        return true
    }

    /// `"""..."""` starting at the first quote. CRLF is normalised to LF.
    mutating func parseMultilineBasicString() throws(TOMLError) -> [UInt8] {
        try parseMultilineString(delimiter: ASCII.quote)
    }

    /// `'''...'''` starting at the first apostrophe. CRLF is normalised to LF.
    mutating func parseMultilineLiteralString() throws(TOMLError) -> [UInt8] {
        try parseMultilineString(delimiter: ASCII.apostrophe)
    }

    /// A multi-line string: basic (three quotes, with escapes) or literal (three
    /// apostrophes, without).
    mutating func parseMultilineString(delimiter: UInt8) throws(TOMLError) -> [UInt8] {
        let basic = delimiter == ASCII.quote
        let open = i
        i += 3
        skipOpeningNewline()
        var out: [UInt8] = []
        while true {
            guard i < n else {
                throw error(
                    basic
                        ? "unterminated multi-line string (missing closing '\"\"\"' for the string at \(src.position(at: open)))"
                        : "unterminated multi-line literal string (missing closing \"'''\" for the string at \(src.position(at: open)))")
            }
            let c = b[i]
            switch c {
            case delimiter:
                if try handleDelimiterRun(delimiter, into: &out) { return out }
            case ASCII.backslash where basic:
                try parseEscape(into: &out, multiline: true)
            case ASCII.lf:
                out.append(ASCII.lf)
                i += 1
            case ASCII.cr:
                guard peek(1) == ASCII.lf else {
                    throw error("carriage return must be followed by a line feed")
                }
                out.append(ASCII.lf)
                i += 2
            default:
                if ASCII.isForbiddenControl(c) {
                    throw error("\(describe(at: i)) \(basic ? "must be escaped in a string" : "is not allowed in a literal string")")
                }
                out.append(c)
                i += 1
            }
        }
    }

    /// An escape sequence starting at the backslash.
    mutating func parseEscape(into out: inout [UInt8], multiline: Bool) throws(TOMLError) {
        let start = i
        i += 1
        guard i < n else {
            throw error("unterminated escape sequence", at: start)
        }
        let c = b[i]
        switch c {
        case UInt8(ascii: "b"): out.append(0x08); i += 1
        case UInt8(ascii: "t"): out.append(0x09); i += 1
        case UInt8(ascii: "n"): out.append(0x0A); i += 1
        case UInt8(ascii: "f"): out.append(0x0C); i += 1
        case UInt8(ascii: "r"): out.append(0x0D); i += 1
        case ASCII.quote: out.append(ASCII.quote); i += 1
        case ASCII.backslash: out.append(ASCII.backslash); i += 1
        case UInt8(ascii: "u"):
            i += 1
            try parseUnicodeEscape(digits: 4, escapeStart: start, into: &out)
        case UInt8(ascii: "U"):
            i += 1
            try parseUnicodeEscape(digits: 8, escapeStart: start, into: &out)
        case ASCII.space, ASCII.tab, ASCII.lf, ASCII.cr:
            guard multiline else {
                throw error("invalid escape sequence '\\\(c == ASCII.space ? " " : c == ASCII.tab ? "<tab>" : "<newline>")'", at: start)
            }
            // Line-ending backslash: only whitespace may follow on the line.
            var j = i
            while j < n && (b[j] == ASCII.space || b[j] == ASCII.tab) { j += 1 }
            let endsLine = j < n && (b[j] == ASCII.lf || (b[j] == ASCII.cr && j + 1 < n && b[j + 1] == ASCII.lf))
            guard endsLine else {
                throw error("invalid escape sequence: a line-ending backslash must be followed only by whitespace up to the end of the line", at: start)
            }
            // Trim all whitespace and newlines up to the next content.
            i = j
            while i < n {
                let d = b[i]
                if d == ASCII.space || d == ASCII.tab || d == ASCII.lf {
                    i += 1
                } else if d == ASCII.cr && i + 1 < n && b[i + 1] == ASCII.lf {
                    i += 2
                } else {
                    break
                }
            }
        default:
            throw error("invalid escape sequence '\\\(describeEscapeChar(at: i))'", at: start)
        }
    }

    private func describeEscapeChar(at offset: Int) -> String {
        guard offset < n else { return "" }
        let c = b[offset]
        if c >= 0x21 && c <= 0x7E { return String(Character(Unicode.Scalar(c))) }
        return describe(at: offset)
    }

    private mutating func parseUnicodeEscape(digits: Int, escapeStart: Int, into out: inout [UInt8]) throws(TOMLError) {
        var v: UInt32 = 0
        for _ in 0..<digits {
            guard i < n, ASCII.isHexDigit(b[i]) else {
                throw error("invalid unicode escape: expected \(digits) hexadecimal digits", at: escapeStart)
            }
            v = (v << 4) | UInt32(Parser.hexValue(b[i]))
            i += 1
        }
        guard let scalar = Unicode.Scalar(v) else {
            throw error("invalid unicode escape: \(Parser.hexScalar(v)) is not a Unicode scalar value", at: escapeStart)
        }
        Parser.appendUTF8(scalar.value, to: &out)
    }

    static func hexValue(_ c: UInt8) -> UInt8 {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return 0
        }
    }

    static func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
        if v < 0x80 {
            out.append(UInt8(truncatingIfNeeded: v))
        } else if v < 0x800 {
            out.append(UInt8(truncatingIfNeeded: 0xC0 | (v >> 6)))
            out.append(UInt8(truncatingIfNeeded: 0x80 | (v & 0x3F)))
        } else if v < 0x10000 {
            out.append(UInt8(truncatingIfNeeded: 0xE0 | (v >> 12)))
            out.append(UInt8(truncatingIfNeeded: 0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(truncatingIfNeeded: 0x80 | (v & 0x3F)))
        } else {
            out.append(UInt8(truncatingIfNeeded: 0xF0 | (v >> 18)))
            out.append(UInt8(truncatingIfNeeded: 0x80 | ((v >> 12) & 0x3F)))
            out.append(UInt8(truncatingIfNeeded: 0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(truncatingIfNeeded: 0x80 | (v & 0x3F)))
        }
    }
}
