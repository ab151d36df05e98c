#if canImport(Glibc)
import Glibc
#endif
import WardenCore

/// The daemon's configuration (SPEC.md §1), fully validated: a value of this type is a
/// configuration that can be applied. Relative paths are resolved against the working
/// directory at load time (so `./.warden/` in the development config means the
/// checkout's `.warden/`).
public struct WardenConfig: Sendable, Equatable {
    public var file: String
    public var socket: String
    /// Group that owns the socket (name or numeric gid); nil keeps the daemon's group.
    public var socketGroup: String?
    public var spoolDir: String
    public var stateDir: String
    public var zone: Zone
    public var logLevel: String
    /// `sqlite` (embedded, the default) or `postgres` (SPEC §7).
    public var storageBackend: String
    /// The PostgreSQL connection URL (`backend = "postgres"` only).
    public var storageURL: String? = nil
    /// This daemon's name among the nodes sharing a PostgreSQL database; nil: the host name.
    public var node: String? = nil
    public var warnBefore: [TimeSpan]
    public var policies: [String: PolicySettings]
    /// Writers besides root and the daemon's own user: numeric uids and group names.
    public var writers: [String]
    public var maxFileSize: Int
    /// Longest NDJSON line, in bytes.
    public var spoolMaxLine: Int
    /// How long accepted files stay in `processed/` (nil: kept forever).
    public var processedRetention: TimeSpan?
    public var rescanInterval: TimeSpan
    public var maxLine: Int
    /// Connections at once; nil derives it from the descriptor limit (`DescriptorBudget`).
    public var maxConnections: Int?
    /// Connections at once from one peer uid; nil is a quarter of `maxConnections`.
    public var maxConnectionsPerUID: Int?
    public var maxInFlight: Int
    /// Where `GET /metrics` is served (`[metrics] listen`); nil: no HTTP listener.
    public var metricsListen: MetricsListen? = nil

    public static let defaultPath = "/etc/warden/warden.toml"

    /// Defaults of every key (the packaged `/etc/warden/warden.toml` spells them out).
    public static func defaults(file: String = defaultPath) -> WardenConfig {
        WardenConfig(
            file: file, socket: "/run/warden/warden.sock", socketGroup: nil, spoolDir: "/var/spool/warden",
            stateDir: "/var/lib/warden", zone: .shanghai, logLevel: "info", storageBackend: "sqlite",
            warnBefore: [.hours(4), .hours(1)], policies: [:], writers: [], maxFileSize: 64 << 20,
            spoolMaxLine: 1 << 20, processedRetention: .days(30), rescanInterval: .seconds(30), maxLine: 1 << 20, maxConnections: nil, maxConnectionsPerUID: nil, maxInFlight: 128)
    }

    public var databasePath: String { stateDir + "/warden.sqlite" }

    /// The node name in use: `node`, else the host name (cut to a valid name).
    public var nodeName: String {
        if let node { return node }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "wardend" }
        let host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let cleaned = String(host.unicodeScalars.filter { Self.nodeCharacter($0) }.prefix(64).map(Character.init))
        return cleaned.isEmpty ? "wardend" : cleaned
    }

    static func nodeCharacter(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "." || c == "_" || c == "-")
    }

    /// 1 to 64 of ASCII letters, digits, `.`, `_`, `-`.
    public static func isValidNode(_ name: String) -> Bool {
        (1...64).contains(name.unicodeScalars.count) && name.unicodeScalars.allSatisfy(nodeCharacter)
    }
}

/// A configuration problem: the file, the line when known, the key, and what is wrong.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String?
    public var message: String

    public init(file: String, line: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let key { s += "\(key): " }
        return s + message
    }
}

/// All the problems found in one configuration file.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    public init(errors: [ConfigError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// `[metrics] listen`: an IP address (IPv6 in brackets) or `localhost`, and a port.
public struct MetricsListen: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// True for 127.0.0.0/8, ::1 and localhost: the address SPEC.md §8 shows.
    public var isLoopback: Bool { host == "localhost" || host == "::1" || host.hasPrefix("127.") }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Reads `"127.0.0.1:9464"`, `"[::1]:9464"` or `"localhost:9464"`.
    public static func parse(_ text: String) -> Result<MetricsListen, Invalid> {
        let example = "expected an address and a port, e.g. \"127.0.0.1:9464\" or \"[::1]:9464\""
        var host: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return .failure(Invalid(description: "\"\(text)\": \(example)"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard isAddress(String(host), family: AF_INET6) else {
                return .failure(Invalid(description: "\"\(host)\" is not an IPv6 address; \(example)"))
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return .failure(Invalid(description: "\"\(text)\" has no port; \(example)")) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard host == "localhost" || isAddress(String(host), family: AF_INET) else {
                return .failure(Invalid(description: "\"\(host)\" is not an IPv4 address (a name other than localhost is not resolved; IPv6 goes in brackets); \(example)"))
            }
        }
        guard portText.utf8.count <= 5, !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText), (1...65_535).contains(port) else {
            return .failure(Invalid(description: "\"\(portText)\" is not a port from 1 to 65535; \(example)"))
        }
        return .success(MetricsListen(host: String(host), port: port))
    }

    static func isAddress(_ text: String, family: Int32) -> Bool {
        guard !text.isEmpty, text.utf8.count < 64, !text.utf8.contains(0) else { return false }
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(family, text, &buffer) == 1
    }
}
