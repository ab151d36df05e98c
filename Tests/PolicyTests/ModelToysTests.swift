import ModelToysPolicy
import Testing
import WardenCore

@Suite("Model toys M1–M7")
struct ModelToysTests {
    static let policy = ModelToys()
    static let paidAt = cst("2023-01-01 10:00:00")
    /// Ship-by on day 90 after payment.
    static let shipBy = paidAt + .days(90)

    static func order(paid: String = "300.00", shipBy: Timestamp? = ModelToysTests.shipBy, shipped: Timestamp? = nil, refunded: Timestamp? = nil) -> Order {
        Order(orderId: "T1", category: "model-toys", paidAmount: Money(parsing: paid)!, paidAt: paidAt, shop: "toys", shipBy: shipBy, shippedAt: shipped, refundedAt: refunded)
    }

    static func urge(at t: Timestamp, reason: ComplaintReason = .urgeShipment) -> Record {
        record(.complaint(Complaint(complaintId: "U1", orderId: "T1", reason: reason, openedAt: t)))
    }

    static func awaiting(due: Timestamp) -> CaseRecord {
        CaseRecord(caseId: "U1", orderId: "T1", category: "model-toys", shop: "toys", reason: .urgeShipment, state: .awaitingAction, openedAt: due - .hours(24), deadline: due)
    }

    // MARK: M1 fee — the worked figures

    @Test(arguments: [("300.00", "15.00"), ("59.00", "5.00"), ("1299.00", "30.00"), ("123.45", "6.17"), ("100.00", "5.00"), ("600.00", "30.00"), ("100.10", "5.01")])
    func urgeFee(paid: String, fee: String) {
        #expect(ModelToys.urgeFee(paid: Money(parsing: paid)!).description == fee)
    }

    // MARK: M1–M3 complaints

    struct UrgeRow: Sendable, CustomTestStringConvertible {
        var name: String
        var order: Order
        var at: Timestamp
        var booked: Set<String> = []
        var state: CaseState
        var testDescription: String { name }
    }

    static let urgeRows: [UrgeRow] = [
        UrgeRow(name: "M2 worked example: ship-by day 90, urge on day 59 → reminder", order: order(), at: paidAt + .days(59), state: .reminder),
        UrgeRow(name: "urge exactly at the promise is within it → reminder", order: order(), at: shipBy, state: .reminder),
        UrgeRow(name: "urge one second past the promise → awaiting-action", order: order(), at: shipBy + .seconds(1), state: .awaitingAction),
        UrgeRow(name: "urge on an order shipped before it → reminder", order: order(shipped: shipBy + .hours(1)), at: shipBy + .hours(2), state: .reminder),
        UrgeRow(name: "urge on an order refunded before it → reminder", order: order(refunded: shipBy), at: shipBy + .hours(2), state: .reminder),
        UrgeRow(name: "M1 once per delay: already charged → reminder", order: order(), at: shipBy + .days(3), booked: [ModelToys.feeKey(order: "T1", shipDeadline: shipBy)], state: .reminder),
        UrgeRow(name: "no promised ship time → reminder", order: order(shipBy: nil), at: shipBy + .days(3), state: .reminder),
    ]

    @Test(arguments: urgeRows)
    func urgeShipment(row: UrgeRow) {
        let out = Outcome(Self.policy.evaluate(.record(Self.urge(at: row.at)), facts: Facts(order: row.order, bookedKeys: row.booked, now: row.at)))
        #expect(out.state == row.state)
        if row.state == .awaitingAction { #expect(out.deadline == row.at + .hours(24)) } else { #expect(out.deadline == nil) }
    }

    @Test func m1EffectiveDateIs20220706() {
        let since = cst("2022-07-06 00:00:00")
        let order = Order(orderId: "T1", category: "model-toys", paidAmount: .yuan(300), paidAt: since - .days(30), shipBy: since - .days(10))
        let before = Outcome(Self.policy.evaluate(.record(Self.urge(at: since - .seconds(1))), facts: Facts(order: order, now: since)))
        let on = Outcome(Self.policy.evaluate(.record(Self.urge(at: since)), facts: Facts(order: order, now: since)))
        #expect(before.state == .reminder)
        #expect(on.state == .awaitingAction)
    }

    @Test func aSecondUrgeWhileTheFirstAwaitsActionIsAReminder() {
        let at = Self.shipBy + .days(1)
        let out = Outcome(Self.policy.evaluate(.record(Self.urge(at: at + .hours(1))), facts: Facts(order: Self.order(), orderCases: [Self.awaiting(due: at + .hours(24))], now: at)))
        #expect(out.state == .reminder)
    }

    @Test(arguments: [("300.00", "15.00"), ("59.00", "5.00"), ("1299.00", "30.00"), ("123.45", "6.17")])
    func aMissedActionWindowBooksTheFee(paid: String, fee: String) {
        let due = Self.shipBy + .days(2)
        let out = Outcome(Self.policy.evaluate(.deadlineDue(caseId: "U1", due: due), facts: Facts(order: Self.order(paid: paid), currentCase: Self.awaiting(due: due), now: due)))
        #expect(out.state == .penalized)
        #expect(out.bookings.count == 1)
        #expect(out.bookings.first?.rule == "M1")
        #expect(out.bookings.first?.amount.description == fee)
        #expect(out.bookings.first?.at == due)
        #expect(out.bookings.first?.dedupeKey == ModelToys.feeKey(order: "T1", shipDeadline: Self.shipBy))
    }

    @Test(arguments: [
        ("shipment one second before the deadline resolves", Record.Payload.shipment(Shipment(orderId: "T1", shippedAt: cst("2023-04-03 09:59:59"))), CaseState.resolved as CaseState?),
        ("a refund before the deadline resolves", .refund(Refund(orderId: "T1", refundedAt: cst("2023-04-03 08:00:00"))), .resolved),
        ("a shipment at the deadline is late", .shipment(Shipment(orderId: "T1", shippedAt: cst("2023-04-03 10:00:00"))), nil),
    ])
    func actions(name: String, payload: Record.Payload, state: CaseState?) {
        let due = cst("2023-04-03 10:00:00")
        let out = Outcome(Self.policy.evaluate(.record(record(payload)), facts: Facts(order: Self.order(), orderCases: [Self.awaiting(due: due)], now: due)))
        #expect(out.state == state)
    }

    @Test func aTicketReplyInTimeResolves() {
        let due = cst("2023-04-03 10:00:00")
        let reply = record(.ticketReply(TicketReply(complaintId: "U1", repliedAt: due - .hours(1))))
        #expect(Outcome(Self.policy.evaluate(.record(reply), facts: Facts(order: Self.order(), currentCase: Self.awaiting(due: due), now: due))).state == .resolved)
    }

    // MARK: M4, M7

    @Test(arguments: [(TimeSpan.days(120), false), (.days(120) + .seconds(1), true), (.days(30), false)])
    func m4OrderShipTime(span: TimeSpan, finding: Bool) {
        let order = Self.order(shipBy: Self.paidAt + span)
        let out = Outcome(Self.policy.evaluate(.record(record(.order(order))), facts: Facts(order: order, now: Self.paidAt)))
        #expect(out.findings.map(\.rule) == (finding ? ["M4"] : []))
    }

    @Test(arguments: [(120, nil, nil, [String]()), (121, nil, nil, ["M4"]), (30, true, false, ["M7"]), (30, true, true, []), (130, true, nil, ["M4", "M7"])] as [(Int, Bool?, Bool?, [String])])
    func listings(days: Int, presale: Bool?, tool: Bool?, rules: [String]) {
        let l = Listing(listingId: "L1", category: "model-toys", shipTimeDays: days, presale: presale, usesPresaleTool: tool)
        let out = Outcome(Self.policy.evaluate(.record(record(.listing(l))), facts: Facts(now: Self.paidAt)))
        #expect(out.findings.map(\.rule) == rules)
        #expect(out.findings.allSatisfy { $0.severity == .violation })
    }

    // MARK: M5 negotiations

    static func negotiation(_ day: Int64, extendTo: TimeSpan, confirmed: Bool = true) -> ShipNegotiation {
        ShipNegotiation(orderId: "T1", newShipBy: shipBy + extendTo, proposedAt: paidAt + .days(day), buyerConfirmed: confirmed)
    }

    /// The `ship-negotiation` record of a negotiation, as the core validates it.
    static func negotiationRecord(_ n: ShipNegotiation) -> Record {
        let body: JSON = [
            "type": "ship-negotiation", "order_id": .string(n.orderId), "new_ship_by": .string(TimeFormat.format(n.newShipBy, in: .utc)),
            "proposed_at": .string(TimeFormat.format(n.proposedAt, in: .utc)), "buyer_confirmed": .bool(n.buyerConfirmed),
        ]
        return declared(body, ShipNegotiation.declaration)
    }

    @Test func threeNinetyDayNegotiationsAreAllowedAndAFourthIsRefused() {
        let rules = NegotiationRules()
        let three = [Self.negotiation(10, extendTo: .days(90)), Self.negotiation(20, extendTo: .days(180)), Self.negotiation(30, extendTo: .days(270))]
        let ok = rules.judge(originalShipBy: Self.shipBy, three)
        #expect(ok.statuses.map(\.inForce) == [false, false, true])
        #expect(ok.shipDeadline == Self.shipBy + .days(270))
        let four = rules.judge(originalShipBy: Self.shipBy, three + [Self.negotiation(40, extendTo: .days(200))])
        #expect(four.statuses.last?.inForce == false)
        #expect(four.statuses.last?.note.contains("at most 3") == true)
        #expect(four.shipDeadline == Self.shipBy + .days(270))
    }

    @Test(arguments: [(TimeSpan.days(270), true), (.days(271), false), (.days(270) + .seconds(1), false)])
    func theTotalIsCappedAt270Days(extension_: TimeSpan, allowed: Bool) {
        let outcome = NegotiationRules().judge(originalShipBy: Self.shipBy, [Self.negotiation(10, extendTo: extension_)])
        #expect(outcome.statuses.first?.inForce == allowed)
        #expect(outcome.shipDeadline == (allowed ? Self.shipBy + extension_ : Self.shipBy))
    }

    @Test func onlyBuyerConfirmedNegotiationsAreInForce() {
        let outcome = NegotiationRules().judge(originalShipBy: Self.shipBy, [Self.negotiation(10, extendTo: .days(30), confirmed: false)])
        #expect(outcome.statuses.first?.inForce == false)
        #expect(outcome.shipDeadline == Self.shipBy)
    }

    @Test func aRefusedNegotiationIsStoredWithAFinding() {
        let n = Self.negotiation(10, extendTo: .days(271))
        let out = Outcome(Self.policy.evaluate(.record(Self.negotiationRecord(n)), facts: Facts(order: Self.order(), records: [Self.negotiationRecord(n)], now: Self.paidAt)))
        #expect(out.shipTerms?.0 == Self.shipBy)
        #expect(out.findings.map(\.rule) == ["M5"])
        #expect(out.findings.first?.message.contains("271 days") == true)
    }

    @Test func aConfirmedNegotiationMovesTheUrgeDeadline() {
        let n = Self.negotiation(10, extendTo: .days(30))
        let at = Self.shipBy + .days(10)  // past the original promise, inside the negotiated one
        let out = Outcome(Self.policy.evaluate(.record(Self.urge(at: at)), facts: Facts(order: Self.order(), records: [Self.negotiationRecord(n)], now: at)))
        #expect(out.state == .reminder)
    }

    @Test(arguments: [(TimeSpan.days(10), CaseState.dismissed), (.days(40), .awaitingAction)])
    func lateShipmentInsideAConfirmedNegotiationIsDismissed(after: TimeSpan, state: CaseState) {
        let n = Self.negotiation(10, extendTo: .days(30))
        let at = Self.shipBy + after
        let out = Outcome(Self.policy.evaluate(.record(Self.urge(at: at, reason: .lateShipment)), facts: Facts(order: Self.order(), records: [Self.negotiationRecord(n)], now: at)))
        #expect(out.state == state)
    }

    @Test func m6AnAgreementIsKeptAsAppealSupport() {
        let due = cst("2023-04-03 10:00:00")
        let e = record(.evidence(EvidenceSubmission(complaintId: "U1", submittedAt: due - .hours(2), items: [EvidenceItem(kind: .agreement, ref: "chat-log.png")])))
        let out = Outcome(Self.policy.evaluate(.record(e), facts: Facts(order: Self.order(), currentCase: Self.awaiting(due: due), now: due)))
        #expect(out.notes.contains { $0.hasPrefix("M6") })
    }
}

@Suite("Model toys: ship-negotiation as this module declares it")
struct ShipNegotiationDeclarationTests {
    static let parser = RecordParser(zone: .shanghai, declarations: [ShipNegotiation.type: ShipNegotiation.declaration])

    @Test func tidIsAcceptedAndTheKeyIsOrderAndProposal() throws {
        let r = try Self.parser.parse(try JSONParser.parse(#"{"type":"ship-negotiation","tid":"123456789012345678","new_ship_by":"2023-05-01 00:00:00","proposed_at":"2023-04-01 00:00:00","buyer_confirmed":true}"#)).get()
        #expect(r.orderId == "123456789012345678")
        #expect(r.key == "123456789012345678|\(cst("2023-04-01 00:00:00").milliseconds)")
        #expect(r.eventTime == cst("2023-04-01 00:00:00"))
        #expect(ShipNegotiation(r)?.newShipBy == cst("2023-05-01 00:00:00"))
    }

    @Test func aNewShipByBeforeTheProposalIsRefused() throws {
        guard case .failure(let e) = Self.parser.parse(try JSONParser.parse(#"{"type":"ship-negotiation","order_id":"T1","new_ship_by":"2023-03-01 00:00:00","proposed_at":"2023-04-01 00:00:00","buyer_confirmed":true}"#)) else {
            Issue.record("accepted")
            return
        }
        #expect(e.errors.map(\.field) == ["new_ship_by"])
    }
}
