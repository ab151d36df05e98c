import WardenCore

#if canImport(Glibc)
import Glibc
#endif

/// Which spool files the daemon is working on, kept in `state_dir/spool-in-hand.json`,
/// so that a file that crashes the daemon is quarantined instead of crashing it at every
/// start (a daemon that dies in a loop under systemd).
///
/// The spool writes the names it is about to read, parse and commit before it touches
/// them (`begin`), and clears them when the pass is over (`end`). A start that finds
/// names still there knows the last stop was unclean while they were in hand, and counts
/// it against each of them (`recover`). A file counted once is a suspect: the spool then
/// works on it alone, so that a second crash can only be its own. A file found in hand
/// at two unclean stops is quarantined: moved to `rejected/` with a report saying so.
///
/// Durability: each update is one `pwrite` of the whole document, padded with spaces
/// to the previous length, so it replaces the old one in a single system call; a crash of
/// the daemon, at any instruction, leaves one or the other, and the kernel keeps it. It is
/// deliberately not flushed to the disk (no fsync on the spool's path): only a crash of
/// the process can be blamed on a file, and a power cut that loses the last update costs
/// nothing but a count, never a false quarantine.
///
/// Trusts: its own file in the state directory. Refuses: a file it cannot parse is taken
/// as "nothing in hand" (logged by the caller), never as a reason to quarantine.
public final class FilesInHand: Sendable {
    /// Unclean stops with a file in hand before it is quarantined.
    public static let quarantineAfter = 2

    public let path: String
    private struct State: Sendable {
        var fd: Int32
        /// Unclean stops counted per name (suspects).
        var uncleanStops: [String: Int] = [:]
        /// The document last written (before padding), and the length on disk.
        var last: [UInt8] = []
        var written = 0
    }
    private let state: Locked<State>

    /// What `recover` found from the last stop.
    public struct Recovery: Sendable, Equatable {
        /// Names found in hand at `quarantineAfter` unclean stops: to quarantine.
        public var quarantine: [(name: String, stops: Int)]
        /// Names in hand at one unclean stop: to work on one at a time.
        public var suspects: Set<String>
        /// The file could not be read (it was corrupt); nothing was counted.
        public var unreadable: Bool

        public static func == (a: Recovery, b: Recovery) -> Bool {
            a.quarantine.map(\.name) == b.quarantine.map(\.name) && a.quarantine.map(\.stops) == b.quarantine.map(\.stops)
                && a.suspects == b.suspects && a.unreadable == b.unreadable
        }
    }

    /// Opens (or creates, mode 0600) the file in `stateDir`.
    public init(stateDir: String) throws(SpoolError) {
        path = stateDir + "/spool-in-hand.json"
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: path, errno: errno) }
        state = Locked(State(fd: fd))
    }

    deinit { _ = state.withLock { close($0.fd) } }

    /// Reads what the last stop left: names in hand then had an unclean stop. Counts it
    /// against them and says which to quarantine and which are suspects.
    public func recover() throws(SpoolError) -> Recovery {
        let text = try readAll()
        var recovery = Recovery(quarantine: [], suspects: [], unreadable: false)
        var counts: [String: Int] = [:]
        var inHand: [String] = []
        if !text.allSatisfy({ $0 == 0x20 || $0 == 0x0A }) {
            if case .object(let o)? = try? JSONParser.parse(text), let names = o["in_hand"]?.array, let stops = o["unclean_stops"]?.object {
                inHand = names.compactMap(\.string)
                for (name, value) in stops.pairs { if let n = value.int, n > 0 { counts[name] = n } }
            } else {
                recovery.unreadable = true
            }
        }
        for name in inHand { counts[name, default: 0] += 1 }
        for (name, n) in counts.sorted(by: { $0.key < $1.key }) {
            if n >= Self.quarantineAfter {
                recovery.quarantine.append((name, n))
            } else {
                recovery.suspects.insert(name)
            }
        }
        state.withLock { $0.uncleanStops = counts.filter { $0.value < Self.quarantineAfter } }
        try write(inHand: [])
        return recovery
    }

    /// Whether a name was in hand at an unclean stop (work on it alone).
    public func isSuspect(_ name: String) -> Bool { state.withLock { $0.uncleanStops[name] != nil } }

    /// Records `names` as in hand, before any of them is read.
    public func begin(_ names: [String]) throws(SpoolError) {
        try write(inHand: names)
    }

    /// Nothing is in hand; suspects that `isGone` says left `incoming/` (committed or
    /// rejected) are suspects no more.
    public func end(isGone: (String) -> Bool) throws(SpoolError) {
        state.withLock { s in
            for name in s.uncleanStops.keys where isGone(name) { s.uncleanStops[name] = nil }
        }
        try write(inHand: [])
    }

    private func write(inHand names: [String]) throws(SpoolError) {
        let result: Int32 = state.withLock { s in
            var o = JSONObject()
            o["in_hand"] = .array(names.map(JSON.string))
            o["unclean_stops"] = .object(JSONObject(s.uncleanStops.sorted { $0.key < $1.key }.map { ($0.key, JSON($0.value)) }))
            var bytes = JSONWriter.bytes(.object(o)) + [0x0A]
            if bytes == s.last { return 0 }  // an idle pass: nothing changed
            s.last = bytes
            if bytes.count < s.written { bytes += [UInt8](repeating: 0x20, count: s.written - bytes.count) }
            let n = bytes.withUnsafeBytes { pwrite(s.fd, $0.baseAddress, $0.count, 0) }
            guard n == bytes.count else { return n < 0 ? errno : EIO }
            s.written = bytes.count
            return 0
        }
        if result != 0 { throw .io(path: path, errno: result) }
    }

    private func readAll() throws(SpoolError) -> [UInt8] {
        let (bytes, error): ([UInt8], Int32) = state.withLock { s in
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            var offset: off_t = 0
            while true {
                let n = buffer.withUnsafeMutableBytes { pread(s.fd, $0.baseAddress, $0.count, offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    return (out, errno)
                }
                if n == 0 { break }
                out += buffer[..<n]
                offset += off_t(n)
                if out.count > 64 << 20 { break }  // not ours: far larger than any it writes
            }
            s.written = out.count
            return (out, 0)
        }
        if error != 0 { throw .io(path: path, errno: error) }
        return bytes
    }
}
