import Dispatch
import Logging
import ServiceLifecycle
import Synchronization
import WardenCore
import WardenStore

#if canImport(Glibc)
import Glibc
#endif

/// A clock that reads the database's time: the local clock plus the offset last
/// measured against PostgreSQL (SPEC §7: nodes on several hosts agree on when a
/// deadline is due, whatever their own clocks say).
public final class DatabaseClock: WardenClock {
    let base: any WardenClock
    let offset = Atomic<Int64>(0)

    public init(base: any WardenClock) { self.base = base }

    public func now() -> Timestamp { base.now() + TimeSpan(milliseconds: offset.load(ordering: .relaxed)) }

    public func sleep(until deadline: Timestamp) async throws {
        try await base.sleep(until: deadline - TimeSpan(milliseconds: offset.load(ordering: .relaxed)))
    }

    /// The database's clock read at `database`, between local readings `before` and
    /// `after` (taken as half-way).
    func measured(database: Timestamp, before: Timestamp, after: Timestamp) {
        let local = before.milliseconds / 2 + after.milliseconds / 2
        offset.store(database.milliseconds &- local, ordering: .relaxed)
    }
}

/// The duties of a node that shares a PostgreSQL database with others (SPEC §7), every
/// `beat` (2 s): record that this node is alive (`nodes.last_seen`, what
/// `daemon.status` lists), measure the database's clock, and read into the deadline
/// schedule what the other nodes scheduled that falls due soon; and, woken by the
/// notification other nodes send when their events commit (LISTEN on a connection of
/// its own) or else every second, hand the events they wrote to this node's
/// subscribers.
///
/// Trusts: the store for what other nodes did. Refuses to stop on a lost database: a
/// failure is logged once (`store.unavailable`), retried every beat, and its end logged
/// (`store.connected`); the spool and the deadlines pause and resume by themselves.
final class ClusterService: Service, Sendable {
    let store: Store
    let node: String
    let clock: DatabaseClock
    let deadlines: DeadlineService
    let engine: Engine
    let logger: Logger
    let stopping = Atomic<Bool>(false)
    /// Blocking waits on the listener run here, off the concurrency pool.
    let waitQueue = DispatchQueue(label: "warden.cluster.listen")
    let listener = Mutex<PGConnection?>(nil)

    static let beat = Duration.seconds(2)
    /// Longest wait for a notification before reading the events anyway.
    static let pollMilliseconds: Int32 = 1000

    init(store: Store, node: String, clock: DatabaseClock, deadlines: DeadlineService, engine: Engine, logger: Logger) {
        self.store = store
        self.node = node
        self.clock = clock
        self.deadlines = deadlines
        self.engine = engine
        self.logger = logger
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
        }
        listener.withLock { $0?.close(); $0 = nil }
    }

    func loop() async {
        var horizon: String?
        var lastBeat = ContinuousClock.now - Self.beat
        var available = true
        while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
            if ContinuousClock.now - lastBeat >= Self.beat {
                lastBeat = ContinuousClock.now
                do {
                    try await beatOnce()
                    if !available {
                        available = true
                        logger.notice("PostgreSQL is back", metadata: ["warden.event": "store.connected", "warden.node": "\(node)"])
                    }
                } catch {
                    if available {
                        available = false
                        logger.error(
                            "PostgreSQL unavailable; ingestion and firing pause until it is back", metadata: ["warden.event": "store.unavailable", "warden.node": "\(node)", "warden.error": "\(error)"])
                    }
                }
            }
            do {
                let (store, node) = (self.store, self.node)
                if horizon == nil { horizon = try await offload { try store.read { try $0.eventHorizon() } } }
                if let since = horizon {
                    let (rows, next) = try await offload { try store.read { try $0.foreignEvents(since: since, node: node) } }
                    horizon = next
                    if !rows.isEmpty {
                        engine.publishForeign(rows.map { StoredEvent(seq: $0.seq, topic: $0.topic, at: $0.at, body: (try? JSONParser.parse($0.body))?.object ?? [:]) })
                    }
                }
            } catch {
                // The beat reports the database's state; events resume from the horizon.
            }
            await waitForNotification()
        }
    }

    /// Heartbeat, clock, and the deadlines others scheduled.
    func beatOnce() async throws {
        let (store, base) = (self.store, clock.base)
        let (before, database, after) = try await offload { (base.now(), try store.read { try $0.databaseNow() }, base.now()) }
        if let database { clock.measured(database: database, before: before, after: after) }
        try await store.touchNode()
        try await deadlines.refresh(horizon: TimeSpan(milliseconds: 3 * Self.beat.components.seconds * 1000))
    }

    /// Runs a blocking read on `waitQueue`, not on the concurrency pool's few threads
    /// (a database that does not answer can hold a connection attempt for seconds).
    func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            waitQueue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Until another node's events commit, or a second; a lost listener is opened again
    /// at the next call (meanwhile the events are read every second).
    func waitForNotification() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            waitQueue.async { [self] in
                let c: PGConnection? = listener.withLock { current in
                    if current == nil { current = try? store.makeEventListener() }
                    return current
                }
                if let c {
                    do {
                        _ = try c.notifications(timeoutMilliseconds: Self.pollMilliseconds)
                    } catch {
                        listener.withLock { $0?.close(); $0 = nil }
                        usleep(UInt32(Self.pollMilliseconds) * 1000)
                    }
                } else {
                    usleep(UInt32(Self.pollMilliseconds) * 1000)
                }
                done.resume()
            }
        }
    }
}
