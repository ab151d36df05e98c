import LuggagePolicy
import Testing
import WardenCore

@Suite("Luggage L1–L7")
struct LuggageTests {
    static let now = cst("2023-05-08 12:00:00")  // a Monday
    static let good = ShopProfile(shop: "bags", ifashion: true, seriousViolationPoints: 0, bClassPoints: 0, counterfeitPenalty: false, videoCoverage: 0.9, liveStreamsLastMonth: 2, sLevelPromotions: 2)

    static func with(_ change: (inout ShopProfile) -> Void) -> ShopProfile {
        var p = good
        change(&p)
        return p
    }

    @Test func aQualifiedShopIsEligible() {
        let checks = Luggage.checks(Self.good, now: Self.now)
        #expect(checks.map(\.rule) == ["L1", "L2", "L3", "L4", "L5"])
        #expect(checks.filter { !$0.ok }.isEmpty)
    }

    @Test(arguments: [
        ("L1 not iFashion", with { $0.ifashion = false }, "L1"),
        ("L2 12 serious-violation points", with { $0.seriousViolationPoints = 12 }, "L2"),
        ("L2 6 B-class points", with { $0.bClassPoints = 6 }, "L2"),
        ("L2 search-shielded now", with { $0.searchShieldedUntil = cst("2023-05-09 00:00:00") }, "L2"),
        ("L2 counterfeit penalty", with { $0.counterfeitPenalty = true }, "L2"),
        ("L3 video coverage below 85%", with { $0.videoCoverage = 0.849 }, "L3"),
        ("L3 no live stream last month", with { $0.liveStreamsLastMonth = 0 }, "L3"),
        ("L5 one S-level promotion", with { $0.sLevelPromotions = 1 }, "L5"),
    ])
    func oneFailingRule(name: String, profile: ShopProfile, rule: String) {
        let failing = Luggage.checks(profile, now: Self.now).filter { !$0.ok }.map(\.rule)
        #expect(failing == [rule])
    }

    @Test(arguments: [
        ("11 serious points pass", with { $0.seriousViolationPoints = 11 }),
        ("5 B-class points pass", with { $0.bClassPoints = 5 }),
        ("a shield that ended passes", with { $0.searchShieldedUntil = cst("2023-05-01 00:00:00") }),
        ("exactly 85% video coverage passes", with { $0.videoCoverage = 0.85 }),
    ])
    func boundariesThatPass(name: String, profile: ShopProfile) {
        #expect(Luggage.checks(profile, now: Self.now).filter { !$0.ok }.isEmpty)
    }

    @Test(arguments: [("2023-05-08 12:00:00", "2023-05-10"), ("2023-05-10 09:00:00", "2023-05-10"), ("2023-05-11 00:00:00", "2023-05-17"), ("2023-05-09 23:30:00", "2023-05-10")])
    func nextReviewIsTheComingWednesdayInCST(now: String, review: String) {
        #expect(Luggage.nextReview(after: cst(now)) == review)
    }

    @Test(arguments: [
        ("missing prototype photo", nil as Timestamp?, "violation" as String?),
        ("registered after first listing", cst("2023-03-02 00:00:00"), "warning"),
        ("registered at the first-listing instant", cst("2023-03-01 00:00:00"), "warning"),
        ("registered before first listing", cst("2023-02-28 23:59:59"), nil),
    ])
    func l6(name: String, registered: Timestamp?, severity: String?) {
        let l = Listing(listingId: "B1", category: "luggage", firstListedAt: cst("2023-03-01 00:00:00"), prototypeRegisteredAt: registered)
        let out = Outcome(Luggage().evaluate(.record(record(.listing(l))), facts: Facts(now: Self.now)))
        #expect(out.findings.map(\.severity.rawValue) == (severity.map { [$0] } ?? []))
        #expect(out.findings.allSatisfy { $0.rule == "L6" })
    }

    @Test func l7OpensAnEvidenceCaseAndJudgesStrength() {
        let listing = Listing(listingId: "B1", category: "luggage", firstListedAt: cst("2023-03-01 00:00:00"))
        let order = Order(orderId: "O9", category: "luggage", paidAmount: .yuan(300), paidAt: cst("2023-04-01 10:00:00"), shop: "bags")
        let opened = cst("2023-04-05 09:30:00")
        let complaint = record(.complaint(Complaint(complaintId: "IP1", orderId: "O9", reason: .ipInfringement, openedAt: opened)))
        let open = Outcome(Luggage().evaluate(.record(complaint), facts: Facts(order: order, listing: listing, now: opened)))
        #expect(open.state == .awaitingEvidence)
        #expect(open.deadline == opened + .hours(24))

        let current = CaseRecord(caseId: "IP1", orderId: "O9", category: "luggage", shop: "bags", reason: .ipInfringement, state: .awaitingEvidence, openedAt: opened, deadline: opened + .hours(24))
        func submit(_ registered: String) -> Outcome {
            let e = record(.evidence(EvidenceSubmission(complaintId: "IP1", submittedAt: opened + .hours(1), items: [EvidenceItem(kind: .prototypePhoto, ref: "p.jpg", registeredAt: cst(registered))])))
            return Outcome(Luggage().evaluate(.record(e), facts: Facts(order: order, currentCase: current, listing: listing, now: opened)))
        }
        let strong = submit("2023-02-20 00:00:00")
        #expect(strong.state == .evidenceSubmitted)
        #expect(strong.notes.contains { $0.contains("evidence is strong") })
        let weak = submit("2023-03-05 00:00:00")
        #expect(weak.notes.contains { $0.contains("evidence is weak") })

        let missed = Outcome(Luggage().evaluate(.deadlineDue(caseId: "IP1", due: opened + .hours(24)), facts: Facts(order: order, currentCase: current, now: opened + .hours(24))))
        #expect(missed.state == .defaulted)
        #expect(missed.bookings.isEmpty)
    }
}
