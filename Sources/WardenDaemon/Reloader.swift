#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import UnixSignals
import WardenCore

/// Reloads the configuration on SIGHUP and on `daemon.reload`.
///
/// Trusts nothing in the new file: it is validated completely first. If it is invalid,
/// the running configuration stays, every error is logged at priority 3 with its file,
/// line and key, and `daemon.reload` answers with the errors. If it is valid, policies
/// (enabled, parameters), `warn_before`, the time zone and the access list take effect
/// at once, without dropping connections; pending deadlines are kept (the schedule is
/// rebuilt from the store). Paths and socket limits need a restart, and a reload that
/// changes them says so.
public final class Reloader: Service, Sendable {
    let path: String
    let current: Locked<WardenConfig>
    let engine: Engine
    let methods: RPCMethods
    let deadlines: DeadlineService
    let plugins: PluginHost
    let logger: Logger
    let notifier: SystemdNotifier

    public init(config: WardenConfig, engine: Engine, methods: RPCMethods, deadlines: DeadlineService, plugins: PluginHost, logger: Logger, notifier: SystemdNotifier) {
        self.plugins = plugins
        self.path = config.file
        self.current = Locked(config)
        self.engine = engine
        self.methods = methods
        self.deadlines = deadlines
        self.logger = logger
        self.notifier = notifier
    }

    /// Listens for SIGHUP until shutdown.
    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withGracefulShutdownHandler {
            for await _ in signals.cancelOnGracefulShutdown() {
                _ = await self.reload()
            }
        } onGracefulShutdown: {}
    }

    /// Validates and applies the configuration file; returns the enabled policies, or
    /// the errors (the old configuration then stays in force).
    public func reload() async -> Result<[String], ConfigErrors> {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)")
        defer { notifier.notify("READY=1") }
        let loaded = Result { () throws(ConfigErrors) -> WardenConfig in
            try ConfigLoader.load(path: path, registrations: BuiltinPolicies.all)
        }
        switch loaded {
        case .failure(let errors):
            for e in errors.errors {
                logger.error(
                    "Configuration invalid, keeping the running one: \(e.description)",
                    metadata: ["warden.event": "config.invalid", "warden.file": "\(e.file)", "warden.line": "\(e.line.map(String.init) ?? "")", "warden.key": "\(e.key ?? "")"])
            }
            return .failure(errors)
        case .success(let config):
            let registry: PolicyRegistry
            // External modules get `shutdown` and start again with the new config (held
            // inputs are queued again by `activate`).
            await plugins.stopAll()
            let registrations = await plugins.start(config, builtins: BuiltinPolicies.all, store: engine.store)
            do {
                registry = try PolicyRegistry(registrations: registrations, settings: config.policies)
            } catch {
                return .failure(ConfigErrors(errors: error.errors.map { ConfigError(file: path, line: nil, key: $0.key, message: $0.message) }))
            }
            let old = current.value
            engine.settings = Engine.Settings(registry: registry, zone: config.zone, warnBefore: config.warnBefore)
            await plugins.activate(registry)
            methods.updateAccess(AccessPolicy(writers: config.writers))
            deadlines.reloadSchedule()
            current.value = config
            var restart: [String] = []
            if old.socket != config.socket { restart.append("daemon.socket") }
            if old.spoolDir != config.spoolDir { restart.append("daemon.spool_dir") }
            if old.stateDir != config.stateDir { restart.append("daemon.state_dir") }
            if old.maxLine != config.maxLine || old.maxConnections != config.maxConnections || old.maxConnectionsPerUID != config.maxConnectionsPerUID || old.maxInFlight != config.maxInFlight { restart.append("[socket] limits") }
            if old.metricsListen != config.metricsListen { restart.append("metrics.listen") }
            if old.maxFileSize != config.maxFileSize || old.rescanInterval != config.rescanInterval { restart.append("[spool] settings") }
            if !restart.isEmpty {
                logger.warning("Changed settings take effect at the next restart: \(restart.joined(separator: ", "))", metadata: ["warden.event": "config.restart_needed"])
            }
            logger.notice("Configuration reloaded", metadata: ["warden.event": "config.reloaded", "warden.file": "\(path)", "warden.policies": "\(registry.enabledIds.joined(separator: ","))"])
            return .success(registry.enabledIds)
        }
    }
}
