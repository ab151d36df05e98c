import WardenCore

/// Turns the bytes of a spool file into raw record objects, each with the line it starts
/// on, by the file's extension (SPEC.md §2): `.json` (one object or an array),
/// `.ndjson`/`.jsonl` (one object per line, blank lines skipped), `.csv` (orders, header
/// row, Taobao aliases). Record validation is `RecordParser`'s job; this only frames.
public enum SpoolFormat {
    public static let extensions = [".json", ".ndjson", ".jsonl", ".csv"]

    public static func isNDJSON(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl")
    }

    /// Each record's value, the line it starts on, and its JSON text as written (nil for
    /// CSV rows), which the store keeps as the record's body.
    public typealias Decoded = [(value: JSON, line: Int, raw: String?)]

    public static func decode(name: String, bytes: [UInt8], maxLine: Int = 1 << 20) -> Result<Decoded, RecordErrors> {
        let lower = name.lowercased()
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return .failure(RecordErrors([RecordError(message: "the file is empty; expected at least one record")]))
        }
        if lower.hasSuffix(".json") { return json(bytes) }
        if isNDJSON(name) { return ndjson(bytes, maxLine: maxLine) }
        if lower.hasSuffix(".csv") { return CSVOrders.decode(bytes).map { $0.map { ($0.value, $0.line, nil) } } }
        return .failure(
            RecordErrors([
                RecordError(message: "unsupported file type \"\(name)\"; expected a name ending in \(extensions.joined(separator: ", "))")
            ]))
    }

    static func json(_ bytes: [UInt8]) -> Result<Decoded, RecordErrors> {
        do {
            return .success(try JSONParser.parseTopLevel(bytes).map { ($0.value, $0.line, String(decoding: bytes[$0.span], as: UTF8.self)) })
        } catch {
            return .failure(RecordErrors([error.recordError()]))
        }
    }

    static func ndjson(_ bytes: [UInt8], maxLine: Int) -> Result<Decoded, RecordErrors> {
        var values: Decoded = []
        var errors: [RecordError] = []
        var lineNumber = 0
        var record = 0
        for split in LineReader.lines(in: bytes, maxLine: maxLine) {
            let line: ArraySlice<UInt8>
            switch split {
            case .tooLong(let number, let length):
                record += 1
                errors.append(RecordError(record: record, line: number, message: "line of \(length) bytes is over the \(maxLine)-byte limit ([spool] max_line)"))
                continue
            case .text(let text, let number):
                lineNumber = number
                line = text
            }
            if NDJSON.isBlank(line) { continue }
            record += 1
            do {
                values.append((try JSONParser.parse(line), lineNumber, String(decoding: line, as: UTF8.self)))
            } catch {
                errors.append(error.recordError(record: record, line: lineNumber))
            }
        }
        return errors.isEmpty ? .success(values) : .failure(RecordErrors(errors))
    }
}
