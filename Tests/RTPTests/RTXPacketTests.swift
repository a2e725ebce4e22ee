import NIOCore
import XCTest
@testable import RTP

final class RTXPacketTests: XCTestCase {
    /// V=2 X=1 CC=0 | M=1 PT=96 | seq 0x1234 | ts 0xDEADBEEF | SSRC 0x11223344 |
    /// extension 0xBEDE, 1 word: element id 1 L=0 value 0x01, two padding bytes | payload AA BB CC.
    static let original: [UInt8] = [
        0x90, 0xE0, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x11, 0x22, 0x33, 0x44,
        0xBE, 0xDE, 0x00, 0x01, 0x10, 0x01, 0x00, 0x00,
        0xAA, 0xBB, 0xCC,
    ]
    /// The same as RTX: PT 97 (M still set), RTX seq 0x0001, RTX SSRC 0x55667788, the extension kept,
    /// payload = OSN 0x1234 then the original payload.
    static let rtx: [UInt8] = [
        0x90, 0xE1, 0x00, 0x01, 0xDE, 0xAD, 0xBE, 0xEF, 0x55, 0x66, 0x77, 0x88,
        0xBE, 0xDE, 0x00, 0x01, 0x10, 0x01, 0x00, 0x00,
        0x12, 0x34, 0xAA, 0xBB, 0xCC,
    ]

    func testMakeGolden() throws {
        let original = try RTPPacket.parse(golden(Self.original))
        let rtx = RTXPacket.make(from: original, rtxSSRC: 0x5566_7788, rtxPayloadType: 97, rtxSequenceNumber: 1)
        XCTAssertEqual(rtx.serialized().goldenBytes, Self.rtx)
    }

    func testParseGolden() throws {
        let rtx = try RTPPacket.parse(golden(Self.rtx))
        let original = try RTXPacket.original(from: rtx, originalSSRC: 0x1122_3344, originalPayloadType: 96)
        XCTAssertEqual(original.serialized().goldenBytes, Self.original)
        XCTAssertEqual(original.sequenceNumber, 0x1234)
        XCTAssertTrue(original.marker)
    }

    func testSenderCountsAndMapsPayloadTypes() throws {
        let original = try RTPPacket.parse(golden(Self.original))
        var sender = RTXSender(ssrc: 0x5566_7788, payloadTypes: [96: 97], firstSequenceNumber: 65535)
        XCTAssertEqual(sender.wrap(original)?.sequenceNumber, 65535)
        XCTAssertEqual(sender.wrap(original)?.sequenceNumber, 0, "wraps")
        XCTAssertEqual(sender.nextSequenceNumber, 1)
        var other = original
        other.payloadType = 111
        XCTAssertNil(sender.wrap(other), "no apt for 111")
        XCTAssertEqual(sender.nextSequenceNumber, 1)
    }

    func testPaddingIsNotRetransmittedAndCSRCsAreKept() throws {
        let original = RTPPacket(
            payloadType: 96, sequenceNumber: 7, timestamp: 9, ssrc: 1, csrcs: [0xAABB_CCDD],
            payload: golden([1, 2]), paddingLength: 4)
        let rtx = RTXPacket.make(from: original, rtxSSRC: 2, rtxPayloadType: 97, rtxSequenceNumber: 3)
        // V=2 P=0 X=0 CC=1 | M=0 PT=97 | seq 3 | ts 9 | SSRC 2 | CSRC | OSN 7 | 01 02
        XCTAssertEqual(rtx.serialized().goldenBytes, [
            0x81, 0x61, 0x00, 0x03, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x02, 0xAA, 0xBB, 0xCC, 0xDD,
            0x00, 0x07, 0x01, 0x02,
        ])
        var back = try RTXPacket.original(from: RTPPacket.parse(rtx.serialized()), originalSSRC: 1, originalPayloadType: 96)
        back.paddingLength = 4
        XCTAssertEqual(back, original)
    }

    func testMissingOSN() throws {
        for payload in [[], [0x12]] as [[UInt8]] {
            let rtx = RTPPacket(payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: 2, payload: golden(payload))
            XCTAssertThrowsError(try RTXPacket.original(from: rtx, originalSSRC: 1, originalPayloadType: 96)) { error in
                XCTAssertEqual(error as? RTXParseError, .missingOriginalSequenceNumber(payloadBytes: payload.count))
            }
        }
        // The OSN alone is an empty original (libwebrtc's RTX padding).
        let padding = RTPPacket(payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: 2, payload: golden([0xFF, 0xFE]))
        let original = try RTXPacket.original(from: padding, originalSSRC: 1, originalPayloadType: 96)
        XCTAssertEqual(original.sequenceNumber, 0xFFFE)
        XCTAssertEqual(original.payload.readableBytes, 0)
    }
}
