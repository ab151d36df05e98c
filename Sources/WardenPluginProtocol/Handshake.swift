import WardenCore

/// The external module protocol (SPEC.md §6), version 1: what the daemon sends and
/// how it reads what a module answers. Pure: no processes, no I/O, so every reader here
/// is fuzzed and table-tested on its own.
///
/// Trusts nothing a module writes: every answer is checked field by field, with sizes
/// bounded, and an error names the field that is wrong.
public enum PluginProtocol {
    public static let version = 1
    /// The longest line a module may write on stdout (an `evaluate` answer).
    public static let maxLine = 16 << 20
    /// Inputs per `evaluate` call.
    public static let maxBatch = 64
    /// Decisions per input.
    public static let maxDecisions = 1000
    /// The longest text field (note, message) in a decision, in bytes.
    public static let maxText = 4096
}

/// A protocol error in what a module wrote, naming where.
public struct PluginProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What a module says about itself in its `initialize` answer.
public struct PluginDeclaration: Sendable, Equatable {
    public var name: String
    public var version: String
    public var categories: [String]
    public var recordTypes: [RecordDeclaration]
    public var parameters: [ParameterSpec]

    public init(name: String, version: String, categories: [String], recordTypes: [RecordDeclaration], parameters: [ParameterSpec]) {
        self.name = name
        self.version = version
        self.categories = categories
        self.recordTypes = recordTypes
        self.parameters = parameters
    }

    public static func == (a: PluginDeclaration, b: PluginDeclaration) -> Bool {
        a.name == b.name && a.version == b.version && a.categories == b.categories && a.recordTypes == b.recordTypes
            && a.parameters.map(\.name) == b.parameters.map(\.name)
    }

    /// As a module answers `initialize` (what `parse` reads back).
    public var json: JSON {
        [
            "protocol": JSON(PluginProtocol.version), "name": .string(name), "version": .string(version),
            "categories": .array(categories.map(JSON.string)), "record_types": .array(recordTypes.map(\.json)),
            "parameters": .array(parameters.map { p in
                var o: JSONObject = ["name": .string(p.name), "kind": .string(p.kind.specName), "summary": .string(p.summary)]
                if !p.isRequired { o["default"] = p.defaultValue.json }
                return .object(o)
            }),
        ]
    }

    /// The `initialize` request's params.
    public static func initializeParams(module: String, parameters: JSONObject, timezone: String, wardenVersion: String) -> JSON {
        [
            "protocol": JSON(PluginProtocol.version), "module": .string(module), "parameters": .object(parameters),
            "timezone": .string(timezone), "warden_version": .string(wardenVersion),
        ]
    }

    /// Reads an `initialize` result for module `module`.
    public static func parse(_ result: JSON, module: String) -> Result<PluginDeclaration, PluginProtocolError> {
        func fail(_ m: String) -> Result<PluginDeclaration, PluginProtocolError> { .failure(PluginProtocolError("initialize: " + m)) }
        guard case .object(let o) = result else { return fail("the result must be an object, got \(result.kindName)") }
        guard let p = o["protocol"] else { return fail("\"protocol\" is missing; Warden speaks protocol \(PluginProtocol.version)") }
        guard p.int == PluginProtocol.version else {
            return fail("the module speaks protocol \(JSONWriter.string(p).prefix(40)); Warden speaks protocol \(PluginProtocol.version)")
        }
        guard case .string(let name)? = o["name"], !name.isEmpty, name.utf8.count <= 128 else { return fail("\"name\" must be a non-empty string (at most 128 bytes)") }
        guard case .string(let version)? = o["version"], !version.isEmpty, version.utf8.count <= 64 else {
            return fail("\"version\" must be a non-empty string (at most 64 bytes)")
        }
        // A module may own no category (a shop-wide one that reads only its own record
        // types, as service quality does).
        guard case .array(let cats)? = o["categories"], cats.count <= 256 else {
            return fail("\"categories\" must be a list of at most 256 category names")
        }
        var categories: [String] = []
        for c in cats {
            guard case .string(let s) = c, !s.isEmpty, s.utf8.count <= RecordParser.maxIdLength, !s.contains(where: \.isNewline) else {
                return fail("category \(JSONWriter.string(c).prefix(80)) is not a category name")
            }
            guard !categories.contains(s) else { return fail("category \"\(s)\" is listed twice") }
            categories.append(s)
        }
        var recordTypes: [RecordDeclaration] = []
        if let rt = o["record_types"], !rt.isNull {
            guard case .array(let list) = rt, list.count <= 64 else { return fail("\"record_types\" must be a list of at most 64 declarations") }
            for (i, value) in list.enumerated() {
                switch RecordDeclaration.parse(value, module: module) {
                case .success(let d):
                    guard !recordTypes.contains(where: { $0.type == d.type }) else { return fail("record_types[\(i)]: type \"\(d.type)\" is declared twice") }
                    recordTypes.append(d)
                case .failure(let e): return fail("record_types[\(i)]: \(e.message)")
                }
            }
        }
        var parameters: [ParameterSpec] = []
        if let ps = o["parameters"], !ps.isNull {
            guard case .array(let list) = ps, list.count <= 256 else { return fail("\"parameters\" must be a list of at most 256 declarations") }
            for (i, value) in list.enumerated() {
                switch parameter(value) {
                case .success(let spec):
                    guard !parameters.contains(where: { $0.name == spec.name }) else { return fail("parameters[\(i)]: \"\(spec.name)\" is declared twice") }
                    parameters.append(spec)
                case .failure(let e): return fail("parameters[\(i)]: \(e.message)")
                }
            }
        }
        return .success(PluginDeclaration(name: name, version: version, categories: categories, recordTypes: recordTypes, parameters: parameters))
    }

    /// Config keys of `[policies.<id>]` that are Warden's, not parameters.
    public static let reservedKeys: Set<String> = ["enabled", "exec", "args", "timeout"]

    static func parameter(_ value: JSON) -> Result<ParameterSpec, PluginProtocolError> {
        func fail(_ m: String) -> Result<ParameterSpec, PluginProtocolError> { .failure(PluginProtocolError(m)) }
        guard case .object(let o) = value else { return fail("expected an object {name, kind, default?, summary}") }
        guard case .string(let name)? = o["name"], RecordDeclaration.isName(name) else {
            return fail("\"name\" must be lower-case letters, digits, '-' and '_' (at most \(RecordDeclaration.maxNameLength))")
        }
        guard !reservedKeys.contains(name) else { return fail("\"\(name)\" is one of Warden's own keys (enabled, exec, args, timeout)") }
        guard case .string(let kindName)? = o["kind"], let kind = ParameterSpec.Kind(specName: kindName) else {
            return fail("\(name): \"kind\" must be one of string, integer, boolean, money, duration, time")
        }
        var summary = ""
        if let s = o["summary"], !s.isNull {
            guard case .string(let text) = s, text.utf8.count <= PluginProtocol.maxText else { return fail("\(name): \"summary\" must be a string") }
            summary = text
        }
        let range = Int(-RecordParser.maxCount)...RecordParser.maxCount
        var spec = ParameterSpec(name: name, kind: kind, defaultValue: .bool(false), summary: summary, range: range)
        if let d = o["default"], !d.isNull {
            guard let raw = RawParameter(json: d) else { return fail("\(name): \"default\" must be a string, an integer or a boolean") }
            switch spec.interpret(raw) {
            case .success(let v): spec.defaultValue = v
            case .failure(let e): return fail("\(name): default: \(e.message)")
            }
        } else {
            spec.isRequired = true
        }
        return .success(spec)
    }
}

extension RawParameter {
    /// A JSON value as a config value would be (strings, integers, booleans).
    public init?(json: JSON) {
        switch json {
        case .string(let s): self = .string(s)
        case .bool(let b): self = .bool(b)
        case .number(let n):
            if let i = json.int { self = .integer(i) } else if n.isFinite { self = .double(n) } else { return nil }
        default: return nil
        }
    }

    /// As sent to a module in `initialize`.
    public var json: JSON {
        switch self {
        case .string(let s): .string(s)
        case .integer(let i): JSON(i)
        case .double(let d): .number(d)
        case .bool(let b): .bool(b)
        }
    }
}
