/// The rules every NDJSON reader follows (the spool's streaming and in-memory readers,
/// the parse-ahead thread, `wardenctl submit`): lines end with `\n`, a `\r` before it is
/// dropped, and a blank line is skipped without counting as a record.
public enum NDJSON {
    /// Whether a line (without its line end) is blank: empty, or spaces and tabs only.
    public static func isBlank(_ line: some Collection<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }
}
