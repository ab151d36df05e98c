import CWardenSys
import Synchronization
import WardenCore

#if canImport(Glibc)
import Glibc
#endif

/// Watches a directory with inotify (`IN_MOVED_TO`, `IN_CLOSE_WRITE`), queues the names
/// the events carry, in arrival order, and signals. `IN_Q_OVERFLOW` (the kernel dropped
/// events) is kept as a flag: the spool loop then lists the directory. Events are only a
/// hint: the loop also lists the directory at start-up and on a slow timer, so a lost
/// event delays nothing past the next scan, and a queued name that is gone is skipped.
/// `IN_CREATE` sets the same flag rather than queueing the name: a regular file created in
/// place may still be being written (its `IN_CLOSE_WRITE` names it when done), while a
/// symlink, FIFO or hard link made there gets no other event and is found by the listing.
///
/// Runs one thread that sleeps in `poll` on the inotify descriptor and a pipe that
/// `stop()` writes to: it wakes for events and for the stop, never on a timer.
public final class InotifyWatcher: Sendable {
    private let fd: Int32
    /// The pipe `stop()` wakes the thread through: read end, write end.
    private let wake: (read: Int32, write: Int32)
    private let stopped = Locked(false)
    private let finished = AsyncSignal()
    private let queue = Locked<Arrivals>(Arrivals())

    /// Names queued since the last `take()`, and whether events were lost meanwhile.
    public struct Arrivals: Sendable {
        public var names: [String] = []
        public var mustList = false
        public init() {}

        /// Nothing known: the directory must be listed.
        public static var lost: Arrivals {
            var a = Arrivals()
            a.mustList = true
            return a
        }
    }

    /// At most this many names are queued; past it the queue is dropped and the directory
    /// listed instead, so a flood cannot grow it without bound.
    public static let maxQueued = 1 << 16

    /// How long the thread waits after the first event before reading, in microseconds.
    static let gather: UInt32 = 1000

    public init(path: String, signal: AsyncSignal) throws {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw SpoolError.io(path: path, errno: errno) }
        let mask = UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_CREATE) | UInt32(IN_ONLYDIR)
        guard inotify_add_watch(fd, path, mask) >= 0 else {
            let e = errno
            close(fd)
            throw SpoolError.io(path: path, errno: e)
        }
        var ends: [Int32] = [-1, -1]
        guard warden_pipe_cloexec(&ends) == 0 else {
            let e = errno
            close(fd)
            throw SpoolError.io(path: path, errno: e)
        }
        wake = (ends[0], ends[1])
        let fd = self.fd
        let wake = self.wake
        let stopped = self.stopped
        let finished = self.finished
        let queue = self.queue
        let thread = OSThread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var pfds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            while !stopped.withLock({ $0 }) {
                let ready = poll(&pfds, 2, -1)
                guard ready > 0, pfds[0].revents != 0 else { continue }
                // Let a burst gather: one wake-up per millisecond at most instead of one
                // per file (each costs two context switches; the spool loop batches
                // anyway).
                usleep(Self.gather)
                var any = false
                while true {
                    let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    any = true
                    let events = Self.parse(buffer[..<n])
                    queue.withLock { q in
                        if events.mustList || q.names.count + events.names.count > Self.maxQueued {
                            q.mustList = true
                            q.names.removeAll()
                        } else if !q.mustList {
                            q.names += events.names
                        }
                    }
                }
                if any { signal.signal() }
            }
            close(fd)
            close(wake.read)
            close(wake.write)
            finished.signal()
        }
        thread.name = "warden-inotify"
        do {
            try thread.start()
        } catch {
            close(fd)
            close(wake.read)
            close(wake.write)
            throw SpoolError.io(path: path, errno: EAGAIN)
        }
    }

    /// The names queued so far (and whether events were lost); empties the queue.
    public func take() -> Arrivals {
        queue.withLock { q in
            defer { q = Arrivals() }
            return q
        }
    }

    /// Decodes a buffer of `struct inotify_event`s.
    public static func parse(_ bytes: ArraySlice<UInt8>) -> Arrivals {
        var arrivals = Arrivals()
        let header = MemoryLayout<inotify_event>.size
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + header <= raw.count {
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                if mask & UInt32(IN_Q_OVERFLOW) != 0 { arrivals.mustList = true }
                if mask & UInt32(IN_CREATE) != 0 {
                    if mask & UInt32(IN_ISDIR) == 0 { arrivals.mustList = true }
                    offset += header + length
                    continue
                }
                // A directory moved in is not a spool file (the listing skips them too).
                if length > 0, offset + header + length <= raw.count, mask & UInt32(IN_ISDIR) == 0 {
                    let name = raw[(offset + header)..<(offset + header + length)].prefix(while: { $0 != 0 })
                    if let text = String(validating: name, as: UTF8.self) {
                        if !text.isEmpty { arrivals.names.append(text) }
                    } else {
                        arrivals.mustList = true  // not UTF-8: the listing rejects it by its bytes
                    }
                }
                offset += header + length
            }
        }
        return arrivals
    }

    /// Stops the thread and closes the descriptor.
    public func stop() async {
        stopped.withLock { $0 = true }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        await finished.wait()
    }
}
