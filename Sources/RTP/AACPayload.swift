import NIOCore

/// Why an RFC 3640 payload cannot be made or read.
public enum AACPayloadError: Error, Sendable, Hashable {
    /// An access unit over the 13-bit AU-size (8191 bytes) or the configured limit.
    case accessUnitTooLarge(size: Int, limit: Int)
    case truncated(needed: Int, have: Int)
    /// AU-headers-length (in bits) is 0 or not a multiple of 16 (AU-size 13 + AU-index 3).
    case invalidHeadersLength(bits: Int)
    /// A non-zero AU-index or AU-index-delta: interleaving, which this profile does not use.
    case interleaved(index: UInt8)
    /// The AU sizes do not add up to the data in the packet.
    case lengthMismatch(declared: Int, have: Int)
}

/// RFC 3640 mpeg4-generic in mode AAC-hbr (section 3.3.6): an AU-header section (16-bit
/// AU-headers-length in bits, then per AU a 13-bit AU-size and a 3-bit AU-index/-delta, all 0 here: no
/// interleaving), then the raw AAC frames (no ADTS).
public enum AACPayload {
    /// The largest AU the 13-bit AU-size can describe.
    public static let maxAccessUnitSize = 8191

    /// The `a=fmtp` parameters for AAC-hbr, `config` the AudioSpecificConfig in hex (upper case, as
    /// FFmpeg writes it): `streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;
    /// indexdeltalength=3;config=1190`.
    public static func fmtp(audioSpecificConfig: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var hex: [UInt8] = []
        for byte in audioSpecificConfig {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return "streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config="
            + String(decoding: hex, as: UTF8.self)
    }

    /// The 2-byte AudioSpecificConfig (ISO 14496-3 1.6.2.1) for an object type (2 is AAC-LC), one of the
    /// 13 standard sampling rates and a channel configuration 1-7; nil for another rate or channel count.
    public static func audioSpecificConfig(objectType: UInt8 = 2, sampleRate: Int, channels: Int) -> [UInt8]? {
        let rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]
        guard let index = rates.firstIndex(of: sampleRate), (1...7).contains(channels), (1...30).contains(objectType)
        else { return nil }
        let bits = UInt16(objectType) << 11 | UInt16(index) << 7 | UInt16(channels) << 3
        return [UInt8(bits >> 8), UInt8(bits & 0xFF)]
    }
}

/// Packs raw AAC frames (access units) into RFC 3640 AAC-hbr payloads: as many whole frames per packet
/// as fit, or one frame larger than a packet in fragments (section 3.2.3), each carrying the AU's full
/// size. Marker (section 3.1): set on a packet of whole frames and on a frame's last fragment.
public struct AACPacketizer: Sendable {
    public struct Packet: Sendable, Hashable {
        public var payload: ByteBuffer
        public var marker: Bool
        /// Add to the first frame's RTP timestamp: the packet's first frame index times samplesPerFrame.
        public var timestampOffset: UInt32
    }

    public let maxPayloadSize: Int
    public let samplesPerFrame: UInt32

    /// `maxPayloadSize` is at least 5 (header section and one byte).
    public init(maxPayloadSize: Int = 1200, samplesPerFrame: UInt32 = 1024) {
        precondition(maxPayloadSize >= 5, "an AAC-hbr payload needs 5 bytes")
        self.maxPayloadSize = maxPayloadSize
        self.samplesPerFrame = samplesPerFrame
    }

    /// The payloads for consecutive `frames` (the first at the caller's RTP timestamp).
    public func packetize(frames: [ByteBuffer]) throws(AACPayloadError) -> [Packet] {
        for frame in frames where frame.readableBytes > AACPayload.maxAccessUnitSize {
            throw .accessUnitTooLarge(size: frame.readableBytes, limit: AACPayload.maxAccessUnitSize)
        }
        var packets: [Packet] = []
        var index = 0
        while index < frames.count {
            let offset = UInt32(truncatingIfNeeded: index) &* samplesPerFrame
            if 4 + frames[index].readableBytes > maxPayloadSize {
                var rest = frames[index]
                let size = rest.readableBytes
                while let part = rest.readSlice(length: min(maxPayloadSize - 4, rest.readableBytes)), part.readableBytes > 0 {
                    packets.append(Packet(
                        payload: Self.payload([part], sizes: [size]), marker: rest.readableBytes == 0,
                        timestampOffset: offset))
                }
                index += 1
                continue
            }
            var group: [ByteBuffer] = []
            var used = 2
            while index < frames.count, used + 2 + frames[index].readableBytes <= maxPayloadSize {
                used += 2 + frames[index].readableBytes
                group.append(frames[index])
                index += 1
            }
            packets.append(Packet(payload: Self.payload(group, sizes: group.map(\.readableBytes)), marker: true, timestampOffset: offset))
        }
        return packets
    }

    static func payload(_ parts: [ByteBuffer], sizes: [Int]) -> ByteBuffer {
        var payload = ByteBuffer()
        payload.reserveCapacity(2 + 2 * sizes.count + parts.reduce(0) { $0 + $1.readableBytes })
        payload.writeInteger(UInt16(16 * sizes.count))
        for size in sizes { payload.writeInteger(UInt16(size) << 3) }
        for part in parts { payload.writeImmutableBuffer(part) }
        return payload
    }
}

/// A raw AAC frame read from RTP, with its RTP timestamp.
public struct AACAccessUnit: Sendable, Hashable {
    public var timestamp: UInt32
    public var data: ByteBuffer
}

/// Reads RFC 3640 AAC-hbr payloads back into raw AAC frames; joins a fragmented frame across
/// consecutive packets of one timestamp (section 3.2.3) and drops it when a fragment is missing. Pure
/// and bounded: it holds at most one partial frame of at most `maxAccessUnitSize` bytes.
public struct AACDepacketizer: Sendable {
    public let samplesPerFrame: UInt32
    public let maxAccessUnitSize: Int
    private var partial: (timestamp: UInt32, sequenceNumber: UInt16, size: Int, data: ByteBuffer)?
    /// Fragmented frames dropped because a fragment was missing.
    public private(set) var droppedFragmentedFrames = 0

    public init(samplesPerFrame: UInt32 = 1024, maxAccessUnitSize: Int = AACPayload.maxAccessUnitSize) {
        self.samplesPerFrame = samplesPerFrame
        self.maxAccessUnitSize = min(maxAccessUnitSize, AACPayload.maxAccessUnitSize)
    }

    /// The frames one packet completes: its whole frames (slices of `payload`), or a fragmented frame
    /// on its last fragment; empty while a fragmented frame is incomplete.
    public mutating func depacketize(
        sequenceNumber: UInt16, timestamp: UInt32, marker: Bool, payload: ByteBuffer
    ) throws(AACPayloadError) -> [AACAccessUnit] {
        let (sizes, data) = try Self.parse(payload)
        let available = data.readableBytes
        if sizes.count == 1, sizes[0] > available {
            return try fragment(sequenceNumber: sequenceNumber, timestamp: timestamp, marker: marker, size: sizes[0], data: data)
        }
        if partial != nil {
            partial = nil
            droppedFragmentedFrames += 1
        }
        let declared = sizes.reduce(0, +)
        guard declared == available else { throw .lengthMismatch(declared: declared, have: available) }
        var units: [AACAccessUnit] = []
        var offset = data.readerIndex
        for (index, size) in sizes.enumerated() {
            guard size <= maxAccessUnitSize else { throw .accessUnitTooLarge(size: size, limit: maxAccessUnitSize) }
            if size > 0, let frame = data.getSlice(at: offset, length: size) {
                units.append(AACAccessUnit(timestamp: timestamp &+ UInt32(index) &* samplesPerFrame, data: frame))
            }
            offset += size
        }
        return units
    }

    private mutating func fragment(
        sequenceNumber: UInt16, timestamp: UInt32, marker: Bool, size: Int, data: ByteBuffer
    ) throws(AACPayloadError) -> [AACAccessUnit] {
        guard size <= maxAccessUnitSize else {
            partial = nil
            throw .accessUnitTooLarge(size: size, limit: maxAccessUnitSize)
        }
        if var current = partial, current.timestamp == timestamp, current.size == size,
            current.sequenceNumber &+ 1 == sequenceNumber
        {
            current.data.writeImmutableBuffer(data)
            current.sequenceNumber = sequenceNumber
            partial = current
        } else {
            if partial != nil { droppedFragmentedFrames += 1 }
            var buffer = ByteBuffer()
            buffer.reserveCapacity(size)
            buffer.writeImmutableBuffer(data)
            partial = (timestamp, sequenceNumber, size, buffer)
        }
        guard let current = partial else { return [] }
        if current.data.readableBytes > size || (marker && current.data.readableBytes != size) {
            // More than the AU, or its last fragment with bytes missing (a lost first or middle one).
            partial = nil
            droppedFragmentedFrames += 1
            return []
        }
        guard current.data.readableBytes == size else { return [] }
        partial = nil
        return [AACAccessUnit(timestamp: timestamp, data: current.data)]
    }

    /// The AU sizes and the data section of one payload.
    static func parse(_ payload: ByteBuffer) throws(AACPayloadError) -> (sizes: [Int], data: ByteBuffer) {
        let base = payload.readerIndex
        guard let bits = payload.getInteger(at: base, as: UInt16.self) else {
            throw .truncated(needed: 2, have: payload.readableBytes)
        }
        guard bits > 0, bits % 16 == 0 else { throw .invalidHeadersLength(bits: Int(bits)) }
        let count = Int(bits / 16)
        let headerBytes = 2 + 2 * count
        guard payload.readableBytes >= headerBytes,
            let data = payload.getSlice(at: base + headerBytes, length: payload.readableBytes - headerBytes)
        else { throw .truncated(needed: headerBytes, have: payload.readableBytes) }
        var sizes: [Int] = []
        sizes.reserveCapacity(count)
        for index in 0..<count {
            let header = payload.getInteger(at: base + 2 + 2 * index, as: UInt16.self) ?? 0
            guard header & 0x7 == 0 else { throw .interleaved(index: UInt8(header & 0x7)) }
            sizes.append(Int(header >> 3))
        }
        return (sizes, data)
    }
}
