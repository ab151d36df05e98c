#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time, injectable so deadline logic can be tested on a fake clock.
/// Deadlines are wall-clock instants (a complaint's `opened_at` + 24 h), so this is not
/// a monotonic `Clock`.
public protocol WardenClock: Sendable {
    func now() -> Timestamp
    /// Sleeps until `deadline` or until the task is cancelled (then throws
    /// `CancellationError`).
    func sleep(until deadline: Timestamp) async throws
}

/// The system's real-time clock. Sleeps in slices of at most a minute so that a clock
/// step (NTP, a suspended VM) delays a deadline by at most that much.
public struct SystemClock: WardenClock {
    public init() {}

    public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    public func sleep(until deadline: Timestamp) async throws {
        while true {
            let remaining = deadline.milliseconds - now().milliseconds
            if remaining <= 0 { return }
            try await Task.sleep(for: .milliseconds(min(remaining, 60_000)))
        }
    }
}
