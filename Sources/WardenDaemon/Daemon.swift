import Logging
import ServiceLifecycle
import Prometheus
import WardenCore
import WardenMetrics
import WardenRPC
import WardenSpool
import WardenStore

#if canImport(Glibc)
import Glibc
#endif

/// Assembles and runs wardend from a validated configuration.
///
/// Start-up order matters and is the contract of `READY=1`: open the store, ingest the
/// spool backlog (so evidence that arrived in time while the daemon was stopped counts
/// before any deadline fires), listen on the socket, then notify readiness. Nothing
/// before READY reads every case or deadline: counts come from `store_counts`, and the
/// deadline service loads its first window of the schedule when it starts; deadlines
/// that passed while stopped fire then.
public struct Daemon {
    public let config: WardenConfig
    public let clock: any WardenClock
    public let logger: Logger
    /// Where the metrics are kept: wardend passes the registry its swift-metrics backend
    /// writes to, so anything a library reports through swift-metrics is scraped too.
    let metricsRegistry: PrometheusCollectorRegistry

    public init(
        config: WardenConfig, clock: any WardenClock = SystemClock(), logger: Logger,
        metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) {
        self.config = config
        self.clock = clock
        self.logger = logger
        self.metricsRegistry = metricsRegistry
    }

    public struct StartupError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The socket's limits: a connection cap the descriptor limit can hold (configured
    /// higher, it is lowered, and the log says so: no silent cap), and a per-uid cap.
    static func socketLimits(_ config: WardenConfig, softLimit: Int, logger: Logger) -> RPCServer.Limits {
        let affordable = DescriptorBudget.connectionCap(softLimit: softLimit)
        var connections = config.maxConnections ?? affordable
        if connections > affordable {
            logger.warning(
                "socket.max_connections = \(connections) is more than the open-file limit (\(softLimit)) allows after the daemon's own reserve (\(DescriptorBudget.reserve)); using \(affordable). Raise LimitNOFILE to allow more",
                metadata: ["warden.event": "config.warning", "warden.key": "socket.max_connections"])
            connections = affordable
        }
        let perUID = min(config.maxConnectionsPerUID ?? DescriptorBudget.perUIDCap(connections: connections), connections)
        logger.info(
            "Socket limits: \(connections) connections, \(perUID) per uid (open-file limit \(softLimit))",
            metadata: ["warden.event": "socket.limits", "warden.max_connections": "\(connections)", "warden.max_connections_per_uid": "\(perUID)", "warden.fd_soft": "\(softLimit)"])
        return RPCServer.Limits(maxLine: config.maxLine, maxConnections: connections, maxConnectionsPerUID: perUID, maxInFlight: config.maxInFlight)
    }

    /// Seconds since the epoch now, for `process_start_time_seconds` (taken as the
    /// daemon starts, a few milliseconds after the process did).
    static func processStartTime() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Opens the configured store. SQLite: the file in `state_dir`, or a start-up error.
    /// PostgreSQL: a database that cannot be reached (down, restarting, refusing this
    /// node) is waited for, not a failed start that systemd would restart in a loop: the
    /// attempt is retried with a growing delay (1 s to 30 s), each failure logged, and
    /// systemd told why the start takes long (STATUS, EXTEND_TIMEOUT_USEC). An error of
    /// the data or schema (a failed migration, a newer schema) ends the start.
    func openStore(notifier: SystemdNotifier) async throws -> Store {
        guard config.storageBackend == "postgres", let url = config.storageURL else {
            do {
                // The database holds every record: readable by the daemon's user only.
                umask(0o077)
                defer { umask(0o027) }
                return try Store(path: config.databasePath)
            } catch {
                throw StartupError(description: "cannot open the store \(config.databasePath): \(error)")
            }
        }
        let node = config.nodeName
        var delay = TimeSpan.seconds(1)
        var attempts = 0
        while true {
            attempts += 1
            do {
                let store = try Store(postgres: url, node: node)
                if attempts > 1 {
                    logger.notice("Connected to PostgreSQL", metadata: ["warden.event": "store.connected", "warden.node": "\(node)", "warden.attempts": "\(attempts)"])
                }
                return store
            } catch where Store.isEnvironmental(error) {
                logger.error(
                    "Cannot reach PostgreSQL; retrying in \(delay)",
                    metadata: ["warden.event": "store.unavailable", "warden.node": "\(node)", "warden.url": "\(Store.redacted(url))", "warden.error": "\(error)"])
                notifier.notify("STATUS=waiting for PostgreSQL (\(Store.redacted(url))): \(error)\nEXTEND_TIMEOUT_USEC=\((delay.milliseconds + 10_000) * 1000)")
                // In steps, so a stop asked for meanwhile ends the wait.
                for _ in 0..<(delay.milliseconds / 100) {
                    if EarlySignals.received.load(ordering: .relaxed) {
                        throw StartupError(description: "stopped while waiting for PostgreSQL (\(Store.redacted(url)))")
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                delay = TimeSpan(milliseconds: min(delay.milliseconds * 2, 30_000))
            } catch {
                throw StartupError(description: "cannot open the PostgreSQL store \(Store.redacted(url)) as node \(node): \(error)")
            }
        }
    }

    public func run() async throws {
        EarlySignals.install()
        umask(0o027)
        // Before anything is opened: the descriptors are a budget (DescriptorBudget).
        let descriptors = DescriptorBudget.raise()
        if let error = descriptors.error {
            logger.warning(
                "Cannot raise the open-file limit; working within \(descriptors.soft)",
                metadata: ["warden.event": "daemon.fd_limit", "warden.error": "\(error)", "warden.fd_soft": "\(descriptors.soft)", "warden.fd_hard": "\(descriptors.hard)"])
        }
        let limits = Self.socketLimits(config, softLimit: descriptors.soft, logger: logger)
        let metrics = WardenMetrics(
            version: WardenVersion.string, methods: RPCMethods.methodNames.sorted(), startTime: Self.processStartTime(), registry: metricsRegistry)
        let notifier = SystemdNotifier()
        let spool = SpoolDirectory(root: config.spoolDir)
        do {
            try SystemIO.makeDirectories(config.stateDir)
            try spool.prepare()
            try SystemIO.makeDirectories(SystemIO.directoryName(config.socket))
        } catch {
            throw StartupError(description: "cannot create directories: \(error)")
        }

        let store = try await openStore(notifier: notifier)
        // Nodes sharing PostgreSQL keep the database's time (ClusterService measures it).
        let databaseClock = store.node == nil ? nil : DatabaseClock(base: self.clock)
        let clock: any WardenClock = databaseClock ?? self.clock
        // External modules first: their handshakes declare what the registry routes.
        let plugins = PluginHost(logger: logger, metrics: metrics)
        let registrations = await plugins.start(config, builtins: BuiltinPolicies.all, store: store)
        let registry = try PolicyRegistry(registrations: registrations, settings: config.policies)
        for entry in registry.entries {
            if case .failed(let why) = entry.status {
                logger.error("Policy failed to load", metadata: ["warden.event": "policy.failed", "warden.policy": "\(entry.registration.id)", "warden.error": "\(why)"])
            }
        }
        let engine = Engine(
            store: store, settings: Engine.Settings(registry: registry, zone: config.zone, warnBefore: config.warnBefore),
            clock: clock, logger: logger)
        engine.report(to: metrics)
        plugins.attach(engine)
        await plugins.activate(registry)

        let inHand: FilesInHand
        do {
            inHand = try FilesInHand(stateDir: config.stateDir)
        } catch {
            throw StartupError(description: "cannot open the record of spool files in hand: \(error)")
        }
        let spoolService = SpoolService(
            spool: spool, engine: engine, clock: clock, logger: logger, maxFileSize: config.maxFileSize,
            maxLine: config.spoolMaxLine, rescanInterval: config.rescanInterval, inHand: inHand, metrics: metrics)
        // A file that was in hand at two unclean stops is quarantined before the backlog
        // is read, so it cannot crash this start too.
        spoolService.recoverFilesInHand()
        await spoolService.processBacklog()
        await spoolService.recordRejections()
        let deadlineService = DeadlineService(engine: engine, clock: clock, logger: logger)

        let access = AccessPolicy(writers: config.writers)
        for name in access.unknown {
            logger.warning("[access] writers names an unknown user or group", metadata: ["warden.event": "config.warning", "warden.writer": "\(name)"])
        }
        // Live events for event.subscribe, released by the engine after each commit.
        let events = EventBus(clock: clock) { engine.settings.zone }
        engine.onEvents { events.publish($0) }
        engine.onForeignEvents { events.publish($0, foreign: true) }
        // Serialized case.get answers; the engine reports every case a commit changed.
        // Not on a shared database: other nodes change cases without this engine knowing.
        let caseCache = CaseCache(capacity: store.node == nil ? 200_000 : 0)
        engine.onCasesChanged { caseCache.invalidate($0) }
        let methods = RPCMethods(
            engine: engine, spool: spool, clock: clock, logger: logger, access: access, events: events, caseCache: caseCache,
            plugins: plugins, metrics: metrics, nextDeadline: { deadlineService.nextDue })
        let server = RPCServer(
            dispatcher: methods,
            limits: limits,
            logger: logger, threads: 2)
        var listening = config.socket
        if let fd = SystemdNotifier.listenDescriptors().first {
            try await server.adopt(descriptor: fd)
            listening = "fd \(fd) from the service manager"
            logger.info("Listening on the socket passed by the service manager", metadata: ["warden.event": "socket.adopted", "warden.fd": "\(fd)"])
        } else {
            var gid: gid_t?
            if let group = config.socketGroup {
                if let g = gid_t(group) { gid = g } else if let g = getgrnam(group) { gid = g.pointee.gr_gid } else {
                    throw StartupError(description: "socket_group \"\(group)\" is not a known group")
                }
            }
            do {
                try await server.bind(path: config.socket, mode: 0o660, groupID: gid)
            } catch {
                throw StartupError(description: "cannot listen on \(config.socket): \(error)")
            }
        }

        let render: @Sendable () async -> [UInt8] = {
            var snapshot = WardenMetrics.Snapshot()
            // A store that cannot be read leaves its gauges at their last values.
            if let (cases, pending, queues) = try? store.read({ tx in (try tx.caseCounts(), try tx.pendingDeadlineCount(), try tx.queueCounts()) }) {
                snapshot.openCases = cases.open
                snapshot.closedCases = cases.closed
                snapshot.pendingDeadlines = pending
                snapshot.modules = plugins.modules.map { m in
                    let q = queues.first { $0.module == m.id }
                    return (id: m.id, up: m.status.state == .running, waiting: q?.waiting ?? 0, held: q?.held ?? 0)
                }
            }
            snapshot.subscribers = events.subscriberCount
            snapshot.connections = server.connectionCount
            snapshot.spoolIncoming = spool.counts().incoming
            return metrics.render(snapshot)
        }
        methods.onMetrics(render)
        var metricsServer: MetricsHTTPServer?
        if let listen = config.metricsListen {
            // Not being able to listen does not stop the daemon (the metrics stay
            // readable with `wardenctl metrics`); the scrape target shows down.
            let http = MetricsHTTPServer(logger: logger, render: render)
            do {
                let address = try await http.bind(host: listen.host, port: listen.port)
                metricsServer = http
                logger.info(
                    "Serving metrics on http://\(listen)/metrics", metadata: ["warden.event": "metrics.listening", "warden.address": "\(address)"])
                if !listen.isLoopback {
                    logger.warning(
                        "metrics.listen \(listen) is not a loopback address: anyone who can reach it can read the metrics",
                        metadata: ["warden.event": "config.warning", "warden.key": "metrics.listen"])
                }
            } catch {
                await http.shutdown()
                logger.error(
                    "Cannot serve metrics on \(listen): \(error); they stay readable with wardenctl metrics",
                    metadata: ["warden.event": "metrics.failed", "warden.error": "\(error)"])
            }
        }

        let (open, _) = try store.read { try $0.caseCounts() }
        logger.info(
            "wardend \(WardenVersion.string) ready",
            metadata: ["warden.event": "daemon.ready", "warden.socket": "\(listening)", "warden.state_dir": "\(config.stateDir)", "warden.spool_dir": "\(config.spoolDir)", "warden.policies": "\(registry.enabledIds.joined(separator: ","))", "warden.open_cases": "\(open)"])
        notifier.notify("READY=1\nSTATUS=\(open) open case\(open == 1 ? "" : "s"); ready")

        let reloader = Reloader(config: config, engine: engine, methods: methods, deadlines: deadlineService, plugins: plugins, logger: logger, notifier: notifier)
        methods.onReload { await reloader.reload() }

        var optional: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let node = store.node, let databaseClock {
            optional.append(.init(service: ClusterService(store: store, node: node, clock: databaseClock, deadlines: deadlineService, engine: engine, logger: logger)))
        }
        if let keep = config.processedRetention {
            optional.append(.init(service: RetentionService(spool: spool, retention: keep, zone: config.zone, clock: clock, logger: logger)))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: optional + [
                    .init(service: spoolService),
                    .init(service: deadlineService),
                    .init(service: plugins),
                    .init(service: RPCService(server: server)),
                    .init(service: reloader),
                    .init(service: EarlyStopService(), successTerminationBehavior: .gracefullyShutdownGroup),
                    // Last, so graceful shutdown reaches it first: STOPPING=1 at once.
                    .init(service: SystemdService(notifier: notifier, engine: engine, spool: spoolService, deadlines: deadlineService, server: server, logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            engine.flushLogs()
            throw error
        }
        engine.flushLogs()
        await metricsServer?.shutdown()
        try? store.close()
        logger.info("wardend stopped", metadata: ["warden.event": "daemon.stopped"])
    }
}
