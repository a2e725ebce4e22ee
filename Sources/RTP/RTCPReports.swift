import NIOCore

/// A reception report block of SR and RR (RFC 3550 section 6.4.1), 24 bytes.
///
///     |                 SSRC of the reported source                   |
///     | fraction lost |       cumulative number of packets lost       |
///     |           extended highest sequence number received           |
///     |                      interarrival jitter                      |
///     |                         last SR (LSR)                         |
///     |                   delay since last SR (DLSR)                  |
public struct RTCPReportBlock: Sendable, Hashable {
    public static let size = 24

    public var ssrc: UInt32
    /// Lost fraction since the last report, in 1/256.
    public var fractionLost: UInt8
    /// 24-bit signed (duplicates make it negative); serialization clamps to -2^23 ... 2^23-1.
    public var cumulativeLost: Int32
    public var extendedHighestSequenceNumber: UInt32
    /// In RTP timestamp units.
    public var jitter: UInt32
    /// The middle 32 bits of the last SR's NTP time (`NTPTimestamp.middle32`), 0 before any SR.
    public var lastSenderReport: UInt32
    /// Since that SR, in 1/65536 s (`NTPTimestamp.compactDuration(micros:)`).
    public var delaySinceLastSenderReport: UInt32

    public init(
        ssrc: UInt32, fractionLost: UInt8 = 0, cumulativeLost: Int32 = 0, extendedHighestSequenceNumber: UInt32,
        jitter: UInt32 = 0, lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0
    ) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.extendedHighestSequenceNumber = extendedHighestSequenceNumber
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    init(reader: inout RTCPBodyReader) throws(RTCPParseError) {
        try reader.require(Self.size)
        ssrc = try reader.read()
        let lost: UInt32 = try reader.read()
        fractionLost = UInt8(truncatingIfNeeded: lost >> 24)
        cumulativeLost = Int32(bitPattern: lost << 8) >> 8
        extendedHighestSequenceNumber = try reader.read()
        jitter = try reader.read()
        lastSenderReport = try reader.read()
        delaySinceLastSenderReport = try reader.read()
    }

    func serialize(into buffer: inout ByteBuffer) {
        let lost = max(min(cumulativeLost, 0x7F_FFFF), -0x80_0000)
        buffer.writeInteger(ssrc)
        buffer.writeInteger(UInt32(fractionLost) << 24 | UInt32(bitPattern: lost) & 0xFF_FFFF)
        buffer.writeInteger(extendedHighestSequenceNumber)
        buffer.writeInteger(jitter)
        buffer.writeInteger(lastSenderReport)
        buffer.writeInteger(delaySinceLastSenderReport)
    }
}

/// A sender report, RTCP type 200 (RFC 3550 section 6.4.1): the sender's NTP and RTP clocks at one
/// instant (for lip sync and round trips), its counts, and up to 31 report blocks. Profile-specific
/// extensions after the blocks are not kept.
public struct RTCPSenderReport: Sendable, Hashable {
    public var ssrc: UInt32
    public var ntpTimestamp: NTPTimestamp
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    /// At most 31 are written.
    public var reportBlocks: [RTCPReportBlock]

    public init(
        ssrc: UInt32, ntpTimestamp: NTPTimestamp, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32,
        reportBlocks: [RTCPReportBlock] = []
    ) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reportBlocks = reportBlocks
    }

    init(reader: inout RTCPBodyReader, count: UInt8) throws(RTCPParseError) {
        try reader.require(24 + Int(count) * RTCPReportBlock.size)
        ssrc = try reader.read()
        ntpTimestamp = NTPTimestamp(rawValue: try reader.read())
        rtpTimestamp = try reader.read()
        packetCount = try reader.read()
        octetCount = try reader.read()
        reportBlocks = []
        for _ in 0..<count { reportBlocks.append(try RTCPReportBlock(reader: &reader)) }
    }

    func serialize(into buffer: inout ByteBuffer) {
        let blocks = reportBlocks.prefix(31)
        writeRTCPPacket(into: &buffer, count: UInt8(blocks.count), packetType: RTCPPacket.senderReportType) { body in
            body.writeInteger(ssrc)
            body.writeInteger(ntpTimestamp.rawValue)
            body.writeInteger(rtpTimestamp)
            body.writeInteger(packetCount)
            body.writeInteger(octetCount)
            for block in blocks { block.serialize(into: &body) }
        }
    }
}

/// A receiver report, RTCP type 201 (RFC 3550 section 6.4.2): up to 31 report blocks from a
/// participant that does not send (or sends its SR separately).
public struct RTCPReceiverReport: Sendable, Hashable {
    public var ssrc: UInt32
    /// At most 31 are written.
    public var reportBlocks: [RTCPReportBlock]

    public init(ssrc: UInt32, reportBlocks: [RTCPReportBlock] = []) {
        self.ssrc = ssrc
        self.reportBlocks = reportBlocks
    }

    init(reader: inout RTCPBodyReader, count: UInt8) throws(RTCPParseError) {
        try reader.require(4 + Int(count) * RTCPReportBlock.size)
        ssrc = try reader.read()
        reportBlocks = []
        for _ in 0..<count { reportBlocks.append(try RTCPReportBlock(reader: &reader)) }
    }

    func serialize(into buffer: inout ByteBuffer) {
        let blocks = reportBlocks.prefix(31)
        writeRTCPPacket(into: &buffer, count: UInt8(blocks.count), packetType: RTCPPacket.receiverReportType) { body in
            body.writeInteger(ssrc)
            for block in blocks { block.serialize(into: &body) }
        }
    }
}
