/// The validated input bytes plus line bookkeeping for positions.
struct SourceText {
    let bytes: [UInt8]
    /// Offset of the first byte after an optional BOM.
    let start: Int
    /// Offsets of the first byte of each line (line 1 first).
    let lineStarts: [Int]

    // Cache for monotonic position queries (parsing mostly moves forward).
    private var cacheOffset: Int
    private var cacheLineIndex: Int
    private var cacheColumn: Int

    init(bytes: [UInt8]) throws(TOMLError) {
        self.bytes = bytes
        var s = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            s = 3
        }
        self.start = s
        self.lineStarts = try SourceText.validate(bytes, from: s)
        self.cacheOffset = s
        self.cacheLineIndex = 0
        self.cacheColumn = 1
    }

    /// Validates UTF-8 (rejecting overlong forms, surrogates and values above
    /// U+10FFFF) and records line starts.
    private static func validate(_ b: [UInt8], from start: Int) throws(TOMLError) -> [Int] {
        var starts = [start]
        var i = start
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 {
                if c == 0x0A { starts.append(i + 1) }
                i += 1
                continue
            }
            var need = 0
            var lo: UInt8 = 0x80
            var hi: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default:
                throw invalidUTF8(b, at: i, lineStart: starts[starts.count - 1], line: starts.count)
            }
            if i + need >= n {  // truncated sequence
                throw invalidUTF8(b, at: i, lineStart: starts[starts.count - 1], line: starts.count)
            }
            let c1 = b[i + 1]
            if c1 < lo || c1 > hi {
                throw invalidUTF8(b, at: i, lineStart: starts[starts.count - 1], line: starts.count)
            }
            var k = 2
            while k <= need {
                let ck = b[i + k]
                if ck < 0x80 || ck > 0xBF {
                    throw invalidUTF8(b, at: i, lineStart: starts[starts.count - 1], line: starts.count)
                }
                k += 1
            }
            i += need + 1
        }
        return starts
    }

    private static func invalidUTF8(_ b: [UInt8], at offset: Int, lineStart: Int, line: Int) -> TOMLError {
        var col = 1
        var j = lineStart
        while j < offset {
            if b[j] & 0xC0 != 0x80 { col += 1 }
            j += 1
        }
        return TOMLError(position: TOMLPosition(line: line, column: col),
                         message: "invalid UTF-8 byte sequence")
    }

    /// The line/column of a byte offset (offsets past the end are clamped).
    mutating func position(at rawOffset: Int) -> TOMLPosition {
        let offset = min(max(rawOffset, start), bytes.count)
        // Fast path: same line as the cached position, at or after it.
        let nextLineStart = cacheLineIndex + 1 < lineStarts.count ? lineStarts[cacheLineIndex + 1] : Int.max
        if offset >= cacheOffset && offset < nextLineStart {
            var col = cacheColumn
            var j = cacheOffset
            while j < offset {
                if bytes[j] & 0xC0 != 0x80 { col += 1 }
                j += 1
            }
            cacheOffset = offset
            cacheColumn = col
            return TOMLPosition(line: cacheLineIndex + 1, column: col)
        }
        // Binary search for the last line start <= offset.
        var lo = 0
        var hi = lineStarts.count - 1
        while lo < hi {
            let mid = lo + (hi - lo + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        var col = 1
        var j = lineStarts[lo]
        while j < offset {
            if bytes[j] & 0xC0 != 0x80 { col += 1 }
            j += 1
        }
        cacheLineIndex = lo
        cacheOffset = offset
        cacheColumn = col
        return TOMLPosition(line: lo + 1, column: col)
    }
}
