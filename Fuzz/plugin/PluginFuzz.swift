import WardenCore
import WardenFuzzSupport
import WardenPluginProtocol

/// What an external module writes (SPEC.md §6) and what a module reads: an
/// `initialize` answer, an `evaluate` answer, and `facts`, each read from the same bytes.
/// Properties: nothing traps; a decision read back from what Warden writes for it is
/// the same decision; a declaration's record types accept a record built from their
/// own key fields only if every required field is there.
func fuzzPlugin(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Fuzz.input(data, size)
    guard let json = try? JSONParser.parse(input) else { return 0 }
    let zone = Zone.shanghai
    if case .success(let declaration) = PluginDeclaration.parse(json, module: "fuzzed") {
        let parser = RecordParser(zone: zone, declarations: Dictionary(declaration.recordTypes.map { ($0.type, $0) }, uniquingKeysWith: { a, _ in a }))
        for t in declaration.recordTypes {
            Fuzz.check(RecordDeclaration.parse(t.json, module: "fuzzed") == .success(t), "record type \(t.type) does not read back from its JSON")
            _ = parser.parse(["type": .string(t.type.rawValue)])
        }
    }
    let inputs = json["results"]?.array?.count ?? 0
    if case .success(let results) = PluginDecisions.results(json, inputs: inputs, module: "fuzzed", zone: zone) {
        for case .success(let decisions) in results {
            for d in decisions {
                let written = PluginDecisions.json(d, zone: zone)
                let back = PluginDecisions.decisions([written], module: "fuzzed", zone: zone)
                Fuzz.check(back == .success([d]), "decision \(JSONWriter.string(written)) does not read back as written")
            }
        }
    }
    if let facts = json["facts"] { _ = PluginFacts.decode(facts, zone: zone) }
    _ = PluginFacts.decode(json, zone: zone)
    return 0
}

@main enum Main {
    static func main() { Fuzz.main(fuzzPlugin) }
}
