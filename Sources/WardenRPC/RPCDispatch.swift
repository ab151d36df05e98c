import WardenCore
import WardenProtocol

/// How a method answers: at once on the connection's event loop (what needs no store:
/// cached answers, refusals), on a thread of the server's pool (store reads), later from
/// async code (writes, anything that waits), or later with a follow-up that runs once
/// the answer is written (a subscription's replay of stored events).
public enum RPCDispatch: Sendable {
    case immediate(Result<JSON, RPCError>)
    /// A success whose result is already JSON text (a cached answer), written as is.
    case immediateText([UInt8])
    case deferred(@Sendable () async -> Result<JSON, RPCError>)
    /// Work that may block (a read from the store): run on the server's thread pool,
    /// never on an event loop, so a slow read (a cold disk) stalls no other connection.
    /// It answers with an `immediate` or `immediateText` dispatch, written back on the
    /// connection's loop.
    case offloaded(@Sendable () -> RPCDispatch)
    /// The follow-up runs after the response is on its way (only after a success). It is
    /// not a request in flight: the connection may send more, and graceful shutdown does
    /// not wait for it (closing the connection ends it).
    case stream(@Sendable () async -> (Result<JSON, RPCError>, followUp: (@Sendable () async -> Void)?))
}

/// The methods behind the socket. Implemented by the daemon; the server only frames,
/// validates and routes.
public protocol RPCDispatcher: Sendable {
    func dispatch(_ request: RPCRequest, connection: RPCConnection) -> RPCDispatch
    /// Told of a request the server answered with an error without dispatching it (a
    /// line that is not JSON or not a request, too long, or over a limit); `method` when
    /// the request was valid. For counting only: it must not block.
    func refused(method: String?, error: RPCError)
}

extension RPCDispatcher {
    public func refused(method: String?, error: RPCError) {}
}

enum RPCResponse {
    static func success(id: JSON, result: JSON) -> JSON {
        ["jsonrpc": "2.0", "id": id, "result": result]
    }

    static func failure(id: JSON, error: RPCError) -> JSON {
        ["jsonrpc": "2.0", "id": id, "error": error.json]
    }
}
