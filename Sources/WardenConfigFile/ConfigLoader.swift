#if canImport(Glibc)
import Glibc
#endif
import WardenTOML
import WardenCore

/// Reads and validates `warden.toml`. Every error in the file is reported at once, each
/// with its line and key. Unknown tables and keys are errors, so a misspelt key is caught
/// by `wardend check-config` instead of silently doing nothing.
///
/// Trusts: nothing in the file. The TOML is read by Warden's own strict TOML 1.0 parser
/// (`WardenTOML`: no C++ underneath, bounded nesting, fuzzed), every value is typed and
/// bounded, and a module's parameters are checked against its declaration.
public enum ConfigLoader {
    public static func load(path: String, registrations: [PolicyRegistration]) throws(ConfigErrors) -> WardenConfig {
        let bytes: [UInt8]
        do {
            bytes = try SystemIO.readFile(path, limit: 16 << 20)
        } catch {
            throw ConfigErrors(errors: [ConfigError(file: path, message: "cannot read the file (\(error))")])
        }
        // The bytes as they are (no decoding on the way: a byte-order mark where it does
        // not belong is an error the TOML parser must see).
        return try parse(bytes: bytes, file: path, registrations: registrations)
    }

    public static func parse(_ text: String, file: String, registrations: [PolicyRegistration]) throws(ConfigErrors) -> WardenConfig {
        try parse(bytes: Array(text.utf8), file: file, registrations: registrations)
    }

    public static func parse(bytes: [UInt8], file: String, registrations: [PolicyRegistration]) throws(ConfigErrors) -> WardenConfig {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw ConfigErrors(errors: [ConfigError(file: file, message: "the file is not valid UTF-8")])
        }
        let root: TOMLTable
        do {
            root = try TOML.parse(bytes: bytes)
        } catch {
            throw ConfigErrors(errors: [
                ConfigError(file: file, line: error.position.line, message: "TOML syntax: \(error.message) (column \(error.position.column))")
            ])
        }
        var reader = Reader(file: file, root: root)
        var config = WardenConfig.defaults(file: file)

        for key in root.keys where !["daemon", "storage", "deadlines", "policies", "access", "spool", "socket", "metrics"].contains(key) {
            reader.fail(key, in: root, table: nil, "unknown table; known: [daemon], [storage], [deadlines], [spool], [socket], [metrics], [access], [policies.<id>]")
        }
        if let t = reader.table(root, "daemon") {
            reader.known(t, "daemon", ["socket", "socket_group", "spool_dir", "state_dir", "timezone", "log_level"])
            if let v = reader.string(t, "daemon", "socket") { config.socket = absolute(v) }
            if let v = reader.string(t, "daemon", "socket_group") { config.socketGroup = v }
            if let v = reader.string(t, "daemon", "spool_dir") { config.spoolDir = absolute(v) }
            if let v = reader.string(t, "daemon", "state_dir") { config.stateDir = absolute(v) }
            if let v = reader.string(t, "daemon", "timezone") {
                if let zone = Zone(identifier: v) { config.zone = zone } else {
                    reader.fail("timezone", in: t, table: "daemon", "unknown time zone \"\(v)\"; expected an IANA name like \"Asia/Shanghai\"")
                }
            }
            if let v = reader.string(t, "daemon", "log_level") {
                let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
                if levels.contains(v) { config.logLevel = v } else {
                    reader.fail("log_level", in: t, table: "daemon", "expected one of \(levels.joined(separator: ", "))")
                }
            }
        }
        if let t = reader.table(root, "storage") {
            reader.known(t, "storage", ["backend", "url", "node"])
            if let v = reader.string(t, "storage", "backend") {
                if ["sqlite", "postgres"].contains(v) { config.storageBackend = v } else {
                    reader.fail("backend", in: t, table: "storage", "unknown backend \"\(v)\"; expected \"sqlite\" (embedded, the default) or \"postgres\"")
                }
            }
            if let v = reader.string(t, "storage", "url") {
                if v.isEmpty || v.utf8.contains(0) || v.utf8.count > 4096 {
                    reader.fail("url", in: t, table: "storage", "expected a PostgreSQL connection URL like \"postgres://warden@db.internal/warden\"")
                } else {
                    config.storageURL = v
                }
            }
            if let v = reader.string(t, "storage", "node") {
                if WardenConfig.isValidNode(v) { config.node = v } else {
                    reader.fail("node", in: t, table: "storage", "\"\(v)\" is not a node name: 1 to 64 letters, digits, '.', '_' or '-'")
                }
            }
            if config.storageBackend == "postgres" && config.storageURL == nil {
                reader.fail("backend", in: t, table: "storage", "backend \"postgres\" needs url = \"postgres://…\" in [storage]")
            }
            if config.storageBackend == "sqlite" && t["url"] != nil {
                reader.fail("url", in: t, table: "storage", "url is for backend = \"postgres\"; the sqlite backend keeps its file in state_dir")
            }
        }
        if let t = reader.table(root, "deadlines") {
            reader.known(t, "deadlines", ["warn_before"])
            if let value = t["warn_before"] {
                if let array = value.array {
                    var spans: [TimeSpan] = []
                    for element in array {
                        if let s = element.string, let span = TimeSpan.parse(s), span.milliseconds > 0, span <= Self.longestDuration {
                            spans.append(span)
                        } else {
                            reader.fail("warn_before", in: t, table: "deadlines", "\(Reader.describe(element)) is not a duration from 1ms to 3650d; expected e.g. [\"4h\", \"1h\"]")
                        }
                    }
                    config.warnBefore = Array(Set(spans)).sorted(by: >)
                } else {
                    reader.fail("warn_before", in: t, table: "deadlines", "expected an array of durations, e.g. [\"4h\", \"1h\"]")
                }
            }
        }
        if let t = reader.table(root, "spool") {
            reader.known(t, "spool", ["max_file_size", "max_line", "rescan_interval", "processed_retention"])
            if let v = reader.int(t, "spool", "max_file_size", in: 1...(1 << 36)) { config.maxFileSize = v }
            if let v = reader.int(t, "spool", "max_line", in: 1...(1 << 30)) { config.spoolMaxLine = v }
            if t["processed_retention"]?.string == "forever" {
                config.processedRetention = nil
            } else if let v = reader.duration(t, "spool", "processed_retention") {
                config.processedRetention = v
            }
            if let v = reader.duration(t, "spool", "rescan_interval") { config.rescanInterval = v }
        }
        if let t = reader.table(root, "socket") {
            reader.known(t, "socket", ["max_line", "max_connections", "max_connections_per_uid", "max_in_flight"])
            if let v = reader.int(t, "socket", "max_line", in: 1...(1 << 30)) { config.maxLine = v }
            if let v = reader.int(t, "socket", "max_connections", in: 1...(1 << 20)) { config.maxConnections = v }
            if let v = reader.int(t, "socket", "max_connections_per_uid", in: 1...(1 << 20)) { config.maxConnectionsPerUID = v }
            if let v = reader.int(t, "socket", "max_in_flight", in: 1...65_536) { config.maxInFlight = v }
        }
        if let t = reader.table(root, "metrics") {
            reader.known(t, "metrics", ["listen"])
            if let v = reader.string(t, "metrics", "listen") {
                switch MetricsListen.parse(v) {
                case .success(let listen): config.metricsListen = listen
                case .failure(let why): reader.fail("listen", in: t, table: "metrics", why.description)
                }
            }
        }
        if let t = reader.table(root, "access") {
            reader.known(t, "access", ["writers"])
            if let value = t["writers"] {
                if let array = value.array {
                    config.writers = array.compactMap { element in
                        if let s = element.string { return s }
                        if let i = element.integer { return String(i) }
                        reader.fail("writers", in: t, table: "access", "expected uids (integers) and group names (strings)")
                        return nil
                    }
                } else {
                    reader.fail("writers", in: t, table: "access", "expected an array of uids and group names")
                }
            }
        }
        if let t = reader.table(root, "policies") {
            for id in t.keys {
                let tableName = "policies.\(id)"
                guard let policyTable = t[id]?.table else {
                    reader.fail(id, in: t, table: "policies", "expected a table [policies.\(id)]")
                    continue
                }
                var settings = PolicySettings()
                if let exec = reader.string(policyTable, tableName, "exec") {
                    settings.external = reader.external(policyTable, tableName, exec: exec, configFile: file)
                } else {
                    for key in ["args", "timeout"] where policyTable[key] != nil {
                        reader.fail(key, in: policyTable, table: tableName, "\(key) is for an external module, which needs exec = \"PATH\" too")
                    }
                }
                for (key, value) in policyTable.entries where !(settings.external != nil && ["exec", "args", "timeout"].contains(key)) {
                    if key == "enabled" {
                        if let b = value.bool { settings.enabled = b } else { reader.fail(key, in: policyTable, table: tableName, "expected true or false") }
                    } else if let s = value.string {
                        settings.parameters[key] = .string(s)
                    } else if let i = value.integer {
                        settings.parameters[key] = .integer(Int(i))
                    } else if let b = value.bool {
                        settings.parameters[key] = .bool(b)
                    } else if let d = value.double {
                        settings.parameters[key] = .double(d)
                    } else {
                        reader.fail(key, in: policyTable, table: tableName, "unsupported value \(Reader.describe(value)); expected a string, an integer, a boolean or a number")
                    }
                }
                config.policies[id] = settings
            }
        }
        // Let the built-in policies check their own parameters (an external module checks
        // its own when it starts: its declaration comes from its handshake).
        do {
            let external = Set(config.policies.filter { $0.value.external != nil }.keys)
            _ = try PolicyRegistry(registrations: registrations.filter { !external.contains($0.id) }, settings: config.policies.filter { $0.value.external == nil })
        } catch {
            for e in error.errors {
                let parts = e.key.split(separator: ".").map(String.init)
                let key = parts.count >= 3 ? parts[2] : parts.count == 2 ? parts[1] : nil
                let table = parts.count >= 3 ? "policies.\(parts[1])" : "policies"
                let module = parts.count >= 2 ? root["policies"]?.table?[parts[1]]?.table : nil
                let line = key.flatMap { module?.position(of: $0)?.line } ?? (parts.count >= 2 ? root["policies"]?.table?.position(of: parts[1])?.line : nil)
                _ = table
                reader.errors.append(ConfigError(file: file, line: line, key: e.key, message: e.message))
            }
        }
        if !reader.errors.isEmpty { throw ConfigErrors(errors: reader.errors) }
        return config
    }

    /// The longest duration any key takes (ten years): beyond it a value is a typo, and
    /// time arithmetic on it stays far from overflowing.
    public static let longestDuration = TimeSpan.days(3650)

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        let cwd = SystemIO.currentDirectory()
        var p = path
        while p.hasPrefix("./") { p.removeFirst(2) }
        return (cwd == "/" ? "" : cwd) + "/" + p
    }

    /// Typed lookups that record an error (with the key's line) instead of throwing.
    struct Reader {
        let file: String
        let root: TOMLTable
        var errors: [ConfigError] = []

        /// Records an error about `key` of `t` (named `table`; nil for the root).
        mutating func fail(_ key: String, in t: TOMLTable, table: String?, _ message: String) {
            let fullKey = table.map { "\($0).\(key)" } ?? key
            errors.append(ConfigError(file: file, line: (t.position(of: key) ?? t.position)?.line, key: fullKey, message: message))
        }

        /// A value as the file spells it, for messages.
        static func describe(_ value: TOMLValue) -> String {
            switch value {
            case .string(let s): return "\"\(s)\""
            case .integer(let i): return "\(i)"
            case .float(let d): return "\(d)"
            case .bool(let b): return "\(b)"
            case .array: return "an array"
            case .table: return "a table"
            default: return value.dateTimeText.map { "\($0) (a \(value.typeName))" } ?? value.typeName
            }
        }

        mutating func table(_ root: TOMLTable, _ name: String) -> TOMLTable? {
            guard let value = root[name] else { return nil }
            guard let t = value.table else {
                fail(name, in: root, table: nil, "expected a table [\(name)]")
                return nil
            }
            return t
        }

        mutating func known(_ t: TOMLTable, _ table: String, _ keys: [String]) {
            for key in t.keys where !keys.contains(key) {
                fail(key, in: t, table: table, "unknown key; known in [\(table)]: \(keys.joined(separator: ", "))")
            }
        }

        mutating func string(_ t: TOMLTable, _ table: String, _ key: String) -> String? {
            guard let value = t[key] else { return nil }
            guard let s = value.string else {
                fail(key, in: t, table: table, "expected a string, got \(Reader.describe(value))")
                return nil
            }
            return s
        }

        mutating func int(_ t: TOMLTable, _ table: String, _ key: String, in range: ClosedRange<Int>) -> Int? {
            guard let value = t[key] else { return nil }
            guard let i = value.integer else {
                fail(key, in: t, table: table, "expected an integer, got \(Reader.describe(value))")
                return nil
            }
            guard let v = Int(exactly: i), range.contains(v) else {
                fail(key, in: t, table: table, "\(i) is outside \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return v
        }

        /// `exec`, `args` and `timeout` of an external module's table. The executable
        /// must exist and be executable by this user now (it is run at start and reload).
        mutating func external(_ t: TOMLTable, _ table: String, exec: String, configFile: String) -> ExternalSettings? {
            guard !exec.isEmpty else {
                fail("exec", in: t, table: table, "must name an executable")
                return nil
            }
            var path = exec
            if !path.hasPrefix("/") {
                let dir = SystemIO.directoryName(ConfigLoader.absolute(configFile))
                path = dir + "/" + exec
            }
            var info = stat()
            if stat(path, &info) != 0 {
                fail("exec", in: t, table: table, "\(path): \(String(cString: strerror(errno)))")
            } else if info.st_mode & S_IFMT != S_IFREG || access(path, X_OK) != 0 {
                fail("exec", in: t, table: table, "\(path) is not an executable file")
            }
            var settings = ExternalSettings(exec: path)
            if let value = t["args"] {
                if let array = value.array, array.count <= 256, array.allSatisfy({ $0.string.map { !$0.utf8.contains(0) } == true }) {
                    settings.args = array.compactMap(\.string)
                } else {
                    fail("args", in: t, table: table, "expected an array of strings (at most 256, no NUL bytes)")
                }
            }
            if let timeout = duration(t, table, "timeout") {
                if timeout < TimeSpan(milliseconds: 100) || timeout > ExternalSettings.maxTimeout {
                    fail("timeout", in: t, table: table, "\(timeout) is outside 100ms to \(ExternalSettings.maxTimeout)")
                } else {
                    settings.timeout = timeout
                }
            }
            return settings
        }

        mutating func duration(_ t: TOMLTable, _ table: String, _ key: String) -> TimeSpan? {
            guard let s = string(t, table, key) else { return nil }
            guard let span = TimeSpan.parse(s), span.milliseconds > 0, span <= ConfigLoader.longestDuration else {
                fail(key, in: t, table: table, "\"\(s)\" is not a duration from 1ms to 3650d; expected e.g. \"30s\", \"5m\"")
                return nil
            }
            return span
        }
    }
}
