#if canImport(Glibc)
import Glibc
#endif
import WardenCore
import WardenFuzzSupport
import WardenSpool

/// NDJSON line splitting: the streaming reader (a large file, read through a small
/// buffer) and the in-memory splitter (a small file) must cut the same bytes into the
/// same lines, numbers and over-long reports, for any buffer size and line limit. The
/// first two bytes choose the limit and the buffer.
func fuzzNDJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Fuzz.input(data, size)
    guard input.count >= 2 else { return 0 }
    let maxLine = Int(input[0]) + 1
    let bufferSize = Int(input[1]) + 1
    let bytes = Array(input[2...])
    let expected = LineReader.lines(in: bytes, maxLine: maxLine)

    var template = Array("/tmp/warden-fuzz-ndjson-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { return 0 }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
        guard n > 0 else {
            close(fd)
            return 0
        }
        written += n
    }
    lseek(fd, 0, SEEK_SET)
    var reader = LineReader(descriptor: fd, maxLine: maxLine, bufferSize: bufferSize)
    var streamed: [LineReader.Line] = []
    while true {
        guard let line = try? reader.next() else { break }
        streamed.append(line)
        Fuzz.check(streamed.count <= bytes.count + 1, "the reader does not end")
    }
    Fuzz.check(streamed == expected, "streamed \(streamed) but split \(expected) (max_line \(maxLine), buffer \(bufferSize))")

    // And the spool's NDJSON decoding over the same bytes never traps.
    _ = SpoolFormat.decode(name: "fuzz.ndjson", bytes: bytes, maxLine: maxLine)
    return 0
}

@main enum Main {
    static func main() { Fuzz.main(fuzzNDJSON) }
}
