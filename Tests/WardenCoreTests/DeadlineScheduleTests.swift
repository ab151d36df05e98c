import Testing
import WardenCore
import WardenTestKit

@Suite("Deadline schedule (pure state machine)")
struct DeadlineScheduleTests {
    let t0 = Timestamp(seconds: 1_680_658_200)  // 2023-04-05 09:30 CST
    let warn: [TimeSpan] = [.hours(4), .hours(1)]

    @Test func warnsAtEachOffsetThenExpiresOnce() {
        var s = DeadlineSchedule()
        let due = t0 + .hours(24)
        s.upsert(.init(caseId: "C", due: due, pendingWarnings: DeadlineSchedule.warningsAhead(due: due, warnBefore: warn, now: t0)))
        #expect(s.nextWake() == due - .hours(4))
        #expect(s.collect(now: due - .hours(5)).isEmpty)
        #expect(s.collect(now: due - .hours(4)) == [.warning(caseId: "C", due: due, offset: .hours(4), skipped: [])])
        #expect(s.nextWake() == due - .hours(1))
        #expect(s.collect(now: due - .minutes(30)) == [.warning(caseId: "C", due: due, offset: .hours(1), skipped: [])])
        #expect(s.collect(now: due - .seconds(1)).isEmpty)
        #expect(s.collect(now: due) == [.expiry(caseId: "C", due: due)])
        #expect(s.collect(now: due + .hours(1)).isEmpty)  // once
        #expect(s.nextWake() == nil)
    }

    @Test func onlyOffsetsStillAheadAreScheduled() {
        let due = t0 + .hours(2)
        #expect(DeadlineSchedule.warningsAhead(due: due, warnBefore: warn, now: t0) == [.hours(1)])
        #expect(DeadlineSchedule.warningsAhead(due: due, warnBefore: warn, now: due - .hours(1)) == [])
    }

    @Test func missedWarningsFoldIntoTheNearestOne() {
        var s = DeadlineSchedule()
        let due = t0 + .hours(24)
        s.upsert(.init(caseId: "C", due: due, pendingWarnings: warn))
        // The daemon was stopped through both warning times.
        #expect(s.collect(now: due - .minutes(10)) == [.warning(caseId: "C", due: due, offset: .hours(1), skipped: [.hours(4)])])
        #expect(s.collect(now: due) == [.expiry(caseId: "C", due: due)])
    }

    @Test func anOverdueDeadlineExpiresWithoutWarnings() {
        var s = DeadlineSchedule()
        s.upsert(.init(caseId: "C", due: t0, pendingWarnings: warn))
        #expect(s.collect(now: t0 + .hours(48)) == [.expiry(caseId: "C", due: t0)])
    }

    @Test func firingsComeOutInTimeOrder() {
        var s = DeadlineSchedule()
        s.upsert(.init(caseId: "B", due: t0 + .hours(2), pendingWarnings: []))
        s.upsert(.init(caseId: "A", due: t0 + .hours(1), pendingWarnings: []))
        s.upsert(.init(caseId: "C", due: t0 + .hours(3), pendingWarnings: []))
        s.remove(caseId: "C")
        #expect(s.nextDue()?.caseId == "A")
        #expect(s.collect(now: t0 + .hours(5)).map(\.caseId) == ["A", "B"])
    }

    /// The heaps against the obvious walk over every entry: random upserts (moving a
    /// deadline, re-scheduling), removals and collections at random times give the same
    /// next wake, soonest deadline and firings.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func theHeapsAgreeWithAWalkOverEveryEntry(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var s = DeadlineSchedule()
        var reference: [String: DeadlineSchedule.Entry] = [:]
        var now = t0
        for _ in 0..<3000 {
            let id = "C\(Int.random(in: 0..<200, using: &rng))"
            switch Int.random(in: 0..<10, using: &rng) {
            case 0...4:
                let due = now + .minutes(Int64.random(in: -30...600, using: &rng))
                let entry = DeadlineSchedule.Entry(caseId: id, due: due, pendingWarnings: DeadlineSchedule.warningsAhead(due: due, warnBefore: warn, now: now))
                s.upsert(entry)
                reference[id] = entry
            case 5:
                s.remove(caseId: id)
                reference[id] = nil
            default:
                now = now + .minutes(Int64.random(in: 0...90, using: &rng))
                var expected: [(Timestamp, String, Bool)] = []  // time, id, expiry
                for (rid, e) in reference where e.nextTime <= now {
                    if e.due <= now {
                        expected.append((e.due, rid, true))
                        reference[rid] = nil
                    } else {
                        let passed = e.pendingWarnings.filter { e.due - $0 <= now }
                        expected.append((e.due - passed.min()!, rid, false))
                        reference[rid]!.pendingWarnings.removeAll { passed.contains($0) }
                    }
                }
                let got = s.collect(now: now)
                #expect(got.map(\.caseId) == expected.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.1))
            }
            #expect(s.nextWake() == reference.values.map(\.nextTime).min())
            #expect(s.nextDue()?.caseId == reference.values.min { ($0.due, $0.caseId) < ($1.due, $1.caseId) }?.caseId)
            #expect(s.count == reference.count)
        }
    }

    /// A windowed schedule (a handful of entries in memory, the rest in a "store") fires
    /// the same as one holding everything: random changes, some arriving while a window
    /// loads (after its rows were read, before they are installed), collections at random
    /// times with windows loaded as the deadline service loads them.
    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func aWindowedScheduleFiresTheSameAsAFullOne(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var full = DeadlineSchedule()
        var windowed = DeadlineSchedule(capacity: 5)
        var store: [String: DeadlineSchedule.Entry] = [:]  // what the database holds
        var now = t0

        /// A random change; `later` keeps it off what is due at `now` (a change racing a
        /// firing may land before or after it, in either schedule).
        func change(_ rng: inout SplitMix64, later: Bool = false) {
            let id = "C\(Int.random(in: 0..<60, using: &rng))"
            if later, let current = store[id], current.nextTime <= now { return }
            if Int.random(in: 0..<6, using: &rng) == 0 {
                store[id] = nil
                full.remove(caseId: id)
                windowed.remove(caseId: id)
            } else {
                let due = now + .minutes(Int64.random(in: (later ? 1 : -30)...600, using: &rng))
                let entry = DeadlineSchedule.Entry(caseId: id, due: due, pendingWarnings: DeadlineSchedule.warningsAhead(due: due, warnBefore: warn, now: now))
                store[id] = entry
                full.upsert(entry)
                windowed.upsert(entry)
            }
        }

        for _ in 0..<2000 {
            if Int.random(in: 0..<3, using: &rng) > 0 {
                change(&rng)
                continue
            }
            now = now + .minutes(Int64.random(in: 0...90, using: &rng))
            let expected = full.collect(now: now)
            var got: [DeadlineSchedule.Firing] = []
            while true {
                if windowed.needsWindow(now: now), let (after, generation) = windowed.beginWindow() {
                    let rows = store.values.filter { $0.key > after }.sorted { $0.key < $1.key }.prefix(5)
                    // Changes committed after the rows were read, reported before they land.
                    for _ in 0..<Int.random(in: 0...2, using: &rng) { change(&rng, later: true) }
                    windowed.finishWindow(Array(rows), complete: rows.count < 5, last: rows.last?.key, generation: generation)
                }
                let firings = windowed.collect(now: now)
                if firings.isEmpty && !windowed.needsWindow(now: now) { break }
                for firing in firings {  // what the engine writes
                    switch firing {
                    case .expiry(let id, _): store[id] = nil
                    case .warning(let id, _, let offset, let skipped): store[id]?.pendingWarnings.removeAll { $0 == offset || skipped.contains($0) }
                    }
                }
                got += firings
            }
            let order = { (f: DeadlineSchedule.Firing) in "\(f.caseId)|\(f)" }
            #expect(expected.map(order).sorted() == got.map(order).sorted())
            #expect(windowed.count <= 10)
        }
    }
}
