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

    public init() {}

    /// The offsets of `warnBefore` whose warning time is still ahead of `now`.
    public static func warningsAhead(due: Timestamp, warnBefore: [TimeSpan], now: Timestamp) -> [TimeSpan] {
        warnBefore.filter { due - $0 > now }
    }

    public var count: Int { entries.count }

    public mutating func upsert(_ entry: Entry) { entries[entry.caseId] = entry }

    public mutating func remove(caseId: String) { entries[caseId] = nil }

    /// The earliest instant at which `collect` will return something, or nil if idle.
    public func nextWake() -> Timestamp? {
        entries.values.lazy.map(\.nextTime).min()
    }

    /// The soonest pending deadline.
    public func nextDue() -> (caseId: String, due: Timestamp)? {
        entries.values.min { ($0.due, $0.caseId) < ($1.due, $1.caseId) }.map { ($0.caseId, $0.due) }
    }

    /// Removes and returns everything due at `now`, earliest first. Expired entries leave
    /// the schedule; warned entries stay until their deadline.
    public mutating func collect(now: Timestamp) -> [Firing] {
        var firings: [Firing] = []
        for (id, entry) in entries where entry.nextTime <= now {
            if entry.due <= now {
                firings.append(.expiry(caseId: id, due: entry.due))
                entries[id] = nil
                continue
            }
            let passed = entry.pendingWarnings.filter { entry.due - $0 <= now }
            guard let nearest = passed.min() else { continue }
            firings.append(.warning(caseId: id, due: entry.due, offset: nearest, skipped: passed.filter { $0 != nearest }))
            entries[id]!.pendingWarnings.removeAll { passed.contains($0) }
        }
        return firings.sorted { ($0.time, $0.caseId) < ($1.time, $1.caseId) }
    }
}
