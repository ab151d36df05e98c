import Logging
import ServiceLifecycle
import WardenCore
import WardenMetrics
import WardenPlugin
import WardenPluginProtocol
import WardenStore

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

    /// Counts calls, failures and restarts by module.
    let metrics: WardenMetrics?

    public init(logger: Logger, metrics: WardenMetrics? = nil) {
        self.logger = logger
        self.metrics = metrics
    }

    /// Every external module's id, state and restarts (for the metrics' gauges).
    public var modules: [(id: String, status: PluginModule.Status)] {
        state.withLock { s in s.modules.map { ($0.key, $0.value) } }.map { ($0.0, $0.1.currentStatus) }.sorted { $0.id < $1.id }
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
    ///
    /// A module that cannot start but answered `initialize` before (its last answer is
    /// kept in the store) is registered from that answer and shown `failed`: its
    /// records are validated and queued for it, and wait until a reload brings it back.
    public func start(_ config: WardenConfig, builtins: [PolicyRegistration], store: Store) async -> [PolicyRegistration] {
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
            func take(_ d: PluginDeclaration) {
                registration.version = d.version
                registration.categories = d.categories
                registration.summary = d.name
                registration.parameters = d.parameters
                registration.recordTypes = d.recordTypes
            }
            switch started[id]?.1 {
            case .success(let d)?:
                take(d)
                let text = JSONWriter.string(d.json)
                let now = SystemClock().now()
                do {
                    try await store.write { tx in try tx.saveDeclaration(module: id, text, at: now) }
                } catch {
                    logger.warning("Could not keep the declaration of module \(id)", metadata: ["warden.event": "plugin.declaration_unsaved", "warden.plugin": "\(id)", "warden.error": "\(error)"])
                }
            case .failure(let error)?:
                if let text = try? store.read({ try $0.declaration(module: id) }), let json = try? JSONParser.parse(text),
                    case .success(let d) = PluginDeclaration.parse(json, module: id)
                {
                    take(d)  // known from its last start: registered, its inputs queue; shown failed
                } else {
                    registration.failure = error.description
                }
            case nil:
                // Disabled: its types stay known (from its last start) so its records are
                // stored, not refused.
                if let text = try? store.read({ try $0.declaration(module: id) }), let json = try? JSONParser.parse(text),
                    case .success(let d) = PluginDeclaration.parse(json, module: id)
                {
                    take(d)
                }
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
        // Runners first cancelled, then the modules stopped (which fails any call in
        // flight, so a runner waiting on a busy module returns at once), then the
        // runners awaited.
        for r in runners { r.cancel() }
        await withTaskGroup(of: Void.self) { group in
            for m in modules { group.addTask { await m.stop() } }
        }
        for r in runners { await r.value }
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

    /// Inputs per `evaluate` call once a module has evaluated `trustAfter` inputs in a
    /// row without a fault; until then, and after any fault, one input per call (the
    /// calls are pipelined either way, up to `roundSize` inputs a round: one snapshot
    /// for their facts, one write transaction (one fsync) for their decisions).
    /// One input per call lets a fault be blamed on the input that caused it: the first
    /// call without an answer (a module answers in order).
    static let groupSize = 16
    static let trustAfter = 256
    static let roundSize = 512

    /// A round whose decisions are being applied while later rounds are evaluated.
    struct InFlight {
        let apply: Task<Result<Engine.BatchOutcome, any Error>, Never>
        /// The round's last queue item: the next round takes the inputs queued after it.
        let lastId: Int64
    }

    typealias Answers = [Result<[Result<[Decision], PluginProtocolError>], PluginFault>]

    /// A round sent to the module, its answers not yet all in.
    struct Evaluation {
        let prepared: [Engine.PreparedInput]
        let groups: [[Engine.PreparedInput]]
        let answers: Task<Answers, Never>
        let sent: ContinuousClock.Instant
        let lastId: Int64
    }

    /// Takes a module's inputs in arrival order until cancelled (see the type's comment).
    ///
    /// A round: up to `roundSize` queued inputs, read with their facts from one snapshot,
    /// sent as pipelined `evaluate` calls (`groupSize` inputs a call once trusted). The
    /// answers before the first failed call are applied. The failed call's input is
    /// blamed when it held one input alone (its second failure holds it); a failed call
    /// of several inputs blames none of them, and they go one per call until they are
    /// past, so a poison input is found without holding its neighbours. Any fault
    /// restarts the module.
    ///
    /// Rounds overlap, three deep: while the module works through one round, the next is
    /// read and sent behind it, and the one before is applied and committed. A round's
    /// facts may predate the commits of the two rounds before it, so its inputs about an
    /// order or case those changed are left queued (`Engine.apply`'s `stale`) and
    /// evaluated again on fresh facts. After a fault, or a round that left inputs queued,
    /// the rounds sent after it are dropped (their answers awaited and discarded, so a
    /// fault among them is never blamed on another input) and reading starts again from
    /// the oldest queued input, so inputs are applied in the order they were queued.
    func runner(_ module: PluginModule, signal: AsyncSignal) async {
        var isolate = 0  // this many inputs go one per call
        var clean = 0  // inputs evaluated since the last fault
        var evaluating: Evaluation?  // sent, answers pending
        var applying: InFlight?  // the round before it, being applied
        var earlier = Set<String>()  // what the round before `applying` changed
        /// Abandons the round being evaluated: waits for its answers and throws them
        /// away. A fault among them restarts the module (blaming no input: the inputs
        /// are read again and evaluated in order), unless the module was just restarted
        /// or stopped, which is what failed them.
        func drop(restartOnFault: Bool) async {
            earlier = []
            guard let e = evaluating else { return }
            evaluating = nil
            let answers = await e.answers.value
            if restartOnFault, let fault = answers.lazy.compactMap({ if case .failure(let f) = $0 { f } else { nil } }).first {
                clean = 0
                await restart(module, after: fault)
            }
        }
        while !Task.isCancelled {
            let current = module.currentStatus.state
            if current == .failed || current == .stopped {
                await drop(restartOnFault: false)
                if let f = applying {
                    applying = nil
                    _ = await settle(f, module)
                }
                await signal.wait()  // until a reload replaces this runner
                continue
            }
            do {
                // Read the next round and send it behind the one being evaluated.
                let items = try engine.store.read { try $0.queued(module: module.id, after: evaluating?.lastId ?? applying?.lastId, limit: Self.roundSize) }
                var next: Evaluation?
                if let last = items.last {
                    let prepared = try engine.prepare(items, module: module.id)
                    let groups = Self.groups(prepared, isolate: isolate, trusted: clean >= Self.trustAfter)
                    let inputs = groups.map { $0.compactMap(\.input) }
                    next = Evaluation(
                        prepared: prepared, groups: groups, answers: Task { await module.evaluate(encoded: inputs) }, sent: .now, lastId: last.id)
                }
                guard let round = evaluating else {
                    if let next {
                        evaluating = next
                    } else if let f = applying {
                        applying = nil
                        if await settle(f, module) == nil { clean = 0 }
                        earlier = []
                    } else {
                        await signal.wait()
                    }
                    continue
                }
                evaluating = next
                let answers = await round.answers.value
                if let metrics {
                    let d = ContinuousClock.now - round.sent
                    metrics.pluginRound(module: module.id, calls: round.groups.count, seconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
                    for case .failure(let f) in answers { metrics.pluginFailed(module: module.id, kind: f.kind) }
                }
                if Task.isCancelled { break }
                // The rounds before decide whether these answers stand.
                var stale = earlier
                if let f = applying {
                    applying = nil
                    let previous = await settle(f, module)
                    if previous == nil { clean = 0 }
                    // After a fault, or inputs left queued before these (which go first),
                    // these answers are dropped and the queue read again from its start.
                    guard let previous, previous.deferred == 0 else {
                        await drop(restartOnFault: previous != nil)
                        continue
                    }
                    stale.formUnion(previous.touched)
                    earlier = previous.touched
                } else {
                    earlier = []
                }
                var applyInputs: [Engine.PreparedInput] = []
                var applyResults: [Result<[Decision], PluginProtocolError>] = []
                var fault: PluginFault?
                for (g, answer) in zip(round.groups, answers) {
                    switch answer {
                    case .success(let results):
                        var next = results.makeIterator()
                        for p in g {
                            applyInputs.append(p)
                            applyResults.append(p.input == nil ? .success([]) : next.next()!)
                        }
                        if isolate > 0 { isolate = max(0, isolate - g.count(where: { $0.input != nil })) }
                        continue
                    case .failure(let f):
                        fault = f
                        let live = g.filter { $0.input != nil }
                        if live.count == 1 {
                            try await engine.failQueued(live[0].item, module: module.id, reason: f.description)
                        } else {
                            isolate = max(isolate, live.count)
                        }
                    }
                    break
                }
                guard let fault else {
                    let (engine, id) = (self.engine, module.id)
                    let (inputs, results) = (applyInputs, applyResults)
                    let apply = Task { () -> Result<Engine.BatchOutcome, any Error> in
                        do { return .success(try await engine.apply(module: id, inputs, results: results, stale: stale)) } catch { return .failure(error) }
                    }
                    applying = InFlight(apply: apply, lastId: round.lastId)
                    clean += round.prepared.count
                    continue
                }
                // A fault: what came before it is applied, the module restarted, and the
                // round sent after this one dropped.
                if !applyInputs.isEmpty {
                    let outcome = try await engine.apply(module: module.id, applyInputs, results: applyResults, stale: stale)
                    _ = try await account(outcome, module)
                }
                clean = 0
                await restart(module, after: fault)
                await drop(restartOnFault: false)
            } catch {
                if Task.isCancelled { break }
                await drop(restartOnFault: true)
                if let f = applying {
                    applying = nil
                    _ = await settle(f, module)
                }
                await pauseAfter(error, module)
            }
        }
        if let f = applying { _ = await settle(f, module) }
        if let e = evaluating { _ = await e.answers.value }
    }

    /// A round's inputs in `evaluate` calls: one input per call for the first `isolate`
    /// inputs and until the module is trusted, then `groupSize` a call. Inputs with
    /// nothing to evaluate ride along and are dropped from the queue when their call's
    /// answers are applied.
    static func groups(_ prepared: [Engine.PreparedInput], isolate: Int, trusted: Bool) -> [[Engine.PreparedInput]] {
        var groups: [[Engine.PreparedInput]] = []
        var group: [Engine.PreparedInput] = []
        var live = 0
        var isolating = isolate
        for p in prepared {
            group.append(p)
            if p.input != nil { live += 1 }
            if live >= (isolating > 0 || !trusted ? 1 : groupSize) {
                groups.append(group)
                if isolating > 0 { isolating -= 1 }
                group = []
                live = 0
            }
        }
        if !group.isEmpty { groups.append(group) }
        return groups
    }

    /// Waits until an overlapped round's decisions are applied, and deals with the
    /// answers that could not be (`account`). Returns what applying did, or nil if the
    /// module was restarted or the store failed (the round's inputs are then still
    /// queued, or counted as failed).
    func settle(_ f: InFlight, _ module: PluginModule) async -> Engine.BatchOutcome? {
        do {
            let outcome = try await f.apply.value.get()
            guard let fault = try await account(outcome, module) else { return outcome }
            await restart(module, after: fault)
        } catch {
            await pauseAfter(error, module)
        }
        return nil
    }

    /// Counts a failure for each input whose answer could not be applied (the second
    /// holds it); returns the fault to restart the module for, if any.
    func account(_ outcome: Engine.BatchOutcome, _ module: PluginModule) async throws -> PluginFault? {
        for r in outcome.rejected { try await engine.failQueued(r.item, module: module.id, reason: r.reason) }
        metrics?.pluginFailed(module: module.id, kind: "invalid", outcome.rejected.count)
        return outcome.rejected.first.map { .invalid($0.reason) }
    }

    func restart(_ module: PluginModule, after fault: PluginFault) async {
        let before = module.currentStatus.restarts
        _ = await module.restart(after: fault)
        metrics?.pluginRestarted(module: module.id, module.currentStatus.restarts - before)
    }

    /// After the store failed under a runner: logs it and waits a second.
    func pauseAfter(_ error: any Error, _ module: PluginModule) async {
        logger.error(
            "External module \(module.id): could not read or apply its inputs; trying again in 1 s",
            metadata: ["warden.event": "plugin.runner_error", "warden.plugin": "\(module.id)", "warden.error": "\(error)"])
        try? await Task.sleep(for: .seconds(1))
    }
}

/// The registry's stand-in for an external module: its inputs are queued
/// (`runsOutOfProcess`) and evaluated by the module's process.
struct ExternalPolicy: Policy {
    let id: String
    var runsOutOfProcess: Bool { true }
    func evaluate(_ input: PolicyInput, facts: Facts) -> [Decision] { [] }
}
