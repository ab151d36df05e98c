#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import WardenCore
import WardenRPC
import WardenSpool

/// Keeps systemd informed (`Type=notify`).
///
/// - `STATUS=`: a one-line summary (open cases, next deadline, spool backlog), sent when
///   it changes, checked every few seconds.
/// - `WATCHDOG=1` every half `WATCHDOG_USEC`, only while the spool loop and the deadline
///   loop have both gone round since the last ping and every socket event loop answers:
///   a hung daemon stops pinging and systemd restarts it.
/// - `STOPPING=1` as soon as graceful shutdown starts (SIGTERM).
///
/// Trusts: `WATCHDOG_USEC`/`WATCHDOG_PID` from the service manager (ignored when the pid
/// is another process's).
public final class SystemdService: Service, Sendable {
    let notifier: SystemdNotifier
    let engine: Engine
    let spool: SpoolService
    let deadlines: DeadlineService
    let server: RPCServer
    let logger: Logger
    let watchdogInterval: Duration?
    let stopping = Locked(false)
    let wake = AsyncSignal()

    public init(notifier: SystemdNotifier, engine: Engine, spool: SpoolService, deadlines: DeadlineService, server: RPCServer, logger: Logger, environment: [String: String] = SystemIO.environment()) {
        self.notifier = notifier
        self.engine = engine
        self.spool = spool
        self.deadlines = deadlines
        self.server = server
        self.logger = logger
        self.watchdogInterval = Self.watchdogInterval(environment)
    }

    /// Half of `WATCHDOG_USEC`, if the watchdog is on for this process.
    public static func watchdogInterval(_ env: [String: String]) -> Duration? {
        guard let usec = env["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 else { return nil }
        if let pid = env["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return .microseconds(usec / 2)
    }

    /// How long a service loop may sleep between rounds so that the watchdog sees it
    /// alive: a quarter of the watchdog timeout (nil: no watchdog, sleep as long as needed).
    public static func heartbeat(_ env: [String: String]) -> TimeSpan? {
        heartbeat(watchdogUsec: env["WATCHDOG_USEC"])
    }

    /// This process's heartbeat. The service loops ask at every turn, so it reads the
    /// one variable, not the whole environment.
    public static func heartbeat() -> TimeSpan? {
        heartbeat(watchdogUsec: SystemIO.environment("WATCHDOG_USEC"))
    }

    static func heartbeat(watchdogUsec: String?) -> TimeSpan? {
        guard let usec = watchdogUsec.flatMap(Int64.init), usec > 0 else { return nil }
        return TimeSpan(milliseconds: max(usec / 4000, 100))
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.stopping.value = true
            self.notifier.notify("STOPPING=1\nSTATUS=stopping: finishing the file in hand and requests in flight")
            self.wake.signal()
        }
    }

    func loop() async {
        // Under a watchdog: every ping (at most 5 s apart, refreshing STATUS too). Under
        // systemd without one: STATUS every 30 s. Otherwise nothing to do until stopped.
        let tick: Duration? = watchdogInterval.map { min($0, .seconds(5)) } ?? (notifier.isActive ? .seconds(30) : nil)
        var lastStatus = ""
        var lastPing = ContinuousClock.now
        var lastTicks = (spool.ticks.value, deadlines.ticks.value)
        while !stopping.value && !Task.isCancelled {
            let status = notifier.isActive ? statusLine() : lastStatus
            if status != lastStatus {
                notifier.notify("STATUS=\(status)")
                lastStatus = status
            }
            if let interval = watchdogInterval, ContinuousClock.now - lastPing >= interval - .milliseconds(50) {
                let ticks = (spool.ticks.value, deadlines.ticks.value)
                var stalled: [String] = []
                if ticks.0 == lastTicks.0 { stalled.append("spool loop") }
                if ticks.1 == lastTicks.1 { stalled.append("deadline loop") }
                if !(await server.eventLoopsRespond(within: .seconds(1))) { stalled.append("socket event loops") }
                if stalled.isEmpty {
                    notifier.notify("WATCHDOG=1")
                } else {
                    logger.critical("Not pinging the watchdog: \(stalled.joined(separator: ", ")) made no progress", metadata: ["warden.event": "watchdog.stalled"])
                }
                lastTicks = ticks
                lastPing = ContinuousClock.now
            }
            let deadline = tick.map { SystemClock().now() + TimeSpan(milliseconds: Int64($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000)) }
            await wake.wait(until: deadline, clock: SystemClock())
        }
    }

    /// `12 open cases; next deadline C1 at 2023-04-06T09:30:00+08:00; spool backlog 0`.
    func statusLine() -> String {
        let open = (try? engine.store.read { try $0.caseCounts() }.open) ?? 0
        var line = "\(open) open case\(open == 1 ? "" : "s")"
        if let next = deadlines.nextDue {
            line += "; next deadline \(next.caseId) at \(TimeFormat.format(next.due, in: engine.settings.zone))"
        } else {
            line += "; no pending deadline"
        }
        line += "; spool backlog \(spool.spool.counts().incoming)"
        if let paused = spool.paused.value { line += "; spool PAUSED: \(paused)" }
        return line
    }
}
