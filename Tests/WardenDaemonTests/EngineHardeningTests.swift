import Foundation
import Testing
import WardenCore
import WardenDaemon
import WardenStore
import WardenTestKit

/// Issue 10: what the engine publishes, and what it reads back, cannot go wrong silently.
@Suite("Engine: live events in order, nothing read back silently")
struct EngineHardeningTests {
    /// A subscriber connected while a warning fires gets it live, not only on replay.
    @Test(arguments: StoreBackend.here) func aLiveSubscriberGetsTheDeadlineWarning(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        let topics = Locked<[String]>([])
        f.engine.onEvents { events in topics.withLock { $0 += events.map(\.topic) } }
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        f.clock.advance(to: EngineFixture.due - .hours(4))
        await f.deadlines.fireDue()
        f.clock.advance(to: EngineFixture.due)
        await f.deadlines.fireDue()
        f.engine.flushEvents()
        #expect(topics.value == ["case.opened", "deadline.warning", "deadline.expired", "case.changed", "ledger.entry"])
        #expect(try f.events("deadline.warning") == 1)
    }

    /// Spool, socket and deadline writers racing: subscribers still see `seq` in order,
    /// with no gap (SPEC: events are delivered in order).
    @Test(arguments: StoreBackend.here) func eventsArePublishedInSeqOrderWhateverWritesThem(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        let seqs = Locked<[Int64]>([])
        f.engine.onEvents { events in seqs.withLock { $0 += events.map(\.seq) } }
        let writers = 8
        let perWriter = 60
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    for i in 0..<perWriter {
                        if (w + i) % 3 == 0 {
                            try await f.engine.recordRejection(file: "w\(w)-\(i).json", errors: [RecordError(message: "bad")])
                        } else {
                            let order = #"{"type":"order","order_id":"O\#(w)-\#(i)","category":"stand-mixer","paid_amount":"10.00","paid_at":"2023-04-01 10:00:00","delivery_service":"merchant"}"#
                            let complaint = #"{"type":"complaint","complaint_id":"C\#(w)-\#(i)","order_id":"O\#(w)-\#(i)","reason":"not-delivered-to-door","opened_at":"2023-04-05 09:30:00"}"#
                            let records = try [order, complaint].map { try f.engine.parser.parse(JSONParser.parse($0)).get() }
                            try await f.engine.ingest(records, source: "w\(w)")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        f.engine.flushEvents()
        let seen = seqs.value
        #expect(seen.count == writers * perWriter)
        #expect(seen == seen.sorted(), "published out of seq order")
        #expect(Set(seen).count == seen.count)
        if let first = seen.first { #expect(seen == Array(first..<first + Int64(seen.count)), "a gap in seq") }
    }

    /// A store used after it is closed (a late task at shutdown) gets an error, not a
    /// freed connection; closing twice is harmless.
    @Test func aClosedStoreRefusesWorkAndClosesOnce() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try Store(path: dir.path + "/warden.db")
        #expect(try store.read { try $0.orderCounts() }.total == 0)
        try store.close()
        try store.close()
        #expect { try store.read { try $0.orderCounts() } } throws: { "\($0)".contains("closed") }
        await #expect { try await store.write { try $0.orderCounts() } } throws: { "\($0)".contains("closed") }
        store.releaseCache()
    }

    /// A state this version does not know (a newer Warden wrote it, or a hand edit) is an
    /// error naming the table, column and row, not a case silently `resolved`.
    @Test(arguments: StoreBackend.here) func anUnknownStateReadBackIsAnError(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        try f.rawExecute("UPDATE cases SET state = 'escalated-to-mars', reason = 'gremlins' WHERE case_id = 'C1'")
        #expect {
            _ = try f.caseRecord("C1")
        } throws: { error in
            "\(error)".contains("cases.") && "\(error)".contains("C1") && ("\(error)".contains("escalated-to-mars") || "\(error)".contains("gremlins"))
        }
    }

    /// A NULL where the schema says NOT NULL (the history table rebuilt by hand without
    /// its constraints) is an error naming the table, column and case, not an empty note.
    @Test func aMissingValueReadBackIsAnError() async throws {
        let f = try EngineFixture(.sqlite)
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        try f.rawExecute(
            """
            CREATE TABLE history_copy AS SELECT * FROM case_history;
            DROP TABLE case_history;
            ALTER TABLE history_copy RENAME TO case_history;
            UPDATE case_history SET note = NULL WHERE case_id = 'C1';
            """)
        #expect {
            _ = try f.caseRecord("C1")
        } throws: { error in
            "\(error)".contains("case_history.note") && "\(error)".contains("C1") && "\(error)".contains("NULL")
        }
    }

    /// SQLite keeps any value in any column: text where the schema has an integer (a
    /// hand edit) is an error naming the column and value wherever rows are read, not a
    /// trap or a guess. A deadline row so damaged, or holding a time no arithmetic can
    /// take, leaves the deadline service retrying and the daemon up, where it used to
    /// crash at every start.
    @Test func aValueOfTheWrongTypeReadBackIsAnErrorNotATrap() async throws {
        let f = try EngineFixture(.sqlite)
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        try f.rawExecute("UPDATE cases SET opened_at = 'yesterday' WHERE case_id = 'C1'")
        // By name (`case.list`) and by position (`case.get`) alike.
        #expect {
            _ = try f.store.read { try $0.cases(.init(), limit: 10, after: nil) }
        } throws: { error in
            "\(error)".contains("opened_at") && "\(error)".contains("\"yesterday\"") && "\(error)".contains("Int64")
        }
        #expect {
            _ = try f.caseRecord("C1")
        } throws: { error in
            "\(error)".contains("cases.opened_at for C1") && "\(error)".contains("\"yesterday\"")
        }
        for bad in ["'soon'", "\(Int64.max)", "\(Int64.min)"] {
            try f.rawExecute("UPDATE deadlines SET due_at = \(bad), next_at = \(bad) WHERE case_id = 'C1'")
            try f.reopen()
            f.clock.advance(by: .days(2))
            #expect(await f.deadlines.fireDue() == false, "due_at = \(bad)")
            #expect(try f.rawCount("SELECT count(*) FROM ledger") == 0)
        }
    }

    /// Which live events a subscriber has not had (SPEC §7 on a shared database): this
    /// node's in `seq` order after the replay's last; another node's whenever the replay
    /// did not deliver it, also below that `seq` (its transaction was open during the
    /// replay).
    @Test(arguments: [
        (Int64(11), false, true), (10, false, false), (3, false, false),
        (11, true, true), (10, true, false), (7, true, true), (3, true, false),
    ])
    func aLiveEventIsNewToASubscriberOnce(seq: Int64, foreign: Bool, new: Bool) {
        #expect(EventBus.isNew(seq, foreign: foreign, after: 10, replayed: [3, 9, 10]) == new)
    }
}
