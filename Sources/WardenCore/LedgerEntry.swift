/// A booked penalty (SPEC.md §3): money off the deposit and/or A-class points.
public struct LedgerEntry: Sendable, Equatable {
    public var entryId: String
    public var caseId: String?
    public var orderId: String?
    public var shop: String?
    public var category: String
    public var rule: String
    public var amount: Money
    public var points: Int
    public var at: Timestamp
    public var note: String

    public init(
        entryId: String, caseId: String?, orderId: String?, shop: String?, category: String, rule: String,
        amount: Money, points: Int, at: Timestamp, note: String
    ) {
        self.entryId = entryId
        self.caseId = caseId
        self.orderId = orderId
        self.shop = shop
        self.category = category
        self.rule = rule
        self.amount = amount
        self.points = points
        self.at = at
        self.note = note
    }
}

/// A finding: a rule breach with no deadline (SPEC.md §3).
public struct Finding: Sendable, Equatable {
    public var findingId: String
    public var rule: String
    public var subject: String
    public var severity: Severity
    public var message: String
    public var at: Timestamp

    public init(findingId: String, rule: String, subject: String, severity: Severity, message: String, at: Timestamp) {
        self.findingId = findingId
        self.rule = rule
        self.subject = subject
        self.severity = severity
        self.message = message
        self.at = at
    }
}
