import NIOCore

/// Why bytes are not a transport-wide congestion control feedback packet.
public enum TransportFeedbackParseError: Error, Sendable, Hashable {
    /// The bytes end before what the header, a chunk or a receive delta needs (offsets from the packet's start).
    case truncated(needed: Int, have: Int)
    /// The version field is not 2.
    case unsupportedVersion(UInt8)
    /// Not RTPFB (205) with FMT 15.
    case notTransportFeedback(packetType: UInt8, format: UInt8)
    /// The padding count (last byte) is 0 or longer than the packet after its header.
    case invalidPadding(count: Int, available: Int)
    /// A packet status symbol of value 3, reserved by the draft, for the packet at `index` from the base.
    case reservedStatusSymbol(index: Int)
}

/// Transport-wide congestion control feedback, RTCP RTPFB FMT 15
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1): for `packets.count` consecutive
/// transport-wide sequence numbers from `baseSequenceNumber`, whether each arrived and, if it did, its
/// arrival time as a delta in 250 µs ticks from the previous received packet (the first one's from the
/// reference time, in 64 ms units).
///
///     | V=2|P| FMT=15 | PT=205 | length                                   |
///     | SSRC of packet sender                                             |
///     | SSRC of media source                                              |
///     | base sequence number (16)     | packet status count (16)          |
///     | reference time (24, 64 ms)                    | fb pkt. count (8) |
///     | packet chunks (16 bits each) ...    | recv deltas (8 or 16) ...   |
///
/// A packet chunk is a run length chunk (`0 | symbol (2) | run length (13)`) or a status vector chunk
/// (`1 | 0 | fourteen 1-bit symbols` or `1 | 1 | seven 2-bit symbols`); symbols: 0 not received, 1 small
/// delta (1 byte, unsigned), 2 large or negative delta (2 bytes, signed), 3 reserved.
///
/// Parsing follows libwebrtc (rtcp_packet/transport_feedback.cc): chunks may cover more packets than the
/// status count (the rest is ignored), trailing bytes after the last delta are ignored (old senders padded
/// without the P bit), the P bit's count must be valid. Serialization picks chunks as libwebrtc's encoder
/// would in spirit (run length for long runs, 1-bit vectors where no large delta is needed, 2-bit vectors
/// otherwise) and pads with the P bit set and the count in the last byte, as libwebrtc sends.
public struct TransportFeedback: Sendable, Hashable {
    public static let format: UInt8 = 15
    /// The receive delta unit, in microseconds.
    public static let deltaTick: Int64 = 250
    /// The reference time unit, in microseconds.
    public static let referenceTimeUnit: Int64 = 64_000
    /// The reference time is 24 bits: it wraps every 2^24 × 64 ms (about 12.4 days).
    public static let referenceTimeModulus: Int64 = 1 << 24
    /// The most packets one feedback can describe (the 16-bit status count).
    public static let maxPacketCount = Int(UInt16.max)

    /// One packet's fate.
    public enum PacketStatus: Sendable, Hashable {
        case notReceived
        /// Received, `delta` × 250 µs after the previous received packet (the first: after the reference
        /// time). 0...255 is written as a small delta, anything else as a large one.
        case received(delta: Int16)
    }

    /// One packet's sequence number and arrival time in microseconds on the feedback sender's clock,
    /// counted from reference time 0 (nil: not received).
    public struct PacketArrival: Sendable, Hashable {
        public var sequenceNumber: UInt16
        public var arrivalTime: Int64?

        public init(sequenceNumber: UInt16, arrivalTime: Int64?) {
            self.sequenceNumber = sequenceNumber
            self.arrivalTime = arrivalTime
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var baseSequenceNumber: UInt16
    /// 24 bits (higher bits are not written), in 64 ms units.
    public var referenceTime: UInt32
    /// Counts feedback packets (modulo 256) so the media sender can detect lost feedback.
    public var feedbackPacketCount: UInt8
    /// One status per sequence number from the base; at most `maxPacketCount` are written.
    public var packets: [PacketStatus]

    public init(
        senderSSRC: UInt32, mediaSSRC: UInt32, baseSequenceNumber: UInt16, referenceTime: UInt32,
        feedbackPacketCount: UInt8, packets: [PacketStatus]
    ) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.baseSequenceNumber = baseSequenceNumber
        self.referenceTime = referenceTime & 0xFF_FFFF
        self.feedbackPacketCount = feedbackPacketCount
        self.packets = packets
    }

    /// Each packet with its arrival time: reference time × 64 ms plus the running sum of deltas.
    public var arrivals: [PacketArrival] {
        var time = Int64(referenceTime & 0xFF_FFFF) * Self.referenceTimeUnit
        var result: [PacketArrival] = []
        result.reserveCapacity(packets.count)
        for (index, status) in packets.prefix(Self.maxPacketCount).enumerated() {
            let sequenceNumber = baseSequenceNumber &+ UInt16(truncatingIfNeeded: index)
            switch status {
            case .notReceived:
                result.append(PacketArrival(sequenceNumber: sequenceNumber, arrivalTime: nil))
            case .received(let delta):
                time += Int64(delta) * Self.deltaTick
                result.append(PacketArrival(sequenceNumber: sequenceNumber, arrivalTime: time))
            }
        }
        return result
    }

    // MARK: Parsing

    /// Parses one RTCP packet: `buffer`'s readable bytes start with the packet (for example the bytes of
    /// `RTCPPacket.unknown(packetType: 205, format: 15, bytes:)`); bytes past its length are ignored.
    public static func parse(_ buffer: ByteBuffer) throws(TransportFeedbackParseError) -> TransportFeedback {
        let base = buffer.readerIndex
        let have = buffer.readableBytes
        guard have >= 4, let b0 = buffer.getInteger(at: base, as: UInt8.self),
            let packetType = buffer.getInteger(at: base + 1, as: UInt8.self),
            let words = buffer.getInteger(at: base + 2, as: UInt16.self)
        else { throw .truncated(needed: 4, have: have) }
        guard b0 >> 6 == 2 else { throw .unsupportedVersion(b0 >> 6) }
        let format = b0 & 0x1F
        guard packetType == RTCPPacket.transportFeedbackType, format == Self.format else {
            throw .notTransportFeedback(packetType: packetType, format: format)
        }
        let size = 4 * (Int(words) + 1)
        guard have >= size else { throw .truncated(needed: size, have: have) }
        var end = size
        if b0 & 0x20 != 0 {
            let padding = Int(buffer.getInteger(at: base + size - 1, as: UInt8.self) ?? 0)
            guard padding > 0, padding <= size - 4 else { throw .invalidPadding(count: padding, available: size - 4) }
            end -= padding
        }
        guard end >= 20 else { throw .truncated(needed: 20, have: end) }
        func u16(_ offset: Int) -> UInt16 { buffer.getInteger(at: base + offset, as: UInt16.self) ?? 0 }
        func u32(_ offset: Int) -> UInt32 { buffer.getInteger(at: base + offset, as: UInt32.self) ?? 0 }
        let statusCount = Int(u16(14))
        let timeAndCount = u32(16)

        // Packet chunks until the status count is reached.
        var symbols: [UInt8] = []
        symbols.reserveCapacity(statusCount)
        var offset = 20
        while symbols.count < statusCount {
            guard offset + 2 <= end else { throw .truncated(needed: offset + 2, have: end) }
            let chunk = u16(offset)
            offset += 2
            let remaining = statusCount - symbols.count
            if chunk & 0x8000 == 0 {
                let symbol = UInt8((chunk >> 13) & 0x3)
                let run = min(Int(chunk & 0x1FFF), remaining)
                symbols.append(contentsOf: repeatElement(symbol, count: run))
            } else if chunk & 0x4000 == 0 {
                for bit in (0..<14).reversed().prefix(remaining) {
                    symbols.append(UInt8((chunk >> bit) & 0x1))
                }
            } else {
                for pair in (0..<7).reversed().prefix(remaining) {
                    symbols.append(UInt8((chunk >> (2 * pair)) & 0x3))
                }
            }
        }

        // Receive deltas, one per received packet.
        var packets: [PacketStatus] = []
        packets.reserveCapacity(statusCount)
        for (index, symbol) in symbols.enumerated() {
            switch symbol {
            case 0:
                packets.append(.notReceived)
            case 1:
                guard offset + 1 <= end else { throw .truncated(needed: offset + 1, have: end) }
                packets.append(.received(delta: Int16(buffer.getInteger(at: base + offset, as: UInt8.self) ?? 0)))
                offset += 1
            case 2:
                guard offset + 2 <= end else { throw .truncated(needed: offset + 2, have: end) }
                packets.append(.received(delta: Int16(bitPattern: u16(offset))))
                offset += 2
            default:
                throw .reservedStatusSymbol(index: index)
            }
        }
        return TransportFeedback(
            senderSSRC: u32(4), mediaSSRC: u32(8), baseSequenceNumber: u16(12), referenceTime: timeAndCount >> 8,
            feedbackPacketCount: UInt8(truncatingIfNeeded: timeAndCount), packets: packets)
    }

    /// Parses the bytes of an `RTCPPacket`; nil for any other packet than RTPFB FMT 15.
    public static func parse(_ packet: RTCPPacket) throws(TransportFeedbackParseError) -> TransportFeedback? {
        guard case .unknown(RTCPPacket.transportFeedbackType, Self.format, let bytes) = packet else { return nil }
        return try parse(bytes)
    }

    // MARK: Serialization

    /// Appends the packet, padded to 32 bits with the P bit set and the padding count in the last byte.
    /// At most `maxPacketCount` statuses are written (the packet then always fits the 16-bit length).
    public func serialize(into buffer: inout ByteBuffer) {
        let statuses = packets.prefix(Self.maxPacketCount)
        let symbols = statuses.map(Self.symbol)
        let start = buffer.writerIndex
        buffer.writeInteger(0x80 | Self.format as UInt8)
        buffer.writeInteger(RTCPPacket.transportFeedbackType)
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(senderSSRC)
        buffer.writeInteger(mediaSSRC)
        buffer.writeInteger(baseSequenceNumber)
        buffer.writeInteger(UInt16(statuses.count))
        buffer.writeInteger((referenceTime & 0xFF_FFFF) << 8 | UInt32(feedbackPacketCount))
        for chunk in Self.chunks(for: symbols) { buffer.writeInteger(chunk) }
        for status in statuses {
            guard case .received(let delta) = status else { continue }
            if (0...255).contains(delta) {
                buffer.writeInteger(UInt8(delta))
            } else {
                buffer.writeInteger(delta)
            }
        }
        let padding = (4 - (buffer.writerIndex - start) % 4) % 4
        if padding > 0 {
            buffer.writeRepeatingByte(0, count: padding - 1)
            buffer.writeInteger(UInt8(padding))
            buffer.setInteger(0xA0 | Self.format as UInt8, at: start)
        }
        buffer.setInteger(UInt16((buffer.writerIndex - start) / 4 - 1), at: start + 2)
    }

    /// The packet in a new buffer.
    public func serialized() -> ByteBuffer {
        var buffer = ByteBuffer()
        serialize(into: &buffer)
        return buffer
    }

    /// As an `RTCPPacket` for compound packets (`.unknown`, which is how RTCPPacket carries FMT 15).
    public var rtcpPacket: RTCPPacket {
        .unknown(packetType: RTCPPacket.transportFeedbackType, format: Self.format, bytes: serialized())
    }

    static func symbol(_ status: PacketStatus) -> UInt8 {
        switch status {
        case .notReceived: return 0
        case .received(let delta): return (0...255).contains(delta) ? 1 : 2
        }
    }

    /// Packet chunks for `symbols`: a run length chunk for a run of 14 or more equal symbols (or a run that
    /// ends the list, or a run of 7 or more where a 2-bit vector would otherwise be needed), else a 1-bit
    /// vector of the next 14 if none of them is a large delta, else a 2-bit vector of the next 7. Vector
    /// slots past the end are 0; the status count tells the reader where to stop.
    static func chunks(for symbols: [UInt8]) -> [UInt16] {
        var chunks: [UInt16] = []
        var index = 0
        while index < symbols.count {
            let symbol = symbols[index]
            var run = 1
            while index + run < symbols.count, run < 0x1FFF, symbols[index + run] == symbol { run += 1 }
            let window = symbols[index..<min(index + 14, symbols.count)]
            let needsTwoBits = window.contains(2)
            if run >= 14 || index + run == symbols.count || (needsTwoBits && run >= 7) {
                chunks.append(UInt16(symbol) << 13 | UInt16(run))
                index += run
            } else if !needsTwoBits {
                var chunk: UInt16 = 0x8000
                for (slot, value) in window.enumerated() { chunk |= UInt16(value) << (13 - slot) }
                chunks.append(chunk)
                index += window.count
            } else {
                var chunk: UInt16 = 0xC000
                let vector = symbols[index..<min(index + 7, symbols.count)]
                for (slot, value) in vector.enumerated() { chunk |= UInt16(value) << (12 - 2 * slot) }
                chunks.append(chunk)
                index += vector.count
            }
        }
        return chunks
    }
}
