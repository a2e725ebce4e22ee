import NIOCore

/// Why an RTX packet does not give back its original (RFC 4588 section 4).
public enum RTXParseError: Error, Sendable, Hashable {
    /// The payload is shorter than the 2-byte original sequence number (OSN).
    case missingOriginalSequenceNumber(payloadBytes: Int)
}

/// The retransmission payload format of RFC 4588 section 4, session multiplexing (its own SSRC and
/// payload type, an `apt` of the original's):
///
///      0                   1                   2                   3
///     |                         RTP Header                            |
///     |            OSN                |                               |
///     |                  Original RTP Packet Payload                  |
///
/// The RTX packet keeps the original's timestamp, marker, CSRCs and header extension; it has its own
/// sequence numbers (`RTXSender`). The original's padding is not retransmitted.
public enum RTXPacket {
    /// The RTX packet carrying `original` (RFC 4588 section 4).
    public static func make(
        from original: RTPPacket, rtxSSRC: UInt32, rtxPayloadType: UInt8, rtxSequenceNumber: UInt16
    ) -> RTPPacket {
        var payload = ByteBuffer()
        payload.reserveCapacity(2 + original.payload.readableBytes)
        payload.writeInteger(original.sequenceNumber)
        payload.writeImmutableBuffer(original.payload)
        return RTPPacket(
            marker: original.marker, payloadType: rtxPayloadType, sequenceNumber: rtxSequenceNumber,
            timestamp: original.timestamp, ssrc: rtxSSRC, csrcs: original.csrcs,
            headerExtension: original.headerExtension, payload: payload)
    }

    /// The original packet inside `rtx`: the OSN as its sequence number, `originalSSRC` and
    /// `originalPayloadType` (the `apt` of the RTX payload type, RFC 4588 section 8.1), the rest of the
    /// payload (a slice, no copy). An RTX packet with only the OSN is a valid empty original; libwebrtc
    /// sends those for padding, so the caller may want to drop empty payloads.
    public static func original(
        from rtx: RTPPacket, originalSSRC: UInt32, originalPayloadType: UInt8
    ) throws(RTXParseError) -> RTPPacket {
        let payload = rtx.payload
        guard let osn = payload.getInteger(at: payload.readerIndex, as: UInt16.self),
            let rest = payload.getSlice(at: payload.readerIndex + 2, length: payload.readableBytes - 2)
        else { throw .missingOriginalSequenceNumber(payloadBytes: payload.readableBytes) }
        return RTPPacket(
            marker: rtx.marker, payloadType: originalPayloadType, sequenceNumber: osn, timestamp: rtx.timestamp,
            ssrc: originalSSRC, csrcs: rtx.csrcs, headerExtension: rtx.headerExtension, payload: rest)
    }
}

/// The sending side of one RTX stream (RFC 4588 section 4): its SSRC, the RTX payload type for each
/// original payload type (from the SDP's `a=fmtp:<rtx> apt=<original>`), and its own sequence counter
/// (start it at a random value, RFC 3550 section 5.1).
public struct RTXSender: Sendable, Hashable {
    public let ssrc: UInt32
    /// Original payload type -> RTX payload type.
    public var payloadTypes: [UInt8: UInt8]
    /// The sequence number the next RTX packet gets.
    public private(set) var nextSequenceNumber: UInt16

    public init(ssrc: UInt32, payloadTypes: [UInt8: UInt8], firstSequenceNumber: UInt16) {
        self.ssrc = ssrc
        self.payloadTypes = payloadTypes
        self.nextSequenceNumber = firstSequenceNumber
    }

    /// The RTX packet for `original`, nil when its payload type has no RTX payload type.
    public mutating func wrap(_ original: RTPPacket) -> RTPPacket? {
        guard let rtxPayloadType = payloadTypes[original.payloadType] else { return nil }
        let packet = RTXPacket.make(
            from: original, rtxSSRC: ssrc, rtxPayloadType: rtxPayloadType, rtxSequenceNumber: nextSequenceNumber)
        nextSequenceNumber &+= 1
        return packet
    }
}
