import Logging
import ServiceLifecycle
import WardenCore

/// Drives the `DeadlineSchedule` with a clock: sleeps until the next warning or expiry
/// (or until the engine reports a change), then hands what is due to the engine, which
/// makes each firing happen exactly once in the store.
///
/// Trusts: the store as the record of what has fired. A firing that fails (disk full,
/// database busy) is put back and retried after `retryDelay`; nothing is dropped.
public final class DeadlineService: Service, Sendable {
    let engine: Engine
    let clock: any WardenClock
    let logger: Logger
    let schedule: Locked<DeadlineSchedule>
    let wake = AsyncSignal()
    let stopping = Locked(false)
    let retryDelay: TimeSpan
    /// Counts loop iterations, for liveness checks (the watchdog).
    public let ticks = Locked(0)

    public init(engine: Engine, clock: any WardenClock, logger: Logger, retryDelay: TimeSpan = .seconds(5)) throws {
        self.engine = engine
        self.clock = clock
        self.logger = logger
        self.retryDelay = retryDelay
        self.schedule = Locked(try engine.loadSchedule())
        engine.onDeadlineChanges { [schedule, wake] changes in
            schedule.withLock { s in
                for change in changes {
                    switch change {
                    case .schedule(let entry): s.upsert(entry)
                    case .cancel(let id): s.remove(caseId: id)
                    }
                }
            }
            wake.signal()
        }
    }

    /// The soonest pending deadline, for status lines.
    public var nextDue: (caseId: String, due: Timestamp)? { schedule.withLock { $0.nextDue() } }
    public var pendingCount: Int { schedule.withLock { $0.count } }

    /// Rebuilds the schedule from the store (after a reload changed `warn_before`).
    public func reloadSchedule() throws {
        let fresh = try engine.loadSchedule()
        schedule.withLock { $0 = fresh }
        wake.signal()
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.stopping.value = true
            self.wake.signal()
        }
    }

    /// Firings per transaction at most: deadlines that fall due together share commits
    /// (each commit also bounded in time: `Engine.fire`'s budget, 25 ms for the first
    /// group of a burst, doubling to 400 ms).
    static let batchSize = 1000

    /// Fires everything due now, in group commits of up to `batchSize`; returns when
    /// nothing more is due, or after a failure (what failed is put back, and tried again
    /// after `retryDelay`). Exposed for tests.
    public func fireDue() async {
        while true {
            let due = schedule.withLock { $0.collect(now: clock.now()) }
            if due.isEmpty { return }
            var retry: [DeadlineSchedule.Firing] = []
            var start = due.startIndex
            // The first group is short, so its commit lands soon (and a daemon killed
            // again and again still makes progress); later ones grow to `batchSize`.
            var budget = Duration.milliseconds(25)
            while start < due.endIndex {
                let batch = Array(due[start..<min(start + Self.batchSize, due.endIndex)])
                do {
                    let (taken, failed) = try await engine.fire(batch, budget: budget)
                    budget = min(budget * 2, .milliseconds(400))
                    for (firing, reason) in failed {
                        logger.error("Deadline firing failed; will retry", metadata: ["warden.event": "deadline.retry", "warden.case_id": "\(firing.caseId)", "warden.error": "\(reason)"])
                        retry.append(firing)
                    }
                    start += taken
                } catch {
                    logger.error(
                        "Deadline firings failed; will retry", metadata: ["warden.event": "deadline.retry", "warden.case_id": "\(batch[0].caseId)", "warden.count": "\(due.endIndex - start)", "warden.error": "\(error)"])
                    retry += due[start...]
                    break
                }
            }
            if !retry.isEmpty {
                requeue(retry)
                return
            }
        }
    }

    func loop() async {
        while !stopping.value && !Task.isCancelled {
            ticks.withLock { $0 += 1 }
            let failedBefore = schedule.withLock { $0.count }
            await fireDue()
            var next = schedule.withLock { $0.nextWake() }
            if let n = next, n <= clock.now(), schedule.withLock({ $0.count }) >= failedBefore {
                next = clock.now() + retryDelay  // a failure put work back: back off
            }
            // Under a watchdog, wake at least every heartbeat so liveness shows; without
            // one, sleep until the next firing or a change (no idle wake-ups).
            let cap = SystemdService.heartbeat().map { clock.now() + $0 }
            let until = [next, cap].compactMap { $0 }.min()
            await wake.wait(until: until, clock: clock)
        }
    }

    func requeue(_ firings: [DeadlineSchedule.Firing]) {
        let warnBefore = engine.settings.warnBefore
        schedule.withLock { s in
            for firing in firings {
                switch firing {
                case .expiry(let id, let due):
                    s.upsert(DeadlineSchedule.Entry(caseId: id, due: due, pendingWarnings: []))
                case .warning(let id, let due, let offset, let skipped):
                    var entry = s.entries[id] ?? DeadlineSchedule.Entry(caseId: id, due: due, pendingWarnings: [])
                    entry.pendingWarnings = Array(Set(entry.pendingWarnings + [offset] + skipped)).filter { warnBefore.contains($0) }.sorted(by: >)
                    s.upsert(entry)
                }
            }
        }
    }
}
