import Testing
import WardenCore
import WardenRPC

/// The shortcut for the common request shape agrees with the full parser on every line
/// it takes, and leaves every other line to it.
@Suite("Socket request parsing")
struct SocketRequestParsingTests {
    static let common = [
        #"{"jsonrpc":"2.0","id":1,"method":"case.get","params":{"case_id":"C1"}}"#,
        #"{"jsonrpc":"2.0","id":0,"method":"daemon.status"}"#,
        #"{"jsonrpc":"2.0","id":"abc","method":"case.list","params":{}}"#,
        #"{"jsonrpc":"2.0","id":123456789012345,"method":"case.list","params":{"state":"defaulted","limit":20,"cursor":null}}"#,
        #"{"jsonrpc":"2.0","id":7,"method":"x","params":{"a":true,"b":false,"c":"再"}}"#,
    ]
    static let others = [
        #"{"jsonrpc":"2.0","id":1,"method":"case.get","params":{"case_id":"C\"1"}}"#,  // escape
        #"{"jsonrpc":"2.0", "id":1,"method":"case.get"}"#,  // whitespace
        #"{"id":1,"jsonrpc":"2.0","method":"case.get"}"#,  // other order
        #"{"jsonrpc":"2.0","id":-1,"method":"case.get"}"#,
        #"{"jsonrpc":"2.0","id":1.5,"method":"case.get"}"#,
        #"{"jsonrpc":"2.0","id":1e3,"method":"case.get"}"#,
        #"{"jsonrpc":"2.0","id":01,"method":"case.get"}"#,  // invalid JSON
        #"{"jsonrpc":"2.0","id":1234567890123456,"method":"case.get"}"#,  // 16 digits
        #"{"jsonrpc":"2.0","id":1,"method":"case.get","params":{"items":[1]}}"#,  // nested
        #"{"jsonrpc":"2.0","id":1,"method":"case.get","params":["C1"]}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"case.get"}x"#,  // trailing data
        #"{"jsonrpc":"2.0","id":1,"method":"case.get","params":{"a":"b"}"#,  // unterminated
        #"{"jsonrpc":"2.0","id":1,"method":"case.get","params":{"a":tru}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":3}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"a"#,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\u{1}\"}",  // control character
        #"{"jsonrpc":"2.0","id":7,"method":"x","params":{"a":true,"b":false,"a":"再"}}"#,  // repeated key
    ]

    static func fast(_ line: String) -> RPCRequest? {
        Array(line.utf8).withUnsafeBytes { RPCRequest.parseCommonShape($0) }
    }

    @Test(arguments: common)
    func theCommonShapeIsReadLikeTheFullParserReadsIt(_ line: String) throws {
        let fast = try #require(Self.fast(line))
        let full = try RPCRequest.validate(try JSONParser.parse(line)).get()
        #expect(fast.id == full.id)
        #expect(fast.method == full.method)
        #expect(fast.params == full.params)
    }

    @Test(arguments: others)
    func everythingElseIsLeftToTheFullParser(_ line: String) {
        #expect(Self.fast(line) == nil)
    }

    @Test func aRepeatedKeyIsRefusedByTheFullParserNamingIt() {
        let line = #"{"jsonrpc":"2.0","id":7,"method":"x","params":{"a":true,"b":false,"a":"再"}}"#
        #expect(Self.fast(line) == nil)
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(line) }
        do {
            _ = try JSONParser.parse(line)
        } catch {
            #expect(error.key == "a")
            #expect("\(error)".contains("\"a\""))
        }
    }

    @Test func invalidUTF8IsLeftToTheFullParser() {
        let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"case.get","params":{"case_id":""#.utf8) + [0xFF, 0xFE] + Array(#""}}"#.utf8)
        #expect(line.withUnsafeBytes { RPCRequest.parseCommonShape($0) } == nil)
    }
}
