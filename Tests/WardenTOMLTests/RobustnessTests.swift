// Pseudo-random robustness test: mutated documents must only ever parse or
// throw a TOMLError (a trap, hang or stack overflow fails the run).

import Foundation
import Testing
import WardenTOML
import WardenTestKit


enum FuzzCorpus {
    static let documents: [String] = [
        #"""
        # Warden daemon configuration
        title = "warden"
        enabled = true
        [server]
        host = "127.0.0.1"
        port = 8_080
        timeout = 2.5e0
        tags = ["a", 'b', """c""", '''d''']
        limits = { cpu = 0.5, mem = 0x1000, nested = { deep = [1, [2, [3]]] } }
        started = 1979-05-27T07:32:00.999-07:00
        [server.tls]
        cert = '/etc/warden/cert.pem'
        [[rules]]
        name = "r1"
        match.path = "/var/log/*.log"
        match.size = -1
        [[rules]]
        name = "r2"
        when = 07:30:00
        day = 2024-02-29
        local = 2024-02-29 12:00:00
        """#,
        "a.b.c = 1\n[a.x]\ny = [\n  1, # one\n  2,\n]\n\"quoted key\" = \"\\u00e9\\U0001F600\\t\"\n",
        "s = \"\"\"\nline one\\\n   continued \"\" ''\n\"\"\"\nr = '''\nraw \\n ''\n'''\n",
        "[[x.y]]\n[x.y.z]\nk = +inf\nn = -nan\nf = 6.626e-34\nh = 0xDEAD_beef\no = 0o755\nb = 0b1101\n",
        "\u{FEFF}# bom\r\nkey = \"crlf\"\r\n[t]\r\nv = 1\r\n",
        "\"ключ\" = 'значение'\n'ü'.\"é\" = { x = 1, y.z = [ { a = 1 } ] }\n",
    ]

    static let interesting: [UInt8] = Array("[]{}=.,\"'#\\\n\r\t _-+:0123456789abefilnrtuxzTZeE".utf8)
        + [0x00, 0x01, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
}

@Suite("Robustness")
struct RobustnessTests {
    static func mutate(_ input: [UInt8], rng: inout SplitMix64) -> [UInt8] {
        var b = input
        let ops = Int.random(in: 1...4, using: &rng)
        for _ in 0..<ops {
            switch Int.random(in: 0..<7, using: &rng) {
            case 0 where !b.isEmpty:  // flip a bit
                let i = Int.random(in: 0..<b.count, using: &rng)
                b[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !b.isEmpty:  // replace with an interesting byte
                let i = Int.random(in: 0..<b.count, using: &rng)
                b[i] = FuzzCorpus.interesting.randomElement(using: &rng) ?? 0
            case 2:  // insert interesting/random bytes
                let i = Int.random(in: 0...b.count, using: &rng)
                let count = Int.random(in: 1...4, using: &rng)
                for _ in 0..<count {
                    let byte = Bool.random(using: &rng)
                        ? (FuzzCorpus.interesting.randomElement(using: &rng) ?? 0)
                        : UInt8.random(in: 0...255, using: &rng)
                    b.insert(byte, at: i)
                }
            case 3 where !b.isEmpty:  // truncate
                b.removeSubrange(Int.random(in: 0..<b.count, using: &rng)...)
            case 4 where b.count > 1:  // delete a range
                let i = Int.random(in: 0..<b.count, using: &rng)
                let j = min(b.count, i + Int.random(in: 1...16, using: &rng))
                b.removeSubrange(i..<j)
            case 5 where b.count > 1:  // duplicate a range
                let i = Int.random(in: 0..<b.count, using: &rng)
                let j = min(b.count, i + Int.random(in: 1...32, using: &rng))
                let slice = Array(b[i..<j])
                b.insert(contentsOf: slice, at: Int.random(in: 0...b.count, using: &rng))
            default:  // repeat an opener to push nesting
                let openers = ["[", "{a=", "[[", "a.", "\"\"\""]
                let opener = Array(openers[Int.random(in: 0..<openers.count, using: &rng)].utf8)
                let times = Int.random(in: 1...300, using: &rng)
                var chunk: [UInt8] = []
                for _ in 0..<times { chunk += opener }
                b.insert(contentsOf: chunk, at: Int.random(in: 0...b.count, using: &rng))
            }
        }
        return b
    }

    @Test("seeded mutations only ever return or throw", .timeLimit(.minutes(2)))
    func mutationFuzz() throws {
        var rng = SplitMix64(seed: 0x5EED_7011_DA7A_0001)
        let seeds = FuzzCorpus.documents.map { Array($0.utf8) }
        for s in seeds {
            #expect(throws: Never.self) { try TOML.parse(bytes: s) }
        }
        var parsed = 0
        var rejected = 0
        let iterations = 6000
        for n in 0..<iterations {
            let base = seeds[n % seeds.count]
            let input = Self.mutate(base, rng: &rng)
            do {
                let first = try TOML.parse(bytes: input)
                parsed += 1
                // Deterministic, and the String entry point agrees.
                let again = try TOML.parse(bytes: input)
                #expect(first.keys == again.keys)
                if let text = String(validating: input, as: UTF8.self) {
                    let viaString = try TOML.parse(text)
                    #expect(viaString.keys == first.keys)
                }
            } catch {
                rejected += 1
                #expect(error.position.line >= 1 && error.position.column >= 1, "\(error)")
                #expect(!error.message.isEmpty)
            }
        }
        #expect(parsed + rejected == iterations)
        #expect(parsed > 0 && rejected > 0)
        print("robustness: \(iterations) mutated inputs, \(parsed) parsed, \(rejected) rejected")
    }

    @Test("every prefix of the corpus documents returns or throws")
    func allPrefixes() {
        for doc in FuzzCorpus.documents {
            let bytes = Array(doc.utf8)
            for k in 0...bytes.count {
                _ = try? TOML.parse(bytes: Array(bytes[0..<k]))
            }
        }
    }
}
