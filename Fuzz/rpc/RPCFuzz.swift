import WardenCore
import WardenFuzzSupport
import WardenProtocol

/// The socket's shortcut for the common request shape, against the full parser: any
/// line the shortcut takes must be read by the full parser as the same request. A
/// disagreement is a finding.
func fuzzRPC(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Fuzz.input(data, size)
    let raw = UnsafeRawBufferPointer(input)
    let fast = RPCRequest.parseCommonShape(raw)
    let full: RPCRequest?
    if let value = try? JSONParser.parse(input), case .success(let r) = RPCRequest.validate(value) {
        full = r
    } else {
        full = nil
    }
    guard let fast else { return 0 }
    guard let full else {
        Fuzz.check(false, "the shortcut took a line the full parser refuses")
        return 0
    }
    Fuzz.check(fast.id == full.id, "id differs: \(String(describing: fast.id)) vs \(String(describing: full.id))")
    Fuzz.check(fast.method == full.method, "method differs: \(fast.method) vs \(full.method)")
    Fuzz.check(fast.params == full.params, "params differ")
    return 0
}

@main enum Main {
    static func main() { Fuzz.main(fuzzRPC) }
}
