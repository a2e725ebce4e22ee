import NIOCore

/// The type byte that follows each frame's length.
public enum FrameType: UInt8, Sendable, CaseIterable {
    /// First frame of each side: magic, versions, JSON details.
    case hello = 0x01
    /// A JSON control message (request, result, error or event).
    case control = 0x02
    /// A media frame: fixed binary header, then the codec payload.
    case media = 0x03
}

/// One frame as it comes off the wire, before its payload is interpreted.
///
/// `wire` is the whole frame including the length prefix (a slice of the read buffer, no copy), so a
/// server can forward a media frame to every subscriber without building it again.
public struct RawFrame: Sendable, Equatable {
    public var typeByte: UInt8
    public var payload: ByteBuffer
    public var wire: ByteBuffer

    public var type: FrameType? { FrameType(rawValue: typeByte) }

    public init(typeByte: UInt8, payload: ByteBuffer, wire: ByteBuffer) {
        self.typeByte = typeByte
        self.payload = payload
        self.wire = wire
    }
}

extension ByteBuffer {
    /// Writes one frame: `u32 length (big endian, type byte + payload) | u8 type | payload`.
    /// The payload is written by `body`, and the length is filled in afterwards.
    @discardableResult
    public mutating func writeFrame(_ type: FrameType, body: (inout ByteBuffer) throws -> Void) rethrows -> Int {
        let start = writerIndex
        writeInteger(UInt32(0))
        writeInteger(type.rawValue)
        try body(&self)
        let length = writerIndex - start - 4
        setInteger(UInt32(length), at: start)
        return writerIndex - start
    }
}
