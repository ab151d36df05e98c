import Foundation
import Logging
import WardenCore
import Testing
import WardenDaemon
import WardenLogging

@Suite("systemd integration (unit level)")
struct SystemdIntegrationTests {
    @Test(arguments: [("warden.case_id", "WARDEN_CASE_ID"), ("warden.event", "WARDEN_EVENT"), ("sl.service-name", "WARDEN_SL_SERVICE_NAME"), ("warden.peer_uid", "WARDEN_PEER_UID"), ("Warden.x-9", "WARDEN_WARDEN_X_9"), ("straße", "WARDEN_STRASSE"), ("café", "WARDEN_CAF_")])
    func journalFieldNames(key: String, field: String) {
        #expect(JournaldLogHandler.fieldName(key) == field)
    }

    @Test func stderrLines() {
        let table: [(Logger.Level, String, Logger.Metadata, Bool, String)] = [
            (.error, "Deadline expired", ["warden.case_id": "C1", "warden.event": "deadline.expired"], true,
             "<3>Deadline expired warden.case_id=C1 warden.event=deadline.expired\n"),
            (.warning, "odd values", ["b": "two words", "a": "", "c": "x=y", "d": "say \"hi\"\\", "e": "l1\nl2", "f": "a\u{2028}b", "g": "价格\u{85}", "h": "\r"], false,
             "warning: odd values a=\"\" b=\"two words\" c=\"x=y\" d=\"say \\\"hi\\\"\\\\\" e=\"l1\\nl2\" f=\"a\u{2028}b\" g=\"价格\u{85}\" h=\"\r\"\n"),
            (.info, "plain", ["n": .stringConvertible(42), "list": ["a", "b"], "s": "价格", "t": "\u{2027}\u{C2}"], true, "<6>plain list=\"[\\\"a\\\", \\\"b\\\"]\" n=42 s=价格 t=\u{2027}\u{C2}\n"),
        ]
        for (level, message, metadata, prefix, line) in table {
            #expect(String(decoding: StderrLogHandler.line(level: level, message: message, metadata: metadata, priorityPrefix: prefix), as: UTF8.self) == line)
        }
    }

    @Test func watchdogIntervalIsHalfTheTimeoutForThisProcessOnly() {
        #expect(SystemdService.watchdogInterval(["WATCHDOG_USEC": "30000000"]) == .seconds(15))
        #expect(SystemdService.watchdogInterval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"]) == .seconds(15))
        #expect(SystemdService.watchdogInterval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"]) == nil)
        #expect(SystemdService.watchdogInterval([:]) == nil)
        #expect(SystemdService.heartbeat(["WATCHDOG_USEC": "30000000"]) == .seconds(7) + TimeSpan(milliseconds: 500))
    }

    @Test func everyCataloguedEventHasAStableMessageID() {
        #expect(Set(MessageIDs.byEvent.keys) == ["case.opened", "deadline.warning", "deadline.expired", "ledger.entry", "spool.rejected", "spool.quarantined", "config.reloaded", "config.invalid", "plugin.error", "plugin.failed"])
        #expect(MessageIDs.byEvent.values.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }

    @Test func notifierSendsDatagramsToNotifySocket() throws {
        let path = NSTemporaryDirectory() + "/warden-notify-\(getpid()).sock"
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd); unlink(path) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": path]).notify("READY=1\nSTATUS=ok"))
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(n > 0)
        #expect(String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self) == "READY=1\nSTATUS=ok")
        #expect(SystemdNotifier(environment: [:]).notify("READY=1") == false)
    }
}
