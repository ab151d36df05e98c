// Inputs that aborted the previous TOMLKit (toml++) based loader. They are
// kept both as committed fixture files and inline, so they run without the
// toml-test checkout.

import Foundation
import Testing
import WardenTOML

struct CrashCase: Sendable, CustomTestStringConvertible {
    var fixture: String
    var text: String
    var line: Int
    var column: Int

    var testDescription: String { fixture }
}

let crashCases: [CrashCase] = [
    CrashCase(fixture: "not-toml-triple-bracket.toml", text: "[[[ this is not toml", line: 1, column: 3),
    CrashCase(fixture: "key-single-open-bracket.toml", text: "[\n", line: 1, column: 2),
    CrashCase(fixture: "table-dot.toml", text: "[.]\nk = 1\n", line: 1, column: 2),
    CrashCase(fixture: "table-dotdot.toml", text: "[..]\nk = 1\n", line: 1, column: 2),
    CrashCase(fixture: "table-no-close-04.toml", text: "[\n", line: 1, column: 2),
    CrashCase(fixture: "table-bare-invalid-character-01.toml", text: "[!]\nk = 123\n", line: 1, column: 2),
]

let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

@Suite("Former crashers")
struct RegressionTests {
    @Test("inline copy is rejected with a positioned error", arguments: crashCases)
    func inlineCase(_ c: CrashCase) {
        #expect(throws: TOMLError.self) { try TOML.parse(c.text) }
        do {
            _ = try TOML.parse(c.text)
        } catch {
            #expect(error.position == TOMLPosition(line: c.line, column: c.column), "\(c.fixture): \(error)")
        }
    }

    @Test("committed fixture file is rejected", arguments: crashCases)
    func fixtureFile(_ c: CrashCase) throws {
        let url = fixturesDirectory.appendingPathComponent(c.fixture)
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        #expect(bytes == Array(c.text.utf8), "fixture \(c.fixture) differs from the inline copy")
        #expect(throws: TOMLError.self, "\(c.fixture) must be rejected") { try TOML.parse(bytes: bytes) }
    }

    @Test("prefixes and bracket soups never crash")
    func bracketSoup() {
        let pieces = ["[", "[[", "[[[", "]", "]]", ".", "..", "!", "=", "\"", "'", "{", "}", "a", " ", "\n", "#", ","]
        var count = 0
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let text = a + b + c
                    _ = try? TOML.parse(text)
                    count += 1
                }
            }
        }
        #expect(count == pieces.count * pieces.count * pieces.count)
    }
}
