#if canImport(Glibc)
import Glibc
#endif
import Logging
import WardenCore

/// Logs one line per message to stderr. Under systemd (stderr not a terminal) each line
/// starts with the sd-daemon priority prefix (`<3>`), which journald turns into
/// `PRIORITY=`; on a terminal it reads `error: message key=value`. Metadata is appended
/// as `key=value`, sorted, values quoted when they contain spaces.
///
/// Metadata keys follow the `warden.*` convention (`warden.case_id`), which the journald
/// handler maps to `WARDEN_CASE_ID`.
public struct StderrLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let prefixStyle: Bool

    public init(label: String, level: Logger.Level = .info, priorityPrefix: Bool? = nil) {
        self.label = label
        self.logLevel = level
        self.prefixStyle = priorityPrefix ?? (isatty(STDERR_FILENO) == 0)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        SystemIO.writeError(bytes: Self.line(level: event.level, message: event.message.description, metadata: merged, priorityPrefix: prefixStyle))
    }

    /// One log line, newline included, as bytes (built without intermediate strings:
    /// the writer logs every booking and expiry).
    public static func line(level: Logger.Level, message: String, metadata: Logger.Metadata, priorityPrefix: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + message.utf8.count)
        if priorityPrefix {
            out.append(UInt8(ascii: "<"))
            out.append(UInt8(ascii: "0") + UInt8(priority(level)))
            out.append(UInt8(ascii: ">"))
        } else {
            out.append(contentsOf: name(level).utf8)
            out.append(contentsOf: ": ".utf8)
        }
        out.append(contentsOf: message.utf8)
        for key in metadata.keys.sorted() {
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: key.utf8)
            out.append(UInt8(ascii: "="))
            switch metadata[key]! {
            case .string(let s): appendQuoted(s, into: &out)
            case .stringConvertible(let c): appendQuoted(c.description, into: &out)
            case let other: appendQuoted("\(other)", into: &out)
            }
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// The syslog priority of a level (RFC 5424).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func name(_ level: Logger.Level) -> String {
        level == .warning ? "warning" : level.rawValue
    }

    /// `value` as is, or in double quotes (`\\`, `\"` and `\n` escaped) when it is empty or
    /// holds a space, a quote, `=` or a line break (U+000A–U+000D, U+0085, U+2028,
    /// U+2029).
    static func appendQuoted(_ value: String, into out: inout [UInt8]) {
        let utf8 = value.utf8
        var needs = utf8.isEmpty
        var previous: (UInt8, UInt8) = (0, 0)
        for b in utf8 where !needs {
            switch b {
            case 0x20, 0x22, 0x3D, 0x0A...0x0D: needs = true
            case 0x85: needs = previous.1 == 0xC2
            case 0xA8, 0xA9: needs = previous == (0xE2, 0x80)
            default: break
            }
            previous = (previous.1, b)
        }
        guard needs else {
            out.append(contentsOf: utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for b in utf8 {
            switch b {
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
