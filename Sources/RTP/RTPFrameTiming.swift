import NIOCore

/// rtcbox's own header extension (`urn:rtcbox:frame-timing`, negotiated with a=extmap like any other), on
/// every packet of a frame between rtcbox peers: the frame's exact presentation and decoding times in
/// microseconds and the room protocol's frame flags, so that what a player gets over UDP is what the
/// publisher sent, timestamps included (B-frames of `--copy` have dts != pts, which an RTP timestamp alone
/// cannot say). Peers that do not know it (browsers) ignore it (RFC 8285 section 4.1.1) and timestamps come
/// from the RTP clock instead. 13 bytes, one-byte header form (RFC 8285 section 4.2):
///
///     0                   1                   2                   3
///     |                     pts, µs (i64, network order)                |
///     |                                                               |
///     |                dts - pts, µs (i32, clamped)                   |
///     |     flags     |
public struct RTPFrameTiming: Sendable, Hashable {
    public static let size = 13
    public var pts: Int64
    public var dts: Int64
    public var flags: UInt8

    public init(pts: Int64, dts: Int64, flags: UInt8) {
        self.pts = pts
        // The offset is clamped to what 32 bits hold (±35 minutes: no real reorder is that deep).
        self.dts = pts &+ Int64(Int32(clamping: dts &- pts))
        self.flags = flags
    }

    public static func parse(_ data: ByteBuffer) throws(RTPParseError) -> RTPFrameTiming {
        guard data.readableBytes >= size,
              let pts = data.getInteger(at: data.readerIndex, as: Int64.self),
              let delta = data.getInteger(at: data.readerIndex + 8, as: Int32.self),
              let flags = data.getInteger(at: data.readerIndex + 12, as: UInt8.self)
        else { throw .truncated(needed: size, have: data.readableBytes) }
        return RTPFrameTiming(pts: pts, dts: pts &+ Int64(delta), flags: flags)
    }

    public var data: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(Self.size)
        buffer.writeInteger(pts)
        buffer.writeInteger(Int32(clamping: dts &- pts))
        buffer.writeInteger(flags)
        return buffer
    }
}
