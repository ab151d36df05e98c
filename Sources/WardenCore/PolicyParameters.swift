/// A parameter a policy takes from `[policies.<id>]`, with its RULES.md default and the
/// range of values the rules can use (a value outside it is a config error, so no rule
/// ever computes with an absurd window or threshold).
public struct ParameterSpec: Sendable {
    public enum Kind: String, Sendable {
        case duration, money, integer, bool, string, time

        /// The kind named as SPEC.md §6 names it (`boolean` for `bool`).
        public init?(specName: String) {
            switch specName {
            case "boolean": self = .bool
            case "bool": return nil
            default: self.init(rawValue: specName)
            }
        }

        public var specName: String { self == .bool ? "boolean" : rawValue }
    }

    public var name: String
    public var kind: Kind
    public var defaultValue: ParameterValue
    public var summary: String
    /// The values an `integer` parameter accepts.
    public var integerRange: ClosedRange<Int>
    /// A parameter without a default (an external module's): the config must set it.
    public var isRequired = false

    /// The longest duration a parameter may set: ten years.
    public static let maxDuration = TimeSpan.days(3650)
    /// The longest string parameter, in bytes.
    public static let maxString = 4096

    public init(name: String, kind: Kind, defaultValue: ParameterValue, summary: String, range: ClosedRange<Int> = 0...1_000_000) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.summary = summary
        self.integerRange = range
    }

    /// Interprets a config value; the error says what would be accepted.
    public func interpret(_ raw: RawParameter) -> Result<ParameterValue, ParameterError> {
        switch (kind, raw) {
        case (.duration, .string(let s)):
            guard let span = TimeSpan.parse(s), span.milliseconds > 0 else {
                return .failure(ParameterError("\"\(s)\" is not a duration; expected e.g. \"24h\", \"90m\", \"1h30m\""))
            }
            guard span <= Self.maxDuration else {
                return .failure(ParameterError("\"\(s)\" is longer than the longest duration accepted (\(Self.maxDuration))"))
            }
            return .success(.duration(span))
        case (.money, .string(let s)):
            guard let m = Money(parsing: s), m.fen >= 0 else {
                return .failure(ParameterError("\"\(s)\" is not an amount; expected a decimal string like \"10.00\""))
            }
            guard m <= Money.maximum else {
                return .failure(ParameterError("\"\(s)\" is over the largest amount accepted (\(Money.maximum))"))
            }
            return .success(.money(m))
        case (.integer, .integer(let i)):
            if integerRange.contains(i) { return .success(.integer(i)) }
            return .failure(ParameterError("\(i) is out of range; expected \(integerRange.lowerBound) to \(integerRange.upperBound)"))
        case (.bool, .bool(let b)):
            return .success(.bool(b))
        case (.string, .string(let s)):
            guard s.utf8.count <= Self.maxString else {
                return .failure(ParameterError("longer than \(Self.maxString) bytes"))
            }
            return .success(.string(s))
        case (.time, .string(let s)):
            guard let t = TimeFormat.parse(s, defaultZone: .utc), RecordParser.timeRange.contains(t) else {
                return .failure(ParameterError("\"\(s)\" is not a time; expected RFC 3339, e.g. \"2023-04-05T09:30:00+08:00\""))
            }
            return .success(.time(t))
        default:
            let expected: String =
                switch kind {
                case .duration: "a duration string like \"24h\""
                case .money: "a decimal string like \"10.00\""
                case .integer: "an integer"
                case .bool: "true or false"
                case .string: "a string"
                case .time: "an RFC 3339 time string"
                }
            return .failure(ParameterError("expected \(expected), got \(raw.kindName)"))
        }
    }
}

public struct ParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A config value before a policy interprets it (the config adapter produces these, so
/// the core never sees TOML).
public enum RawParameter: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case double(Double)
    case bool(Bool)

    public var kindName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .double: "a float"
        case .bool: "a boolean"
        }
    }
}

public enum ParameterValue: Sendable, Equatable {
    case duration(TimeSpan)
    case money(Money)
    case integer(Int)
    case bool(Bool)
    case string(String)
    case time(Timestamp)

    /// As shown by `policy.list`: durations and money as the strings the config takes.
    public var json: JSON {
        switch self {
        case .duration(let d): .string(d.description)
        case .money(let m): .string(m.description)
        case .integer(let i): JSON(i)
        case .bool(let b): .bool(b)
        case .string(let s): .string(s)
        case .time(let t): .string(TimeFormat.format(t, in: .utc))
        }
    }
}

/// The effective parameters of one loaded policy: config values over defaults.
public struct PolicyParameters: Sendable, Equatable {
    public var values: [(name: String, value: ParameterValue)]

    public init(values: [(name: String, value: ParameterValue)]) { self.values = values }

    public static func == (lhs: PolicyParameters, rhs: PolicyParameters) -> Bool {
        lhs.values.map(\.name) == rhs.values.map(\.name) && lhs.values.map(\.value) == rhs.values.map(\.value)
    }

    public subscript(name: String) -> ParameterValue? { values.first { $0.name == name }?.value }

    // Typed accessors for a module's `make`: a name the module did not declare, or
    // declared with another kind, is the module's bug, reported as an error (the registry
    // marks the module failed with it) rather than a crash of the daemon.

    public func duration(_ name: String) throws(ParameterError) -> TimeSpan {
        guard case .duration(let d) = try value(name, "a duration") else { throw mismatch(name, "a duration") }
        return d
    }

    public func money(_ name: String) throws(ParameterError) -> Money {
        guard case .money(let m) = try value(name, "an amount") else { throw mismatch(name, "an amount") }
        return m
    }

    public func integer(_ name: String) throws(ParameterError) -> Int {
        guard case .integer(let i) = try value(name, "an integer") else { throw mismatch(name, "an integer") }
        return i
    }

    public func bool(_ name: String) throws(ParameterError) -> Bool {
        guard case .bool(let b) = try value(name, "a boolean") else { throw mismatch(name, "a boolean") }
        return b
    }

    private func value(_ name: String, _ kind: String) throws(ParameterError) -> ParameterValue {
        guard let v = self[name] else {
            throw ParameterError("the module asked for parameter \"\(name)\" (\(kind)), which it does not declare; declared: \(values.map(\.name).joined(separator: ", "))")
        }
        return v
    }

    private func mismatch(_ name: String, _ kind: String) -> ParameterError {
        ParameterError("the module asked for parameter \"\(name)\" as \(kind), but declares it as another kind")
    }

    public var json: JSON { .object(JSONObject(values.map { ($0.name, $0.value.json) })) }
}
