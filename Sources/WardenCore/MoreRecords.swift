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

/// A shop's standing, as the luggage original-design rules (L1–L5) read it.
public struct ShopProfile: Sendable, Equatable {
    public var shop: String
    public var ifashion: Bool?
    public var seriousViolationPoints: Int?
    public var bClassPoints: Int?
    public var searchShieldedUntil: Timestamp?
    public var counterfeitPenalty: Bool?
    /// Share of items with a micro-detail short video, 0–1.
    public var videoCoverage: Double?
    public var liveStreamsLastMonth: Int?
    public var sLevelPromotions: Int?
    public init(
        shop: String, ifashion: Bool? = nil, seriousViolationPoints: Int? = nil, bClassPoints: Int? = nil,
        searchShieldedUntil: Timestamp? = nil, counterfeitPenalty: Bool? = nil, videoCoverage: Double? = nil,
        liveStreamsLastMonth: Int? = nil, sLevelPromotions: Int? = nil
    ) {
        self.shop = shop
        self.ifashion = ifashion
        self.seriousViolationPoints = seriousViolationPoints
        self.bClassPoints = bClassPoints
        self.searchShieldedUntil = searchShieldedUntil
        self.counterfeitPenalty = counterfeitPenalty
        self.videoCoverage = videoCoverage
        self.liveStreamsLastMonth = liveStreamsLastMonth
        self.sLevelPromotions = sLevelPromotions
    }
}

/// A month of chat figures for one shop (S1–S3).
public struct ChatMetrics: Sendable, Equatable {
    public var shop: String
    /// `YYYY-MM`.
    public var month: String
    public var ratings: Int
    public var satisfiedRatings: Int
    public var rounds: Int
    public var roundsAnsweredWithin3Min: Int
    public init(shop: String, month: String, ratings: Int, satisfiedRatings: Int, rounds: Int, roundsAnsweredWithin3Min: Int) {
        self.shop = shop
        self.month = month
        self.ratings = ratings
        self.satisfiedRatings = satisfiedRatings
        self.rounds = rounds
        self.roundsAnsweredWithin3Min = roundsAnsweredWithin3Min
    }

    /// The first instant of the month in a zone (the month the figures speak of).
    public func start(in zone: Zone) -> Timestamp? {
        let parts = month.split(separator: "-")
        guard parts.count == 2, let y = Int(parts[0]), let m = Int(parts[1]) else { return nil }
        return TimeFormat.instant(year: y, month: m, day: 1, in: zone)
    }
}
