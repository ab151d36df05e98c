import NIOCore

/// What the framing layer hands to the connection handler.
enum LineEvent {
    case line(ByteBuffer)
    /// A line grew past the limit. Everything after it is discarded.
    case tooLong
}

/// Splits a byte stream into lines ended by `\n`, dropping a `\r` before it (CRLF is
/// accepted). Remembers how far it has searched so a long partial line is scanned once.
///
/// Enforces the line limit itself: a line longer than `maxLine` produces one `.tooLong`
/// and from then on input is read and dropped, so the connection can be half-closed
/// with the error delivered instead of reset with unread data.
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = LineEvent
    let maxLine: Int
    private var scanned = 0
    private var discarding = false

    init(maxLine: Int) { self.maxLine = maxLine }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if discarding {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        guard let newline = view.dropFirst(scanned).firstIndex(of: 0x0A) else {
            scanned = view.count
            // Even if the next byte ends the line (and a `\r` is dropped), it is too long.
            if view.count > maxLine + 1 { overflow(context: context, buffer: &buffer) }
            return .needMoreData
        }
        let length = newline - view.startIndex
        let content = length > 0 && view[newline - 1] == 0x0D ? length - 1 : length
        if content > maxLine {
            overflow(context: context, buffer: &buffer)
            return .needMoreData
        }
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        scanned = 0
        if line.readableBytesView.last == 0x0D { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)! }
        if line.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.line(line))) }
        return .continue
    }

    private mutating func overflow(context: ChannelHandlerContext, buffer: inout ByteBuffer) {
        discarding = true
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireChannelRead(wrapInboundOut(.tooLong))
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
