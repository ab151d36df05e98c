import Testing
import WardenCore
import WardenDaemon
import WardenStore
import WardenTestKit

/// The deadline scheduler over a fake clock, against a real SQLite file.
@Suite("Deadline scheduler", .serialized)
struct DeadlineSchedulerTests {
    @Test(arguments: StoreBackend.here) func warnsThenFiresExactlyOnce(_ backend: StoreBackend) async throws {
        // Given a merchant complaint opened a minute ago
        let f = try EngineFixture(backend)
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        #expect(try f.caseRecord("C1")?.state == .awaitingEvidence)
        #expect(try f.caseRecord("C1")?.deadline == EngineFixture.due)

        // When time passes each warning offset
        f.clock.advance(to: EngineFixture.due - .hours(4))
        await f.deadlines.fireDue()
        #expect(try f.events("deadline.warning") == 1)
        f.clock.advance(to: EngineFixture.due - .hours(1))
        await f.deadlines.fireDue()
        #expect(try f.events("deadline.warning") == 2)
        #expect(try f.caseRecord("C1")?.state == .awaitingEvidence)

        // Then the deadline fires at exactly opened_at + 24 h, once
        f.clock.advance(to: EngineFixture.due - TimeSpan(milliseconds: 1))
        await f.deadlines.fireDue()
        #expect(try f.caseRecord("C1")?.state == .awaitingEvidence)
        f.clock.advance(to: EngineFixture.due)
        await f.deadlines.fireDue()
        let c = try #require(try f.caseRecord("C1"))
        #expect(c.state == .defaulted)
        #expect(c.liability == Liability(amount: .yuan(10), points: 0))
        let ledger = try f.ledger()
        #expect(ledger.count == 1)
        #expect(ledger.first?.rule == "K4")
        #expect(ledger.first?.amount.description == "10.00")
        #expect(ledger.first?.at == EngineFixture.due)
        #expect(TimeFormat.format(ledger.first!.at, in: .shanghai) == "2023-04-06T09:30:00+08:00")

        f.clock.advance(by: .days(2))
        await f.deadlines.fireDue()
        try f.reopen()
        await f.deadlines.fireDue()
        #expect(try f.ledger().count == 1)
        #expect(try f.events("deadline.expired") == 1)
        #expect(try f.events("deadline.warning") == 2)
    }

    @Test(arguments: StoreBackend.here) func deadlinesThatPassedWhileStoppedFireAtStartUp(_ backend: StoreBackend) async throws {
        // Given a case, and the daemon "stopped" before its deadline
        let f = try EngineFixture(backend)
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        // When it starts again two days later
        f.clock.advance(by: .days(2))
        try f.reopen()
        #expect(f.deadlines.pendingCount == 1)
        await f.deadlines.fireDue()
        // Then the deadline fires once, dated at its due time, without stale warnings
        #expect(try f.caseRecord("C1")?.state == .defaulted)
        #expect(try f.ledger().map(\.at) == [EngineFixture.due])
        #expect(try f.events("deadline.warning") == 0)
        try f.reopen()
        #expect(f.deadlines.pendingCount == 0)
    }

    /// `n` orders with complaints C1…Cn opened a minute apart from 09:30.
    static func staggeredComplaints(_ n: Int) -> [String] {
        (1...n).flatMap { i in
            let opened = TimeFormat.format(EngineFixture.opened + .minutes(Int64(i - 1)), in: .shanghai)
            return [
                EngineFixture.order.replacingOccurrences(of: "\"O1\"", with: "\"O\(i)\""),
                EngineFixture.complaint.replacingOccurrences(of: "\"O1\"", with: "\"O\(i)\"").replacingOccurrences(of: "\"C1\"", with: "\"C\(i)\"")
                    .replacingOccurrences(of: "2023-04-05 09:30:00", with: opened),
            ]
        }
    }

    @Test(arguments: StoreBackend.here) func moreDeadlinesThanTheWindowHoldsFireInOrderOnceAcrossARestart(_ backend: StoreBackend) async throws {
        // Given 10 deadlines and a window of 3 in memory
        let f = try EngineFixture(backend, windowSize: 3)
        let records = try Self.staggeredComplaints(10).map { try f.engine.parser.parse(JSONParser.parse($0)).get() }
        try await f.engine.ingest(records, source: "test")
        #expect(f.deadlines.heldCount <= 6)
        #expect(f.deadlines.pendingCount == 10)
        // When time reaches C5's 4 h warning, then a restart, then C10's due time
        f.clock.advance(to: EngineFixture.due + .minutes(4) - .hours(4))
        await f.deadlines.fireDue()
        #expect(try f.events("deadline.warning") == 5)
        #expect(f.deadlines.heldCount <= 6)
        try f.reopen()
        f.clock.advance(to: EngineFixture.due + .minutes(9))
        await f.deadlines.fireDue()
        // Then each fired once, dated at its due time, and the warnings that passed
        // unsent while the daemon waited are not sent after the deadline. (Overdue
        // deadlines fire window by window, in the order they needed attention: C6–C10
        // still had their 4 h warning pending, C1–C5 only their 1 h one.)
        let ledger = try f.ledger().sorted { $0.at < $1.at }
        #expect(ledger.map(\.caseId) == (1...10).map { "C\($0)" })
        #expect(ledger.map(\.at) == (0..<10).map { EngineFixture.due + .minutes(Int64($0)) })
        #expect(try f.events("deadline.expired") == 10)
        #expect(try f.events("deadline.warning") == 5)
        #expect(f.deadlines.pendingCount == 0)
        #expect(f.deadlines.heldCount == 0)
    }

    @Test(arguments: StoreBackend.here) func aReloadedWarnBeforeMovesWhenDeadlinesNeedAttention(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend, windowSize: 2)
        let records = try Self.staggeredComplaints(4).map { try f.engine.parser.parse(JSONParser.parse($0)).get() }
        try await f.engine.ingest(records, source: "test")
        // When warn_before changes from 4 h and 1 h to 6 h (a reload: deadlines now need
        // attention earlier than the store's order had them), and time passes 6 h
        // before C4's deadline
        var settings = f.engine.settings
        settings.warnBefore = [.hours(6)]
        f.engine.settings = settings
        f.deadlines.reloadSchedule()
        f.clock.advance(to: EngineFixture.due + .minutes(3) - .hours(6))
        await f.deadlines.fireDue()
        // Then each deadline warned once, at 6 h
        #expect(try f.events("deadline.warning") == 4)
        let warned = try f.store.read { tx in try tx.events(after: 0, topics: ["deadline.warning"], limit: 10).map { try JSONParser.parse($0.body).object?["warn_before"] } }
        #expect(warned == Array(repeating: .string("6h"), count: 4))
        // And a restart with the same setting reads the store's order as it is
        try f.reopen()
        #expect(try f.store.read { try $0.deadlineAttentionWarnBefore() } == [.hours(6)])
        f.clock.advance(to: EngineFixture.due + .minutes(3))
        await f.deadlines.fireDue()
        #expect(try f.ledger().count == 4)
        #expect(try f.events("deadline.warning") == 4)
    }

    @Test(arguments: StoreBackend.here) func deadlinesDueTogetherFireInOneGroupAndABadOneAlone(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        let second = { (text: String) in text.replacingOccurrences(of: "\"O1\"", with: "\"O2\"").replacingOccurrences(of: "\"C1\"", with: "\"C2\"") }
        try await f.ingest(EngineFixture.order, EngineFixture.complaint, second(EngineFixture.order), second(EngineFixture.complaint))
        // C2's case row made unreadable (a state no version writes): its firing fails on
        // its own, in its savepoint; C1's, in the same transaction, commits.
        try f.rawExecute("UPDATE cases SET state = 'bogus' WHERE case_id = 'C2'")
        f.clock.advance(by: .days(2))
        await f.deadlines.fireDue()
        #expect(try f.caseRecord("C1")?.state == .defaulted)
        #expect(try f.ledger().map(\.caseId) == ["C1"])
        #expect(try f.events("deadline.expired") == 1)
        #expect(f.deadlines.pendingCount == 1)  // C2's, put back to be tried again
        await f.deadlines.fireDue()
        #expect(try f.ledger().count == 1)
    }

    /// SPEC §7: a deadline another node holds locked (it is firing it) is tried again
    /// `busyRetry` later while the rest of the burst goes on, not only after the whole
    /// burst: if that node died, its deadlines fire about a second after its death
    /// however long the burst. Here the other node is a session holding C1's deadline
    /// row; it lets go (rolls back, as a killed node's session does) when the first
    /// group of the burst commits, and the fake clock moves on by `busyRetry` at the
    /// second.
    @Test func aDeadlineHeldByAnotherNodeIsTriedAgainDuringTheBurst() async throws {
        try #require(PostgresServer.unavailable == nil, "\(PostgresServer.unavailable ?? "")")
        let f = try EngineFixture(.postgres)
        let n = 2_500  // more than two groups of `DeadlineService.batchSize`
        let records = try Self.staggeredComplaints(n).map { try f.engine.parser.parse(JSONParser.parse($0)).get() }
        try await f.engine.ingest(records, source: "test")
        await f.deadlines.fireDue()  // nothing due yet: only the first look at the store
        let other = try PGConnection(url: f.location)
        defer { other.close() }
        try other.execute("BEGIN")
        #expect(try other.fetchAll("SELECT case_id FROM deadlines WHERE case_id = 'C1' FOR UPDATE").count == 1)
        // The first group's commit lets go of C1; the second's moves the clock on by
        // `busyRetry` (C1 was found held at the first group).
        let commits = Locked(0)
        let clock = f.clock
        f.engine.onCasesChanged { _ in
            commits.withLock { count in
                count += 1
                if count == 1 { _ = try? other.execute("ROLLBACK") }
                if count == 2 { clock.advance(by: .seconds(1)) }
            }
        }
        f.clock.advance(to: EngineFixture.due + .days(3))
        #expect(await f.deadlines.fireDue())
        #expect(commits.value >= 3)
        // All fired in this one pass, C1 too, each once.
        #expect(try f.rawCount("SELECT count(*) FROM ledger") == n)
        #expect(try f.rawCount("SELECT count(*) FROM ledger WHERE case_id = 'C1'") == 1)
        #expect(f.deadlines.pendingCount == 0)
        #expect(f.deadlines.heldCount == 0)
    }

    @Test(arguments: StoreBackend.here) func warningsMissedWhileStoppedFoldIntoOne(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        f.clock.advance(to: EngineFixture.due - .minutes(30))
        try f.reopen()
        await f.deadlines.fireDue()
        #expect(try f.events("deadline.warning") == 1)
        #expect(try f.caseRecord("C1")?.state == .awaitingEvidence)
    }

    @Test(arguments: StoreBackend.here) func evidenceInTimeCancelsTheDeadline(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        try await f.ingest(EngineFixture.order, EngineFixture.complaint, EngineFixture.evidence("2023-04-06 09:29:59"))
        #expect(try f.caseRecord("C1")?.state == .evidenceSubmitted)
        #expect(f.deadlines.pendingCount == 0)
        f.clock.advance(by: .days(2))
        await f.deadlines.fireDue()
        try f.reopen()
        await f.deadlines.fireDue()
        #expect(try f.ledger().isEmpty)
    }

    @Test(arguments: StoreBackend.here) func theRunningServiceWakesWhenTheClockReachesTheDeadline(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend, now: EngineFixture.due - .minutes(5))
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        let service = f.deadlines
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await waitUntil { f.clock.sleeperCount > 0 }
        f.clock.advance(to: EngineFixture.due)
        try await waitUntil { (try? f.caseRecord("C1")?.state) == .defaulted }
        #expect(try f.ledger().count == 1)
    }
}

func waitUntil(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws {
    let start = ContinuousClock.now
    while ContinuousClock.now - start < timeout {
        if (try? condition()) == true { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition not met within \(timeout)")
}

@Suite("Fake clock")
struct FakeClockTests {
    /// A task cancelled before it begins to sleep: the cancellation handler runs before
    /// the sleeper is registered. The sleep must throw, not wait forever.
    @Test func aSleepCancelledBeforeItBeginsThrows() async {
        let clock = FakeClock(now: Timestamp(milliseconds: 0))
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(until: Timestamp(milliseconds: 3_600_000))
        }
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(clock.sleeperCount == 0)
    }

    @Test func aSleepCancelledWhileWaitingThrows() async throws {
        let clock = FakeClock(now: Timestamp(milliseconds: 0))
        let task = Task { try await clock.sleep(until: Timestamp(milliseconds: 3_600_000)) }
        while clock.sleeperCount == 0 { await Task.yield() }
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
    }
}
