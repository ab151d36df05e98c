import WardenCore

/// Taobao model toys, anime, cosplay, board games (RULES.md §3).
///
/// - M1–M3: an `urge-shipment` complaint after the effective ship deadline on an order
///   neither shipped nor refunded opens an `awaiting-action` case due `action_window`
///   (24 h) later; a shipment, refund or ticket reply strictly before that resolves it;
///   a miss books `clamp(round_half_up(5 % × paid), 5.00, 30.00)` under `M1` (state
///   `penalized`), once per delay (per order and effective ship deadline). An urge
///   within the promise, or on a delay already charged or already awaiting action, is a
///   `reminder`. M1 is in force from 2022-07-06 CST; earlier urges are reminders.
/// - M4: a promised ship time over `max_ship_days` (order: ship_by − paid_at; listing:
///   `ship_time_days`) is a finding.
/// - M5: see `NegotiationRules`; a `late-shipment` complaint inside a confirmed
///   negotiation (or before the promise) is `dismissed`; outside, it opens an
///   `awaiting-action` case (RULES.md sets no amount for it, so a miss books nothing).
/// - M6: an `agreement` evidence item is kept on the case as appeal support.
/// - M7: a pre-sale listing without the pre-sale tool is a violation.
public struct ModelToys: Policy {
    public static let id = "model-toys"
    public var id: String { Self.id }

    public let actionWindow: TimeSpan
    public let maxShipDays: Int
    public let negotiation: NegotiationRules

    /// M1 in force since 2022-07-06 (CST).
    public static let urgeFeeSince = TimeFormat.instant(year: 2022, month: 7, day: 6, in: .shanghai)
    public static let feeRange = Money.yuan(5)...Money.yuan(30)

    public init(actionWindow: TimeSpan = .hours(24), maxShipDays: Int = 120, negotiation: NegotiationRules = NegotiationRules()) {
        self.actionWindow = actionWindow
        self.maxShipDays = maxShipDays
        self.negotiation = negotiation
    }

    public static let registration = PolicyRegistration(
        id: id,
        version: "1.0.0",
        categories: [id],
        summary: "Taobao model toys: urge-shipment fee, ship-time cap, negotiated shipping, pre-sale tool (M1–M7)",
        parameters: [
            ParameterSpec(name: "action_window", kind: .duration, defaultValue: .duration(.hours(24)), summary: "time after an urge to ship, refund or reply (M3, assumption)"),
            ParameterSpec(name: "max_ship_days", kind: .integer, defaultValue: .integer(120), summary: "longest promised ship time (M4)", range: 1...RecordParser.maxShipDays),
            ParameterSpec(name: "max_negotiations", kind: .integer, defaultValue: .integer(3), summary: "confirmed ship negotiations allowed per order (M5)", range: 0...100),
            ParameterSpec(name: "max_negotiation_days", kind: .integer, defaultValue: .integer(270), summary: "days beyond the original promise all negotiations may add (M5)", range: 0...RecordParser.maxShipDays),
        ],
        recordTypes: [ShipNegotiation.declaration],
        make: { p in
            ModelToys(
                actionWindow: try p.duration("action_window"), maxShipDays: try p.integer("max_ship_days"),
                negotiation: NegotiationRules(maxNegotiations: try p.integer("max_negotiations"), maxDays: try p.integer("max_negotiation_days")))
        }
    )

    /// The urge fee of M1 for a paid amount: 5 %, rounded half up to the fen, 5–30 yuan.
    public static func urgeFee(paid: Money) -> Money {
        paid.percentage(basisPoints: 500).clamped(to: feeRange)
    }

    public func evaluate(_ input: PolicyInput, facts: Facts) -> [Decision] {
        switch input {
        case .deadlineDue(let caseId, let due): return deadlineDue(caseId: caseId, due: due, facts: facts)
        case .record(let record):
            switch record.payload {
            case .order(let o): return orderArrived(o, facts: facts)
            case .listing(let l): return listingArrived(l, now: facts.now)
            case .complaint(let c): return complaintArrived(c, facts: facts)
            case .shipment(let s): return actionTaken(at: s.shippedAt, what: "shipped", cases: facts.orderCases)
            case .refund(let r): return actionTaken(at: r.refundedAt, what: "refunded", cases: facts.orderCases)
            case .ticketReply(let r): return actionTaken(at: r.repliedAt, what: "replied to the ticket", cases: facts.currentCase.map { [$0] } ?? [])
            case .evidence(let e): return evidenceArrived(e, facts: facts)
            case .verdict(let v): return verdictArrived(v, facts: facts)
            case .declared: return record.type == ShipNegotiation.type ? negotiationsChanged(facts: facts) : []
            }
        }
    }

    // MARK: - M4, M5, M7

    func orderArrived(_ o: Order, facts: Facts) -> [Decision] {
        var decisions: [Decision] = []
        if let shipBy = o.shipBy, shipBy - o.paidAt > .days(Int64(maxShipDays)) {
            let days = ((shipBy - o.paidAt).milliseconds + 86_399_999) / 86_400_000
            decisions.append(.recordFinding(NewFinding(rule: "M4", subject: "order:\(o.orderId)", severity: .violation, message: "promised ship time of \(days) days exceeds the \(maxShipDays)-day maximum", at: o.paidAt, dedupeKey: "M4:order:\(o.orderId)")))
        }
        if !Self.negotiations(facts).isEmpty { decisions += negotiationsChanged(facts: facts) }
        return decisions
    }

    /// An undated listing (no `first_listed_at`) is judged when it arrives (`now`).
    func listingArrived(_ l: Listing, now: Timestamp) -> [Decision] {
        var decisions: [Decision] = []
        let at = l.firstListedAt ?? now
        if let days = l.shipTimeDays, days > maxShipDays {
            decisions.append(.recordFinding(NewFinding(rule: "M4", subject: "listing:\(l.listingId)", severity: .violation, message: "promised ship time of \(days) days exceeds the \(maxShipDays)-day maximum", at: at, dedupeKey: "M4:listing:\(l.listingId)")))
        }
        if l.presale == true && l.usesPresaleTool != true {
            decisions.append(.recordFinding(NewFinding(rule: "M7", subject: "listing:\(l.listingId)", severity: .violation, message: "pre-sale item without the pre-sale tool: the item is taken down and deleted", at: at, dedupeKey: "M7:listing:\(l.listingId)")))
        }
        return decisions
    }

    /// The order's ship negotiations as received (its `ship-negotiation` records).
    static func negotiations(_ facts: Facts) -> [ShipNegotiation] {
        facts.records.compactMap(ShipNegotiation.init)
    }

    func negotiationsChanged(facts: Facts) -> [Decision] {
        guard let order = facts.order else { return [] }
        let outcome = negotiation.judge(originalShipBy: order.shipBy, Self.negotiations(facts))
        var decisions: [Decision] = [.setShipTerms(orderId: order.orderId, shipDeadline: outcome.shipDeadline, negotiations: outcome.statuses)]
        for status in outcome.statuses where status.negotiation.buyerConfirmed && !status.inForce && status.note.hasPrefix("refused") {
            decisions.append(.recordFinding(NewFinding(rule: "M5", subject: "order:\(order.orderId)", severity: .warning, message: "ship negotiation proposed \(TimeFormat.format(status.negotiation.proposedAt, in: .shanghai)) \(status.note)", at: status.negotiation.proposedAt, dedupeKey: "M5:order:\(order.orderId):\(status.negotiation.proposedAt.milliseconds)")))
        }
        return decisions
    }

    // MARK: - M1–M3, M5 complaints

    func complaintArrived(_ c: Complaint, facts: Facts) -> [Decision] {
        guard let order = facts.order, facts.currentCase == nil else { return [] }
        let outcome = negotiation.judge(originalShipBy: order.shipBy, Self.negotiations(facts))
        func open(_ state: CaseState, deadline: Timestamp? = nil, _ note: String) -> [Decision] {
            [.openCase(NewCase(caseId: c.complaintId, orderId: order.orderId, category: id, shop: order.shop, reason: c.reason, state: state, openedAt: c.openedAt, deadline: deadline, note: note))]
        }
        switch c.reason {
        case .urgeShipment:
            if c.openedAt < Self.urgeFeeSince {
                return open(.reminder, "urge before 2022-07-06, when the urge-shipment fee (M1) took effect: reminder only")
            }
            guard let shipDeadline = outcome.shipDeadline else {
                return open(.reminder, "no promised ship time recorded for the order (M4 makes it mandatory): cannot be past it; reminder only")
            }
            if let shipped = order.shippedAt, shipped <= c.openedAt {
                return open(.reminder, "the order shipped \(cst(shipped)), before the urge: reminder only")
            }
            if let refunded = order.refundedAt, refunded <= c.openedAt {
                return open(.reminder, "the order was refunded \(cst(refunded)), before the urge: reminder only")
            }
            if c.openedAt <= shipDeadline {
                return open(.reminder, "M2: urge within the promised shipping time (ship by \(cst(shipDeadline))): reminder card only, nothing owed")
            }
            if facts.bookedKeys.contains(Self.feeKey(order: order.orderId, shipDeadline: shipDeadline)) {
                return open(.reminder, "M1: the urge fee for this delay was already charged (once per delay): reminder only")
            }
            if let pending = facts.orderCases.first(where: { $0.state == .awaitingAction && $0.reason == .urgeShipment }) {
                return open(.reminder, "an urge on this delay already awaits action (case \(pending.caseId)): reminder only")
            }
            let due = c.openedAt + actionWindow
            return open(.awaitingAction, deadline: due, "M1/M3: past the promised ship time (\(cst(shipDeadline))); ship, refund or reply to the ticket before \(cst(due)), or the urge fee of \(Self.urgeFee(paid: order.paidAmount)) yuan is charged")
        case .lateShipment:
            if let n = outcome.inForce, c.openedAt <= n.newShipBy {
                return open(.dismissed, "M5: inside a buyer-confirmed ship negotiation (ship by \(cst(n.newShipBy))): the complaint does not hold")
            }
            if let shipBy = outcome.shipDeadline, c.openedAt <= shipBy {
                return open(.dismissed, "before the promised ship time (\(cst(shipBy))): the complaint does not hold")
            }
            if let shipped = order.shippedAt, shipped <= c.openedAt {
                return open(.dismissed, "the order shipped \(cst(shipped)), before the complaint")
            }
            let due = c.openedAt + actionWindow
            return open(.awaitingAction, deadline: due, "late shipment: ship, refund or reply to the ticket before \(cst(due)); RULES.md set no amount for it, so a miss books nothing")
        default:
            return []
        }
    }

    func actionTaken(at time: Timestamp, what: String, cases: [CaseRecord]) -> [Decision] {
        cases.filter { $0.state == .awaitingAction }.flatMap { c -> [Decision] in
            guard let deadline = c.deadline else { return [] }
            if time < deadline {
                return [.changeState(caseId: c.caseId, state: .resolved, at: time, note: "M3: \(what) at \(cst(time)), before the deadline \(cst(deadline)): nothing owed")]
            }
            return [.note(caseId: c.caseId, at: time, note: "\(what) at \(cst(time)), after the deadline \(cst(deadline))")]
        }
    }

    func evidenceArrived(_ e: EvidenceSubmission, facts: Facts) -> [Decision] {
        guard let c = facts.currentCase else { return [] }
        var decisions: [Decision] = [.attachEvidence(caseId: c.caseId, items: e.items, submittedAt: e.submittedAt, inTime: c.deadline.map { e.submittedAt < $0 } ?? true)]
        if e.items.contains(where: { $0.kind == .agreement }) {
            decisions.append(.note(caseId: c.caseId, at: e.submittedAt, note: "M6: written agreement recorded; it supports an appeal against this complaint"))
        } else {
            decisions.append(.note(caseId: c.caseId, at: e.submittedAt, note: "evidence (\(e.items.count) items) recorded"))
        }
        return decisions
    }

    /// Evidence is kept for a model-toys case in any state: an agreement (M6) supports
    /// an appeal even after the case closed, and an action case has no evidence window.
    public func evidenceAcceptance(_ c: CaseRecord, at now: Timestamp, zone: Zone) -> EvidenceAcceptance { .accept }

    func verdictArrived(_ v: Verdict, facts: Facts) -> [Decision] {
        guard let c = facts.currentCase else { return [] }
        return [.note(caseId: c.caseId, at: v.decidedAt, note: "verdict \(v.outcome.rawValue) recorded; state \(c.state.rawValue) and ledger unchanged")]
    }

    func deadlineDue(caseId: String, due: Timestamp, facts: Facts) -> [Decision] {
        guard let c = facts.currentCase, c.state == .awaitingAction, c.deadline == due else { return [] }
        guard c.reason == .urgeShipment, let order = facts.order else {
            return [.changeState(caseId: caseId, state: .defaulted, at: due, note: "no shipment, refund or reply before \(cst(due)); RULES.md set no amount for a late-shipment complaint, none booked")]
        }
        let shipDeadline = negotiation.judge(originalShipBy: order.shipBy, Self.negotiations(facts)).shipDeadline
        let fee = Self.urgeFee(paid: order.paidAmount)
        return [
            .changeState(caseId: caseId, state: .penalized, at: due, note: "M1: no shipment, refund or ticket reply within \(actionWindow) of the urge; urge fee \(fee) yuan (5 % of \(order.paidAmount), 5.00–30.00)"),
            .bookLedger(LedgerBooking(caseId: caseId, orderId: order.orderId, shop: order.shop, category: id, rule: "M1", amount: fee, points: 0, at: due, dedupeKey: Self.feeKey(order: order.orderId, shipDeadline: shipDeadline), note: "urge-shipment fee")),
        ]
    }

    /// One fee per order and effective ship deadline: "once per delay".
    public static func feeKey(order: String, shipDeadline: Timestamp?) -> String {
        "M1:\(order):\(shipDeadline?.milliseconds ?? 0)"
    }

    private func cst(_ t: Timestamp) -> String { TimeFormat.format(t, in: .shanghai) }
}
