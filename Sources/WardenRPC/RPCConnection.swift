import NIOCore
import WardenCore

/// One client connection as the methods see it: who is on the other end (from
/// `SO_PEERCRED`, read once when it connects) and a way to push notifications to it.
///
/// A connection carries at most one feed (subscription) at a time; it ends when it
/// overflows, when the method ends it, or when the connection closes.
public final class RPCConnection: Sendable {
    public let peer: PeerCredentials?
    let channel: any Channel
    let feed = Locked<RPCFeed?>(nil)
    let closed = Locked(false)

    init(channel: any Channel, peer: PeerCredentials?) {
        self.channel = channel
        self.peer = peer
    }

    /// Opens a feed with a queue of `capacity` notifications; nil when one is already open
    /// on this connection or the connection has closed.
    public func openFeed(capacity: Int) -> RPCFeed? {
        let opened = RPCFeed(channel: channel, capacity: capacity)
        let ok = feed.withLock { current -> Bool in
            if let current, !current.hasEnded { return false }
            if closed.value { return false }
            current = opened
            return true
        }
        guard ok else { return nil }
        opened.onEnd { [weak self] in
            self?.feed.withLock { if $0 === opened { $0 = nil } }
        }
        return opened
    }

    /// The open feed, if any.
    public var currentFeed: RPCFeed? { feed.value }

    /// Whether the client is still connected.
    public var isOpen: Bool { channel.isActive }

    /// On the event loop, when the connection closed.
    func didClose() {
        closed.value = true
        feed.value?.end()
    }

    /// On the event loop, when the socket takes data again.
    func didBecomeWritable() {
        feed.value?.resume()
    }
}
