import Testing

@testable import WardenDaemon

/// What a commit reports to the metrics: bookings summed per category and rule.
@Suite("Tally")
struct TallyTests {
    @Test func bookingsAreSummedPerCategoryAndRuleInFirstSeenOrder() {
        var tally = Tally()
        tally.bookings = [
            ("kitchen", "K4", 1_000, 0), ("luggage", "L2", 500, 1), ("kitchen", "K4", 1_000, 0), ("kitchen", "K1", 3_000, 2),
            ("kitchen", "K4", 1_000, 0),
        ]
        let sums = tally.bookingsByRule()
        #expect(sums.map(\.category) == ["kitchen", "luggage", "kitchen"])
        #expect(sums.map(\.rule) == ["K4", "L2", "K1"])
        #expect(sums.map(\.count) == [3, 1, 1])
        #expect(sums.map(\.amountFen) == [3_000, 500, 3_000])
        #expect(sums.map(\.points) == [0, 1, 2])
    }

    @Test func sumsSaturateInsteadOfTrapping() {
        var tally = Tally()
        tally.bookings = [("c", "R", .max - 1, .min + 1), ("c", "R", 5, -5), ("c", "R", 1, -1)]
        let sums = tally.bookingsByRule()
        #expect(sums.count == 1)
        #expect(sums[0].count == 3)
        #expect(sums[0].amountFen == .max)
        #expect(sums[0].points == .min)
    }
}
