import WardenCore

/// A clock that moves only when told to. Sleepers wake when `advance` passes their
/// deadline; cancellation wakes them with `CancellationError`.
public final class FakeClock: WardenClock {
    struct Sleeper {
        var id: Int
        var until: Timestamp
        var continuation: CheckedContinuation<Void, any Error>
    }

    struct State {
        var now: Timestamp
        var sleepers: [Sleeper] = []
        var nextId = 0
        /// Sleeps cancelled before their sleeper was registered: registration sees it
        /// under the same lock and throws at once (otherwise the task would wait forever).
        var cancelled: Set<Int> = []
    }

    private let state: Locked<State>

    public init(now: Timestamp) { state = Locked(State(now: now)) }

    public func now() -> Timestamp { state.withLock { $0.now } }

    /// How many tasks are sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Timestamp) async throws {
        let id = state.withLock { s -> Int in
            s.nextId += 1
            return s.nextId
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                enum Now { case wait, resume, cancel }
                let now = state.withLock { s -> Now in
                    if s.cancelled.remove(id) != nil { return .cancel }
                    if deadline <= s.now { return .resume }
                    s.sleepers.append(Sleeper(id: id, until: deadline, continuation: c))
                    return .wait
                }
                switch now {
                case .wait: break
                case .resume: c.resume()
                case .cancel: c.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else {
                    s.cancelled.insert(id)  // not registered yet: registration will see it
                    return nil
                }
                return s.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock to `instant` (never backwards) and wakes the sleepers that are due.
    public func advance(to instant: Timestamp) {
        let due = state.withLock { s -> [Sleeper] in
            s.now = max(s.now, instant)
            let due = s.sleepers.filter { $0.until <= s.now }
            s.sleepers.removeAll { $0.until <= s.now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    public func advance(by span: TimeSpan) { advance(to: now() + span) }
}
