import KitchenAppliancesPolicy
import Testing
import WardenCore

@Suite("Kitchen appliances K1")
struct KitchenDoorDeliveryTests {
    @Test(arguments: [
        ("stand mixer without service after the deadline", "stand-mixer", nil as DeliveryService?, "2023-03-17 00:00:00", true),
        ("service none counts as without", "massage-chair", DeliveryService.none, "2023-04-01 10:00:00", true),
        ("one second before the deadline: judged without K1", "steam-cleaner", nil, "2023-03-16 23:59:59", false),
        ("with merchant service", "commercial-kitchen", .merchant, "2023-04-01 10:00:00", false),
        ("with platform service", "stand-mixer", .platform, "2023-04-01 10:00:00", false),
        ("other kitchen items are out of scope", "kitchen-appliances", nil, "2023-04-01 10:00:00", false),
    ])
    func orders(name: String, category: String, service: DeliveryService?, paidAt: String, finding: Bool) {
        let order = Order(orderId: "O1", category: category, paidAmount: .yuan(100), paidAt: cst(paidAt), deliveryService: service)
        let out = Outcome(KitchenAppliances().evaluate(.record(record(.order(order))), facts: Facts(order: order, now: cst(paidAt))))
        #expect(out.findings.map(\.rule) == (finding ? ["K1"] : []))
        #expect(out.findings.allSatisfy { $0.severity == .violation && $0.subject == "order:O1" })
    }

    @Test func listingsToo() {
        let l = Listing(listingId: "L1", category: "massage-chair", firstListedAt: cst("2023-05-01 00:00:00"))
        let out = Outcome(KitchenAppliances().evaluate(.record(record(.listing(l))), facts: Facts(now: cst("2023-05-02 00:00:00"))))
        #expect(out.findings.map(\.subject) == ["listing:L1"])
    }
}
