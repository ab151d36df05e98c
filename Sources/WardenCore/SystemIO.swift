#if canImport(Glibc)
import Glibc
#endif

/// The few things the programs need from the operating system without Foundation
/// (whose full build drags ICU's 30 MB of data into a static binary): standard
/// streams, the environment, whole files. Every call is a plain POSIX call with its
/// error reported as `strerror` text.
///
/// Trusts: nothing it reads; sizes are capped by the caller's `limit`. Refuses: a file
/// larger than `limit` (an error, never a silently cut file).
public enum SystemIO {
    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
        /// The system's error number, when a call failed (0 otherwise).
        public var code: Int32 = 0
    }

    /// Writes `text` to standard error, all of it (retrying short writes).
    public static func writeError(_ text: String) { write(2, text) }

    /// Writes `text` to standard output, all of it.
    public static func writeOutput(_ text: String) { write(1, text) }

    /// Writes `bytes` to standard error, all of them.
    public static func writeError(bytes: [UInt8]) { write(2, bytes) }

    static func write(_ fd: Int32, _ text: String) { write(fd, Array(text.utf8)) }

    static func write(_ fd: Int32, _ all: [UInt8]) {
        var bytes = all[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }

    /// The working directory ("/" if it cannot be read).
    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The directory part of a path, as `dirname(1)` gives it: "/a/b" → "/a", "b" → ".",
    /// "/b" → "/".
    public static func directoryName(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        var dir = p[..<slash]
        while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
        return dir.isEmpty ? "/" : String(dir)
    }

    /// The last component of a path: "/a/b.json" → "b.json".
    public static func baseName(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p.lastIndex(of: "/").map { String(p[p.index(after: $0)...]) } ?? String(p)
    }

    /// Creates `path` and any missing parents (mode 0777 less the umask), like
    /// `mkdir -p`; an existing directory is fine.
    public static func makeDirectories(_ path: String) throws(Error) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw Error(description: "\(path) exists and is not a directory", code: ENOTDIR) }
            return
        }
        let parent = directoryName(path)
        if parent != path && parent != "." { try makeDirectories(parent) }
        if mkdir(path, 0o777) != 0 && errno != EEXIST {
            let code = errno
            throw Error(description: "cannot create \(path): \(String(cString: strerror(code)))", code: code)
        }
    }

    /// The names in the directory at `path`, without "." and "..", in the order the
    /// file system gives them.
    public static func listDirectory(_ path: String) throws(Error) -> [String] {
        guard let dir = opendir(path) else { throw Error(description: "cannot list \(path): \(String(cString: strerror(errno)))") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether something exists at `path` (following symbolic links).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// `strings` as a NULL-terminated array of C strings (an `argv` or `envp` for
    /// spawning a program), valid during `body`.
    public static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// The whole environment, as `NAME=value` pairs (the first of a repeated name wins,
    /// as `getenv` would give it).
    public static func environment() -> [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                let name = String(text[..<eq])
                if out[name] == nil { out[name] = String(text[text.index(after: eq)...]) }
            }
            p += 1
        }
        return out
    }

    /// The value of an environment variable.
    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The whole content of the file at `path` (or of standard input for `-` when
    /// `standardInputDash` is true), at most `limit` bytes.
    public static func readFile(_ path: String, limit: Int = 1 << 30) throws(Error) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Error(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return try readAll(fd, name: path, limit: limit)
    }

    /// Everything on standard input, at most `limit` bytes.
    public static func readStandardInput(limit: Int = 1 << 30) throws(Error) -> [UInt8] {
        try readAll(0, name: "standard input", limit: limit)
    }

    static func readAll(_ fd: Int32, name: String, limit: Int) throws(Error) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Error(description: "cannot read \(name): \(String(cString: strerror(errno)))")
            }
            if n == 0 { return out }
            guard out.count + n <= limit else { throw Error(description: "\(name) is larger than \(limit) bytes") }
            out += buffer[0..<n]
        }
    }
}

extension String {
    /// This string padded with spaces to `width` characters (unchanged if longer).
    public func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    /// Without leading and trailing spaces and tabs (Unicode space separators and
    /// U+0009, as Foundation's `.whitespaces`).
    public var trimmingSpaces: Substring {
        func isSpace(_ s: Unicode.Scalar) -> Bool { s == "\t" || s.properties.generalCategory == .spaceSeparator }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return Substring(scalars[first...last])
    }
}
