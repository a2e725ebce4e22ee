import NIOCore
import XCTest
@testable import RTP

final class RTCPPacketTests: XCTestCase {
    /// SR with one report block, then SDES with a CNAME: a typical compound packet.
    static let senderReport: [UInt8] = [
        0x81, 0xC8, 0x00, 0x0C,  // V=2 RC=1, PT=200, length 12 words
        0x12, 0x34, 0x56, 0x78,  // SSRC
        0xE8, 0xFE, 0x6F, 0x80, 0x80, 0x00, 0x00, 0x00,  // NTP 2023-11-14T22:13:20.5Z
        0x00, 0x01, 0xE2, 0x40,  // RTP timestamp 123456
        0x00, 0x00, 0x00, 0x64,  // 100 packets
        0x00, 0x00, 0x3A, 0x98,  // 15000 octets
        0xAB, 0xCD, 0xEF, 0x01,  // report block: SSRC
        0x40, 0xFF, 0xFF, 0xFE,  // fraction lost 64/256, cumulative lost -2
        0x00, 0x01, 0x00, 0x05,  // extended highest seq: 1 cycle, seq 5
        0x00, 0x00, 0x00, 0x20,  // jitter 32
        0x6F, 0x80, 0x80, 0x00,  // LSR
        0x00, 0x01, 0x80, 0x00,  // DLSR 1.5 s
    ]
    static let sourceDescription: [UInt8] = [
        0x81, 0xCA, 0x00, 0x04,  // V=2 SC=1, PT=202, length 4 words
        0x12, 0x34, 0x56, 0x78,  // chunk SSRC
        0x01, 0x06, 0x72, 0x74, 0x63, 0x62, 0x6F, 0x78,  // CNAME, 6, "rtcbox"
        0x00, 0x00, 0x00, 0x00,  // null item, padding to 32 bits
    ]
    static let bye: [UInt8] = [
        0x81, 0xCB, 0x00, 0x03, 0x12, 0x34, 0x56, 0x78,
        0x04, 0x64, 0x6F, 0x6E, 0x65, 0x00, 0x00, 0x00,  // reason length 4, "done", padding
    ]
    static let nack: [UInt8] = [
        0x81, 0xCD, 0x00, 0x03,  // FMT=1, PT=205 (RTPFB)
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // sender, media SSRC
        0x00, 0x0A, 0x00, 0x05,  // PID 10, BLP 0b101: 10, 11, 13
    ]
    static let pli: [UInt8] = [0x81, 0xCE, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02]
    static let fir: [UInt8] = [
        0x84, 0xCE, 0x00, 0x04,  // FMT=4, PT=206 (PSFB)
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // sender, media SSRC 0
        0x00, 0x00, 0x00, 0x02, 0x07, 0x00, 0x00, 0x00,  // SSRC 2, seq nr 7, reserved
    ]
    static let remb: [UInt8] = [
        0x8F, 0xCE, 0x00, 0x05,  // FMT=15, PT=206
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x52, 0x45, 0x4D, 0x42,  // "REMB"
        0x01, 0x0B, 0xD0, 0x90,  // 1 SSRC; exp 2, mantissa 0x3D090 = 250000: 1 Mbit/s
        0x00, 0x00, 0x00, 0x02,
    ]
    /// transport-cc (RTPFB 15) is another helper's: it stays unknown here.
    static let transportCC: [UInt8] = [
        0x8F, 0xCD, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
        0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00,
    ]

    func testCompoundSenderReportAndSourceDescription() throws {
        let bytes = Self.senderReport + Self.sourceDescription
        let packets = try RTCPPacket.parseCompound(golden(bytes))
        let expected: [RTCPPacket] = [
            .senderReport(
                RTCPSenderReport(
                    ssrc: 0x1234_5678, ntpTimestamp: NTPTimestamp(wallClockMicros: 1_700_000_000_500_000),
                    rtpTimestamp: 123_456, packetCount: 100, octetCount: 15000,
                    reportBlocks: [
                        RTCPReportBlock(
                            ssrc: 0xABCD_EF01, fractionLost: 64, cumulativeLost: -2,
                            extendedHighestSequenceNumber: 0x1_0005, jitter: 32, lastSenderReport: 0x6F80_8000,
                            delaySinceLastSenderReport: NTPTimestamp.compactDuration(micros: 1_500_000))
                    ])),
            .sourceDescription(RTCPSourceDescription(ssrc: 0x1234_5678, cname: "rtcbox")),
        ]
        XCTAssertEqual(packets, expected)
        if case .sourceDescription(let sdes) = packets[1] { XCTAssertEqual(sdes.chunks.first?.cname, "rtcbox") }
        XCTAssertEqual(RTCPPacket.compound(expected).goldenBytes, bytes)
    }

    func testEachKindBothWays() throws {
        let cases: [([UInt8], RTCPPacket)] = [
            ([0x80, 0xC9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09], .receiverReport(RTCPReceiverReport(ssrc: 9))),
            (Self.bye, .bye(RTCPBye(ssrcs: [0x1234_5678], reason: "done"))),
            (Self.nack, .nack(RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: [10, 11, 13]))),
            (Self.pli, .pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 1, mediaSSRC: 2))),
            (Self.fir, .fullIntraRequest(RTCPFullIntraRequest(senderSSRC: 1, entries: [.init(ssrc: 2, sequenceNumber: 7)]))),
            (Self.remb, .receiverEstimatedMaxBitrate(RTCPReceiverEstimatedMaxBitrate(senderSSRC: 1, bitrate: 1_000_000, ssrcs: [2]))),
            (Self.transportCC, .unknown(packetType: 205, format: 15, bytes: golden(Self.transportCC))),
        ]
        for (bytes, packet) in cases {
            XCTAssertEqual(try RTCPPacket.parse(golden(bytes)), packet)
            XCTAssertEqual(RTCPPacket.compound([packet]).goldenBytes, bytes, "\(packet)")
        }
        XCTAssertEqual(try RTCPPacket.parseCompound(golden(cases.flatMap(\.0))), cases.map(\.1))
    }

    func testReceiverReportWithBlocksAndClampedLoss() throws {
        let block = RTCPReportBlock(ssrc: 5, fractionLost: 255, cumulativeLost: -9_000_000, extendedHighestSequenceNumber: 7)
        let bytes = RTCPPacket.compound([.receiverReport(RTCPReceiverReport(ssrc: 9, reportBlocks: [block, block]))]).goldenBytes
        XCTAssertEqual(Array(bytes.prefix(4)), [0x82, 0xC9, 0x00, 0x0D])
        XCTAssertEqual(Array(bytes[12..<16]), [0xFF, 0x80, 0x00, 0x00], "-2^23 is the 24-bit minimum")
        guard case .receiverReport(let report) = try RTCPPacket.parse(golden(bytes)) else { return XCTFail() }
        XCTAssertEqual(report.reportBlocks.map(\.cumulativeLost), [-8_388_608, -8_388_608])
        var positive = block
        positive.cumulativeLost = 0x7F_FFFF + 5
        let positiveBytes = RTCPPacket.compound([.receiverReport(RTCPReceiverReport(ssrc: 9, reportBlocks: [positive]))]).goldenBytes
        XCTAssertEqual(Array(positiveBytes[12..<16]), [0xFF, 0x7F, 0xFF, 0xFF])
    }

    func testPaddingAndInvalidPadding() throws {
        // RR, no blocks, padded with 4 bytes (count 4).
        let padded: [UInt8] = [0xA0, 0xC9, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x04]
        XCTAssertEqual(try RTCPPacket.parseCompound(golden(padded)), [.receiverReport(RTCPReceiverReport(ssrc: 9))])
        var zero = padded
        zero[11] = 0
        XCTAssertThrowsError(try RTCPPacket.parseCompound(golden(zero))) { error in
            XCTAssertEqual(error as? RTCPParseError, .invalidPadding(count: 0, available: 8))
        }
        var long = padded
        long[11] = 9
        XCTAssertThrowsError(try RTCPPacket.parseCompound(golden(long))) { error in
            XCTAssertEqual(error as? RTCPParseError, .invalidPadding(count: 9, available: 8))
        }
    }

    func testTruncationAndVersion() {
        XCTAssertThrowsError(try RTCPPacket.parseCompound(golden([]))) { error in
            XCTAssertEqual(error as? RTCPParseError, .empty)
        }
        XCTAssertThrowsError(try RTCPPacket.parseCompound(golden([0x80, 0xC9, 0x00]))) { error in
            XCTAssertEqual(error as? RTCPParseError, .truncated(packetType: nil, needed: 4, have: 3))
        }
        // The second packet's length runs past the datagram.
        XCTAssertThrowsError(try RTCPPacket.parseCompound(golden(Self.pli + Array(Self.nack.prefix(12))))) { error in
            XCTAssertEqual(error as? RTCPParseError, .truncated(packetType: 205, needed: 16, have: 12))
        }
        // SR claiming one block with room for none.
        var shortSR = Array(Self.senderReport.prefix(28))
        shortSR[3] = 6
        XCTAssertThrowsError(try RTCPPacket.parse(golden(shortSR))) { error in
            XCTAssertEqual(error as? RTCPParseError, .truncated(packetType: 200, needed: 52, have: 28))
        }
        // SDES without its null item.
        let unterminated: [UInt8] = [0x81, 0xCA, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 0x61, 0x62]
        XCTAssertThrowsError(try RTCPPacket.parse(golden(unterminated))) { error in
            XCTAssertEqual(error as? RTCPParseError, .unterminatedSourceDescription)
        }
        XCTAssertThrowsError(try RTCPPacket.parse(golden([0x40, 0xC9, 0x00, 0x01, 0, 0, 0, 1]))) { error in
            XCTAssertEqual(error as? RTCPParseError, .unsupportedVersion(1))
        }
        // Feedback too short for its SSRCs.
        XCTAssertThrowsError(try RTCPPacket.parse(golden([0x81, 0xCE, 0x00, 0x01, 0, 0, 0, 1]))) { error in
            XCTAssertEqual(error as? RTCPParseError, .truncated(packetType: 206, needed: 12, have: 8))
        }
    }

    func testOtherApplicationFeedbackIsUnknown() throws {
        var other = Self.remb
        other[12] = 0x58  // "XEMB"
        XCTAssertEqual(try RTCPPacket.parse(golden(other)), .unknown(packetType: 206, format: 15, bytes: golden(other)))
        let app: [UInt8] = [0x80, 0xCC, 0x00, 0x02, 0, 0, 0, 1, 0x6E, 0x61, 0x6D, 0x65]
        XCTAssertEqual(try RTCPPacket.parse(golden(app)), .unknown(packetType: 204, format: 0, bytes: golden(app)))
    }

    func testREMBBitrates() throws {
        for bitrate: UInt64 in [0, 1, 262_143, 262_144, 30_000_000, 1 << 40] {
            let remb = RTCPReceiverEstimatedMaxBitrate(senderSSRC: 1, bitrate: bitrate, ssrcs: [])
            XCTAssertEqual(try RTCPPacket.parse(RTCPPacket.compound([.receiverEstimatedMaxBitrate(remb)])), .receiverEstimatedMaxBitrate(remb))
        }
        // 18 significant bits survive; lower ones are rounded down.
        let rounded = RTCPReceiverEstimatedMaxBitrate(senderSSRC: 1, bitrate: 1_000_001, ssrcs: [])
        guard case .receiverEstimatedMaxBitrate(let parsed) = try RTCPPacket.parse(RTCPPacket.compound([.receiverEstimatedMaxBitrate(rounded)]))
        else { return XCTFail() }
        XCTAssertEqual(parsed.bitrate, 1_000_000)
        // Exponent 63 with a 18-bit mantissa overflows 64 bits.
        var overflow = Self.remb
        overflow[17...19] = [0xFF, 0xFF, 0xFF]
        XCTAssertThrowsError(try RTCPPacket.parse(golden(overflow))) { error in
            XCTAssertEqual(error as? RTCPParseError, .invalidREMBBitrate(exponent: 63, mantissa: 0x3_FFFF))
        }
    }

    func testSourceDescriptionSeveralChunksAndItems() throws {
        let sdes = RTCPSourceDescription(chunks: [
            .init(ssrc: 1, items: [.init(type: 1, text: "ab"), .init(type: 6, text: "rtcbox 1.0")]),
            .init(ssrc: 2, items: [.init(type: 1, text: "abcdef")]),  // 4 + 8 exactly: a whole null word
        ])
        let bytes = RTCPPacket.compound([.sourceDescription(sdes)]).goldenBytes
        XCTAssertEqual(bytes, [
            0x82, 0xCA, 0x00, 0x0A,
            // chunk 1: 4 + 4 + 12 bytes, a null item and 3 padding bytes
            0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x61, 0x62, 0x06, 0x0A,
            0x72, 0x74, 0x63, 0x62, 0x6F, 0x78, 0x20, 0x31, 0x2E, 0x30, 0x00, 0x00, 0x00, 0x00,
            // chunk 2: 4 + 8 bytes, then a whole null word
            0x00, 0x00, 0x00, 0x02, 0x01, 0x06, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x00, 0x00, 0x00, 0x00,
        ])
        XCTAssertEqual(try RTCPPacket.parse(golden(bytes)), .sourceDescription(sdes))
    }

    func testByeWithoutReason() throws {
        let bytes: [UInt8] = [0x82, 0xCB, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2]
        XCTAssertEqual(try RTCPPacket.parse(golden(bytes)), .bye(RTCPBye(ssrcs: [1, 2])))
        XCTAssertEqual(RTCPPacket.compound([.bye(RTCPBye(ssrcs: [1, 2]))]).goldenBytes, bytes)
    }
}
