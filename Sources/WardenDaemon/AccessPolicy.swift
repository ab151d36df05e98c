import WardenRPC

#if canImport(Glibc)
import Glibc
#endif

/// Who may call the writing methods (`evidence.submit`, `record.submit`,
/// `daemon.reload`): root, the daemon's own user, and the uids and groups listed in
/// `[access] writers`. Group membership counts the peer's primary group (from
/// `SO_PEERCRED`) and the supplementary groups of its user.
public struct AccessPolicy: Sendable, Equatable {
    public let uids: Set<UInt32>
    public let gids: Set<UInt32>
    /// Names in `writers` that are neither a number nor a known group (reported by
    /// `check-config` as warnings, since a group may be created later).
    public let unknown: [String]
    let ownUid: UInt32

    public init(writers: [String]) {
        var uids = Set<UInt32>()
        var gids = Set<UInt32>()
        var unknown: [String] = []
        for w in writers {
            if let uid = UInt32(w) {
                uids.insert(uid)
            } else if let group = getgrnam(w) {
                gids.insert(group.pointee.gr_gid)
            } else if let user = getpwnam(w) {
                uids.insert(user.pointee.pw_uid)
            } else {
                unknown.append(w)
            }
        }
        self.uids = uids
        self.gids = gids
        self.unknown = unknown
        self.ownUid = getuid()
    }

    public func allows(_ peer: PeerCredentials?) -> Bool {
        guard let peer else { return false }
        if peer.uid == 0 || peer.uid == ownUid || uids.contains(peer.uid) { return true }
        if gids.isEmpty { return false }
        if gids.contains(peer.gid) { return true }
        return !gids.isDisjoint(with: Self.groups(ofUser: peer.uid, primary: peer.gid))
    }

    static func groups(ofUser uid: UInt32, primary: UInt32) -> Set<UInt32> {
        guard let pw = getpwuid(uid), let name = pw.pointee.pw_name else { return [primary] }
        var count: Int32 = 64
        var list = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, primary, &list, &count) < 0 {
            list = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, primary, &list, &count)
        }
        return Set(list.prefix(Int(max(count, 0))))
    }
}
