import CWardenSys
import WardenCore

#if canImport(Glibc)
import Glibc
#endif

/// A blocking client connection to wardend's socket: send a request line, read lines
/// until the response with that id arrives. Used by `wardenctl` and the tests; kept
/// free of NIO so the CLI starts in milliseconds.
public final class WardenConnection {
    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    /// A JSON-RPC error answered by the daemon.
    public struct ServerError: Swift.Error, CustomStringConvertible {
        public var code: Int
        public var message: String
        public var data: JSON?
        public var description: String { "\(message) (code \(code))" }
        public init(code: Int, message: String, data: JSON? = nil) {
            self.code = code
            self.message = message
            self.data = data
        }
    }

    public let path: String
    let fd: Int32
    var buffer: [UInt8] = []
    /// Where unread input starts in `buffer`.
    var start = 0
    var chunk = [UInt8](repeating: 0, count: 65536)
    var nextId = 1

    public init(path: String, timeout: Double = 30) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Error(description: "socket(): \(String(cString: strerror(errno)))") }
        if warden_unix_connect(fd, path) != 0 {
            let e = errno
            close(fd)
            let hint = e == ENOENT || e == ECONNREFUSED ? " (is wardend running? set --socket or WARDEN_SOCKET)" : ""
            throw Error(description: "cannot connect to \(path): \(String(cString: strerror(e)))\(hint)")
        }
        if timeout > 0 {
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    deinit { close(fd) }

    /// Sends raw bytes (a line, or anything a test wants to send).
    public func send(raw: [UInt8]) throws {
        var offset = 0
        while offset < raw.count {
            let n = raw.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Error(description: "write to \(path): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// Closes the sending side (the peer sees end of input); replies can still be read.
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads one line (without the newline); nil at end of stream.
    public func readLine() throws -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                if start == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    start = 0
                }
                return line
            }
            if start > 0 {
                buffer.removeSubrange(..<start)
                start = 0
            }
            let n = try receive()
            if n == 0 { return nil }
        }
    }

    /// Appends what the socket has (waiting up to the timeout); 0 at end of stream.
    private func receive() throws -> Int {
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 {
                buffer.append(contentsOf: chunk[..<n])
                return n
            }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw Error(description: "timed out waiting for wardend on \(path)") }
            throw Error(description: "read from \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads one line as a JSON message.
    public func readMessage() throws -> JSON? {
        guard let line = try readLine() else { return nil }
        do { return try JSONParser.parse(line) } catch { throw Error(description: "unreadable reply from wardend: \(error)") }
    }

    /// Calls a method and returns its result, or throws `ServerError`.
    public func call(_ method: String, _ params: JSON = .object(JSONObject())) throws -> JSON {
        let id = nextId
        nextId += 1
        var request: JSONObject = ["jsonrpc": "2.0", "id": JSON(id), "method": .string(method)]
        if params != .object(JSONObject()) { request["params"] = params }
        try send(raw: JSONWriter.bytes(.object(request)) + [0x0A])
        while let message = try readMessage() {
            guard message["id"] == JSON(id) else { continue }  // an event notification or another reply
            if let error = message["error"] {
                throw ServerError(code: error["code"]?.int ?? 0, message: error["message"]?.string ?? "error", data: error["data"])
            }
            return message["result"] ?? .null
        }
        throw Error(description: "wardend closed the connection")
    }
}
