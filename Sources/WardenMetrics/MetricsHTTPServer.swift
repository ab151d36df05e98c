import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The `[metrics] listen` endpoint: a minimal HTTP/1.1 server that answers
/// `GET /metrics` (and `HEAD`) with the Prometheus text format, on one event loop.
///
/// Trusts: nothing a client sends; the HTTP parsing is SwiftNIO's (llhttp): a malformed
/// or oversized head (over 80 KiB) is answered 400 and the connection closed. Refuses: any other path (404), any other
/// method (405), a request body over 64 KiB (the connection is closed), more than
/// `maxConnections` connections at once (closed at accept), and a connection idle for
/// `idleTimeout` (closed). The answer is rendered off the event loop (`render` reads the
/// store), so a slow scrape never holds up other connections.
public final class MetricsHTTPServer: Sendable {
    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    public static let maxConnections = 16
    public static let idleTimeout = TimeAmount.seconds(10)
    static let maxBody = 64 << 10

    let render: @Sendable () async -> [UInt8]
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    let state = NIOLockedValueBox(State())

    struct State {
        var channel: (any Channel)?
        var connections = 0
    }

    public init(logger: Logger, render: @escaping @Sendable () async -> [UInt8]) {
        self.render = render
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Listens on `host:port`; returns the address bound (the port chosen when 0).
    @discardableResult
    public func bind(host: String, port: Int) async throws -> SocketAddress {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { [self] channel in
                let admitted = state.withLockedValue { s -> Bool in
                    guard s.connections < Self.maxConnections else { return false }
                    s.connections += 1
                    return true
                }
                guard admitted else {
                    logger.warning(
                        "Metrics connection refused: \(Self.maxConnections) already open",
                        metadata: ["warden.event": "metrics.refused", "warden.max_connections": "\(Self.maxConnections)"])
                    return channel.close()
                }
                channel.closeFuture.whenComplete { [self] _ in state.withLockedValue { $0.connections -= 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(HTTPResponseEncoder())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(render: render))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw Error(description: "cannot listen on \(host):\(port): \(error)")
        }
        state.withLockedValue { $0.channel = channel }
        guard let address = channel.localAddress else { throw Error(description: "listening on \(host):\(port) but the address is unknown") }
        return address
    }

    public func shutdown() async {
        let channel = state.withLockedValue { s -> (any Channel)? in
            defer { s.channel = nil }
            return s.channel
        }
        try? await channel?.close()
        try? await group.shutdownGracefully()
    }
}

/// One HTTP connection: complete requests are answered one at a time, in order (a
/// client that pipelines waits for each answer; more than `maxQueued` requests waiting
/// closes the connection). A request the parser refuses is answered 400 and the
/// connection closed (what follows cannot be framed).
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxQueued = 16

    let render: @Sendable () async -> [UInt8]
    var head: HTTPRequestHead?
    var bodyBytes = 0
    /// Requests read while an answer is being rendered.
    var queued: [HTTPRequestHead] = []
    var answering = false

    init(render: @escaping @Sendable () async -> [UInt8]) {
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            bodyBytes = 0
        case .body(let chunk):
            bodyBytes += chunk.readableBytes
            if bodyBytes > MetricsHTTPServer.maxBody { context.close(promise: nil) }
        case .end:
            guard let head else { return }
            self.head = nil
            queued.append(head)
            if queued.count > Self.maxQueued {
                context.close(promise: nil)
                return
            }
            next(context)
        }
    }

    /// Answers the oldest waiting request, unless one is being answered.
    func next(_ context: ChannelHandlerContext) {
        guard !answering, !queued.isEmpty else { return }
        answering = true
        answer(queued.removeFirst(), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError, !answering else {
            context.close(promise: nil)
            return
        }
        answering = true
        queued = []
        let head = HTTPResponseHead(version: .http1_1, status: .badRequest, headers: HTTPHeaders([("Connection", "close"), ("Content-Length", "0")]))
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? head.uri
        guard path == "/metrics" else {
            return respond(context, head, status: .notFound, type: "text/plain; charset=utf-8", body: Array("Not found: only /metrics is served here\n".utf8))
        }
        guard head.method == .GET || head.method == .HEAD else {
            return respond(context, head, status: .methodNotAllowed, type: "text/plain; charset=utf-8", body: Array("Only GET and HEAD\n".utf8), extra: [("Allow", "GET, HEAD")])
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let promise = context.eventLoop.makePromise(of: [UInt8].self)
        let render = self.render
        promise.completeWithTask { await render() }
        promise.futureResult.whenSuccess { bytes in
            let (handler, context) = bound.value
            handler.respond(context, head, status: .ok, type: WardenMetrics.contentType, body: bytes)
        }
    }

    func respond(
        _ context: ChannelHandlerContext, _ request: HTTPRequestHead, status: HTTPResponseStatus, type: String, body: [UInt8], extra: [(String, String)] = []
    ) {
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", "\(body.count)")] + extra)
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            answering = false
            next(context)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
