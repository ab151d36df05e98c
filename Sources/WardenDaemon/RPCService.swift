import ServiceLifecycle
import WardenRPC

/// Runs the socket server until graceful shutdown, then stops it gracefully: no new
/// connections, requests in flight answered, connections closed.
public final class RPCService: Service, Sendable {
    public let server: RPCServer

    public init(server: RPCServer) { self.server = server }

    public func run() async throws {
        try? await gracefulShutdown()
        await server.shutdown()
    }
}
