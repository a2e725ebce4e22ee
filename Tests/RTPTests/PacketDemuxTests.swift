import NIOCore
import XCTest
@testable import RTP

final class PacketDemuxTests: XCTestCase {
    func testRanges() {
        // STUN binding request header starts 00 01.
        XCTAssertEqual(PacketDemux.classify(golden([0x00, 0x01, 0x00, 0x00])), .stun)
        XCTAssertEqual(PacketDemux.classify(golden([0x03])), .stun)
        // DTLS handshake record: content type 22, version FE FD.
        XCTAssertEqual(PacketDemux.classify(golden([0x16, 0xFE, 0xFD])), .dtls)
        XCTAssertEqual(PacketDemux.classify(golden([20])), .dtls)
        XCTAssertEqual(PacketDemux.classify(golden([63])), .dtls)
        // ZRTP, TURN channel data, and the gaps.
        for first: UInt8 in [4, 16, 19, 64, 79, 80, 127, 192, 255] {
            XCTAssertEqual(PacketDemux.classify(golden([first, 0x60])), .unknown, "\(first)")
        }
        XCTAssertEqual(PacketDemux.classify(golden([])), .unknown)
    }

    func testRTPAndRTCP() {
        XCTAssertEqual(PacketDemux.classify(golden([0x80, 0x60])), .rtp)  // PT 96
        XCTAssertEqual(PacketDemux.classify(golden([0x80, 0xE0])), .rtp)  // PT 96 with marker
        XCTAssertEqual(PacketDemux.classify(golden([0x80, 0xBF])), .rtp)  // marker + PT 63 = 191
        XCTAssertEqual(PacketDemux.classify(golden([0x80, 0xC8])), .rtcp)  // SR 200
        XCTAssertEqual(PacketDemux.classify(golden([0x81, 0xC0])), .rtcp)  // 192
        XCTAssertEqual(PacketDemux.classify(golden([0xBF, 0xDF])), .rtcp)  // 223
        XCTAssertEqual(PacketDemux.classify(golden([0x80, 0xE0])), .rtp)   // 224
        XCTAssertEqual(PacketDemux.classify(golden([0x80])), .unknown, "one byte cannot tell")
        var offset = golden([0xFF, 0x80, 0xC9])
        offset.moveReaderIndex(forwardBy: 1)
        XCTAssertEqual(PacketDemux.classify(offset), .rtcp)
    }
}
