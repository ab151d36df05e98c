import ServiceQualityPolicy
import Testing
import WardenCore

@Suite("Service quality S1–S3")
struct ServiceQualityTests {
    static let policy = ServiceQuality()

    static func metrics(_ month: String = "2022-10", ratings: Int, satisfied: Int, rounds: Int = 200, answered: Int = 200) -> ChatMetrics {
        ChatMetrics(shop: "s1", month: month, ratings: ratings, satisfiedRatings: satisfied, rounds: rounds, roundsAnsweredWithin3Min: answered)
    }

    /// The `chat-metrics` record with these figures, as the core validates it.
    static func chat(_ m: ChatMetrics) -> Record {
        let body: JSON = [
            "type": "chat-metrics", "shop": .string(m.shop), "month": .string(m.month), "ratings": JSON(m.ratings), "satisfied_ratings": JSON(m.satisfiedRatings),
            "rounds": JSON(m.rounds), "rounds_answered_within_3min": JSON(m.roundsAnsweredWithin3Min),
        ]
        return declared(body, ChatMetrics.declaration)
    }

    /// name, figures, satisfaction assessed/passed, response assessed/passed, points booked
    @Test(arguments: [
        ("worked: 25 ratings, 10 satisfied → satisfaction not assessed", metrics(ratings: 25, satisfied: 10), nil as Bool?, true as Bool?, 0),
        ("worked: 45 ratings, 30 satisfied (66.7%) → fails, 4 points", metrics(ratings: 45, satisfied: 30), false, true, 4),
        ("worked: 1,000 of 1,100 rounds (90.9%) → passes", metrics(ratings: 40, satisfied: 40, rounds: 1100, answered: 1000), true, true, 0),
        ("exactly 70% satisfaction passes", metrics(ratings: 30, satisfied: 21), true, true, 0),
        ("exactly 30 ratings are assessed", metrics(ratings: 30, satisfied: 20), false, true, 4),
        ("99 rounds: response not assessed", metrics(ratings: 40, satisfied: 40, rounds: 99, answered: 0), true, nil, 0),
        ("89.9% response fails", metrics(ratings: 40, satisfied: 40, rounds: 1000, answered: 899), true, false, 4),
        ("both failing is still 4 points", metrics(ratings: 40, satisfied: 0, rounds: 1000, answered: 0), false, false, 4),
    ])
    func assessment(name: String, m: ChatMetrics, satisfaction: Bool?, response: Bool?, points: Int) {
        let a = Self.policy.assess(m)
        #expect(a.satisfactionPassed == satisfaction)
        #expect(a.responsePassed == response)
        let facts = Facts(now: cst("2022-11-01 00:00:00"))
        let out = Outcome(Self.policy.evaluate(.record(Self.chat(m)), facts: facts))
        #expect(out.bookings.map(\.points) == (points > 0 ? [points] : []))
        #expect(out.bookings.allSatisfy { $0.rule == "S3" && $0.amount == .zero && $0.dedupeKey == "S3:s1:\(m.month)" })
        #expect(out.findings.count == (points > 0 ? 1 : 0))
    }

    @Test(arguments: [("2022-08", false), ("2022-09", true)])
    func assessedFromSeptember2022(month: String, assessed: Bool) {
        let m = Self.metrics(month, ratings: 45, satisfied: 30)
        #expect(Self.policy.assess(m).trial == !assessed)
        #expect(Outcome(Self.policy.evaluate(.record(Self.chat(m)), facts: Facts(now: cst("2022-11-01 00:00:00")))).bookings.count == (assessed ? 1 : 0))
    }

    @Test func shopViewShowsEachMonth() throws {
        let view = Self.policy.shopView(ShopFacts(shop: "s1", records: [Self.chat(Self.metrics("2022-11", ratings: 45, satisfied: 30)), Self.chat(Self.metrics("2022-10", ratings: 25, satisfied: 10))], now: cst("2022-12-01 00:00:00"), zone: .shanghai))
        let months = try #require(view["service_quality"]?.array)
        #expect(months.map { $0["month"] } == ["2022-10", "2022-11"])
        #expect(months[1]["satisfaction"] == .number(0.667))
        #expect(months[1]["points"] == 4)
        #expect(months[0]["satisfaction_assessed"] == false)
    }
}

@Suite("Service quality: chat-metrics as this module declares it")
struct ChatMetricsDeclarationTests {
    static let parser = RecordParser(zone: .shanghai, declarations: [ChatMetrics.type: ChatMetrics.declaration])

    @Test(arguments: [
        (#"{"type":"chat-metrics","shop":"s1","month":"2022-13","ratings":1,"satisfied_ratings":1,"rounds":1,"rounds_answered_within_3min":1}"#, "month"),
        (#"{"type":"chat-metrics","shop":"s1","month":"1011-04","ratings":1,"satisfied_ratings":1,"rounds":1,"rounds_answered_within_3min":1}"#, "month"),
        (#"{"type":"chat-metrics","shop":"s1","month":"2022-10","ratings":-1,"satisfied_ratings":0,"rounds":1,"rounds_answered_within_3min":1}"#, "ratings"),
        (#"{"type":"chat-metrics","shop":"s1","month":"2022-10","ratings":10,"satisfied_ratings":11,"rounds":1,"rounds_answered_within_3min":1}"#, "satisfied_ratings"),
        (#"{"type":"chat-metrics","shop":"s1","month":"2022-10","ratings":10,"satisfied_ratings":1,"rounds":5,"rounds_answered_within_3min":6}"#, "rounds_answered_within_3min"),
        (#"{"type":"chat-metrics","shop":"s1","month":"2022-10","ratings":10,"satisfied_ratings":1,"rounds":5}"#, "rounds_answered_within_3min"),
        (#"{"type":"chat-metrics","shop":7,"month":"2022-10","ratings":10,"satisfied_ratings":1,"rounds":5,"rounds_answered_within_3min":1}"#, "shop"),
    ])
    func badFiguresAreRefusedNamingTheField(text: String, field: String) throws {
        guard case .failure(let e) = Self.parser.parse(try JSONParser.parse(text)) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(e.errors.map(\.field) == [field])
    }

    @Test func theKeyIsShopAndMonthAndTheTimeIsTheMonthsStart() throws {
        let r = try Self.parser.parse(try JSONParser.parse(#"{"type":"chat-metrics","shop":"s1","month":"2022-10","ratings":1,"satisfied_ratings":1,"rounds":1,"rounds_answered_within_3min":1}"#)).get()
        #expect(r.key == "s1|2022-10")
        #expect(r.shop == "s1")
        #expect(r.eventTime == cst("2022-10-01 00:00:00"))
    }
}
