// Public data model of WardenTOML.
//
// No Foundation: this module only depends on the Swift standard library.

/// A 1-based line/column position in a TOML document.
///
/// `column` counts Unicode scalars (not bytes) from the start of the line.
/// A leading UTF-8 byte order mark is not counted.
public struct TOMLPosition: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// A parse error. `description` is `"line L, column C: message"`.
public struct TOMLError: Error, Sendable, CustomStringConvertible {
    public var position: TOMLPosition
    public var message: String

    public init(position: TOMLPosition, message: String) {
        self.position = position
        self.message = message
    }

    public var description: String {
        "line \(position.line), column \(position.column): \(message)"
    }
}

/// A TOML value.
///
/// Date/time values carry their text, normalised to RFC 3339 style:
/// the date/time separator is `T`, a UTC offset `z` is written `Z`; the
/// fractional seconds are kept exactly as written (no rounding/truncation).
public indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    /// e.g. `1979-05-27T07:32:00Z`, `1979-05-27T00:32:00.999-07:00`
    case offsetDateTime(String)
    /// e.g. `1979-05-27T07:32:00`
    case localDateTime(String)
    /// e.g. `1979-05-27`
    case localDate(String)
    /// e.g. `07:32:00.5`
    case localTime(String)
    case array([TOMLValue])
    case table(TOMLTable)
}

extension TOMLValue {
    public var string: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var integer: Int64? {
        if case .integer(let v) = self { return v }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    /// The value of a `.float`. Integers are *not* converted.
    public var double: Double? {
        if case .float(let v) = self { return v }
        return nil
    }

    public var array: [TOMLValue]? {
        if case .array(let v) = self { return v }
        return nil
    }

    public var table: TOMLTable? {
        if case .table(let v) = self { return v }
        return nil
    }

    /// The text of any of the four date/time cases.
    public var dateTimeText: String? {
        switch self {
        case .offsetDateTime(let s), .localDateTime(let s), .localDate(let s), .localTime(let s):
            return s
        default:
            return nil
        }
    }

    /// A short name of the value's TOML type (for diagnostics).
    public var typeName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .bool: return "boolean"
        case .offsetDateTime: return "offset date-time"
        case .localDateTime: return "local date-time"
        case .localDate: return "local date"
        case .localTime: return "local time"
        case .array: return "array"
        case .table: return "table"
        }
    }
}

/// A TOML table.
///
/// Keys are compared by their exact Unicode scalar sequence (as TOML
/// requires), not by Swift's canonical-equivalence `String` equality.
/// Equality (`==`) compares the key/value content only; key order and
/// source positions are ignored.
public struct TOMLTable: Sendable, Equatable {
    struct Entry: Sendable {
        var value: TOMLValue
        var position: TOMLPosition?
    }

    /// The keys in document order.
    public private(set) var keys: [String]
    var storage: [[UInt8]: Entry]

    /// Where this table was opened: the `[` of its `[header]`/`[[header]]`,
    /// the `{` of an inline table, or the key segment that first created it
    /// (dotted keys, or a parent created implicitly by a header).
    /// `nil` for the root table and for tables built in code.
    public var position: TOMLPosition?

    public init() {
        keys = []
        storage = [:]
        position = nil
    }

    public subscript(key: String) -> TOMLValue? {
        storage[Array(key.utf8)]?.value
    }

    /// Where `key` was defined: the position of the key segment where it
    /// first appears in the document (for dotted keys and headers, the
    /// segment naming this key).
    public func position(of key: String) -> TOMLPosition? {
        storage[Array(key.utf8)]?.position
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Key/value pairs in document order.
    public var entries: [(key: String, value: TOMLValue)] {
        var out: [(key: String, value: TOMLValue)] = []
        out.reserveCapacity(keys.count)
        for k in keys {
            if let e = storage[Array(k.utf8)] { out.append((k, e.value)) }
        }
        return out
    }

    /// Inserts or replaces `value` for `key` (appending the key if new).
    public mutating func set(_ value: TOMLValue, for key: String, position: TOMLPosition? = nil) {
        let raw = Array(key.utf8)
        if storage[raw] == nil { keys.append(key) }
        storage[raw] = Entry(value: value, position: position)
    }

    /// Removes `key`; returns the removed value.
    @discardableResult
    public mutating func removeValue(for key: String) -> TOMLValue? {
        let raw = Array(key.utf8)
        guard let old = storage.removeValue(forKey: raw) else { return nil }
        keys.removeAll { Array($0.utf8) == raw }
        return old.value
    }

    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        guard lhs.storage.count == rhs.storage.count else { return false }
        for (k, e) in lhs.storage {
            guard let o = rhs.storage[k], o.value == e.value else { return false }
        }
        return true
    }

    // Used by the parser: keys are guaranteed unique.
    init(parsedKeys: [String], storage: [[UInt8]: Entry], position: TOMLPosition?) {
        self.keys = parsedKeys
        self.storage = storage
        self.position = position
    }
}

extension TOMLTable: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, TOMLValue)...) {
        self.init()
        for (k, v) in elements { set(v, for: k) }
    }
}

extension TOMLTable: Sequence {
    public func makeIterator() -> IndexingIterator<[(key: String, value: TOMLValue)]> {
        entries.makeIterator()
    }
}
