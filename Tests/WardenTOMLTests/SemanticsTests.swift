import Testing
import WardenTOML

@Suite("Semantics and strictness")
struct SemanticsTests {
    @Test func valuesAndAccessors() throws {
        let t = try TOML.parse("""
            s = "str"
            i = 42
            f = 3.5
            b = true
            odt = 1979-05-27 07:32:00.5z
            ldt = 1979-05-27t07:32:00
            ld = 1979-05-27
            lt = 07:32:00.999
            arr = [1, "two", [3.0], {x = 1}]
            tab = {a.b = 1}
            """)
        #expect(t["s"]?.string == "str")
        #expect(t["i"]?.integer == 42)
        #expect(t["f"]?.double == 3.5)
        #expect(t["i"]?.double == nil)
        #expect(t["b"]?.bool == true)
        #expect(t["odt"] == .offsetDateTime("1979-05-27T07:32:00.5Z"))
        #expect(t["ldt"] == .localDateTime("1979-05-27T07:32:00"))
        #expect(t["ld"] == .localDate("1979-05-27"))
        #expect(t["lt"] == .localTime("07:32:00.999"))
        #expect(t["lt"]?.dateTimeText == "07:32:00.999")
        #expect(t["arr"]?.array?.count == 4)
        #expect(t["arr"] == .array([.integer(1), .string("two"), .array([.float(3)]), .table(["x": .integer(1)])]))
        #expect(t["tab"]?.table?["a"]?.table?["b"] == .integer(1))
        #expect(t["s"]?.integer == nil)
        #expect(t["missing"] == nil)
        #expect(t.count == 10)
        #expect(t.entries.map(\.key) == t.keys)
    }

    @Test func tableEqualityIgnoresOrderAndPositions() throws {
        let a = try TOML.parse("x = 1\ny = 2")
        let b = try TOML.parse("\n\ny = 2\nx = 1")
        #expect(a == b)
        #expect(a.keys != b.keys)
        var c = a
        c.set(.integer(3), for: "z")
        #expect(c != a)
        #expect(c.keys == ["x", "y", "z"])
        #expect(c.removeValue(for: "z") == .integer(3))
        #expect(c == a)
    }

    @Test func keysCompareByScalarsNotCanonicalEquivalence() throws {
        // "é" precomposed vs "e" + combining acute are different TOML keys.
        let t = try TOML.parse("\"\u{E9}\" = 1\n\"e\u{301}\" = 2")
        #expect(t.count == 2)
        #expect(t["\u{E9}"] == .integer(1))
        #expect(t["e\u{301}"] == .integer(2))
    }

    @Test func quotedAndBareKeysAreTheSameKey() {
        #expect(parseError("a = 1\n\"a\" = 2") != nil)
        #expect(parseError("a = 1\n'a' = 2") != nil)
        #expect(parseError("\"\\u0061\" = 1\na = 2") != nil)
    }

    @Test func validTableStructures() throws {
        let docs = [
            "[a.b]\n[a]",
            "[a]\nb.c = 1\n[a.b.d]",  // sub-table of a dotted-key table
            "a.b.c = 1\n[a.x]",
            "[[a]]\n[a.b]\n[[a]]\n[a.b]",
            "[[a.b]]\n[a]",  // (sic) a is implicit, then defined
            "[a.b.c]\n[a]\nb.d = 1",  // dotted key into an implicitly created table
            "x = {a.b = 1, a.c = 2}",
            "1.2 = 3",
            "a . b = 1",
            "\"\" = 1",
            "a = [\n  1, # c\n  2,\n]",
            "t = {a = [\n1]}",
        ]
        for d in docs {
            #expect(throws: Never.self, "\(d)") { try TOML.parse(d) }
        }
        let t = try TOML.parse("1.2 = 3")
        #expect(t["1"]?.table?["2"] == .integer(3))
    }

    @Test func invalidTableStructures() {
        let docs = [
            "[a]\n[a]",
            "[a]\nb = 1\n[a.b]",
            "a.b = 1\n[a]",
            "[a]\nb.c = 1\n[a.b]",
            "[a.b.c]\n[a]\nb.c.d = 1",
            "a = {}\n[a]",
            "a = {}\n[a.b]",
            "a = {b = {}}\n[a.b]",
            "a = {}\na.b = 1",
            "a = {b.c = 1}\na.b.d = 2",
            "x = {a = {b = 1}, a.c = 2}",
            "x = {a.b = 1, a = 2}",
            "x = {a = 1, a.b = 2}",
            "a = []\n[[a]]",
            "a = [{}]\n[a.b]",
            "[[a]]\n[a]",
            "[a]\n[[a]]",
            "[[a]]\nb.c = 1\n[a.b]",
            "a = 1\n[a]",
            "a = 1\na.b = 2",
            "[[a.b]]\n[[a]]",
            "[a]\n[ [b]]",
            "[[a] ]",
            "x = {a = 1,}",
            "x = {a = 1\n}",
            "x = {\n}",
            "x = {a = 1 b = 2}",
            "a = [1 2]",
            "a = [,]",
            "a = [1,,2]",
            "a =",
            "a",
            "= 1",
            "a = 1 # \u{0007}",
            "a = \"\"\"x\"\"\"\"\"\"",
            "a = '''x''''''",
            "a = \"\\uD800\"",
            "a = \"\\U00110000\"",
            "a = \"\\u12\"",
            "a = \"\\x41\"",
            "a = \"\\e\"",
            "a = \"\"\"\\ x\n\"\"\"",
            "a = 'x\ny'",
            "a = \"tab\u{0001}\"",
            "a = 1\rb = 2",
            "a = \"\"\"x\ry\"\"\"",
            "\"\"\"k\"\"\" = 1",
            "a = true1",
            "a = tru",
            "a = 1979-05-27T07:32",
            "a = 07:32",
            "a = 1979-02-29",
            "a = 1900-02-29",
            "a = 1979-05-27T07:32:00+24:00",
            "a = 1979-05-27T07:32:00Z1",
            "a = 07:32:00Z",
        ]
        for d in docs {
            #expect(parseError(d) != nil, "\(d.debugDescription) must be rejected")
        }
    }

    @Test func strings() throws {
        let t = try TOML.parse(#"""
            basic = "a\tb\"c\\d\u00e9\U0001F600"
            literal = 'C:\path\n'
            ml = """
            line1
            line2 \
                 continued"""
            quotes = """""x"""""
            mll = '''
            raw\n ''x'' '''
            crlf = """a\#r\#nb"""
            """#)
        #expect(t["basic"] == .string("a\tb\"c\\d\u{E9}\u{1F600}"))
        #expect(t["literal"] == .string(#"C:\path\n"#))
        #expect(t["ml"] == .string("line1\nline2 continued"))
        #expect(t["quotes"] == .string("\"\"x\"\""))
        #expect(t["mll"] == .string("raw\\n ''x'' "))
        #expect(t["crlf"] == .string("a\nb"))  // CRLF normalised to LF
    }

    @Test func dateValidation() throws {
        let t = try TOML.parse("a = 2000-02-29\nb = 2024-02-29T23:59:60Z\nc = 0001-01-01 00:00:00-23:59")
        #expect(t["a"] == .localDate("2000-02-29"))
        #expect(t["b"] == .offsetDateTime("2024-02-29T23:59:60Z"))
        #expect(t["c"] == .offsetDateTime("0001-01-01T00:00:00-23:59"))
        for bad in ["a = 2023-04-31", "a = 2023-13-01", "a = 2023-00-10", "a = 2023-01-00",
                    "a = 24:00:00", "a = 23:60:00", "a = 23:59:61", "a = 2023-01-01T00:00:00.",
                    "a = 2023-01-01T", "a = 2023-01-01 00:00", "a = 10000-01-01"] {
            #expect(parseError(bad) != nil, "\(bad) must be rejected")
        }
    }

    @Test func arraysOfTables() throws {
        let t = try TOML.parse("""
            [[fruit]]
            name = "apple"
            [fruit.physical]
            color = "red"
            [[fruit.variety]]
            name = "red delicious"
            [[fruit.variety]]
            name = "granny smith"
            [[fruit]]
            name = "banana"
            [[fruit.variety]]
            name = "plantain"
            """)
        let fruit = try #require(t["fruit"]?.array)
        #expect(fruit.count == 2)
        #expect(fruit[0].table?["physical"]?.table?["color"] == .string("red"))
        #expect(fruit[0].table?["variety"]?.array?.count == 2)
        #expect(fruit[1].table?["variety"]?.array?.first?.table?["name"] == .string("plantain"))
    }
}
