import Testing
import WardenTOML

/// Parses `text`, expecting failure; returns the error.
func parseError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLError? {
    do {
        let t = try TOML.parse(text)
        Issue.record("expected an error, got \(t)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

func parseError(bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> TOMLError? {
    do {
        let t = try TOML.parse(bytes: bytes)
        Issue.record("expected an error, got \(t)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

func pos(_ line: Int, _ column: Int) -> TOMLPosition { TOMLPosition(line: line, column: column) }

@Suite("Positions")
struct PositionTests {
    static let document = """
        # comment
        title = "x"

        [server]
        port = 8080
          name.first = "a"
        [[items]]
        id = 1
        [[items]]
        id = 2
        [a.b]
        [a]
        x = 1
        p = { x = 1, y.z = 2 }
        """

    @Test func keyAndTablePositions() throws {
        let root = try TOML.parse(Self.document)
        #expect(root.position == nil)
        #expect(root.keys == ["title", "server", "items", "a"])
        #expect(root.position(of: "title") == pos(2, 1))
        #expect(root.position(of: "server") == pos(4, 2))
        #expect(root.position(of: "missing") == nil)

        let server = try #require(root["server"]?.table)
        #expect(server.position == pos(4, 1))
        #expect(server.keys == ["port", "name"])
        #expect(server.position(of: "port") == pos(5, 1))
        #expect(server.position(of: "name") == pos(6, 3))
        let name = try #require(server["name"]?.table)
        #expect(name.position == pos(6, 3))
        #expect(name.position(of: "first") == pos(6, 8))

        #expect(root.position(of: "items") == pos(7, 3))
        let items = try #require(root["items"]?.array)
        #expect(items.count == 2)
        #expect(items[0].table?.position == pos(7, 1))
        #expect(items[1].table?.position == pos(9, 1))
        #expect(items[1].table?.position(of: "id") == pos(10, 1))
        #expect(items[1].table?["id"] == .integer(2))

        // `a` is created implicitly by [a.b] (line 11) and defined on line 12.
        #expect(root.position(of: "a") == pos(11, 2))
        let a = try #require(root["a"]?.table)
        #expect(a.position == pos(12, 1))
        #expect(a.position(of: "b") == pos(11, 4))
        #expect(a.position(of: "x") == pos(13, 1))
        #expect(a.position(of: "p") == pos(14, 1))
        let p = try #require(a["p"]?.table)
        #expect(p.position == pos(14, 5))
        #expect(p.position(of: "x") == pos(14, 7))
        #expect(p.position(of: "y") == pos(14, 14))
        #expect(p["y"]?.table?.position(of: "z") == pos(14, 16))
    }

    @Test func columnsCountUnicodeScalarsNotBytes() throws {
        let t = try TOML.parse("\"ключ\" = 1\n\"é\".\"ü\" = 2")
        #expect(t.position(of: "ключ") == pos(1, 1))
        #expect(t["é"]?.table?.position(of: "ü") == pos(2, 5))
        #expect(parseError("\"ключ\" = \"é\" x")?.position == pos(1, 14))
    }

    @Test func errorPositions() {
        #expect(parseError("a = 1\na = 2")?.position == pos(2, 1))
        #expect(parseError("a = 1\nb = @")?.position == pos(2, 5))
        #expect(parseError("a = 1\r\nb = @")?.position == pos(2, 5))
        #expect(parseError("\u{FEFF}a = @")?.position == pos(1, 5))  // BOM is not a column
        #expect(parseError("[a]\nb = 1\n[a]")?.position == pos(3, 1))
        #expect(parseError("x = 1\ny = 0x\n")?.position == pos(2, 7))
        #expect(parseError("big = 9223372036854775808")?.position == pos(1, 7))
        #expect(parseError("s = \"abc")?.position.line == 1)
        #expect(parseError("s = \"\\q\"")?.position == pos(1, 6))
        #expect(parseError("d = 2021-02-29")?.position.line == 1)
        #expect(parseError("\n\n   k = [1,\n 2\n 3]")?.position == pos(5, 2))
        #expect(parseError("t = {a = 1,\nb = 2}")?.position == pos(1, 12))
    }

    @Test func errorDescription() {
        let e = parseError("a = 1\na = 2")
        #expect(e?.description == "line 2, column 1: duplicate key 'a'")
        #expect(e?.message == "duplicate key 'a'")
        let custom = TOMLError(position: pos(3, 7), message: "boom")
        #expect(custom.description == "line 3, column 7: boom")
        #expect(String(describing: custom) == "line 3, column 7: boom")
    }
}
