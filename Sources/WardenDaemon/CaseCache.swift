import Synchronization
import WardenCore

/// `case.get` results, serialized, so that a repeated read costs a hash lookup instead of
/// a SQLite read transaction, three queries and a JSON encoding.
///
/// Trusts: whoever wires it to call `invalidateAll()` after every committed write (the
/// engine's commit hook) before anyone can learn of the write (the answer to the writer,
/// the event). Refuses to keep anything older: an entry carries the generation that was
/// current before the store was read, and it is stored only if no commit bumped the
/// generation meanwhile, so a read that raced a write never caches the old state.
///
/// Bounded: at most `capacity` entries (a full shard drops arbitrary entries). Keyed by
/// case id and time zone (a reload may change the zone).
public final class CaseCache: Sendable {
    struct Entry {
        var generation: UInt64
        var zone: String
        var bytes: [UInt8]
    }

    /// One lock per shard, so the event loops rarely wait for each other.
    final class Shard: Sendable {
        let entries = Mutex<[String: Entry]>([:])
    }

    static let shardCount = 16
    let shards: [Shard]
    let perShard: Int
    let generation = Atomic<UInt64>(0)

    public init(capacity: Int = 200_000) {
        shards = (0..<Self.shardCount).map { _ in Shard() }
        perShard = max(1, capacity / Self.shardCount)
    }

    func shard(_ id: String) -> Shard {
        var h: UInt32 = 2_166_136_261
        for b in id.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return shards[Int(h % UInt32(Self.shardCount))]
    }

    /// The generation to pass to `store` for a read that starts now.
    public var current: UInt64 { generation.load(ordering: .acquiring) }

    /// The serialized result for `id`, if cached and still valid.
    public func get(_ id: String, zone: Zone) -> [UInt8]? {
        let now = current
        let zone = zone.identifier
        return shard(id).entries.withLock { entries -> [UInt8]? in
            guard let e = entries[id], e.generation == now, e.zone == zone else { return nil }
            return e.bytes
        }
    }

    /// Keeps `bytes` for `id` unless a write committed since `generation` was read.
    public func store(_ id: String, zone: Zone, bytes: [UInt8], generation read: UInt64) {
        shard(id).entries.withLock { entries in
            guard generation.load(ordering: .acquiring) == read else { return }
            if entries.count >= perShard, entries[id] == nil {
                for _ in 0..<max(1, perShard / 16) where !entries.isEmpty { entries.remove(at: entries.startIndex) }
            }
            entries[id] = Entry(generation: read, zone: zone.identifier, bytes: bytes)
        }
    }

    /// After a write committed: every entry is stale.
    public func invalidateAll() {
        generation.add(1, ordering: .releasing)
    }

    public var count: Int { shards.reduce(0) { $0 + $1.entries.withLock { $0.count } } }
}
