import NIOCore

/// Why bytes are not an RTCP packet (RFC 3550 section 6.4, RFC 4585 section 6.1, RFC 5104 section 4.3).
public enum RTCPParseError: Error, Sendable, Hashable {
    /// The compound packet is empty.
    case empty
    /// The bytes end before what the header or body needs (`packetType` nil for the common header).
    case truncated(packetType: UInt8?, needed: Int, have: Int)
    /// The version field is not 2.
    case unsupportedVersion(UInt8)
    /// The padding count (last byte) is 0 or longer than the body.
    case invalidPadding(count: Int, available: Int)
    /// An SDES chunk has no terminating null item within the packet (RFC 3550 6.5).
    case unterminatedSourceDescription
    /// A REMB bitrate (mantissa << exponent) does not fit 64 bits.
    case invalidREMBBitrate(exponent: UInt8, mantissa: UInt32)
}

/// One RTCP packet of a compound packet. RFC 3550's SR, RR, SDES and BYE; RFC 4585's generic NACK
/// (RTPFB 1) and PLI (PSFB 1); RFC 5104's FIR (PSFB 4); REMB (PSFB 15, draft-alvestrand-rmcat-remb).
/// Anything else (APP, XR, transport-cc's RTPFB 15, ...) is `.unknown` with the whole packet's bytes.
public enum RTCPPacket: Sendable, Hashable {
    case senderReport(RTCPSenderReport)
    case receiverReport(RTCPReceiverReport)
    case sourceDescription(RTCPSourceDescription)
    case bye(RTCPBye)
    case nack(RTCPNack)
    case pictureLossIndication(RTCPPictureLossIndication)
    case fullIntraRequest(RTCPFullIntraRequest)
    case receiverEstimatedMaxBitrate(RTCPReceiverEstimatedMaxBitrate)
    /// `format` is the header's 5-bit count/FMT field; `bytes` the packet, header and padding included.
    case unknown(packetType: UInt8, format: UInt8, bytes: ByteBuffer)

    public static let senderReportType: UInt8 = 200
    public static let receiverReportType: UInt8 = 201
    public static let sourceDescriptionType: UInt8 = 202
    public static let byeType: UInt8 = 203
    public static let applicationType: UInt8 = 204
    /// Transport layer feedback (RFC 4585 6.2).
    public static let transportFeedbackType: UInt8 = 205
    /// Payload-specific feedback (RFC 4585 6.3).
    public static let payloadFeedbackType: UInt8 = 206

    /// Parses a compound packet (RFC 3550 6.1): packets back to back, each with its own length. Not
    /// enforced: that the first is SR or RR (RFC 5506 reduced-size RTCP sends feedback alone) and that
    /// only the last is padded.
    public static func parseCompound(_ buffer: ByteBuffer) throws(RTCPParseError) -> [RTCPPacket] {
        guard buffer.readableBytes > 0 else { throw .empty }
        var packets: [RTCPPacket] = []
        var rest = buffer
        while rest.readableBytes > 0 {
            guard let words = rest.getInteger(at: rest.readerIndex + 2, as: UInt16.self) else {
                throw .truncated(packetType: nil, needed: 4, have: rest.readableBytes)
            }
            let size = 4 * (Int(words) + 1)
            guard let packet = rest.readSlice(length: size) else {
                throw .truncated(packetType: rest.getInteger(at: rest.readerIndex + 1), needed: size, have: rest.readableBytes)
            }
            packets.append(try parse(packet))
        }
        return packets
    }

    /// Parses one RTCP packet: the readable bytes of `buffer`, which must be exactly the packet.
    public static func parse(_ buffer: ByteBuffer) throws(RTCPParseError) -> RTCPPacket {
        let base = buffer.readerIndex
        let size = buffer.readableBytes
        guard size >= 4, let b0 = buffer.getInteger(at: base, as: UInt8.self),
            let packetType = buffer.getInteger(at: base + 1, as: UInt8.self)
        else { throw .truncated(packetType: nil, needed: 4, have: size) }
        let version = b0 >> 6
        guard version == 2 else { throw .unsupportedVersion(version) }
        let count = b0 & 0x1F
        var bodyLength = size - 4
        if b0 & 0x20 != 0 {
            let padding = Int(buffer.getInteger(at: base + size - 1, as: UInt8.self) ?? 0)
            guard padding > 0, padding <= bodyLength else {
                throw .invalidPadding(count: padding, available: bodyLength)
            }
            bodyLength -= padding
        }
        guard let body = buffer.getSlice(at: base + 4, length: bodyLength) else {
            throw .truncated(packetType: packetType, needed: size, have: size)
        }
        var reader = RTCPBodyReader(body: body, packetType: packetType)
        switch packetType {
        case senderReportType:
            return .senderReport(try RTCPSenderReport(reader: &reader, count: count))
        case receiverReportType:
            return .receiverReport(try RTCPReceiverReport(reader: &reader, count: count))
        case sourceDescriptionType:
            return .sourceDescription(try RTCPSourceDescription(reader: &reader, count: count))
        case byeType:
            return .bye(try RTCPBye(reader: &reader, count: count))
        case transportFeedbackType where count == RTCPNack.format:
            return .nack(try RTCPNack(reader: &reader))
        case payloadFeedbackType where count == RTCPPictureLossIndication.format:
            return .pictureLossIndication(try RTCPPictureLossIndication(reader: &reader))
        case payloadFeedbackType where count == RTCPFullIntraRequest.format:
            return .fullIntraRequest(try RTCPFullIntraRequest(reader: &reader))
        case payloadFeedbackType where count == RTCPReceiverEstimatedMaxBitrate.format:
            if let remb = try RTCPReceiverEstimatedMaxBitrate(reader: &reader) {
                return .receiverEstimatedMaxBitrate(remb)
            }
        default:
            break
        }
        return .unknown(packetType: packetType, format: count, bytes: buffer)
    }

    /// Appends the packet (never padded, except `.unknown` which is written as it is). A packet whose
    /// body would not fit the 16-bit length (256 KiB) is not written; parsed packets always fit.
    public func serialize(into buffer: inout ByteBuffer) {
        switch self {
        case .senderReport(let report): report.serialize(into: &buffer)
        case .receiverReport(let report): report.serialize(into: &buffer)
        case .sourceDescription(let description): description.serialize(into: &buffer)
        case .bye(let bye): bye.serialize(into: &buffer)
        case .nack(let nack): nack.serialize(into: &buffer)
        case .pictureLossIndication(let pli): pli.serialize(into: &buffer)
        case .fullIntraRequest(let fir): fir.serialize(into: &buffer)
        case .receiverEstimatedMaxBitrate(let remb): remb.serialize(into: &buffer)
        case .unknown(_, _, let bytes): buffer.writeImmutableBuffer(bytes)
        }
    }

    /// Appends `packets` back to back, a compound packet (RFC 3550 6.1).
    public static func serializeCompound(_ packets: [RTCPPacket], into buffer: inout ByteBuffer) {
        for packet in packets { packet.serialize(into: &buffer) }
    }

    /// `packets` as one compound packet in a new buffer.
    public static func compound(_ packets: [RTCPPacket]) -> ByteBuffer {
        var buffer = ByteBuffer()
        serializeCompound(packets, into: &buffer)
        return buffer
    }
}

/// Reads an RTCP packet's body (after the 4-byte header, padding removed), throwing `truncated` with
/// offsets counted from the start of the packet.
struct RTCPBodyReader {
    var body: ByteBuffer
    let packetType: UInt8
    let length: Int

    init(body: ByteBuffer, packetType: UInt8) {
        self.body = body
        self.packetType = packetType
        self.length = body.readableBytes
    }

    var remaining: Int { body.readableBytes }
    /// Bytes read so far.
    var offset: Int { length - body.readableBytes }

    mutating func require(_ bytes: Int) throws(RTCPParseError) {
        guard body.readableBytes >= bytes else {
            throw .truncated(packetType: packetType, needed: 4 + offset + bytes, have: 4 + length)
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(RTCPParseError) -> T {
        guard let value = body.readInteger(as: T.self) else {
            throw .truncated(packetType: packetType, needed: 4 + offset + MemoryLayout<T>.size, have: 4 + length)
        }
        return value
    }

    mutating func readBytes(_ count: Int) throws(RTCPParseError) -> [UInt8] {
        guard let bytes = body.readBytes(length: count) else {
            throw .truncated(packetType: packetType, needed: 4 + offset + count, have: 4 + length)
        }
        return bytes
    }

    mutating func skip(_ count: Int) throws(RTCPParseError) {
        try require(count)
        body.moveReaderIndex(forwardBy: count)
    }
}

/// Writes one RTCP packet: the common header, then the body `write` appends, zero-padded to 4 bytes
/// (RFC 3550 6.4.1). A body longer than the 16-bit length allows is taken back.
func writeRTCPPacket(
    into buffer: inout ByteBuffer, count: UInt8, packetType: UInt8, _ write: (inout ByteBuffer) -> Void
) {
    let start = buffer.writerIndex
    buffer.writeInteger(0x80 | (count & 0x1F) as UInt8)
    buffer.writeInteger(packetType)
    buffer.writeInteger(UInt16(0))
    write(&buffer)
    buffer.writeRepeatingByte(0, count: (4 - (buffer.writerIndex - start) % 4) % 4)
    let words = (buffer.writerIndex - start) / 4 - 1
    guard words <= Int(UInt16.max) else {
        buffer.moveWriterIndex(to: start)
        return
    }
    buffer.setInteger(UInt16(words), at: start + 2)
}
