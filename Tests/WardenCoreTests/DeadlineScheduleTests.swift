import Testing
import WardenCore

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
}
