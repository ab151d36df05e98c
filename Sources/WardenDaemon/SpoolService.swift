#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import CWardenSys
import WardenCore
import WardenMetrics
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
///
/// Poison files: before it reads a group of files the loop records their names
/// (`FilesInHand`); a file found in hand after an unclean stop is worked on alone, and a
/// file in hand at two unclean stops is quarantined in `rejected/` at start-up
/// (`recoverFilesInHand`), so one file can never make the daemon crash at every start.
public final class SpoolService: Service, Sendable {
    public let spool: SpoolDirectory
    let engine: Engine
    let clock: any WardenClock
    let logger: Logger
    let maxFileSize: Int
    let maxLine: Int
    let rescanInterval: TimeSpan
    let wake = AsyncSignal()
    let stopping = Locked(false)
    public let ticks = Locked(0)
    /// Set while an error on Warden's side pauses ingestion.
    public let paused = Locked<String?>(nil)
    /// The record of files in hand (nil: not kept, in tests that do not need it).
    let inHand: FilesInHand?
    /// Counts files settled, by outcome.
    let metrics: WardenMetrics?

    public init(
        spool: SpoolDirectory, engine: Engine, clock: any WardenClock, logger: Logger, maxFileSize: Int, maxLine: Int = 1 << 20,
        rescanInterval: TimeSpan, inHand: FilesInHand? = nil, metrics: WardenMetrics? = nil
    ) {
        self.inHand = inHand
        self.metrics = metrics
        self.maxLine = maxLine
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
            logger.warning("inotify unavailable; relying on periodic scans", metadata: ["warden.event": "spool.no_inotify", "warden.error": "\(error)"])
            watcher = nil
        }
        await withGracefulShutdownHandler {
            // The first pass lists the directory: files may have arrived between the
            // start-up scan and the watch.
            var listNext = true
            var lastListing = self.clock.now()
            var idle = IdleRelease(writes: self.engine.store.writeCount, now: self.clock.now())
            while !self.stopping.value && !Task.isCancelled {
                self.ticks.withLock { $0 += 1 }
                await FaultInjection.hangIfDue(self.logger)
                let arrivals = watcher?.take() ?? InotifyWatcher.Arrivals.lost
                let now = self.clock.now()
                let clean: Bool
                if listNext || arrivals.mustList || now >= lastListing + self.rescanInterval {
                    lastListing = now
                    clean = await self.processBacklog()
                } else {
                    clean = await self.process(Self.candidates(arrivals.names))
                }
                listNext = !clean
                await self.recordRejections()
                // Group-commit delay: after a wake, let a few more files arrive so they
                // share one transaction and one fsync (small against the p99 budget).
                if clean { try? await Task.sleep(for: Self.coalesceDelay) }
                var interval = clean ? self.rescanInterval : min(self.rescanInterval, .seconds(5))
                if let beat = SystemdService.heartbeat() { interval = min(interval, beat) }
                switch idle.step(writes: self.engine.store.writeCount, now: self.clock.now()) {
                case .release:
                    // The page cache freed, then the C heap's free pages given back.
                    self.engine.store.releaseCache()
                    _ = warden_malloc_trim()
                case .wait(let quiet): interval = min(interval, quiet)
                case .none: break
                }
                await self.wake.wait(until: self.clock.now() + interval, clock: self.clock)
            }
        } onGracefulShutdown: {
            self.stopping.value = true
            self.wake.signal()
        }
        await watcher?.stop()
    }

    /// When to give memory back after a burst of writes (`Store.releaseCache`): once no
    /// write has run for `quiet`, then not again until more writes come. One wake-up
    /// after a burst; none while idle.
    public struct IdleRelease: Sendable {
        public static let quiet = TimeSpan.seconds(2)
        var seen: Int
        var lastChange: Timestamp
        var pending = false

        public init(writes: Int, now: Timestamp) {
            seen = writes
            lastChange = now
        }

        public enum Action: Equatable, Sendable {
            case none
            case release
            /// Come back within this long to check.
            case wait(TimeSpan)
        }

        /// What to do at `now`, the store having run `writes` write transactions so far.
        public mutating func step(writes: Int, now: Timestamp) -> Action {
            if writes != seen {
                seen = writes
                lastChange = now
                pending = true
            }
            guard pending else { return .none }
            let quietFor = now - lastChange
            if quietFor >= Self.quiet {
                pending = false
                return .release
            }
            return .wait(TimeSpan(milliseconds: Self.quiet.milliseconds - quietFor.milliseconds))
        }
    }

    /// How long the loop lets files accumulate after a pass before the next one.
    static let coalesceDelay: Duration = .milliseconds(5)

    /// At most this many files, or this many records, go into one transaction.
    static let batchFiles = 512
    static let batchRecords = 20_000
    /// NDJSON files larger than this are validated and applied streaming, in two passes.
    static let streamThreshold = 1 << 20
    /// A file with more errors than this lists the first ones and says how many more.
    static let maxReportedErrors = 1000

    enum Prepared {
        case records([Record])
        case stream
        case done  // rejected or vanished: nothing to commit
        case blocked  // an error on Warden's side: leave it in incoming/
    }

    /// Processes every file waiting in `incoming/` (listing the directory). Returns false
    /// if an error on Warden's side left files behind (the caller retries sooner).
    @discardableResult
    public func processBacklog() async -> Bool {
        let pending: SpoolDirectory.Pending
        do {
            pending = try spool.pendingFiles()
        } catch {
            pause("cannot list \(spool.incoming): \(error)")
            return false
        }
        for raw in pending.unreadableNames {
            do {
                let finalName = try spool.rejectUnreadableName(raw)
                metrics?.spoolFiles("rejected")
                rejections.withLock { $0.append((finalName, [RecordError(message: "the file name is not valid UTF-8")])) }
            } catch {
                pause("cannot move \(SpoolDirectory.readableName(raw)) to rejected/: \(error)")
            }
        }
        return await process(pending.names)
    }

    /// Names from inotify events that are still to be read: candidates only, each once,
    /// in arrival order.
    static func candidates(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { SpoolDirectory.isCandidate($0) && seen.insert($0).inserted }
    }

    /// At start-up, before the backlog: counts an unclean stop against the files that were
    /// in hand, and quarantines those in hand at `FilesInHand.quarantineAfter` of them.
    public func recoverFilesInHand() {
        guard let inHand else { return }
        let recovery: FilesInHand.Recovery
        do {
            recovery = try inHand.recover()
        } catch {
            logger.error("Cannot read the record of spool files in hand; a file that crashes the daemon will not be quarantined", metadata: ["warden.event": "spool.in_hand_unreadable", "warden.error": "\(error)"])
            return
        }
        if recovery.unreadable {
            logger.warning("The record of spool files in hand was unreadable; starting it afresh", metadata: ["warden.event": "spool.in_hand_unreadable", "warden.file": "\(inHand.path)"])
        }
        if !recovery.suspects.isEmpty {
            logger.warning(
                "The last stop was unclean with \(recovery.suspects.count) spool file\(recovery.suspects.count == 1 ? "" : "s") in hand; each is now read on its own",
                metadata: ["warden.event": "spool.suspects", "warden.files": "\(recovery.suspects.sorted().joined(separator: ", "))"])
        }
        for (name, stops) in recovery.quarantine {
            let error = RecordError(
                message: "quarantined: wardend stopped uncleanly \(stops) times while this file was in hand (a crash, an abort or a kill), so it is not read again; look in the journal for the crash (WARDEN_FILE=\(name)), then hand the file over again once fixed")
            do {
                let finalName = try spool.reject(name, errors: [error])
                metrics?.spoolFiles("quarantined")
                rejections.withLock { $0.append((finalName, [error])) }
                logger.critical(
                    "Spool file quarantined: the daemon stopped uncleanly \(stops) times while it was in hand",
                    metadata: ["warden.event": "spool.quarantined", "warden.file": "\(name)", "warden.rejected_as": "\(finalName)"])
            } catch SpoolError.io(_, let e) where e == ENOENT {
                continue  // no longer in incoming/ (an operator moved it)
            } catch {
                logger.critical("Cannot quarantine spool file \(name): \(error)", metadata: ["warden.event": "spool.quarantine_failed", "warden.file": "\(name)"])
            }
        }
        do {
            try inHand.end(isGone: spool.isGone)
        } catch {
            pause("cannot write \(inHand.path): \(error)")
        }
    }

    /// Records `names` as in hand before any of them is read; false (and paused) if the
    /// record cannot be written.
    func markInHand(_ names: [String]) -> Bool {
        guard let inHand else { return true }
        do {
            try inHand.begin(names)
            return true
        } catch {
            pause("cannot write \(inHand.path): \(error)")
            return false
        }
    }

    /// Processes the named files of `incoming/`, in order; a name that is gone is skipped.
    /// Batches are committed and moved by a child task while the next files are read, so
    /// reading and parsing overlap with SQLite and the renames; commits stay in order (a
    /// batch starts only after the previous one is durable and moved). The names of the
    /// group being read and of the batch in flight are recorded as in hand first; a file
    /// that was in hand at an unclean stop is read, committed and moved on its own.
    func process(_ names: [String]) async -> Bool {
        let done = await processGroups(names)
        if let inHand {
            do {
                try inHand.end(isGone: spool.isGone)
            } catch {
                pause("cannot write \(inHand.path): \(error)")
                return false
            }
        }
        return done
    }

    private func processGroups(_ names: [String]) async -> Bool {
        var batch: [(name: String, records: [Record])] = []
        var batchRecords = 0
        var committing: Task<Bool, Never>?
        // Waits for the batch in flight; false if it stopped on an error on Warden's side.
        func settle() async -> Bool {
            defer { committing = nil }
            return await committing?.value ?? true
        }
        // Starts committing the batch gathered so far, once the previous one is done.
        func handOff() async -> Bool {
            guard await settle() else { return false }
            let ready = batch
            batch = []
            batchRecords = 0
            if !ready.isEmpty { committing = Task { await self.commit(ready) } }
            return true
        }
        // Files are opened relative to incoming/, opened once for the pass.
        let directory = open(spool.incoming, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { if directory >= 0 { close(directory) } }
        var previousGroup: [String] = []
        var groupEnd = 0
        for (index, name) in names.enumerated() {
            if stopping.value { break }
            if inHand?.isSuspect(name) == true {
                // Alone: what is in flight first, then this file by itself.
                guard await handOff(), await settle(), markInHand([name]) else { return false }
                previousGroup = []
                groupEnd = index + 1
                switch prepare(name, in: directory >= 0 ? directory : AT_FDCWD) {
                case .done: continue
                case .blocked: return false
                case .stream: guard await stream(name) else { return false }
                case .records(let records): guard await commit([(name, records)]) else { return false }
                }
                continue
            }
            if index >= groupEnd {
                // The next group: its names, and those of the batch that may still be in
                // flight, are in hand from now on.
                groupEnd = min(index + Self.batchFiles, names.count)
                let group = names[index..<groupEnd].filter { inHand?.isSuspect($0) != true }
                guard markInHand(previousGroup + group) else {
                    _ = await handOff()
                    _ = await settle()
                    return false
                }
                previousGroup = group
            }
            switch prepare(name, in: directory >= 0 ? directory : AT_FDCWD) {
            case .done: continue
            case .blocked:
                _ = await handOff()
                _ = await settle()
                return false
            case .stream:
                guard await handOff(), await settle() else { return false }
                guard await stream(name) else { return false }
            case .records(let records):
                batch.append((name, records))
                batchRecords += records.count
                if batch.count >= Self.batchFiles || batchRecords >= Self.batchRecords {
                    guard await handOff() else { return false }
                }
            }
        }
        guard await handOff(), await settle() else { return false }
        if paused.value != nil {
            paused.value = nil
            logger.notice("Spool ingestion resumed", metadata: ["warden.event": "spool.resumed"])
        }
        return true
    }

    /// Reads and validates one file. Refused files are rejected here, at once.
    /// `directory`: an open descriptor of `incoming/`, or `AT_FDCWD`.
    func prepare(_ name: String, in directory: Int32 = AT_FDCWD) -> Prepared {
        let bytes: [UInt8]
        // A large NDJSON file is not read here: it is validated while it is applied.
        switch spool.read(name, maxBytes: maxFileSize, unlessOver: SpoolFormat.isNDJSON(name) ? Self.streamThreshold : .max, in: directory) {
        case .success(let b?): bytes = b
        case .success(nil): return .stream
        case .failure(let e): return refuse(name, e)
        }
        let raw: SpoolFormat.Decoded
        switch SpoolFormat.decode(name: name, bytes: bytes, maxLine: maxLine) {
        case .success(let values): raw = values
        case .failure(let errors):
            rejectNow(name, errors.errors)
            return .done
        }
        let parser = engine.parser
        var records: [Record] = []
        var errors: [RecordError] = []
        records.reserveCapacity(raw.count)
        for (index, item) in raw.enumerated() {
            switch parser.parse(item.value, index: index + 1, line: item.line) {
            case .success(var r):
                r.raw = item.raw
                records.append(r)
            case .failure(let e): errors += e.errors
            }
        }
        if !errors.isEmpty {
            rejectNow(name, Self.capped(errors))
            return .done
        }
        return .records(records)
    }

    func refuse(_ name: String, _ error: SpoolError) -> Prepared {
        switch error {
        case .vanished: return .done
        case .refused(_, let reason):
            rejectNow(name, [RecordError(message: "the file \(reason)")])
            return .done
        case .io:
            pause("cannot read \(name): \(error)")
            return .blocked
        }
    }

    /// First pass over a large NDJSON file: every line validated, nothing kept.
    func validateStreaming(_ name: String) -> Prepared {
        guard var reader = LineReader(path: spool.incoming + "/" + name, maxLine: maxLine) else {
            return refuse(name, .vanished(name: name))
        }
        let parser = engine.parser
        var errors: [RecordError] = []
        var record = 0
        var found = 0
        do {
            while let line = try reader.next() {
                switch line {
                case .tooLong(let number, let length):
                    record += 1
                    found += 1
                    if errors.count < Self.maxReportedErrors {
                        errors.append(RecordError(record: record, line: number, message: "line of \(length) bytes is over the \(maxLine)-byte limit ([spool] max_line)"))
                    }
                case .text(let bytes, let number):
                    if NDJSON.isBlank(bytes) { continue }
                    record += 1
                    let problems: [RecordError]
                    do {
                        let value = try JSONParser.parse(bytes)
                        if case .failure(let e) = parser.parse(value, index: record, line: number) { problems = e.errors } else { problems = [] }
                    } catch {
                        problems = [error.recordError(record: record, line: number)]
                    }
                    found += problems.count
                    errors += problems.prefix(max(0, Self.maxReportedErrors - errors.count))
                }
            }
        } catch {
            pause("cannot read \(name): \(error)")
            return .blocked
        }
        if record == 0 { errors.append(RecordError(message: "the file is empty; expected at least one record")) }
        if found > errors.count { errors.append(RecordError(message: "\(found - errors.count) more errors not listed")) }
        if !errors.isEmpty {
            rejectNow(name, errors)
            return .done
        }
        return .stream
    }

    /// A record that failed validation while streaming: the transaction rolls back.
    struct InvalidWhileStreaming: Error {}

    /// Applies a large NDJSON file line by line in one transaction, validating as it goes
    /// (one pass for a valid file, the common case): a reader thread parses ahead
    /// (`ParseAhead`) while the writer applies. At the first invalid line the transaction
    /// rolls back and a validating pass collects every error for the report.
    func stream(_ name: String) async -> Bool {
        let reader = ParseAhead(path: spool.incoming + "/" + name, maxLine: maxLine, parser: engine.parser)
        defer { reader.cancel() }
        do {
            _ = try await engine.ingest(source: "spool:\(name)") { emit in
                while true {
                    switch reader.next() {
                    case .records(let records):
                        try emit(records)
                        reader.recycle(records)
                    case .invalid: throw InvalidWhileStreaming()
                    case .end(let count):
                        if count == 0 { throw InvalidWhileStreaming() }
                        return
                    case .failed(let error): throw error
                    }
                }
            }
        } catch is InvalidWhileStreaming {
            if case .stream = validateStreaming(name) {
                rejectNow(name, [RecordError(message: "the file changed while it was read")])
            }
            return true
        } catch where Store.isEnvironmental(error) {
            pause("cannot commit \(name): \(error)")
            return false
        } catch {
            logger.error("Spool file could not be stored", metadata: ["warden.event": "spool.store_failed", "warden.file": "\(name)", "warden.error": "\(error)"])
            rejectNow(name, [RecordError(message: "could not be stored: \(error)")])
            return true
        }
        return moveToProcessed([name])
    }

    /// Commits a batch (one transaction, a savepoint per file), then moves each
    /// committed file to `processed/`. False if an error on Warden's side stopped it.
    func commit(_ batch: [(name: String, records: [Record])]) async -> Bool {
        guard !batch.isEmpty else { return true }
        let results: [Result<Engine.IngestReport, Engine.FileFailure>]
        do {
            results = try await engine.ingest(files: batch.map { ("spool:\($0.name)", $0.records) })
        } catch {
            pause("cannot commit \(batch.count) file\(batch.count == 1 ? "" : "s") starting with \(batch[0].name): \(error)")
            return false
        }
        var committed: [String] = []
        for (file, result) in zip(batch, results) {
            switch result {
            case .success: committed.append(file.name)
            case .failure(let failure):
                // Not the environment: this file's content makes the apply fail every time.
                // Quarantine it with the reason rather than stall the spool behind it.
                logger.error("Spool file could not be stored", metadata: ["warden.event": "spool.store_failed", "warden.file": "\(file.name)", "warden.error": "\(failure)"])
                rejectNow(file.name, [RecordError(message: "could not be stored: \(failure)")])
            }
        }
        return moveToProcessed(committed)
    }

    /// Moves committed files to `processed/YYYY-MM-DD/`. A crash before a move leaves the
    /// file in `incoming/`; read again, its records are re-deliveries (no-ops).
    func moveToProcessed(_ names: [String]) -> Bool {
        let day = TimeFormat.date(clock.now(), in: engine.settings.zone)
        do {
            try spool.moveToProcessed(names, day: day)
        } catch {
            pause("cannot move to processed/: \(error)")
            return false
        }
        metrics?.spoolFiles("processed", names.count)
        return true
    }

    /// Moves a refused file to `rejected/` and records why (asynchronously in the store).
    func rejectNow(_ name: String, _ errors: [RecordError]) {
        let finalName: String
        do {
            finalName = try spool.reject(name, errors: errors)
        } catch {
            pause("cannot move \(name) to rejected/: \(error)")
            return
        }
        metrics?.spoolFiles("rejected")
        rejections.withLock { $0.append((finalName, errors)) }
    }

    static func capped(_ errors: [RecordError]) -> [RecordError] {
        guard errors.count > maxReportedErrors else { return errors }
        return Array(errors.prefix(maxReportedErrors)) + [RecordError(message: "\(errors.count - maxReportedErrors) more errors not listed")]
    }

    /// Rejections moved but not yet recorded in the store (recorded after each pass).
    let rejections = Locked<[(file: String, errors: [RecordError])]>([])

    func recordRejections() async {
        let pending = rejections.withLock { list -> [(file: String, errors: [RecordError])] in
            defer { list.removeAll() }
            return list
        }
        for r in pending {
            do {
                try await engine.recordRejection(file: r.file, errors: r.errors)
            } catch {
                logger.error("Could not record the rejection in the store", metadata: ["warden.event": "spool.rejection_unrecorded", "warden.file": "\(r.file)", "warden.error": "\(error)"])
            }
        }
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
