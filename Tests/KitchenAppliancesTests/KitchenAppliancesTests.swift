import KitchenAppliancesPolicy
import Testing
import WardenCore

/// K2–K5 of RULES.md §1, one row per worked example and edge.
@Suite("Kitchen appliances K2–K5")
struct KitchenAppliancesTests {
    static let policy = KitchenAppliances()
    /// 2023-04-05 09:30 CST, the worked example's complaint.
    static let opened = TimeFormat.parse("2023-04-05 09:30:00", defaultZone: .shanghai)!
    static let due = TimeFormat.parse("2023-04-06 09:30:00", defaultZone: .shanghai)!

    static func order(_ mode: DeliveryService?) -> Order {
        Order(orderId: "O1", category: "stand-mixer", paidAmount: .yuan(1299), paidAt: opened - .days(4), shop: "s1", deliveryService: mode)
    }

    static func complaint(_ reason: ComplaintReason = .notDeliveredToDoor) -> Record {
        Record(type: .complaint, key: "C1", body: JSONObject(), payload: .complaint(Complaint(complaintId: "C1", orderId: "O1", reason: reason, openedAt: opened)))
    }

    static func openCase(_ state: CaseState, deadline: Timestamp? = due) -> CaseRecord {
        CaseRecord(caseId: "C1", orderId: "O1", category: "kitchen-appliances", shop: "s1", reason: .notDeliveredToDoor, state: state, openedAt: opened, deadline: deadline)
    }

    static func evidence(at t: Timestamp) -> Record {
        Record(type: .evidence, key: "C1|\(t.milliseconds)", body: JSONObject(), payload: .evidence(EvidenceSubmission(complaintId: "C1", submittedAt: t, items: [EvidenceItem(kind: .deliveryPhoto, ref: "p.jpg")])))
    }

    static func verdict(_ outcome: VerdictOutcome, at t: Timestamp) -> Record {
        Record(type: .verdict, key: "C1", body: JSONObject(), payload: .verdict(Verdict(complaintId: "C1", outcome: outcome, decidedAt: t)))
    }

    /// What a row expects: the case state after the decisions (nil: unchanged or no case),
    /// whether a deadline is set on opening, and the K4 amount booked (nil: none).
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var input: PolicyInput
        var order: Order?
        var current: CaseRecord?
        var state: CaseState?
        var deadline: Timestamp?
        var booked: (amount: String, at: Timestamp)?
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "K3 merchant complaint opens an evidence case due at +24h", input: .record(complaint()), order: order(.merchant), state: .awaitingEvidence, deadline: due),
        Row(name: "K5 platform complaint is the platform's: no deadline", input: .record(complaint()), order: order(.platform), state: .platformHandled),
        Row(name: "K2 no service recorded is treated as merchant", input: .record(complaint()), order: order(nil), state: .awaitingEvidence, deadline: due),
        Row(name: "K2 service none is treated as merchant", input: .record(complaint()), order: order(DeliveryService.none), state: .awaitingEvidence, deadline: due),
        Row(name: "another reason is not this rule", input: .record(complaint(.other)), order: order(.merchant)),
        Row(name: "K4 missed window: defaulted at exactly opened_at + 24h, 10.00", input: .deadlineDue(caseId: "C1", due: due), order: order(.merchant), current: openCase(.awaitingEvidence), state: .defaulted, booked: ("10.00", due)),
        Row(name: "K3 evidence one second before the deadline is in time", input: .record(evidence(at: due - .seconds(1))), order: order(.merchant), current: openCase(.awaitingEvidence), state: .evidenceSubmitted),
        Row(name: "K3 evidence at the deadline is late: state unchanged", input: .record(evidence(at: due)), order: order(.merchant), current: openCase(.awaitingEvidence)),
        Row(name: "K4 verdict seller-liable books 10.00 at the decision", input: .record(verdict(.sellerLiable, at: due + .hours(2))), order: order(.merchant), current: openCase(.evidenceSubmitted), state: .liable, booked: ("10.00", due + .hours(2))),
        Row(name: "verdict seller-not-liable resolves", input: .record(verdict(.sellerNotLiable, at: due + .hours(2))), order: order(.merchant), current: openCase(.evidenceSubmitted), state: .resolved),
        Row(name: "K5 verdict on a platform case owes nothing", input: .record(verdict(.sellerLiable, at: due)), order: order(.platform), current: openCase(.platformHandled, deadline: nil)),
        Row(name: "K4 once per order: liable after default books nothing more", input: .record(verdict(.sellerLiable, at: due + .hours(3))), order: order(.merchant), current: openCase(.defaulted)),
        Row(name: "a deadline after evidence arrived does nothing", input: .deadlineDue(caseId: "C1", due: due), order: order(.merchant), current: openCase(.evidenceSubmitted)),
        Row(name: "a stale deadline (case moved) does nothing", input: .deadlineDue(caseId: "C1", due: due - .hours(1)), order: order(.merchant), current: openCase(.awaitingEvidence)),
        Row(name: "a complaint for an existing case opens nothing", input: .record(complaint()), order: order(.merchant), current: openCase(.awaitingEvidence)),
    ]

    @Test(arguments: rows)
    func rule(row: Row) {
        let decisions = Self.policy.evaluate(row.input, facts: Facts(order: row.order, currentCase: row.current, now: Self.due + .days(30)))
        var state: CaseState?
        var deadline: Timestamp?
        var booked: [LedgerBooking] = []
        for d in decisions {
            switch d {
            case .openCase(let c):
                state = c.state
                deadline = c.deadline
            case .changeState(_, let s, _, _): state = s
            case .bookLedger(let b): booked.append(b)
            default: break
            }
        }
        #expect(state == row.state)
        #expect(deadline == row.deadline)
        if let expected = row.booked {
            #expect(booked.count == 1)
            #expect(booked.first?.amount.description == expected.amount)
            #expect(booked.first?.at == expected.at)
            #expect(booked.first?.rule == "K4")
            #expect(booked.first?.points == 0)
            #expect(booked.first?.dedupeKey == "K4:O1")
        } else {
            #expect(booked.isEmpty)
        }
    }

    @Test func evidenceIsAlwaysKeptEvenWhenLate() {
        let decisions = Self.policy.evaluate(.record(Self.evidence(at: Self.due + .hours(1))), facts: Facts(order: Self.order(.merchant), currentCase: Self.openCase(.defaulted), now: Self.due))
        #expect(decisions.contains { if case .attachEvidence(_, _, _, let inTime) = $0 { return !inTime } else { return false } })
    }

    @Test func parametersComeFromConfig() throws {
        let registry = try PolicyRegistry(
            registrations: [KitchenAppliances.registration],
            settings: ["kitchen-appliances": PolicySettings(parameters: ["evidence_window": .string("12h"), "compensation": .string("12.50")])])
        let policy = try #require(registry.policy(forCategory: "stand-mixer"))
        let current = Self.openCase(.awaitingEvidence, deadline: Self.opened + .hours(12))
        let d = policy.evaluate(.deadlineDue(caseId: "C1", due: Self.opened + .hours(12)), facts: Facts(order: Self.order(.merchant), currentCase: current, now: Self.due))
        #expect(d.contains { if case .bookLedger(let b) = $0 { return b.amount == Money(fen: 1250) } else { return false } })
        let opened = policy.evaluate(.record(Self.complaint()), facts: Facts(order: Self.order(.merchant), now: Self.due))
        #expect(opened.contains { if case .openCase(let c) = $0 { return c.deadline == Self.opened + .hours(12) } else { return false } })
    }

    @Test func registryRejectsBadParametersAndUnknownKeys() {
        #expect {
            try PolicyRegistry(
                registrations: [KitchenAppliances.registration],
                settings: ["kitchen-appliances": PolicySettings(parameters: ["compensation": .string("ten"), "evidence_windw": .string("1h")]), "nope": PolicySettings()])
        } throws: { error in
            let keys = (error as? PolicyRegistry.ConfigErrors)?.errors.map(\.key) ?? []
            return Set(keys) == ["policies.kitchen-appliances.compensation", "policies.kitchen-appliances.evidence_windw", "policies.nope"]
        }
    }

    @Test func disabledIsDistinctFromFailedAndRoutesNothing() throws {
        let registry = try PolicyRegistry(registrations: [KitchenAppliances.registration], settings: ["kitchen-appliances": PolicySettings(enabled: false)])
        #expect(registry.entries.first?.status == .disabled)
        #expect(registry.policy(forCategory: "stand-mixer") == nil)
        #expect(registry.moduleId(forCategory: "stand-mixer") == "kitchen-appliances")
    }
}
