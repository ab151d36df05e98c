import ArgumentParser
import Foundation
import Logging
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
        subcommands: [Run.self, CheckConfig.self],
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
                FileHandle.standardError.write(Data("wardend: invalid configuration:\n\(error.description)\n".utf8))
                throw ExitCode(1)
            }
            let level = Logger.Level(rawValue: config.logLevel) ?? .info
            // WARDEN_LOG_TARGET=stderr|journal overrides the choice (tests read stderr).
            let target = ProcessInfo.processInfo.environment["WARDEN_LOG_TARGET"]
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
            do {
                try await Daemon(config: config, logger: logger).run()
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
                let enabled = BuiltinPolicies.all.filter { config.policies[$0.id]?.enabled ?? true }.map(\.id)
                print("  policies   \(enabled.joined(separator: ", "))")
                for name in AccessPolicy(writers: config.writers).unknown {
                    print("  warning: [access] writers: \"\(name)\" is not a known user or group")
                }
            case .failure(let error):
                FileHandle.standardError.write(Data("\(error.description)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
