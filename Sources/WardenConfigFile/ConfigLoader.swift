import Foundation
import TOMLKit
import WardenCore

/// Reads and validates `warden.toml`. Every error in the file is reported at once, each
/// with its line and key. Unknown tables and keys are errors, so a misspelt key is caught
/// by `wardend check-config` instead of silently doing nothing.
public enum ConfigLoader {
    public static func load(path: String, registrations: [PolicyRegistration]) throws(ConfigErrors) -> WardenConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigErrors(errors: [ConfigError(file: path, message: "cannot read the file (\(String(cString: strerror(errno))))")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors(errors: [ConfigError(file: path, message: "the file is not valid UTF-8")])
        }
        return try parse(text, file: path, registrations: registrations)
    }

    public static func parse(_ text: String, file: String, registrations: [PolicyRegistration]) throws(ConfigErrors) -> WardenConfig {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigErrors(errors: [ConfigError(file: file, line: error.source.begin.line, message: "TOML syntax: \(error.description)")])
        } catch {
            throw ConfigErrors(errors: [ConfigError(file: file, message: "TOML syntax: \(error)")])
        }
        var reader = Reader(file: file, lines: text.components(separatedBy: "\n"))
        var config = WardenConfig.defaults(file: file)

        for key in root.keys where !["daemon", "storage", "deadlines", "policies", "access", "spool", "socket"].contains(key) {
            reader.fail(key, table: nil, "unknown table; known: [daemon], [storage], [deadlines], [spool], [socket], [access], [policies.<id>]")
        }
        if let t = reader.table(root, "daemon") {
            reader.known(t, "daemon", ["socket", "socket_group", "spool_dir", "state_dir", "timezone", "log_level"])
            if let v = reader.string(t, "daemon", "socket") { config.socket = absolute(v) }
            if let v = reader.string(t, "daemon", "socket_group") { config.socketGroup = v }
            if let v = reader.string(t, "daemon", "spool_dir") { config.spoolDir = absolute(v) }
            if let v = reader.string(t, "daemon", "state_dir") { config.stateDir = absolute(v) }
            if let v = reader.string(t, "daemon", "timezone") {
                if let zone = Zone(identifier: v) { config.zone = zone } else {
                    reader.fail("timezone", table: "daemon", "unknown time zone \"\(v)\"; expected an IANA name like \"Asia/Shanghai\"")
                }
            }
            if let v = reader.string(t, "daemon", "log_level") {
                let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
                if levels.contains(v) { config.logLevel = v } else {
                    reader.fail("log_level", table: "daemon", "expected one of \(levels.joined(separator: ", "))")
                }
            }
        }
        if let t = reader.table(root, "storage") {
            reader.known(t, "storage", ["backend", "url"])
            if let v = reader.string(t, "storage", "backend") {
                if v == "sqlite" { config.storageBackend = v } else {
                    reader.fail("backend", table: "storage", "\"\(v)\" is not available in this version; the embedded backend is \"sqlite\"")
                }
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
                            reader.fail("warn_before", table: "deadlines", "\(element.debugDescription) is not a duration from 1ms to 3650d; expected e.g. [\"4h\", \"1h\"]")
                        }
                    }
                    config.warnBefore = Array(Set(spans)).sorted(by: >)
                } else {
                    reader.fail("warn_before", table: "deadlines", "expected an array of durations, e.g. [\"4h\", \"1h\"]")
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
        if let t = reader.table(root, "access") {
            reader.known(t, "access", ["writers"])
            if let value = t["writers"] {
                if let array = value.array {
                    config.writers = array.compactMap { element in
                        if let s = element.string { return s }
                        if let i = element.int { return String(i) }
                        reader.fail("writers", table: "access", "expected uids (integers) and group names (strings)")
                        return nil
                    }
                } else {
                    reader.fail("writers", table: "access", "expected an array of uids and group names")
                }
            }
        }
        if let t = reader.table(root, "policies") {
            for id in t.keys {
                let tableName = "policies.\(id)"
                guard let policyTable = t[id]?.table else {
                    reader.fail(id, table: "policies", "expected a table [policies.\(id)]")
                    continue
                }
                var settings = PolicySettings()
                for key in policyTable.keys {
                    let value = policyTable[key]!
                    if key == "enabled" {
                        if let b = value.bool { settings.enabled = b } else { reader.fail(key, table: tableName, "expected true or false") }
                    } else if let s = value.string {
                        settings.parameters[key] = .string(s)
                    } else if let i = value.int {
                        settings.parameters[key] = .integer(i)
                    } else if let b = value.bool {
                        settings.parameters[key] = .bool(b)
                    } else if let d = value.double {
                        settings.parameters[key] = .double(d)
                    } else {
                        reader.fail(key, table: tableName, "unsupported value \(value.debugDescription)")
                    }
                }
                config.policies[id] = settings
            }
        }
        // Let the policies check their own parameters.
        do {
            _ = try PolicyRegistry(registrations: registrations, settings: config.policies)
        } catch {
            for e in error.errors {
                let parts = e.key.split(separator: ".").map(String.init)
                let key = parts.count >= 3 ? parts[2] : parts.count == 2 ? parts[1] : nil
                let table = parts.count >= 3 ? "policies.\(parts[1])" : "policies"
                reader.errors.append(ConfigError(file: file, line: key.flatMap { reader.line(of: $0, inTable: table) }, key: e.key, message: e.message))
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
        let cwd = FileManager.default.currentDirectoryPath
        var p = path
        while p.hasPrefix("./") { p.removeFirst(2) }
        return (cwd == "/" ? "" : cwd) + "/" + p
    }

    /// Typed lookups that record an error (with the key's line) instead of throwing.
    struct Reader {
        let file: String
        let lines: [String]
        var errors: [ConfigError] = []

        mutating func fail(_ key: String, table: String?, _ message: String) {
            let fullKey = table.map { "\($0).\(key)" } ?? key
            let line = table == nil ? line(ofTable: key) : line(of: key, inTable: table!)
            errors.append(ConfigError(file: file, line: line, key: fullKey, message: message))
        }

        mutating func table(_ root: TOMLTable, _ name: String) -> TOMLTable? {
            guard let value = root[name] else { return nil }
            guard let t = value.table else {
                fail(name, table: nil, "expected a table [\(name)]")
                return nil
            }
            return t
        }

        mutating func known(_ t: TOMLTable, _ table: String, _ keys: [String]) {
            for key in t.keys where !keys.contains(key) {
                fail(key, table: table, "unknown key; known in [\(table)]: \(keys.joined(separator: ", "))")
            }
        }

        mutating func string(_ t: TOMLTable, _ table: String, _ key: String) -> String? {
            guard let value = t[key] else { return nil }
            guard let s = value.string else {
                fail(key, table: table, "expected a string")
                return nil
            }
            return s
        }

        mutating func int(_ t: TOMLTable, _ table: String, _ key: String, in range: ClosedRange<Int>) -> Int? {
            guard let value = t[key] else { return nil }
            guard let i = value.int else {
                fail(key, table: table, "expected an integer")
                return nil
            }
            guard range.contains(i) else {
                fail(key, table: table, "\(i) is outside \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return i
        }

        mutating func duration(_ t: TOMLTable, _ table: String, _ key: String) -> TimeSpan? {
            guard let s = string(t, table, key) else { return nil }
            guard let span = TimeSpan.parse(s), span.milliseconds > 0, span <= ConfigLoader.longestDuration else {
                fail(key, table: table, "\"\(s)\" is not a duration from 1ms to 3650d; expected e.g. \"30s\", \"5m\"")
                return nil
            }
            return span
        }

        /// The 1-based line of `[name]`.
        func line(ofTable name: String) -> Int? {
            lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix("[\(name)]") }.map { $0 + 1 }
        }

        /// The 1-based line of `key = …` inside `[table]` (or a dotted table header).
        func line(of key: String, inTable table: String) -> Int? {
            var current = ""
            for (i, raw) in lines.enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("[") {
                    current = line.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).components(separatedBy: "]").first ?? ""
                    current = current.replacingOccurrences(of: "\"", with: "")
                    if "\(current)" == "\(table).\(key)" { return i + 1 }
                    continue
                }
                guard current == table else { continue }
                let name = line.split(separator: "=", maxSplits: 1).first.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"")) }
                if name == key { return i + 1 }
            }
            return line(ofTable: table)
        }
    }
}
