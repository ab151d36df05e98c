import KitchenAppliancesPolicy
import LuggagePolicy
import ModelToysPolicy
import ServiceQualityPolicy
import WardenConfigFile
import WardenCore
import WardenFuzzSupport

/// The configuration loader (TOML, then Warden's keys and every built-in module's
/// parameters), as `wardend check-config` and a reload run it. Properties: nothing
/// traps, aborts or hangs; a refusal always says where (the file, and a line when the
/// TOML itself is broken).
func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Fuzz.input(data, size)
    let registrations = [KitchenAppliances.registration, Luggage.registration, ModelToys.registration, ServiceQuality.registration]
    do {
        let config = try ConfigLoader.parse(bytes: Array(input), file: "fuzz.toml", registrations: registrations)
        Fuzz.check(config.warnBefore.allSatisfy { $0.milliseconds > 0 }, "a non-positive warn_before was accepted")
    } catch {
        Fuzz.check(!error.errors.isEmpty, "a refusal without a reason")
        Fuzz.check(error.errors.allSatisfy { $0.file == "fuzz.toml" && !$0.message.isEmpty }, "an error that does not name the file")
    }
    return 0
}

@main enum Main {
    static func main() { Fuzz.main(fuzzConfig) }
}
