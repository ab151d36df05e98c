/// The typed content of the records Warden acts on. The raw object is kept beside them
/// (`Record.body`) so unknown fields survive, as SPEC.md §2 promises.

public enum DeliveryService: String, Sendable, CaseIterable {
    case merchant, platform, none
}

public struct Order: Sendable, Equatable {
    public var orderId: String
    public var category: String
    public var paidAmount: Money
    public var paidAt: Timestamp
    public var shop: String?
    public var item: String?
    public var shipBy: Timestamp?
    public var shippedAt: Timestamp?
    public var deliveryService: DeliveryService?
    public var presale: Bool?
    /// From a `refund` record (orders themselves do not carry it).
    public var refundedAt: Timestamp?

    public init(
        orderId: String, category: String, paidAmount: Money, paidAt: Timestamp, shop: String? = nil,
        item: String? = nil, shipBy: Timestamp? = nil, shippedAt: Timestamp? = nil,
        deliveryService: DeliveryService? = nil, presale: Bool? = nil, refundedAt: Timestamp? = nil
    ) {
        self.refundedAt = refundedAt
        self.orderId = orderId
        self.category = category
        self.paidAmount = paidAmount
        self.paidAt = paidAt
        self.shop = shop
        self.item = item
        self.shipBy = shipBy
        self.shippedAt = shippedAt
        self.deliveryService = deliveryService
        self.presale = presale
    }
}

public enum ComplaintReason: String, Sendable, CaseIterable {
    case notDeliveredToDoor = "not-delivered-to-door"
    case urgeShipment = "urge-shipment"
    case lateShipment = "late-shipment"
    case ipInfringement = "ip-infringement"
    case other
}

public struct Complaint: Sendable, Equatable {
    public var complaintId: String
    public var orderId: String
    public var reason: ComplaintReason
    public var openedAt: Timestamp
    public var note: String?

    public init(complaintId: String, orderId: String, reason: ComplaintReason, openedAt: Timestamp, note: String? = nil) {
        self.complaintId = complaintId
        self.orderId = orderId
        self.reason = reason
        self.openedAt = openedAt
        self.note = note
    }
}

public enum EvidenceKind: String, Sendable, CaseIterable {
    case deliveryPhoto = "delivery-photo"
    case signedReceipt = "signed-receipt"
    case trackingRecord = "tracking-record"
    case prototypePhoto = "prototype-photo"
    case designDraft = "design-draft"
    case copyrightCertificate = "copyright-certificate"
    case agreement
    case other
}

public struct EvidenceItem: Sendable, Equatable {
    public var kind: EvidenceKind
    public var ref: String
    public var sha256: String?
    public var registeredAt: Timestamp?

    public init(kind: EvidenceKind, ref: String, sha256: String? = nil, registeredAt: Timestamp? = nil) {
        self.kind = kind
        self.ref = ref
        self.sha256 = sha256
        self.registeredAt = registeredAt
    }
}

public struct EvidenceSubmission: Sendable, Equatable {
    public var complaintId: String
    public var submittedAt: Timestamp
    public var items: [EvidenceItem]
    public var note: String?

    public init(complaintId: String, submittedAt: Timestamp, items: [EvidenceItem], note: String? = nil) {
        self.complaintId = complaintId
        self.submittedAt = submittedAt
        self.items = items
        self.note = note
    }
}

public enum VerdictOutcome: String, Sendable, CaseIterable {
    case sellerLiable = "seller-liable"
    case sellerNotLiable = "seller-not-liable"
}

public struct Verdict: Sendable, Equatable {
    public var complaintId: String
    public var outcome: VerdictOutcome
    public var decidedAt: Timestamp

    public init(complaintId: String, outcome: VerdictOutcome, decidedAt: Timestamp) {
        self.complaintId = complaintId
        self.outcome = outcome
        self.decidedAt = decidedAt
    }
}
