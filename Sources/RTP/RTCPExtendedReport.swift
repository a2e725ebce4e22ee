import NIOCore

/// Why an RTCP XR packet was refused.
public enum RTCPExtendedReportParseError: Error, Sendable, Hashable {
    case truncated(needed: Int, have: Int)
    /// A report block's length runs past the packet.
    case blockOverrun(offset: Int, length: Int, have: Int)
}

/// RTCP Extended Reports (RFC 3611), the two blocks that give a receiver that sends no media its round
/// trip time (section 4.4 and 4.5): it sends a Receiver Reference Time block (its NTP time), the media
/// sender answers with a DLRR sub-block (that time's middle 32 bits and how long it held it), and the
/// receiver's rtt is now - sent - held. Other block types are skipped (section 3).
///
///     |V=2|P|reserved |   PT=207      |             length            |
///     |                              SSRC                             |
///     |     BT=4      |   reserved    |       block length = 2        |   RRTR
///     |              NTP timestamp (64 bits)                          |
///     |     BT=5      |   reserved    |       block length = 3n       |   DLRR
///     |  SSRC_i | last RR (LRR) | delay since last RR (DLRR, 1/65536 s) | x n
public struct RTCPExtendedReport: Sendable, Hashable {
    public static let packetType: UInt8 = 207
    public static let receiverReferenceTimeBlock: UInt8 = 4
    public static let dlrrBlock: UInt8 = 5

    public struct DLRR: Sendable, Hashable {
        public var ssrc: UInt32
        public var lastReceiverReport: UInt32
        public var delaySinceLastReceiverReport: UInt32
        public init(ssrc: UInt32, lastReceiverReport: UInt32, delaySinceLastReceiverReport: UInt32) {
            self.ssrc = ssrc
            self.lastReceiverReport = lastReceiverReport
            self.delaySinceLastReceiverReport = delaySinceLastReceiverReport
        }
    }

    public var ssrc: UInt32
    public var receiverReferenceTime: NTPTimestamp?
    public var dlrr: [DLRR]

    public init(ssrc: UInt32, receiverReferenceTime: NTPTimestamp? = nil, dlrr: [DLRR] = []) {
        self.ssrc = ssrc
        self.receiverReferenceTime = receiverReferenceTime
        self.dlrr = dlrr
    }

    /// Parses a whole XR packet (header included, as `RTCPPacket.unknown` carries it).
    public static func parse(_ buffer: ByteBuffer) throws(RTCPExtendedReportParseError) -> RTCPExtendedReport {
        let base = buffer.readerIndex
        guard buffer.readableBytes >= 8, let length = buffer.getInteger(at: base + 2, as: UInt16.self),
              let ssrc = buffer.getInteger(at: base + 4, as: UInt32.self)
        else { throw .truncated(needed: 8, have: buffer.readableBytes) }
        let end = min(buffer.readableBytes, (Int(length) + 1) * 4)
        var report = RTCPExtendedReport(ssrc: ssrc)
        var offset = 8
        while offset + 4 <= end {
            let type = buffer.getInteger(at: base + offset, as: UInt8.self) ?? 0
            let words = Int(buffer.getInteger(at: base + offset + 2, as: UInt16.self) ?? 0)
            let blockEnd = offset + 4 + words * 4
            guard blockEnd <= end else { throw .blockOverrun(offset: offset, length: words * 4 + 4, have: end - offset) }
            switch type {
            case receiverReferenceTimeBlock where words == 2:
                report.receiverReferenceTime = buffer.getInteger(at: base + offset + 4, as: UInt64.self).map(NTPTimestamp.init(rawValue:))
            case dlrrBlock:
                var sub = offset + 4
                while sub + 12 <= blockEnd, report.dlrr.count < 64 {
                    report.dlrr.append(DLRR(ssrc: buffer.getInteger(at: base + sub, as: UInt32.self) ?? 0,
                                            lastReceiverReport: buffer.getInteger(at: base + sub + 4, as: UInt32.self) ?? 0,
                                            delaySinceLastReceiverReport: buffer.getInteger(at: base + sub + 8, as: UInt32.self) ?? 0))
                    sub += 12
                }
            default:
                break
            }
            offset = blockEnd
        }
        return report
    }

    /// Parses an `RTCPPacket`; nil for anything but XR.
    public static func parse(_ packet: RTCPPacket) throws(RTCPExtendedReportParseError) -> RTCPExtendedReport? {
        guard case .unknown(Self.packetType, _, let bytes) = packet else { return nil }
        return try parse(bytes)
    }

    public func serialized() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0x80))
        buffer.writeInteger(Self.packetType)
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(ssrc)
        if let receiverReferenceTime {
            buffer.writeInteger(Self.receiverReferenceTimeBlock)
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt16(2))
            buffer.writeInteger(receiverReferenceTime.rawValue)
        }
        let blocks = dlrr.prefix(64)
        if !blocks.isEmpty {
            buffer.writeInteger(Self.dlrrBlock)
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt16(blocks.count * 3))
            for b in blocks {
                buffer.writeInteger(b.ssrc)
                buffer.writeInteger(b.lastReceiverReport)
                buffer.writeInteger(b.delaySinceLastReceiverReport)
            }
        }
        buffer.setInteger(UInt16(buffer.readableBytes / 4 - 1), at: 2)
        return buffer
    }

    public var rtcpPacket: RTCPPacket { .unknown(packetType: Self.packetType, format: 0, bytes: serialized()) }
}
