import Logging
import ServiceLifecycle
import WardenCore

/// Drives the `DeadlineSchedule` with a clock: sleeps until the next warning or expiry
/// (or until the engine reports a change), then hands what is due to the engine, which
/// makes each firing happen exactly once in the store.
///
/// Memory holds one window of the schedule (`windowSize` deadlines, those that need
/// attention soonest), loaded from the store's `next_at` index when time reaches the
/// window's end; start-up reads one window, not every open deadline.
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
    let windowSize: Int
    /// `warn_before` settings asked for (a reload counts one up) and the last one whose
    /// `next_at` values the store was checked against.
    let attention = Locked((wanted: 0, checked: -1))
    /// Counts loop iterations, for liveness checks (the watchdog).
    public let ticks = Locked(0)

    /// Deadlines held in memory per window (a burst larger than this is fired window
    /// by window).
    public static let defaultWindowSize = 10_000

    public init(engine: Engine, clock: any WardenClock, logger: Logger, retryDelay: TimeSpan = .seconds(5), windowSize: Int = DeadlineService.defaultWindowSize) {
        self.engine = engine
        self.clock = clock
        self.logger = logger
        self.retryDelay = retryDelay
        self.windowSize = windowSize
        self.schedule = Locked(DeadlineSchedule(capacity: windowSize))
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

    /// The soonest pending deadline, for status lines (from the store's index).
    public var nextDue: (caseId: String, due: Timestamp)? { (try? engine.store.read { try $0.nextDeadline() }) ?? nil }
    public var pendingCount: Int { (try? engine.store.read { try $0.pendingDeadlineCount() }) ?? 0 }
    /// Deadlines held in memory (at most about twice `windowSize`).
    public var heldCount: Int { schedule.withLock { $0.count } }

    /// Loads the schedule again from the store (after a reload changed `warn_before`,
    /// which changes when deadlines need attention).
    public func reloadSchedule() {
        attention.withLock { $0.wanted += 1 }
        schedule.withLock { $0.reset() }
        wake.signal()
    }

    /// Brings the store's `next_at` in line with `warn_before` if it was computed with
    /// another, then loads the next window if time has reached the end of this one.
    func loadWindowIfNeeded() async throws {
        let wanted = attention.withLock { $0.wanted }
        if attention.withLock({ $0.checked }) != wanted {
            let warnBefore = engine.settings.warnBefore
            try await engine.store.write { tx in
                if try tx.deadlineAttentionWarnBefore()?.sorted() != warnBefore.sorted() {
                    try tx.recomputeDeadlineAttention(warnBefore: warnBefore)
                }
            }
            attention.withLock { $0.checked = wanted }
        }
        guard schedule.withLock({ $0.needsWindow(now: clock.now()) }), let (after, generation) = schedule.withLock({ $0.beginWindow() }) else { return }
        do {
            let (warnBefore, limit) = (engine.settings.warnBefore, windowSize)
            let rows = try engine.store.read { try $0.pendingDeadlines(afterTime: after.time, afterCase: after.caseId, limit: limit) }
            let window = rows.map { row in DeadlineSchedule.Entry(caseId: row.caseId, due: row.dueAt, pendingWarnings: warnBefore.filter { !row.warningsDone.contains($0) }) }
            let last = rows.last.map { DeadlineSchedule.Key(time: $0.nextAt, caseId: $0.caseId) }
            schedule.withLock { $0.finishWindow(window, complete: rows.count < limit, last: last, generation: generation) }
        } catch {
            schedule.withLock { $0.abandonWindow() }
            throw error
        }
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

    /// Fires everything due now, in group commits of up to `batchSize`, loading windows
    /// of the schedule as it goes; returns when nothing more is due, or after a failure
    /// (what failed is put back, and tried again after `retryDelay`); true if all went
    /// well. Exposed for tests.
    @discardableResult
    public func fireDue() async -> Bool {
        await fireDueOrHeld().ok
    }

    /// As `fireDue`, and whether some firings were left because another node sharing the
    /// database holds their deadlines right now (tried again after `busyRetry`).
    func fireDueOrHeld() async -> (ok: Bool, heldElsewhere: Bool) {
        // Held elsewhere: out of the schedule (so they are not collected again at once),
        // each tried again once it has waited `busyRetry`, between the groups of the
        // burst; what is still held when this returns is put back in the schedule. So a
        // node that died holding deadlines has them fired here about `busyRetry` after
        // its death, however long the rest of the burst takes (SPEC §7).
        var held = HeldFirings()
        defer { if !held.isEmpty { requeue(held.all) } }
        while true {
            do {
                try await loadWindowIfNeeded()
            } catch {
                logger.error("Could not load deadlines from the store; will retry", metadata: ["warden.event": "deadline.retry", "warden.error": "\(error)"])
                return (false, !held.isEmpty)
            }
            var due = held.ripe(now: clock.now(), after: Self.busyRetry)
            due += schedule.withLock { $0.collect(now: clock.now()) }
            if due.isEmpty { return (true, !held.isEmpty) }
            var retry: [DeadlineSchedule.Firing] = []
            var start = due.startIndex
            // The first group is short, so its commit lands soon (and a daemon killed
            // again and again still makes progress); later ones grow to `batchSize`.
            var budget = Duration.milliseconds(25)
            while start < due.endIndex {
                let batch = Array(due[start..<min(start + Self.batchSize, due.endIndex)])
                do {
                    let (taken, failed, busy) = try await engine.fire(batch, budget: budget)
                    budget = min(budget * 2, .milliseconds(400))
                    held.add(busy, at: clock.now())
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
                // Firings held elsewhere that have waited long enough go before the rest.
                let ripe = held.ripe(now: clock.now(), after: Self.busyRetry)
                if !ripe.isEmpty {
                    due = ripe + due[start...]
                    start = due.startIndex
                }
            }
            if !retry.isEmpty {
                requeue(retry)
                return (false, !held.isEmpty)
            }
        }
    }

    func loop() async {
        while !stopping.value && !Task.isCancelled {
            ticks.withLock { $0 += 1 }
            let (succeeded, heldElsewhere) = await fireDueOrHeld()
            var next = schedule.withLock { $0.nextWake() }
            if !succeeded {
                next = clock.now() + retryDelay  // a failure put work back: back off
            } else if heldElsewhere, let n = next {
                next = max(n, clock.now() + Self.busyRetry)  // another node is firing them
            }
            // Under a watchdog, wake at least every heartbeat so liveness shows; without
            // one, sleep until the next firing or a change (no idle wake-ups).
            let cap = SystemdService.heartbeat().map { clock.now() + $0 }
            let until = [next, cap].compactMap { $0 }.min()
            await wake.wait(until: until, clock: clock)
        }
    }

    /// How soon firings another node held are tried again: if that node dies before it
    /// commits, they are pending again and fire here.
    static let busyRetry = TimeSpan.seconds(1)

    /// Reads what falls due within `horizon` from the store into the schedule: deadlines
    /// that other nodes sharing the database scheduled (SPEC §7), which this node's
    /// window did not hold. Those already fired elsewhere are dropped when their firing
    /// finds them no longer pending.
    public func refresh(horizon: TimeSpan) async throws {
        let (warnBefore, limit, until) = (engine.settings.warnBefore, windowSize, clock.now() + horizon)
        let rows = try engine.store.read { try $0.pendingDeadlines(nextBefore: until, limit: limit) }
        guard !rows.isEmpty else { return }
        schedule.withLock { s in
            for row in rows {
                s.upsert(DeadlineSchedule.Entry(caseId: row.caseId, due: row.dueAt, pendingWarnings: warnBefore.filter { !row.warningsDone.contains($0) }))
            }
        }
        wake.signal()
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

/// Firings another node held when this one tried them, each with when it was found
/// held, oldest first.
struct HeldFirings {
    private var items: [(firing: DeadlineSchedule.Firing, since: Timestamp)] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var all: [DeadlineSchedule.Firing] { items[head...].map(\.firing) }

    mutating func add(_ firings: [DeadlineSchedule.Firing], at now: Timestamp) {
        items += firings.map { ($0, now) }
    }

    /// Takes out those found held at least `wait` before `now`.
    mutating func ripe(now: Timestamp, after wait: TimeSpan) -> [DeadlineSchedule.Firing] {
        let start = head
        while head < items.count, items[head].since + wait <= now { head += 1 }
        let taken = items[start..<head].map(\.firing)
        if head == items.count { items.removeAll(keepingCapacity: true); head = 0 }
        return taken
    }
}
