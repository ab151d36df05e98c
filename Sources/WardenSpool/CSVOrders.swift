import WardenCore

/// Orders in CSV (RFC 4180: comma-separated, `"`-quoted fields with `""` escapes, CRLF or
/// LF). The header row names the columns: `order_id,category,item,paid_amount,paid_at,
/// ship_by,delivery_service,shop` and optionally `shipped_at`, or the Taobao Open Platform
/// names `tid`, `payment`, `pay_time`, `consign_time`. Each row becomes an `order` record
/// whose values are strings; an empty cell is an absent field; columns Warden does not
/// know are kept as unknown fields.
enum CSVOrders {
    static func decode(_ bytes: [UInt8]) -> Result<[(value: JSON, line: Int)], RecordErrors> {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(RecordErrors([RecordError(message: "the file is not valid UTF-8")]))
        }
        let rows: [(fields: [String], line: Int)]
        switch parse(text) {
        case .success(let r): rows = r
        case .failure(let e): return .failure(RecordErrors([e]))
        }
        guard let header = rows.first else {
            return .failure(RecordErrors([RecordError(message: "no header row")]))
        }
        let columns = header.fields.map { String($0.trimmingSpaces) }
        var errors: [RecordError] = []
        if let dup = Dictionary(grouping: columns, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            errors.append(RecordError(line: header.line, field: dup, message: "column appears twice in the header"))
        }
        var values: [(value: JSON, line: Int)] = []
        for (index, row) in rows.dropFirst().enumerated() {
            if row.fields.count == 1 && row.fields[0].isEmpty { continue }
            guard row.fields.count == columns.count else {
                errors.append(RecordError(record: index + 1, line: row.line, message: "\(row.fields.count) fields, but the header has \(columns.count)"))
                continue
            }
            var object = JSONObject()
            object["type"] = "order"
            for (column, value) in zip(columns, row.fields) where !value.isEmpty && column != "type" {
                object[column] = .string(value)
            }
            values.append((.object(object), row.line))
        }
        return errors.isEmpty ? .success(values) : .failure(RecordErrors(errors))
    }

    /// Splits CSV text into rows of fields with the line each row starts on.
    static func parse(_ text: String) -> Result<[(fields: [String], line: Int)], RecordError> {
        var rows: [(fields: [String], line: Int)] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var line = 1
        var rowLine = 1
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var i = 0
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            let c = bytes[i]
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(c)
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == 0x0A { line += 1 }
                    field.append(c)
                }
            } else {
                switch c {
                case UInt8(ascii: "\""):
                    guard field.isEmpty else {
                        return .failure(RecordError(line: line, message: "a quote inside an unquoted field; quote the whole field"))
                    }
                    inQuotes = true
                case UInt8(ascii: ","): endField()
                case 0x0D where i + 1 < bytes.count && bytes[i + 1] == 0x0A: break
                case 0x0A:
                    endField()
                    rows.append((fields, rowLine))
                    fields = []
                    line += 1
                    rowLine = line
                default: field.append(c)
                }
            }
            i += 1
        }
        if inQuotes { return .failure(RecordError(line: rowLine, message: "unterminated quoted field")) }
        if !field.isEmpty || !fields.isEmpty {
            endField()
            rows.append((fields, rowLine))
        }
        return .success(rows)
    }
}
