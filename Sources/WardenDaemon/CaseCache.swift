import Synchronization
import WardenCore

/// `case.get` results, serialized, so that a repeated read costs a hash lookup instead of
/// a SQLite read transaction, three queries and a JSON encoding.
///
/// Trusts: the engine to report every case a transaction changed (`Engine.onCasesChanged`)
/// after it committed and before anyone can learn of the change (the writer's answer, the
/// events). Refuses to keep anything older: `invalidate` bumps a generation, then drops
/// the entries; a read fills the cache only if no invalidation happened since it started
/// (the generation it read before going to the store is still current, checked under the
/// same lock as the drop), so a read that raced a write never caches the old state.
///
/// Bounded: at most about `capacity` entries (a full shard drops arbitrary entries).
/// Entries remember the time zone they were encoded in (a reload may change it).
public final class CaseCache: Sendable {
    struct Entry {
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
    /// False with capacity 0: nothing is kept (nodes sharing PostgreSQL, whose cases
    /// other nodes change without this one's engine knowing).
    let keeps: Bool
    let generation = Atomic<UInt64>(0)

    /// `capacity`: about how many answers to keep (the benchmark's 100,000 cases fit);
    /// 0 keeps none.
    public init(capacity: Int = 200_000) {
        keeps = capacity > 0
        shards = (0..<Self.shardCount).map { _ in Shard() }
        perShard = max(1, capacity / Self.shardCount)
    }

    func shard(_ id: String) -> Shard {
        var h: UInt32 = 2_166_136_261
        for b in id.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return shards[Int(h % UInt32(Self.shardCount))]
    }

    /// The generation to pass to `store` for a read that starts now.
    public var current: UInt64 { generation.load(ordering: .sequentiallyConsistent) }

    /// The serialized result for `id`, if cached in `zone`.
    public func get(_ id: String, zone: Zone) -> [UInt8]? {
        let zone = zone.identifier
        return shard(id).entries.withLock { entries -> [UInt8]? in
            guard let e = entries[id], e.zone == zone else { return nil }
            return e.bytes
        }
    }

    /// Keeps `bytes` for `id` unless a case changed since `generation` was read.
    public func store(_ id: String, zone: Zone, bytes: [UInt8], generation read: UInt64) {
        guard keeps else { return }
        shard(id).entries.withLock { entries in
            guard generation.load(ordering: .sequentiallyConsistent) == read else { return }
            if entries.count >= perShard, entries[id] == nil {
                for _ in 0..<max(1, perShard / 16) where !entries.isEmpty { entries.remove(at: entries.startIndex) }
            }
            entries[id] = Entry(zone: zone.identifier, bytes: bytes)
        }
    }

    /// After a commit changed these cases: forget them.
    public func invalidate(_ ids: Set<String>) {
        generation.add(1, ordering: .sequentiallyConsistent)
        for id in ids {
            _ = shard(id).entries.withLock { $0.removeValue(forKey: id) }
        }
    }

    /// Entries held (for tests).
    public var count: Int { shards.reduce(0) { $0 + $1.entries.withLock { $0.count } } }
}
