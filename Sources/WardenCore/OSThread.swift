import CWardenSys
#if canImport(Glibc)
import Glibc
#endif

/// A detached POSIX thread running one closure (in place of Foundation's `Thread`, which
/// only full Foundation has). Used for the few loops that must block outside the
/// concurrency pool: inotify, the spool's parse-ahead reader, reaping a plugin.
///
/// Refuses nothing; if the system cannot create a thread (`EAGAIN`: out of threads or
/// memory) `start` reports it and the caller decides.
public final class OSThread: @unchecked Sendable {
    // @unchecked: `name` is set before `start` and read only by the new thread.
    let body: @Sendable () -> Void
    /// The thread's name as `ps`/`top` show it (the first 15 bytes).
    public var name: String?

    public init(block: @escaping @Sendable () -> Void) {
        self.body = block
    }

    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts the thread (detached: it ends when the closure returns).
    public func start() throws(Error) {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        let box = Unmanaged.passRetained(self).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, &attr, { argument in
            let thread = Unmanaged<OSThread>.fromOpaque(argument!).takeRetainedValue()
            if let name = thread.name { warden_set_thread_name(name) }
            thread.body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<OSThread>.fromOpaque(box).release()
            throw Error(description: "cannot start a thread: \(String(cString: strerror(rc)))")
        }
    }
}

/// A mutex with a condition variable (in place of Foundation's `NSCondition`): `lock`,
/// `wait` (releases the lock while waiting), `signal`/`broadcast`, `unlock`.
public final class ConditionLock: @unchecked Sendable {
    // @unchecked: the pthread objects are used only through their own locking.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }
    /// Waits for a signal; call with the lock held (it is held again on return).
    public func wait() { pthread_cond_wait(cond, mutex) }
    public func signal() { pthread_cond_signal(cond) }
    public func broadcast() { pthread_cond_broadcast(cond) }
}
