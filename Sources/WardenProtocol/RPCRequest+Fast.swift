import WardenCore

extension RPCRequest {
    /// Reads the common shape of a request without building a JSON tree:
    /// `{"jsonrpc":"2.0","id":ID,"method":"M"}` or `…,"params":{"k":V,…}}`, keys in that
    /// order, no whitespace, where ID is a non-negative integer or a plain string, and
    /// each V a plain string, a non-negative integer, `true`, `false` or `null` ("plain":
    /// no escapes, no control characters, valid UTF-8). That is what `wardenctl`, the
    /// client library and most scripts send.
    ///
    /// Anything else returns nil and goes through `JSONParser` and `validate`, which this
    /// agrees with on every input it accepts (it accepts only valid JSON-RPC requests).
    public static func parseCommonShape(_ bytes: UnsafeRawBufferPointer) -> RPCRequest? {
        var s = Scanner(bytes: bytes)
        guard s.literal(#"{"jsonrpc":"2.0","id":"#) else { return nil }
        let id: JSON
        if s.peek == UInt8(ascii: "\"") {
            guard let text = s.plainString() else { return nil }
            id = .string(text)
        } else {
            guard let n = s.integer() else { return nil }
            id = .number(Double(n))
        }
        guard s.literal(#","method":"#), let method = s.plainString() else { return nil }
        if s.literal("}") { return s.atEnd ? RPCRequest(id: id, method: method) : nil }
        guard s.literal(#","params":{"#) else { return nil }
        var pairs: [(key: String, value: JSON)] = []
        if !s.literal("}") {
            while true {
                // A repeated key is left to the full parser, which refuses it; so are more
                // than a few parameters (no method takes many; the scan stays short).
                guard pairs.count < 16, s.peek == UInt8(ascii: "\""), let key = s.plainString(), s.literal(":"),
                    !pairs.contains(where: { $0.key == key })
                else { return nil }
                let value: JSON
                switch s.peek {
                case UInt8(ascii: "\""):
                    guard let text = s.plainString() else { return nil }
                    value = .string(text)
                case UInt8(ascii: "t"):
                    guard s.literal("true") else { return nil }
                    value = .bool(true)
                case UInt8(ascii: "f"):
                    guard s.literal("false") else { return nil }
                    value = .bool(false)
                case UInt8(ascii: "n"):
                    guard s.literal("null") else { return nil }
                    value = .null
                default:
                    guard let n = s.integer() else { return nil }
                    value = .number(Double(n))
                }
                pairs.append((key, value))
                if s.literal("}") { break }
                guard s.literal(",") else { return nil }
            }
        }
        guard s.literal("}"), s.atEnd else { return nil }
        return RPCRequest(id: id, method: method, params: JSONObject(pairs))
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        var atEnd: Bool { index == bytes.count }
        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func literal(_ text: StaticString) -> Bool {
            let n = text.utf8CodeUnitCount
            guard bytes.count - index >= n else { return false }
            let start = text.utf8Start
            for i in 0..<n where bytes[index + i] != start[i] { return false }
            index += n
            return true
        }

        /// `"…"` without escapes or control characters, valid UTF-8.
        mutating func plainString() -> String? {
            guard peek == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            var i = start
            var ascii = true
            while i < bytes.count {
                let c = bytes[i]
                if c == UInt8(ascii: "\"") {
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
                    let utf8 = UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count)
                    // ASCII is valid UTF-8 as it is; anything else is checked.
                    let text = ascii ? String(decoding: utf8, as: UTF8.self) : String(validating: utf8, as: UTF8.self)
                    if text != nil { index = i + 1 }
                    return text
                }
                if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
                if c >= 0x80 { ascii = false }
                i += 1
            }
            return nil
        }

        /// A non-negative integer of at most 15 digits, no leading zero (exact as a Double).
        mutating func integer() -> Int? {
            var value = 0
            var digits = 0
            while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                if digits == 1 && value == 0 { return nil }  // leading zero
                value = value * 10 + Int(c - UInt8(ascii: "0"))
                digits += 1
                index += 1
                if digits > 15 { return nil }
            }
            guard digits > 0 else { return nil }
            // A fraction or an exponent is another number: leave it to the full parser.
            if let c = peek, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return nil }
            return value
        }
    }
}
