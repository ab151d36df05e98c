import WardenCore

/// Who is on the other end of a connection, from `SO_PEERCRED`.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// One JSON-RPC 2.0 request. `id == nil` is a notification (no response is sent).
public struct RPCRequest: Sendable {
    public var id: JSON?
    public var method: String
    public var params: JSONObject

    public init(id: JSON?, method: String, params: JSONObject = JSONObject()) {
        self.id = id
        self.method = method
        self.params = params
    }

    /// A line that is not a valid request: the id to answer with (null when it could not
    /// be read) and the error.
    public struct Invalid: Error, Sendable {
        public var id: JSON
        public var error: RPCError
    }

    /// Validates a parsed line as a JSON-RPC 2.0 request. On failure, the id to answer
    /// with (null when it could not be read) and the error.
    public static func validate(_ value: JSON) -> Result<RPCRequest, Invalid> {
        guard case .object(let o) = value else {
            let what = value.array != nil ? "batch arrays are not supported; send one request per line" : "expected a JSON object"
            return .failure(Invalid(id: .null, error: .invalidRequest(what)))
        }
        let id = o["id"]
        if let id {
            switch id {
            case .string, .number, .null: break
            default: return .failure(Invalid(id: .null, error: .invalidRequest("id must be a string, a number or null")))
            }
        }
        guard o["jsonrpc"] == .string("2.0") else {
            return .failure(Invalid(id: id ?? .null, error: .invalidRequest("\"jsonrpc\" must be \"2.0\"")))
        }
        guard case .string(let method) = o["method"] else {
            return .failure(Invalid(id: id ?? .null, error: .invalidRequest("\"method\" must be a string")))
        }
        switch o["params"] {
        case nil, .null?: return .success(RPCRequest(id: id, method: method))
        case .object(let p)?: return .success(RPCRequest(id: id, method: method, params: p))
        case .array?: return .failure(Invalid(id: id ?? .null, error: .invalidParams("params must be an object (named parameters)")))
        default: return .failure(Invalid(id: id ?? .null, error: .invalidRequest("\"params\" must be an object")))
        }
    }
}
