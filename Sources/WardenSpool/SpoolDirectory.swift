import CWardenSys
import WardenCore

#if canImport(Glibc)
import Glibc
#endif

/// The spool directory (`tmp/`, `incoming/`, `processed/YYYY-MM-DD/`, `rejected/`) and
/// the file operations on it.
///
/// Trusts: nothing a producer put in `incoming/`. Refuses: symbolic links and anything
/// that is not a regular file (opened with `O_NOFOLLOW`, checked with `fstat`), files
/// over the size cap, names starting with `.` or ending in `.tmp`/`.part` (still being
/// written; left alone until renamed). Never deletes input: files are renamed into
/// `processed/` or `rejected/`, so they stay on the same filesystem and a move is atomic.
public struct SpoolDirectory: Sendable {
    public let root: String
    /// Files in `processed/` and `rejected/`, counted once and then kept by the moves
    /// (shared by every copy of this value), so status queries list no directories.
    /// A count walks the directories under this lock and every move renames under it,
    /// so a move is either in the walk or added after it, never lost or counted twice.
    private let tally = Locked<(processed: Int, rejected: Int)?>(nil)
    public var tmp: String { root + "/tmp" }
    public var incoming: String { root + "/incoming" }
    public var processed: String { root + "/processed" }
    public var rejected: String { root + "/rejected" }

    public init(root: String) { self.root = root }

    /// Creates the four directories if missing: `tmp/` and `incoming/` mode 2770
    /// (producers in the spool's group hand files over; setgid keeps the group), the
    /// others 0750. Existing directories keep the modes their owner gave them.
    public func prepare() throws {
        for (dir, mode) in [(root, 0o750), (tmp, 0o2770), (incoming, 0o2770), (processed, 0o750), (rejected, 0o750)] as [(String, mode_t)] {
            if access(dir, F_OK) == 0 { continue }
            do { try SystemIO.makeDirectories(dir) } catch { throw SpoolError.io(path: dir, errno: error.code) }
            chmod(dir, mode)
        }
    }

    /// Whether a name in `incoming/` is waiting to be read (not a dotfile, not `.tmp` or
    /// `.part`).
    public static func isCandidate(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.hasSuffix(".tmp") && !name.hasSuffix(".part")
    }

    /// What a listing of `incoming/` found.
    public struct Pending: Sendable, Equatable {
        /// Names to read, oldest modification first (then by name), so files are taken
        /// roughly in the order producers handed them over.
        public var names: [String]
        /// Names that are not valid UTF-8, as raw bytes: no record can name them and no
        /// report could quote them, so they are moved to `rejected/` under a readable name
        /// (`rejectUnreadableName`) rather than left in `incoming/` forever.
        public var unreadableNames: [[UInt8]]
    }

    /// Lists `incoming/`.
    public func pendingFiles() throws -> Pending {
        guard let dir = opendir(incoming) else { throw SpoolError.io(path: incoming, errno: errno) }
        defer { closedir(dir) }
        var found: [(name: String, mtime: Int64)] = []
        var unreadable: [[UInt8]] = []
        while let entry = readdir(dir) {
            let raw = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            var st = stat()
            guard lstat(incoming + "/", raw, &st) == 0 else { continue }  // vanished meanwhile
            if (st.st_mode & S_IFMT) == S_IFDIR { continue }  // a directory is not a spool file; leave it
            guard let name = String(validating: raw, as: UTF8.self) else {
                if raw.first != UInt8(ascii: ".") { unreadable.append(raw) }
                continue
            }
            guard Self.isCandidate(name) else { continue }
            found.append((name, Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)))
        }
        return Pending(names: found.sorted { ($0.mtime, $0.name) < ($1.mtime, $1.name) }.map(\.name), unreadableNames: unreadable)
    }

    /// Whether `name` is no longer in `incoming/`.
    public func isGone(_ name: String) -> Bool {
        access(incoming + "/" + name, F_OK) != 0 && errno == ENOENT
    }

    /// `lstat` of `directory` + raw name bytes (a name need not be valid UTF-8).
    private func lstat(_ directory: String, _ name: [UInt8], _ st: inout stat) -> Int32 {
        (Array(directory.utf8) + name + [0]).withUnsafeBufferPointer { path in
            path.withMemoryRebound(to: CChar.self) { Glibc.lstat($0.baseAddress!, &st) }
        }
    }

    /// A readable stand-in for a name that is not valid UTF-8: its valid parts as they
    /// are, every other byte as `%XX` (`order\xff.json` → `order%FF.json`).
    public static func readableName(_ raw: [UInt8]) -> String {
        var out = ""
        var rest = raw[...]
        while !rest.isEmpty {
            // The longest valid prefix, then one escaped byte.
            var end = rest.endIndex
            while end > rest.startIndex, String(validating: rest[rest.startIndex..<end], as: UTF8.self) == nil { end -= 1 }
            out += String(decoding: rest[rest.startIndex..<end], as: UTF8.self)
            if end < rest.endIndex {
                let byte = rest[end]
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
                rest = rest[(end + 1)...]
            } else {
                rest = rest[end...]
            }
        }
        return out
    }

    /// Moves a file whose name is not valid UTF-8 to `rejected/` under `readableName`,
    /// with `NAME.error.json` saying what the name was. Returns the name used.
    @discardableResult
    public func rejectUnreadableName(_ raw: [UInt8]) throws -> String {
        let readable = Self.readableName(raw)
        let hex = raw.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
        let error = RecordError(message: "the file name is not valid UTF-8 (bytes: \(hex)); the file was not read. Name spool files in UTF-8 and hand the file over again")
        return try reject(from: { dest in
            let source = Array(incoming.utf8) + [UInt8(ascii: "/")] + raw + [0]
            let status = source.withUnsafeBufferPointer { s in
                s.withMemoryRebound(to: CChar.self) { Glibc.rename($0.baseAddress!, dest) }
            }
            if status != 0 { throw SpoolError.io(path: incoming + "/" + readable, errno: errno) }
        }, name: readable, errors: [error])
    }

    /// Opens a file in `incoming/` refusing symlinks, non-regular files and files over
    /// `maxBytes`; returns the open descriptor and the size.
    /// `directory` is an open descriptor of `incoming/` (the spool loop opens it once per
    /// pass), or `AT_FDCWD` to open by path.
    func openChecked(_ name: String, maxBytes: Int, in directory: Int32 = AT_FDCWD) -> Result<(fd: Int32, size: Int), SpoolError> {
        let path = incoming + "/" + name
        let flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        let fd = directory == AT_FDCWD ? open(path, flags) : openat(directory, name, flags)
        if fd < 0 {
            let e = errno
            if e == ELOOP { return .failure(.refused(name: name, reason: "is a symbolic link; only regular files are read")) }
            if e == ENOENT { return .failure(.vanished(name: name)) }
            if e == ENXIO { return .failure(.refused(name: name, reason: "is a socket or FIFO; only regular files are read")) }
            return .failure(.io(path: path, errno: e))
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            return .failure(.io(path: path, errno: e))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return .failure(.refused(name: name, reason: "is not a regular file (\(Self.kindName(st.st_mode))); only regular files are read"))
        }
        guard st.st_size <= maxBytes else {
            close(fd)
            return .failure(.refused(name: name, reason: "is \(st.st_size) bytes, over the \(maxBytes)-byte limit (spool max_file_size)"))
        }
        return .success((fd, Int(st.st_size)))
    }

    /// Reads a file from `incoming/` safely; nil (without reading) if it is larger than
    /// `limit` bytes. `directory`: as `openChecked`.
    public func read(_ name: String, maxBytes: Int, unlessOver limit: Int = .max, in directory: Int32 = AT_FDCWD) -> Result<[UInt8]?, SpoolError> {
        let path = incoming + "/" + name
        let fd: Int32
        let size: Int
        switch openChecked(name, maxBytes: maxBytes, in: directory) {
        case .success(let opened): (fd, size) = opened
        case .failure(let e): return .failure(e)
        }
        defer { close(fd) }
        if size > limit { return .success(nil) }
        // One byte more than the size: a read that returns less than asked reached the end
        // of the (regular) file, so the common case is one read, not two.
        var bytes = [UInt8](repeating: 0, count: size + 1)
        var filled = 0
        while true {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: 4096)) }  // grew while we read
            let n = bytes.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress! + filled, raw.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.io(path: path, errno: errno))
            }
            if n == 0 { break }
            filled += n
            if filled > maxBytes {
                return .failure(.refused(name: name, reason: "grew past the \(maxBytes)-byte limit while being read"))
            }
            // Short of the room left, having read at least the size: the end of the file.
            // (A read may also stop short before the end: past 2 GiB, or on network
            // filesystems; then the loop goes on until a read returns 0.)
            if filled < bytes.count && filled >= size { break }
        }
        bytes.removeSubrange(filled...)
        return .success(bytes)
    }

    /// Moves accepted files to `processed/<day>/`, in order. Both directories are opened
    /// once and each file is renamed relative to them (no path walk per file), never
    /// replacing a file there (`moveNoReplace`). A name that is gone from `incoming/` is
    /// skipped. Throws at the first error; the files before it are moved, the rest stay
    /// in `incoming/`.
    public func moveToProcessed(_ names: [String], day: String) throws {
        guard !names.isEmpty else { return }
        let dir = processed + "/" + day
        if access(dir, F_OK) != 0, mkdir(dir, 0o750) != 0, errno != EEXIST { throw SpoolError.io(path: dir, errno: errno) }
        let from = open(incoming, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard from >= 0 else { throw SpoolError.io(path: incoming, errno: errno) }
        defer { close(from) }
        let to = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard to >= 0 else { throw SpoolError.io(path: dir, errno: errno) }
        defer { close(to) }
        for name in names {
            try tally.withLock { kept in
                guard try Self.moveNoReplace(name, from: (from, incoming), to: (to, dir)) != nil else { return }
                if kept != nil { kept!.processed += 1 }
            }
        }
    }

    /// Moves a refused file, unchanged, to `rejected/` and writes `NAME.error.json` beside
    /// it (the error file first, so a crash in between leaves the file to be refused
    /// again, never a file without its reason). Returns the name used in `rejected/`.
    @discardableResult
    public func reject(_ name: String, errors: [RecordError]) throws -> String {
        try reject(from: { dest in try Self.rename(incoming + "/" + name, dest) }, name: name, errors: errors)
    }

    /// Writes the report for a file going to `rejected/` as `name` (or a free variant,
    /// shortened if needed so that `NAME.error.json` fits a file name), then moves it
    /// there with `move(destinationPath)`. A name longer than the report's suffix allows
    /// is shortened, and the report then gives the original name too.
    private func reject(from move: (String) throws -> Void, name: String, errors: [RecordError]) throws -> String {
        let fitted = Self.fitted(name, room: Self.maxNameBytes - ".error.json".utf8.count - 8)
        let dest = try Self.freeName(in: rejected, for: fitted)
        let finalName = String(dest.dropFirst(rejected.count + 1))
        var report: JSONObject = ["file": .string(finalName)]
        if finalName != name { report["original_name"] = .string(name) }
        report["errors"] = .array(errors.map(\.json))
        let errorPath = dest + ".error.json"
        let temp = rejected + "/.report-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).error.json.tmp"
        try Self.writeFile(temp, JSONWriter.bytes(.object(report)) + [0x0A])
        try Self.rename(temp, errorPath)
        try tally.withLock { kept in
            try move(dest)
            if kept != nil { kept!.rejected += 1 }
        }
        return finalName
    }

    /// The longest file name Linux filesystems take, in bytes.
    static let maxNameBytes = 255

    /// `name` if it is at most `room` bytes; else its start (whole characters), a hash of
    /// the whole and its extension, so distinct long names stay distinct.
    static func fitted(_ name: String, room: Int) -> String {
        guard name.utf8.count > room else { return name }
        let (stem, ext) = splitExtension(name)
        let keptExt = ext.utf8.count <= 16 ? ext : ""
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let tag = "~" + String(hash, radix: 16)
        var start = ""
        for c in stem {
            guard start.utf8.count + c.utf8.count + tag.utf8.count + keptExt.utf8.count <= room else { break }
            start.append(c)
        }
        return start + tag + keptExt
    }

    public struct Counts: Sendable, Equatable {
        public var incoming: Int
        public var processed: Int
        public var rejected: Int
    }

    public func counts() -> Counts {
        let incomingCount = ((try? SystemIO.listDirectory(incoming)) ?? []).filter(Self.isCandidate).count
        let kept = tally.withLock { kept in
            if kept == nil { kept = walk() }
            return kept!
        }
        return Counts(incoming: incomingCount, processed: kept.processed, rejected: kept.rejected)
    }

    /// Counts `processed/` and `rejected/` on disk (files removed by retention included).
    public func recount() {
        tally.withLock { $0 = walk() }
    }

    private func walk() -> (processed: Int, rejected: Int) {
        var processedCount = 0
        for day in (try? SystemIO.listDirectory(processed)) ?? [] {
            processedCount += ((try? SystemIO.listDirectory(processed + "/" + day)) ?? []).count
        }
        let rejectedCount = ((try? SystemIO.listDirectory(rejected)) ?? [])
            .filter { !$0.hasSuffix(".error.json") && !$0.hasPrefix(".") }.count
        return (processedCount, rejectedCount)
    }

    /// Renames `name` from one directory into another (each an open descriptor and its
    /// path, for messages), as `name` or `stem.N.ext` with the first free N, never
    /// replacing a file (`renameat2` with `RENAME_NOREPLACE`; on a filesystem without it,
    /// check, then rename). Returns the name used, or nil if `name` is gone from the
    /// source directory.
    static func moveNoReplace(_ name: String, from: (fd: Int32, path: String), to: (fd: Int32, path: String)) throws -> String? {
        var (stem, ext) = splitExtension(name)
        var candidate = name
        var n = 1
        while warden_renameat_noreplace(from.fd, name, to.fd, candidate) != 0 {
            switch errno {
            case EEXIST:
                n += 1
                candidate = stem + ".\(n)" + ext
            case ENAMETOOLONG where candidate != name || name.utf8.count > maxNameBytes - 8:
                // `stem.N.ext` of a name near the limit: shorten the stem, keep it distinct.
                (stem, ext) = splitExtension(fitted(name, room: maxNameBytes - 8))
                candidate = stem + ".\(n)" + ext
            case ENOENT where access(from.path + "/" + name, F_OK) != 0:
                return nil  // gone meanwhile (another consumer, an operator)
            case EINVAL, ENOSYS:
                let free = try freeName(in: to.path, for: name)
                try rename(from.path + "/" + name, free)
                return String(free.dropFirst(to.path.count + 1))
            default:
                throw SpoolError.io(path: from.path + "/" + name, errno: errno)
            }
        }
        return candidate
    }

    /// `dir/name`, or `dir/stem.N.ext` with the first free N if taken.
    static func freeName(in dir: String, for name: String) throws -> String {
        var candidate = dir + "/" + name
        var n = 1
        let (stem, ext) = splitExtension(name)
        while access(candidate, F_OK) == 0 {
            n += 1
            candidate = dir + "/" + stem + ".\(n)" + ext
        }
        return candidate
    }

    static func splitExtension(_ name: String) -> (String, String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        return (String(name[..<dot]), String(name[dot...]))
    }

    /// Writes a new file with plain syscalls (Foundation's atomic writes leave temporary
    /// directories behind in /tmp).
    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw SpoolError.io(path: path, errno: errno) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SpoolError.io(path: path, errno: errno)
            }
            offset += n
        }
    }

    static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw SpoolError.io(path: from, errno: errno) }
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "not a regular file"
        }
    }
}

/// Why a spool file could not be read.
public enum SpoolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is refused for what it is (symlink, device, too large): it goes to `rejected/`.
    case refused(name: String, reason: String)
    /// The file disappeared before it was read (another consumer, or an operator).
    case vanished(name: String)
    /// An I/O error on Warden's side (full disk, permissions): the file stays in `incoming/`.
    case io(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .refused(let name, let reason): "\(name) \(reason)"
        case .vanished(let name): "\(name) vanished before it was read"
        case .io(let path, let e): "\(path): \(String(cString: strerror(e)))"
        }
    }
}
