/// A record type a policy module declares and owns, beyond the core's (SPEC.md §6
/// `record_types`): its key fields and typed fields. The core validates records of the
/// type from this alone, as it validates its own types, and routes them to the module.
///
/// Trusts nothing: a declaration from an external module is checked by
/// `RecordDeclaration.parse` (names, kinds, key fields required and declared) before
/// the core uses it.
public struct RecordDeclaration: Sendable, Equatable {
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case string, integer, boolean, money, duration, time, id
        case enumeration([String])
        // Warden's own kinds, beyond SPEC.md §6's: a non-negative integer (up to
        // `RecordParser.maxCount`), a number from 0 to 1, a month `YYYY-MM`.
        case count, fraction, month

        public init?(_ name: String) {
            switch name {
            case "string": self = .string
            case "integer": self = .integer
            case "boolean": self = .boolean
            case "money": self = .money
            case "duration": self = .duration
            case "time": self = .time
            case "id": self = .id
            case "count": self = .count
            case "fraction": self = .fraction
            case "month": self = .month
            default:
                guard name.hasPrefix("enum:") else { return nil }
                let values = name.dropFirst(5).split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                guard !values.isEmpty, values.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 64 }), Set(values).count == values.count else { return nil }
                self = .enumeration(values)
            }
        }

        public var description: String {
            switch self {
            case .string: "string"
            case .integer: "integer"
            case .boolean: "boolean"
            case .money: "money"
            case .duration: "duration"
            case .time: "time"
            case .id: "id"
            case .count: "count"
            case .fraction: "fraction"
            case .month: "month"
            case .enumeration(let values): "enum:" + values.joined(separator: "|")
            }
        }
    }

    public struct Field: Sendable, Equatable {
        public var kind: Kind
        public var required: Bool
        /// Other names the field may be given (a built-in module's; e.g. Taobao's `tid`).
        public var aliases: [String]
        public init(kind: Kind, required: Bool, aliases: [String] = []) {
            self.kind = kind
            self.required = required
            self.aliases = aliases
        }
    }

    /// A check across fields that the kinds cannot say (a built-in module's; e.g.
    /// satisfied ratings no more than ratings): the errors, each naming its field.
    public typealias CrossCheck = @Sendable (JSONObject, Zone) -> [(field: String, message: String)]

    public var type: RecordType
    /// The module that declared it (and receives its records).
    public var module: String
    /// The fields whose values, joined with `|`, identify a record of the type.
    public var key: [String]
    /// By name, sorted.
    public var fields: [(name: String, field: Field)]
    /// Run once every field is valid (not part of the JSON form; not compared).
    public var crossCheck: CrossCheck?

    public init(type: RecordType, module: String, key: [String], fields: [(name: String, field: Field)], crossCheck: CrossCheck? = nil) {
        self.type = type
        self.module = module
        self.key = key
        self.fields = fields.sorted { $0.name < $1.name }
        self.crossCheck = crossCheck
    }

    public static func == (a: RecordDeclaration, b: RecordDeclaration) -> Bool {
        a.type == b.type && a.module == b.module && a.key == b.key && a.fields.map(\.name) == b.fields.map(\.name)
            && a.fields.map(\.field) == b.fields.map(\.field)
    }

    public func field(_ name: String) -> Field? { fields.first { $0.name == name }?.field }

    /// Limits on what a declaration may ask for.
    public static let maxFields = 128
    public static let maxNameLength = 64

    /// A type or field name: lower-case ASCII letters, digits, `-` and `_`, starting
    /// with a letter.
    public static func isName(_ s: String) -> Bool {
        guard let first = s.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), s.utf8.count <= maxNameLength else { return false }
        return s.utf8.allSatisfy { c in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
        }
    }

    /// Reads one declaration as SPEC.md §6 writes it: `{type, key: [field..], fields:
    /// {name: {kind, required}}}`. The error names what is wrong.
    public static func parse(_ value: JSON, module: String) -> Result<RecordDeclaration, ParameterError> {
        func fail(_ m: String) -> Result<RecordDeclaration, ParameterError> { .failure(ParameterError(m)) }
        guard case .object(let o) = value else { return fail("a record type must be an object {type, key, fields}, got \(value.kindName)") }
        guard case .string(let name)? = o["type"], isName(name) else {
            return fail("record type: \"type\" must be a name of lower-case letters, digits, '-' and '_' (at most \(maxNameLength))")
        }
        let type = RecordType(name)
        guard !type.isBuiltin else { return fail("record type \"\(name)\" is one of Warden's own types; a module declares only new ones") }
        guard case .object(let fieldsObject)? = o["fields"], !fieldsObject.isEmpty else {
            return fail("record type \"\(name)\": \"fields\" must be a non-empty object {name: {kind, required}}")
        }
        guard fieldsObject.count <= maxFields else { return fail("record type \"\(name)\": more than \(maxFields) fields") }
        var fields: [(name: String, field: Field)] = []
        for (fieldName, spec) in fieldsObject.pairs {
            guard isName(fieldName), fieldName != "type" else {
                return fail("record type \"\(name)\": field \"\(fieldName)\" is not a valid field name (\"type\" is reserved)")
            }
            guard case .object(let s) = spec, case .string(let kindName)? = s["kind"], let kind = Kind(kindName) else {
                return fail("record type \"\(name)\": field \"\(fieldName)\" needs {\"kind\": one of string, integer, boolean, money, duration, time, id, enum:a|b|c}")
            }
            var required = false
            if let r = s["required"] {
                guard case .bool(let b) = r else { return fail("record type \"\(name)\": field \"\(fieldName)\": \"required\" must be true or false") }
                required = b
            }
            // Warden's own: other names the field may be given (e.g. Taobao's `tid`).
            var aliases: [String] = []
            if let a = s["aliases"], !a.isNull {
                guard case .array(let list) = a, list.count <= 8, list.allSatisfy({ $0.string.map(isName) == true }) else {
                    return fail("record type \"\(name)\": field \"\(fieldName)\": \"aliases\" must be a list of at most 8 field names")
                }
                aliases = list.compactMap(\.string)
            }
            fields.append((fieldName, Field(kind: kind, required: required, aliases: aliases)))
        }
        let names = fields.map(\.name)
        if let clash = fields.flatMap(\.field.aliases).first(where: { names.contains($0) || $0 == "type" }) {
            return fail("record type \"\(name)\": alias \"\(clash)\" is also a field name")
        }
        guard case .array(let keyValues)? = o["key"], !keyValues.isEmpty, keyValues.count <= 8 else {
            return fail("record type \"\(name)\": \"key\" must be a list of one to eight of its fields")
        }
        var key: [String] = []
        for k in keyValues {
            guard case .string(let f) = k, let field = fields.first(where: { $0.name == f })?.field else {
                return fail("record type \"\(name)\": key field \(k) is not one of its fields")
            }
            guard field.required else { return fail("record type \"\(name)\": key field \"\(f)\" must be required") }
            guard !key.contains(f) else { return fail("record type \"\(name)\": key field \"\(f)\" is listed twice") }
            key.append(f)
        }
        return .success(RecordDeclaration(type: type, module: module, key: key, fields: fields))
    }

    /// As `policy.list` and `initialize` write it.
    public var json: JSON {
        var fieldsObject = JSONObject()
        for (name, field) in fields {
            var f: JSONObject = ["kind": .string(field.kind.description), "required": .bool(field.required)]
            if !field.aliases.isEmpty { f["aliases"] = .array(field.aliases.map(JSON.string)) }
            fieldsObject[name] = .object(f)
        }
        return ["type": .string(type.rawValue), "key": .array(key.map(JSON.string)), "fields": .object(fieldsObject)]
    }
}

/// A record of a declared type, validated: the module it goes to and the fields the core
/// reads for routing (`order_id`, `complaint_id`, `shop`, if the type declares them).
public struct DeclaredRecord: Sendable, Equatable {
    public var module: String
    public var orderId: String?
    public var complaintId: String?
    public var shop: String?
    /// The time the record speaks of (see `RecordParser.declared`).
    public var at: Timestamp?
    /// Its `time` fields (and the first instant of its `month` fields), read in the
    /// daemon's zone: modules take times from here, not from the raw text.
    public var times: [String: Timestamp]

    public init(module: String, orderId: String? = nil, complaintId: String? = nil, shop: String? = nil, at: Timestamp? = nil, times: [String: Timestamp] = [:]) {
        self.module = module
        self.orderId = orderId
        self.complaintId = complaintId
        self.shop = shop
        self.at = at
        self.times = times
    }
}

extension RecordParser {
    /// Validates a record of a declared type.
    static func declared(_ r: inout FieldReader, _ declaration: RecordDeclaration) -> (String, Record.Payload)? {
        var keyParts: [String: String] = [:]
        var times: [String: Timestamp] = [:]
        var record = DeclaredRecord(module: declaration.module)
        for (name, field) in declaration.fields {
            let required = field.required
            let present = ([name] + field.aliases).contains { r.object[$0].map { !$0.isNull } == true }
            var part: String?
            switch field.kind {
            case .id:
                if required || present { part = r.id(name, aliases: field.aliases) }
            case .string:
                part = r.string(name, required: required)
                if let s = part, s.utf8.count > RecordParser.maxDeclaredString {
                    r.errors.append((name, "longer than \(RecordParser.maxDeclaredString) bytes"))
                }
            case .integer:
                part = r.integer(name, required: required).map(String.init)
            case .count:
                part = r.count(name, required: required).map(String.init)
            case .fraction:
                if required && !present { r.errors.append((name, "missing required field")) }
                part = r.fraction(name).map { "\($0)" }
            case .boolean:
                part = r.bool(name, required: required).map { $0 ? "true" : "false" }
            case .money:
                part = r.money(name, aliases: field.aliases, required: required).map(\.description)
            case .duration:
                part = r.duration(name, required: required).map { "\($0.milliseconds)" }
            case .time:
                let t = r.time(name, aliases: field.aliases, required: required)
                part = t.map { "\($0.milliseconds)" }
                if let t { times[name] = t }
            case .month:
                if let m = r.string(name, required: required) {
                    let parts = m.split(separator: "-")
                    // A month of the years records may name (1970–9999), as times
                    // (fuzz finding: "1011-04" gave a time before 1970).
                    if RecordParser.isMonth(m), let year = Int(parts[0]), (1970...9999).contains(year) {
                        part = m
                        times[name] = TimeFormat.instant(year: year, month: Int(parts[1])!, day: 1, in: r.zone)
                    } else {
                        r.errors.append((name, "\"\(m)\" is not a month from 1970-01 to 9999-12; expected YYYY-MM"))
                    }
                }
            case .enumeration(let values):
                if let s = r.string(name, required: required) {
                    if values.contains(s) {
                        part = s
                    } else {
                        r.errors.append((name, "\"\(s)\" is not one of \(values.map { "\"\($0)\"" }.joined(separator: ", "))"))
                    }
                }
            }
            if let part { keyParts[name] = part }
            guard let value = part else { continue }
            switch (name, field.kind) {
            case ("order_id", .id): record.orderId = value
            case ("complaint_id", .id): record.complaintId = value
            case ("shop", .id), ("shop", .string): record.shop = value
            default: break
            }
        }
        guard r.errors.isEmpty else { return nil }
        if let check = declaration.crossCheck {
            // Aliases resolved: the check reads each field by its own name.
            var object = r.object
            for (name, field) in declaration.fields where object[name] == nil {
                if let alias = field.aliases.first(where: { object[$0] != nil }) { object[name] = object[alias] }
            }
            r.errors += check(object, r.zone).map { (field: Optional($0.field), message: $0.message) }
            guard r.errors.isEmpty else { return nil }
        }
        // The time the record speaks of: its first time (or month) key field, else its
        // first required one by name.
        record.times = times
        record.at = declaration.key.lazy.compactMap { times[$0] }.first
            ?? declaration.fields.lazy.filter { $0.field.required }.compactMap { times[$0.name] }.first
        let key = declaration.key.map { keyParts[$0] ?? "" }.joined(separator: "|")
        return (key, .declared(record))
    }

    /// The longest value of a declared `string` field, in bytes.
    public static let maxDeclaredString = 65_536
}

extension FieldReader {
    /// An integer from −`RecordParser.maxCount` to `RecordParser.maxCount`.
    mutating func integer(_ name: String, required: Bool) -> Int? {
        guard let value = object[name], !value.isNull else {
            if required { errors.append((name, "missing required field")) }
            return nil
        }
        guard let i = value.int else {
            errors.append((name, "expected an integer, got \(value)"))
            return nil
        }
        guard i >= -RecordParser.maxCount, i <= RecordParser.maxCount else {
            errors.append((name, "\(i) is outside ±\(RecordParser.maxCount), the integers records may carry"))
            return nil
        }
        return i
    }

    /// A duration string such as `"48h"`, up to ten years.
    mutating func duration(_ name: String, required: Bool) -> TimeSpan? {
        guard let value = object[name], !value.isNull else {
            if required { errors.append((name, "missing required field")) }
            return nil
        }
        guard case .string(let s) = value, let span = TimeSpan.parse(s), span.milliseconds >= 0, span <= ParameterSpec.maxDuration else {
            errors.append((name, "\(value) is not a duration; expected e.g. \"24h\", \"90m\", \"1h30m\" (up to 3650d)"))
            return nil
        }
        return span
    }
}

extension RecordParser {
    /// Evidence items (`[{kind, ref, sha256?, registered_at?}]`) as an `evidence`
    /// record's `items` is read; the first error names its field.
    public func evidenceItems(_ value: JSON) -> Result<[EvidenceItem], RecordError> {
        var reader = FieldReader(object: ["items": value], zone: zone)
        let items = reader.evidenceItems("items")
        if let e = reader.errors.first { return .failure(RecordError(record: nil, line: nil, field: e.field, message: e.message)) }
        return .success(items ?? [])
    }
}

extension Record {
    /// A declared record's parsed time field.
    public func time(_ field: String) -> Timestamp? {
        if case .declared(let d) = payload { return d.times[field] }
        return nil
    }
}
