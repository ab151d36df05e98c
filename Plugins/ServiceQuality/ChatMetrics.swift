import WardenCore

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

extension ChatMetrics {
    public static let type = RecordType("chat-metrics")

    /// `chat-metrics` (SPEC.md §2), owned by this module: one shop's month.
    public static let declaration = RecordDeclaration(
        type: type, module: ServiceQuality.id, key: ["shop", "month"],
        fields: [
            ("shop", .init(kind: .id, required: true)), ("month", .init(kind: .month, required: true)),
            ("ratings", .init(kind: .count, required: true)), ("satisfied_ratings", .init(kind: .count, required: true)),
            ("rounds", .init(kind: .count, required: true)), ("rounds_answered_within_3min", .init(kind: .count, required: true)),
        ],
        crossCheck: { o, _ in
            var errors: [(field: String, message: String)] = []
            if let ratings = o["ratings"]?.int, let satisfied = o["satisfied_ratings"]?.int, satisfied > ratings {
                errors.append(("satisfied_ratings", "\(satisfied) is more than ratings (\(ratings))"))
            }
            if let rounds = o["rounds"]?.int, let answered = o["rounds_answered_within_3min"]?.int, answered > rounds {
                errors.append(("rounds_answered_within_3min", "\(answered) is more than rounds (\(rounds))"))
            }
            return errors
        })

    /// A validated `chat-metrics` record's figures.
    public init?(_ record: Record) {
        guard record.type == Self.type, case .string(let shop)? = record.body["shop"], case .string(let month)? = record.body["month"],
            let ratings = record.body["ratings"]?.int, let satisfied = record.body["satisfied_ratings"]?.int,
            let rounds = record.body["rounds"]?.int, let answered = record.body["rounds_answered_within_3min"]?.int
        else { return nil }
        self.init(shop: shop, month: month, ratings: ratings, satisfiedRatings: satisfied, rounds: rounds, roundsAnsweredWithin3Min: answered)
    }
}
