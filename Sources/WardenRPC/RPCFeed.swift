import NIOCore
import WardenCore

/// A stream of notifications to one connection (an `event.subscribe`), with a bounded queue.
///
/// `push` never blocks and never waits for the client: it appends to the queue and asks
/// the connection's event loop to write. The loop writes while the socket takes data (NIO's
/// write-buffer watermarks); a client that does not read lets the queue fill. When a push
/// finds the queue full, the queued notifications are dropped, one overflow notice (built
/// by the caller: the `lagged` event) takes their place, and the feed ends. The connection
/// stays open; the client may subscribe again.
public final class RPCFeed: Sendable {
    public enum PushResult: Sendable, Equatable {
        case queued
        /// The queue was full: `dropped` notifications (the queued ones and this one) will
        /// never be written; the overflow notice was queued and the feed has ended.
        case overflowed(dropped: Int)
        /// The feed had already ended (overflow, unsubscribed, connection closed).
        case ended
    }

    struct State {
        var queue = CircularBuffer<RPCNotification>(initialCapacity: 16)
        var ended = false
        var draining = false
        /// The socket stopped taking data; `resume()` (writability) restarts the drain.
        var blocked = false
        var lastTag: Int64?
        var onEnd: [@Sendable () -> Void] = []
    }

    /// Notifications the queue holds before a push overflows it.
    public let capacity: Int
    let channel: any Channel
    let state = Locked(State())

    init(channel: any Channel, capacity: Int) {
        self.channel = channel
        self.capacity = max(1, capacity)
    }

    /// Whether the feed ended (overflow, `end`, `finish`, the connection closed).
    public var hasEnded: Bool { state.withLock { $0.ended } }

    /// The tag of the last notification handed to the socket.
    public var lastTag: Int64? { state.withLock { $0.lastTag } }

    /// Runs `body` once when the feed ends (at once if it already has).
    public func onEnd(_ body: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            if s.ended { return true }
            s.onEnd.append(body)
            return false
        }
        if now { body() }
    }

    /// Queues a notification. On overflow, `overflow(dropped, lastTag)` builds the one
    /// notice the client gets instead (`lastTag`: the tag of the last notification written).
    @discardableResult
    public func push(
        _ notification: RPCNotification, overflow: (_ dropped: Int, _ lastTag: Int64?) -> (method: String, params: JSON)
    ) -> PushResult {
        var ended: [@Sendable () -> Void] = []
        let (result, schedule) = state.withLock { s -> (PushResult, Bool) in
            if s.ended { return (.ended, false) }
            var result = PushResult.queued
            if s.queue.count >= capacity {
                let dropped = s.queue.count + 1
                s.queue.removeAll(keepingCapacity: false)
                let notice = overflow(dropped, s.lastTag)
                s.queue.append(RPCNotification(method: notice.method, params: notice.params, tag: nil, force: true))
                s.ended = true
                ended = s.onEnd
                s.onEnd = []
                result = .overflowed(dropped: dropped)
            } else {
                s.queue.append(notification)
            }
            let schedule = !s.draining && (!s.blocked || result != .queued)
            if schedule { s.draining = true }
            return (result, schedule)
        }
        if schedule { channel.eventLoop.execute { self.drain() } }
        for body in ended { body() }
        return result
    }

    /// Writes notifications straight away (not through the queue) and waits until the
    /// socket took them: for replaying stored events before going live, paced by the
    /// client. False if the feed ended or the connection closed.
    public func send(_ batch: [RPCNotification]) async -> Bool {
        guard !batch.isEmpty else { return !hasEnded }
        guard !hasEnded, channel.isActive else { return false }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let channel = self.channel
        channel.eventLoop.execute {
            for n in batch.dropLast() { channel.write(n.line, promise: nil) }
            channel.writeAndFlush(batch.last!.line, promise: promise)
        }
        do {
            try await promise.futureResult.get()
        } catch {
            return false
        }
        if let tag = batch.last(where: { $0.tag != nil })?.tag { state.withLock { $0.lastTag = tag } }
        return !hasEnded
    }

    /// Ends the feed with a last notice (written even if the client is not reading);
    /// what is still queued is dropped. Returns how many were dropped.
    @discardableResult
    public func finish(method: String, params: (_ dropped: Int, _ lastTag: Int64?) -> JSON) -> Int {
        var ended: [@Sendable () -> Void] = []
        let (dropped, schedule) = state.withLock { s -> (Int, Bool) in
            guard !s.ended else { return (0, false) }
            let dropped = s.queue.count
            s.queue.removeAll(keepingCapacity: false)
            s.queue.append(RPCNotification(method: method, params: params(dropped, s.lastTag), tag: nil, force: true))
            s.ended = true
            ended = s.onEnd
            s.onEnd = []
            let schedule = !s.draining
            s.draining = true
            return (dropped, schedule)
        }
        if schedule { channel.eventLoop.execute { self.drain() } }
        for body in ended { body() }
        return dropped
    }

    /// Ends the feed: nothing queued is written any more.
    public func end() {
        let ended = state.withLock { s -> [@Sendable () -> Void] in
            guard !s.ended else { return [] }
            s.ended = true
            s.queue.removeAll()
            defer { s.onEnd = [] }
            return s.onEnd
        }
        for body in ended { body() }
    }

    /// On the event loop: write what is queued while the socket takes it.
    func drain() {
        var wrote = false
        while true {
            let next = state.withLock { s -> RPCNotification? in
                guard let first = s.queue.first else {
                    s.draining = false
                    return nil
                }
                guard first.force || channel.isWritable else {
                    s.draining = false
                    s.blocked = true
                    return nil
                }
                s.queue.removeFirst()
                if let tag = first.tag { s.lastTag = tag }
                return first
            }
            guard let next else { break }
            channel.write(next.line, promise: nil)
            wrote = true
        }
        if wrote { channel.flush() }
    }

    /// On the event loop, when the socket takes data again.
    func resume() {
        let go = state.withLock { s -> Bool in
            s.blocked = false
            guard !s.draining, !s.queue.isEmpty else { return false }
            s.draining = true
            return true
        }
        if go { drain() }
    }
}
