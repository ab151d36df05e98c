import CoreMetrics
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Prometheus
import WardenCore
import WardenDaemon
import WardenLogging

/// wardend: the Warden daemon. The command line is parsed by `WardendCommand`
/// (CommandLine.swift); exit status 0 (done), 1 (a refused configuration, a module that
/// does not keep the protocol, a daemon that could not run), 2 (an unknown module or a
/// bad value for plugin check), 64 (a usage error).
@main
enum Wardend {
    static func main() async {
        let command: WardendCommand
        do {
            command = try WardendCommand.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            SystemIO.writeError("Error: \(error.message)\nUsage: \(error.usage)\n  See 'wardend --help' for more.\n")
            exit(64)
        }
        switch command {
        case .help(let text):
            SystemIO.writeOutput(text)
        case .version:
            SystemIO.writeOutput(WardenVersion.string + "\n")
        case .run(let config):
            exit(await run(configPath: config))
        case .checkConfig(let config):
            exit(checkConfig(path: config))
        case .pluginServe(let module):
            guard let registration = BuiltinPolicies.all.first(where: { $0.id == module }) else {
                SystemIO.writeError("wardend plugin serve: no built-in module \"\(module)\"; known: \(BuiltinPolicies.all.map(\.id).joined(separator: ", "))\n")
                exit(2)
            }
            exit(BuiltinPluginServer.serve(registration))
        case .pluginCheck(let options):
            exit(await pluginCheck(options))
        }
    }

    static func run(configPath: String) async -> Int32 {
        let config: WardenConfig
        do {
            config = try ConfigLoader.load(path: configPath, registrations: BuiltinPolicies.all)
        } catch {
            SystemIO.writeError("wardend: invalid configuration:\n\(error.description)\n")
            return 1
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
            return 0
        } catch {
            logger.critical("wardend cannot run: \(error)", metadata: ["warden.event": "daemon.failed"])
            return 1
        }
    }

    static func checkConfig(path: String) -> Int32 {
        let result = Result { () throws(ConfigErrors) -> WardenConfig in
            try ConfigLoader.load(path: path, registrations: BuiltinPolicies.all)
        }
        switch result {
        case .success(let config):
            var out = "\(path): OK\n"
            out += "  socket     \(config.socket)\n"
            out += "  spool_dir  \(config.spoolDir)\n"
            out += "  state_dir  \(config.stateDir) (sqlite)\n"
            out += "  timezone   \(config.zone.identifier)\n"
            out += "  warn       \(config.warnBefore.map(\.description).joined(separator: ", "))\n"
            let external = config.policies.filter { $0.value.external != nil }
            let enabled = BuiltinPolicies.all.filter { external[$0.id] == nil && (config.policies[$0.id]?.enabled ?? true) }.map(\.id)
            out += "  policies   \(enabled.joined(separator: ", "))\n"
            for (id, settings) in external.sorted(by: { $0.key < $1.key }) {
                let e = settings.external!
                out += "  external   \(id): \(([e.exec] + e.args).joined(separator: " ")) (timeout \(e.timeout)\(settings.enabled ? "" : ", disabled"); parameters are checked when it starts: wardend plugin check --exec)\n"
            }
            for name in AccessPolicy(writers: config.writers).unknown {
                out += "  warning: [access] writers: \"\(name)\" is not a known user or group\n"
            }
            SystemIO.writeOutput(out)
            return 0
        case .failure(let error):
            SystemIO.writeError("\(error.description)\n")
            return 1
        }
    }

    static func pluginCheck(_ options: WardendCommand.PluginCheckOptions) async -> Int32 {
        guard let span = TimeSpan.parse(options.timeout), span.milliseconds > 0 else {
            SystemIO.writeError("wardend plugin check: --timeout \"\(options.timeout)\" is not a duration\n")
            return 2
        }
        guard let zone = Zone(identifier: options.timezone) else {
            SystemIO.writeError("wardend plugin check: unknown time zone \"\(options.timezone)\"\n")
            return 2
        }
        var parameters: [String: RawParameter] = [:]
        for p in options.params {
            guard let eq = p.firstIndex(of: "=") else {
                SystemIO.writeError("wardend plugin check: --param \"\(p)\" is not NAME=VALUE\n")
                return 2
            }
            let value = String(p[p.index(after: eq)...])
            parameters[String(p[..<eq])] = Int(value).map(RawParameter.integer) ?? (value == "true" ? .bool(true) : value == "false" ? .bool(false) : .string(value))
        }
        let exec = options.exec
        let path = exec.hasPrefix("/") ? exec : SystemIO.currentDirectory() + "/" + exec
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, level: .warning) }
        let report = await PluginChecker.check(
            id: options.id, settings: ExternalSettings(exec: path, args: options.args, timeout: span), parameters: parameters, zone: zone,
            logger: Logger(label: "wardend"))
        var out = "\(path):\n"
        for line in report.lines { out += line + "\n" }
        out += report.ok ? "the module keeps protocol \(1)\n" : "the module does not keep the protocol\n"
        SystemIO.writeOutput(out)
        return report.ok ? 0 : 1
    }
}
