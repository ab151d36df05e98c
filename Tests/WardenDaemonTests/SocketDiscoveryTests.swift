import Testing
import WardenCore
import WardenDaemon

/// `rpc.discover` and the dispatcher describe the same methods.
@Suite("Socket discovery document")
struct SocketDiscoveryTests {
    let document = RPCMethods.discoveryDocument

    @Test func listsExactlyTheMethodsTheDispatcherAnswers() {
        let listed = (document["methods"]?.array ?? []).compactMap { $0["name"]?.string }
        #expect(listed.count == Set(listed).count)  // no duplicates
        #expect(Set(listed) == RPCMethods.methodNames)
        #expect(
            Set(listed) == [
                "daemon.status", "policy.list", "order.get", "case.get", "case.list", "deadline.list", "evidence.submit", "record.submit",
                "ledger.summary", "ledger.list", "finding.list", "shop.get", "spool.rejected", "event.subscribe", "rpc.discover", "daemon.reload", "metrics.get",
            ])
    }

    @Test func isOpenRPC126WithParamsResultsAndErrors() throws {
        #expect(document["openrpc"] == "1.2.6")
        #expect(document["info"]?["title"] == "wardend")
        #expect(document["info"]?["version"]?.string != nil)
        let schemas = try #require(document["components"]?["schemas"]?.object)
        for method in document["methods"]?.array ?? [] {
            let name = method["name"]?.string ?? "?"
            #expect(method["summary"]?.string?.isEmpty == false, "\(name)")
            #expect(method["paramStructure"] == "by-name", "\(name)")
            for param in method["params"]?.array ?? [] {
                #expect(param["name"]?.string != nil, "\(name)")
                #expect(param["required"]?.bool != nil, "\(name)")
                #expect(param["schema"]?.object != nil, "\(name)")
            }
            #expect(method["result"]?["name"]?.string != nil, "\(name)")
            #expect(method["result"]?["schema"]?.object != nil, "\(name)")
            let codes = (method["errors"]?.array ?? []).compactMap { $0["code"]?.int }
            #expect(codes.contains(-32602) && codes.contains(-32603) && codes.contains(1006), "\(name)")
            #expect((method["errors"]?.array ?? []).allSatisfy { $0["message"]?.string?.isEmpty == false }, "\(name)")
            // Every local $ref resolves.
            for ref in Self.refs(in: method) where ref.hasPrefix("#/components/schemas/") {
                #expect(schemas[String(ref.dropFirst("#/components/schemas/".count))] != nil, "\(name): \(ref)")
            }
        }
        let writers = ["evidence.submit", "record.submit", "daemon.reload"]
        for method in document["methods"]?.array ?? [] where writers.contains(method["name"]?.string ?? "") {
            #expect((method["errors"]?.array ?? []).contains { $0["code"] == 1004 })
        }
    }

    static func refs(in value: JSON) -> [String] {
        switch value {
        case .object(let o): return o.pairs.flatMap { $0.key == "$ref" ? [$0.value.string ?? ""] : refs(in: $0.value) }
        case .array(let a): return a.flatMap(refs(in:))
        default: return []
        }
    }
}
