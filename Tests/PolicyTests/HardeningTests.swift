import KitchenAppliancesPolicy
import LuggagePolicy
import ModelToysPolicy
import Testing
import WardenCore

/// Issue 10: the same input judged the same way in every module, and a module whose
/// code asks for a parameter wrongly fails alone instead of crashing the daemon.
@Suite("Policies: undated listings, parameter mistakes")
struct PolicyHardeningTests {
    static let arrival = cst("2024-06-01 12:00:00")

    /// An undated listing (no `first_listed_at`) is judged when it arrives: its finding
    /// is dated `facts.now`, never 1970-01-01.
    @Test(arguments: [
        ("kitchen K1", KitchenAppliances.registration.id, Listing(listingId: "K", category: "stand-mixer", deliveryService: DeliveryService.none)),
        ("luggage L6", "luggage", Listing(listingId: "B", category: "luggage")),
        ("model toys M4", "model-toys", Listing(listingId: "M", category: "model-toys", shipTimeDays: 121)),
        ("model toys M7", "model-toys", Listing(listingId: "P", category: "model-toys", shipTimeDays: 30, presale: true, usesPresaleTool: false)),
    ])
    func anUndatedListingIsJudgedWhenItArrives(name: String, module: String, listing: Listing) throws {
        let policy: any Policy = switch module {
        case "luggage": Luggage()
        case "model-toys": ModelToys()
        default: try #require(try PolicyRegistry(registrations: [KitchenAppliances.registration], settings: [:]).policy(id: module))
        }
        let out = Outcome(policy.evaluate(.record(record(.listing(listing))), facts: Facts(now: Self.arrival)))
        #expect(!out.findings.isEmpty, "\(name): no finding")
        #expect(out.findings.allSatisfy { $0.at == Self.arrival }, "\(name): \(out.findings.map { TimeFormat.format($0.at, in: .shanghai) })")
    }

    @Test func aParameterAskedForByAWrongNameOrKindIsAnErrorNotACrash() {
        let parameters = PolicyParameters(values: [("window", .duration(.hours(24))), ("fee", .money(.yuan(10)))])
        #expect(throws: ParameterError.self) { try parameters.duration("windo") }
        #expect(throws: ParameterError.self) { try parameters.integer("window") }
        #expect(throws: ParameterError.self) { try parameters.bool("fee") }
        #expect((try? parameters.duration("window")) == .hours(24))
    }

    /// A module whose factory asks for a parameter it never declared is `failed` with the
    /// reason; the registry (and the daemon) carry on with the other modules.
    @Test func aModuleWithAParameterTypoIsFailedAndTheOthersRun() throws {
        let broken = PolicyRegistration(
            id: "typo", version: "0", categories: ["typo"], summary: "asks for a parameter it does not declare",
            parameters: [ParameterSpec(name: "window", kind: .duration, defaultValue: .duration(.hours(1)), summary: "")],
            make: { p in
                _ = try p.duration("widnow")
                return ModelToys()
            })
        let registry = try PolicyRegistry(registrations: [broken, ModelToys.registration], settings: [:])
        let status = registry.entries.first { $0.registration.id == "typo" }?.status
        guard case .failed(let reason)? = status else {
            Issue.record("typo: \(String(describing: status))")
            return
        }
        #expect(reason.contains("widnow"))
        #expect(registry.policy(id: "model-toys") != nil)
    }
}
