import NIOCore

/// Splits a byte stream into lines ended by `\n`, dropping a `\r` before it (CRLF is
/// accepted). Remembers how far it has searched so a long partial line is scanned once.
/// The length cap is `ByteToMessageHandler`'s `maximumBufferSize`.
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    private var scanned = 0

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let newline = view.dropFirst(scanned).firstIndex(of: 0x0A) else {
            scanned = view.count
            return .needMoreData
        }
        let length = newline - view.startIndex
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        scanned = 0
        if line.readableBytesView.last == 0x0D { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)! }
        if line.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(line)) }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
