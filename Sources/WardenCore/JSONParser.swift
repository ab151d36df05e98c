/// A strict RFC 8259 JSON parser over UTF-8 bytes.
///
/// It trusts nothing: invalid UTF-8, control characters in strings, lone surrogates,
/// trailing garbage, nesting deeper than `maxDepth` and a key repeated in one object are
/// errors that name the line and column. Duplicate keys are refused (I-JSON, RFC 7493):
/// for input that decides money, "the last one wins" would let a record say two things.
/// It counts lines so that callers can say where each element of a top-level array
/// starts (`parseTopLevel`).
public struct JSONParser {
    public struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var line: Int
        public var column: Int
        /// The object key the error is about (a duplicate key), if any.
        public var key: String?
        /// In `parseTopLevel`, the 1-based element of the top-level array the error is in.
        public var element: Int?
        public var description: String { "line \(line), column \(column): \(message)" }

        /// As a record error for a spool report: where, and the duplicate key as the field.
        public func recordError(record: Int? = nil, line: Int? = nil) -> RecordError {
            RecordError(record: record ?? element, line: line ?? self.line, field: key, message: "invalid JSON: \(message) (column \(column))")
        }
    }

    public static let maxDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private var depth = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Parses one JSON document held in contiguous memory (the spool's hot path: no
    /// generic collection, no copy).
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(Error) -> JSON {
        var parser = JSONParser(bytes: buffer)
        return try parser.parseDocument()
    }

    public static func parse(_ bytes: ArraySlice<UInt8>) throws(Error) -> JSON {
        let result: Result<JSON, Error> = bytes.withUnsafeBufferPointer { buffer in
            do throws(Error) { return .success(try parse(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ bytes: [UInt8]) throws(Error) -> JSON {
        try parse(bytes[...])
    }

    /// Parses one JSON document.
    public static func parse(_ bytes: some Collection<UInt8>) throws(Error) -> JSON {
        try withBuffer(bytes) { buffer throws(Error) in
            var parser = JSONParser(bytes: buffer)
            return try parser.parseDocument()
        }
    }

    public static func parse(_ text: String) throws(Error) -> JSON {
        try parse(Array(text.utf8))
    }

    /// Parses one document and, if it is an array, the line each element starts on
    /// (1-based) and the byte offsets it spans; for any other value, a single element.
    public static func parseTopLevel(_ bytes: some Collection<UInt8>) throws(Error) -> [(value: JSON, line: Int, span: Range<Int>)] {
        try withBuffer(bytes) { buffer throws(Error) in
            var parser = JSONParser(bytes: buffer)
            return try parser.parseTopLevelElements()
        }
    }

    public static func parseTopLevel(_ bytes: [UInt8]) throws(Error) -> [(value: JSON, line: Int, span: Range<Int>)] {
        let result: Result<[(value: JSON, line: Int, span: Range<Int>)], Error> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            do throws(Error) { return .success(try parser.parseTopLevelElements()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private static func withBuffer<T>(
        _ bytes: some Collection<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) throws(Error) -> T
    ) throws(Error) -> T {
        let result: Result<T, Error>? = bytes.withContiguousStorageIfAvailable { buffer in
            do throws(Error) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        if let result { return try result.get() }
        let array = Array(bytes)
        let copied: Result<T, Error> = array.withUnsafeBufferPointer { buffer in
            do throws(Error) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        return try copied.get()
    }

    // MARK: - Grammar

    private mutating func parseDocument() throws(Error) -> JSON {
        skipBOM()
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < bytes.count { throw error("unexpected data after the JSON value") }
        return value
    }

    private mutating func parseTopLevelElements() throws(Error) -> [(value: JSON, line: Int, span: Range<Int>)] {
        skipBOM()
        skipWhitespace()
        guard index < bytes.count else { throw error("empty input: expected a JSON object or array") }
        if bytes[index] != UInt8(ascii: "[") {
            let startLine = line
            let start = index
            let value = try parseValue()
            let end = index
            skipWhitespace()
            if index < bytes.count { throw error("unexpected data after the JSON value") }
            return [(value, startLine, start..<end)]
        }
        index += 1
        var elements: [(value: JSON, line: Int, span: Range<Int>)] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
        } else {
            while true {
                skipWhitespace()
                let startLine = line
                depth = 1
                let start = index
                let value: JSON
                do {
                    value = try parseValue()
                } catch {
                    var e = error
                    e.element = elements.count + 1
                    throw e
                }
                elements.append((value, startLine, start..<index))
                skipWhitespace()
                guard let c = next() else { throw error("unterminated array") }
                if c == UInt8(ascii: "]") { break }
                if c != UInt8(ascii: ",") { throw error("expected ',' or ']' in array", back: 1) }
            }
        }
        skipWhitespace()
        if index < bytes.count { throw error("unexpected data after the JSON value") }
        return elements
    }

    private mutating func parseValue() throws(Error) -> JSON {
        guard let c = peek() else { throw error("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character \(describe(c))")
        }
    }

    private mutating func parseObject() throws(Error) -> JSON {
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth) levels") }
        defer { depth -= 1 }
        index += 1  // {
        var pairs: [(key: String, value: JSON)] = []
        var seen = Set<String>()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject(pairs))
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key in object") }
            let keyStart = index
            let key = try parseString()
            // A scan for the small objects records are; a set past a few dozen keys, so a
            // hostile object cannot make parsing quadratic.
            let duplicate: Bool
            if pairs.count < 32 {
                duplicate = pairs.contains { $0.key == key }
            } else {
                if seen.isEmpty { seen = Set(pairs.lazy.map(\.key)) }
                duplicate = !seen.insert(key).inserted
            }
            if duplicate {
                index = keyStart
                var e = error("duplicate key \"\(key)\" in one object (I-JSON, RFC 7493: keys must be unique)")
                e.key = key
                throw e
            }
            skipWhitespace()
            guard next() == UInt8(ascii: ":") else { throw error("expected ':' after object key", back: 1) }
            skipWhitespace()
            let value = try parseValue()
            pairs.append((key, value))
            skipWhitespace()
            guard let c = next() else { throw error("unterminated object") }
            if c == UInt8(ascii: "}") { return .object(JSONObject(pairs)) }
            if c != UInt8(ascii: ",") { throw error("expected ',' or '}' in object", back: 1) }
        }
    }

    private mutating func parseArray() throws(Error) -> JSON {
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth) levels") }
        defer { depth -= 1 }
        index += 1  // [
        var elements: [JSON] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard let c = next() else { throw error("unterminated array") }
            if c == UInt8(ascii: "]") { return .array(elements) }
            if c != UInt8(ascii: ",") { throw error("expected ',' or ']' in array", back: 1) }
        }
    }

    private mutating func parseString() throws(Error) -> String {
        index += 1  // opening quote
        let start = index
        var ascii = true
        // Fast path: no escapes.
        while index < bytes.count {
            let c = bytes[index]
            if c >= 0x80 { ascii = false }
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                // ASCII needs no validation (and `String(validating:)` is not specialised
                // for this buffer type: it costs a metadata lookup per call).
                if ascii { return String(decoding: slice, as: UTF8.self) }
                if let s = String(validating: slice, as: UTF8.self) { return s }
                index = start
                throw error("invalid UTF-8 in string")
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("control character \(describe(c)) in string (escape it)") }
            index += 1
        }
        var buffer = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while true {
            guard let c = next() else { throw error("unterminated string") }
            switch c {
            case UInt8(ascii: "\""):
                guard let s = String(validating: buffer, as: UTF8.self) else {
                    throw error("invalid UTF-8 in string")
                }
                return s
            case UInt8(ascii: "\\"):
                guard let e = next() else { throw error("unterminated escape") }
                switch e {
                case UInt8(ascii: "\""): buffer.append(0x22)
                case UInt8(ascii: "\\"): buffer.append(0x5C)
                case UInt8(ascii: "/"): buffer.append(0x2F)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u") else {
                            throw error("lone high surrogate in \\u escape")
                        }
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("lone low surrogate in \\u escape")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                    buffer.append(contentsOf: UTF8.encode(u)!)
                default:
                    throw error("invalid escape \\\(describe(e))", back: 1)
                }
            default:
                if c < 0x20 { throw error("control character \(describe(c)) in string (escape it)", back: 1) }
                buffer.append(c)
            }
        }
    }

    private mutating func parseHex4() throws(Error) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = next() else { throw error("unterminated \\u escape") }
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape", back: 1)
            }
            value = value << 4 | digit
        }
        return value
    }

    private mutating func parseNumber() throws(Error) -> Double {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), isDigit(first) else { throw error("invalid number") }
        if first == UInt8(ascii: "0") {
            index += 1
            if let c = peek(), isDigit(c) { throw error("leading zeros are not allowed in numbers") }
        } else {
            while let c = peek(), isDigit(c) { index += 1 }
        }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard let c = peek(), isDigit(c) else { throw error("expected digits after '.'") }
            while let c = peek(), isDigit(c) { index += 1 }
        }
        if let c = peek(), c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { index += 1 }
            guard let d = peek(), isDigit(d) else { throw error("expected digits in exponent") }
            while let c = peek(), isDigit(c) { index += 1 }
        }
        let digits = UnsafeBufferPointer(rebasing: bytes[start..<index])
        if isInteger && digits.count <= 15 {
            // Exact and fast for the common case.
            var value: Int64 = 0
            var negative = false
            for c in digits {
                if c == UInt8(ascii: "-") { negative = true } else { value = value * 10 + Int64(c - 48) }
            }
            return Double(negative ? -value : value)
        }
        guard let value = Double(String(decoding: digits, as: UTF8.self)), value.isFinite else {
            throw error("number out of range")
        }
        return value
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(Error) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("invalid literal") }
        let ok = literal.withUTF8Buffer { expected in
            for i in 0..<count where bytes[index + i] != expected[i] { return false }
            return true
        }
        guard ok else { throw error("invalid literal") }
        index += count
    }

    // MARK: - Helpers

    @inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    @inline(__always) private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }
    @inline(__always) private mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func skipBOM() {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
    }

    @inline(__always) private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A:
                index += 1
                line += 1
                lineStart = index
            default: return
            }
        }
    }

    private func describe(_ c: UInt8) -> String {
        (0x21...0x7E).contains(c) ? "'\(Character(Unicode.Scalar(c)))'" : "0x" + String(c, radix: 16, uppercase: true)
    }

    private func error(_ message: String, back: Int = 0) -> Error {
        let at = max(index - back, lineStart)
        return Error(message: message, line: line, column: at - lineStart + 1)
    }
}
