import WardenCore

/// A JSON-RPC error as the client sees it (SPEC.md §4). Anything that is not one of these
/// is an internal error: logged in full, answered as `-32603` with a generic message.
public struct RPCError: Error, Sendable, Equatable {
    public var code: Int
    public var message: String
    public var data: JSON?

    public init(code: Int, message: String, data: JSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static func parseError(_ detail: String) -> RPCError { RPCError(code: -32700, message: "Parse error: \(detail)") }
    public static func invalidRequest(_ detail: String) -> RPCError { RPCError(code: -32600, message: "Invalid Request: \(detail)") }
    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: -32601, message: "Method not found: \(method)")
    }
    public static func invalidParams(_ detail: String) -> RPCError { RPCError(code: -32602, message: "Invalid params: \(detail)") }
    public static let internalError = RPCError(code: -32603, message: "Internal error (details in the daemon's log)")
    public static func notFound(_ what: String) -> RPCError { RPCError(code: 1001, message: "Not found: \(what)") }
    public static func deadlinePassed(_ detail: String) -> RPCError { RPCError(code: 1002, message: "Deadline passed: \(detail)") }
    public static func wrongState(_ detail: String) -> RPCError { RPCError(code: 1003, message: "Wrong state: \(detail)") }
    public static func permissionDenied(_ detail: String) -> RPCError { RPCError(code: 1004, message: "Permission denied: \(detail)") }
    public static func validationFailed(_ errors: [RecordError]) -> RPCError {
        RPCError(
            code: 1005, message: "Validation failed: \(errors.count) error\(errors.count == 1 ? "" : "s")",
            data: ["errors": .array(errors.map(\.json))])
    }
    public static func overloaded(_ detail: String) -> RPCError { RPCError(code: 1006, message: "Overloaded: \(detail)") }

    public var json: JSON {
        var o = JSONObject()
        o["code"] = JSON(code)
        o["message"] = .string(message)
        if let data { o["data"] = data }
        return .object(o)
    }
}
