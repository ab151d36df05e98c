import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM or SIGINT that arrive during start-up (before the service group traps them)
/// would kill the daemon with the default action. `EarlySignals.install()` records them
/// instead, as the first thing `Daemon.run` does; `EarlyStopService`, once the group
/// runs, turns a recorded signal into a graceful shutdown.
enum EarlySignals {
    static let received = Atomic<Bool>(false)

    static func install() {
        for sig in [SIGTERM, SIGINT] {
            signal(sig) { _ in EarlySignals.received.store(true, ordering: .relaxed) }
        }
    }
}

/// Stops the group gracefully if a signal came during start-up; otherwise waits for the
/// ordinary graceful shutdown. (The group's own handlers replace `EarlySignals` as it
/// starts; the first second is watched to cover that hand-over.)
final class EarlyStopService: Service, Sendable {
    func run() async throws {
        for _ in 0..<20 {
            if EarlySignals.received.load(ordering: .relaxed) { return }  // ends the group gracefully
            try? await Task.sleep(for: .milliseconds(50))
        }
        try? await gracefulShutdown()
    }
}
