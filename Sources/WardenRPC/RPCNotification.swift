import NIOCore
import WardenCore

/// A server-to-client notification (`{"jsonrpc":"2.0","method":…,"params":…}`), serialized
/// once so the same bytes can go to every subscriber.
public struct RPCNotification: Sendable {
    /// The line, `\n` included.
    let line: ByteBuffer
    /// An ordering tag (an event's `seq`): the feed remembers the last one it wrote.
    public let tag: Int64?
    /// Written even when the client is not reading (the one `lagged` notice).
    let force: Bool

    /// Serializes the notification once; `tag` orders it (an event's `seq`).
    public init(method: String, params: JSON, tag: Int64? = nil) {
        self.init(method: method, params: params, tag: tag, force: false)
    }

    init(method: String, params: JSON, tag: Int64?, force: Bool) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        bytes.append(contentsOf: #"{"jsonrpc":"2.0","method":"#.utf8)
        JSONWriter.write(.string(method), into: &bytes)
        bytes.append(contentsOf: #","params":"#.utf8)
        JSONWriter.write(params, into: &bytes)
        bytes.append(contentsOf: "}\n".utf8)
        self.line = ByteBuffer(bytes: bytes)
        self.tag = tag
        self.force = force
    }
}
