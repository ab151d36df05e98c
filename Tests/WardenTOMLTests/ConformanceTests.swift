// Runs the toml-test suite (https://github.com/toml-lang/toml-test, MIT)
// against the parser, restricted to the files listed in
// tests/files-toml-1.0.0.
//
// The suite is looked up in $WARDEN_TOML_TEST_DIR, then at
// ../../../shared/data/toml-test relative to this file. Either the suite's
// root directory or its `tests` directory may be given. When it cannot be
// found the tests are skipped (not failed).

import Foundation
import Testing
import WardenTOML

enum TOMLTestSuite {
    /// The suite's `tests` directory, or nil when unavailable.
    static let testsDirectory: URL? = {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["WARDEN_TOML_TEST_DIR"], !env.isEmpty {
            candidates.append(URL(fileURLWithPath: env))
        }
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        candidates.append(here.appendingPathComponent("../../../shared/data/toml-test").standardizedFileURL)
        let fm = FileManager.default
        for c in candidates {
            for dir in [c.appendingPathComponent("tests"), c] {
                if fm.fileExists(atPath: dir.appendingPathComponent("files-toml-1.0.0").path) {
                    return dir
                }
            }
        }
        return nil
    }()

    static var isAvailable: Bool { testsDirectory != nil }

    static let skipMessage: Comment =
        "toml-test suite not found: set WARDEN_TOML_TEST_DIR or place it at ../../../shared/data/toml-test relative to Tests/WardenTOMLTests"

    /// Relative paths (e.g. "valid/array/empty.toml") from files-toml-1.0.0.
    static func listedFiles() throws -> [String] {
        guard let dir = testsDirectory else { return [] }
        let list = try String(contentsOf: dir.appendingPathComponent("files-toml-1.0.0"), encoding: .utf8)
        return list.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        guard let dir = testsDirectory else { return [] }
        return [UInt8](try Data(contentsOf: dir.appendingPathComponent(relative)))
    }
}

@Suite("toml-test conformance (TOML 1.0.0)")
struct ConformanceTests {
    @Test("every valid/** case parses to the expected tagged JSON",
          .enabled(if: TOMLTestSuite.isAvailable, TOMLTestSuite.skipMessage))
    func validCases() throws {
        let files = try TOMLTestSuite.listedFiles().filter { $0.hasPrefix("valid/") && $0.hasSuffix(".toml") }
        #expect(!files.isEmpty, "no valid cases listed in files-toml-1.0.0")
        var failures: [String] = []
        for file in files {
            let jsonFile = String(file.dropLast(".toml".count)) + ".json"
            do {
                let input = try TOMLTestSuite.bytes(file)
                let expectedData = Data(try TOMLTestSuite.bytes(jsonFile))
                let expected = try JSONSerialization.jsonObject(with: expectedData, options: [.fragmentsAllowed])
                let table: TOMLTable
                do {
                    table = try TOML.parse(bytes: input)
                } catch {
                    failures.append("\(file): rejected valid document: \(error)")
                    continue
                }
                if let mismatch = TaggedJSON.compare(.table(table), expected, path: "") {
                    failures.append("\(file): \(mismatch)")
                    continue
                }
                // The String entry point must agree with the bytes one.
                if let text = String(bytes: input, encoding: .utf8) {
                    let viaString = try TOML.parse(text)
                    if let mismatch = TaggedJSON.compare(.table(viaString), expected, path: "") {
                        failures.append("\(file): parse(String) differs: \(mismatch)")
                    }
                }
            } catch {
                failures.append("\(file): \(error)")
            }
        }
        for f in failures { Issue.record("valid case failed: \(f)") }
        print("toml-test valid: \(files.count) ran, \(files.count - failures.count) passed, \(failures.count) failed")
    }

    @Test("every invalid/** case is rejected with a TOMLError",
          .enabled(if: TOMLTestSuite.isAvailable, TOMLTestSuite.skipMessage))
    func invalidCases() throws {
        let files = try TOMLTestSuite.listedFiles().filter { $0.hasPrefix("invalid/") && $0.hasSuffix(".toml") }
        #expect(!files.isEmpty, "no invalid cases listed in files-toml-1.0.0")
        var failures: [String] = []
        for file in files {
            let input = try TOMLTestSuite.bytes(file)
            do {
                let table = try TOML.parse(bytes: input)
                failures.append("\(file): accepted invalid document, got \(table)")
            } catch {
                // Sanity: errors carry 1-based positions and a message.
                if error.position.line < 1 || error.position.column < 1 || error.message.isEmpty {
                    failures.append("\(file): malformed error \(error)")
                }
            }
        }
        for f in failures { Issue.record("invalid case failed: \(f)") }
        print("toml-test invalid: \(files.count) ran, \(files.count - failures.count) passed, \(failures.count) failed")
    }
}

/// Comparison against toml-test's tagged JSON encoding.
enum TaggedJSON {
    static let scalarTypes: Set<String> = [
        "string", "integer", "float", "bool", "datetime", "datetime-local", "date-local", "time-local",
    ]

    /// nil when equal, else a description of the first difference.
    static func compare(_ value: TOMLValue, _ json: Any, path: String) -> String? {
        let here = path.isEmpty ? "<root>" : path
        if let dict = json as? [String: Any],
           dict.count == 2,
           let type = dict["type"] as? String,
           let text = dict["value"] as? String,
           scalarTypes.contains(type) {
            return compareScalar(value, type: type, text: text, path: here)
        }
        if let list = json as? [Any] {
            guard case .array(let items) = value else {
                return "\(here): expected array, got \(value)"
            }
            guard items.count == list.count else {
                return "\(here): expected \(list.count) array items, got \(items.count)"
            }
            for (k, (item, exp)) in zip(items, list).enumerated() {
                if let m = compare(item, exp, path: "\(path)[\(k)]") { return m }
            }
            return nil
        }
        if let dict = json as? [String: Any] {
            guard case .table(let table) = value else {
                return "\(here): expected table, got \(value)"
            }
            guard table.keys.count == dict.count else {
                return "\(here): expected keys \(dict.keys.sorted()), got \(table.keys)"
            }
            for key in table.keys {
                guard let exp = dict[key] else {
                    return "\(here): unexpected key \(key.debugDescription)"
                }
                guard let v = table[key] else {
                    return "\(here): key \(key.debugDescription) listed but has no value"
                }
                if let m = compare(v, exp, path: path.isEmpty ? key : "\(path).\(key)") { return m }
            }
            return nil
        }
        return "\(here): unexpected JSON \(json)"
    }

    static func compareScalar(_ value: TOMLValue, type: String, text: String, path: String) -> String? {
        let ok: Bool
        switch (type, value) {
        case ("string", .string(let s)):
            ok = Array(s.unicodeScalars) == Array(text.unicodeScalars)
        case ("integer", .integer(let v)):
            ok = Int64(text) == v
        case ("float", .float(let v)):
            ok = floatMatches(v, text)
        case ("bool", .bool(let v)):
            ok = (text == "true" && v) || (text == "false" && !v)
        case ("datetime", .offsetDateTime(let s)),
             ("datetime-local", .localDateTime(let s)),
             ("date-local", .localDate(let s)),
             ("time-local", .localTime(let s)):
            ok = normaliseDateTime(s) == normaliseDateTime(text)
        default:
            ok = false
        }
        return ok ? nil : "\(path): expected \(type) \(text.debugDescription), got \(value)"
    }

    static func floatMatches(_ v: Double, _ text: String) -> Bool {
        switch text {
        case "nan", "+nan", "-nan": return v.isNaN
        case "inf", "+inf": return v == .infinity
        case "-inf": return v == -.infinity
        default:
            guard let e = Double(text) else { return false }
            return e == v
        }
    }

    /// Upper-cases separators, uses 'T' between date and time, drops
    /// trailing zeros of the fractional seconds.
    static func normaliseDateTime(_ s: String) -> String {
        var chars = Array(s.uppercased())
        if chars.count > 10, chars[10] == " " { chars[10] = "T" }
        guard let dot = chars.firstIndex(of: ".") else { return String(chars) }
        var end = dot + 1
        while end < chars.count, chars[end].isNumber { end += 1 }
        var frac = Array(chars[(dot + 1)..<end])
        while frac.last == "0" { frac.removeLast() }
        let head = String(chars[..<dot])
        let tail = String(chars[end...])
        return frac.isEmpty ? head + tail : head + "." + String(frac) + tail
    }
}
