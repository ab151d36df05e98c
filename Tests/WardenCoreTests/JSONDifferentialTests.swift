import Foundation
import Testing
import WardenCore
import WardenTestKit

/// Warden's JSON parser against Foundation's `JSONSerialization` on generated documents:
/// valid ones (random shapes, escapes, number spellings, whitespace) must read to the same
/// values, and mutated ones (bytes flipped, dropped, doubled) must be accepted or refused
/// alike. Where Warden is stricter on purpose, the test says which rule and checks that
/// Warden's error names it: a key repeated in one object (I-JSON, RFC 7493). Where
/// Foundation is lenient (a trailing comma, "[1,]", which RFC 8259 does not allow),
/// the document without it must read the same in both.
@Suite("JSON parser against JSONSerialization")
struct JSONDifferentialTests {
    typealias Generator = SplitMix64

    static let pieces = ["a", "é", "再", "😀", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\uD83D\\uDE00", "\\t", " ", "0", "\\u0000", "\\b\\f\\r"]

    static func ws(_ g: inout Generator) -> String { ["", "", " ", "\n", "\t", "\r\n  "].randomElement(using: &g)! }

    static func number(_ g: inout Generator) -> String {
        switch Int.random(in: 0..<8, using: &g) {
        case 0: return String(Int.random(in: -1_000_000...1_000_000, using: &g))
        case 1: return "0"
        case 2: return "-0"
        case 3: return "\(Int.random(in: 0...999, using: &g)).\(Int.random(in: 0...99999, using: &g))"
        case 4: return "\(Int.random(in: 1...9, using: &g))e\(Int.random(in: -300...300, using: &g))"
        case 5: return "-\(Int.random(in: 1...9, using: &g)).\(Int.random(in: 0...9, using: &g))E+\(Int.random(in: 0...20, using: &g))"
        case 6: return String(Int64.random(in: -(1 << 53)...(1 << 53), using: &g))
        default: return "123456789012345678901234567890"
        }
    }

    static func string(_ g: inout Generator) -> String {
        "\"" + (0..<Int.random(in: 0...6, using: &g)).map { _ in pieces.randomElement(using: &g)! }.joined() + "\""
    }

    static func value(_ g: inout Generator, depth: Int) -> String {
        let kind = depth > 4 ? Int.random(in: 0..<4, using: &g) : Int.random(in: 0..<6, using: &g)
        switch kind {
        case 0: return ["null", "true", "false"].randomElement(using: &g)!
        case 1: return number(&g)
        case 2, 3: return string(&g)
        case 4:
            let n = Int.random(in: 0...4, using: &g)
            return "[" + ws(&g) + (0..<n).map { _ in value(&g, depth: depth + 1) }.joined(separator: ws(&g) + "," + ws(&g)) + ws(&g) + "]"
        default:
            let n = Int.random(in: 0...4, using: &g)
            let keys = (0..<n).map { i in "\"k\(i)\(["", "é", "\\u0041"].randomElement(using: &g)!)\"" }
            return "{" + ws(&g) + keys.map { $0 + ws(&g) + ":" + ws(&g) + value(&g, depth: depth + 1) }.joined(separator: "," + ws(&g)) + ws(&g) + "}"
        }
    }

    /// Foundation's value, in Warden's model.
    static func convert(_ any: Any) -> JSON? {
        switch any {
        case is NSNull: return .null
        case let s as String: return .string(s)
        case let n as NSNumber:
            if String(cString: n.objCType) == "c" { return .bool(n.boolValue) }
            return .number(n.doubleValue)
        case let a as [Any]:
            var out: [JSON] = []
            for e in a { guard let v = convert(e) else { return nil }; out.append(v) }
            return .array(out)
        case let o as [String: Any]:
            var pairs: [(key: String, value: JSON)] = []
            for (k, v) in o { guard let c = convert(v) else { return nil }; pairs.append((k, c)) }
            return .object(JSONObject(pairs.sorted { $0.key < $1.key }))
        default: return nil
        }
    }

    /// Objects with keys sorted and numbers compared with a relative tolerance (the two
    /// parsers may round the last bit of a long decimal differently).
    static func same(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            return x == y || abs(x - y) <= 1e-15 * max(abs(x), abs(y))
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            let xs = x.pairs.sorted { $0.key < $1.key }
            let ys = y.pairs.sorted { $0.key < $1.key }
            return xs.count == ys.count && zip(xs, ys).allSatisfy { $0.key == $1.key && same($0.value, $1.value) }
        default:
            return a == b
        }
    }

    static func foundation(_ bytes: [UInt8]) -> JSON?? {
        guard let any = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return .some(nil) }
        return convert(any).map { .some($0) } ?? nil
    }

    /// `bytes` with every comma that only whitespace separates from a closing bracket
    /// removed (outside strings).
    static func withoutTrailingCommas(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var inString = false
        var escaped = false
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
            } else if b == 0x22 {
                inString = true
            } else if b == 0x2C {
                var j = i + 1
                while j < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[j]) { j += 1 }
                if j < bytes.count, bytes[j] == 0x5D || bytes[j] == 0x7D {
                    i += 1
                    continue
                }
            }
            out.append(b)
            i += 1
        }
        return out
    }

    @Test func generatedDocumentsReadTheSame() throws {
        var g = Generator(seed: 20_261_201)
        for _ in 0..<3_000 {
            let text = Self.ws(&g) + Self.value(&g, depth: 0) + Self.ws(&g)
            let bytes = Array(text.utf8)
            let ours = try JSONParser.parse(bytes)
            guard case .some(.some(let theirs)) = Self.foundation(bytes) else {
                Issue.record("Foundation refused a document Warden reads: \(text)")
                continue
            }
            #expect(Self.same(ours, theirs), "\(text)")
        }
    }

    @Test func mutatedDocumentsAreAcceptedOrRefusedAlike() {
        var g = Generator(seed: 7)
        var disagreements: [String] = []
        var compared = 0
        for _ in 0..<20_000 {
            var bytes = Array((Self.value(&g, depth: 0)).utf8)
            for _ in 0..<Int.random(in: 1...3, using: &g) where !bytes.isEmpty {
                let i = Int.random(in: 0..<bytes.count, using: &g)
                switch Int.random(in: 0..<4, using: &g) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &g)
                case 1: bytes.remove(at: i)
                case 2: bytes.insert(bytes[i], at: i)
                default: bytes[i] = [0x22, 0x5C, 0x2C, 0x3A, 0x5B, 0x7D, 0x30, 0x2D, 0x65].randomElement(using: &g)!
                }
            }
            let ours: Result<JSON, JSONParser.Error> = Result { () throws(JSONParser.Error) in try JSONParser.parse(bytes) }
            guard case .some(let theirs) = Self.foundation(bytes) else { continue }  // a value Foundation cannot represent
            compared += 1
            switch (ours, theirs) {
            case (.success(let a), .some(let b)):
                if !Self.same(a, b) { disagreements.append("values differ: \(String(decoding: bytes, as: UTF8.self))") }
            case (.failure, nil):
                break
            case (.failure(let e), .some):
                // Stricter on purpose, and saying why.
                if e.key != nil && e.message.contains("duplicate key") { continue }
                // Foundation takes a trailing comma ("[1,]"), which RFC 8259 does not.
                let strict = Self.withoutTrailingCommas(bytes)
                if strict != bytes, let a = try? JSONParser.parse(strict), case .some(.some(let b)) = Self.foundation(strict), Self.same(a, b) { continue }
                disagreements.append("Warden refused (\(e)) what Foundation reads: \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            case (.success, nil):
                disagreements.append("Warden read what Foundation refuses: \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            }
        }
        #expect(compared > 10_000)
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(5))")
    }
}
