import WardenCore
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Faults that tests inject into the built daemon, to watch the real recovery paths act
/// (the watchdog, the quarantine of a file that crashes the daemon).
///
/// Compiled into debug builds only (`swift build`, `swift test`): in a release build
/// (`swift build -c release`, `scripts/build-deb`) every hook is an empty inline function
/// and `WARDEN_TEST_FAULT` is never read, so no environment can make a production
/// daemon hang or crash on purpose.
///
/// `WARDEN_TEST_FAULT` (debug builds):
/// - `hang-after:N` — the spool loop stops N seconds after start-up, as a hung main loop
///   would;
/// - `crash-on-record:KEY` — the process aborts (SIGABRT) when a record whose key is KEY
///   is applied, inside the write transaction, as a bug triggered by one record would;
/// - `slow-case-read:ID` — reading case ID for `case.get` takes 2 s more, as a read from
///   a cold disk might.
enum FaultInjection {
    #if DEBUG
    static let spec = SystemIO.environment("WARDEN_TEST_FAULT") ?? ""

    static let hangAfter: Duration? = {
        guard spec.hasPrefix("hang-after:"), let seconds = Int(spec.dropFirst("hang-after:".count)) else { return nil }
        return .seconds(seconds)
    }()
    static let crashKey: String? = spec.hasPrefix("crash-on-record:") ? String(spec.dropFirst("crash-on-record:".count)) : nil
    static let slowCase: String? = spec.hasPrefix("slow-case-read:") ? String(spec.dropFirst("slow-case-read:".count)) : nil
    static let started = ContinuousClock.now

    /// Blocks the calling thread for 2 s if `caseId` is the configured slow case.
    static func slowReadIfAsked(_ caseId: String) {
        guard let slowCase, caseId == slowCase else { return }
        usleep(2_000_000)
    }

    /// Never returns once the fault is due.
    static func hangIfDue(_ logger: Logger) async {
        guard let after = hangAfter, ContinuousClock.now - started >= after else { return }
        logger.critical("WARDEN_TEST_FAULT: the spool loop hangs now", metadata: ["warden.event": "fault.hang"])
        while true { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// Aborts the process if `key` is the configured poison record.
    static func crashIfPoison(_ key: String) {
        guard let crashKey, key == crashKey else { return }
        SystemIO.writeError("WARDEN_TEST_FAULT: crashing on record \(key)\n")
        abort()
    }
    #else
    @inline(__always) static func hangIfDue(_ logger: Logger) async {}
    @inline(__always) static func crashIfPoison(_ key: String) {}
    @inline(__always) static func slowReadIfAsked(_ caseId: String) {}
    #endif
}
