import ArgumentParser
import WardenCore

/// `wardenctl reload`: `daemon.reload`, as `kill -HUP` does, but with the answer.
struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reload wardend's configuration file (daemon.reload).",
        discussion: "An invalid file is refused with every error listed; the running configuration stays.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        guard let r = try global.call("daemon.reload") else { return }
        print("reloaded; policies: \((r["policies"]?.array ?? []).map(text).joined(separator: ", "))")
    }
}
