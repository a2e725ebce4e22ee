import NIOCore
import XCTest
@testable import RTP

final class RTPPacketTests: XCTestCase {
    /// V=2, no padding/extension/CSRC, M=0, PT=96, seq 0x1234, ts 0x5678, SSRC 0xDEADBEEF, payload 01 02 03.
    let minimal: [UInt8] = [
        0x80, 0x60, 0x12, 0x34,
        0x00, 0x00, 0x56, 0x78,
        0xDE, 0xAD, 0xBE, 0xEF,
        0x01, 0x02, 0x03,
    ]

    /// V=2 P=1 X=1 CC=1 (0xB1); M=1 PT=96 (0xE0); seq 65535; ts 0xFFFFFFFF; SSRC 1; CSRC 2;
    /// extension 0xBEDE, 1 word: id 2 L=2 (3 bytes AA BB CC); payload 09 09; padding 00 00 03.
    let full: [UInt8] = [
        0xB1, 0xE0, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF,
        0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x02,
        0xBE, 0xDE, 0x00, 0x01,
        0x22, 0xAA, 0xBB, 0xCC,
        0x09, 0x09,
        0x00, 0x00, 0x03,
    ]

    func testParseMinimal() throws {
        let packet = try RTPPacket.parse(golden(minimal))
        XCTAssertFalse(packet.marker)
        XCTAssertEqual(packet.payloadType, 96)
        XCTAssertEqual(packet.sequenceNumber, 0x1234)
        XCTAssertEqual(packet.timestamp, 0x5678)
        XCTAssertEqual(packet.ssrc, 0xDEAD_BEEF)
        XCTAssertEqual(packet.csrcs, [])
        XCTAssertNil(packet.headerExtension)
        XCTAssertEqual(packet.paddingLength, 0)
        XCTAssertEqual(packet.payload.goldenBytes, [1, 2, 3])
        XCTAssertEqual(packet.serialized().goldenBytes, minimal)
    }

    func testParseFullAndSerializeBack() throws {
        let packet = try RTPPacket.parse(golden(full))
        XCTAssertTrue(packet.marker)
        XCTAssertEqual(packet.payloadType, 96)
        XCTAssertEqual(packet.sequenceNumber, 65535)
        XCTAssertEqual(packet.timestamp, .max)
        XCTAssertEqual(packet.ssrc, 1)
        XCTAssertEqual(packet.csrcs, [2])
        XCTAssertEqual(packet.headerExtension?.profile, 0xBEDE)
        XCTAssertEqual(packet.headerExtension?.data.goldenBytes, [0x22, 0xAA, 0xBB, 0xCC])
        XCTAssertEqual(try packet.headerExtensionElements(), [RTPHeaderExtensionElement(id: 2, bytes: [0xAA, 0xBB, 0xCC])])
        XCTAssertEqual(packet.paddingLength, 3)
        XCTAssertEqual(packet.payload.goldenBytes, [9, 9])
        XCTAssertEqual(packet.headerSize, 24)
        XCTAssertEqual(packet.serializedSize, full.count)
        XCTAssertEqual(packet.serialized().goldenBytes, full)
    }

    func testBuildWithExtensionElements() {
        var packet = RTPPacket(
            marker: true, payloadType: 96, sequenceNumber: 65535, timestamp: .max, ssrc: 1, csrcs: [2],
            payload: golden([9, 9]), paddingLength: 3)
        packet.setHeaderExtensionElements([RTPHeaderExtensionElement(id: 2, bytes: [0xAA, 0xBB, 0xCC])])
        XCTAssertEqual(packet.serialized().goldenBytes, full)
    }

    func testParseRespectsReaderIndexAndDoesNotCopyPayload() throws {
        var bytes = golden([0xFF, 0xFF] + minimal)
        bytes.moveReaderIndex(forwardBy: 2)
        let packet = try RTPPacket.parse(bytes)
        XCTAssertEqual(packet.payload.goldenBytes, [1, 2, 3])
        XCTAssertEqual(bytes.readableBytes, minimal.count, "parse does not consume")
        packet.payload.withUnsafeReadableBytes { payload in
            bytes.withUnsafeReadableBytes { whole in
                XCTAssertEqual(payload.baseAddress, whole.baseAddress.map { $0 + 12 }, "payload is a slice")
            }
        }
    }

    func testTruncation() {
        for length in 0..<12 {
            XCTAssertThrowsError(try RTPPacket.parse(golden(Array(minimal.prefix(length))))) { error in
                XCTAssertEqual(error as? RTPParseError, .truncated(needed: 12, have: length))
            }
        }
        // CC=1 but no CSRC.
        XCTAssertThrowsError(try RTPPacket.parse(golden([0x81] + minimal.dropFirst().prefix(11)))) { error in
            XCTAssertEqual(error as? RTPParseError, .truncated(needed: 16, have: 12))
        }
        // X=1 with an extension header claiming 2 words but only one present.
        let shortExtension: [UInt8] = [0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0, 2, 0x10, 0xAA, 0, 0]
        XCTAssertThrowsError(try RTPPacket.parse(golden(shortExtension))) { error in
            XCTAssertEqual(error as? RTPParseError, .truncated(needed: 24, have: 20))
        }
        // X=1 and no room for the extension header.
        XCTAssertThrowsError(try RTPPacket.parse(golden([0x90] + minimal.dropFirst().prefix(11) + [0xBE]))) { error in
            XCTAssertEqual(error as? RTPParseError, .truncated(needed: 16, have: 13))
        }
    }

    func testVersion() {
        XCTAssertThrowsError(try RTPPacket.parse(golden([0x40] + minimal.dropFirst()))) { error in
            XCTAssertEqual(error as? RTPParseError, .unsupportedVersion(1))
        }
    }

    func testPaddingValidation() throws {
        let header: [UInt8] = [0xA0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]
        // Count 0 is invalid (the count includes itself).
        XCTAssertThrowsError(try RTPPacket.parse(golden(header + [0xAA, 0x00]))) { error in
            XCTAssertEqual(error as? RTPParseError, .invalidPadding(count: 0, available: 2))
        }
        // Count longer than what follows the header.
        XCTAssertThrowsError(try RTPPacket.parse(golden(header + [0xAA, 0x03]))) { error in
            XCTAssertEqual(error as? RTPParseError, .invalidPadding(count: 3, available: 2))
        }
        // P set and nothing after the header.
        XCTAssertThrowsError(try RTPPacket.parse(golden(header))) { error in
            XCTAssertEqual(error as? RTPParseError, .truncated(needed: 13, have: 12))
        }
        // Padding only: empty payload (what a padding probe looks like).
        let probe = try RTPPacket.parse(golden(header + [0, 0, 0, 4]))
        XCTAssertEqual(probe.payload.readableBytes, 0)
        XCTAssertEqual(probe.paddingLength, 4)
        XCTAssertEqual(probe.serialized().goldenBytes, header + [0, 0, 0, 4])
    }

    func testSerializePadsExtensionDataAndCapsCSRCs() {
        let packet = RTPPacket(
            payloadType: 0x7F | 0x80, sequenceNumber: 0, timestamp: 0, ssrc: 0, csrcs: Array(1...16),
            headerExtension: RTPHeaderExtension(profile: 0x1234, data: golden([1])), payload: golden([]))
        let bytes = packet.serialized().goldenBytes
        XCTAssertEqual(bytes[0], 0x9F, "X=1, CC=15")
        XCTAssertEqual(bytes[1], 0x7F, "PT masked to 7 bits")
        XCTAssertEqual(bytes.count, 12 + 60 + 4 + 4)
        XCTAssertEqual(Array(bytes.suffix(8)), [0x12, 0x34, 0, 1, 1, 0, 0, 0])
    }
}
