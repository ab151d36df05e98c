#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import WardenCore
import WardenSpool

/// Deletes accepted files from `processed/` once they are older than
/// `[spool] processed_retention` (by the day directory they were filed under).
///
/// Deletes in small batches spread over time: on a filesystem without a journal, a mass
/// unlink slows every later file creation (the spool's producers) for minutes. Never
/// touches `incoming/` or `rejected/`: the daemon deletes no input but by this rule.
public final class RetentionService: Service, Sendable {
    let spool: SpoolDirectory
    let retention: TimeSpan
    let zone: Zone
    let clock: any WardenClock
    let logger: Logger
    let batch: Int
    let pauseBetween: Duration
    let stopping = Locked(false)
    let wake = AsyncSignal()

    public init(spool: SpoolDirectory, retention: TimeSpan, zone: Zone, clock: any WardenClock, logger: Logger, batch: Int = 100, pauseBetween: Duration = .milliseconds(200)) {
        self.spool = spool
        self.retention = retention
        self.zone = zone
        self.clock = clock
        self.logger = logger
        self.batch = batch
        self.pauseBetween = pauseBetween
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while !self.stopping.value && !Task.isCancelled {
                await self.wake.wait(until: self.clock.now() + .minutes(1), clock: self.clock)
                if self.stopping.value { break }
                await self.purge()
                await self.wake.wait(until: self.clock.now() + .hours(1), clock: self.clock)
            }
        } onGracefulShutdown: {
            self.stopping.value = true
            self.wake.signal()
        }
    }

    /// Day directories older than the retention, oldest first.
    public func expiredDays() -> [String] {
        let cutoff = TimeFormat.date(clock.now() - retention, in: zone)
        let days = (try? SystemIO.listDirectory(spool.processed)) ?? []
        return days.filter { $0.count == 10 && $0 < cutoff }.sorted()
    }

    /// Removes expired files, `batch` at a time with a pause between batches.
    public func purge() async {
        for day in expiredDays() {
            let dir = spool.processed + "/" + day
            var removed = 0
            while !stopping.value {
                let names = ((try? SystemIO.listDirectory(dir)) ?? []).prefix(batch)
                if names.isEmpty { break }
                for name in names where unlink(dir + "/" + name) == 0 { removed += 1 }
                try? await Task.sleep(for: pauseBetween)
            }
            if !stopping.value { rmdir(dir) }
            spool.recount()
            if removed > 0 {
                logger.notice("Removed \(removed) processed files of \(day) (retention \(retention))", metadata: ["warden.event": "spool.retention", "warden.day": "\(day)"])
            }
        }
    }
}
