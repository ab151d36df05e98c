import WardenCore
import WardenRPC
import WardenStore

/// Live delivery of stored events to the connections that called `event.subscribe`.
///
/// Fed by `Engine.onEvents` after each commit. Trusts: the engine to hand over committed
/// events only. Refuses to wait for anyone: `publish` serializes each event once and
/// queues it on every matching subscriber's feed (a bounded queue per connection); a
/// subscriber whose queue is full gets one `lagged` event and is unsubscribed, so a client
/// that stops reading never slows the daemon or other clients.
///
/// Subscribing with `since` replays stored events first, without gap or duplicate: the
/// subscriber is registered (buffering live events) before the store is read, the replay
/// runs up to the `seq` that was current then, and the buffered live events after that
/// `seq` follow.
public final class EventBus: Sendable {
    /// The topics a client may subscribe to (SPEC.md §4).
    public static let topics = [
        "case.opened", "case.changed", "deadline.warning", "deadline.expired", "ledger.entry", "finding.new", "spool.rejected",
        "plugin.error",
    ]
    /// Events queued per subscriber before it counts as lagging.
    public static let queueCapacity = 1024

    let clock: any WardenClock
    let zone: @Sendable () -> Zone
    let capacity: Int
    let subscribers = Locked<[ObjectIdentifier: Subscriber]>([:])

    /// `clock` dates `lagged` notices; `zone` (read at each publish) formats event times.
    public init(clock: any WardenClock, capacity: Int = EventBus.queueCapacity, zone: @escaping @Sendable () -> Zone) {
        self.clock = clock
        self.capacity = capacity
        self.zone = zone
    }

    /// One `event.subscribe`.
    public final class Subscriber: Sendable {
        enum Phase {
            /// Replaying: live events wait here (at most `capacity`; beyond, counted).
            case buffering([(StoredEvent, RPCNotification, foreign: Bool)], overflow: Int)
            /// Live: this node's events after `after` go to the feed, and other nodes'
            /// events that the replay did not deliver (`replayed`), whatever their `seq`.
            case live(after: Int64, replayed: Set<Int64>)
            case ended
        }

        /// The topics it asked for.
        public let topics: Set<String>
        /// Its connection's bounded queue.
        public let feed: RPCFeed
        let phase = Locked(Phase.buffering([], overflow: 0))

        init(topics: Set<String>, feed: RPCFeed) {
            self.topics = topics
            self.feed = feed
        }
    }

    /// Subscriptions currently registered (for tests and status).
    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    /// Registers a subscriber that buffers live events until `goLive`.
    public func subscribe(topics: Set<String>, feed: RPCFeed) -> Subscriber {
        let subscriber = Subscriber(topics: topics, feed: feed)
        let key = ObjectIdentifier(subscriber)
        subscribers.withLock { $0[key] = subscriber }
        // Runs under the subscriber's lock when the feed overflows: touch only the table.
        feed.onEnd { [weak self] in
            self?.subscribers.withLock { _ = $0.removeValue(forKey: key) }
        }
        return subscriber
    }

    /// Ends a subscription (its feed ends too).
    public func unsubscribe(_ subscriber: Subscriber) {
        subscriber.phase.value = .ended
        subscriber.feed.end()
        subscribers.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(subscriber)) }
    }

    /// After the replay up to `seq`: deliver the buffered live events after it, then live.
    /// If the buffer overflowed meanwhile, the subscriber gets `lagged` instead.
    ///
    /// On a database other nodes share, their events reach this node after they commit,
    /// and a `seq` is taken before commit: another node's event can come with a `seq`
    /// below `seq` and still be new to this subscriber (its transaction was open when
    /// the replay read the table). Such events are delivered unless the replay
    /// delivered that `seq` itself (`replayed`).
    public func goLive(_ subscriber: Subscriber, after seq: Int64, replayed: Set<Int64> = []) {
        subscriber.phase.withLock { phase in
            guard case .buffering(let buffered, let overflow) = phase else { return }
            if overflow > 0 {
                let dropped = buffered.filter { $0.0.seq > seq }.count + overflow
                phase = .ended
                subscriber.feed.finish(method: "event") { _, _ in self.lagged(dropped: dropped, resumeSince: seq) }
                return
            }
            phase = .live(after: seq, replayed: replayed)
            for (event, notification, foreign) in buffered where Self.isNew(event.seq, foreign: foreign, after: seq, replayed: replayed) {
                if !deliver(notification, to: subscriber, floor: seq, phase: &phase) { return }
            }
        }
    }

    /// Whether a live event is one the subscriber has not had: this node's events come
    /// in `seq` order, so those after `after`; another node's, any the replay did not
    /// deliver.
    public static func isNew(_ seq: Int64, foreign: Bool, after: Int64, replayed: Set<Int64>) -> Bool {
        foreign ? !replayed.contains(seq) : seq > after
    }

    /// Replayed `seq`s remembered for `goLive`, the most recent ones: another node's
    /// transaction open while this many events were written is not told apart.
    static let replayedKept = 100_000

    /// `Engine.onEvents`: committed events, in `seq` order (`foreign`: other nodes'
    /// events, in their commit order, from `ClusterService`). Never blocks.
    public func publish(_ events: [StoredEvent], foreign: Bool = false) {
        let current = subscribers.withLock { Array($0.values) }
        guard !current.isEmpty, !events.isEmpty else { return }
        let zone = self.zone()
        var notifications: [RPCNotification?] = Array(repeating: nil, count: events.count)
        for subscriber in current {
            for (i, event) in events.enumerated() where subscriber.topics.contains(event.topic) {
                if notifications[i] == nil {
                    notifications[i] = RPCNotification(method: "event", params: event.json(in: zone), tag: event.seq)
                }
                offer(event, notifications[i]!, foreign: foreign, to: subscriber)
            }
        }
    }

    func offer(_ event: StoredEvent, _ notification: RPCNotification, foreign: Bool = false, to subscriber: Subscriber) {
        subscriber.phase.withLock { phase in
            switch phase {
            case .buffering(var buffered, let overflow):
                if buffered.count >= capacity {
                    phase = .buffering(buffered, overflow: overflow + 1)
                } else {
                    phase = .buffering([], overflow: 0)  // release the array before appending (no copy)
                    buffered.append((event, notification, foreign))
                    phase = .buffering(buffered, overflow: overflow)
                }
            case .live(let after, let replayed):
                guard Self.isNew(event.seq, foreign: foreign, after: after, replayed: replayed) else { return }
                _ = deliver(notification, to: subscriber, floor: after, phase: &phase)
            case .ended:
                return
            }
        }
    }

    /// Queues on the feed; on overflow the feed ends with a `lagged` event. False when the
    /// subscription is over.
    private func deliver(_ notification: RPCNotification, to subscriber: Subscriber, floor: Int64, phase: inout Subscriber.Phase) -> Bool {
        let result = subscriber.feed.push(notification) { dropped, lastTag in
            ("event", self.lagged(dropped: dropped, resumeSince: lastTag ?? floor))
        }
        switch result {
        case .queued: return true
        case .overflowed, .ended:
            phase = .ended
            return false
        }
    }

    /// `{"topic": "lagged", "dropped": N, "resume_since": seq, "at": …}`: subscribe again
    /// with `since` = `resume_since` to get what was missed from the store.
    func lagged(dropped: Int, resumeSince: Int64) -> JSON {
        ["topic": "lagged", "dropped": JSON(dropped), "resume_since": JSON(resumeSince), "at": .string(TimeFormat.format(clock.now(), in: zone()))]
    }

    // MARK: - Replay

    /// Stored events after `since` up to `upTo`, in pages, each written before the next is
    /// read (paced by the client); then live. Ends the subscription if the client goes away
    /// or the store fails.
    public func replay(_ subscriber: Subscriber, store: Store, since: Int64, upTo current: Int64, page: Int = 500) async -> Bool {
        var after = since
        var replayed = Set<Int64>()
        let zone = self.zone()
        let topics = subscriber.topics
        while after < current {
            let rows: [(seq: Int64, topic: String, at: Timestamp, body: String)]
            do {
                rows = try store.read { try $0.events(after: after, topics: topics, limit: page) }
            } catch {
                unsubscribe(subscriber)
                return false
            }
            let batch = rows.filter { $0.seq <= current }.map { row -> RPCNotification in
                let body = (try? JSONParser.parse(row.body))?.object ?? JSONObject()
                return RPCNotification(method: "event", params: StoredEvent(seq: row.seq, topic: row.topic, at: row.at, body: body).json(in: zone), tag: row.seq)
            }
            guard !batch.isEmpty else { break }
            guard await subscriber.feed.send(batch) else {
                unsubscribe(subscriber)
                return false
            }
            after = rows.last!.seq
            if store.node != nil {
                for row in rows where row.seq <= current { replayed.insert(row.seq) }
                if replayed.count > Self.replayedKept { replayed = Set(replayed.sorted().suffix(Self.replayedKept / 2)) }
            }
            if rows.count < page { break }
        }
        goLive(subscriber, after: current, replayed: replayed)
        return true
    }
}
