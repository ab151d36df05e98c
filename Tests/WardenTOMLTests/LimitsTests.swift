import Testing
import WardenTOML

@Suite("Limits: depth, integer range, UTF-8")
struct LimitsTests {
    static let limit = TOML.maxNestingDepth

    @Test func limitIs128() {
        #expect(TOML.maxNestingDepth == 128)
    }

    @Test func nestedArraysUpToTheLimit() throws {
        let ok = "a = " + String(repeating: "[", count: Self.limit) + String(repeating: "]", count: Self.limit)
        var v = try #require(try TOML.parse(ok)["a"])
        var depth = 0
        while case .array(let items) = v, let first = items.first {
            depth += 1
            v = first
        }
        #expect(depth == Self.limit - 1)  // innermost array is empty

        let tooDeep = "a = " + String(repeating: "[", count: Self.limit + 1) + String(repeating: "]", count: Self.limit + 1)
        let e = parseError(tooDeep)
        #expect(e?.message.contains("nested too deeply") == true)
    }

    @Test func nestedInlineTablesUpToTheLimit() throws {
        func doc(_ n: Int) -> String {
            "a = " + String(repeating: "{b = ", count: n - 1) + "{}" + String(repeating: "}", count: n - 1)
        }
        _ = try TOML.parse(doc(Self.limit))
        #expect(parseError(doc(Self.limit + 1))?.message.contains("nested too deeply") == true)
    }

    @Test func headerAndDottedKeyDepth() throws {
        let segs = { (n: Int) in Array(repeating: "a", count: n).joined(separator: ".") }
        _ = try TOML.parse("[\(segs(Self.limit))]\n")
        _ = try TOML.parse("\(segs(Self.limit)) = 1\n")
        #expect(parseError("[\(segs(Self.limit + 1))]\n") != nil)
        #expect(parseError("\(segs(Self.limit + 1)) = 1\n") != nil)
        // Depth accumulates across header, dotted key and value nesting.
        #expect(parseError("[\(segs(100))]\n\(segs(20)) = " + String(repeating: "[", count: 10) + String(repeating: "]", count: 10)) != nil)
        _ = try TOML.parse("[\(segs(100))]\n\(segs(20)) = " + String(repeating: "[", count: 8) + String(repeating: "]", count: 8))
        // Arrays of tables count as two levels (array + element table).
        #expect(parseError("[[\(segs(Self.limit))]]\n") != nil)
        _ = try TOML.parse("[[\(segs(Self.limit - 1))]]\n")
    }

    @Test(.timeLimit(.minutes(1)))
    func hostileNestingFailsFast() {
        let n = 1_000_000
        let inputs = [
            "a = " + String(repeating: "[", count: n),
            "a = " + String(repeating: "{b = ", count: n),
            "[" + String(repeating: "a.", count: n) + "a]",
            String(repeating: "a.", count: n) + "a = 1",
            "a = " + String(repeating: "[{b = ", count: n),
            String(repeating: "[", count: n),
        ]
        for text in inputs {
            let e = parseError(text)
            #expect(e != nil)
        }
    }

    @Test func integerRange() throws {
        let t = try TOML.parse("""
            max = 9223372036854775807
            min = -9223372036854775808
            hex = 0x7FFFFFFFFFFFFFFF
            oct = 0o777777777777777777777
            bin = 0b111111111111111111111111111111111111111111111111111111111111111
            zeros = 0x0000000000000000000000000000000000ff
            negzero = -0
            poszero = +0
            under = 9_223_372_036_854_775_807
            """)
        #expect(t["max"] == .integer(.max))
        #expect(t["min"] == .integer(.min))
        #expect(t["hex"] == .integer(.max))
        #expect(t["oct"] == .integer(.max))
        #expect(t["bin"] == .integer(.max))
        #expect(t["zeros"] == .integer(255))
        #expect(t["negzero"] == .integer(0))
        #expect(t["poszero"] == .integer(0))
        #expect(t["under"] == .integer(.max))

        for bad in [
            "a = 9223372036854775808",
            "a = -9223372036854775809",
            "a = 99999999999999999999999999999999999999",
            "a = 0x8000000000000000",
            "a = 0xFFFFFFFFFFFFFFFF",
            "a = 0o1000000000000000000000",
            "a = 0b1000000000000000000000000000000000000000000000000000000000000000",
        ] {
            let e = parseError(bad)
            #expect(e?.message.contains("out of range") == true, "\(bad): \(String(describing: e))")
        }
    }

    @Test func integerSyntax() {
        for bad in ["a = 01", "a = 1__0", "a = _1", "a = 1_", "a = 0X1", "a = +0x1", "a = -0b1",
                    "a = 0x", "a = 0b2", "a = 0o8", "a = 1 2", "a = 00", "a = --1", "a = 1e", "a = 1.", "a = .1",
                    "a = 1e_1", "a = 1_.0", "a = 1._0", "a = 01.0", "a = infinity", "a = nan1", "a = +"] {
            #expect(parseError(bad) != nil, "\(bad) must be rejected")
        }
    }

    @Test func floatRange() throws {
        #expect(parseError("a = 1e400")?.message.contains("out of range") == true)
        #expect(parseError("a = -1e400")?.message.contains("out of range") == true)
        let t = try TOML.parse("a = 1e-400\nb = -0.0\nc = 1.7976931348623157e308\nd = -inf\ne = +nan")
        #expect(t["a"] == .float(0))
        #expect(t["b"]?.double?.sign == .minus)
        #expect(t["c"] == .float(.greatestFiniteMagnitude))
        #expect(t["d"] == .float(-.infinity))
        #expect(t["e"]?.double?.isNaN == true)
    }

    @Test func invalidUTF8IsRejectedWithPosition() {
        let cases: [([UInt8], TOMLPosition)] = [
            (Array("a = \"".utf8) + [0xFF, 0x22], pos(1, 6)),
            (Array("a = \"".utf8) + [0xC0, 0x80, 0x22], pos(1, 6)),  // overlong NUL
            (Array("a = \"".utf8) + [0xE0, 0x80, 0xAF, 0x22], pos(1, 6)),  // overlong '/'
            (Array("a = \"".utf8) + [0xED, 0xA0, 0x80, 0x22], pos(1, 6)),  // surrogate U+D800
            (Array("a = \"".utf8) + [0xF4, 0x90, 0x80, 0x80, 0x22], pos(1, 6)),  // > U+10FFFF
            (Array("a = \"".utf8) + [0xF5, 0x80, 0x80, 0x80, 0x22], pos(1, 6)),
            (Array("a = \"".utf8) + [0x80, 0x22], pos(1, 6)),  // lone continuation
            (Array("a = \"é".utf8) + [0xE2, 0x82], pos(1, 7)),  // truncated at end
            (Array("a = 1\n# é ".utf8) + [0xC3, 0x28], pos(2, 5)),  // bad in comment
            ([0xFE, 0xFF, 0x00, 0x61], pos(1, 1)),  // UTF-16 BOM
        ]
        for (bytes, expected) in cases {
            let e = parseError(bytes: bytes)
            #expect(e?.position == expected, "\(bytes): \(String(describing: e))")
            #expect(e?.message.contains("UTF-8") == true)
        }
    }

    @Test func validUTF8AndBOM() throws {
        let t = try TOML.parse(bytes: [0xEF, 0xBB, 0xBF] + Array("\"ключ\" = \"😀 \\U0001F600 \\u00e9\"".utf8))
        #expect(t["ключ"] == .string("😀 😀 é"))
        // A BOM anywhere else is not whitespace.
        #expect(parseError(bytes: [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF] + Array("a = 1".utf8)) != nil)
    }
}
