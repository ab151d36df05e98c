import WardenCore
import WardenRPC

/// Reads a method's named parameters, answering `-32602` with what was expected.
struct Params: Sendable {
    let object: JSONObject
    let zone: Zone

    init(_ object: JSONObject, zone: Zone, allowed: [String]) throws(RPCError) {
        self.object = object
        self.zone = zone
        for key in object.keys where !allowed.contains(key) {
            throw .invalidParams(allowed.isEmpty ? "this method takes no parameters (got \"\(key)\")" : "unknown parameter \"\(key)\"; expected \(allowed.joined(separator: ", "))")
        }
    }

    func string(_ name: String) throws(RPCError) -> String? {
        guard let v = object[name], !v.isNull else { return nil }
        guard case .string(let s) = v else { throw .invalidParams("\(name) must be a string, got \(v.kindName)") }
        return s
    }

    func requiredString(_ name: String) throws(RPCError) -> String {
        guard let s = try string(name) else { throw .invalidParams("missing required parameter \(name)") }
        return s
    }

    func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws(RPCError) -> Int {
        guard let v = object[name], !v.isNull else { return value }
        guard let i = v.int else { throw .invalidParams("\(name) must be an integer, got \(v)") }
        guard range.contains(i) else { throw .invalidParams("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(i)") }
        return i
    }

    func time(_ name: String) throws(RPCError) -> Timestamp? {
        guard let s = try string(name) else { return nil }
        guard let t = TimeFormat.parse(s, defaultZone: zone) else {
            throw .invalidParams("\(name): \"\(s)\" is not a time; expected RFC 3339 or \"YYYY-MM-DD HH:MM:SS\"")
        }
        return t
    }

    func array(_ name: String) throws(RPCError) -> [JSON] {
        guard let v = object[name] else { throw .invalidParams("missing required parameter \(name)") }
        guard case .array(let a) = v else { throw .invalidParams("\(name) must be an array, got \(v.kindName)") }
        return a
    }
}
