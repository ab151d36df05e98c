/// A case as stored and shown (`case.get`): opened by a complaint, `caseId` is the
/// `complaint_id`.
public struct CaseRecord: Sendable, Equatable {
    public struct HistoryEntry: Sendable, Equatable {
        public var at: Timestamp
        public var state: CaseState
        public var note: String
        public init(at: Timestamp, state: CaseState, note: String) {
            self.at = at
            self.state = state
            self.note = note
        }
    }

    public struct EvidenceEntry: Sendable, Equatable {
        public var item: EvidenceItem
        public var submittedAt: Timestamp
        /// Whether it arrived before the deadline (false for late items, kept anyway).
        public var inTime: Bool
        public init(item: EvidenceItem, submittedAt: Timestamp, inTime: Bool) {
            self.item = item
            self.submittedAt = submittedAt
            self.inTime = inTime
        }
    }

    public var caseId: String
    public var orderId: String
    /// The policy module (category) that owns the case, e.g. `kitchen-appliances`.
    public var category: String
    public var shop: String?
    public var reason: ComplaintReason
    public var state: CaseState
    public var openedAt: Timestamp
    public var deadline: Timestamp?
    public var evidence: [EvidenceEntry]
    public var liability: Liability?
    public var history: [HistoryEntry]

    public init(
        caseId: String, orderId: String, category: String, shop: String?, reason: ComplaintReason,
        state: CaseState, openedAt: Timestamp, deadline: Timestamp?, evidence: [EvidenceEntry] = [],
        liability: Liability? = nil, history: [HistoryEntry] = []
    ) {
        self.caseId = caseId
        self.orderId = orderId
        self.category = category
        self.shop = shop
        self.reason = reason
        self.state = state
        self.openedAt = openedAt
        self.deadline = deadline
        self.evidence = evidence
        self.liability = liability
        self.history = history
    }
}

/// What a case cost the seller: money off the deposit and A-class points.
public struct Liability: Sendable, Equatable {
    public var amount: Money
    public var points: Int
    public init(amount: Money, points: Int) {
        self.amount = amount
        self.points = points
    }
}
