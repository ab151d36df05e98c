#if canImport(Glibc)
import Glibc
#endif

/// Reads a file line by line through a fixed buffer, so an NDJSON file is never held in
/// memory whole. Lines end with `\n`; a `\r` before it is dropped. A line longer than
/// `maxLine` bytes (without its `\r`) is reported with its number and its length as
/// written (with the `\r`, without the `\n`) and skipped, never buffered whole.
///
/// `lines(in:maxLine:)` splits bytes already in memory by exactly the same rules; the
/// spool uses one or the other by file size, and a fuzzer holds them to agreeing.
public struct LineReader: ~Copyable {
    public enum Line: Equatable {
        case text(ArraySlice<UInt8>, number: Int)
        case tooLong(number: Int, length: Int)
    }

    /// The lines of `bytes`, as a reader over a file holding them returns them.
    public static func lines(in bytes: [UInt8], maxLine: Int) -> [Line] {
        var out: [Line] = []
        var number = 0
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            number += 1
            var line = bytes[start..<end]
            if line.last == 0x0D { line = line.dropLast() }
            out.append(line.count > maxLine ? .tooLong(number: number, length: end - start) : .text(line, number: number))
            start = end + 1
        }
        return out
    }

    private let fd: Int32
    private let maxLine: Int
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var eof = false
    private var lineNumber = 0

    /// Opens `path` safely (no symlinks); nil if it cannot be opened.
    public init?(path: String, maxLine: Int, bufferSize: Int = 1 << 16) {
        // O_NONBLOCK: a FIFO put in place of the file after it was checked must not block.
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        self.maxLine = maxLine
        buffer = [UInt8](repeating: 0, count: max(bufferSize, maxLine + 2))
    }

    /// Reads from an open descriptor, which it then owns (closes).
    public init(descriptor: Int32, maxLine: Int, bufferSize: Int = 1 << 16) {
        fd = descriptor
        self.maxLine = maxLine
        buffer = [UInt8](repeating: 0, count: max(bufferSize, maxLine + 2))
    }

    deinit { close(fd) }

    /// The next line, or nil at the end of the file. Throws on a read error.
    public mutating func next() throws(SpoolError) -> Line? {
        var skipping = 0  // bytes of an overlong line already discarded
        while true {
            if let nl = buffer[start..<end].firstIndex(of: 0x0A) {
                lineNumber += 1
                defer { start = nl + 1 }
                if skipping > 0 || nl - start > maxLine + 1 {
                    return .tooLong(number: lineNumber, length: skipping + nl - start)
                }
                var line = buffer[start..<nl]
                if line.last == 0x0D { line = line.dropLast() }
                if line.count > maxLine { return .tooLong(number: lineNumber, length: line.count) }
                return .text(line, number: lineNumber)
            }
            if eof {
                guard start < end || skipping > 0 else { return nil }
                lineNumber += 1
                defer { start = end }
                if skipping > 0 || end - start > maxLine + 1 { return .tooLong(number: lineNumber, length: skipping + end - start) }
                var line = buffer[start..<end]
                if line.last == 0x0D { line = line.dropLast() }
                if line.count > maxLine { return .tooLong(number: lineNumber, length: end - start) }
                return .text(line, number: lineNumber)
            }
            // Make room: move the partial line to the front, or drop it if it is too long.
            if end - start > maxLine + 1 {
                skipping += end - start
                start = 0
                end = 0
            } else if start > 0 {
                buffer.withUnsafeMutableBufferPointer { b in
                    _ = memmove(b.baseAddress!, b.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            }
            let n = buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress! + end, raw.count - end) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: "(spool file)", errno: errno)
            }
            if n == 0 { eof = true } else { end += n }
        }
    }
}
