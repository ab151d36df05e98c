/// Entry points of the TOML 1.0 parser.
public enum TOML {
    /// Maximum nesting depth of tables and arrays (the root table is depth 0).
    /// Deeper documents are rejected with a `TOMLError`.
    public static let maxNestingDepth = 128

    /// Parses a TOML 1.0 document.
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses a TOML 1.0 document given as UTF-8 bytes. Invalid UTF-8 is
    /// reported as an error. A leading UTF-8 byte order mark is skipped.
    public static func parse(bytes: [UInt8]) throws(TOMLError) -> TOMLTable {
        var parser = try Parser(bytes: bytes)
        try parser.parseDocument()
        return parser.buildRoot()
    }
}
