import NIOCore

/// Splits a byte stream into `RawFrame`s.
///
/// A small state machine over the cumulation buffer: it peeks the 4-byte length, checks it against the
/// bound before waiting for (or allocating) a single byte of body, and asks for more data on partial input.
public struct RoomFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RawFrame

    public let maximumFrameLength: UInt32

    public init(maximumFrameLength: UInt32 = RoomProtocolConstants.defaultMaximumFrameLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.nextFrame(from: &buffer, maximumFrameLength: maximumFrameLength) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0 && seenEOF {
            throw RoomProtocolError.truncatedFrame(buffered: buffer.readableBytes)
        }
        return .needMoreData
    }

    /// The pure step, usable without a channel: returns the next complete frame, or nil when more bytes are needed.
    public static func nextFrame(from buffer: inout ByteBuffer, maximumFrameLength: UInt32) throws -> RawFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 1 else { throw RoomProtocolError.emptyFrame }
        guard length <= maximumFrameLength else {
            throw RoomProtocolError.frameTooLarge(length: length, maximum: maximumFrameLength)
        }
        let total = 4 + Int(length)
        guard buffer.readableBytes >= total, let wire = buffer.readSlice(length: total) else { return nil }
        let typeByte = wire.getInteger(at: wire.readerIndex + 4, as: UInt8.self) ?? 0
        let payload = wire.getSlice(at: wire.readerIndex + 5, length: Int(length) - 1) ?? ByteBuffer()
        return RawFrame(typeByte: typeByte, payload: payload, wire: wire)
    }
}
