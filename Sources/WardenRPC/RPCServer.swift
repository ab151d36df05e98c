import CWardenSys
import Logging
import NIOCore
import NIOPosix
import WardenCore

#if canImport(Glibc)
import Glibc
#endif

/// The line-delimited JSON-RPC 2.0 server on a Unix stream socket.
///
/// Trusts: nothing a client sends. Every line is parsed strictly; a line longer than
/// `maxLine` is answered with `-32600` and the connection closed (the only error that
/// closes a connection). Refuses: more than `maxConnections` connections, more than
/// `maxConnectionsPerUID` from one peer uid, and more than `maxInFlight` unanswered
/// requests on one connection (answered `1006` at once, never queued or buffered without
/// bound). Who may write is the dispatcher's decision, from `SO_PEERCRED`.
///
/// Event loops only frame bytes and run the dispatcher's immediate methods (answers from
/// memory); offloaded methods (store reads) run on a pool of `readers` threads, deferred
/// ones as tasks, and their responses are written back on the connection's loop. Responses carry the
/// request's `id`; with pipelining they may come back in a different order.
public final class RPCServer: Sendable {
    public struct Limits: Sendable {
        public var maxLine: Int
        public var maxConnections: Int
        /// Connections at once from one peer uid (as varlink limits them), so one user's
        /// runaway client leaves room for the others.
        public var maxConnectionsPerUID: Int
        public var maxInFlight: Int
        public init(maxLine: Int = 1 << 20, maxConnections: Int = 1024, maxConnectionsPerUID: Int? = nil, maxInFlight: Int = 128) {
            self.maxLine = maxLine
            self.maxConnections = maxConnections
            self.maxConnectionsPerUID = maxConnectionsPerUID ?? maxConnections
            self.maxInFlight = maxInFlight
        }
    }

    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var perUID: [uid_t: Int] = [:]
        var tasksInFlight = 0
        var accepting = true
    }

    let dispatcher: any RPCDispatcher
    let limits: Limits
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    /// Runs offloaded work (store reads), one thread per core by default.
    let readers: NIOThreadPool
    let state = Locked(State())

    public init(dispatcher: any RPCDispatcher, limits: Limits = Limits(), logger: Logger, threads: Int = System.coreCount, readers: Int = System.coreCount) {
        self.dispatcher = dispatcher
        self.limits = limits
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        self.readers = NIOThreadPool(numberOfThreads: max(1, readers))
        self.readers.start()
    }

    private var bootstrap: ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            // `echo request | socat` closes its side after sending: keep the channel open
            // until every answer is written (the handler closes it then).
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: 32 * 1024, high: 128 * 1024))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RPCConnectionHandler(server: self))
                }
            }
    }

    /// Binds `path`, replacing a stale socket file but never a live one, and sets its
    /// mode (and group, if given).
    public func bind(path: String, mode: mode_t = 0o660, groupID: gid_t? = nil) async throws {
        var st = stat()
        if lstat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else {
                throw Error(description: "\(path) exists and is not a socket; refusing to replace it")
            }
            if Self.isListening(path) {
                throw Error(description: "another process is already listening on \(path) (is wardend running?)")
            }
            unlink(path)
        }
        let channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
        chmod(path, mode)
        if let groupID { chown(path, uid_t.max, groupID) }
        state.withLock { $0.serverChannel = channel }
    }

    /// Adopts a listening socket handed over by the service manager (socket activation).
    public func adopt(descriptor: Int32) async throws {
        let channel = try await bootstrap.withBoundSocket(descriptor).get()
        state.withLock { $0.serverChannel = channel }
    }

    /// Waits until the listening socket is closed.
    public func waitUntilClosed() async throws {
        guard let channel = state.withLock({ $0.serverChannel }) else { return }
        try await channel.closeFuture.get()
    }

    /// Graceful stop: stop accepting, let requests in flight finish (up to `grace`),
    /// then close every connection and the event loops.
    public func shutdown(grace: Duration = .seconds(5)) async {
        let server = state.withLock { s -> (any Channel)? in
            s.accepting = false
            return s.serverChannel
        }
        try? await server?.close()
        let start = ContinuousClock.now
        while state.withLock({ $0.tasksInFlight }) > 0 && ContinuousClock.now - start < grace {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let connections = state.withLock { Array($0.connections.values) }
        for c in connections { try? await c.close() }
        try? await readers.shutdownGracefully()
        try? await group.shutdownGracefully()
    }

    /// Whether every event loop runs a no-op within `timeout` (for the watchdog).
    public func eventLoopsRespond(within timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            for loop in self.group.makeIterator() {
                group.addTask {
                    let done = Locked(false)
                    loop.execute { done.value = true }
                    let start = ContinuousClock.now
                    while ContinuousClock.now - start < timeout {
                        if done.value { return true }
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                    return done.value
                }
            }
            var all = true
            for await ok in group { all = all && ok }
            return all
        }
    }

    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Why a connection is refused, or nil when it is registered.
    func register(_ channel: any Channel, uid: uid_t?) -> String? {
        state.withLock { s in
            guard s.accepting else { return "the daemon is stopping" }
            guard s.connections.count < limits.maxConnections else { return "too many connections (limit \(limits.maxConnections))" }
            if let uid {
                guard s.perUID[uid, default: 0] < limits.maxConnectionsPerUID else {
                    return "too many connections from uid \(uid) (limit \(limits.maxConnectionsPerUID) per uid)"
                }
                s.perUID[uid, default: 0] += 1
            }
            s.connections[ObjectIdentifier(channel)] = channel
            return nil
        }
    }

    func unregister(_ channel: any Channel, uid: uid_t?) {
        state.withLock { s in
            s.connections[ObjectIdentifier(channel)] = nil
            if let uid, let n = s.perUID[uid] { s.perUID[uid] = n > 1 ? n - 1 : nil }
        }
    }

    func taskStarted() { state.withLock { $0.tasksInFlight += 1 } }
    func taskFinished() { state.withLock { $0.tasksInFlight -= 1 } }

    static func isListening(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return warden_unix_connect(fd, path) == 0
    }
}
