// TZif: time zones read straight from the system's tz database (RFC 8536, RFC 9636),
// without Foundation and its ICU-backed TimeZone.
//
// Trusts: the contents of the zoneinfo directory it is pointed at (its symbolic links are
// followed, as the C library follows them) and nothing else.
// Refuses: identifiers that could name a file outside that directory (empty, absolute,
// any component that is empty or starts with "." — so no ".." —, NUL bytes, more than
// 255 bytes); files that are not regular files or are larger than 1 MiB; and any TZif
// bytes that are malformed: bad magic or version, counts larger than the bytes present,
// type indices out of range, transitions not strictly ascending, UT offsets outside
// -25 h...+26 h (RFC 8536 §3.2), flags other than 0 or 1, a footer that is not a POSIX
// TZ string, trailing bytes. So every offset answered is within ±26 hours.
// Never traps on input: sizes use checked arithmetic, nothing is allocated before the
// bytes it describes are known to be present, and the footer parser is total.
//
// Leap-second records (the "right/" zones) are validated and then ignored: their
// transition times count leap seconds, and like the C library this type looks them up
// with the instant as given, so offsets agree with `localtime` there too.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A time zone read from the system's tz database (TZif files, RFC 8536).
///
/// The table of transitions answers instants it covers (a binary search); instants on or
/// after its last transition follow the POSIX TZ string in the footer of version 2+ files
/// (all instants, when there are no transitions); instants before its first transition use
/// time type 0 (RFC 8536 §3.2).
public struct TZif: Sendable, Hashable {
    /// Why bytes are not a usable TZif file.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = "TZif: " + description }
    }

    /// Transition instants (seconds since 1970 UTC), strictly ascending.
    private let transitions: [Int64]
    /// The UT offset (seconds east) in effect from `transitions[i]` on.
    private let offsets: [Int32]
    /// The UT offset of time type 0: for instants before the first transition.
    private let initialOffset: Int32
    /// The footer's rule, for instants on or after the last transition (for all instants
    /// when there are no transitions). Nil when the file has none (version 1, or an empty footer).
    private let rule: Rule?
    /// The latest instant at which the offset changes, not counting the footer's yearly
    /// DST changes; nil if it never does.
    private let lastChange: Int64?

    // MARK: Parsing

    /// Parses TZif bytes (version 1, 2, 3 or 4; later digits are read as version 4). Throws `TZif.Invalid` with a clear message
    /// on anything malformed; never traps, never allocates without bound (every count is
    /// checked against the bytes actually present before allocating).
    ///
    /// Version 2+ files are read from their 64-bit data block and footer; the version 1
    /// block is only skipped.
    public init(bytes: [UInt8]) throws(TZif.Invalid) {
        let first = try Header(bytes, at: 0)
        let block: Block
        if first.version == 0 {
            block = try Block(bytes, header: first, at: Header.size, timeSize: 4)
            guard block.end == bytes.count else {
                throw Invalid("\(bytes.count - block.end) bytes after the version 1 data block")
            }
            rule = nil
        } else {
            let v1Size = try first.blockSize(timeSize: 4)
            let (second, overflow) = Header.size.addingReportingOverflow(v1Size)
            guard !overflow, second <= bytes.count else {
                throw Invalid("version 1 data block needs \(v1Size) bytes, only \(bytes.count - Header.size) present")
            }
            let header = try Header(bytes, at: second)
            guard header.version == first.version else {
                let (was, now) = (Header.name(first.version), Header.name(header.version))
                throw Invalid("second header says version \(now), first says \(was)")
            }
            block = try Block(bytes, header: header, at: second + Header.size, timeSize: 8)
            rule = try TZif.footer(bytes, from: block.end)
        }

        transitions = block.times
        var offs: [Int32] = []
        offs.reserveCapacity(block.indices.count)
        for i in block.indices { offs.append(block.typeOffsets[Int(i)]) }
        offsets = offs
        initialOffset = block.typeOffsets[0]
        lastChange = TZif.lastChange(transitions: transitions, offsets: offs, initial: initialOffset, rule: rule)
    }

    /// The 44-byte header that starts each of a file's data blocks.
    private struct Header {
        static let size = 44
        /// 0 for version 1, else the ASCII digit ('2', '3' or '4').
        let version: UInt8
        let isutcnt: Int, isstdcnt: Int, leapcnt: Int, timecnt: Int, typecnt: Int, charcnt: Int

        init(_ bytes: [UInt8], at offset: Int) throws(Invalid) {
            guard offset >= 0, bytes.count - offset >= Header.size else {
                throw Invalid("\(max(0, bytes.count - offset)) bytes at offset \(offset), shorter than a 44-byte header")
            }
            guard bytes[offset] == 0x54, bytes[offset + 1] == 0x5A, bytes[offset + 2] == 0x69, bytes[offset + 3] == 0x66 else {
                throw Invalid("no \"TZif\" magic at offset \(offset)")
            }
            version = bytes[offset + 4]
            // Later versions are read as version 4 (as the reference tz code and glibc
            // do), so a newer tzdata does not make every zone unknown.
            guard version == 0 || (0x32...0x39).contains(version) else {
                throw Invalid("unsupported version byte 0x\(String(version, radix: 16)) at offset \(offset + 4)")
            }
            func count(_ k: Int) -> Int {
                // Int.max where Int is 32 bits and the count is not: blockSize then refuses it.
                Int(exactly: TZif.bigEndianUInt32(bytes, offset + 20 + 4 * k)) ?? Int.max
            }
            isutcnt = count(0)
            isstdcnt = count(1)
            leapcnt = count(2)
            timecnt = count(3)
            typecnt = count(4)
            charcnt = count(5)
        }

        /// A version byte as people name it: "1" for NUL, else the digit.
        static func name(_ version: UInt8) -> String { version == 0 ? "1" : String(Character(Unicode.Scalar(version))) }

        /// The size in bytes of the data block this header describes, overflow-checked.
        func blockSize(timeSize: Int) throws(Invalid) -> Int {
            let parts: [(Int, Int)] = [
                (timecnt, timeSize + 1), (typecnt, 6), (charcnt, 1),
                (leapcnt, timeSize + 4), (isstdcnt, 1), (isutcnt, 1),
            ]
            var total = 0
            for (n, each) in parts {
                let (product, o1) = n.multipliedReportingOverflow(by: each)
                let (sum, o2) = total.addingReportingOverflow(product)
                guard !o1, !o2 else { throw Invalid("data block counts overflow") }
                total = sum
            }
            return total
        }
    }

    /// A validated data block: what the lookups need from it.
    private struct Block {
        var times: [Int64] = []
        var indices: [UInt8] = []
        var typeOffsets: [Int32] = []
        /// Offset of the first byte after the block.
        var end = 0

        init(_ bytes: [UInt8], header h: Header, at start: Int, timeSize: Int) throws(Invalid) {
            let size = try h.blockSize(timeSize: timeSize)
            let available = bytes.count - start
            guard size <= available else {
                throw Invalid("data block at offset \(start) needs \(size) bytes, only \(available) present")
            }
            guard h.typecnt >= 1 else { throw Invalid("time type count is zero") }
            guard h.isutcnt == 0 || h.isutcnt == h.typecnt else {
                throw Invalid("UT/local indicator count \(h.isutcnt) is neither 0 nor the type count \(h.typecnt)")
            }
            guard h.isstdcnt == 0 || h.isstdcnt == h.typecnt else {
                throw Invalid("standard/wall indicator count \(h.isstdcnt) is neither 0 nor the type count \(h.typecnt)")
            }
            // Every count is now bounded by the bytes present, so the arrays below are too.
            var p = start
            func time(_ at: Int) -> Int64 {
                timeSize == 8
                    ? Int64(bitPattern: TZif.bigEndianUInt64(bytes, at))
                    : Int64(Int32(bitPattern: TZif.bigEndianUInt32(bytes, at)))
            }
            times.reserveCapacity(h.timecnt)
            for i in 0..<h.timecnt {
                let t = time(p + i * timeSize)
                if let last = times.last, t <= last {
                    throw Invalid("transition \(i) at \(t) is not after transition \(i - 1) at \(last)")
                }
                times.append(t)
            }
            p += h.timecnt * timeSize
            indices.reserveCapacity(h.timecnt)
            for i in 0..<h.timecnt {
                let index = bytes[p + i]
                guard Int(index) < h.typecnt else {
                    throw Invalid("transition \(i) names time type \(index), but there are \(h.typecnt)")
                }
                indices.append(index)
            }
            p += h.timecnt
            typeOffsets.reserveCapacity(h.typecnt)
            for i in 0..<h.typecnt {
                let utoff = Int32(bitPattern: TZif.bigEndianUInt32(bytes, p))
                let isdst = bytes[p + 4]
                let desigidx = Int(bytes[p + 5])
                // RFC 8536 §3.2: not -2^31, and more than -25 hours and less than 26 hours.
                guard utoff >= -89_999, utoff <= 93_599 else {
                    throw Invalid("time type \(i) has UT offset \(utoff) s, outside -89999...93599 (-25 h...+26 h)")
                }
                guard isdst <= 1 else { throw Invalid("time type \(i) has DST flag \(isdst) (must be 0 or 1)") }
                guard desigidx < h.charcnt else {
                    throw Invalid("time type \(i) names designation byte \(desigidx), but there are \(h.charcnt)")
                }
                typeOffsets.append(utoff)
                p += 6
            }
            p += h.charcnt
            var previous: Int64? = nil
            for i in 0..<h.leapcnt {
                let occurrence = time(p)
                if let previous, occurrence <= previous {
                    throw Invalid("leap second record \(i) at \(occurrence) is not after the one before it")
                }
                previous = occurrence
                p += timeSize + 4
            }
            for i in 0..<h.isstdcnt where bytes[p + i] > 1 {
                throw Invalid("standard/wall indicator \(i) is \(bytes[p + i]) (must be 0 or 1)")
            }
            for i in 0..<h.isutcnt {
                let isut = bytes[p + h.isstdcnt + i]
                guard isut <= 1 else { throw Invalid("UT/local indicator \(i) is \(isut) (must be 0 or 1)") }
                // RFC 8536 §3.2: a UT indicator must come with a standard-time indicator.
                guard isut == 0 || (h.isstdcnt > 0 && bytes[p + i] == 1) else {
                    throw Invalid("time type \(i) is UT but not standard time")
                }
            }
            p += h.isstdcnt + h.isutcnt
            end = p
        }
    }

    /// Reads the footer of a version 2+ file: newline, TZ string, newline, end of file.
    /// A missing footer (the file ends at the data block) or an empty TZ string gives nil.
    private static func footer(_ bytes: [UInt8], from start: Int) throws(Invalid) -> Rule? {
        guard start < bytes.count else { return nil }
        guard bytes[start] == 0x0A else { throw Invalid("footer at offset \(start) does not start with a newline") }
        var close = start + 1
        while close < bytes.count, bytes[close] != 0x0A { close += 1 }
        guard close < bytes.count else { throw Invalid("footer at offset \(start) has no closing newline") }
        guard close + 1 == bytes.count else { throw Invalid("\(bytes.count - close - 1) bytes after the footer") }
        let text = bytes[(start + 1)..<close]
        if text.isEmpty { return nil }
        guard let rule = Rule(posix: text) else {
            var shown = ""
            for c in text.prefix(64) { shown.append(c >= 0x20 && c < 0x7F ? Character(Unicode.Scalar(c)) : "?") }
            throw Invalid("footer \"\(shown)\" is not a POSIX TZ string")
        }
        return rule
    }

    /// The latest instant at which the offset changes, not counting the footer's DST.
    private static func lastChange(transitions: [Int64], offsets: [Int32], initial: Int32, rule: Rule?) -> Int64? {
        guard !transitions.isEmpty else { return nil }
        var change: Int64? = nil
        // A transition at Int64.min has no "before": the initial type is never in effect.
        var previous = transitions[0] == Int64.min ? Int(offsets[0]) : Int(initial)
        for i in transitions.indices {
            // From the last transition on, the footer (if any) says what the offset is.
            var now = Int(offsets[i])
            if i == transitions.count - 1, let rule { now = rule.offset(at: transitions[i]) }
            if now != previous { change = transitions[i] }
            previous = now
        }
        return change
    }

    // MARK: Lookups

    /// UTC offset in seconds at `unixSeconds` (seconds since 1970 UTC), for any Int64.
    ///
    /// Before the first transition: time type 0 (RFC 8536 §3.2; the C library's older rule,
    /// "the first non-DST type", agrees for every file zic writes without truncation). On
    /// or after the last transition: the footer's POSIX TZ rule, or the last transition's
    /// type when there is none.
    public func offset(atUnixSeconds t: Int64) -> Int {
        // The number of transitions at or before t.
        var low = 0
        var high = transitions.count
        while low < high {
            let mid = low + (high - low) / 2
            if transitions[mid] <= t { low = mid + 1 } else { high = mid }
        }
        // On or after the last transition (always, when there is none): the footer.
        if low == transitions.count, let rule { return rule.offset(at: t) }
        if low == 0 { return Int(initialOffset) }
        return Int(offsets[low - 1])
    }

    /// Whether the offset ever changes at or after `unixSeconds`: a transition in the
    /// table that changes it, or a footer with daylight-saving rules.
    public func hasTransitions(after unixSeconds: Int64) -> Bool {
        if let rule, rule.changes { return true }
        if let lastChange { return lastChange >= unixSeconds }
        return false
    }

    // MARK: Loading

    /// The largest file `load` reads.
    private static let maximumFileSize = 1 << 20

    /// Loads `identifier` from `directory` (default "/usr/share/zoneinfo"); nil when the
    /// identifier is not a safe relative name (empty, absolute, a component that is empty
    /// or starts with ".", a NUL byte, longer than 255 bytes) or the file is missing,
    /// unreadable, not a regular file, larger than 1 MiB or not valid TZif.
    public static func load(identifier: String, directory: String = "/usr/share/zoneinfo") -> TZif? {
        guard isSafe(identifier: identifier), !directory.isEmpty, !directory.utf8.contains(0) else { return nil }
        let path = directory.utf8.last == UInt8(ascii: "/") ? directory + identifier : directory + "/" + identifier
        guard let bytes = readFile(path), let zone = try? TZif(bytes: bytes) else { return nil }
        return zone
    }

    /// Whether `identifier` is a relative name that cannot leave the directory.
    static func isSafe(identifier: String) -> Bool {
        let utf8 = identifier.utf8
        guard !utf8.isEmpty, utf8.count <= 255, !utf8.contains(0) else { return false }
        var atComponentStart = true
        for c in utf8 {
            if atComponentStart, c == UInt8(ascii: "/") || c == UInt8(ascii: ".") { return false }
            atComponentStart = c == UInt8(ascii: "/")
        }
        return !atComponentStart  // no trailing "/"
    }

    /// The bytes of a regular file of at most `maximumFileSize` bytes; nil otherwise.
    private static func readFile(_ path: String) -> [UInt8]? {
        #if canImport(Glibc) || canImport(Darwin)
        // O_NONBLOCK: opening a FIFO must not wait for a writer.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
            status.st_size >= 0, status.st_size <= maximumFileSize
        else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(status.st_size))
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            // The file may have grown since fstat.
            guard bytes.count + n <= maximumFileSize else { return nil }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
        #else
        return nil
        #endif
    }

    // MARK: Bytes

    private static func bigEndianUInt32(_ b: [UInt8], _ p: Int) -> UInt32 {
        UInt32(b[p]) << 24 | UInt32(b[p + 1]) << 16 | UInt32(b[p + 2]) << 8 | UInt32(b[p + 3])
    }

    private static func bigEndianUInt64(_ b: [UInt8], _ p: Int) -> UInt64 {
        UInt64(bigEndianUInt32(b, p)) << 32 | UInt64(bigEndianUInt32(b, p + 4))
    }
}

// MARK: - The footer's POSIX TZ rule

extension TZif {
    /// A POSIX TZ string as RFC 8536 §3.3 extends it: `std offset [dst [offset] [,start[/time],end[/time]]]`,
    /// names alphabetic or `<...>`, offsets up to 24 hours, rule times signed and up to
    /// 167 hours (version 3).
    struct Rule: Sendable, Hashable {
        /// UT offsets, seconds east (POSIX writes them west, with the opposite sign).
        let standard: Int
        let daylight: Daylight?

        struct Daylight: Sendable, Hashable {
            let offset: Int
            let start: Day
            /// Seconds after local midnight, in standard time.
            let startTime: Int
            let end: Day
            /// Seconds after local midnight, in daylight time.
            let endTime: Int
        }

        enum Day: Sendable, Hashable {
            /// `Jn`: 1...365, February 29 never counted.
            case julian(Int)
            /// `n`: 0...365, February 29 counted in leap years.
            case zeroBased(Int)
            /// `Mm.w.d`: day `d` (0 = Sunday) of week `w` (5 = the last) of month `m`.
            case month(Int, Int, Int)
        }

        /// Whether the offset changes during the year: daylight time that differs from
        /// standard time and does not last all year (RFC 8536 §3.3.1).
        var changes: Bool {
            guard let d = daylight, d.offset != standard else { return false }
            return !isAllYear(d)
        }

        private func isAllYear(_ d: Daylight) -> Bool {
            let startsJanuary1 = d.start == .julian(1) || d.start == .zeroBased(0)
            return startsJanuary1 && d.startTime == 0 && d.end == .julian(365) && d.endTime == 86_400 + d.offset - standard
        }

        /// Parses a TZ string; nil for anything that is not one. Total: never traps.
        init?(posix text: ArraySlice<UInt8>) {
            var s = Scanner(bytes: Array(text))
            guard s.name(), let std = s.offset() else { return nil }
            standard = -std
            if s.atEnd {
                daylight = nil
                return
            }
            guard s.name() else { return nil }
            var dst = standard + 3600
            if !s.atEnd, s.peek != UInt8(ascii: ",") {
                guard let o = s.offset() else { return nil }
                dst = -o
            }
            let start: Day, end: Day
            var startTime = 7200, endTime = 7200
            if s.atEnd {
                // No rule: the US rule, as the C libraries assume.
                start = .month(3, 2, 0)
                end = .month(11, 1, 0)
            } else {
                guard s.take(UInt8(ascii: ",")), let a = s.day() else { return nil }
                if s.take(UInt8(ascii: "/")) {
                    guard let t = s.time() else { return nil }
                    startTime = t
                }
                guard s.take(UInt8(ascii: ",")), let b = s.day() else { return nil }
                if s.take(UInt8(ascii: "/")) {
                    guard let t = s.time() else { return nil }
                    endTime = t
                }
                guard s.atEnd else { return nil }
                start = a
                end = b
            }
            daylight = Daylight(offset: dst, start: start, startTime: startTime, end: end, endTime: endTime)
        }

        /// The offset at any instant. The calendar repeats every 400 years (146,097 days,
        /// a whole number of weeks), so the instant is first reduced into 1970...2369:
        /// no arithmetic below can overflow, whatever the input.
        func offset(at t: Int64) -> Int {
            guard let d = daylight else { return standard }
            if d.offset == standard || isAllYear(d) { return d.offset }
            let cycle: Int64 = 146_097 * 86_400
            var r = t % cycle
            if r < 0 { r += cycle }
            let year = TZif.civilYear(days: r / 86_400)
            // The last change at or before r among those of the years around it (changes
            // can stray up to two weeks from their date: 167 h rule times, 167 h offsets).
            // Ties go to the later in the calendar, so all-year DST stays on.
            var best = Int64.min
            var inDaylight = false
            for y in (year - 2)...(year + 1) {
                let first = TZif.daysFromCivil(year: y, month: 1, day: 1)
                let on = (first + dayOfYear(d.start, year: y, firstDay: first)) * 86_400 + Int64(d.startTime - standard)
                let off = (first + dayOfYear(d.end, year: y, firstDay: first)) * 86_400 + Int64(d.endTime - d.offset)
                if on <= r, on >= best {
                    best = on
                    inDaylight = true
                }
                if off <= r, off >= best {
                    best = off
                    inDaylight = false
                }
            }
            return inDaylight ? d.offset : standard
        }

        /// The day a rule names, counted from January 1 of `year` (0-based; 365 in a common
        /// year is January 1 of the next).
        func dayOfYear(_ day: Day, year: Int64, firstDay: Int64) -> Int64 {
            let leap = TZif.isLeap(year)
            switch day {
            case .julian(let n):
                return Int64(n - 1 + (leap && n >= 60 ? 1 : 0))
            case .zeroBased(let n):
                return Int64(n)
            case .month(let m, let w, let wd):
                let before = TZif.daysBeforeMonth(m, leap: leap)
                let length = TZif.daysInMonth(m, leap: leap)
                let monthStart = firstDay + before
                // 1970-01-01 was a Thursday (4).
                var weekday = (monthStart + 4) % 7
                if weekday < 0 { weekday += 7 }
                var dayOfMonth = (Int64(wd) - weekday + 7) % 7 + Int64(w - 1) * 7
                while dayOfMonth >= length { dayOfMonth -= 7 }
                return before + dayOfMonth
            }
        }
    }

    /// Reads a TZ string byte by byte; every method leaves `i` within bounds.
    private struct Scanner {
        let bytes: [UInt8]
        var i = 0

        var atEnd: Bool { i >= bytes.count }
        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func take(_ c: UInt8) -> Bool {
            guard peek == c else { return false }
            i += 1
            return true
        }

        /// A zone abbreviation: letters, or `<` letters, digits, '+' and '-' `>`.
        mutating func name() -> Bool {
            func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
            if take(UInt8(ascii: "<")) {
                let start = i
                while let c = peek, isAlpha(c) || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2D { i += 1 }
                return i > start && take(UInt8(ascii: ">"))
            }
            let start = i
            while let c = peek, isAlpha(c) { i += 1 }
            return i > start
        }

        /// Digits whose value is at most `maximum`.
        mutating func number(maximum: Int) -> Int? {
            var value = 0
            let start = i
            while let c = peek, c >= 0x30, c <= 0x39 {
                value = value * 10 + Int(c - 0x30)
                guard value <= maximum else { return nil }
                i += 1
            }
            return i > start ? value : nil
        }

        /// `[+-]hh[:mm[:ss]]` in seconds: a rule time, hours up to 167 (RFC 8536 §3.3.1).
        mutating func time(maximumHours: Int = 167) -> Int? {
            var sign = 1
            if take(UInt8(ascii: "-")) { sign = -1 } else { _ = take(UInt8(ascii: "+")) }
            guard let h = number(maximum: maximumHours) else { return nil }
            var seconds = h * 3600
            if take(UInt8(ascii: ":")) {
                guard let m = number(maximum: 59) else { return nil }
                seconds += m * 60
                if take(UInt8(ascii: ":")) {
                    guard let s = number(maximum: 60) else { return nil }
                    seconds += s
                }
            }
            return sign * seconds
        }

        /// A POSIX offset (hours west of UT): the syntax of a time, hours up to 24 as POSIX
        /// says, so that every offset is within -24:59:59...+25:59:59 (RFC 8536 §3.2's range).
        mutating func offset() -> Int? {
            guard let c = peek, c == 0x2B || c == 0x2D || (c >= 0x30 && c <= 0x39) else { return nil }
            return time(maximumHours: 24)
        }

        /// `Jn`, `n` or `Mm.w.d`.
        mutating func day() -> Rule.Day? {
            if take(UInt8(ascii: "J")) {
                guard let n = number(maximum: 365), n >= 1 else { return nil }
                return .julian(n)
            }
            if take(UInt8(ascii: "M")) {
                guard let m = number(maximum: 12), m >= 1, take(UInt8(ascii: ".")),
                    let w = number(maximum: 5), w >= 1, take(UInt8(ascii: ".")),
                    let d = number(maximum: 6)
                else { return nil }
                return .month(m, w, d)
            }
            guard let n = number(maximum: 365) else { return nil }
            return .zeroBased(n)
        }
    }
}

// MARK: - Calendar arithmetic (proleptic Gregorian, Int64)

extension TZif {
    /// Days since 1970-01-01 of a civil date. Exact for years within ±2.5e13 (far beyond
    /// ±292e9, the years an Int64 of seconds reaches); callers pass small years.
    static func daysFromCivil(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil year of a day counted from 1970-01-01. Exact for any day an Int64 of
    /// seconds can reach (|days| < 1.1e14).
    static func civilYear(days: Int64) -> Int64 {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        return yearOfEra + era * 400 + (mp >= 10 ? 1 : 0)
    }

    static func isLeap(_ y: Int64) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    /// Days before month `m` (1...12).
    static func daysBeforeMonth(_ m: Int, leap: Bool) -> Int64 {
        // (153 * months-since-March + 2) / 5 counts the days from March 1 (Hinnant).
        let fromMarch = Int64((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5)
        return m > 2 ? fromMarch + 59 + (leap ? 1 : 0) : fromMarch - 306
    }

    /// Days in month `m` (1...12).
    static func daysInMonth(_ m: Int, leap: Bool) -> Int64 {
        switch m {
        case 2: return leap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
