/// A parameter a policy takes from `[policies.<id>]`, with its RULES.md default.
public struct ParameterSpec: Sendable {
    public enum Kind: String, Sendable {
        case duration, money, integer, bool
    }

    public var name: String
    public var kind: Kind
    public var defaultValue: ParameterValue
    public var summary: String

    public init(name: String, kind: Kind, defaultValue: ParameterValue, summary: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.summary = summary
    }

    /// Interprets a config value; the error says what would be accepted.
    public func interpret(_ raw: RawParameter) -> Result<ParameterValue, ParameterError> {
        switch (kind, raw) {
        case (.duration, .string(let s)):
            if let span = TimeSpan.parse(s), span.milliseconds > 0 { return .success(.duration(span)) }
            return .failure(ParameterError("\"\(s)\" is not a duration; expected e.g. \"24h\", \"90m\", \"1h30m\""))
        case (.money, .string(let s)):
            if let m = Money(parsing: s), m.fen >= 0 { return .success(.money(m)) }
            return .failure(ParameterError("\"\(s)\" is not an amount; expected a decimal string like \"10.00\""))
        case (.integer, .integer(let i)):
            if i >= 0 { return .success(.integer(i)) }
            return .failure(ParameterError("must not be negative"))
        case (.bool, .bool(let b)):
            return .success(.bool(b))
        default:
            let expected: String =
                switch kind {
                case .duration: "a duration string like \"24h\""
                case .money: "a decimal string like \"10.00\""
                case .integer: "an integer"
                case .bool: "true or false"
                }
            return .failure(ParameterError("expected \(expected), got \(raw.kindName)"))
        }
    }
}

public struct ParameterError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
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

    /// As shown by `policy.list`: durations and money as the strings the config takes.
    public var json: JSON {
        switch self {
        case .duration(let d): .string(d.description)
        case .money(let m): .string(m.description)
        case .integer(let i): JSON(i)
        case .bool(let b): .bool(b)
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

    public func duration(_ name: String) -> TimeSpan {
        guard case .duration(let d) = self[name] else { preconditionFailure("parameter \(name) is not a declared duration") }
        return d
    }

    public func money(_ name: String) -> Money {
        guard case .money(let m) = self[name] else { preconditionFailure("parameter \(name) is not a declared amount") }
        return m
    }

    public func integer(_ name: String) -> Int {
        guard case .integer(let i) = self[name] else { preconditionFailure("parameter \(name) is not a declared integer") }
        return i
    }

    public var json: JSON { .object(JSONObject(values.map { ($0.name, $0.value.json) })) }
}
