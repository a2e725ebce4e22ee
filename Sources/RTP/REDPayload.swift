import NIOCore

/// Why bytes are not an RFC 2198 redundant-audio payload, or blocks cannot be written as one.
public enum REDPayloadError: Error, Sendable, Hashable {
    /// A block header starting at `offset` (4 bytes, or 1 for the primary's) runs past the payload's
    /// `payloadBytes`.
    case headerPastEnd(offset: Int, payloadBytes: Int)
    /// Redundant block `block` (0-based) declares `length` bytes where `available` are left.
    case blockPastEnd(block: Int, length: Int, available: Int)
    /// The payload is empty, or its headers all say more blocks follow and nothing is left: no primary.
    case missingPrimary
    /// Writing: no blocks at all (the primary is the last one).
    case noBlocks
    /// Writing: a redundant block longer than the 10-bit block length (1023 bytes).
    case blockTooLong(block: Int, length: Int)
    /// Writing: a redundant block's timestamp offset over the 14-bit field (16383 ticks).
    case offsetTooLarge(block: Int, offset: UInt32)
    /// Writing: a payload type over 7 bits.
    case invalidPayloadType(UInt8)
}

/// One block of an RFC 2198 payload: a payload type, how many RTP clock ticks before the packet's
/// timestamp its data was made (0 for the primary), and the data.
public struct REDBlock: Sendable, Hashable {
    public var payloadType: UInt8
    /// 14 bits on the wire; the primary's is 0 (its time is the RTP header's).
    public var timestampOffset: UInt32
    public var payload: ByteBuffer

    public init(payloadType: UInt8, timestampOffset: UInt32 = 0, payload: ByteBuffer) {
        self.payloadType = payloadType
        self.timestampOffset = timestampOffset
        self.payload = payload
    }
}

/// RFC 2198 section 3: redundant audio in one RTP payload. A 4-byte header per redundant block, then a
/// 1-byte header for the primary (the last block, whose length is the rest), then the blocks' data in
/// the same order:
///
///      0                   1                   2                   3
///     |F|   block PT  |  timestamp offset         |   block length    |   (F = 1: another block follows)
///     |0|   block PT  |                                                   (the primary's)
///
/// rtcbox sends, as libwebrtc does, one codec: the redundant blocks are the previous packets' payloads,
/// oldest first. Parsing gives slices of the packet (no copy) and never traps on what the network sent.
public enum REDPayload {
    /// The 10-bit block length's largest value.
    public static let maxBlockLength = 1023
    /// The 14-bit timestamp offset's largest value.
    public static let maxTimestampOffset: UInt32 = (1 << 14) - 1

    /// The blocks of `payload`, the primary last (its offset 0).
    public static func parse(_ payload: ByteBuffer) throws(REDPayloadError) -> [REDBlock] {
        let base = payload.readerIndex
        let total = payload.readableBytes
        guard total > 0 else { throw .missingPrimary }
        var headers: [(payloadType: UInt8, offset: UInt32, length: Int)] = []
        var position = 0
        while true {
            guard position < total else { throw .missingPrimary }
            guard let first = payload.getInteger(at: base + position, as: UInt8.self) else {
                throw .headerPastEnd(offset: position, payloadBytes: total)
            }
            if first & 0x80 == 0 {
                headers.append((first & 0x7F, 0, -1))
                position += 1
                break
            }
            guard position + 4 <= total, let header = payload.getInteger(at: base + position, as: UInt32.self) else {
                throw .headerPastEnd(offset: position, payloadBytes: total)
            }
            headers.append((first & 0x7F, header >> 10 & maxTimestampOffset, Int(header & 0x3FF)))
            position += 4
        }
        var blocks: [REDBlock] = []
        blocks.reserveCapacity(headers.count)
        for (index, header) in headers.enumerated() {
            let available = total - position
            let length = header.length < 0 ? available : header.length
            guard length <= available, let data = payload.getSlice(at: base + position, length: length) else {
                throw .blockPastEnd(block: index, length: length, available: available)
            }
            blocks.append(REDBlock(payloadType: header.payloadType, timestampOffset: header.offset, payload: data))
            position += length
        }
        return blocks
    }

    /// The payload of `blocks`, the primary last (its offset is not written). The caller leaves out a
    /// redundant block that does not fit the 10-bit length or the 14-bit offset: it is refused, not cut.
    public static func serialize(_ blocks: [REDBlock]) throws(REDPayloadError) -> ByteBuffer {
        guard let primary = blocks.last else { throw .noBlocks }
        var size = 1 + primary.payload.readableBytes
        for (index, block) in blocks.dropLast().enumerated() {
            guard block.payloadType < 128 else { throw .invalidPayloadType(block.payloadType) }
            guard block.payload.readableBytes <= maxBlockLength else {
                throw .blockTooLong(block: index, length: block.payload.readableBytes)
            }
            guard block.timestampOffset <= maxTimestampOffset else {
                throw .offsetTooLarge(block: index, offset: block.timestampOffset)
            }
            size += 4 + block.payload.readableBytes
        }
        guard primary.payloadType < 128 else { throw .invalidPayloadType(primary.payloadType) }
        var out = ByteBuffer()
        out.reserveCapacity(size)
        for block in blocks.dropLast() {
            out.writeInteger(UInt32(0x80 | block.payloadType) << 24 | block.timestampOffset << 10 | UInt32(block.payload.readableBytes))
        }
        out.writeInteger(primary.payloadType)
        for block in blocks { out.writeImmutableBuffer(block.payload) }
        return out
    }
}

/// What one RED packet carries as plain RTP packets of its primary payload type.
public struct REDSplit: Sendable, Hashable {
    /// The primary: the RED packet's sequence number, timestamp, marker and header extension; nil when the
    /// primary block is of another payload type.
    public var primary: RTPPacket?
    /// The redundant blocks as the packets they repeat, oldest first: the block `distance` places before
    /// the primary (libwebrtc's convention: the previous packets) gets the sequence number `distance`
    /// lower, the timestamp its offset lower, the marker (each audio packet is a whole frame) and no
    /// header extension (the RED packet's is the primary's). Empty blocks and blocks of another payload
    /// type are left out.
    public var redundant: [RTPPacket]

    public init(primary: RTPPacket?, redundant: [RTPPacket]) {
        self.primary = primary
        self.redundant = redundant
    }
}

extension REDPayload {
    /// Splits a RED packet into the packets of `primaryPayloadType` it carries.
    public static func split(_ packet: RTPPacket, primaryPayloadType: UInt8) throws(REDPayloadError) -> REDSplit {
        let blocks = try parse(packet.payload)
        var split = REDSplit(primary: nil, redundant: [])
        let redundantCount = blocks.count - 1
        for (index, block) in blocks.enumerated() where block.payloadType == primaryPayloadType {
            if index == redundantCount {
                split.primary = RTPPacket(marker: packet.marker, payloadType: primaryPayloadType,
                                          sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                                          ssrc: packet.ssrc, csrcs: packet.csrcs, headerExtension: packet.headerExtension,
                                          payload: block.payload)
                continue
            }
            guard block.payload.readableBytes > 0 else { continue }
            let distance = UInt16(truncatingIfNeeded: redundantCount - index)
            split.redundant.append(RTPPacket(marker: true, payloadType: primaryPayloadType,
                                             sequenceNumber: packet.sequenceNumber &- distance,
                                             timestamp: packet.timestamp &- block.timestampOffset,
                                             ssrc: packet.ssrc, csrcs: packet.csrcs, payload: block.payload))
        }
        return split
    }
}
