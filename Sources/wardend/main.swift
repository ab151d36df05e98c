import ArgumentParser
import CoreMetrics
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Prometheus
import WardenCore
import WardenDaemon
import WardenLogging

/// wardend: the Warden daemon.
@main
struct Wardend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wardend",
        abstract: "Warden: keeps marketplace compliance cases, deadlines and penalties for a seller.",
        discussion: """
            Runs in the foreground (systemd's Type=notify). Reads the spool, keeps cases and \
            deadlines in the state directory, and answers JSON-RPC on a Unix socket. \
            Stop it with SIGTERM (exit 0 after finishing the file in hand).
            """,
        version: WardenVersion.string,
        subcommands: [Run.self, CheckConfig.self, Plugin.self],
        defaultSubcommand: Run.self
    )
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Configuration file.", valueName: "path"))
    var config: String = "/etc/warden/warden.toml"
}

extension Wardend {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the daemon in the foreground (the default).")

        @OptionGroup var options: ConfigOption

        func run() async throws {
            let config: WardenConfig
            do {
                config = try ConfigLoader.load(path: options.config, registrations: BuiltinPolicies.all)
            } catch {
                SystemIO.writeError("wardend: invalid configuration:\n\(error.description)\n")
                throw ExitCode(1)
            }
            let level = Logger.Level(rawValue: config.logLevel) ?? .info
            // WARDEN_LOG_TARGET=stderr|journal overrides the choice (tests read stderr).
            let target = SystemIO.environment("WARDEN_LOG_TARGET")
            LoggingSystem.bootstrap { label in
                // journald when it runs (plus stderr if a person watches a terminal);
                // stderr with priority prefixes otherwise.
                guard target != "stderr", target == "journal" || JournaldLogHandler.isAvailable else {
                    return StderrLogHandler(label: label, level: level)
                }
                let journal = JournaldLogHandler(identifier: "wardend", level: level, messageIDs: MessageIDs.byEvent)
                return isatty(STDERR_FILENO) != 0 ? FanOutLogHandler([journal, StderrLogHandler(label: label, level: level)]) : journal
            }
            let logger = Logger(label: "wardend")
            // The daemon's metrics and anything a library reports through swift-metrics
            // land in one registry, which [metrics] listen and metrics.get serve.
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            do {
                try await Daemon(config: config, logger: logger, metricsRegistry: registry).run()
            } catch {
                logger.critical("wardend cannot run: \(error)", metadata: ["warden.event": "daemon.failed"])
                throw ExitCode(1)
            }
        }
    }

    struct CheckConfig: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config", abstract: "Validate a configuration file and exit 0 (valid) or 1 (invalid).")

        @OptionGroup var options: ConfigOption

        func run() throws {
            let result = Result { () throws(ConfigErrors) -> WardenConfig in
                try ConfigLoader.load(path: options.config, registrations: BuiltinPolicies.all)
            }
            switch result {
            case .success(let config):
                print("\(options.config): OK")
                print("  socket     \(config.socket)")
                print("  spool_dir  \(config.spoolDir)")
                print("  state_dir  \(config.stateDir) (sqlite)")
                print("  timezone   \(config.zone.identifier)")
                print("  warn       \(config.warnBefore.map(\.description).joined(separator: ", "))")
                let external = config.policies.filter { $0.value.external != nil }
                let enabled = BuiltinPolicies.all.filter { external[$0.id] == nil && (config.policies[$0.id]?.enabled ?? true) }.map(\.id)
                print("  policies   \(enabled.joined(separator: ", "))")
                for (id, settings) in external.sorted(by: { $0.key < $1.key }) {
                    let e = settings.external!
                    print("  external   \(id): \(([e.exec] + e.args).joined(separator: " ")) (timeout \(e.timeout)\(settings.enabled ? "" : ", disabled"); parameters are checked when it starts: wardend plugin check --exec)")
                }
                for name in AccessPolicy(writers: config.writers).unknown {
                    print("  warning: [access] writers: \"\(name)\" is not a known user or group")
                }
            case .failure(let error):
                SystemIO.writeError("\(error.description)\n")
                throw ExitCode(1)
            }
        }
    }
}

extension Wardend {
    struct Plugin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plugin", abstract: "Serve a built-in module, or check an external one (SPEC §6, docs/PLUGINS.md).",
            subcommands: [Serve.self, Check.self])

        struct Serve: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Speak the external module protocol on stdin/stdout as a built-in module.",
                discussion: """
                    For [policies.<id>] exec = "/usr/bin/wardend", args = ["plugin", "serve", "<id>"]: the \
                    module then runs out of process exactly as a third party's would.
                    """)

            @Argument(help: "The built-in module: \(BuiltinPolicies.all.map(\.id).joined(separator: ", ")).")
            var module: String

            func run() throws {
                guard let registration = BuiltinPolicies.all.first(where: { $0.id == module }) else {
                    SystemIO.writeError("wardend plugin serve: no built-in module \"\(module)\"; known: \(BuiltinPolicies.all.map(\.id).joined(separator: ", "))\n")
                    throw ExitCode(2)
                }
                throw ExitCode(BuiltinPluginServer.serve(registration))
            }
        }

        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Run an external module's handshake and a few inputs, and report (exit 0 when it keeps the protocol, 1 when not).")

            @Option(name: .long, help: ArgumentHelp("The module's executable.", valueName: "path"))
            var exec: String

            @Option(name: .customLong("arg"), help: ArgumentHelp("An argument for it (repeatable).", valueName: "arg"))
            var args: [String] = []

            @Option(name: .long, help: ArgumentHelp("Its module id.", valueName: "id"))
            var id: String = "checked-module"

            @Option(name: .customLong("param"), help: ArgumentHelp("A parameter, NAME=VALUE (repeatable; integers and true/false are typed).", valueName: "name=value"))
            var params: [String] = []

            @Option(name: .long, help: ArgumentHelp("Per-call timeout.", valueName: "duration"))
            var timeout: String = "5s"

            @Option(name: .long, help: ArgumentHelp("Time zone sent in initialize.", valueName: "zone"))
            var timezone: String = "Asia/Shanghai"

            func run() async throws {
                guard let span = TimeSpan.parse(timeout), span.milliseconds > 0 else {
                    SystemIO.writeError("wardend plugin check: --timeout \"\(timeout)\" is not a duration\n")
                    throw ExitCode(2)
                }
                guard let zone = Zone(identifier: timezone) else {
                    SystemIO.writeError("wardend plugin check: unknown time zone \"\(timezone)\"\n")
                    throw ExitCode(2)
                }
                var parameters: [String: RawParameter] = [:]
                for p in params {
                    guard let eq = p.firstIndex(of: "=") else {
                        SystemIO.writeError("wardend plugin check: --param \"\(p)\" is not NAME=VALUE\n")
                        throw ExitCode(2)
                    }
                    let value = String(p[p.index(after: eq)...])
                    parameters[String(p[..<eq])] = Int(value).map(RawParameter.integer) ?? (value == "true" ? .bool(true) : value == "false" ? .bool(false) : .string(value))
                }
                let path = exec.hasPrefix("/") ? exec : FileManager.default.currentDirectoryPath + "/" + exec
                LoggingSystem.bootstrap { label in StderrLogHandler(label: label, level: .warning) }
                let report = await PluginChecker.check(
                    id: id, settings: ExternalSettings(exec: path, args: args, timeout: span), parameters: parameters, zone: zone,
                    logger: Logger(label: "wardend"))
                print("\(path):")
                for line in report.lines { print(line) }
                print(report.ok ? "the module keeps protocol \(1)" : "the module does not keep the protocol")
                if !report.ok { throw ExitCode(1) }
            }
        }
    }
}
