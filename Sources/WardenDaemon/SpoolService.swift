import Logging
import ServiceLifecycle
import WardenCore
import WardenSpool
import WardenStore

/// Reads the spool: every candidate file in `incoming/` is validated whole, committed as
/// one transaction, and only then moved to `processed/YYYY-MM-DD/`; a file with any
/// invalid record goes, unchanged, to `rejected/` with `NAME.error.json`.
///
/// Trusts: nothing in the files (see `SpoolDirectory`, `RecordParser`). Refuses to lose
/// input: when Warden itself cannot read, commit or move (full disk, read-only state
/// directory), the file stays in `incoming/`, the error is logged and ingestion pauses
/// and retries. A crash between commit and move re-reads the file after restart; its
/// records are then re-deliveries, which are no-ops.
///
/// Discovery: inotify as a hint, a full scan at start-up and every `rescanInterval`.
/// Graceful stop finishes the file in hand.
public final class SpoolService: Service, Sendable {
    public let spool: SpoolDirectory
    let engine: Engine
    let clock: any WardenClock
    let logger: Logger
    let maxFileSize: Int
    let rescanInterval: TimeSpan
    let wake = AsyncSignal()
    let stopping = Locked(false)
    public let ticks = Locked(0)
    /// Set while an error on Warden's side pauses ingestion.
    public let paused = Locked<String?>(nil)

    public init(spool: SpoolDirectory, engine: Engine, clock: any WardenClock, logger: Logger, maxFileSize: Int, rescanInterval: TimeSpan) {
        self.spool = spool
        self.engine = engine
        self.clock = clock
        self.logger = logger
        self.maxFileSize = maxFileSize
        self.rescanInterval = rescanInterval
    }

    public func run() async throws {
        let watcher: InotifyWatcher?
        do {
            watcher = try InotifyWatcher(path: spool.incoming, signal: wake)
        } catch {
            logger.warning("inotify unavailable; relying on periodic scans", metadata: ["warden.error": "\(error)"])
            watcher = nil
        }
        await withGracefulShutdownHandler {
            while !self.stopping.value && !Task.isCancelled {
                self.ticks.withLock { $0 += 1 }
                await FaultInjection.hangIfDue(self.logger)
                let clean = await self.processBacklog()
                var interval = clean ? self.rescanInterval : min(self.rescanInterval, .seconds(5))
                if let beat = SystemdService.heartbeat() { interval = min(interval, beat) }
                await self.wake.wait(until: self.clock.now() + interval, clock: self.clock)
            }
        } onGracefulShutdown: {
            self.stopping.value = true
            self.wake.signal()
        }
        await watcher?.stop()
    }

    /// Processes every file waiting in `incoming/`. Returns false if an error on Warden's
    /// side left files behind (the caller retries sooner).
    @discardableResult
    public func processBacklog() async -> Bool {
        let names: [String]
        do {
            names = try spool.pendingFiles()
        } catch {
            pause("cannot list \(spool.incoming): \(error)")
            return false
        }
        for name in names {
            if stopping.value { return true }
            guard await process(name) else { return false }
        }
        if paused.value != nil {
            paused.value = nil
            logger.notice("Spool ingestion resumed", metadata: ["warden.event": "spool.resumed"])
        }
        return true
    }

    /// Handles one file; false if it had to stay in `incoming/` because of an error on
    /// Warden's side.
    func process(_ name: String) async -> Bool {
        let bytes: [UInt8]
        switch spool.read(name, maxBytes: maxFileSize) {
        case .success(let b): bytes = b
        case .failure(.vanished): return true
        case .failure(.refused(_, let reason)):
            return await reject(name, [RecordError(message: "the file \(reason)")])
        case .failure(let error):
            pause("cannot read \(name): \(error)")
            return false
        }
        let raw: [(value: JSON, line: Int)]
        switch SpoolFormat.decode(name: name, bytes: bytes) {
        case .success(let values): raw = values
        case .failure(let errors): return await reject(name, errors.errors)
        }
        let parser = engine.parser
        var records: [Record] = []
        var errors: [RecordError] = []
        for (index, item) in raw.enumerated() {
            switch parser.parse(item.value, index: index + 1, line: item.line) {
            case .success(let r): records.append(r)
            case .failure(let e): errors += e.errors
            }
        }
        if !errors.isEmpty { return await reject(name, errors) }
        do {
            let report = try await engine.ingest(records, source: "spool:\(name)")
            logger.debug("Spool file committed", metadata: ["warden.file": "\(name)", "warden.records": "\(records.count)", "warden.new": "\(report.new)", "warden.unchanged": "\(report.unchanged)"])
        } catch where Store.isEnvironmental(error) {
            pause("cannot commit \(name): \(error)")
            return false
        } catch {
            // Not the environment: this file's content makes the commit fail every time.
            // Quarantine it with the reason rather than stall the spool behind it.
            logger.error("Spool file could not be stored", metadata: ["warden.file": "\(name)", "warden.error": "\(error)"])
            return await reject(name, [RecordError(message: "could not be stored: \(error)")])
        }
        do {
            try spool.moveToProcessed(name, day: TimeFormat.date(clock.now(), in: engine.settings.zone))
        } catch {
            // Committed but not moved: the next pass re-reads it as re-deliveries (no-ops).
            pause("cannot move \(name) to processed/: \(error)")
            return false
        }
        return true
    }

    func reject(_ name: String, _ errors: [RecordError]) async -> Bool {
        let finalName: String
        do {
            finalName = try spool.reject(name, errors: errors)
        } catch {
            pause("cannot move \(name) to rejected/: \(error)")
            return false
        }
        do {
            try await engine.recordRejection(file: finalName, errors: errors)
        } catch {
            logger.error("Could not record the rejection in the store", metadata: ["warden.file": "\(finalName)", "warden.error": "\(error)"])
        }
        return true
    }

    func pause(_ reason: String) {
        let first = paused.withLock { p -> Bool in
            defer { p = reason }
            return p == nil
        }
        if first {
            logger.error("Spool ingestion paused: \(reason); files stay in incoming/ and are retried", metadata: ["warden.event": "spool.paused"])
        }
    }
}
