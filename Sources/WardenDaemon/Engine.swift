import Dispatch
import Logging
import WardenCore
import WardenStore
import WardenMetrics

/// Applies records and deadline firings to the store through the policies.
///
/// Trusts: records already validated by `RecordParser`; policies to be pure. Refuses:
/// nothing silently. Every input is applied in one transaction with everything it causes
/// (case, history, deadline, ledger entry, events), so a crash leaves either all of it or
/// none. Logs and schedule updates happen only after the commit.
///
/// Order independence: records may arrive in any order. A complaint whose order is not
/// known yet is stored and waits; when the order arrives the complaint is evaluated. When
/// a case opens, evidence and verdicts that arrived earlier for it are replayed in time
/// order. Re-delivering a stored record is a no-op; a record with the same key and new
/// content updates the stored record and notes the change in the case history (it is not
/// judged again: judgements already made stand).
public final class Engine: Sendable {
    public let store: Store
    let clock: any WardenClock
    let logger: Logger
    let state: Locked<Settings>
    let scheduleHook: Locked<(@Sendable ([DeadlineChange]) -> Void)?>
    let eventHook: Locked<(@Sendable ([StoredEvent]) -> Void)?> = Locked(nil)
    let foreignEventHook: Locked<(@Sendable ([StoredEvent]) -> Void)?> = Locked(nil)
    let caseHook: Locked<(@Sendable (Set<String>) -> Void)?> = Locked(nil)
    let metrics: Locked<WardenMetrics?> = Locked(nil)
    let queueHook: Locked<(@Sendable (Set<String>) -> Void)?> = Locked(nil)
    /// Where committed transactions' log entries are written, in commit order, so the
    /// writer does not wait on the journal (or stderr) before its next transaction.
    let logQueue = DispatchQueue(label: "warden.engine.logs")
    /// Where committed events go to `onEvents` (live subscribers), in commit order, so
    /// the writer does not serialize them for subscribers before its next transaction.
    /// A subscriber may get an event a moment after the writer's caller got its answer;
    /// `seq` keeps the order, and `EventBus` the no-gap, no-duplicate promise.
    let eventQueue = DispatchQueue(label: "warden.engine.events")

    /// What a reload may change.
    public struct Settings: Sendable {
        public var registry: PolicyRegistry
        public var zone: Zone
        public var warnBefore: [TimeSpan]
        public init(registry: PolicyRegistry, zone: Zone, warnBefore: [TimeSpan]) {
            self.registry = registry
            self.zone = zone
            self.warnBefore = warnBefore
        }

        /// Validates the core's record types and those the enabled modules declare.
        public var parser: RecordParser { RecordParser(zone: zone, declarations: registry.declarations) }
    }

    public enum DeadlineChange: Sendable, Equatable {
        case schedule(DeadlineSchedule.Entry)
        case cancel(caseId: String)
    }

    public struct IngestReport: Sendable, Equatable {
        public var new = 0
        public var unchanged = 0
        public var updated = 0
        /// Records stored but waiting for the order or case they refer to.
        public var waiting = 0
        public init() {}
    }

    /// Errors a caller (the socket) can act on.
    public enum Failure: Error, Sendable, Equatable {
        case notFound(String)
        case deadlinePassed(String)
        case wrongState(String)
    }

    public init(store: Store, settings: Settings, clock: any WardenClock, logger: Logger) {
        self.store = store
        self.state = Locked(settings)
        self.clock = clock
        self.logger = logger
        self.scheduleHook = Locked(nil)
    }

    /// Waits until every log entry of the transactions committed so far is written
    /// (before the daemon exits).
    public func flushLogs() {
        logQueue.sync {}
    }

    /// Waits until every event of the transactions committed so far has been handed to
    /// `onEvents`.
    public func flushEvents() {
        eventQueue.sync {}
    }

    public var settings: Settings {
        get { state.value }
        set { state.value = newValue }
    }

    public var parser: RecordParser { settings.parser }

    /// Receives the ids of every case a transaction changed (state, history, evidence,
    /// liability, deadline), after it committed: for caches of case answers.
    public func onCasesChanged(_ hook: @escaping @Sendable (Set<String>) -> Void) {
        caseHook.value = hook
    }

    /// Counts committed work in `metrics` (records by type, penalties, findings, fire lag).
    public func report(to metrics: WardenMetrics) {
        self.metrics.value = metrics
    }

    /// Receives every event after the transaction that wrote it committed, in `seq`
    /// order (for live `event.subscribe` delivery), on a queue of its own (after the
    /// writer moved on). Must not block.
    public func onEvents(_ hook: @escaping @Sendable ([StoredEvent]) -> Void) {
        eventHook.value = hook
    }

    /// Events other nodes sharing the database committed (`ClusterService`), for this
    /// node's subscribers.
    func publishForeign(_ events: [StoredEvent]) {
        foreignEventHook.value?(events)
    }

    /// Where other nodes' events go (`EventBus.publish(_:foreign:)`).
    public func onForeignEvents(_ hook: @escaping @Sendable ([StoredEvent]) -> Void) {
        foreignEventHook.value = hook
    }

    /// Tells the deadline service about new and cancelled deadlines (after each commit).
    public func onDeadlineChanges(_ hook: @escaping @Sendable ([DeadlineChange]) -> Void) {
        scheduleHook.value = hook
    }

    // MARK: - Inputs

    /// Applies validated records from one source (a spool file, a `record.submit` call) in
    /// one transaction.
    @discardableResult
    public func ingest(_ records: [Record], source: String) async throws -> IngestReport {
        let settings = self.settings
        let now = clock.now()
        return try await commit { tx in
            var applier = Applier(tx: tx, settings: settings, now: now, source: source)
            try applier.receive(records)
            return (applier.report, applier.effects)
        }
    }

    /// Why one file of a batch could not be applied (its savepoint was rolled back).
    public struct FileFailure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Group commit: applies several files' records in one transaction (one fsync), each
    /// file in its own savepoint, so a file whose content makes the apply fail is rolled
    /// back alone and reported, while the others commit. Errors from the environment
    /// (full disk, read-only database) fail the whole batch and are thrown.
    public func ingest(files: [(source: String, records: [Record])]) async throws -> [Result<IngestReport, FileFailure>] {
        let settings = self.settings
        let now = clock.now()
        return try await commit { tx in
            var results: [Result<IngestReport, FileFailure>] = []
            var effects = Effects()
            for file in files {
                do {
                    let applied = try tx.savepoint { () throws -> Applier in
                        var applier = Applier(tx: tx, settings: settings, now: now, source: file.source)
                        try applier.receive(file.records)
                        return applier
                    }
                    results.append(.success(applied.report))
                    effects.merge(applied.effects)
                } catch where !Store.isEnvironmental(error) {
                    results.append(.failure(FileFailure(description: "\(error)")))
                }
            }
            return (results, effects)
        }
    }

    /// Applies a stream of records in one transaction without holding them all: `each`
    /// is called inside the transaction and hands records to `emit` a chunk at a time (a
    /// large NDJSON file read line by line).
    public func ingest(source: String, each: @escaping @Sendable (_ emit: ([Record]) throws -> Void) throws -> Void) async throws -> IngestReport {
        let settings = self.settings
        let now = clock.now()
        return try await commit { tx in
            var applier = Applier(tx: tx, settings: settings, now: now, source: source)
            try each { records in try applier.receive(records) }
            return (applier.report, applier.effects)
        }
    }

    /// Records evidence submitted through the socket at the engine's current time.
    public func submitEvidence(caseId: String, items: [EvidenceItem], note: String?) async throws -> CaseRecord {
        let settings = self.settings
        let now = clock.now()
        let result: Result<CaseRecord, Failure> = try await commit { tx in
            guard let current = try tx.caseRecord(id: caseId) else { return (.failure(.notFound("case \(caseId)")), Effects()) }
            guard let policy = settings.registry.policy(id: current.category) else {
                return (.failure(.wrongState("policy \(current.category) is disabled; enable it to submit evidence for case \(caseId)")), Effects())
            }
            // The case's module says whether it takes evidence now.
            switch policy.evidenceAcceptance(current, at: now, zone: settings.zone) {
            case .accept: break
            case .deadlinePassed(let why): return (.failure(.deadlinePassed(why)), Effects())
            case .wrongState(let why): return (.failure(.wrongState(why)), Effects())
            }
            var body = JSONObject()
            body["type"] = "evidence"
            body["complaint_id"] = .string(caseId)
            body["submitted_at"] = .string(TimeFormat.format(now, in: .utc))
            body["items"] = .array(items.map { item in
                var o = JSONObject()
                o["kind"] = .string(item.kind.rawValue)
                o["ref"] = .string(item.ref)
                if let sha = item.sha256 { o["sha256"] = .string(sha) }
                if let r = item.registeredAt { o["registered_at"] = .string(TimeFormat.format(r, in: .utc)) }
                return .object(o)
            })
            if let note { body["note"] = .string(note) }
            let record = Record(
                type: .evidence, key: "\(caseId)|\(now.milliseconds)", body: body,
                payload: .evidence(EvidenceSubmission(complaintId: caseId, submittedAt: now, items: items, note: note)))
            var applier = Applier(tx: tx, settings: settings, now: now, source: "socket:evidence.submit")
            try applier.receive([record])
            return (.success(try tx.caseRecord(id: caseId)!), applier.effects)
        }
        return try result.get()
    }

    /// Records a refused spool file (for `spool.rejected`) and logs it.
    public func recordRejection(file: String, errors: [RecordError]) async throws {
        let now = clock.now()
        let body: JSONObject = ["file": .string(file), "errors": JSON(errors.count)]
        let message = "Spool file rejected: \(errors.first?.description ?? "invalid")\(errors.count > 1 ? " (and \(errors.count - 1) more)" : "")"
        try await commit { tx in
            try tx.recordRejection(file: file, at: now, errors: errors)
            let seq = try tx.appendEvent(topic: "spool.rejected", at: now, body: body)
            var effects = Effects()
            effects.events.append(StoredEvent(seq: seq, topic: "spool.rejected", at: now, body: body))
            effects.logs.append(.init(level: .error, message: message, metadata: ["warden.event": "spool.rejected", "warden.file": "\(file)", "warden.seq": "\(seq)"]))
            return ((), effects)
        }
    }

    /// Fires deadlines (expiries and warnings) in order, in one transaction: one commit,
    /// one fsync, each firing in a savepoint of its own, so one that fails for a
    /// reason of its own is rolled back alone and returned with the reason, and the
    /// others commit. An environmental error (disk full, database busy) throws and
    /// nothing commits. Each firing still happens once: its deadline row is marked in
    /// its savepoint, guarded by its status and due time, so a firing whose deadline is
    /// no longer pending (already fired, cancelled, moved) does nothing.
    ///
    /// Stops taking firings once `budget` is spent (after one at least), so a commit
    /// lands every `budget` however slow the firings: a daemon restarted again and
    /// again still makes progress. Returns how many of `firings` it took.
    ///
    /// Nodes sharing a PostgreSQL database claim each deadline row as they go
    /// (`StoreTransaction.claimDeadlines`, `claimStep` at a time): a firing whose
    /// deadline another node holds right now is returned as `busy`, to be tried again
    /// shortly (it is pending again if that node dies before committing); one whose
    /// deadline is no longer pending is dropped, as the guard would drop it.
    public func fire(
        _ firings: [DeadlineSchedule.Firing], budget: Duration
    ) async throws -> (taken: Int, failed: [(firing: DeadlineSchedule.Firing, reason: String)], busy: [DeadlineSchedule.Firing]) {
        let settings = self.settings
        let now = clock.now()
        return try await commit { tx in
            var effects = Effects()
            var failed: [(firing: DeadlineSchedule.Firing, reason: String)] = []
            var busy: [DeadlineSchedule.Firing] = []
            let started = ContinuousClock.now
            var taken = 0
            var claimed = Set<String>()
            var heldElsewhere = Set<String>()
            var claimedUpTo = 0
            for (i, firing) in firings.enumerated() {
                if taken > 0 && ContinuousClock.now - started > budget { break }
                taken += 1
                if i == claimedUpTo {
                    claimedUpTo = min(i + Self.claimStep, firings.count)
                    let ids = firings[i..<claimedUpTo].map(\.caseId)
                    let got = try tx.claimDeadlines(ids)
                    claimed.formUnion(got)
                    let missing = ids.filter { !got.contains($0) }
                    if !missing.isEmpty { heldElsewhere.formUnion(try tx.stillPending(missing)) }
                }
                guard claimed.contains(firing.caseId) else {
                    if heldElsewhere.contains(firing.caseId) { busy.append(firing) }
                    continue
                }
                do {
                    let applier = try tx.savepoint { () throws -> Applier in
                        var applier = Applier(tx: tx, settings: settings, now: now, source: "deadline")
                        try applier.fire(firing)
                        return applier
                    }
                    effects.merge(applier.effects)
                } catch where !Store.isEnvironmental(error) {
                    failed.append((firing, "\(error)"))
                }
            }
            return ((taken, failed, busy), effects)
        }
    }

    /// Deadlines claimed per statement while firing.
    static let claimStep = 64

    // MARK: - After commit

    /// Runs `body` in one write transaction and releases its effects once it commits,
    /// in commit order (so live events reach subscribers in `seq` order whichever of the
    /// spool, the socket and the deadline loop wrote them).
    func commit<T: Sendable>(_ body: @escaping @Sendable (StoreTransaction) throws -> (T, Effects)) async throws -> T {
        try await store.write(body, afterCommit: { [self] effects in publish(effects) })
    }

    func publish(_ effects: Effects) {
        if !effects.logs.isEmpty {
            let (logger, logs) = (self.logger, effects.logs)
            logQueue.async {
                for entry in logs { logger.log(level: entry.level, "\(entry.message)", metadata: entry.metadata) }
            }
        }
        if !effects.deadlineChanges.isEmpty, let hook = scheduleHook.value {
            hook(effects.deadlineChanges)
        }
        if !effects.touchedCases.isEmpty, let hook = caseHook.value {
            hook(effects.touchedCases)
        }
        if !effects.events.isEmpty, let hook = eventHook.value {
            let events = effects.events
            eventQueue.async { hook(events) }
        }
        if !effects.queued.isEmpty, let hook = queueHook.value {
            hook(effects.queued)
        }
        if let metrics = metrics.value {
            let tally = effects.tally
            metrics.recordsIngested(tally.records)
            for b in tally.bookingsByRule() { metrics.booked(category: b.category, rule: b.rule, count: b.count, amountFen: b.amountFen, points: b.points) }
            for rule in tally.findings { metrics.finding(rule: rule) }
            for lag in tally.lags { metrics.fired(lag: lag.seconds, warning: lag.warning) }
        }
    }
}

/// What a transaction causes outside the database, released only after it commits.
struct Effects: Sendable {
    struct LogEntry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    var logs: [LogEntry] = []
    var deadlineChanges: [Engine.DeadlineChange] = []
    var events: [StoredEvent] = []
    var touchedCases: Set<String> = []
    /// Modules that run out of process with new inputs queued.
    var queued: Set<String> = []
    /// What the metrics count (SPEC.md §8).
    var tally = Tally()

    /// Adds another savepoint's effects after this one's.
    mutating func merge(_ other: Effects) {
        logs += other.logs
        deadlineChanges += other.deadlineChanges
        events += other.events
        touchedCases.formUnion(other.touchedCases)
        queued.formUnion(other.queued)
        tally.merge(other.tally)
    }
}

/// What one transaction counted for the metrics, released with its other effects (so
/// only committed work is counted).
struct Tally: Sendable {
    var records: [String: Int] = [:]
    var bookings: [(category: String, rule: String, amountFen: Int64, points: Int64)] = []
    var findings: [String] = []
    /// How late each expiry (or warning) fired, in seconds.
    var lags: [(seconds: Double, warning: Bool)] = []

    mutating func merge(_ other: Tally) {
        records.merge(other.records, uniquingKeysWith: +)
        bookings += other.bookings
        findings += other.findings
        lags += other.lags
    }

    /// The bookings summed per category and rule, in the order each pair first came
    /// (a burst of expiries updates each metric series once, not once per entry).
    /// Sums saturate rather than trap.
    func bookingsByRule() -> [(category: String, rule: String, count: Int, amountFen: Int64, points: Int64)] {
        struct Key: Hashable { var category, rule: String }
        var index: [Key: Int] = [:]
        var out: [(category: String, rule: String, count: Int, amountFen: Int64, points: Int64)] = []
        for b in bookings {
            let key = Key(category: b.category, rule: b.rule)
            if let i = index[key] {
                out[i].count += 1
                out[i].amountFen = Self.saturatingSum(out[i].amountFen, b.amountFen)
                out[i].points = Self.saturatingSum(out[i].points, b.points)
            } else {
                index[key] = out.count
                out.append((b.category, b.rule, 1, b.amountFen, b.points))
            }
        }
        return out
    }

    static func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }
}

/// An event as stored in the `events` table: `seq` is monotonic and never reused.
public struct StoredEvent: Sendable, Equatable {
    public var seq: Int64
    public var topic: String
    public var at: Timestamp
    public var body: JSONObject

    public init(seq: Int64, topic: String, at: Timestamp, body: JSONObject) {
        self.seq = seq
        self.topic = topic
        self.at = at
        self.body = body
    }

    /// The notification params: `{seq, topic, at, …ids and details}`.
    public func json(in zone: Zone) -> JSON {
        var o: JSONObject = ["seq": JSON(seq), "topic": .string(topic), "at": .string(TimeFormat.format(at, in: zone))]
        for (k, v) in body.pairs where o[k] == nil { o[k] = v }
        return .object(o)
    }
}
