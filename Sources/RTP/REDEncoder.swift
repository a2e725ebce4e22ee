import NIOCore

/// The sending side of RFC 2198 redundancy for one audio stream, as libwebrtc's RED encoder: each packet
/// also carries the payloads of the previous one or two packets, so a lost packet is recovered from the
/// next one without a round trip (audio is worth no NACK: a retransmission comes after the jitter
/// buffer gave up on it). It remembers the last `maxDistance` whole-frame packets (sequence number,
/// timestamp, payload) and wraps each new one with those that are exactly 1, 2, ... sequence numbers
/// before it (the receiver derives a block's sequence number from its place): a packet that was not
/// remembered (a fragment of a large AAC frame) ends the run. A redundant block that would not fit the
/// 10-bit length, the 14-bit timestamp offset or the payload budget is left out, with the older ones.
/// Pure and bounded.
public struct REDEncoder: Sendable {
    /// How many previous packets a RED packet can repeat.
    public static let maxDistance = 2

    public let primaryPayloadType: UInt8
    public let redPayloadType: UInt8
    /// The largest RTP payload to make (RED headers included).
    public let maxPayloadSize: Int
    /// The last packets encoded, oldest first, at most `maxDistance`.
    private var history: [(sequenceNumber: UInt16, timestamp: UInt32, payload: ByteBuffer)] = []

    public init(primaryPayloadType: UInt8, redPayloadType: UInt8, maxPayloadSize: Int = 1200) {
        self.primaryPayloadType = primaryPayloadType
        self.redPayloadType = redPayloadType
        self.maxPayloadSize = maxPayloadSize
    }

    /// What to send for `primary` (one whole frame of the primary payload type): the RED packet repeating
    /// up to `distance` (0...2) previous packets, or `primary` itself when `distance` is 0 or none of them
    /// fits. Either way `primary` is remembered for the packets after it.
    public mutating func encode(_ primary: RTPPacket, distance: Int) -> RTPPacket {
        defer {
            history.append((primary.sequenceNumber, primary.timestamp, primary.payload))
            if history.count > Self.maxDistance { history.removeFirst(history.count - Self.maxDistance) }
        }
        var size = 1 + primary.payload.readableBytes
        var blocks: [REDBlock] = []
        for d in 1...Self.maxDistance where d <= distance {
            guard let previous = history.last(where: { $0.sequenceNumber == primary.sequenceNumber &- UInt16(d) }) else { break }
            let offset = primary.timestamp &- previous.timestamp
            let length = previous.payload.readableBytes
            guard length <= REDPayload.maxBlockLength, offset <= REDPayload.maxTimestampOffset,
                  size + 4 + length <= maxPayloadSize
            else { break }
            size += 4 + length
            blocks.insert(REDBlock(payloadType: primaryPayloadType, timestampOffset: offset, payload: previous.payload), at: 0)
        }
        guard !blocks.isEmpty, primary.payloadType == primaryPayloadType,
              let payload = try? REDPayload.serialize(blocks + [REDBlock(payloadType: primaryPayloadType, payload: primary.payload)])
        else { return primary }
        var packet = primary
        packet.payloadType = redPayloadType
        packet.payload = payload
        return packet
    }

    /// Whether to send redundancy now, from the loss rate the remote reports of what we send: on above
    /// `above`, off again only below half of it (so a rate near the threshold does not flap it each
    /// report). An infinite `above` keeps it off.
    public static func redundancy(lossRate: Double, above: Double, wasOn: Bool) -> Bool {
        lossRate > above || (wasOn && lossRate >= above / 2)
    }
}
