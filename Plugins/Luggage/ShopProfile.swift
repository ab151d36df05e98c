import WardenCore

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

extension ShopProfile {
    public static let type = RecordType("shop-profile")

    /// `shop-profile` (SPEC.md §2), owned by this module: what L1–L5 read.
    public static let declaration = RecordDeclaration(
        type: type, module: Luggage.id, key: ["shop"],
        fields: [
            ("shop", .init(kind: .id, required: true)), ("ifashion", .init(kind: .boolean, required: false)),
            ("serious_violation_points", .init(kind: .count, required: false)), ("b_class_points", .init(kind: .count, required: false)),
            ("search_shielded_until", .init(kind: .time, required: false)), ("counterfeit_penalty", .init(kind: .boolean, required: false)),
            ("video_coverage", .init(kind: .fraction, required: false)), ("live_streams_last_month", .init(kind: .count, required: false)),
            ("s_level_promotions", .init(kind: .count, required: false)),
        ])

    /// A validated `shop-profile` record's fields.
    public init?(_ record: Record) {
        guard record.type == Self.type, case .string(let shop)? = record.body["shop"] else { return nil }
        let b = record.body
        self.init(
            shop: shop, ifashion: b["ifashion"]?.bool, seriousViolationPoints: b["serious_violation_points"]?.int, bClassPoints: b["b_class_points"]?.int,
            searchShieldedUntil: record.time("search_shielded_until"),
            counterfeitPenalty: b["counterfeit_penalty"]?.bool, videoCoverage: b["video_coverage"]?.number,
            liveStreamsLastMonth: b["live_streams_last_month"]?.int, sLevelPromotions: b["s_level_promotions"]?.int)
    }
}
