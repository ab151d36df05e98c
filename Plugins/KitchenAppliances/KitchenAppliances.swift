import WardenCore

/// Tmall small appliances: the door-delivery service and its complaints (RULES.md §1).
///
/// - K1: an in-scope `listing` or `order` (massage chair, commercial kitchen, stand
///   mixer, steam cleaner) without a door-delivery service, dated from 2023-03-17 00:00
///   CST (the subscription deadline 2023-03-16 24:00), is a violation finding. An order
///   is dated by `paid_at`, a listing by `first_listed_at` (or when Warden sees it).
///
/// - K2: an order's `delivery_service` picks the mode. `merchant` (self-commitment): the
///   seller answers complaints and pays. `platform`: the platform does. An order with no
///   service recorded (`none` or absent) is the seller's own responsibility, so it is
///   treated like `merchant` and the case says so.
/// - K3: a `not-delivered-to-door` complaint on a merchant order opens an
///   `awaiting-evidence` case due `evidence_window` (24 h) after `opened_at`. Evidence is
///   in time if submitted strictly before the deadline.
/// - K4: a missed window (the deadline firing at exactly `opened_at` + 24 h) or a
///   `seller-liable` verdict books `compensation` (10.00 yuan) under rule `K4`, once per
///   order (the standard is 10 yuan per order).
/// - K5: on a platform order the same complaint is `platform-handled`: no deadline, no
///   liability.
public struct KitchenAppliances: Policy {
    public static let id = "kitchen-appliances"
    public var id: String { Self.id }

    public let evidenceWindow: TimeSpan
    public let compensation: Money

    public init(evidenceWindow: TimeSpan = .hours(24), compensation: Money = .yuan(10)) {
        self.evidenceWindow = evidenceWindow
        self.compensation = compensation
    }

    public static let registration = PolicyRegistration(
        id: id,
        version: "1.0.0",
        categories: [id, "massage-chair", "commercial-kitchen", "stand-mixer", "steam-cleaner"],
        summary: "Tmall small appliances: door-delivery complaints, 24-hour evidence window, 10 yuan compensation (K2–K5)",
        parameters: [
            ParameterSpec(
                name: "evidence_window", kind: .duration, defaultValue: .duration(.hours(24)),
                summary: "time after the complaint ticket to submit evidence (K3)"),
            ParameterSpec(
                name: "compensation", kind: .money, defaultValue: .money(.yuan(10)),
                summary: "red envelope deducted from the deposit per defaulted or liable case (K4)"),
        ],
        make: { p in KitchenAppliances(evidenceWindow: try p.duration("evidence_window"), compensation: try p.money("compensation")) }
    )

    public func evaluate(_ input: PolicyInput, facts: Facts) -> [Decision] {
        switch input {
        case .record(let record):
            switch record.payload {
            case .complaint(let complaint): return complaintArrived(complaint, facts: facts)
            case .evidence(let evidence): return evidenceArrived(evidence, facts: facts)
            case .verdict(let verdict): return verdictArrived(verdict, facts: facts)
            case .order(let order): return doorDeliveryRequired(subject: "order:\(order.orderId)", category: order.category, service: order.deliveryService, at: order.paidAt)
            case .listing(let l): return doorDeliveryRequired(subject: "listing:\(l.listingId)", category: l.category, service: l.deliveryService, at: l.firstListedAt ?? facts.now)
            default: return []
            }
        case .deadlineDue(let caseId, let due):
            return deadlineDue(caseId: caseId, due: due, facts: facts)
        }
    }

    // MARK: - K1

    /// Categories the door-delivery requirement covers.
    public static let inScope: Set<String> = ["massage-chair", "commercial-kitchen", "stand-mixer", "steam-cleaner"]
    /// K1 in force: the subscription deadline 2023-03-16 24:00 CST.
    public static let doorDeliverySince = TimeFormat.instant(year: 2023, month: 3, day: 17, in: .shanghai)

    func doorDeliveryRequired(subject: String, category: String, service: DeliveryService?, at: Timestamp) -> [Decision] {
        guard Self.inScope.contains(category), service == nil || service == DeliveryService.none, at >= Self.doorDeliverySince else { return [] }
        return [.recordFinding(NewFinding(rule: "K1", subject: subject, severity: .violation, message: "\(category) without a door-delivery service after the 2023-03-16 24:00 CST deadline: publishing and editing of the item are blocked", at: at, dedupeKey: "K1:\(subject)"))]
    }

    // MARK: - K2, K3, K5

    func complaintArrived(_ complaint: Complaint, facts: Facts) -> [Decision] {
        guard complaint.reason == .notDeliveredToDoor, let order = facts.order, facts.currentCase == nil else { return [] }
        if order.deliveryService == .platform {
            return [
                .openCase(
                    NewCase(
                        caseId: complaint.complaintId, orderId: order.orderId, category: id, shop: order.shop,
                        reason: complaint.reason, state: .platformHandled, openedAt: complaint.openedAt, deadline: nil,
                        note: "K5: door delivery is provided by the platform; the platform handles the complaint and any compensation"))
            ]
        }
        let deadline = complaint.openedAt + evidenceWindow
        var note = "K3: submit evidence within \(evidenceWindow) of the ticket, before \(cst(deadline))"
        if order.deliveryService != .merchant {
            note += "; the order has no door-delivery service recorded, so the seller is treated as self-committed (K2)"
        }
        return [
            .openCase(
                NewCase(
                    caseId: complaint.complaintId, orderId: order.orderId, category: id, shop: order.shop,
                    reason: complaint.reason, state: .awaitingEvidence, openedAt: complaint.openedAt, deadline: deadline,
                    note: note))
        ]
    }

    // MARK: - K3 evidence

    func evidenceArrived(_ evidence: EvidenceSubmission, facts: Facts) -> [Decision] {
        guard let current = facts.currentCase else { return [] }
        let id = current.caseId
        let at = evidence.submittedAt
        let inTime = current.deadline.map { at < $0 } ?? true
        let attach = Decision.attachEvidence(caseId: id, items: evidence.items, submittedAt: at, inTime: inTime)
        let count = "\(evidence.items.count) item\(evidence.items.count == 1 ? "" : "s")"
        switch current.state {
        case .awaitingEvidence where inTime:
            return [attach, .changeState(caseId: id, state: .evidenceSubmitted, at: at, note: "K3: evidence in time (\(count)); waiting for the platform's verdict")]
        case .awaitingEvidence:
            return [attach, .note(caseId: id, at: at, note: "evidence (\(count)) submitted at \(cst(at)), after the deadline \(cst(current.deadline!)); K4 applies")]
        case .evidenceSubmitted:
            return [attach, .note(caseId: id, at: at, note: "further evidence (\(count))\(inTime ? "" : ", after the deadline")")]
        case .platformHandled:
            return [attach, .note(caseId: id, at: at, note: "evidence (\(count)) kept for reference; the platform handles this case (K5)")]
        default:
            return [attach, .note(caseId: id, at: at, note: "evidence (\(count)) arrived after the case closed as \(current.state.rawValue); kept for an appeal")]
        }
    }

    // MARK: - K4 verdicts

    func verdictArrived(_ verdict: Verdict, facts: Facts) -> [Decision] {
        guard let current = facts.currentCase else { return [] }
        let id = current.caseId
        let at = verdict.decidedAt
        switch (current.state, verdict.outcome) {
        case (.platformHandled, _):
            return [.note(caseId: id, at: at, note: "verdict \(verdict.outcome.rawValue) recorded; the platform is responsible (K5), nothing owed")]
        case (.awaitingEvidence, .sellerLiable), (.evidenceSubmitted, .sellerLiable):
            if alreadyCompensated(facts, current) {
                return [.changeState(caseId: id, state: .liable, at: at, note: "K4: judged not delivered to the door; the order's \(compensation) yuan was already booked (once per order)")]
            }
            return [
                .changeState(caseId: id, state: .liable, at: at, note: "K4: judged not delivered to the door; \(compensation) yuan red envelope from the deposit"),
                book(current, facts: facts, at: at, why: "verdict seller-liable"),
            ]
        case (.awaitingEvidence, .sellerNotLiable), (.evidenceSubmitted, .sellerNotLiable):
            return [.changeState(caseId: id, state: .resolved, at: at, note: "verdict seller-not-liable: delivered to the door, nothing owed")]
        case (.defaulted, .sellerLiable), (.liable, .sellerLiable):
            return [.note(caseId: id, at: at, note: "verdict seller-liable; K4 is already booked for this case (once per order)")]
        default:
            return [.note(caseId: id, at: at, note: "verdict \(verdict.outcome.rawValue) recorded on a case already \(current.state.rawValue); state and ledger unchanged")]
        }
    }

    func deadlineDue(caseId: String, due: Timestamp, facts: Facts) -> [Decision] {
        guard let current = facts.currentCase, current.state == .awaitingEvidence, current.deadline == due else { return [] }
        if alreadyCompensated(facts, current) {
            return [.changeState(caseId: caseId, state: .defaulted, at: due, note: "K4: no evidence within \(evidenceWindow) (deadline \(cst(due))); the order's \(compensation) yuan was already booked (once per order)")]
        }
        return [
            .changeState(caseId: caseId, state: .defaulted, at: due, note: "K4: no evidence within \(evidenceWindow) (deadline \(cst(due))); \(compensation) yuan red envelope from the deposit"),
            book(current, facts: facts, at: due, why: "evidence window missed"),
        ]
    }

    private func book(_ current: CaseRecord, facts: Facts, at: Timestamp, why: String) -> Decision {
        .bookLedger(
            LedgerBooking(
                caseId: current.caseId, orderId: current.orderId, shop: current.shop ?? facts.order?.shop, category: id,
                rule: "K4", amount: compensation, points: 0, at: at, dedupeKey: Self.compensationKey(order: current.orderId), note: why))
    }

    /// K4 compensation is per order (10 yuan 每单): one entry per order, whichever case.
    public static func compensationKey(order: String) -> String { "K4:\(order)" }

    private func alreadyCompensated(_ facts: Facts, _ current: CaseRecord) -> Bool {
        facts.bookedKeys.contains(Self.compensationKey(order: current.orderId))
    }

    private func cst(_ t: Timestamp) -> String { TimeFormat.format(t, in: .shanghai) }
}
