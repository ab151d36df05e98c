/// The deadline timer logic as a pure state machine: which deadlines are pending, when
/// the next thing is due, and what is due at a given instant. A thin service drives it
/// with a clock (`DeadlineService`); the store makes each firing happen exactly once.
///
/// Warnings: a deadline gets a `deadline.warning` at each `warn_before` offset that is
/// still ahead when the deadline is scheduled. If several warnings of one deadline come
/// due together (the daemon was stopped, or the machine slept), only the one nearest the
/// deadline is emitted and the others are marked done: one timely-as-possible warning
/// rather than a burst of stale ones. A deadline that is already due gets no warning.
///
/// Windowed: a schedule made with a `capacity` keeps in memory only the deadlines that
/// need attention soonest, so memory does not grow with open deadlines. Entries are
/// ordered by `Key` (the time the entry next needs attention, then the case id); the
/// `frontier` is the key up to which memory holds every pending deadline. Deadlines
/// beyond it live only in the store, which indexes them by the same key; the driver
/// loads the next window (`beginRefill`, `finishRefill`) when time reaches the frontier.
/// Changes reported while a window loads are recorded, and win over the loaded rows.
public struct DeadlineSchedule: Sendable, Equatable {
    /// Order of attention: the time an entry next needs attention, then its case id.
    public struct Key: Sendable, Hashable, Comparable {
        public var time: Timestamp
        public var caseId: String

        public init(time: Timestamp, caseId: String) {
            self.time = time
            self.caseId = caseId
        }

        /// Before every real key: the frontier of a window not loaded yet.
        public static let beforeAll = Key(time: Timestamp(milliseconds: .min), caseId: "")

        public static func < (a: Key, b: Key) -> Bool { (a.time, a.caseId) < (b.time, b.caseId) }
    }

    public struct Entry: Sendable, Equatable {
        public var caseId: String
        public var due: Timestamp
        /// Offsets still to warn at, largest (earliest) first.
        public var pendingWarnings: [TimeSpan]

        public init(caseId: String, due: Timestamp, pendingWarnings: [TimeSpan]) {
            self.caseId = caseId
            self.due = due
            self.pendingWarnings = pendingWarnings.sorted(by: >)
        }

        /// When this entry next needs attention.
        public var nextTime: Timestamp { Self.nextTime(due: due, pendingWarnings: pendingWarnings) }
        public var key: Key { Key(time: nextTime, caseId: caseId) }

        /// When a deadline `due` with warnings `pendingWarnings` still to send next needs
        /// attention: at its earliest pending warning, else when it is due.
        public static func nextTime(due: Timestamp, pendingWarnings: [TimeSpan]) -> Timestamp {
            pendingWarnings.max().map { due - $0 } ?? due
        }
    }

    public enum Firing: Sendable, Equatable {
        /// Warn that `caseId`'s deadline `due` is `offset` away; `skipped` are the
        /// earlier offsets folded into this one.
        case warning(caseId: String, due: Timestamp, offset: TimeSpan, skipped: [TimeSpan])
        case expiry(caseId: String, due: Timestamp)

        public var caseId: String {
            switch self {
            case .warning(let id, _, _, _), .expiry(let id, _): id
            }
        }

        var time: Timestamp {
            switch self {
            case .warning(_, let due, let offset, _): due - offset
            case .expiry(_, let due): due
            }
        }
    }

    private(set) public var entries: [String: Entry] = [:]
    /// Entries by the time they next need attention, and by due time: binary heaps
    /// with lazy deletion (an element whose entry changed or left is skipped when it
    /// surfaces), so the next wake, the soonest deadline and what is due are found
    /// without walking every pending deadline (which a busy daemon did on every
    /// commit). Rebuilt when stale elements outnumber live ones.
    private var byNextTime = Heap()
    private var byDue = Heap()

    /// How many entries a window loads; memory holds at most twice this (beyond that
    /// the latest entries are let go, and the frontier moves back). `Int.max`: no window.
    public let capacity: Int
    /// Every pending deadline whose key is at or before the frontier is in memory; nil
    /// when every pending deadline is.
    private(set) public var frontier: Key?
    /// While a window loads: the cases changed meanwhile (their loaded rows are stale).
    private var loading: Set<String>?
    /// Counts resets, so a window read before a reset is not installed after it.
    private var generation = 0

    public static func == (a: DeadlineSchedule, b: DeadlineSchedule) -> Bool { a.entries == b.entries && a.frontier == b.frontier }

    /// A schedule holding every deadline it is given (no window).
    public init() {
        capacity = .max
        frontier = nil
    }

    /// A windowed schedule, empty until its first window is loaded.
    public init(capacity: Int) {
        precondition(capacity > 0, "a window holds at least one entry")
        self.capacity = capacity
        frontier = .beforeAll
    }

    /// The offsets of `warnBefore` whose warning time is still ahead of `now`.
    public static func warningsAhead(due: Timestamp, warnBefore: [TimeSpan], now: Timestamp) -> [TimeSpan] {
        warnBefore.filter { due - $0 > now }
    }

    public var count: Int { entries.count }

    /// Adds or replaces a deadline. One beyond the frontier is left to the store (and any
    /// older copy in memory is dropped), unless a window is loading.
    public mutating func upsert(_ entry: Entry) {
        if loading != nil {
            loading!.insert(entry.caseId)
        } else if let f = frontier, entry.key > f {
            remove(caseId: entry.caseId)
            return
        }
        entries[entry.caseId] = entry
        byNextTime.push(entry.nextTime, entry.caseId)
        byDue.push(entry.due, entry.caseId)
        if capacity < .max / 2 && entries.count > 2 * capacity { shrink() }
        compactIfStale()
    }

    public mutating func remove(caseId: String) {
        loading?.insert(caseId)
        entries[caseId] = nil
        compactIfStale()
    }

    /// The earliest instant at which `collect` will return something, or at which the
    /// next window is needed; nil if idle.
    public mutating func nextWake() -> Timestamp? {
        while let top = byNextTime.peek {
            if entries[top.caseId]?.nextTime == top.time { return min(top.time, frontier?.time ?? top.time) }
            byNextTime.pop()
        }
        return frontier?.time
    }

    // MARK: - Windows

    /// Whether the next window must be loaded before collecting at `now`: time has
    /// reached the frontier (what lies beyond it may be due).
    public func needsWindow(now: Timestamp) -> Bool {
        guard let f = frontier, loading == nil else { return false }
        return f.time <= now
    }

    /// Starts loading the next window: the store's pending deadlines with keys after
    /// the returned one, in key order, at most `capacity`. Nil if nothing is beyond.
    public mutating func beginWindow() -> (after: Key, generation: Int)? {
        guard let f = frontier else { return nil }
        loading = []
        return (f, generation)
    }

    /// Installs a window read after `beginWindow`: `rows` in key order; `complete` when
    /// the store had no more, else `last` is the store's key of the last row (the new
    /// frontier). Rows for cases changed while it loaded are skipped (the change is
    /// newer), and so are rows already in memory.
    public mutating func finishWindow(_ rows: [Entry], complete: Bool, last: Key?, generation: Int) {
        guard generation == self.generation, let changed = loading else { return }
        loading = nil
        for row in rows where !changed.contains(row.caseId) && entries[row.caseId] == nil {
            entries[row.caseId] = row
            byNextTime.push(row.nextTime, row.caseId)
            byDue.push(row.due, row.caseId)
        }
        if complete {
            frontier = nil
        } else if let f = last ?? rows.last?.key {
            frontier = f
            for (id, entry) in entries where entry.key > f { entries[id] = nil }
        }
        if entries.count > 2 * capacity { shrink() }
        compactIfStale()
    }

    /// Gives up a window that could not be read (it is asked for again).
    public mutating func abandonWindow() { loading = nil }

    /// Forgets every entry: the next window is loaded from the start (after the store's
    /// keys changed, e.g. a reload changed `warn_before`).
    public mutating func reset() {
        guard capacity < .max else { return }
        entries = [:]
        byNextTime = Heap()
        byDue = Heap()
        frontier = .beforeAll
        loading = nil
        generation += 1
    }

    /// Lets the latest entries go, keeping `capacity`, and moves the frontier back to
    /// the last one kept.
    private mutating func shrink() {
        guard loading == nil else { return }
        let keys = entries.values.map(\.key).sorted()
        let f = keys[capacity - 1]
        for key in keys[capacity...] { entries[key.caseId] = nil }
        frontier = min(frontier ?? f, f)
        byNextTime = Heap(entries.values.map { ($0.nextTime, $0.caseId) })
        byDue = Heap(entries.values.map { ($0.due, $0.caseId) })
    }

    /// The soonest pending deadline.
    public mutating func nextDue() -> (caseId: String, due: Timestamp)? {
        while let top = byDue.peek {
            if entries[top.caseId]?.due == top.time { return (top.caseId, top.time) }
            byDue.pop()
        }
        return nil
    }

    /// Removes and returns everything due at `now`, earliest first. Expired entries leave
    /// the schedule; warned entries stay until their deadline.
    public mutating func collect(now: Timestamp) -> [Firing] {
        var firings: [Firing] = []
        while let top = byNextTime.peek, top.time <= now {
            byNextTime.pop()
            guard let entry = entries[top.caseId], entry.nextTime == top.time else { continue }  // stale
            let id = top.caseId
            if entry.due <= now {
                firings.append(.expiry(caseId: id, due: entry.due))
                entries[id] = nil
                continue
            }
            let passed = entry.pendingWarnings.filter { entry.due - $0 <= now }
            guard let nearest = passed.min() else { continue }
            firings.append(.warning(caseId: id, due: entry.due, offset: nearest, skipped: passed.filter { $0 != nearest }))
            entries[id]!.pendingWarnings.removeAll { passed.contains($0) }
            byNextTime.push(entries[id]!.nextTime, id)
        }
        compactIfStale()
        return firings.sorted { ($0.time, $0.caseId) < ($1.time, $1.caseId) }
    }

    private mutating func compactIfStale() {
        let live = entries.count
        guard byNextTime.count > 2 * live + 64 || byDue.count > 2 * live + 64 else { return }
        byNextTime = Heap(entries.values.map { ($0.nextTime, $0.caseId) })
        byDue = Heap(entries.values.map { ($0.due, $0.caseId) })
    }

    /// A binary min-heap of (time, case id), ordered by time then id.
    struct Heap: Sendable {
        private var items: [(time: Timestamp, caseId: String)] = []

        init() {}

        init(_ elements: [(Timestamp, String)]) {
            items = elements.map { (time: $0.0, caseId: $0.1) }
            var i = items.count / 2 - 1
            while i >= 0 {
                siftDown(i)
                i -= 1
            }
        }

        var count: Int { items.count }
        var peek: (time: Timestamp, caseId: String)? { items.first }

        static func less(_ a: (time: Timestamp, caseId: String), _ b: (time: Timestamp, caseId: String)) -> Bool {
            (a.time, a.caseId) < (b.time, b.caseId)
        }

        mutating func push(_ time: Timestamp, _ caseId: String) {
            items.append((time, caseId))
            var i = items.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard Self.less(items[i], items[parent]) else { break }
                items.swapAt(i, parent)
                i = parent
            }
        }

        mutating func pop() {
            guard !items.isEmpty else { return }
            items.swapAt(0, items.count - 1)
            items.removeLast()
            siftDown(0)
        }

        private mutating func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, Self.less(items[l], items[m]) { m = l }
                if r < items.count, Self.less(items[r], items[m]) { m = r }
                if m == i { return }
                items.swapAt(i, m)
                i = m
            }
        }
    }
}
