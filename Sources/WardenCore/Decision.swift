/// What a policy wants done. Policies return decisions; the engine applies all the
/// decisions for one input in one database transaction, so a case never shows half a
/// judgement.
public enum Decision: Sendable, Equatable {
    /// Open a case (the id is the complaint id). A deadline is scheduled if `deadline`
    /// is set and the state runs against one.
    case openCase(NewCase)
    /// Move a case to a new state, with a history note. Leaving a deadline-bearing state
    /// cancels the pending deadline.
    case changeState(caseId: String, state: CaseState, at: Timestamp, note: String)
    /// Keep evidence on a case; `inTime` says whether it came before the deadline.
    case attachEvidence(caseId: String, items: [EvidenceItem], submittedAt: Timestamp, inTime: Bool)
    /// Add a history note without changing the state.
    case note(caseId: String, at: Timestamp, note: String)
    /// Book a penalty in the ledger, once per `dedupeKey`.
    case bookLedger(LedgerBooking)
    /// Record a finding (no deadline), once per `dedupeKey`.
    case recordFinding(NewFinding)
    /// Give an open case a new deadline (replacing a pending one), in its current state.
    case setDeadline(caseId: String, due: Timestamp)
    /// Drop a case's pending deadline without changing its state.
    case clearDeadline(caseId: String)
    /// Set an order's effective ship-by deadline and the standing of its negotiations
    /// (shown by `order.get`).
    case setShipTerms(orderId: String, shipDeadline: Timestamp?, negotiations: [NegotiationStatus])
}

/// A ship negotiation as judged: in force or not, and why.
public struct NegotiationStatus: Sendable, Equatable {
    public var negotiation: ShipNegotiation
    public var inForce: Bool
    public var note: String
    public init(negotiation: ShipNegotiation, inForce: Bool, note: String) {
        self.negotiation = negotiation
        self.inForce = inForce
        self.note = note
    }

    public func json(in zone: Zone) -> JSON {
        [
            "proposed_at": .string(TimeFormat.format(negotiation.proposedAt, in: zone)),
            "new_ship_by": .string(TimeFormat.format(negotiation.newShipBy, in: zone)),
            "buyer_confirmed": .bool(negotiation.buyerConfirmed),
            "in_force": .bool(inForce),
            "note": .string(note),
        ]
    }
}

public struct NewCase: Sendable, Equatable {
    public var caseId: String
    public var orderId: String
    public var category: String
    public var shop: String?
    public var reason: ComplaintReason
    public var state: CaseState
    public var openedAt: Timestamp
    public var deadline: Timestamp?
    public var note: String

    public init(
        caseId: String, orderId: String, category: String, shop: String?, reason: ComplaintReason,
        state: CaseState, openedAt: Timestamp, deadline: Timestamp?, note: String
    ) {
        self.caseId = caseId
        self.orderId = orderId
        self.category = category
        self.shop = shop
        self.reason = reason
        self.state = state
        self.openedAt = openedAt
        self.deadline = deadline
        self.note = note
    }
}

public struct LedgerBooking: Sendable, Equatable {
    public var caseId: String?
    public var orderId: String?
    public var shop: String?
    public var category: String
    public var rule: String
    public var amount: Money
    public var points: Int
    public var at: Timestamp
    /// Identifies the obligation the entry settles (`K4:<case>`); a second booking with
    /// the same key is ignored, which is how "charged once" rules are kept.
    public var dedupeKey: String
    public var note: String

    public init(
        caseId: String?, orderId: String?, shop: String?, category: String, rule: String, amount: Money,
        points: Int, at: Timestamp, dedupeKey: String, note: String
    ) {
        self.caseId = caseId
        self.orderId = orderId
        self.shop = shop
        self.category = category
        self.rule = rule
        self.amount = amount
        self.points = points
        self.at = at
        self.dedupeKey = dedupeKey
        self.note = note
    }
}

public enum Severity: String, Sendable, CaseIterable {
    case info, warning, violation
}

public struct NewFinding: Sendable, Equatable {
    public var rule: String
    public var subject: String
    public var severity: Severity
    public var message: String
    public var at: Timestamp
    public var dedupeKey: String

    public init(rule: String, subject: String, severity: Severity, message: String, at: Timestamp, dedupeKey: String) {
        self.rule = rule
        self.subject = subject
        self.severity = severity
        self.message = message
        self.at = at
        self.dedupeKey = dedupeKey
    }
}
