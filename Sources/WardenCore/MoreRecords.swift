/// Record types beyond orders and complaints (SPEC.md §2): what happened to an order,
/// listings, and shop-level figures.

public struct Shipment: Sendable, Equatable {
    public var orderId: String
    public var shippedAt: Timestamp
    public var carrier: String?
    public var trackingNo: String?
    public init(orderId: String, shippedAt: Timestamp, carrier: String? = nil, trackingNo: String? = nil) {
        self.orderId = orderId
        self.shippedAt = shippedAt
        self.carrier = carrier
        self.trackingNo = trackingNo
    }
}

public struct Refund: Sendable, Equatable {
    public var orderId: String
    public var refundedAt: Timestamp
    public var amount: Money?
    public init(orderId: String, refundedAt: Timestamp, amount: Money? = nil) {
        self.orderId = orderId
        self.refundedAt = refundedAt
        self.amount = amount
    }
}

public struct TicketReply: Sendable, Equatable {
    public var complaintId: String
    public var repliedAt: Timestamp
    public var message: String?
    public init(complaintId: String, repliedAt: Timestamp, message: String? = nil) {
        self.complaintId = complaintId
        self.repliedAt = repliedAt
        self.message = message
    }
}

/// A seller's proposal to move an order's ship-by date (M5); in force only if the buyer
/// confirmed it and it stays within the limits.
public struct ShipNegotiation: Sendable, Equatable {
    public var orderId: String
    public var newShipBy: Timestamp
    public var proposedAt: Timestamp
    public var buyerConfirmed: Bool
    public init(orderId: String, newShipBy: Timestamp, proposedAt: Timestamp, buyerConfirmed: Bool) {
        self.orderId = orderId
        self.newShipBy = newShipBy
        self.proposedAt = proposedAt
        self.buyerConfirmed = buyerConfirmed
    }
}

public struct Listing: Sendable, Equatable {
    public var listingId: String
    public var category: String
    public var shop: String?
    public var item: String?
    public var deliveryService: DeliveryService?
    public var shipTimeDays: Int?
    public var presale: Bool?
    public var usesPresaleTool: Bool?
    public var firstListedAt: Timestamp?
    public var prototypeRegisteredAt: Timestamp?
    public init(
        listingId: String, category: String, shop: String? = nil, item: String? = nil, deliveryService: DeliveryService? = nil,
        shipTimeDays: Int? = nil, presale: Bool? = nil, usesPresaleTool: Bool? = nil, firstListedAt: Timestamp? = nil,
        prototypeRegisteredAt: Timestamp? = nil
    ) {
        self.listingId = listingId
        self.category = category
        self.shop = shop
        self.item = item
        self.deliveryService = deliveryService
        self.shipTimeDays = shipTimeDays
        self.presale = presale
        self.usesPresaleTool = usesPresaleTool
        self.firstListedAt = firstListedAt
        self.prototypeRegisteredAt = prototypeRegisteredAt
    }
}
