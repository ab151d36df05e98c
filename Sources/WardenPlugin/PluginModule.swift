import Logging
import WardenCore
import WardenPluginProtocol

/// Supervises one external module (SPEC.md §6): starts its process and performs the
/// handshake, forwards `evaluate` calls, restarts it after a fault with back-off (1 s
/// doubling to 60 s), and marks it `failed` after five restarts within 60 s.
///
/// Trusts nothing of the module: its declaration is parsed by `PluginDeclaration.parse`,
/// its answers by `PluginDecisions`. A restarted module must declare what it declared
/// at the start (its record types and categories are in force until a reload).
///
/// One caller at a time drives `evaluate` and `restart` (the module's runner); the
/// status is read from anywhere.
public final class PluginModule: Sendable {
    public enum State: String, Sendable {
        case starting, running, restarting, failed, stopped
    }

    public struct Status: Sendable, Equatable {
        public var state: State = .starting
        public var restarts = 0
        public var error: String?
        public var pid: Int32?
    }

    public let id: String
    public let settings: ExternalSettings
    let parameters: JSONObject
    let zone: Zone
    let wardenVersion: String
    let logger: Logger
    private let status = Locked(Status())
    private let process = Locked<PluginProcess?>(nil)
    private let declared = Locked<PluginDeclaration?>(nil)
    private let restartTimes = Locked<[ContinuousClock.Instant]>([])
    private let backoff = Locked<Duration>(.seconds(1))

    /// Restarts within `crashWindow` that mark the module failed.
    public static let crashLimit = 5
    public static let crashWindow = Duration.seconds(60)
    public static let firstBackoff = Duration.seconds(1)
    public static let longestBackoff = Duration.seconds(60)

    public init(id: String, settings: ExternalSettings, parameters: JSONObject, zone: Zone, wardenVersion: String, logger: Logger) {
        self.id = id
        self.settings = settings
        self.parameters = parameters
        self.zone = zone
        self.wardenVersion = wardenVersion
        var logger = logger
        logger[metadataKey: "warden.plugin"] = "\(id)"
        self.logger = logger
    }

    public var currentStatus: Status { status.value }
    public var declaration: PluginDeclaration? { declared.value }

    /// Starts the process and performs the handshake. On failure the module is
    /// `failed` with the reason, and no process is left running.
    public func start() async -> Result<PluginDeclaration, PluginStartError> {
        status.withLock { $0.state = .starting }
        switch await launch() {
        case .success(let (p, declaration)):
            process.value = p
            declared.value = declaration
            status.withLock {
                $0.state = .running
                $0.pid = p.pid
                $0.error = nil
            }
            logger.info(
                "External module \(id) started: \(declaration.name) \(declaration.version)",
                metadata: ["warden.event": "plugin.started", "warden.pid": "\(p.pid)", "warden.categories": "\(declaration.categories.joined(separator: ","))"])
            return .success(declaration)
        case .failure(let e):
            markFailed(e.description)
            return .failure(e)
        }
    }

    private func launch() async -> Result<(PluginProcess, PluginDeclaration), PluginStartError> {
        let p: PluginProcess
        do {
            p = try await PluginProcess.start(module: id, settings: settings, logger: logger)
        } catch let e as PluginStartError {
            return .failure(e)
        } catch {
            return .failure(PluginStartError("\(error)"))
        }
        let params = PluginDeclaration.initializeParams(module: id, parameters: parameters, timezone: zone.identifier, wardenVersion: wardenVersion)
        let answer = await p.call("initialize", params, timeout: settings.timeout)
        let declaration: PluginDeclaration
        switch answer {
        case .failure(let fault):
            p.kill(fault)
            _ = await p.waitForExit(timeout: .seconds(5))
            return .failure(PluginStartError("initialize: \(fault)\(p.exitStatus.map { "; the module \($0)" } ?? "")"))
        case .success(let result):
            switch PluginDeclaration.parse(result, module: id) {
            case .success(let d): declaration = d
            case .failure(let e):
                await p.stop(grace: .seconds(1), termGrace: .seconds(1))
                return .failure(PluginStartError(e.message))
            }
        }
        if let before = declared.value, before != declaration {
            await p.stop(grace: .seconds(1), termGrace: .seconds(1))
            return .failure(PluginStartError("the module declared other categories, record types or parameters than at its start; reload to take them"))
        }
        return .success((p, declaration))
    }

    /// `evaluate` calls, pipelined, one per group of inputs: for each group the
    /// decisions of each of its inputs, or the fault of its call.
    public func evaluate(_ groups: [[JSON]]) async -> [Result<[Result<[Decision], PluginProtocolError>], PluginFault>] {
        await evaluate(encoded: groups.map { $0.map { JSONWriter.bytes($0) } })
    }

    /// `evaluate` with each input given as its JSON text (one line: no line breaks).
    public func evaluate(encoded groups: [[[UInt8]]]) async -> [Result<[Result<[Decision], PluginProtocolError>], PluginFault>] {
        guard let p = process.value, status.value.state == .running else {
            return groups.map { _ in .failure(.exited("the module is not running")) }
        }
        let params = groups.map { inputs -> [UInt8] in
            var out = Array(#"{"inputs":["#.utf8)
            out.reserveCapacity(inputs.reduce(16) { $0 + $1.count + 1 })
            for (i, input) in inputs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: input)
            }
            out.append(contentsOf: "]}".utf8)
            return out
        }
        let answers = await p.callMany("evaluate", encoded: params, timeout: settings.timeout)
        var out: [Result<[Result<[Decision], PluginProtocolError>], PluginFault>] = []
        for (group, answer) in zip(groups, answers) {
            switch answer {
            case .failure(let fault): out.append(.failure(fault))
            case .success(let result):
                switch PluginDecisions.results(result, inputs: group.count, module: id, zone: zone) {
                case .failure(let e): out.append(.failure(.invalid(e.message)))
                case .success(let results): out.append(.success(results))
                }
            }
        }
        if out.allSatisfy({ if case .success = $0 { true } else { false } }) { backoff.value = Self.firstBackoff }
        return out
    }

    /// After a fault: kills the process group, waits the back-off, starts a new
    /// process. Returns false when the module is now `failed` (crash loop, or it could
    /// not be started again).
    public func restart(after fault: PluginFault) async -> Bool {
        let now = ContinuousClock.now
        let recent = restartTimes.withLock { times -> Int in
            times = times.filter { now - $0 < Self.crashWindow } + [now]
            return times.count
        }
        if let p = process.value {
            p.kill(fault)
            _ = await p.waitForExit(timeout: .seconds(5))
        }
        process.value = nil
        status.withLock {
            $0.restarts += 1
            $0.error = fault.description
            $0.pid = nil
        }
        if recent >= Self.crashLimit {
            markFailed("\(recent) restarts within \(Self.crashWindow); last fault: \(fault)")
            return false
        }
        let wait = backoff.withLock { b -> Duration in
            defer { b = min(b * 2, Self.longestBackoff) }
            return b
        }
        status.withLock { $0.state = .restarting }
        logger.warning(
            "External module \(id) restarts in \(wait) after a fault: \(fault)",
            metadata: ["warden.event": "plugin.restart", "warden.error": "\(fault)", "warden.restarts": "\(status.value.restarts)"])
        try? await Task.sleep(for: wait)
        if Task.isCancelled { return false }
        switch await launch() {
        case .success(let (p, _)):
            process.value = p
            status.withLock {
                $0.state = .running
                $0.pid = p.pid
            }
            return true
        case .failure(let e):
            // A failed start counts as a fault of its own: try again with back-off, up to
            // the crash limit.
            return await restart(after: .exited("could not be started again: \(e)"))
        }
    }

    /// Marks the module failed (the host does so when the registry refuses its
    /// parameters or categories).
    public func markFailed(_ reason: String) {
        status.withLock {
            $0.state = .failed
            $0.error = reason
            $0.pid = nil
        }
        logger.error("External module \(id) failed: \(reason)", metadata: ["warden.event": "plugin.failed", "warden.error": "\(reason)"])
    }

    /// Stops the process as SPEC.md §6 says (`shutdown`, 5 s, SIGTERM, SIGKILL).
    public func stop() async {
        let p = process.withLock { p -> PluginProcess? in
            defer { p = nil }
            return p
        }
        if status.value.state != .failed { status.withLock { $0.state = .stopped } }
        await p?.stop()
    }
}
