/// The deadline timer logic as a pure state machine: which deadlines are pending, when
/// the next thing is due, and what is due at a given instant. A thin service drives it
/// with a clock (`DeadlineService`); the store makes each firing happen exactly once.
///
/// Warnings: a deadline gets a `deadline.warning` at each `warn_before` offset that is
/// still ahead when the deadline is scheduled. If several warnings of one deadline come
/// due together (the daemon was stopped, or the machine slept), only the one nearest the
/// deadline is emitted and the others are marked done: one timely-as-possible warning
/// rather than a burst of stale ones. A deadline that is already due gets no warning.
public struct DeadlineSchedule: Sendable, Equatable {
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
        public var nextTime: Timestamp { pendingWarnings.first.map { due - $0 } ?? due }
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

    public static func == (a: DeadlineSchedule, b: DeadlineSchedule) -> Bool { a.entries == b.entries }

    public init() {}

    /// The offsets of `warnBefore` whose warning time is still ahead of `now`.
    public static func warningsAhead(due: Timestamp, warnBefore: [TimeSpan], now: Timestamp) -> [TimeSpan] {
        warnBefore.filter { due - $0 > now }
    }

    public var count: Int { entries.count }

    public mutating func upsert(_ entry: Entry) {
        entries[entry.caseId] = entry
        byNextTime.push(entry.nextTime, entry.caseId)
        byDue.push(entry.due, entry.caseId)
        compactIfStale()
    }

    public mutating func remove(caseId: String) {
        entries[caseId] = nil
        compactIfStale()
    }

    /// The earliest instant at which `collect` will return something, or nil if idle.
    public mutating func nextWake() -> Timestamp? {
        while let top = byNextTime.peek {
            if entries[top.caseId]?.nextTime == top.time { return top.time }
            byNextTime.pop()
        }
        return nil
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
