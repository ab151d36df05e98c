import NIOCore

/// What the framer finds in the input.
public enum LineEvent {
    case line(ByteBuffer)
    /// A line grew past the limit. Everything after it is discarded.
    case tooLong
}

/// Splits a byte stream into lines ended by `\n`, dropping a `\r` before it (CRLF is
/// accepted). Remembers how far it has searched so a long partial line is scanned once.
///
/// Enforces the line limit itself: a line longer than `maxLine` produces one `.tooLong`
/// and from then on input is dropped, so the connection can be half-closed with the error
/// delivered instead of reset with unread data.
///
/// A plain value driven by the connection handler, which pulls one line at a time and can
/// stop pulling (when the client does not read its answers) without losing input.
public struct LineFramer {
    let maxLine: Int
    private var scanned = 0
    private(set) var discarding = false

    public init(maxLine: Int) { self.maxLine = maxLine }

    /// The next complete line (without its `\n` or `\r\n`), `.tooLong`, or nil when
    /// `buffer` holds no complete line yet. Empty lines are skipped.
    public mutating func next(_ buffer: inout ByteBuffer) -> LineEvent? {
        while true {
            if discarding {
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil
            }
            let view = buffer.readableBytesView
            guard let newline = view.dropFirst(scanned).firstIndex(of: 0x0A) else {
                scanned = view.count
                // Even if the next byte ends the line (and a `\r` is dropped), it is too long.
                if view.count > maxLine + 1 { return overflow(&buffer) }
                return nil
            }
            let length = newline - view.startIndex
            let content = length > 0 && view[newline - 1] == 0x0D ? length - 1 : length
            if content > maxLine { return overflow(&buffer) }
            let line = buffer.readSlice(length: content)!
            buffer.moveReaderIndex(forwardBy: length - content + 1)
            scanned = 0
            if content > 0 { return .line(line) }
        }
    }

    /// At end of input: what is left, if anything, is a last line without its `\n`.
    public mutating func last(_ buffer: inout ByteBuffer) -> LineEvent? {
        if let event = next(&buffer) { return event }
        guard !discarding, buffer.readableBytes > 0 else { return nil }
        var length = buffer.readableBytes
        if buffer.readableBytesView.last == 0x0D { length -= 1 }
        let line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(to: buffer.writerIndex)
        scanned = 0
        return length > 0 ? .line(line) : nil
    }

    private mutating func overflow(_ buffer: inout ByteBuffer) -> LineEvent {
        discarding = true
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .tooLong
    }
}
