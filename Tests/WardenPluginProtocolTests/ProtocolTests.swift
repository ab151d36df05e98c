import Foundation
import Testing
import WardenCore
import WardenPluginProtocol

/// The SPEC.md §6 codec, table by table: what a module may declare and decide, and the
/// error that names what is wrong when it may not.
@Suite("External module protocol")
struct ProtocolTests {
    static func json(_ text: String) -> JSON { try! JSONParser.parse(text) }

    static let good = #"{"protocol":1,"name":"Cosmetics","version":"1.0","categories":["cosmetics"],"record_types":[{"type":"batch-recall","key":["order_id"],"fields":{"order_id":{"kind":"id","required":true},"severity":{"kind":"enum:minor|major","required":false}}}],"parameters":[{"name":"window","kind":"duration","default":"48h","summary":"s"},{"name":"fee","kind":"money"}]}"#

    @Test func aGoodDeclarationIsRead() throws {
        let d = try PluginDeclaration.parse(Self.json(Self.good), module: "cosmetics").get()
        #expect(d.name == "Cosmetics" && d.version == "1.0" && d.categories == ["cosmetics"])
        #expect(d.recordTypes.map(\.type.rawValue) == ["batch-recall"])
        #expect(d.recordTypes[0].field("severity")?.kind == .enumeration(["minor", "major"]))
        #expect(d.parameters.map(\.name) == ["window", "fee"])
        #expect(d.parameters[0].defaultValue == .duration(.hours(48)))
        #expect(d.parameters[1].isRequired)
    }

    /// (what is changed in the good declaration, words the error must contain)
    static let badDeclarations: [(String, String, String)] = [
        (#""protocol":1"#, #""protocol":2"#, "speaks protocol 2"),
        (#""protocol":1,"#, "", "\"protocol\" is missing"),
        (#""name":"Cosmetics""#, #""name":"""#, "\"name\""),
        (#""categories":["cosmetics"]"#, #""categories":"cosmetics""#, "categories"),
        (#""categories":["cosmetics"]"#, #""categories":["a","a"]"#, "listed twice"),
        (#""type":"batch-recall""#, #""type":"order""#, "Warden's own types"),
        (#""type":"batch-recall""#, #""type":"Batch Recall""#, "lower-case"),
        (#""key":["order_id"]"#, #""key":["severity"]"#, "must be required"),
        (#""key":["order_id"]"#, #""key":["nope"]"#, "not one of its fields"),
        (#""kind":"id""#, #""kind":"float""#, "needs {\"kind\""),
        (#""enum:minor|major""#, #""enum:""#, "needs {\"kind\""),
        (#""name":"window""#, #""name":"exec""#, "Warden's own keys"),
        (#""kind":"duration""#, #""kind":"bool""#, "kind"),
        (#""default":"48h""#, #""default":"soon""#, "not a duration"),
    ]

    @Test(arguments: Self.badDeclarations.indices)
    func aBadDeclarationIsRefusedSayingWhy(_ i: Int) throws {
        let (from, to, words) = Self.badDeclarations[i]
        #expect(Self.good.contains(from))
        let text = Self.good.replacingOccurrences(of: from, with: to)
        guard case .failure(let e) = PluginDeclaration.parse(Self.json(text), module: "cosmetics") else {
            Issue.record("accepted: \(text)")
            return
        }
        #expect(e.message.contains(words), "\(e.message)")
    }

    static let decisions: [String] = [
        #"{"open_case":{"case_id":"C1","order_id":"O1","reason":"not-delivered-to-door","state":"awaiting-evidence","opened_at":"2023-04-05T09:30:00+08:00","deadline":"2023-04-06T09:30:00+08:00","note":"n"}}"#,
        #"{"change_state":{"case_id":"C1","state":"defaulted","at":"2023-04-06T09:30:00+08:00","note":"late"}}"#,
        #"{"set_deadline":{"case_id":"C1","due_at":"2023-04-07T09:30:00+08:00"}}"#,
        #"{"clear_deadline":{"case_id":"C1"}}"#,
        #"{"note":{"case_id":"C1","at":"2023-04-05T09:30:00+08:00","note":"hello"}}"#,
        #"{"book":{"case_id":"C1","order_id":"O1","shop":"s","rule":"K4","amount":"10.00","points":2,"at":"2023-04-06T09:30:00+08:00","dedupe_key":"K4:O1","note":"x"}}"#,
        #"{"finding":{"rule":"C9","subject":"order:O1","severity":"violation","message":"m","at":"2023-04-05T09:30:00+08:00","dedupe_key":"k"}}"#,
        #"{"attach_evidence":{"case_id":"C1","items":[{"kind":"delivery-photo","ref":"p.jpg"}],"submitted_at":"2023-04-05T10:00:00+08:00","in_time":true}}"#,
    ]

    @Test(arguments: Self.decisions)
    func everyDecisionReadsAndWritesBackTheSame(_ text: String) throws {
        let read = try PluginDecisions.decisions([Self.json(text)], module: "cosmetics", zone: .shanghai).get()
        #expect(read.count == 1)
        let written = PluginDecisions.json(read[0], zone: .shanghai)
        #expect(JSONWriter.string(written, sortedKeys: true) == JSONWriter.string(Self.json(text), sortedKeys: true))
        if case .openCase(let c) = read[0] { #expect(c.category == "cosmetics") }  // a module's cases are its own
    }

    static let badDecisions: [(String, String)] = [
        (#"{"open_case":{},"note":{}}"#, "one key"),
        (#"{"launch":{}}"#, "unknown decision \"launch\""),
        (#"{"note":{"case_id":"C1","at":"2023-04-05T09:30:00Z","note":"n","extra":1}}"#, "extra: unknown field"),
        (#"{"note":{"case_id":"C1","at":"2023-04-05T09:30:00Z"}}"#, "note: missing"),
        (#"{"change_state":{"case_id":"C1","state":"closed","at":"2023-04-05T09:30:00Z","note":""}}"#, "state: expected one of"),
        (#"{"note":{"case_id":"C1","at":"yesterday","note":"n"}}"#, "at: expected an RFC 3339 time"),
        (#"{"note":{"case_id":12345678901234567890,"at":"2023-04-05T09:30:00Z","note":"n"}}"#, "case_id: expected a string id"),
        (#"{"book":{"case_id":"C1","rule":"K4","amount":"-1.00","points":0,"at":"2023-04-05T09:30:00Z","dedupe_key":"k","note":""}}"#, "amount"),
        (#"{"book":{"case_id":"C1","rule":"K4","amount":"99999999999999.00","points":0,"at":"2023-04-05T09:30:00Z","dedupe_key":"k","note":""}}"#, "amount"),
        (#"{"book":{"case_id":"C1","rule":"K4","amount":"1.00","points":-3,"at":"2023-04-05T09:30:00Z","dedupe_key":"k","note":""}}"#, "points"),
        (#"{"book":{"rule":"K4","amount":"1.00","points":0,"at":"2023-04-05T09:30:00Z","dedupe_key":"k","note":""}}"#, "names none of case_id, order_id, shop"),
        (#"{"finding":{"rule":"C9","subject":"s","severity":"fatal","message":"m","at":"2023-04-05T09:30:00Z","dedupe_key":"k"}}"#, "severity"),
    ]

    @Test(arguments: Self.badDecisions.indices)
    func aBadDecisionIsRefusedNamingIt(_ i: Int) throws {
        let (text, words) = Self.badDecisions[i]
        guard case .failure(let e) = PluginDecisions.decisions([Self.json(#"{"clear_deadline":{"case_id":"C0"}}"#), Self.json(text)], module: "m", zone: .shanghai) else {
            Issue.record("accepted: \(text)")
            return
        }
        #expect(e.message.hasPrefix("decisions[1]"), "\(e.message)")
        #expect(e.message.contains(words), "\(e.message)")
    }

    @Test func resultsMustMatchTheInputsOneForOne() {
        let two = Self.json(#"{"results":[{"decisions":[]},{"decisions":[]}]}"#)
        #expect(throws: Never.self) { try PluginDecisions.results(two, inputs: 2, module: "m", zone: .utc).get() }
        guard case .failure(let e) = PluginDecisions.results(two, inputs: 3, module: "m", zone: .utc) else {
            Issue.record("accepted 2 results for 3 inputs")
            return
        }
        #expect(e.message.contains("2 results for 3 inputs"))
        // One input's bad result does not spoil the others'.
        let mixed = try! PluginDecisions.results(Self.json(#"{"results":[{"decisions":[]},{"decisions":[{"x":{}}]}]}"#), inputs: 2, module: "m", zone: .utc).get()
        #expect((try? mixed[0].get()) == [])
        #expect((try? mixed[1].get()) == nil)
    }

    @Test func declaredRecordsAreValidatedFromTheirDeclaration() throws {
        let d = try PluginDeclaration.parse(Self.json(Self.good), module: "cosmetics").get()
        let parser = RecordParser(zone: .shanghai, declarations: [d.recordTypes[0].type: d.recordTypes[0]])
        let ok = try parser.parse(Self.json(#"{"type":"batch-recall","order_id":"O1","severity":"major","extra":"kept"}"#)).get()
        #expect(ok.key == "O1")
        #expect(ok.orderId == "O1")
        guard case .declared(let record) = ok.payload else { Issue.record("not a declared record"); return }
        #expect(record.module == "cosmetics")
        let bad = parser.parse(Self.json(#"{"type":"batch-recall","order_id":12,"severity":"huge"}"#))
        guard case .failure(let errors) = bad else { Issue.record("accepted"); return }
        #expect(Set(errors.errors.compactMap(\.field)) == ["order_id", "severity"])
        // Undeclared, it is an unknown type, and the message names what is known.
        guard case .failure(let unknown) = RecordParser(zone: .shanghai).parse(Self.json(#"{"type":"batch-recall","order_id":"O1"}"#)) else {
            Issue.record("accepted without a declaration")
            return
        }
        #expect(unknown.errors[0].message.contains("unknown record type"))
    }
}
