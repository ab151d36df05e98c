/// One problem with one record, as written to `NAME.error.json` and returned in
/// `data.errors` of a `1005` socket error: where it is (record index and line, both
/// 1-based) and what is wrong with which field.
public struct RecordError: Sendable, Equatable, Error, CustomStringConvertible {
    public var record: Int?
    public var line: Int?
    public var field: String?
    public var message: String

    public init(record: Int? = nil, line: Int? = nil, field: String? = nil, message: String) {
        self.record = record
        self.line = line
        self.field = field
        self.message = message
    }

    public var json: JSON {
        var o = JSONObject()
        if let record { o["record"] = JSON(record) }
        if let line { o["line"] = JSON(line) }
        if let field { o["field"] = .string(field) }
        o["message"] = .string(message)
        return .object(o)
    }

    public var description: String {
        var parts: [String] = []
        if let record { parts.append("record \(record)") }
        if let line { parts.append("line \(line)") }
        if let field { parts.append("field \(field)") }
        return (parts.isEmpty ? "" : parts.joined(separator: ", ") + ": ") + message
    }
}

/// All the problems found in a file or a `record.submit` call.
public struct RecordErrors: Error, Sendable, Equatable {
    public var errors: [RecordError]
    public init(_ errors: [RecordError]) { self.errors = errors }
}
