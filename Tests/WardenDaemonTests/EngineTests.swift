import Foundation
import Testing
import WardenCore
import WardenDaemon
import WardenStore
import WardenTestKit

@Suite("Engine: order independence, idempotency, unmanaged records")
struct EngineTests {
    @Test(arguments: StoreBackend.here) func aComplaintBeforeItsOrderWaitsThenOpens(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        let first = try await f.ingest(EngineFixture.complaint)
        #expect(first.waiting == 1)
        #expect(try f.caseRecord("C1") == nil)
        try await f.ingest(EngineFixture.order)
        #expect(try f.caseRecord("C1")?.state == .awaitingEvidence)
        #expect(f.deadlines.pendingCount == 1)
    }

    @Test(arguments: StoreBackend.here) func evidenceBeforeItsCaseIsReplayedWhenTheCaseOpens(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        try await f.ingest(EngineFixture.evidence("2023-04-05 12:00:00"))
        try await f.ingest(EngineFixture.complaint)
        try await f.ingest(EngineFixture.order)
        let c = try #require(try f.caseRecord("C1"))
        #expect(c.state == .evidenceSubmitted)
        #expect(c.evidence.count == 1 && c.evidence[0].inTime)
    }

    /// A page of `case.list` is read in three queries, not three per case; each case in
    /// it must be exactly what `case.get` reads on its own (evidence and history included,
    /// in order), with filters and the cursor as before.
    @Test(arguments: StoreBackend.here) func aPageOfCasesIsEachCaseWhole(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        var texts: [String] = []
        for i in 0..<30 {
            texts.append(EngineFixture.order.replacingOccurrences(of: "\"O1\"", with: "\"O\(i)\"").replacingOccurrences(of: "\"s1\"", with: "\"s\(i % 3)\""))
            texts.append(EngineFixture.complaint.replacingOccurrences(of: "\"C1\"", with: "\"C\(i)\"").replacingOccurrences(of: "\"O1\"", with: "\"O\(i)\""))
            // Evidence for every third case, twice for some: several rows per case.
            for k in 0..<(i % 3 == 0 ? 1 + i % 2 : 0) {
                texts.append(EngineFixture.evidence("2023-04-05 1\(k):00:00").replacingOccurrences(of: "\"C1\"", with: "\"C\(i)\""))
            }
        }
        for t in texts { try await f.ingest(t) }
        try f.store.read { tx in
            let ids = (0..<30).map { "C\($0)" }.sorted()
            let whole = try ids.compactMap { try tx.caseRecord(id: $0) }
            #expect(whole.count == 30)
            #expect(whole.contains { $0.evidence.count == 2 } && whole.contains { $0.history.count >= 2 })
            #expect(try tx.cases(.init(), limit: 100, after: nil) == whole)
            // Pages of 7 with the cursor give the same cases.
            var paged: [CaseRecord] = []
            var cursor: String?
            repeat {
                let page = try tx.cases(.init(), limit: 7, after: cursor)
                paged += page
                cursor = page.count == 7 ? page.last?.caseId : nil
            } while cursor != nil
            #expect(paged == whole)
            // A filter: the shop's cases only, each whole.
            var filter = StoreTransaction.CaseFilter()
            filter.shop = "s0"
            #expect(try tx.cases(filter, limit: 100, after: nil) == whole.filter { $0.shop == "s0" })
            filter.state = .evidenceSubmitted
            let submitted = whole.filter { $0.shop == "s0" && $0.state == .evidenceSubmitted }
            #expect(submitted.count == 10)
            #expect(try tx.cases(filter, limit: 100, after: nil) == submitted)
        }
    }

    @Test(arguments: StoreBackend.here) func reDeliveryIsANoOpAndAnUpdateIsNoted(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        let again = try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        #expect(again.unchanged == 2 && again.new == 0)
        #expect(try f.caseRecord("C1")?.history.count == 1)
        let changed = EngineFixture.order.replacingOccurrences(of: #""shop":"s1""#, with: #""shop":"s2""#)
        let update = try await f.ingest(changed)
        #expect(update.updated == 1)
        let history = try #require(try f.caseRecord("C1")?.history)
        #expect(history.count == 2)
        #expect(history.last?.note.contains("order record updated (shop)") == true)
        #expect(try f.store.read { try $0.order(id: "O1") }?.shop == "s2")
    }

    /// Records from the spool keep their text as received; the same record spelt another
    /// way (key order, spaces, escapes, from CSV) is still a re-delivery.
    @Test(arguments: [
        (#"{"paid_at":"2023-04-01 10:00:00","type":"order","order_id":"O1","category":"stand-mixer","paid_amount":"1299.00","shop":"s1","delivery_service":"merchant"}"#, "unchanged"),
        (#"{ "type" : "order", "order_id":"O1","category":"stand-mixer","paid_amount":"1299.00","paid_at":"2023-04-01 10:00:00","shop":"s1","delivery_service":"merchant" }"#, "unchanged"),
        (#"{"type":"order","order_id":"O1","category":"stand-mixer","paid_amount":"1299.00","paid_at":"2023-04-01 10:00:00","shop":"s1","delivery_service":"merchant","note":"x"}"#, "updated note"),
        (#"{"type":"order","order_id":"O1","category":"stand-mixer","paid_amount":"1299.00","paid_at":"2023-04-01 10:00:00","shop":"s1"}"#, "updated delivery_service"),
    ])
    func aRecordStoredAsReceivedIsComparedByContent(text: String, expected: String) async throws {
        let f = try EngineFixture()
        var first = try f.records(EngineFixture.order, EngineFixture.complaint)
        first[0].raw = EngineFixture.order
        try await f.engine.ingest(first, source: "spool:a.ndjson")
        #expect(try f.store.read { try $0.orderBody(id: "O1") } == EngineFixture.order)
        var again = try f.records(text)[0]
        again.raw = text
        let report = try await f.engine.ingest([again], source: "spool:b.ndjson")
        switch expected {
        case "unchanged":
            #expect(report.unchanged == 1)
            #expect(try f.store.read { try $0.orderBody(id: "O1") } == EngineFixture.order)
        default:
            #expect(report.updated == 1)
            #expect(try f.store.read { try $0.orderBody(id: "O1") } == text)
            let field = String(expected.dropFirst("updated ".count))
            #expect(try f.caseRecord("C1")?.history.last?.note.contains("order record updated (\(field))") == true)
        }
    }

    /// `earlier` stored by one file into two stores, then `texts` as one file into the
    /// first and one file per record into the second; the reports of both must agree.
    static func applyTogetherAndOneByOne(
        _ backend: StoreBackend, earlier: [String], texts: [String]
    ) async throws -> (together: EngineFixture, oneByOne: EngineFixture, report: Engine.IngestReport) {
        let together = try EngineFixture(backend)
        let oneByOne = try EngineFixture(backend)
        for f in [together, oneByOne] { try await f.engine.ingest(try earlier.map { try f.records($0)[0] }, source: "earlier") }
        let report = try await together.engine.ingest(try texts.map { try together.records($0)[0] }, source: "file")
        var expected = Engine.IngestReport()
        for text in texts {
            let r = try await oneByOne.engine.ingest(try oneByOne.records(text), source: "file")
            expected.new += r.new
            expected.unchanged += r.unchanged
            expected.updated += r.updated
            expected.waiting += r.waiting
        }
        #expect(report == expected)
        return (together, oneByOne, report)
    }

    /// A file's records applied together (runs of orders go several rows per statement)
    /// end exactly as the same records applied one at a time.
    @Test(arguments: StoreBackend.here) func recordsAppliedTogetherEndAsOneByOne(_ backend: StoreBackend) async throws {
        func order(_ id: String, service: String = "merchant", shop: String = "s1") -> String {
            #"{"type":"order","order_id":"\#(id)","category":"stand-mixer","paid_amount":"1299.00","paid_at":"2023-04-01 10:00:00","shop":"\#(shop)","delivery_service":"\#(service)"}"#
        }
        let complaintO3 = EngineFixture.complaint.replacingOccurrences(of: "\"O1\"", with: "\"O3\"").replacingOccurrences(of: "\"C1\"", with: "\"C3\"")
        let earlier = [order("O0"), order("O5", shop: "old")]
        let texts = [
            order("O1"), order("O2", service: "none"), complaintO3, order("O3"), order("O4", service: "platform"),
            order("O2", service: "none"),  // the same record again within the file
            order("O0"),  // stored by an earlier file: a re-delivery
            order("O5", service: "none"),  // stored by an earlier file otherwise: an update, judged again
            order("O6", service: "none"), order("O1", shop: "s9"),  // an update within the file
            order("O7"),
        ]
        let (together, oneByOne, report) = try await Self.applyTogetherAndOneByOne(backend, earlier: earlier, texts: texts)
        #expect(report.new == 7 && report.unchanged == 2 && report.updated == 2 && report.waiting == 1)
        func state(_ f: EngineFixture) throws -> String {
            try f.store.read { tx in
                let orders = try (0...7).compactMap { try tx.order(id: "O\($0)") }.map { "\($0)" }
                let cases = try tx.cases(.init(), limit: 100, after: nil).map { "\($0.caseId) \($0.state) \($0.history.map(\.note))" }
                let findings = try tx.findings(.init(), limit: 100, after: nil).map { "\($0.rule) \($0.subject) \($0.message)" }
                let ledger = try tx.ledgerEntries(.init(), limit: 100, afterEntry: nil).map { "\($0.rule) \($0.amount)" }
                let bodies = try (0...7).compactMap { try tx.orderBody(id: "O\($0)") }
                let events = try tx.events(after: 0, topics: nil, limit: 1000).map { "\($0.seq) \($0.topic) \($0.body)" }
                return (orders + cases + findings + ledger + bodies + events).joined(separator: "\n")
            }
        }
        #expect(try state(together) == state(oneByOne))
        #expect(try together.caseRecord("C3") != nil)  // the waiting complaint was judged
        #expect(try together.store.read { try $0.order(id: "O1") }?.shop == "s9")
    }

    /// The same for files of orders with their complaints, evidence and verdicts (runs
    /// of new records of these types are stored several rows per statement before any
    /// is acted on): a complaint after its order, before it (waits, then is replayed),
    /// about an order stored earlier or about one an earlier complaint waits for,
    /// evidence before and after its complaint, a verdict, a complaint and evidence sent
    /// again, an unmanaged order's complaint, an update inside the file.
    @Test(arguments: StoreBackend.here) func complaintsEvidenceAndVerdictsAppliedTogetherEndAsOneByOne(_ backend: StoreBackend) async throws {
        func order(_ id: String, category: String = "stand-mixer", service: String = "merchant") -> String {
            #"{"type":"order","order_id":"\#(id)","category":"\#(category)","paid_amount":"1299.00","paid_at":"2023-04-01 10:00:00","shop":"s1","delivery_service":"\#(service)"}"#
        }
        func complaint(_ id: String, order: String, at: String = "2023-04-05 09:30:00") -> String {
            #"{"type":"complaint","complaint_id":"\#(id)","order_id":"\#(order)","reason":"not-delivered-to-door","opened_at":"\#(at)"}"#
        }
        func evidence(_ caseId: String, at: String = "2023-04-05 12:00:00") -> String {
            #"{"type":"evidence","complaint_id":"\#(caseId)","submitted_at":"\#(at)","items":[{"kind":"delivery-photo","ref":"\#(caseId).jpg"}]}"#
        }
        func verdict(_ caseId: String) -> String {
            #"{"type":"verdict","complaint_id":"\#(caseId)","outcome":"seller-liable","decided_at":"2023-04-08 10:00:00"}"#
        }
        let earlier = [order("P0"), order("P8"), complaint("Q9", order: "P9")]  // P9 unknown: Q9 waits for it
        let texts = [
            order("P1"), complaint("Q1", order: "P1"), evidence("Q1"),
            evidence("Q2"), order("P2"), complaint("Q2", order: "P2"),  // evidence waits for its case
            complaint("Q3", order: "P3"), order("P3"),  // the complaint waits for an order later in the file
            complaint("Q0", order: "P0"),  // about an order stored earlier
            order("P9"),  // the order an earlier file's complaint waits for
            order("P4", category: "books"), complaint("Q4", order: "P4"),  // unmanaged
            order("P5"), complaint("Q5", order: "P5"), verdict("Q5"),
            complaint("Q1", order: "P1"), evidence("Q1"),  // the same records again within the file
            order("P6"), complaint("Q6", order: "P6"), complaint("Q6", order: "P6", at: "2023-04-05 10:30:00"),  // an update
            order("P7", service: "none"), complaint("Q7", order: "P7"), evidence("Q7", at: "2023-04-07 12:00:00"),  // late evidence
            // An order stored earlier updated, then another order's case, then a complaint
            // about the updated order: judged after the other case, as one by one
            order("P8", service: "none"), order("P10"), complaint("Q10", order: "P10"), complaint("Q8", order: "P8"),
        ]
        let (together, oneByOne, report) = try await Self.applyTogetherAndOneByOne(backend, earlier: earlier, texts: texts)
        #expect(report.new == 23 && report.unchanged == 2 && report.updated == 2 && report.waiting == 2, "\(report)")
        func state(_ f: EngineFixture) throws -> String {
            try f.store.read { tx in
                let orders = try (0...10).compactMap { try tx.order(id: "P\($0)") }.map { "\($0)" }
                let cases = try tx.cases(.init(), limit: 100, after: nil).map {
                    "\($0.caseId) \($0.state) \($0.liability.map { "\($0)" } ?? "-") \($0.evidence.map(\.item.ref)) \($0.history.map(\.note))"
                }
                let ledger = try tx.ledgerEntries(.init(), limit: 100, afterEntry: nil).map { "\($0.rule) \($0.caseId ?? "-") \($0.amount)" }
                let deadlines = try tx.pendingDeadlines().map { "\($0.caseId) \($0.dueAt)" }
                let pending = try tx.pendingCounts().map { "\($0.type) \($0.count)" }
                let events = try tx.events(after: 0, topics: nil, limit: 1000).map { "\($0.seq) \($0.topic) \($0.body)" }
                return (orders + cases + ledger + deadlines + pending + events).joined(separator: "\n")
            }
        }
        #expect(try state(together) == state(oneByOne))
        // The file did what it says: cases opened, the waiting ones judged
        for id in ["Q0", "Q1", "Q2", "Q3", "Q5", "Q6", "Q7", "Q8", "Q9", "Q10"] { #expect(try together.caseRecord(id) != nil, "case \(id)") }
        #expect(try together.caseRecord("Q4") == nil)
        #expect(try together.caseRecord("Q2")?.evidence.isEmpty == false)
    }

    @Test(arguments: StoreBackend.here) func anOrderNoPolicyOwnsIsUnmanaged(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        try await f.ingest(#"{"type":"order","order_id":"B1","category":"books","paid_amount":"20.00","paid_at":"2023-04-01 10:00:00"}"#)
        let counts = try f.store.read { try $0.orderCounts() }
        #expect(counts.total == 1 && counts.unmanaged == 1)
    }

    /// The counts status lines and metrics show are kept by triggers; after a day of
    /// every kind of change they equal what counting the rows gives.
    @Test(arguments: StoreBackend.here) func theKeptCountsEqualTheRows(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        let typo = EngineFixture.order.replacingOccurrences(of: "stand-mixer", with: "stand-mixr")
        let second = { (text: String) in text.replacingOccurrences(of: "\"O1\"", with: "\"O2\"").replacingOccurrences(of: "\"C1\"", with: "\"C2\"") }
        // An unmanaged order (a typo), made managed by its correction; a second order in
        // a multi-row run; two complaints; evidence for one (its deadline cancelled),
        // the other's deadline fired; an unmanaged order that stays so.
        try await f.ingest(typo, EngineFixture.complaint)
        try await f.ingest(EngineFixture.order, second(EngineFixture.order), #"{"type":"order","order_id":"B1","category":"books","paid_amount":"20.00","paid_at":"2023-04-01 10:00:00"}"#)
        try await f.ingest(second(EngineFixture.complaint))
        try await f.ingest(EngineFixture.evidence("2023-04-05 12:00:00"))
        f.clock.advance(by: .days(2))
        await f.deadlines.fireDue()
        let kept = try f.store.read { tx in (try tx.orderCounts(), try tx.caseCounts(), try tx.pendingDeadlineCount()) }
        let counted = (
            try f.rawCount("SELECT count(*) FROM orders"), try f.rawCount("SELECT count(*) FROM orders WHERE module IS NULL"),
            try f.rawCount("SELECT count(*) FROM cases WHERE open <> 0"), try f.rawCount("SELECT count(*) FROM cases WHERE open = 0"),
            try f.rawCount("SELECT count(*) FROM deadlines WHERE status = 'pending'")
        )
        #expect(kept.0.total == counted.0 && kept.0.unmanaged == counted.1)
        #expect(kept.1.open == counted.2 && kept.1.closed == counted.3)
        #expect(kept.2 == counted.4)
        // And the day did move each of them
        #expect(counted.0 == 3 && counted.1 == 1)
        #expect(counted.2 + counted.3 == 2 && counted.3 >= 1)
        #expect(counted.4 == 0)
    }

    @Test(arguments: StoreBackend.here) func aDisabledPolicyLeavesItsCategoryUnmanaged(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend, policies: ["kitchen-appliances": PolicySettings(enabled: false)])
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        #expect(try f.caseRecord("C1") == nil)
        #expect(try f.store.read { try $0.orderCounts() }.unmanaged == 1)
    }

    @Test(arguments: StoreBackend.here) func socketEvidenceChecksStateAndDeadline(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        let item = EvidenceItem(kind: .signedReceipt, ref: "r.pdf")
        await #expect(throws: Engine.Failure.notFound("case C9")) {
            try await f.engine.submitEvidence(caseId: "C9", items: [item], note: nil)
        }
        f.clock.advance(to: EngineFixture.due)
        await #expect {
            try await f.engine.submitEvidence(caseId: "C1", items: [item], note: nil)
        } throws: { error in
            if case .deadlinePassed = error as? Engine.Failure { return true }
            return false
        }
    }

    @Test(arguments: StoreBackend.here) func aDeadlineWaitsWhileItsPolicyIsDisabled(_ backend: StoreBackend) async throws {
        // Given a case, and its policy disabled by a reload before the deadline
        let f = try EngineFixture(backend)
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        var settings = f.engine.settings
        settings.registry = try PolicyRegistry(registrations: BuiltinPolicies.all, settings: ["kitchen-appliances": PolicySettings(enabled: false)])
        f.engine.settings = settings
        f.clock.advance(to: EngineFixture.due + .hours(1))
        await f.deadlines.fireDue()
        // Then nothing is judged and the deadline stays pending
        #expect(try f.caseRecord("C1")?.state == .awaitingEvidence)
        #expect(try f.store.read { try $0.pendingDeadline(caseId: "C1") } != nil)
        // When the policy is enabled again, the deadline fires (once)
        settings.registry = try PolicyRegistry(registrations: BuiltinPolicies.all, settings: [:])
        f.engine.settings = settings
        f.deadlines.reloadSchedule()
        await f.deadlines.fireDue()
        #expect(try f.caseRecord("C1")?.state == .defaulted)
        #expect(try f.ledger().count == 1)
    }

    @Test(arguments: StoreBackend.here) func aComplaintIsJudgedWhenItsOrderBecomesManaged(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        let typo = EngineFixture.order.replacingOccurrences(of: "stand-mixer", with: "stand-mixr")
        try await f.ingest(typo, EngineFixture.complaint)
        #expect(try f.caseRecord("C1") == nil)
        try await f.ingest(EngineFixture.order)  // the corrected category
        #expect(try f.caseRecord("C1")?.state == .awaitingEvidence)
    }

    @Test(arguments: StoreBackend.here) func socketEvidenceInTimeMovesTheCase(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)
        let c = try await f.engine.submitEvidence(caseId: "C1", items: [EvidenceItem(kind: .signedReceipt, ref: "r.pdf")], note: "signed by buyer")
        #expect(c.state == .evidenceSubmitted)
        #expect(c.evidence.first?.item.ref == "r.pdf")
        #expect(f.deadlines.pendingCount == 0)
    }

    @Test(arguments: StoreBackend.here) func everyCaseChangeIsReportedAfterCommit(_ backend: StoreBackend) async throws {
        let f = try EngineFixture(backend)
        let seen = Locked<[Set<String>]>([])
        f.engine.onCasesChanged { ids in seen.withLock { $0.append(ids) } }
        try await f.ingest(EngineFixture.order, EngineFixture.complaint)  // opens C1
        let changed = EngineFixture.order.replacingOccurrences(of: #""shop":"s1""#, with: #""shop":"s9""#)
        try await f.ingest(changed)  // a history note only, no event
        f.clock.advance(to: EngineFixture.due)
        await f.deadlines.fireDue()  // defaulted, K4 booked
        #expect(seen.value == [["C1"], ["C1"], ["C1"]])
    }

    @Test func storeIsDurable() throws {
        let f = try EngineFixture()
        #expect(try f.store.synchronousMode() == 2)  // FULL
        #expect(try f.store.journalMode() == "wal")
    }
}
