import CWardenSys

#if canImport(Glibc)
import Glibc
import WardenCore
#endif

/// `sd_notify(3)` without libsystemd: one datagram to `$NOTIFY_SOCKET` per state change.
/// Does nothing when not run by systemd (no `NOTIFY_SOCKET`).
public struct SystemdNotifier: Sendable {
    let path: String?

    public init(environment: [String: String] = SystemIO.environment()) {
        path = environment["NOTIFY_SOCKET"]
    }

    public var isActive: Bool { path != nil }

    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let path else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        var length = socklen_t(0)
        guard warden_unix_address(path, &addr, &length) == 0 else { return false }  // "@…" is abstract
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &addr) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        return sent == message.count
    }

    /// Listening sockets passed by socket activation (`LISTEN_PID`/`LISTEN_FDS`), as
    /// `sd_listen_fds(3)` reads them; the variables are then unset so children do not
    /// inherit them.
    public static func listenDescriptors() -> [Int32] {
        let env = SystemIO.environment()
        guard let pid = env["LISTEN_PID"].flatMap(Int32.init), pid == getpid(),
            let count = env["LISTEN_FDS"].flatMap(Int32.init), count > 0
        else { return [] }
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        return (0..<count).map { 3 + $0 }
    }
}
