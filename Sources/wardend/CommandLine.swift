#if canImport(Glibc)
import Glibc
#endif
import WardenCore
import WardenDaemon

/// wardend's command line, parsed without a library: three commands and a handful of
/// options. Long options take their value as `--name value` or `--name=value`; a
/// usage error prints the command's usage and exits 64 (EX_USAGE), as before.
///
/// Trusts: nothing in `argv`. Refuses: unknown options and commands, a missing or
/// repeated value, stray arguments (each named in the message).
enum WardendCommand: Equatable {
    case run(config: String)
    case checkConfig(config: String)
    case pluginServe(module: String)
    case pluginCheck(PluginCheckOptions)
    case help(String)
    case version

    struct PluginCheckOptions: Equatable {
        var exec = ""
        var args: [String] = []
        var id = "checked-module"
        var params: [String] = []
        var timeout = "5s"
        var timezone = "Asia/Shanghai"
    }

    struct UsageError: Error {
        var message: String
        var usage: String
    }

    static let defaultConfig = "/etc/warden/warden.toml"

    static func parse(_ arguments: [String]) throws(UsageError) -> WardendCommand {
        var rest = arguments[...]
        switch rest.first {
        case "run"?:
            rest.removeFirst()
            return try runLike(rest, help: Help.run) { .run(config: $0) }
        case "check-config"?:
            rest.removeFirst()
            return try runLike(rest, help: Help.checkConfig) { .checkConfig(config: $0) }
        case "plugin"?:
            rest.removeFirst()
            return try plugin(rest)
        case "help"?:
            rest.removeFirst()
            return .help(helpText(for: Array(rest)))
        default:
            return try runLike(rest, help: Help.top) { .run(config: $0) }
        }
    }

    /// `run` and `check-config` (and no command at all): `--config PATH` only.
    static func runLike(_ args: ArraySlice<String>, help: Help.Page, make: (String) -> WardendCommand) throws(UsageError) -> WardendCommand {
        var options = Options(args, page: help)
        var config: String?
        while let arg = try options.next() {
            switch arg {
            case .option("config", let value): try options.once(&config, value, "--config")
            case .positional(let word) where help.name == "wardend": throw options.error("unknown command '\(word)' (run, check-config, plugin)")
            default: return try options.common(arg)
            }
        }
        return make(config ?? defaultConfig)
    }

    static func plugin(_ args: ArraySlice<String>) throws(UsageError) -> WardendCommand {
        var rest = args
        switch rest.first {
        case "serve"?:
            rest.removeFirst()
            var options = Options(rest, page: Help.pluginServe)
            var module: String?
            while let arg = try options.next() {
                switch arg {
                case .positional(let word) where module == nil: module = word
                default: return try options.common(arg)
                }
            }
            guard let module else { throw options.error("missing the module (one of \(BuiltinPolicies.all.map(\.id).joined(separator: ", ")))") }
            return .pluginServe(module: module)
        case "check"?:
            rest.removeFirst()
            var options = Options(rest, page: Help.pluginCheck)
            var check = PluginCheckOptions()
            var exec: String?, id: String?, timeout: String?, timezone: String?
            while let arg = try options.next() {
                switch arg {
                case .option("exec", let value): try options.once(&exec, value, "--exec")
                case .option("arg", let value): check.args.append(try options.value(value, "--arg"))
                case .option("id", let value): try options.once(&id, value, "--id")
                case .option("param", let value): check.params.append(try options.value(value, "--param"))
                case .option("timeout", let value): try options.once(&timeout, value, "--timeout")
                case .option("timezone", let value): try options.once(&timezone, value, "--timezone")
                default: return try options.common(arg)
                }
            }
            guard let exec else { throw options.error("missing '--exec <path>'") }
            check.exec = exec
            if let id { check.id = id }
            if let timeout { check.timeout = timeout }
            if let timezone { check.timezone = timezone }
            return .pluginCheck(check)
        case "--help"?, "-h"?, "help"?:
            return .help(Help.plugin.text)
        case "--version"?:
            return .version
        case let other?:
            throw UsageError(message: "unknown plugin command '\(other)' (serve, check)", usage: Help.plugin.usage)
        case nil:
            throw UsageError(message: "missing a plugin command (serve, check)", usage: Help.plugin.usage)
        }
    }

    static func helpText(for path: [String]) -> String {
        switch path {
        case ["run"]: Help.run.text
        case ["check-config"]: Help.checkConfig.text
        case ["plugin"]: Help.plugin.text
        case ["plugin", "serve"]: Help.pluginServe.text
        case ["plugin", "check"]: Help.pluginCheck.text
        default: Help.top.text
        }
    }
}

/// Walks one command's arguments: `--name value`, `--name=value`, `--flag`, `-h`, words,
/// and `--` (everything after it is a word).
struct Options {
    enum Argument: Equatable {
        case flag(String)
        case option(String, String?)
        case short(Character)
        case positional(String)
    }

    var rest: ArraySlice<String>
    let page: Help.Page
    var wordsOnly = false
    static let valued: Set<String> = ["config", "exec", "arg", "id", "param", "timeout", "timezone"]

    init(_ args: ArraySlice<String>, page: Help.Page) {
        self.rest = args
        self.page = page
    }

    mutating func next() throws(WardendCommand.UsageError) -> Argument? {
        guard let arg = rest.popFirst() else { return nil }
        if wordsOnly { return .positional(arg) }
        if arg == "--" {
            wordsOnly = true
            return try next()
        }
        if arg.hasPrefix("--") {
            let body = arg.dropFirst(2)
            if let eq = body.firstIndex(of: "=") {
                let name = String(body[..<eq])
                guard Self.valued.contains(name) else { throw error("unknown option '--\(name)'") }
                return .option(name, String(body[body.index(after: eq)...]))
            }
            let name = String(body)
            guard Self.valued.contains(name) else { return .flag(name) }
            guard let value = rest.popFirst() else { throw error("missing a value for '--\(name)'") }
            return .option(name, value)
        }
        if arg.hasPrefix("-") && arg.count == 2 { return .short(arg.last!) }
        return .positional(arg)
    }

    func value(_ value: String?, _ name: String) throws(WardendCommand.UsageError) -> String {
        guard let value else { throw error("missing a value for '\(name)'") }
        return value
    }

    func once(_ slot: inout String?, _ value: String?, _ name: String) throws(WardendCommand.UsageError) {
        guard slot == nil else { throw error("'\(name)' given twice") }
        slot = try self.value(value, name)
    }

    /// What every command takes the same way (`--help`, `-h`, `--version`) and refuses
    /// the same way (any other option, a stray word): called for what a command's own
    /// cases leave.
    func common(_ arg: Argument) throws(WardendCommand.UsageError) -> WardendCommand {
        switch arg {
        case .flag("help"), .short("h"): return .help(page.text)
        case .flag("version"): return .version
        case .option(let name, _), .flag(let name): throw error("unknown option '--\(name)'")
        case .short(let c): throw error("unknown option '-\(c)'")
        case .positional(let word): throw error("unexpected argument '\(word)'")
        }
    }

    func error(_ message: String) -> WardendCommand.UsageError {
        WardendCommand.UsageError(message: message, usage: page.usage)
    }
}

/// The help pages, one per command.
enum Help {
    struct Page {
        var name: String
        var usage: String
        var text: String
    }

    static let commonOptions = """
          --version               Show the version.
          -h, --help              Show help information.
        """

    static let top = Page(
        name: "wardend", usage: "wardend [run] [--config <path>] | wardend check-config [--config <path>] | wardend plugin <serve|check> ...",
        text: """
            OVERVIEW: Warden: keeps marketplace compliance cases, deadlines and penalties
            for a seller.

            Runs in the foreground (systemd's Type=notify). Reads the spool, keeps cases
            and deadlines in the state directory (or a PostgreSQL database several
            daemons share), and answers JSON-RPC on a Unix socket. Stop it with SIGTERM
            (exit 0 after finishing the file in hand).

            USAGE: wardend [run] [--config <path>]
                   wardend check-config [--config <path>]
                   wardend plugin serve <module>
                   wardend plugin check --exec <path> [options]

            OPTIONS:
              --config <path>         Configuration file. (default: \(WardendCommand.defaultConfig))
            \(commonOptions)

            COMMANDS:
              run (default)           Run the daemon in the foreground (the default).
              check-config            Validate a configuration file and exit 0 (valid) or 1
                                      (invalid).
              plugin                  Serve a built-in module, or check an external one
                                      (SPEC §6, docs/PLUGINS.md).

              See 'wardend help <command>' for detailed help.

            """)

    static let run = Page(
        name: "run", usage: "wardend run [--config <path>]",
        text: """
            OVERVIEW: Run the daemon in the foreground (the default).

            USAGE: wardend run [--config <path>]

            OPTIONS:
              --config <path>         Configuration file. (default: \(WardendCommand.defaultConfig))
            \(commonOptions)

            """)

    static let checkConfig = Page(
        name: "check-config", usage: "wardend check-config [--config <path>]",
        text: """
            OVERVIEW: Validate a configuration file and exit 0 (valid) or 1 (invalid).

            USAGE: wardend check-config [--config <path>]

            OPTIONS:
              --config <path>         Configuration file. (default: \(WardendCommand.defaultConfig))
            \(commonOptions)

            """)

    static let plugin = Page(
        name: "plugin", usage: "wardend plugin <serve|check> ...",
        text: """
            OVERVIEW: Serve a built-in module, or check an external one (SPEC §6,
            docs/PLUGINS.md).

            USAGE: wardend plugin serve <module>
                   wardend plugin check --exec <path> [options]

            COMMANDS:
              serve                   Speak the external module protocol on stdin/stdout as a
                                      built-in module.
              check                   Run an external module's handshake and a few inputs,
                                      and report (exit 0 when it keeps the protocol, 1 when
                                      not).

            """)

    static let pluginServe = Page(
        name: "serve", usage: "wardend plugin serve <module>",
        text: """
            OVERVIEW: Speak the external module protocol on stdin/stdout as a built-in module.

            For [policies.<id>] exec = "/usr/bin/wardend", args = ["plugin", "serve", "<id>"]:
            the module then runs out of process exactly as a third party's would.

            USAGE: wardend plugin serve <module>

            ARGUMENTS:
              <module>                The built-in module: \(BuiltinPolicies.all.map(\.id).joined(separator: ", ")).

            OPTIONS:
            \(commonOptions)

            """)

    static let pluginCheck = Page(
        name: "check", usage: "wardend plugin check --exec <path> [--arg <arg> ...] [--id <id>] [--param <name=value> ...] [--timeout <duration>] [--timezone <zone>]",
        text: """
            OVERVIEW: Run an external module's handshake and a few inputs, and report (exit
            0 when it keeps the protocol, 1 when not).

            USAGE: wardend plugin check --exec <path> [--arg <arg> ...] [--id <id>] [--param <name=value> ...] [--timeout <duration>] [--timezone <zone>]

            OPTIONS:
              --exec <path>           The module's executable.
              --arg <arg>             An argument for it (repeatable).
              --id <id>               Its module id. (default: checked-module)
              --param <name=value>    A parameter, NAME=VALUE (repeatable; integers and
                                      true/false are typed).
              --timeout <duration>    Per-call timeout. (default: 5s)
              --timezone <zone>       Time zone sent in initialize. (default: Asia/Shanghai)
            \(commonOptions)

            """)
}
