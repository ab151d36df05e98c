#if canImport(Glibc)
import Glibc
#endif
import WardenCore
import WardenPluginProtocol
import WardenSpool

/// `wardend plugin serve <module>`: a built-in module speaking SPEC.md §6 on stdin and
/// stdout, exactly as an external module would. It proves the protocol carries all a
/// module needs: the rule-module end-to-end tests run each built-in module both ways
/// and compare cases, ledger and findings.
///
/// Trusts nothing on stdin: every request is parsed, a bad one gets a JSON-RPC error
/// answer; a line over the limit ends the module (exit 1, as a broken pipe would).
public enum BuiltinPluginServer {
    public static func serve(_ registration: PolicyRegistration, input: Int32 = 0, output: Int32 = 1) -> Int32 {
        var reader = LineReader(descriptor: input, maxLine: PluginProtocol.maxLine)
        var policy: (any Policy)?
        var zone = Zone.shanghai
        while true {
            let line: LineReader.Line?
            do {
                line = try reader.next()
            } catch {
                return 1
            }
            guard let line else { return 0 }
            guard case .text(let bytes, _) = line else { return 1 }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            guard let request = try? JSONParser.parse(bytes), case .string(let method)? = request["method"] else {
                write(output, ["jsonrpc": "2.0", "id": .null, "error": ["code": -32700, "message": "not a JSON-RPC request"]])
                continue
            }
            let id = request["id"] ?? .null
            let params = request["params"] ?? .object(JSONObject())
            switch method {
            case "shutdown":
                return 0
            case "initialize":
                if let name = params["timezone"]?.string, let z = Zone(identifier: name) { zone = z }
                var settings = PolicySettings()
                for (k, v) in params["parameters"]?.object?.pairs ?? [] { if let raw = RawParameter(json: v) { settings.parameters[k] = raw } }
                do {
                    let registry = try PolicyRegistry(registrations: [registration], settings: [registration.id: settings])
                    guard let p = registry.policy(id: registration.id) else {
                        let why = registry.entries.first.map { "\($0.status)" } ?? "not loaded"
                        write(output, error(id, -32602, "module \(registration.id) did not load: \(why)"))
                        continue
                    }
                    policy = p
                } catch {
                    write(output, Self.error(id, -32602, error.errors.map(\.description).joined(separator: "; ")))
                    continue
                }
                write(output, ["jsonrpc": "2.0", "id": id, "result": declaration(registration)])
            case "evaluate":
                guard let policy else {
                    write(output, error(id, -32002, "evaluate before initialize"))
                    continue
                }
                guard case .array(let inputs)? = params["inputs"] else {
                    write(output, error(id, -32602, "evaluate needs {inputs: [...]}"))
                    continue
                }
                var results: [JSON] = []
                var failure: String?
                for (i, input) in inputs.enumerated() {
                    switch evaluate(input, policy: policy, zone: zone, registrationTypes: registration.recordTypes) {
                    case .success(let decisions):
                        results.append(["decisions": .array(decisions.map { PluginDecisions.json($0, zone: zone) })])
                    case .failure(let e):
                        failure = "inputs[\(i)]: \(e.message)"
                    }
                    if failure != nil { break }
                }
                if let failure {
                    write(output, error(id, -32602, failure))
                } else {
                    write(output, ["jsonrpc": "2.0", "id": id, "result": ["results": .array(results)]])
                }
            default:
                if !id.isNull { write(output, error(id, -32601, "no method \(method)")) }
            }
        }
    }

    static func evaluate(_ input: JSON, policy: any Policy, zone: Zone, registrationTypes: [RecordDeclaration]) -> Result<[Decision], PluginProtocolError> {
        guard let factsJSON = input["facts"] else { return .failure(PluginProtocolError("facts missing")) }
        let facts: Facts
        let declarations = Dictionary(registrationTypes.map { ($0.type, $0) }, uniquingKeysWith: { a, _ in a })
        switch PluginFacts.decode(factsJSON, zone: zone, declarations: declarations) {
        case .success(let f): facts = f
        case .failure(let e): return .failure(e)
        }
        switch input["kind"]?.string {
        case "record":
            guard let body = input["record"], case .success(let record) = RecordParser(zone: zone, declarations: declarations).parse(body) else {
                return .failure(PluginProtocolError("record: not a record this module reads"))
            }
            return .success(policy.evaluate(.record(record), facts: facts))
        case "deadline":
            guard case .string(let caseId)? = input["case_id"], case .string(let dueText)? = input["due_at"],
                let due = TimeFormat.parse(dueText, defaultZone: zone)
            else { return .failure(PluginProtocolError("deadline: needs case_id and due_at")) }
            return .success(policy.evaluate(.deadlineDue(caseId: caseId, due: due), facts: facts))
        default:
            return .failure(PluginProtocolError("kind must be \"record\" or \"deadline\""))
        }
    }

    /// The `initialize` answer for a registration.
    public static func declaration(_ r: PolicyRegistration) -> JSON {
        PluginDeclaration(name: r.summary, version: r.version, categories: r.categories, recordTypes: r.recordTypes, parameters: r.parameters).json
    }

    static func error(_ id: JSON, _ code: Int, _ message: String) -> JSON {
        ["jsonrpc": "2.0", "id": id, "error": ["code": JSON(code), "message": .string(message)]]
    }

    static func write(_ fd: Int32, _ message: JSON) {
        var bytes = JSONWriter.bytes(message)
        bytes.append(0x0A)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                exit(1)  // the daemon went away
            }
            offset += n
        }
    }
}
