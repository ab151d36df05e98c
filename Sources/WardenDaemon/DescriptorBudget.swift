#if canImport(Glibc)
import Glibc
#endif

/// File descriptors as a budget: the soft limit is raised to the hard limit at start
/// (as systemd recommends for programs that do not use `select(2)`; wardend uses epoll),
/// and the socket's connection cap is derived from what is left after a reserve for
/// everything else the daemon keeps open.
///
/// The reserve (`reserve`, 256) covers: the SQLite writer and readers (each a database,
/// a WAL and a shared-memory file), the spool (incoming/ and the file in hand, the
/// inotify descriptor, the files-in-hand record), journald and sd_notify sockets, the
/// event loops' epoll and eventfd descriptors, and external policy modules (three pipes
/// each). Connections beyond the cap are refused at once with an answer, so a flood of
/// clients can never take the descriptors the spool and the store need ("Too many open
/// files" would pause the spool and hang new clients).
///
/// Trusts: getrlimit(2). Refuses: nothing; when the limit cannot be raised it works
/// within the soft limit and says so.
public enum DescriptorBudget {
    /// Descriptors kept back from the connection cap for the rest of the daemon.
    public static let reserve = 256
    /// The smallest connection cap derived, however low the limit.
    public static let minimumConnections = 16

    public struct Limits: Sendable, Equatable {
        /// The soft limit before and after raising it.
        public var before: Int
        public var soft: Int
        public var hard: Int
        /// Why the soft limit could not be raised, if it could not.
        public var error: String?
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit (an unlimited hard limit is taken
    /// as the kernel's `fs.nr_open`).
    public static func raise() -> Limits {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            return Limits(before: 1024, soft: 1024, hard: 1024, error: "getrlimit: \(String(cString: strerror(errno)))")
        }
        let before = clampToInt(limit.rlim_cur)
        var target = limit.rlim_max
        if target == rlim_t.max { target = rlim_t(nrOpen() ?? 1_048_576) }
        guard target > limit.rlim_cur else {
            return Limits(before: before, soft: before, hard: clampToInt(limit.rlim_max), error: nil)
        }
        var raised = limit
        raised.rlim_cur = target
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) != 0 {
            return Limits(before: before, soft: before, hard: clampToInt(limit.rlim_max), error: "setrlimit: \(String(cString: strerror(errno)))")
        }
        return Limits(before: before, soft: clampToInt(target), hard: clampToInt(limit.rlim_max), error: nil)
    }

    /// The connection cap the descriptor limit allows.
    public static func connectionCap(softLimit: Int) -> Int {
        max(minimumConnections, softLimit - reserve)
    }

    /// The default per-uid cap: a quarter of the connections (as varlink does), so one
    /// user's runaway client leaves room for the others.
    public static func perUIDCap(connections: Int) -> Int {
        max(1, connections / 4)
    }

    static func clampToInt(_ v: rlim_t) -> Int {
        v == rlim_t.max || v > rlim_t(Int.max) ? Int.max : Int(v)
    }

    static func nrOpen() -> Int? {
        let fd = open("/proc/sys/fs/nr_open", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return Int(String(decoding: buffer[..<n], as: UTF8.self).filter(\.isNumber))
    }
}
