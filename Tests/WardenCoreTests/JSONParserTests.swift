import Testing
import WardenCore

@Suite("JSON parser and writer")
struct JSONParserTests {
    @Test(arguments: [
        ("{}", JSON.object(JSONObject())),
        ("[1, 2.5, -3, 1e2]", JSON.array([1, 2.5, -3, 100])),
        (#"{"a":"b","n":null,"t":true,"f":false}"#, JSON.object(["a": "b", "n": nil, "t": true, "f": false])),
        (#""\u00e9\ud83d\ude00\n\"""#, JSON.string("é😀\n\"")),
        ("  \n\t\"x\"  ", JSON.string("x")),
        ("\u{FEFF}{}", JSON.object(JSONObject())),
    ])
    func parsesValid(text: String, expected: JSON) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("{", "expected a string key"),
        ("[1,]", "unexpected character"),
        ("01", "leading zeros"),
        ("\"a\u{01}\"", "control character"),
        (#""\ud800""#, "lone high surrogate"),
        ("{} x", "unexpected data after"),
        ("nul", "invalid literal"),
        (#"{"a" 1}"#, "expected ':'"),
        ("1.", "expected digits after '.'"),
    ])
    func rejectsInvalid(text: String, message: String) {
        #expect {
            try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONParser.Error)?.message.contains(message) == true
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func rejectsDeepNesting() {
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(deep) }
    }

    @Test func reportsLineOfError() throws {
        do {
            _ = try JSONParser.parse("{\n\"a\": 1,\n\"b\": ?\n}")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 6)
        }
    }

    @Test func topLevelArrayElementsCarryTheirLines() throws {
        let text = "[\n  {\"a\": 1},\n\n  {\"b\": 2}\n]"
        let elements = try JSONParser.parseTopLevel(Array(text.utf8))
        #expect(elements.map(\.line) == [2, 4])
        let single = try JSONParser.parseTopLevel(Array("\n\n{\"a\":1}".utf8))
        #expect(single.map(\.line) == [3])
    }

    @Test func writerRoundTripsAndEscapes() throws {
        let value: JSON = ["s": "a\"b\\c\nd\u{01}", "n": 12, "x": 1.5, "big": 3_000_000_000, "arr": [true, nil]]
        let text = JSONWriter.string(value)
        #expect(text == #"{"s":"a\"b\\c\nd\u0001","n":12,"x":1.5,"big":3000000000,"arr":[true,null]}"#)
        #expect(try JSONParser.parse(text) == value)
    }

    @Test(arguments: [
        (JSON.number(0), "0"), (.number(-0.0), "0"), (.number(-7), "-7"), (.number(9_007_199_254_740_992), "9007199254740992"),
        (.number(-9_007_199_254_740_992), "-9007199254740992"), (.number(1e300), "1e+300"), (.number(-2.5), "-2.5"), (.number(.nan), "null"),
        (.string(""), #""""#), (.string("\""), #""\"""#), (.string("\"x\""), #""\"x\"""#), (.string("\t\r\u{1F}"), #""\t\r\u001f""#),
        (.string("价格 \\ 12元"), #""价格 \\ 12元""#), (.bool(false), "false"), (.null, "null"),
    ])
    func writerWritesEachScalar(value: JSON, text: String) throws {
        #expect(JSONWriter.string(value) == text)
        if case .number(let n) = value, n.isNaN { return }
        #expect(try JSONParser.parse(text) == value)
    }

    @Test func sortedKeysAreCanonical() {
        let a: JSON = ["b": 1, "a": 2]
        let b: JSON = ["a": 2, "b": 1]
        #expect(JSONWriter.string(a, sortedKeys: true) == JSONWriter.string(b, sortedKeys: true))
    }
}
