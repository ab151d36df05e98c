#if canImport(Glibc)
import Glibc
#endif
#if FUZZING
import CFuzzer
#endif

/// A fuzz target's entry: libFuzzer's `LLVMFuzzerTestOneInput` signature.
public typealias FuzzEntry = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

/// What the fuzz targets share: a failed property is a crash (libFuzzer then saves the
/// input), and without libFuzzer a target is a replayer of inputs (files or folders given
/// as arguments), so the committed corpora run in every ordinary build and test.
public enum Fuzz {
    /// Ends the process with `message` when `condition` is false: a finding.
    @inline(__always)
    public static func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
        if !condition() {
            let text = "fuzz property failed: \(message())\n"
            _ = text.withCString { write(2, $0, strlen($0)) }
            abort()
        }
    }

    /// Runs `body` on every file named by `arguments` (folders: every file in them).
    /// Prints how many inputs ran; exits 1 if an argument cannot be read.
    public static func replay(_ arguments: [String], _ body: ([UInt8]) -> Void) -> Int32 {
        var count = 0
        for path in arguments {
            for file in files(path) {
                guard let bytes = read(file) else {
                    print("cannot read \(file)")
                    return 1
                }
                body(bytes)
                count += 1
            }
        }
        print("replayed \(count) input\(count == 1 ? "" : "s") without a finding")
        return 0
    }

    /// A target's `main`: built by `scripts/fuzz` (`-DFUZZING`, `-sanitize=fuzzer`) it is
    /// libFuzzer with its usual options; in an ordinary build it replays the files and
    /// folders given as arguments through `entry` and exits.
    public static func main(_ entry: FuzzEntry) -> Never {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, entry))
        #else
        let status = replay(Array(CommandLine.arguments.dropFirst())) { bytes in
            bytes.withUnsafeBufferPointer { _ = entry($0.baseAddress, bytes.count) }
        }
        exit(status)
        #endif
    }

    /// The input as a buffer (empty for a null pointer).
    @inline(__always)
    public static func input(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: size > 0 ? data : nil, count: size > 0 ? size : 0)
    }

    static func files(_ path: String) -> [String] {
        var st = stat()
        guard stat(path, &st) == 0 else { return [path] }
        guard (st.st_mode & S_IFMT) == S_IFDIR, let dir = opendir(path) else { return [path] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." && !name.hasPrefix(".") { names.append(path + "/" + name) }
        }
        return names.sorted()
    }

    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { return out }
            out += buffer[..<n]
        }
    }
}
