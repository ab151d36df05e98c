import Foundation
import Synchronization
import WardenCore

#if canImport(Glibc)
import Glibc
#endif

/// Watches a directory with inotify (`IN_MOVED_TO`, `IN_CLOSE_WRITE`) and signals on any
/// event, including `IN_Q_OVERFLOW`. Events are only a hint: the spool loop always scans
/// the directory, so a lost or coalesced event delays nothing past the next scan.
///
/// Runs one thread that polls the inotify descriptor with a short timeout so `stop()`
/// returns promptly.
public final class InotifyWatcher: Sendable {
    private let fd: Int32
    private let stopped = Locked(false)
    private let finished = AsyncSignal()

    public init(path: String, signal: AsyncSignal) throws {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw SpoolError.io(path: path, errno: errno) }
        let mask = UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_ONLYDIR)
        guard inotify_add_watch(fd, path, mask) >= 0 else {
            let e = errno
            close(fd)
            throw SpoolError.io(path: path, errno: e)
        }
        let fd = self.fd
        let stopped = self.stopped
        let finished = self.finished
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            while !stopped.withLock({ $0 }) {
                let ready = poll(&pfd, 1, 200)
                guard ready > 0 else { continue }
                var any = false
                while true {
                    let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    any = true
                }
                if any { signal.signal() }
            }
            close(fd)
            finished.signal()
        }
        thread.name = "warden-inotify"
        thread.start()
    }

    /// Stops the thread and closes the descriptor.
    public func stop() async {
        stopped.withLock { $0 = true }
        await finished.wait()
    }
}
