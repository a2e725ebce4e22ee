import NIOCore

/// Why bytes are not an RTP packet (RFC 3550 section 5.1) or its header extension (RFC 8285).
public enum RTPParseError: Error, Sendable, Hashable {
    /// The packet ends before the field that needs `needed` bytes; `have` bytes are there.
    case truncated(needed: Int, have: Int)
    /// The version field is not 2.
    case unsupportedVersion(UInt8)
    /// The padding count (last byte) is 0 or longer than what follows the header.
    case invalidPadding(count: Int, available: Int)
    /// A header-extension element's length runs past the extension (RFC 8285 section 4).
    case invalidExtensionElement(id: UInt8, length: Int, available: Int)
    /// A typed header-extension element has the wrong size for its kind.
    case invalidExtensionLength(uri: String, length: Int)
}

/// The raw header extension of RFC 3550 section 5.3.1: a 16-bit profile and its data (a multiple of 4
/// bytes). RFC 8285's one-byte (0xBEDE) and two-byte (0x100X) forms are read by `RTPHeaderExtensions`.
public struct RTPHeaderExtension: Sendable, Hashable {
    public var profile: UInt16
    /// The extension's data, a slice of the packet (no copy); serialization pads it to 4 bytes.
    public var data: ByteBuffer

    public init(profile: UInt16, data: ByteBuffer) {
        self.profile = profile
        self.data = data
    }
}

/// One RTP packet (RFC 3550 section 5.1), parsed without copying: the payload and the extension data are
/// slices of the datagram's buffer.
///
///      0                   1                   2                   3
///     |V=2|P|X|  CC   |M|     PT      |       sequence number         |
///     |                           timestamp                           |
///     |           synchronization source (SSRC) identifier            |
///     |            contributing source (CSRC) identifiers (CC)        |
///     |  profile (if X)               |  length in 32-bit words       |
///     |  header extension data ...  | payload ... | padding | count   |
public struct RTPPacket: Sendable, Hashable {
    /// The fixed header's size, without CSRCs and extension.
    public static let fixedHeaderSize = 12

    public var marker: Bool
    /// 7 bits; higher bits are dropped on serialization.
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    /// At most 15 (the CC field has 4 bits); serialization writes the first 15.
    public var csrcs: [UInt32]
    public var headerExtension: RTPHeaderExtension?
    public var payload: ByteBuffer
    /// Padding bytes after the payload including the count byte itself (RFC 3550 5.1); 0 is no padding.
    public var paddingLength: UInt8

    public init(
        marker: Bool = false, payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32,
        csrcs: [UInt32] = [], headerExtension: RTPHeaderExtension? = nil, payload: ByteBuffer,
        paddingLength: UInt8 = 0
    ) {
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.headerExtension = headerExtension
        self.payload = payload
        self.paddingLength = paddingLength
    }

    /// Parses the readable bytes of `buffer` (which is not consumed) as one RTP packet.
    public static func parse(_ buffer: ByteBuffer) throws(RTPParseError) -> RTPPacket {
        let base = buffer.readerIndex
        let total = buffer.readableBytes
        guard total >= fixedHeaderSize,
            let b0 = buffer.getInteger(at: base, as: UInt8.self),
            let b1 = buffer.getInteger(at: base + 1, as: UInt8.self),
            let seq = buffer.getInteger(at: base + 2, as: UInt16.self),
            let ts = buffer.getInteger(at: base + 4, as: UInt32.self),
            let ssrc = buffer.getInteger(at: base + 8, as: UInt32.self)
        else { throw .truncated(needed: fixedHeaderSize, have: total) }
        let version = b0 >> 6
        guard version == 2 else { throw .unsupportedVersion(version) }
        let hasPadding = b0 & 0x20 != 0
        let hasExtension = b0 & 0x10 != 0
        let csrcCount = Int(b0 & 0x0F)

        var offset = fixedHeaderSize
        let csrcEnd = offset + 4 * csrcCount
        guard total >= csrcEnd else { throw .truncated(needed: csrcEnd, have: total) }
        var csrcs: [UInt32] = []
        csrcs.reserveCapacity(csrcCount)
        while offset < csrcEnd, let csrc = buffer.getInteger(at: base + offset, as: UInt32.self) {
            csrcs.append(csrc)
            offset += 4
        }

        var headerExtension: RTPHeaderExtension?
        if hasExtension {
            guard total >= offset + 4,
                let profile = buffer.getInteger(at: base + offset, as: UInt16.self),
                let words = buffer.getInteger(at: base + offset + 2, as: UInt16.self)
            else { throw .truncated(needed: offset + 4, have: total) }
            let end = offset + 4 + 4 * Int(words)
            guard total >= end, let data = buffer.getSlice(at: base + offset + 4, length: 4 * Int(words)) else {
                throw .truncated(needed: end, have: total)
            }
            headerExtension = RTPHeaderExtension(profile: profile, data: data)
            offset = end
        }

        var payloadEnd = total
        var paddingLength: UInt8 = 0
        if hasPadding {
            guard total > offset, let count = buffer.getInteger(at: base + total - 1, as: UInt8.self) else {
                throw .truncated(needed: offset + 1, have: total)
            }
            guard count > 0, Int(count) <= total - offset else {
                throw .invalidPadding(count: Int(count), available: total - offset)
            }
            paddingLength = count
            payloadEnd = total - Int(count)
        }
        guard let payload = buffer.getSlice(at: base + offset, length: payloadEnd - offset) else {
            throw .truncated(needed: payloadEnd, have: total)
        }
        return RTPPacket(
            marker: b1 & 0x80 != 0, payloadType: b1 & 0x7F, sequenceNumber: seq, timestamp: ts, ssrc: ssrc,
            csrcs: csrcs, headerExtension: headerExtension, payload: payload, paddingLength: paddingLength)
    }

    /// The header's size as serialized (fixed header, CSRCs, extension).
    public var headerSize: Int {
        var size = Self.fixedHeaderSize + 4 * min(csrcs.count, 15)
        if let headerExtension { size += 4 + Self.paddedExtensionLength(headerExtension.data.readableBytes) }
        return size
    }

    /// The whole packet's size as serialized.
    public var serializedSize: Int { headerSize + payload.readableBytes + Int(paddingLength) }

    /// Appends the packet to `buffer`. Extension data is padded with zeros to a multiple of 4 bytes (and
    /// cut at 262140 bytes, the most the 16-bit length can say); padding bytes are zeros then the count.
    public func serialize(into buffer: inout ByteBuffer) {
        let csrcCount = min(csrcs.count, 15)
        var b0: UInt8 = 0x80 | UInt8(csrcCount)
        if paddingLength > 0 { b0 |= 0x20 }
        if headerExtension != nil { b0 |= 0x10 }
        buffer.reserveCapacity(minimumWritableBytes: serializedSize)
        buffer.writeInteger(b0)
        buffer.writeInteger((marker ? 0x80 : 0) | (payloadType & 0x7F) as UInt8)
        buffer.writeInteger(sequenceNumber)
        buffer.writeInteger(timestamp)
        buffer.writeInteger(ssrc)
        for csrc in csrcs.prefix(csrcCount) { buffer.writeInteger(csrc) }
        if let headerExtension {
            var data = headerExtension.data
            let length = Self.paddedExtensionLength(data.readableBytes)
            buffer.writeInteger(headerExtension.profile)
            buffer.writeInteger(UInt16(length / 4))
            if let slice = data.readSlice(length: min(length, data.readableBytes)) {
                buffer.writeImmutableBuffer(slice)
            }
            buffer.writeRepeatingByte(0, count: length - min(length, headerExtension.data.readableBytes))
        }
        buffer.writeImmutableBuffer(payload)
        if paddingLength > 0 {
            buffer.writeRepeatingByte(0, count: Int(paddingLength) - 1)
            buffer.writeInteger(paddingLength)
        }
    }

    /// The packet as a new buffer.
    public func serialized(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: serializedSize)
        serialize(into: &buffer)
        return buffer
    }

    private static func paddedExtensionLength(_ length: Int) -> Int {
        min((length + 3) & ~3, 4 * Int(UInt16.max))
    }
}
