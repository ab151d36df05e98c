import WardenCore

/// Customer-service response for every shop (RULES.md §4), from monthly `chat-metrics`.
///
/// - S1/S2: chat satisfaction (satisfied ÷ ratings) at least 70 %, assessed only with at
///   least 30 ratings; 3-minute human response rate (answered ÷ rounds) at least 90 %,
///   assessed only with at least 100 rounds. Compared exactly in integers: 30 of 45 is
///   66.7 % and fails; 1,000 of 1,100 is 90.9 % and passes. Months before 2022-09 were
///   the trial: not assessed.
/// - S3: a month failing either figure books 4 A-class points (rule `S3`, amount 0.00)
///   once per shop and month, dated at the month's start, plus a finding.
public struct ServiceQuality: Policy {
    public static let id = "service-quality"
    public var id: String { Self.id }

    public var minSatisfactionPercent = 70
    public var minResponsePercent = 90
    public var minRatings = 30
    public var minRounds = 100
    public var points = 4
    /// The first assessed month (the trial ran until 2022-09-01).
    public static let assessedFrom = "2022-09"

    public init() {}

    public static let registration = PolicyRegistration(
        id: id,
        version: "1.0.0",
        categories: [],
        summary: "All shops: monthly chat satisfaction and 3-minute response rate, 4 A-class points per failed month (S1–S3)",
        parameters: [
            ParameterSpec(name: "min_satisfaction_percent", kind: .integer, defaultValue: .integer(70), summary: "S1 satisfaction threshold", range: 0...100),
            ParameterSpec(name: "min_response_percent", kind: .integer, defaultValue: .integer(90), summary: "S1 3-minute response-rate threshold", range: 0...100),
            ParameterSpec(name: "min_ratings", kind: .integer, defaultValue: .integer(30), summary: "fewer ratings: satisfaction not assessed", range: 0...RecordParser.maxCount),
            ParameterSpec(name: "min_rounds", kind: .integer, defaultValue: .integer(100), summary: "fewer buyer rounds: response rate not assessed", range: 0...RecordParser.maxCount),
            ParameterSpec(name: "points", kind: .integer, defaultValue: .integer(4), summary: "A-class points per failed month (S3)", range: 0...1000),
        ],
        recordTypes: [ChatMetrics.declaration],
        make: { p in
            var s = ServiceQuality()
            s.minSatisfactionPercent = try p.integer("min_satisfaction_percent")
            s.minResponsePercent = try p.integer("min_response_percent")
            s.minRatings = try p.integer("min_ratings")
            s.minRounds = try p.integer("min_rounds")
            s.points = try p.integer("points")
            return s
        }
    )

    public struct Assessment: Sendable, Equatable {
        /// nil: not assessed (too small a sample, or the trial).
        public var satisfactionPassed: Bool?
        public var responsePassed: Bool?
        public var trial: Bool
        public var failed: Bool { satisfactionPassed == false || responsePassed == false }
    }

    public func assess(_ m: ChatMetrics) -> Assessment {
        if m.month < Self.assessedFrom { return Assessment(satisfactionPassed: nil, responsePassed: nil, trial: true) }
        let satisfaction = m.ratings >= minRatings ? m.satisfiedRatings * 100 >= minSatisfactionPercent * m.ratings : nil
        let response = m.rounds >= minRounds ? m.roundsAnsweredWithin3Min * 100 >= minResponsePercent * m.rounds : nil
        return Assessment(satisfactionPassed: satisfaction, responsePassed: response, trial: false)
    }

    public func evaluate(_ input: PolicyInput, facts: Facts) -> [Decision] {
        guard case .record(let record) = input, let m = ChatMetrics(record) else { return [] }
        let a = assess(m)
        guard a.failed else { return [] }
        let at = record.time("month") ?? facts.now
        var why: [String] = []
        if a.satisfactionPassed == false { why.append("satisfaction \(Self.percent(m.satisfiedRatings, m.ratings)) < \(minSatisfactionPercent)%") }
        if a.responsePassed == false { why.append("3-minute response rate \(Self.percent(m.roundsAnsweredWithin3Min, m.rounds)) < \(minResponsePercent)%") }
        let message = "\(m.month) failed: \(why.joined(separator: ", ")); A-class deduction of \(points) points"
        let key = "S3:\(m.shop):\(m.month)"
        return [
            .bookLedger(LedgerBooking(caseId: nil, orderId: nil, shop: m.shop, category: id, rule: "S3", amount: .zero, points: points, at: at, dedupeKey: key, note: message)),
            .recordFinding(NewFinding(rule: "S3", subject: "shop:\(m.shop)", severity: .violation, message: message, at: at, dedupeKey: key)),
        ]
    }

    public func shopView(_ facts: ShopFacts) -> JSONObject {
        let months = facts.records.compactMap(ChatMetrics.init).sorted { $0.month < $1.month }.map { m -> JSON in
            let a = assess(m)
            return [
                "month": .string(m.month),
                "satisfaction": m.ratings > 0 ? .number(Self.ratio(m.satisfiedRatings, m.ratings)) : .null,
                "satisfaction_assessed": .bool(a.satisfactionPassed != nil),
                "response_rate": m.rounds > 0 ? .number(Self.ratio(m.roundsAnsweredWithin3Min, m.rounds)) : .null,
                "response_assessed": .bool(a.responsePassed != nil),
                "trial": .bool(a.trial),
                "passed": .bool(!a.failed),
                "points": JSON(a.failed ? points : 0),
            ]
        }
        return ["service_quality": .array(months)]
    }

    /// A ratio to three decimals (0.667).
    static func ratio(_ a: Int, _ b: Int) -> Double { (Double(a) / Double(b) * 1000).rounded() / 1000 }
    static func percent(_ a: Int, _ b: Int) -> String { "\((Double(a) / Double(b) * 1000).rounded() / 10)%" }
}
