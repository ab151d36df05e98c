// Core TOML 1.0 parser: document structure, keys, tables and arrays.
//
// Design notes
// - Works on validated UTF-8 bytes with an integer cursor; byte 0xFF (which
//   never occurs in valid UTF-8) is used as the end-of-input sentinel by
//   `peek`.
// - The document is built in an arena of table/array nodes so that tables
//   can be reopened and extended in place; the public `TOMLValue` tree is
//   produced once at the end.
// - Arrays and inline tables are parsed with an explicit stack, so parsing
//   itself does not recurse.
// - Every container records its depth; creating one deeper than
//   `TOML.maxNestingDepth` is an error, which bounds the remaining recursion
//   (building the result tree, and the recursive Equatable/deinit of the
//   resulting `indirect enum`).

enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22  // "
    static let hash: UInt8 = 0x23  // #
    static let apostrophe: UInt8 = 0x27  // '
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let equals: UInt8 = 0x3D
    static let lbracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let rbracket: UInt8 = 0x5D
    static let underscore: UInt8 = 0x5F
    static let lbrace: UInt8 = 0x7B
    static let rbrace: UInt8 = 0x7D
    static let eof: UInt8 = 0xFF

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    @inline(__always) static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    @inline(__always) static func isBareKeyChar(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
            || c == 0x5F || c == 0x2D
    }

    /// Control characters that may not appear literally in strings/comments
    /// (everything below U+0020 except tab, and DEL).
    @inline(__always) static func isForbiddenControl(_ c: UInt8) -> Bool {
        (c < 0x20 && c != 0x09) || c == 0x7F
    }
}

enum Ref {
    case table(Int)
    case array(Int)
    case scalar(TOMLValue)
}

enum TableState {
    /// Created as a parent of a `[x.y]` header; may still be defined by its
    /// own header later (or extended with dotted keys).
    case implicit
    /// Defined by `[header]` or as an element of `[[header]]`.
    case header
    /// Created by a dotted key (`a.b = 1`).
    case dotted
    /// An inline table or a table created by a dotted key inside one: frozen.
    case inline
}

struct NodeEntry {
    var ref: Ref
    var position: TOMLPosition
}

struct TableNode {
    var order: [[UInt8]] = []
    var entries: [[UInt8]: NodeEntry] = [:]
    var state: TableState
    var depth: Int
    var position: TOMLPosition?
}

struct ArrayNode {
    var items: [Ref]
    /// true for arrays of tables created by `[[header]]`; false for static
    /// (inline) arrays, which can never be extended.
    var isArrayOfTables: Bool
    var depth: Int
}

struct KeySegment {
    var raw: [UInt8]
    var offset: Int
}

struct Parser {
    var src: SourceText
    let b: [UInt8]
    let n: Int
    var i: Int
    let maxDepth: Int

    var tables: [TableNode]
    var arrays: [ArrayNode] = []
    /// The table that key/value lines currently go into.
    var current = 0

    init(bytes: [UInt8]) throws(TOMLError) {
        src = try SourceText(bytes: bytes)
        b = bytes
        n = bytes.count
        i = src.start
        maxDepth = TOML.maxNestingDepth
        tables = [TableNode(state: .header, depth: 0, position: nil)]
    }

    // MARK: - Low-level helpers

    @inline(__always) func peek(_ k: Int = 0) -> UInt8 {
        let j = i + k
        return j < n ? b[j] : ASCII.eof
    }

    mutating func error(_ message: String, at offset: Int? = nil) -> TOMLError {
        TOMLError(position: src.position(at: offset ?? i), message: message)
    }

    @inline(__always) mutating func skipWhitespace() {
        while i < n && (b[i] == ASCII.space || b[i] == ASCII.tab) { i += 1 }
    }

    /// Skips a comment starting at `#`, stopping before the line ending.
    mutating func skipComment() throws(TOMLError) {
        i += 1
        while i < n {
            let c = b[i]
            if c == ASCII.lf { return }
            if c == ASCII.cr {
                if i + 1 < n && b[i + 1] == ASCII.lf { return }
                throw error("carriage return in comment must be followed by a line feed")
            }
            if ASCII.isForbiddenControl(c) {
                throw error("\(describe(at: i)) is not allowed in a comment")
            }
            i += 1
        }
    }

    /// Skips whitespace, comments and newlines (inside arrays).
    mutating func skipWhitespaceCommentsAndNewlines() throws(TOMLError) {
        while i < n {
            let c = b[i]
            if c == ASCII.space || c == ASCII.tab || c == ASCII.lf {
                i += 1
            } else if c == ASCII.cr && i + 1 < n && b[i + 1] == ASCII.lf {
                i += 2
            } else if c == ASCII.hash {
                try skipComment()
            } else {
                return
            }
        }
    }

    /// After a key/value pair or header: optional whitespace and comment,
    /// then a newline or the end of input.
    mutating func expectLineEnd(after what: String) throws(TOMLError) {
        skipWhitespace()
        if peek() == ASCII.hash { try skipComment() }
        if i >= n { return }
        if b[i] == ASCII.lf {
            i += 1
            return
        }
        if b[i] == ASCII.cr && i + 1 < n && b[i + 1] == ASCII.lf {
            i += 2
            return
        }
        if b[i] == ASCII.cr {
            throw error("carriage return must be followed by a line feed")
        }
        throw error("expected end of line after \(what), found \(describe(at: i))")
    }

    /// Human-readable description of the character at `offset`.
    func describe(at offset: Int) -> String {
        guard offset < n, offset >= 0 else { return "end of input" }
        let c = b[offset]
        switch c {
        case ASCII.lf: return "end of line"
        case ASCII.cr: return "carriage return"
        case ASCII.tab: return "tab"
        case 0x20...0x7E: return "'\(Character(Unicode.Scalar(c)))'"
        case 0x00..<0x20, 0x7F: return "control character \(Parser.hexScalar(UInt32(c)))"
        default:
            if let s = scalar(at: offset) {
                return "'\(Character(s))' (\(Parser.hexScalar(s.value)))"
            }
            return "invalid byte"
        }
    }

    /// Decodes the (already validated) UTF-8 scalar starting at `offset`.
    func scalar(at offset: Int) -> Unicode.Scalar? {
        guard offset < n else { return nil }
        let c = b[offset]
        var len = 0
        var v: UInt32 = 0
        switch c {
        case 0x00..<0x80: return Unicode.Scalar(UInt32(c))
        case 0xC0..<0xE0: len = 1; v = UInt32(c & 0x1F)
        case 0xE0..<0xF0: len = 2; v = UInt32(c & 0x0F)
        case 0xF0..<0xF8: len = 3; v = UInt32(c & 0x07)
        default: return nil
        }
        guard offset + len < n else { return nil }
        for k in 1...len {
            v = (v << 6) | UInt32(b[offset + k] & 0x3F)
        }
        return Unicode.Scalar(v)
    }

    static func hexScalar(_ v: UInt32) -> String {
        var h = String(v, radix: 16, uppercase: true)
        while h.count < 4 { h = "0" + h }
        return "U+" + h
    }

    /// Renders a key path for messages, quoting segments that are not bare.
    static func render(_ segments: ArraySlice<KeySegment>) -> String {
        var parts: [String] = []
        for seg in segments {
            let bare = !seg.raw.isEmpty && seg.raw.allSatisfy(ASCII.isBareKeyChar)
            let s = String(decoding: seg.raw, as: UTF8.self)
            if bare {
                parts.append(s)
            } else {
                var q = "\""
                for u in s.unicodeScalars {
                    switch u {
                    case "\"": q += "\\\""
                    case "\\": q += "\\\\"
                    case "\n": q += "\\n"
                    case "\t": q += "\\t"
                    default:
                        if u.value < 0x20 || u.value == 0x7F {
                            q += "\\u" + String(hexScalar(u.value).dropFirst(2))
                        } else {
                            q.unicodeScalars.append(u)
                        }
                    }
                }
                parts.append(q + "\"")
            }
        }
        return parts.joined(separator: ".")
    }

    static func render(_ segments: [KeySegment], upTo index: Int) -> String {
        let end = min(max(index + 1, 0), segments.count)
        return render(segments[0..<end])
    }

    // MARK: - Document

    mutating func parseDocument() throws(TOMLError) {
        while true {
            skipWhitespace()
            guard i < n else { return }
            let c = b[i]
            switch c {
            case ASCII.hash:
                try skipComment()
            case ASCII.lf:
                i += 1
            case ASCII.cr:
                if i + 1 < n && b[i + 1] == ASCII.lf {
                    i += 2
                } else {
                    throw error("carriage return must be followed by a line feed")
                }
            case ASCII.lbracket:
                let isArray = peek(1) == ASCII.lbracket
                try parseHeader()
                try expectLineEnd(after: isArray ? "array-of-tables header" : "table header")
            default:
                if ASCII.isBareKeyChar(c) || c == ASCII.quote || c == ASCII.apostrophe {
                    try parseKeyValue(into: current)
                    try expectLineEnd(after: "value")
                } else {
                    throw error("expected a key or a table header, found \(describe(at: i))")
                }
            }
        }
    }

    // MARK: - Keys

    /// Parses a (possibly dotted) key and the whitespace after it.
    mutating func parseKey() throws(TOMLError) -> [KeySegment] {
        var segments: [KeySegment] = []
        while true {
            if segments.count >= maxDepth {
                throw error("key has too many dotted parts (limit is \(maxDepth))")
            }
            let offset = i
            let raw = try parseSimpleKey()
            segments.append(KeySegment(raw: raw, offset: offset))
            skipWhitespace()
            if peek() == ASCII.dot {
                i += 1
                skipWhitespace()
            } else {
                return segments
            }
        }
    }

    mutating func parseSimpleKey() throws(TOMLError) -> [UInt8] {
        let c = peek()
        if c == ASCII.quote {
            if peek(1) == ASCII.quote && peek(2) == ASCII.quote {
                throw error("multi-line strings cannot be used as keys")
            }
            return try parseBasicString()
        }
        if c == ASCII.apostrophe {
            if peek(1) == ASCII.apostrophe && peek(2) == ASCII.apostrophe {
                throw error("multi-line strings cannot be used as keys")
            }
            return try parseLiteralString()
        }
        let s = i
        while i < n && ASCII.isBareKeyChar(b[i]) { i += 1 }
        if i == s {
            throw error("expected a key, found \(describe(at: i))")
        }
        return Array(b[s..<i])
    }

    // MARK: - Tables

    mutating func newTable(state: TableState, depth: Int, position: TOMLPosition?, errorOffset: Int) throws(TOMLError) -> Int {
        if depth > maxDepth {
            throw error("tables/arrays nested too deeply (limit is \(maxDepth))", at: errorOffset)
        }
        tables.append(TableNode(state: state, depth: depth, position: position))
        return tables.count - 1
    }

    mutating func insert(_ ref: Ref, key: [UInt8], position: TOMLPosition, into table: Int) {
        tables[table].order.append(key)
        tables[table].entries[key] = NodeEntry(ref: ref, position: position)
    }

    /// `[a.b.c]` or `[[a.b.c]]`.
    mutating func parseHeader() throws(TOMLError) {
        let start = i
        let headerPosition = src.position(at: start)
        i += 1
        let isArray = peek() == ASCII.lbracket
        if isArray { i += 1 }
        skipWhitespace()
        let key = try parseKey()
        var segmentPositions: [TOMLPosition] = []
        segmentPositions.reserveCapacity(key.count)
        for seg in key { segmentPositions.append(src.position(at: seg.offset)) }
        if peek() != ASCII.rbracket {
            throw error("expected '\(isArray ? "]]" : "]")' to close the \(isArray ? "array-of-tables" : "table") header, found \(describe(at: i))")
        }
        i += 1
        if isArray {
            if peek() != ASCII.rbracket {
                throw error("expected ']]' to close the array-of-tables header, found \(describe(at: i))")
            }
            i += 1
        }

        guard let last = key.last, let lastPosition = segmentPositions.last else {
            throw error("expected a key", at: start)
        }
        // Walk/create the parent tables.
        var t = 0
        for k in 0..<(key.count - 1) {
            t = try descendForHeader(from: t, key: key, index: k, position: segmentPositions[k])
        }

        let path = { Parser.render(key, upTo: key.count - 1) }
        switch tables[t].entries[last.raw]?.ref {
        case nil:
            if isArray {
                let arrayDepth = tables[t].depth + 1
                let table = try newTable(state: .header, depth: arrayDepth + 1, position: headerPosition, errorOffset: start)
                arrays.append(ArrayNode(items: [.table(table)], isArrayOfTables: true, depth: arrayDepth))
                insert(.array(arrays.count - 1), key: last.raw, position: lastPosition, into: t)
                current = table
            } else {
                let table = try newTable(state: .header, depth: tables[t].depth + 1, position: headerPosition, errorOffset: start)
                insert(.table(table), key: last.raw, position: lastPosition, into: t)
                current = table
            }
        case .table(let c):
            if isArray {
                throw error("cannot define array of tables [[\(path())]]: '\(path())' is already a table", at: last.offset)
            }
            switch tables[c].state {
            case .implicit:
                tables[c].state = .header
                tables[c].position = headerPosition
                current = c
            case .header:
                throw error("table [\(path())] is defined more than once", at: start)
            case .dotted:
                throw error("table [\(path())] was already defined by dotted keys", at: start)
            case .inline:
                throw error("cannot redefine inline table '\(path())'", at: start)
            }
        case .array(let a):
            if !isArray {
                throw error("cannot define table [\(path())]: '\(path())' is already an array", at: start)
            }
            if !arrays[a].isArrayOfTables {
                throw error("cannot append to static array '\(path())' with [[\(path())]]", at: start)
            }
            let table = try newTable(state: .header, depth: arrays[a].depth + 1, position: headerPosition, errorOffset: start)
            arrays[a].items.append(.table(table))
            current = table
        case .scalar(let v):
            throw error("cannot define \(isArray ? "array of tables" : "table") '\(path())': key already holds a \(v.typeName)", at: last.offset)
        }
    }

    /// A parent segment of a header key.
    mutating func descendForHeader(from t: Int, key: [KeySegment], index: Int, position: TOMLPosition) throws(TOMLError) -> Int {
        let seg = key[index]
        switch tables[t].entries[seg.raw]?.ref {
        case nil:
            let table = try newTable(state: .implicit, depth: tables[t].depth + 1, position: position, errorOffset: seg.offset)
            insert(.table(table), key: seg.raw, position: position, into: t)
            return table
        case .table(let c):
            if tables[c].state == .inline {
                throw error("cannot extend inline table '\(Parser.render(key, upTo: index))'; inline tables are immutable", at: seg.offset)
            }
            return c
        case .array(let a):
            guard arrays[a].isArrayOfTables else {
                throw error("cannot extend static array '\(Parser.render(key, upTo: index))' with a table header", at: seg.offset)
            }
            guard let lastItem = arrays[a].items.last, case .table(let c) = lastItem else {
                throw error("array of tables '\(Parser.render(key, upTo: index))' has no table to extend", at: seg.offset)
            }
            return c
        case .scalar(let v):
            throw error("cannot use '\(Parser.render(key, upTo: index))' as a table: it already holds a \(v.typeName)", at: seg.offset)
        }
    }

    /// A parent segment of a dotted key in a key/value pair.
    mutating func descendForDottedKey(from t: Int, key: [KeySegment], index: Int, position: TOMLPosition) throws(TOMLError) -> Int {
        let seg = key[index]
        switch tables[t].entries[seg.raw]?.ref {
        case nil:
            let table = try newTable(state: .dotted, depth: tables[t].depth + 1, position: position, errorOffset: seg.offset)
            insert(.table(table), key: seg.raw, position: position, into: t)
            return table
        case .table(let c):
            switch tables[c].state {
            case .dotted:
                return c
            case .implicit:
                // Created only as the parent of a header so far; dotted keys
                // may define it now (it can no longer get its own header).
                tables[c].state = .dotted
                return c
            case .header:
                throw error("cannot add to table '\(Parser.render(key, upTo: index))' with dotted keys: it is defined by a [table] header", at: seg.offset)
            case .inline:
                throw error("cannot extend inline table '\(Parser.render(key, upTo: index))'; inline tables are immutable", at: seg.offset)
            }
        case .array:
            throw error("cannot add keys to array '\(Parser.render(key, upTo: index))' with dotted keys", at: seg.offset)
        case .scalar(let v):
            throw error("cannot use '\(Parser.render(key, upTo: index))' as a table: it already holds a \(v.typeName)", at: seg.offset)
        }
    }

    /// `key = value` into table `base` (the current section, or an inline
    /// table under construction).
    mutating func parseKeyValue(into base: Int) throws(TOMLError) {
        let target = try parseKeyAndEquals(into: base)
        let ref = try parseValue(depth: tables[target.table].depth + 1)
        insert(ref, key: target.key, position: target.position, into: target.table)
    }

    /// Where a key/value pair's value goes.
    struct KeyTarget {
        var table: Int
        var key: [UInt8]
        var position: TOMLPosition
    }

    /// Parses `key =` (and following whitespace), creating/validating the
    /// tables of a dotted key, and checks that the final key is new.
    mutating func parseKeyAndEquals(into base: Int) throws(TOMLError) -> KeyTarget {
        let key = try parseKey()
        var positions: [TOMLPosition] = []
        positions.reserveCapacity(key.count)
        for seg in key { positions.append(src.position(at: seg.offset)) }
        if peek() != ASCII.equals {
            throw error("expected '=' after key '\(Parser.render(key[...]))', found \(describe(at: i))")
        }
        i += 1
        skipWhitespace()

        guard let last = key.last, let lastPosition = positions.last else {
            throw error("expected a key")
        }
        var t = base
        for k in 0..<(key.count - 1) {
            t = try descendForDottedKey(from: t, key: key, index: k, position: positions[k])
        }
        if tables[t].entries[last.raw] != nil {
            throw error("duplicate key '\(Parser.render(key[...]))'", at: last.offset)
        }
        return KeyTarget(table: t, key: last.raw, position: lastPosition)
    }

    // MARK: - Values

    /// An array or inline table whose contents are being parsed.
    struct OpenContainer {
        var isArray: Bool
        /// Offset of the opening bracket/brace.
        var start: Int
        /// Depth of the container itself.
        var depth: Int
        /// Array elements parsed so far.
        var items: [Ref] = []
        /// Inline table node.
        var table: Int = 0
        /// Inline table: where the value being parsed goes.
        var target: KeyTarget? = nil
    }

    enum ValueStep {
        case begin(depth: Int)
        case done(Ref)
    }

    /// Parses a value; `depth` is the depth a container value would have.
    ///
    /// Arrays and inline tables are parsed with an explicit stack rather
    /// than by recursion, so native stack use does not grow with nesting.
    mutating func parseValue(depth: Int) throws(TOMLError) -> Ref {
        var open: [OpenContainer] = []
        var step = ValueStep.begin(depth: depth)
        while true {
            switch step {
            case .begin(let d):
                guard i < n else { throw error("expected a value, found end of input") }
                let c = b[i]
                if c == ASCII.lbracket {
                    if d > maxDepth {
                        throw error("tables/arrays nested too deeply (limit is \(maxDepth))")
                    }
                    open.append(OpenContainer(isArray: true, start: i, depth: d))
                    i += 1
                    step = try arrayNextElement(&open)
                } else if c == ASCII.lbrace {
                    let table = try newTable(state: .dotted, depth: d, position: src.position(at: i), errorOffset: i)
                    open.append(OpenContainer(isArray: false, start: i, depth: d, table: table))
                    i += 1
                    skipWhitespace()
                    if peek() == ASCII.rbrace {
                        i += 1
                        open.removeLast()
                        freeze(table)
                        step = .done(.table(table))
                    } else {
                        step = try inlineTableNextEntry(&open)
                    }
                } else {
                    step = .done(.scalar(try parseScalar()))
                }

            case .done(let ref):
                guard var top = open.popLast() else { return ref }
                if top.isArray {
                    top.items.append(ref)
                    try skipWhitespaceCommentsAndNewlines()
                    guard i < n else { throw unterminatedArray(top.start) }
                    if b[i] == ASCII.comma {
                        i += 1
                        open.append(top)
                        step = try arrayNextElement(&open)
                    } else if b[i] == ASCII.rbracket {
                        i += 1
                        arrays.append(ArrayNode(items: top.items, isArrayOfTables: false, depth: top.depth))
                        step = .done(.array(arrays.count - 1))
                    } else {
                        throw error("expected ',' or ']' in array, found \(describe(at: i))")
                    }
                } else {
                    if let target = top.target {
                        insert(ref, key: target.key, position: target.position, into: target.table)
                        top.target = nil
                    }
                    skipWhitespace()
                    guard i < n else { throw unterminatedInlineTable(top.start) }
                    let c = b[i]
                    if c == ASCII.comma {
                        i += 1
                        skipWhitespace()
                        if peek() == ASCII.rbrace {
                            throw error("trailing comma is not allowed in an inline table")
                        }
                        open.append(top)
                        step = try inlineTableNextEntry(&open)
                    } else if c == ASCII.rbrace {
                        i += 1
                        freeze(top.table)
                        step = .done(.table(top.table))
                    } else if c == ASCII.lf || c == ASCII.cr {
                        throw error("newlines are not allowed in an inline table (missing '}' for the '{' at \(src.position(at: top.start))?)")
                    } else {
                        throw error("expected ',' or '}' in inline table, found \(describe(at: i))")
                    }
                }
            }
        }
    }

    /// With an array on top of `open` (after '[' or ','): either closes it
    /// or starts its next element.
    private mutating func arrayNextElement(_ open: inout [OpenContainer]) throws(TOMLError) -> ValueStep {
        try skipWhitespaceCommentsAndNewlines()
        guard let top = open.last else { throw error("internal error: no open array") }
        guard i < n else { throw unterminatedArray(top.start) }
        if b[i] == ASCII.rbracket {
            i += 1
            open.removeLast()
            arrays.append(ArrayNode(items: top.items, isArrayOfTables: false, depth: top.depth))
            return .done(.array(arrays.count - 1))
        }
        return .begin(depth: top.depth + 1)
    }

    /// With an inline table on top of `open` (after '{' or ','): parses
    /// `key =` and starts the value.
    private mutating func inlineTableNextEntry(_ open: inout [OpenContainer]) throws(TOMLError) -> ValueStep {
        guard var top = open.popLast() else { throw error("internal error: no open inline table") }
        skipWhitespace()
        let target = try parseKeyAndEquals(into: top.table)
        top.target = target
        open.append(top)
        return .begin(depth: tables[target.table].depth + 1)
    }

    private mutating func unterminatedArray(_ start: Int) -> TOMLError {
        error("unterminated array (missing ']' for the '[' at \(src.position(at: start)))")
    }

    private mutating func unterminatedInlineTable(_ start: Int) -> TOMLError {
        error("unterminated inline table (missing '}' for the '{' at \(src.position(at: start)))")
    }

    /// A value that is not an array or inline table.
    mutating func parseScalar() throws(TOMLError) -> TOMLValue {
        guard i < n else { throw error("expected a value, found end of input") }
        let c = b[i]
        switch c {
        case ASCII.quote:
            if peek(1) == ASCII.quote && peek(2) == ASCII.quote {
                return .string(String(decoding: try parseMultilineBasicString(), as: UTF8.self))
            }
            return .string(String(decoding: try parseBasicString(), as: UTF8.self))
        case ASCII.apostrophe:
            if peek(1) == ASCII.apostrophe && peek(2) == ASCII.apostrophe {
                return .string(String(decoding: try parseMultilineLiteralString(), as: UTF8.self))
            }
            return .string(String(decoding: try parseLiteralString(), as: UTF8.self))
        case UInt8(ascii: "t"):
            try expectWord("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectWord("false")
            return .bool(false)
        case ASCII.plus, ASCII.minus, ASCII.zero...ASCII.nine, UInt8(ascii: "i"), UInt8(ascii: "n"):
            return try parseNumberOrDateTime()
        case ASCII.lf, ASCII.cr:
            throw error("expected a value, found end of line")
        case ASCII.hash:
            throw error("expected a value, found a comment")
        default:
            throw error("expected a value, found \(describe(at: i))")
        }
    }

    mutating func expectWord(_ word: StaticString) throws(TOMLError) {
        let start = i
        var ok = true
        word.withUTF8Buffer { w in
            if start + w.count > n {
                ok = false
                return
            }
            for k in 0..<w.count where b[start + k] != w[k] {
                ok = false
                return
            }
        }
        if !ok {
            throw error("invalid value (expected '\(word)')", at: start)
        }
        i += word.utf8CodeUnitCount
    }

    /// Marks an inline table and the tables its dotted keys created immutable.
    mutating func freeze(_ root: Int) {
        var stack = [root]
        while let t = stack.popLast() {
            tables[t].state = .inline
            for key in tables[t].order {
                if let e = tables[t].entries[key], case .table(let c) = e.ref, tables[c].state == .dotted {
                    stack.append(c)
                }
            }
        }
    }

    // MARK: - Building the result

    func buildRoot() -> TOMLTable {
        buildTable(0)
    }

    func buildTable(_ t: Int) -> TOMLTable {
        let node = tables[t]
        var keys: [String] = []
        keys.reserveCapacity(node.order.count)
        var storage: [[UInt8]: TOMLTable.Entry] = [:]
        storage.reserveCapacity(node.order.count)
        for raw in node.order {
            guard let e = node.entries[raw] else { continue }
            keys.append(String(decoding: raw, as: UTF8.self))
            storage[raw] = TOMLTable.Entry(value: buildValue(e.ref), position: e.position)
        }
        return TOMLTable(parsedKeys: keys, storage: storage, position: node.position)
    }

    func buildValue(_ ref: Ref) -> TOMLValue {
        switch ref {
        case .scalar(let v):
            return v
        case .table(let t):
            return .table(buildTable(t))
        case .array(let a):
            let node = arrays[a]
            var out: [TOMLValue] = []
            out.reserveCapacity(node.items.count)
            for item in node.items { out.append(buildValue(item)) }
            return .array(out)
        }
    }
}
