import Logging
import NIOCore
import WardenCore

#if canImport(Glibc)
import Glibc
#endif

/// One client connection: one JSON-RPC request per line in, one response per line out.
///
/// Frames lines itself (`LineFramer`) so it can stop taking requests while the client does
/// not read its answers: when the socket's write buffer passes NIO's high watermark, lines
/// already received wait and the socket is not read any more (the client's writes then
/// block in its kernel), until the buffer drains below the low watermark. Memory per
/// connection is so bounded by the watermark, one line (`maxLine`), and the requests in
/// flight (`maxInFlight`).
final class RPCConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: RPCServer
    private var connection: RPCConnection?
    private var framer: LineFramer
    /// Received bytes not framed yet.
    private var input: ByteBuffer?
    private var inFlight = 0
    private var needsFlush = false
    private var flushScheduled = false
    private var registered = false
    private var inputClosed = false
    private var pendingRead = false
    private var refused = false
    private var uid: uid_t?

    init(server: RPCServer) {
        self.server = server
        self.framer = LineFramer(maxLine: server.limits.maxLine)
    }

    func channelActive(context: ChannelHandlerContext) {
        var peer: PeerCredentials?
        if let provider = context.channel as? SocketOptionProvider {
            // On the channel's own loop this completes at once.
            let future: EventLoopFuture<PeerCred> = provider.unsafeGetSocketOption(
                level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(PeerCred.option))
            future.assumeIsolated().whenSuccess { cred in
                peer = PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
            }
        }
        connection = RPCConnection(channel: context.channel, peer: peer)
        uid = peer?.uid
        let refusal = server.register(context.channel, uid: uid)
        registered = refusal == nil
        if let refusal {
            refused = true
            server.dispatcher.refused(method: nil, error: .overloaded(refusal))
            write(context: context, RPCResponse.failure(id: .null, error: .overloaded(refusal)))
            context.flush()
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if registered { server.unregister(context.channel, uid: uid) }
        connection?.didClose()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        var bytes = unwrapInboundIn(data)
        if input == nil || input!.readableBytes == 0 {
            input = bytes
        } else {
            input!.writeBuffer(&bytes)
        }
        processInput(context: context)
    }

    /// Answers the complete lines received, while the client reads its answers.
    private func processInput(context: ChannelHandlerContext) {
        guard input != nil else { return }
        while context.channel.isWritable, !refused {
            guard let event = framer.next(&input!) else { break }
            handle(event, context: context)
        }
        if let buffered = input {
            if buffered.readableBytes == 0 {
                input = nil
            } else if buffered.readerIndex > 65_536 {
                input!.discardReadBytes()
            }
        }
        if !context.channel.isWritable && needsFlush {
            needsFlush = false
            context.flush()
        }
    }

    private func handle(_ event: LineEvent, context: ChannelHandlerContext) {
        switch event {
        case .tooLong:
            refuseOversizedLine(context: context)
        case .line(let line):
            handle(line: line, context: context)
        }
    }

    private func handle(line: ByteBuffer, context: ChannelHandlerContext) {
        if let request = line.withUnsafeReadableBytes({ RPCRequest.parseCommonShape($0) }) {
            handle(request: request, context: context)
            return
        }
        let parsed: Result<JSON, JSONParser.Error> = line.readableBytesView.withContiguousStorageIfAvailable { bytes in
            Result { () throws(JSONParser.Error) -> JSON in try JSONParser.parse(bytes) }
        } ?? Result { () throws(JSONParser.Error) -> JSON in try JSONParser.parse(Array(line.readableBytesView)) }
        let value: JSON
        switch parsed {
        case .success(let v): value = v
        case .failure(let e):
            server.dispatcher.refused(method: nil, error: .parseError(e.description))
            respond(context: context, id: .null, .failure(.parseError(e.description)))
            return
        }
        let request: RPCRequest
        switch RPCRequest.validate(value) {
        case .success(let r): request = r
        case .failure(let f):
            // A notification (an object without "id") is never answered, even on error.
            if case .object(let o) = value, o["id"] == nil, f.error.code == -32602 { return }
            server.dispatcher.refused(method: nil, error: f.error)
            respond(context: context, id: f.id, .failure(f.error))
            return
        }
        handle(request: request, context: context)
    }

    private func handle(request: RPCRequest, context: ChannelHandlerContext) {
        guard inFlight < server.limits.maxInFlight else {
            server.dispatcher.refused(method: request.method, error: .overloaded(""))
            respond(context: context, id: request.id, .failure(.overloaded("more than \(server.limits.maxInFlight) requests in flight on this connection")))
            return
        }
        guard let connection else { return }
        switch server.dispatcher.dispatch(request, connection: connection) {
        case .immediate(let result):
            respond(context: context, id: request.id, result)
        case .immediateText(let text):
            respond(context: context, id: request.id, resultText: text)
        case .deferred(let work):
            startTask(context: context, id: request.id) { (await work(), nil) }
        case .stream(let work):
            startTask(context: context, id: request.id, work)
        case .offloaded(let work):
            startOffloaded(context: context, id: request.id, work)
        }
    }

    /// Runs blocking work on the server's reader pool; its answer is written back on
    /// this loop. Answers finishing together share one flush.
    private func startOffloaded(context: ChannelHandlerContext, id: JSON?, _ work: @escaping @Sendable () -> RPCDispatch) {
        inFlight += 1
        server.taskStarted()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let server = self.server
        server.readers.runIfActive(eventLoop: context.eventLoop) { work() }.whenComplete { outcome in
            server.taskFinished()
            let (handler, context) = bound.value
            handler.inFlight -= 1
            switch outcome {
            case .success(.immediate(let result)): handler.respond(context: context, id: id, result)
            case .success(.immediateText(let text)): handler.respond(context: context, id: id, resultText: text)
            case .success: handler.respond(context: context, id: id, .failure(.internalError))  // offloaded work answers at once
            case .failure: handler.respond(context: context, id: id, .failure(.overloaded("the daemon is stopping")))
            }
            handler.scheduleFlush(context: context)
            handler.closeIfDone(context: context)
        }
    }

    /// Flushes once the loop has run what is queued now (other answers finishing in the
    /// same turn go out in the same write).
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard needsFlush, !flushScheduled else { return }
        flushScheduled = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = bound.value
            handler.flushScheduled = false
            if handler.needsFlush, context.channel.isActive {
                handler.needsFlush = false
                context.flush()
            }
        }
    }

    /// Runs a method's async work; its response is written back on this loop. A stream's
    /// follow-up starts once the response is queued (after it, in order).
    private func startTask(
        context: ChannelHandlerContext, id: JSON?,
        _ work: @escaping @Sendable () async -> (Result<JSON, RPCError>, followUp: (@Sendable () async -> Void)?)
    ) {
        inFlight += 1
        server.taskStarted()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let server = self.server
        Task {
            let (result, followUp) = await work()
            let answered = eventLoop.submit {
                let (handler, context) = bound.value
                handler.inFlight -= 1
                handler.respond(context: context, id: id, result)
                if context.channel.isActive, handler.needsFlush { context.flush() }
                handler.needsFlush = false
                handler.closeIfDone(context: context)
            }
            server.taskFinished()
            if case .success = result, let followUp {
                try? await answered.get()
                await followUp()
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

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            connection?.didBecomeWritable()
            processInput(context: context)
            if needsFlush {
                needsFlush = false
                context.flush()
            }
            if pendingRead {
                pendingRead = false
                context.read()
            }
            closeIfDone(context: context)
        } else {
            context.flush()
        }
        context.fireChannelWritabilityChanged()
    }

    /// Reads from the socket only while the client reads its answers.
    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            inputClosed = true
            closeIfDone(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// After the client closed its side: answer what is left (a last line without `\n`
    /// too), then close once every answer is out, unless a subscription keeps it open.
    private func closeIfDone(context: ChannelHandlerContext) {
        guard inputClosed, !refused, context.channel.isActive else { return }
        processInput(context: context)
        if input != nil, context.channel.isWritable, let event = framer.last(&input!) {
            handle(event, context: context)
            input = nil
        }
        guard inFlight == 0, input == nil || input!.readableBytes == 0 else { return }
        if let feed = connection?.currentFeed, !feed.hasEnded { return }
        context.flush()
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Answers `-32600`, half-closes (the client reads the error, then end of stream)
    /// and closes fully a moment later; input meanwhile is discarded.
    private func refuseOversizedLine(context: ChannelHandlerContext) {
        refused = true
        input = nil
        connection?.currentFeed?.end()
        server.dispatcher.refused(method: nil, error: .invalidRequest("line too long"))
        write(context: context, RPCResponse.failure(id: .null, error: .invalidRequest("line longer than \(server.limits.maxLine) bytes; closing the connection")))
        needsFlush = false
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }

    /// `{"jsonrpc":"2.0","id":…,"result":…}` or `…"error":…}`, one line, written (the flush
    /// comes once per read batch).
    private func respond(context: ChannelHandlerContext, id: JSON?, _ result: Result<JSON, RPCError>) {
        guard let id, context.channel.isActive else { return }  // a notification gets no response
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        switch result {
        case .success(let r): JSONWriter.write(r, into: &bytes)
        case .failure(let e): JSONWriter.write(e.json, into: &bytes)
        }
        var isError = false
        if case .failure = result { isError = true }
        writeResponse(context: context, id: id, member: isError ? "error" : "result", bytes)
    }

    private func respond(context: ChannelHandlerContext, id: JSON?, resultText: [UInt8]) {
        guard let id, context.channel.isActive else { return }
        writeResponse(context: context, id: id, member: "result", resultText)
    }

    private func writeResponse(context: ChannelHandlerContext, id: JSON, member: StaticString, _ value: [UInt8]) {
        var buffer = context.channel.allocator.buffer(capacity: value.count + 64)
        buffer.writeStaticString(#"{"jsonrpc":"2.0","id":"#)
        if case .number(let n) = id, n >= 0, n < 1e15, n.rounded() == n {
            Self.writeDecimal(UInt64(n), into: &buffer)
        } else {
            var idBytes: [UInt8] = []
            JSONWriter.write(id, into: &idBytes)
            buffer.writeBytes(idBytes)
        }
        buffer.writeStaticString(",\"")
        buffer.writeStaticString(member)
        buffer.writeStaticString("\":")
        buffer.writeBytes(value)
        buffer.writeStaticString("}\n")
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
    }

    static func writeDecimal(_ value: UInt64, into buffer: inout ByteBuffer) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[19 - count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            } while v > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(20 - count)...]))
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
