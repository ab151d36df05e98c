/// A JSON value.
///
/// Warden parses and writes JSON itself (see `JSONParser`, `JSONWriter`) because the spool
/// and the socket are its hot paths and because spool errors must name the line a record
/// starts on. Objects keep their keys in document order, so what Warden writes reads the
/// way it was built (`jsonrpc` first, `id` next, …).
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number. Integers up to 2^53 are exact; Warden never uses JSON numbers for ids
    /// or money, which are strings by contract.
    case number(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)
}

/// An ordered JSON object. Lookups are linear: Warden's objects are small, and a
/// linear scan over a handful of keys beats hashing them.
public struct JSONObject: Sendable, Equatable {
    public var pairs: [(key: String, value: JSON)]

    public init() { pairs = [] }
    public init(_ pairs: [(key: String, value: JSON)]) { self.pairs = pairs }

    /// The value for `key`; with duplicate keys the last one wins, as in most parsers.
    public subscript(key: String) -> JSON? {
        get {
            var i = pairs.count - 1
            while i >= 0 {
                if pairs[i].key == key { return pairs[i].value }
                i -= 1
            }
            return nil
        }
        set {
            if let index = pairs.lastIndex(where: { $0.key == key }) {
                if let newValue { pairs[index].value = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }

    public var keys: [String] { pairs.map(\.key) }
    public var count: Int { pairs.count }
    public var isEmpty: Bool { pairs.isEmpty }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.pairs.count == rhs.pairs.count else { return false }
        for (l, r) in zip(lhs.pairs, rhs.pairs) where l.key != r.key || l.value != r.value {
            return false
        }
        return true
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSON {
    public init(_ value: Int) { self = .number(Double(value)) }
    public init(_ value: Int64) { self = .number(Double(value)) }
    /// `.string` for a value, `.null` for nil.
    public init(_ value: String?) { self = value.map(JSON.string) ?? .null }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var number: Double? { if case .number(let n) = self { return n } else { return nil } }
    public var array: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var object: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The number as an exact integer, or nil if it is not integral or out of range.
    public var int: Int? {
        guard case .number(let n) = self, n.rounded() == n, abs(n) <= 9_007_199_254_740_992 else { return nil }
        return Int(n)
    }

    /// Member lookup on objects; nil for anything else.
    public subscript(key: String) -> JSON? { object?[key] }

    /// A short name of the value's kind, for error messages ("expected a string, got number").
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}
