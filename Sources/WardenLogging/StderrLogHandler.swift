#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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
        var line = prefixStyle ? "<\(Self.priority(event.level))>" : "\(Self.name(event.level)): "
        line += event.message.description
        for key in merged.keys.sorted() {
            line += " \(key)=\(Self.quote("\(merged[key]!)"))"
        }
        line += "\n"
        SystemIO.writeError(line)
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

    static func quote(_ value: String) -> String {
        guard value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) || value.isEmpty else { return value }
        var out = "\""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
