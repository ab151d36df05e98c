import Logging
import ServiceLifecycle
import WardenCore
import WardenPlugin
import WardenPluginProtocol

/// Runs the external modules of the configuration (SPEC.md §6): starts them before the
/// registry is built (their handshakes declare categories, record types and
/// parameters), then runs one runner per module that takes the module's queued inputs
/// in arrival order, asks the module in batches outside any transaction, and has the
/// engine apply the answers. On reload and stop every module gets `shutdown`.
///
/// Trusts nothing of a module: faults (crash, timeout, garbage, an answer that cannot be
/// applied) restart it with back-off and retry the input once; a second failure holds
/// the input (`plugin.error`); a crash loop fails the module, whose inputs wait in its
/// queue. A module never blocks another, the spool, deadlines or the socket: each has
/// its own runner task, and none is called inside a write transaction.
///
/// The runners are unstructured tasks owned by this service: a reload replaces them
/// (cancelled and awaited before the new modules start), and graceful shutdown ends
/// them before the modules are stopped.
public final class PluginHost: Service, Sendable {
    let logger: Logger
    private let state = Locked(State())
    private let attached = Locked<Engine?>(nil)
    var engine: Engine { attached.value! }

    struct State {
        var modules: [String: PluginModule] = [:]
        var runners: [String: Task<Void, Never>] = [:]
        var signals: [String: AsyncSignal] = [:]
        /// Disabled external modules (configured, not started), for `policy.list`.
        var configured: [String: ExternalSettings] = [:]
    }

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The engine the runners feed; before `activate`.
    public func attach(_ engine: Engine) {
        attached.value = engine
        engine.onQueued { [weak self] modules in self?.wake(modules) }
    }

    /// Starts the enabled external modules of `config`, all at once (each bounded by
    /// its timeout), and returns the registrations of the configuration: the built-in
    /// modules not replaced by an external one of the same id, then the external ones
    /// (a module that could not be started is registered `failed` with the reason).
    public func start(_ config: WardenConfig, builtins: [PolicyRegistration]) async -> [PolicyRegistration] {
        let external = config.policies.compactMap { id, s in s.external.map { (id: id, settings: $0, policy: s) } }.sorted { $0.id < $1.id }
        let started = await withTaskGroup(of: (String, PluginModule?, Result<PluginDeclaration, PluginStartError>?).self) { group in
            for e in external {
                guard e.policy.enabled else {
                    group.addTask { (e.id, nil, nil) }
                    continue
                }
                let module = PluginModule(
                    id: e.id, settings: e.settings, parameters: JSONObject(e.policy.parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) }),
                    zone: config.zone, wardenVersion: WardenVersion.string, logger: logger)
                group.addTask { (e.id, module, await module.start()) }
            }
            var out: [String: (PluginModule?, Result<PluginDeclaration, PluginStartError>?)] = [:]
            for await (id, module, result) in group { out[id] = (module, result) }
            return out
        }
        var registrations = builtins.filter { b in !external.contains { $0.id == b.id } }
        state.withLock { s in
            s.configured = Dictionary(uniqueKeysWithValues: external.map { ($0.id, $0.settings) })
            for (id, entry) in started { if let m = entry.0 { s.modules[id] = m } }
        }
        for e in external {
            let id = e.id
            var registration = PolicyRegistration(
                id: id, version: "", categories: [], summary: "external module \(e.settings.exec)", parameters: [],
                make: { _ in ExternalPolicy(id: id) })
            registration.origin = .external
            switch started[id]?.1 {
            case .success(let d)?:
                registration.version = d.version
                registration.categories = d.categories
                registration.summary = d.name
                registration.parameters = d.parameters
                registration.recordTypes = d.recordTypes
            case .failure(let error)?:
                registration.failure = error.description
            case nil:
                break  // disabled
            }
            registrations.append(registration)
        }
        return registrations
    }

    /// After the engine took the registry built from `start`'s registrations: stops the
    /// modules the registry refused (bad parameters, a category taken), puts held
    /// inputs back in their queues, and starts a runner per running module.
    public func activate(_ registry: PolicyRegistry) async {
        for entry in registry.entries where entry.registration.origin == .external {
            guard case .failed(let why) = entry.status, let module = state.withLock({ $0.modules[entry.registration.id] }) else { continue }
            if module.currentStatus.state != .failed {
                await module.stop()
                module.markFailed(why)
            }
        }
        do {
            let released = try await engine.releaseHeld()
            if released > 0 {
                logger.notice("\(released) held input\(released == 1 ? "" : "s") of external modules queued again", metadata: ["warden.event": "plugin.released", "warden.count": "\(released)"])
            }
        } catch {
            logger.error("Could not release held inputs", metadata: ["warden.event": "plugin.release_failed", "warden.error": "\(error)"])
        }
        state.withLock { s in
            for (id, module) in s.modules where module.currentStatus.state == .running {
                let signal = AsyncSignal()
                s.signals[id] = signal
                s.runners[id] = Task { [self] in await self.runner(module, signal: signal) }
                signal.signal()  // whatever is queued already
            }
        }
    }

    /// Stops every runner, then every module (`shutdown`, 5 s, SIGTERM, SIGKILL).
    public func stopAll() async {
        let (runners, modules) = state.withLock { s -> ([Task<Void, Never>], [PluginModule]) in
            defer {
                s.runners = [:]
                s.signals = [:]
                s.modules = [:]
            }
            return (Array(s.runners.values), Array(s.modules.values))
        }
        for r in runners { r.cancel() }
        for r in runners { await r.value }
        await withTaskGroup(of: Void.self) { group in
            for m in modules { group.addTask { await m.stop() } }
        }
    }

    public func wake(_ modules: Set<String>) {
        let signals = state.withLock { s in modules.compactMap { s.signals[$0] } }
        for s in signals { s.signal() }
    }

    /// How an external module is run (`exec`, `timeout`), for `policy.list`.
    public func settings(of id: String) -> ExternalSettings? {
        state.withLock { $0.configured[id] }
    }

    /// What `policy.list` shows of external modules: state, restarts, last error.
    public func status(of id: String) -> PluginModule.Status? {
        state.withLock { $0.modules[id] }?.currentStatus
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await stopAll()
    }

    /// Takes a module's inputs in arrival order until cancelled (see the type's comment).
    func runner(_ module: PluginModule, signal: AsyncSignal) async {
        var isolate = 0  // after a fault in a batch: this many inputs go one at a time
        while !Task.isCancelled {
            let current = module.currentStatus.state
            if current == .failed || current == .stopped {
                await signal.wait()  // until a reload replaces this runner
                continue
            }
            do {
                let items = try engine.store.read { try $0.queued(module: module.id, limit: isolate > 0 ? 1 : PluginProtocol.maxBatch) }
                if items.isEmpty {
                    await signal.wait()
                    continue
                }
                let prepared = try engine.prepare(items, module: module.id)
                let live = prepared.filter { $0.json != nil }
                var answers: [Result<[Decision], PluginProtocolError>] = []
                if !live.isEmpty {
                    switch await module.evaluate(live.map { $0.json! }) {
                    case .success(let r):
                        answers = r
                    case .failure(let fault):
                        if Task.isCancelled { return }
                        if live.count > 1 {
                            isolate = live.count  // find the input that caused it, one by one
                        } else {
                            try await engine.failQueued(live[0].item, module: module.id, reason: fault.description)
                        }
                        _ = await module.restart(after: fault)
                        continue
                    }
                }
                var next = answers.makeIterator()
                let results = prepared.map { $0.json == nil ? .success([]) : next.next()! }
                let outcome = try await engine.apply(module: module.id, prepared, results: results)
                if isolate > 0 { isolate = max(0, isolate - outcome.applied - outcome.rejected.count) }
                if let first = outcome.rejected.first {
                    for r in outcome.rejected { try await engine.failQueued(r.item, module: module.id, reason: r.reason) }
                    _ = await module.restart(after: .invalid(first.reason))
                }
            } catch {
                if Task.isCancelled { return }
                logger.error(
                    "External module \(module.id): could not read or apply its inputs; trying again in 1 s",
                    metadata: ["warden.event": "plugin.runner_error", "warden.plugin": "\(module.id)", "warden.error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// The registry's stand-in for an external module: its inputs are queued
/// (`runsOutOfProcess`) and evaluated by the module's process.
struct ExternalPolicy: Policy {
    let id: String
    var runsOutOfProcess: Bool { true }
    func evaluate(_ input: PolicyInput, facts: Facts) -> [Decision] { [] }
}
