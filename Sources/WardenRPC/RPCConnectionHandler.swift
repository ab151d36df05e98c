import Logging
import NIOCore
import WardenCore

#if canImport(Glibc)
import Glibc
#endif

/// One client connection: one JSON-RPC request per line in, one response per line out.
final class RPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = LineEvent
    typealias OutboundOut = ByteBuffer

    private let server: RPCServer
    private var peer: PeerCredentials?
    private var inFlight = 0
    private var needsFlush = false
    private var registered = false
    private var inputClosed = false

    init(server: RPCServer) { self.server = server }

    func channelActive(context: ChannelHandlerContext) {
        if let provider = context.channel as? SocketOptionProvider {
            let future: EventLoopFuture<PeerCred> = provider.unsafeGetSocketOption(
                level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(PeerCred.option))
            future.assumeIsolated().whenSuccess { cred in
                self.peer = PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
            }
        }
        registered = server.register(context.channel)
        if !registered {
            write(context: context, RPCResponse.failure(id: .null, error: .overloaded("too many connections (limit \(server.limits.maxConnections))")))
            context.flush()
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if registered { server.unregister(context.channel) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line: ByteBuffer
        switch unwrapInboundIn(data) {
        case .line(let l): line = l
        case .tooLong:
            refuseOversizedLine(context: context)
            return
        }
        let parsed: Result<JSON, JSONParser.Error> = line.readableBytesView.withContiguousStorageIfAvailable { bytes in
            Result { () throws(JSONParser.Error) -> JSON in try JSONParser.parse(bytes) }
        } ?? Result { () throws(JSONParser.Error) -> JSON in try JSONParser.parse(Array(line.readableBytesView)) }
        let value: JSON
        switch parsed {
        case .success(let v): value = v
        case .failure(let e):
            respond(context: context, id: .null, .failure(.parseError(e.description)))
            return
        }
        let request: RPCRequest
        switch RPCRequest.validate(value) {
        case .success(let r): request = r
        case .failure(let f):
            // A notification (an object without "id") is never answered, even on error.
            if case .object(let o) = value, o["id"] == nil, f.error.code == -32602 { return }
            respond(context: context, id: f.id, .failure(f.error))
            return
        }
        guard inFlight < server.limits.maxInFlight else {
            respond(context: context, id: request.id, .failure(.overloaded("more than \(server.limits.maxInFlight) requests in flight on this connection")))
            return
        }
        switch server.dispatcher.dispatch(request, peer: peer) {
        case .immediate(let result):
            respond(context: context, id: request.id, result)
        case .deferred(let work):
            inFlight += 1
            server.taskStarted()
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let server = self.server
            let id = request.id
            Task {
                let result = await work()
                eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.inFlight -= 1
                    handler.respond(context: context, id: id, result)
                    if context.channel.isActive { context.flush() }
                    handler.needsFlush = false
                    handler.closeIfDone(context: context)
                }
                server.taskFinished()
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            inputClosed = true
            closeIfDone(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// After the client closed its side: close once every answer is out.
    private func closeIfDone(context: ChannelHandlerContext) {
        guard inputClosed, inFlight == 0, context.channel.isActive else { return }
        context.flush()
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Answers `-32600`, half-closes (the client reads the error, then end of stream)
    /// and closes fully a moment later; input meanwhile is discarded by the decoder.
    private func refuseOversizedLine(context: ChannelHandlerContext) {
        write(context: context, RPCResponse.failure(id: .null, error: .invalidRequest("line longer than \(server.limits.maxLine) bytes; closing the connection")))
        needsFlush = false
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }

    private func respond(context: ChannelHandlerContext, id: JSON?, _ result: Result<JSON, RPCError>) {
        guard let id else { return }  // a notification gets no response
        switch result {
        case .success(let r): write(context: context, RPCResponse.success(id: id, result: r))
        case .failure(let e): write(context: context, RPCResponse.failure(id: id, error: e))
        }
    }

    private func write(context: ChannelHandlerContext, _ message: JSON) {
        guard context.channel.isActive else { return }
        var bytes = JSONWriter.bytes(message)
        bytes.append(0x0A)
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
    }
}

/// `struct ucred` from `<sys/socket.h>` (glibc hides it behind `_GNU_SOURCE`, so Swift
/// does not import it): same layout, read with `getsockopt(SOL_SOCKET, SO_PEERCRED)`.
struct PeerCred: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    /// `SO_PEERCRED` on Linux (17 on every architecture Swift supports).
    static let option: Int32 = 17
}
