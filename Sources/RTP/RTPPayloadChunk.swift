import NIOCore

/// One RTP payload a packetizer produced and the marker bit its packet carries; the caller adds the
/// header (sequence number, timestamp, SSRC).
public struct RTPPayloadChunk: Sendable, Hashable {
    public var payload: ByteBuffer
    public var marker: Bool

    public init(payload: ByteBuffer, marker: Bool) {
        self.payload = payload
        self.marker = marker
    }
}
