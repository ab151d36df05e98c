import Foundation
import Testing
import WardenCore
import WardenDaemon

@Suite("Configuration")
struct ConfigLoaderTests {
    func parse(_ text: String) throws(ConfigErrors) -> WardenConfig {
        try ConfigLoader.parse(text, file: "warden.toml", registrations: BuiltinPolicies.all)
    }

    @Test func theDevelopmentConfigIsValid() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/warden.dev.toml").path
        let config = try ConfigLoader.load(path: path, registrations: BuiltinPolicies.all)
        #expect(config.socket.hasSuffix("/.warden/run/warden.sock"))
        #expect(config.socket.hasPrefix("/"))
        #expect(config.warnBefore == [.hours(4), .hours(1)])
        #expect(config.zone.identifier == "Asia/Shanghai")
    }

    @Test func defaultsApplyWhenKeysAreMissing() throws {
        let config = try parse("")
        #expect(config.socket == "/run/warden/warden.sock")
        #expect(config.spoolDir == "/var/spool/warden")
        #expect(config.stateDir == "/var/lib/warden")
        #expect(config.maxFileSize == 64 << 20)
        #expect(config.maxLine == 1 << 20)
    }

    @Test func everyErrorIsReportedWithItsLineAndKey() {
        let text = """
            [daemon]
            socket = "/tmp/x.sock"
            timezone = "Mars/Olympus"
            colour = "blue"

            [deadlines]
            warn_before = ["4h", "soon"]

            [policies.kitchen-appliances]
            compensation = "ten yuan"
            """
        do {
            _ = try parse(text)
            Issue.record("accepted an invalid config")
        } catch {
            let found = error.errors.map { "\($0.line ?? 0) \($0.key ?? "")" }
            #expect(found.contains("3 daemon.timezone"))
            #expect(found.contains("4 daemon.colour"))
            #expect(found.contains("7 deadlines.warn_before"))
            #expect(found.contains("10 policies.kitchen-appliances.compensation"))
            #expect(error.description.contains("warning.toml") == false)
            #expect(error.description.contains("warden.toml:10: policies.kitchen-appliances.compensation"))
        }
    }

    @Test func aSyntaxErrorNamesItsLine() {
        do {
            _ = try parse("[daemon]\nsocket = \"unterminated\n")
            Issue.record("accepted broken TOML")
        } catch {
            #expect(error.errors.first?.line == 2)
        }
    }

    @Test func anUnknownPolicyIsAnError() {
        #expect(throws: ConfigErrors.self) { try parse("[policies.jewellery]\nenabled = true\n") }
    }
}
