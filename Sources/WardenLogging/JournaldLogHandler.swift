import CSystemd
#if canImport(Glibc)
import Glibc
#endif
import Logging
import WardenCore

/// Logs through the native journal protocol (`sd_journal_sendv`), one entry per message
/// with structured fields:
///
/// - `MESSAGE`, `PRIORITY` (syslog levels), `SYSLOG_IDENTIFIER` (`wardend`),
///   `CODE_FILE`/`CODE_LINE`/`CODE_FUNC`;
/// - each metadata key as a field: `warden.case_id` → `WARDEN_CASE_ID`; keys outside the
///   `warden.` namespace get the `WARDEN_` prefix too, so every field Warden writes is
///   recognisably its own;
/// - `MESSAGE_ID` from the `warden.event` value, for the events with a catalog entry.
///
/// If the journal refuses an entry (a full queue, a stopped journald), the line goes to
/// stderr instead: a log line is never dropped silently.
public struct JournaldLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let identifier: String
    let messageIDs: [String: String]

    /// The socket journald listens on; its absence means "no journald".
    public static let socketPath = "/run/systemd/journal/socket"

    public static var isAvailable: Bool { SystemIO.exists(socketPath) }

    public init(identifier: String, level: Logger.Level = .info, messageIDs: [String: String] = [:]) {
        self.identifier = identifier
        self.logLevel = level
        self.messageIDs = messageIDs
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var fields: [String] = [
            "MESSAGE=\(event.message)",
            "PRIORITY=\(StderrLogHandler.priority(event.level))",
            "SYSLOG_IDENTIFIER=\(identifier)",
            "CODE_FILE=\(event.file)",
            "CODE_LINE=\(event.line)",
            "CODE_FUNC=\(event.function)",
        ]
        // Every entry carries WARDEN_EVENT (library messages too): `log` when unnamed.
        if merged["warden.event"] == nil { merged["warden.event"] = "log" }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            fields.append("\(Self.fieldName(key))=\(value)")
        }
        if case .string(let name)? = merged["warden.event"], let id = messageIDs[name] {
            fields.append("MESSAGE_ID=\(id)")
        }
        if Self.send(fields) < 0 {
            StderrLogHandler(label: identifier, level: logLevel, priorityPrefix: true).log(event: event)
        }
    }

    /// A journal field name for a metadata key: upper case, `[A-Z0-9_]`, `WARDEN_` first.
    public static func fieldName(_ key: String) -> String {
        let stripped = key.hasPrefix("warden.") ? String(key.dropFirst("warden.".count)) : key
        if stripped.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII (every key Warden writes): byte by byte, no Unicode case mapping.
            var out = Array("WARDEN_".utf8)
            for b in stripped.utf8 {
                switch b {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): out.append(b - 0x20)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): out.append(b)
                default: out.append(UInt8(ascii: "_"))
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        let upper = stripped.uppercased().map { c -> Character in
            (c.isASCII && (c.isLetter || c.isNumber)) ? c : "_"
        }
        return "WARDEN_" + String(upper)
    }

    /// Sends `KEY=value` fields as one entry; values may hold any bytes, newlines too.
    static func send(_ fields: [String]) -> Int32 {
        var buffer: [UInt8] = []
        var ranges: [(Int, Int)] = []
        for f in fields {
            let start = buffer.count
            buffer.append(contentsOf: f.utf8)
            ranges.append((start, buffer.count - start))
        }
        return buffer.withUnsafeMutableBytes { raw -> Int32 in
            var vectors = ranges.map { iovec(iov_base: raw.baseAddress! + $0.0, iov_len: $0.1) }
            return sd_journal_sendv(&vectors, Int32(vectors.count))
        }
    }
}

/// Sends each entry to every handler (the journal, and stderr when a person is watching).
public struct FanOutLogHandler: LogHandler {
    var handlers: [any LogHandler]

    public init(_ handlers: [any LogHandler]) { self.handlers = handlers }

    public var logLevel: Logger.Level {
        get { handlers.map(\.logLevel).min() ?? .info }
        set { for i in handlers.indices { handlers[i].logLevel = newValue } }
    }

    public var metadata: Logger.Metadata {
        get { handlers.first?.metadata ?? [:] }
        set { for i in handlers.indices { handlers[i].metadata = newValue } }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { handlers.first?[metadataKey: key] }
        set { for i in handlers.indices { handlers[i][metadataKey: key] = newValue } }
    }

    public func log(event: LogEvent) {
        for h in handlers where event.level >= h.logLevel { h.log(event: event) }
    }
}
