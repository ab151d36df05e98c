import KitchenAppliancesPolicy
import LuggagePolicy
import ModelToysPolicy
import ServiceQualityPolicy
import WardenCore

/// Every policy module compiled into this build, in registration order.
public enum BuiltinPolicies {
    public static let all: [PolicyRegistration] = [
        KitchenAppliances.registration,
        Luggage.registration,
        ModelToys.registration,
        ServiceQuality.registration,
    ]
}
