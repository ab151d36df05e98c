import CWardenSys
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import WardenCore
import WardenPluginProtocol
import WardenRPC

/// Why a call to a module did not give a usable answer. Every fault is the module's:
/// the daemon applies nothing of the input and the supervisor decides what follows.
public enum PluginFault: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer within the call's timeout.
    case timeout(String)
    /// The process exited, or closed its stdout, or could not be written to.
    case exited(String)
    /// It wrote something that is not the protocol (not JSON, no id, an unknown id, a
    /// line over the limit).
    case garbage(String)
    /// A JSON-RPC error answer.
    case error(code: Int, message: String)
    /// An answer of the wrong shape or with a decision that cannot be applied.
    case invalid(String)

    /// The kind, for the metrics: `timeout`, `exited`, `garbage`, `error`, `invalid`.
    public var kind: String {
        switch self {
        case .timeout: "timeout"
        case .exited: "exited"
        case .garbage: "garbage"
        case .error: "error"
        case .invalid: "invalid"
        }
    }

    public var description: String {
        switch self {
        case .timeout(let s): "no answer within \(s)"
        case .exited(let s): s
        case .garbage(let s): "protocol violation: \(s)"
        case .error(let code, let message): "JSON-RPC error \(code): \(message)"
        case .invalid(let s): "invalid answer: \(s)"
        }
    }
}

/// One running module process: spawned in its own process group, spoken to over
/// pipes with line-delimited JSON-RPC (requests may be pipelined), its stderr logged
/// line by line with `WARDEN_PLUGIN=<id>`.
///
/// Trusts nothing the process writes: stdout lines are parsed with the line limit of
/// `PluginProtocol.maxLine`; an answer to an id that was not asked is a protocol
/// violation; stderr lines are cut at 4 KiB and rate-limited. Every call has a
/// timeout. The process is reaped by a thread of its own (no zombies) and killed with
/// its whole process group.
public final class PluginProcess: Sendable {
    public let module: String
    public let pid: pid_t
    let calls: CallTable
    let channel: Channel
    /// The answer to the last call sent: the next call's timeout starts from it.
    private let lastAnswer = Locked<EventLoopFuture<Void>?>(nil)
    let stderrChannel: Channel
    let logger: Logger
    private let exit = Locked(ExitState())

    struct ExitState {
        var status: String?
        var waiters: [@Sendable (String) -> Void] = []
    }

    /// The event loop that carries the pipes of every module (few processes, little
    /// traffic: one thread is plenty).
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Starts `settings.exec` with `args`, the protocol environment added to the
    /// daemon's. Throws if the executable cannot be started.
    public static func start(module: String, settings: ExternalSettings, logger: Logger) async throws -> PluginProcess {
        // SIGPIPE would kill the daemon when a module closes its stdin early.
        signal(SIGPIPE, SIG_IGN)
        var toChild: [Int32] = [0, 0]
        var fromChild: [Int32] = [0, 0]
        var errors: [Int32] = [0, 0]
        guard warden_pipe_cloexec(&toChild) == 0 else { throw PluginStartError("pipe: \(String(cString: strerror(errno)))") }
        guard warden_pipe_cloexec(&fromChild) == 0 else {
            close(toChild[0]); close(toChild[1])
            throw PluginStartError("pipe: \(String(cString: strerror(errno)))")
        }
        guard warden_pipe_cloexec(&errors) == 0 else {
            for fd in toChild + fromChild { close(fd) }
            throw PluginStartError("pipe: \(String(cString: strerror(errno)))")
        }
        var environment = SystemIO.environment()
        // The service manager's variables are the daemon's, not the module's (a module
        // must not notify systemd or take the daemon's sockets as its own).
        for key in ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID"] { environment[key] = nil }
        environment["WARDEN_PLUGIN_PROTOCOL"] = "\(PluginProtocol.version)"
        environment["WARDEN_PLUGIN_ID"] = module
        let argv = [settings.exec] + settings.args
        let envp = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let pid = SystemIO.withCStrings(argv) { cargv in
            SystemIO.withCStrings(envp) { cenvp in
                warden_spawn(settings.exec, cargv, cenvp, toChild[0], fromChild[1], errors[1])
            }
        }
        let spawnErrno = errno
        close(toChild[0]); close(fromChild[1]); close(errors[1])
        guard pid > 0 else {
            close(toChild[1]); close(fromChild[0]); close(errors[0])
            throw PluginStartError("cannot run \(settings.exec): \(String(cString: strerror(spawnErrno)))")
        }
        var pluginLogger = logger
        pluginLogger[metadataKey: "warden.plugin"] = "\(module)"
        let calls = CallTable(module: module)
        let channel: Channel
        let stderrChannel: Channel
        do {
            channel = try await NIOPipeBootstrap(group: group)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(PluginOutputHandler(calls: calls)) }
                }
                .takingOwnershipOfDescriptors(input: fromChild[0], output: toChild[1]).get()
        } catch {
            close(errors[0])
            _ = warden_kill_group(pid, SIGKILL)
            reap(pid)
            throw PluginStartError("cannot attach to the pipes of \(settings.exec): \(error)")
        }
        do {
            let errLogger = pluginLogger
            stderrChannel = try await NIOPipeBootstrap(group: group)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(PluginStderrHandler(logger: errLogger)) }
                }
                .takingOwnershipOfDescriptor(input: errors[0]).get()
        } catch {
            _ = try? await channel.close()
            _ = warden_kill_group(pid, SIGKILL)
            reap(pid)
            throw PluginStartError("cannot attach to the stderr of \(settings.exec): \(error)")
        }
        let process = PluginProcess(module: module, pid: pid, calls: calls, channel: channel, stderrChannel: stderrChannel, logger: pluginLogger)
        process.reapInBackground()
        return process
    }

    private init(module: String, pid: pid_t, calls: CallTable, channel: Channel, stderrChannel: Channel, logger: Logger) {
        self.module = module
        self.pid = pid
        self.calls = calls
        self.channel = channel
        self.stderrChannel = stderrChannel
        self.logger = logger
    }

    /// Sends a request and waits for its answer, at most `timeout`.
    public func call(_ method: String, _ params: JSON, timeout: TimeSpan) async -> Result<JSON, PluginFault> {
        await callMany(method, [params], timeout: timeout)[0]
    }

    /// Pipelined requests: all written at once, in order; answers in any order. The
    /// timeout of each runs from when the module could start on it (its send, or the
    /// answer to the call sent before it, in this batch or an earlier one still in
    /// flight), so a long pipeline to a module that works through it in order is not
    /// cut short.
    public func callMany(_ method: String, _ params: [JSON], timeout: TimeSpan) async -> [Result<JSON, PluginFault>] {
        await callMany(method, encoded: params.map { JSONWriter.bytes($0) }, timeout: timeout)
    }

    /// `callMany` with each call's `params` given as JSON text (one line: no line
    /// breaks), so a caller can write parts of it as it already holds them.
    public func callMany(_ method: String, encoded params: [[UInt8]], timeout: TimeSpan) async -> [Result<JSON, PluginFault>] {
        guard !params.isEmpty else { return [] }
        let loop = channel.eventLoop
        let calls = self.calls
        var promises: [EventLoopPromise<Result<JSON, PluginFault>>] = []
        var ids: [Int] = []
        var buffer = channel.allocator.buffer(capacity: 1024)
        // Ids taken, the calls written, and chained after the batch before, in one step:
        // batches sent from several tasks keep the order of their ids on the pipe and on
        // the timers.
        let previous = lastAnswer.withLock { last -> EventLoopFuture<Void>? in
            for p in params {
                let promise = loop.makePromise(of: Result<JSON, PluginFault>.self)
                promises.append(promise)
                guard let id = calls.register(promise) else {
                    ids.append(0)
                    continue
                }
                ids.append(id)
                buffer.writeString(#"{"jsonrpc":"2.0","id":\#(id),"method":"#)
                buffer.writeBytes(JSONWriter.bytes(.string(method)))
                buffer.writeString(#","params":"#)
                buffer.writeBytes(p)
                buffer.writeString("}\n")
            }
            let live = ids.filter { $0 != 0 }
            guard !live.isEmpty else { return nil }
            channel.writeAndFlush(buffer).whenFailure { error in
                for id in live { calls.deliver(id, .failure(.exited("cannot write to the module: \(error)"))) }
            }
            defer { last = promises.last!.futureResult.map { _ in } }
            return last
        }
        if ids.contains(where: { $0 != 0 }) {
            let futures = promises.map(\.futureResult)
            let delay = TimeAmount.milliseconds(timeout.milliseconds)
            let ids = ids
            @Sendable func arm(_ i: Int) {
                guard i < ids.count else { return }
                let id = ids[i]
                guard id != 0 else { return arm(i + 1) }
                // A module that does not answer in time is broken: every call still in
                // flight fails with the timeout (the caller restarts it), so a hang costs
                // one timeout, not one per call queued behind it.
                let timer = loop.scheduleTask(in: delay) { if calls.isPending(id) { calls.breakAll(.timeout("\(timeout)")) } }
                futures[i].whenComplete { _ in
                    timer.cancel()
                    arm(i + 1)
                }
            }
            if let previous {
                previous.whenComplete { _ in arm(0) }
            } else {
                loop.execute { arm(0) }
            }
        }
        var results: [Result<JSON, PluginFault>] = []
        for promise in promises {
            results.append((try? await promise.futureResult.get()) ?? .failure(.exited("the call was abandoned")))
        }
        return results
    }

    /// Sends a notification (no answer expected); failures are ignored.
    public func notify(_ method: String, _ params: JSON) {
        let message: JSON = ["jsonrpc": "2.0", "method": .string(method), "params": params]
        var buffer = channel.allocator.buffer(capacity: 64)
        buffer.writeBytes(JSONWriter.bytes(message))
        buffer.writeInteger(UInt8(ascii: "\n"))
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// The exit status, once the process has exited (and was reaped).
    public var exitStatus: String? { exit.value.status }

    /// Waits for the process to exit, at most `timeout`; true if it did.
    public func waitForExit(timeout: Duration) async -> Bool {
        if exitStatus != nil { return true }
        let pending = Locked<CheckedContinuation<Bool, Never>?>(nil)
        @Sendable func resolve(_ exited: Bool) {
            let c = pending.withLock { c -> CheckedContinuation<Bool, Never>? in
                defer { c = nil }
                return c
            }
            c?.resume(returning: exited)
        }
        return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            pending.value = c
            let exited = exit.withLock { state -> Bool in
                if state.status != nil { return true }
                state.waiters.append { _ in resolve(true) }
                return false
            }
            if exited { return resolve(true) }
            let ms = Int64(timeout.components.seconds) * 1000 + Int64(timeout.components.attoseconds / 1_000_000_000_000_000)
            channel.eventLoop.scheduleTask(in: .milliseconds(ms)) { resolve(false) }
        }
    }

    /// Kills the whole process group with SIGKILL, fails every call in flight with
    /// `fault`, and closes the pipes.
    public func kill(_ fault: PluginFault) {
        calls.breakAll(fault)
        _ = warden_kill_group(pid, SIGKILL)
        channel.close(promise: nil)
    }

    /// The stop of SPEC.md §6: `shutdown`, then stdin closed; `grace` to exit, then
    /// SIGTERM to the group, then SIGKILL. Whatever is left of the group (a grandchild
    /// that ignored SIGTERM) is killed too.
    public func stop(grace: Duration = .seconds(5), termGrace: Duration = .seconds(2)) async {
        calls.breakAll(.exited("the module is being stopped"))
        notify("shutdown", .object(JSONObject()))
        _ = try? await channel.close(mode: .output).get()
        if !(await waitForExit(timeout: grace)) {
            logger.warning("Module did not exit within \(grace) of shutdown; sending SIGTERM", metadata: ["warden.event": "plugin.stop", "warden.pid": "\(pid)"])
            _ = warden_kill_group(pid, SIGTERM)
            if !(await waitForExit(timeout: termGrace)) {
                logger.warning("Module did not exit after SIGTERM; sending SIGKILL", metadata: ["warden.event": "plugin.stop", "warden.pid": "\(pid)"])
            }
        }
        _ = warden_kill_group(pid, SIGKILL)
        _ = await waitForExit(timeout: .seconds(5))
        channel.close(promise: nil)
        stderrChannel.close(promise: nil)
    }

    private func reapInBackground() {
        let pid = self.pid
        let work: @Sendable () -> Void = { [self] in
            let status = Self.reap(pid)
            let waiters = exit.withLock { state -> [@Sendable (String) -> Void] in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            }
            calls.breakAll(.exited("the module \(status)"))
            for w in waiters { w(status) }
        }
        let thread = OSThread(block: work)
        thread.name = "warden-reap-\(pid)"
        do {
            try thread.start()
        } catch {
            // No thread to wait with: reap from a task instead (it holds one pool thread
            // until the module exits, which beats leaving a zombie).
            Task.detached { work() }
        }
    }

    /// Waits for `pid` and describes how it ended.
    @discardableResult
    static func reap(_ pid: pid_t) -> String {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return "could not be waited for (\(String(cString: strerror(errno))))" }
        }
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "was killed by signal \(signal)"
    }
}

/// The calls in flight on one process, by id; each is resolved exactly once (answer,
/// timeout, or the process breaking, whichever comes first).
final class CallTable: Sendable {
    let module: String
    private let state = Locked(State())

    struct State {
        var nextId = 1
        var pending: [Int: EventLoopPromise<Result<JSON, PluginFault>>] = [:]
        var broken: PluginFault?
    }

    init(module: String) { self.module = module }

    /// A new id for `promise`, or nil (and the promise resolved) if the process is
    /// already broken.
    func register(_ promise: EventLoopPromise<Result<JSON, PluginFault>>) -> Int? {
        let outcome: Result<Int, PluginFault> = state.withLock { s in
            if let broken = s.broken { return .failure(broken) }
            let id = s.nextId
            s.nextId += 1
            s.pending[id] = promise
            return .success(id)
        }
        switch outcome {
        case .success(let id): return id
        case .failure(let fault):
            promise.succeed(.failure(fault))
            return nil
        }
    }

    /// Resolves call `id`; false if no such call is in flight.
    @discardableResult
    func deliver(_ id: Int, _ result: Result<JSON, PluginFault>) -> Bool {
        guard let p = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return false }
        p.succeed(result)
        return true
    }

    /// Fails every call in flight, and every later one, with `fault` (the first fault
    /// wins).
    func breakAll(_ fault: PluginFault) {
        let (waiting, first) = state.withLock { s -> ([EventLoopPromise<Result<JSON, PluginFault>>], PluginFault) in
            if s.broken == nil { s.broken = fault }
            defer { s.pending = [:] }
            return (Array(s.pending.values), s.broken!)
        }
        for p in waiting { p.succeed(.failure(first)) }
    }

    var brokenFault: PluginFault? { state.withLock { $0.broken } }

    func isPending(_ id: Int) -> Bool { state.withLock { $0.pending[id] != nil } }
}

/// Reads the module's stdout: one JSON-RPC answer per line.
final class PluginOutputHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let calls: CallTable
    var framer = LineFramer(maxLine: PluginProtocol.maxLine)
    var buffer: ByteBuffer?
    var lineNumber = 0

    init(calls: CallTable) { self.calls = calls }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
        while let event = framer.next(&buffer!) {
            handle(event, context: context)
        }
        buffer!.discardReadBytes()
    }

    func handle(_ event: LineEvent, context: ChannelHandlerContext) {
        lineNumber += 1
        switch event {
        case .tooLong:
            fault(.garbage("stdout line \(lineNumber) is longer than \(PluginProtocol.maxLine) bytes"), context: context)
        case .line(let line):
            guard let json = try? JSONParser.parse(line.readableBytesView), case .object(let o) = json else {
                return fault(.garbage("stdout line \(lineNumber) is not a JSON object: \(String(decoding: line.readableBytesView.prefix(120), as: UTF8.self))"), context: context)
            }
            guard let id = o["id"]?.int else {
                // A notification from the module (none is defined in version 1): ignored.
                if o["method"] != nil, o["id"] == nil { return }
                return fault(.garbage("stdout line \(lineNumber) has no integer \"id\""), context: context)
            }
            let result: Result<JSON, PluginFault>
            if let r = o["result"] {
                result = .success(r)
            } else if case .object(let e)? = o["error"] {
                result = .failure(.error(code: e["code"]?.int ?? 0, message: String((e["message"]?.string ?? "").prefix(1000))))
            } else {
                return fault(.garbage("stdout line \(lineNumber): an answer needs \"result\" or \"error\""), context: context)
            }
            if !calls.deliver(id, result) {
                // Late answers to calls that timed out are expected; others are not.
                if calls.brokenFault == nil, id <= 0 { fault(.garbage("an answer to id \(id), which was never asked"), context: context) }
            }
        }
    }

    func fault(_ f: PluginFault, context: ChannelHandlerContext) {
        calls.breakAll(f)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if var rest = buffer, let event = framer.last(&rest) { handle(event, context: context) }
        calls.breakAll(.exited("the module closed its stdout"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        calls.breakAll(.exited("reading from the module failed: \(error)"))
        context.close(promise: nil)
    }
}

/// Logs the module's stderr, one journal entry per line, with the line's `<N>` prefix
/// as its priority (sd-daemon style) and `WARDEN_PLUGIN`. At most `burst` lines a
/// second are logged; the rest are counted and the count is logged.
final class PluginStderrHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let logger: Logger
    var framer = LineFramer(maxLine: 4096)
    var buffer: ByteBuffer?
    let burst = 200
    var windowStart = NIODeadline.now()
    var inWindow = 0
    var dropped = 0

    init(logger: Logger) { self.logger = logger }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
        while let event = framer.next(&buffer!) {
            switch event {
            case .line(let line): log(String(decoding: line.readableBytesView, as: UTF8.self))
            case .tooLong:
                log("(a stderr line over 4096 bytes was cut)")
                framer = LineFramer(maxLine: 4096)
            }
        }
        buffer!.discardReadBytes()
    }

    var loop: EventLoop?

    func handlerAdded(context: ChannelHandlerContext) { loop = context.eventLoop }

    /// Logs how many lines were dropped, if any (at the end of a window, or when stderr
    /// closes).
    func flushDropped() {
        guard dropped > 0 else { return }
        logger.warning(
            "Module wrote \(dropped) more stderr lines than the \(burst) a second that are logged; they were dropped",
            metadata: ["warden.event": "plugin.stderr_dropped", "warden.dropped": "\(dropped)"])
        dropped = 0
    }

    func log(_ text: String) {
        let now = NIODeadline.now()
        if now - windowStart >= .seconds(1) {
            flushDropped()
            windowStart = now
            inWindow = 0
        }
        inWindow += 1
        guard inWindow <= burst else {
            dropped += 1
            if dropped == 1 {
                // Said within a second even if the module writes nothing more.
                loop?.scheduleTask(in: .seconds(1)) { [self] in flushDropped() }
            }
            return
        }
        var message = Substring(text)
        var level = Logger.Level.info
        if message.utf8.count >= 3, message.hasPrefix("<"), let digit = message.dropFirst().first, let n = digit.wholeNumberValue, n <= 7,
            message.dropFirst(2).hasPrefix(">")
        {
            level = [.critical, .critical, .critical, .error, .warning, .notice, .info, .debug][n]
            message = message.dropFirst(3)
        }
        logger.log(level: level, "\(message)", metadata: ["warden.event": "plugin.stderr"])
    }

    func channelInactive(context: ChannelHandlerContext) {
        if var rest = buffer, case .line(let line)? = framer.last(&rest) { log(String(decoding: line.readableBytesView, as: UTF8.self)) }
        flushDropped()
        context.fireChannelInactive()
    }
}

/// An executable that could not be started.
public struct PluginStartError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
