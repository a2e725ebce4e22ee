import XCTest
@testable import RTP

final class RTCPNackTests: XCTestCase {
    func testListToPairsAndBack() {
        let nack = RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: [10, 11, 13])
        XCTAssertEqual(nack.pairs, [.init(packetID: 10, lostBitmask: 0b101)])
        XCTAssertEqual(nack.lostSequenceNumbers, [10, 11, 13])
    }

    func testGapOverSixteenStartsAPair() {
        let lost: [UInt16] = [100, 116, 117, 200]
        let nack = RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: lost)
        XCTAssertEqual(nack.pairs, [
            .init(packetID: 100, lostBitmask: 0x8000),  // 116 is PID + 16, the last bit
            .init(packetID: 117, lostBitmask: 0),
            .init(packetID: 200, lostBitmask: 0),
        ])
        XCTAssertEqual(nack.lostSequenceNumbers, lost)
    }

    func testSequenceWrap() {
        let lost: [UInt16] = [65534, 65535, 0, 14, 15]
        let nack = RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: lost)
        XCTAssertEqual(nack.pairs, [.init(packetID: 65534, lostBitmask: 0x8003), .init(packetID: 15, lostBitmask: 0)])
        XCTAssertEqual(nack.lostSequenceNumbers, lost)
        // A PID near the top with bits past the wrap.
        XCTAssertEqual(RTCPNack(senderSSRC: 0, mediaSSRC: 0, pairs: [.init(packetID: 65535, lostBitmask: 0x8001)]).lostSequenceNumbers, [65535, 0, 15])
    }

    func testDuplicatesAndWireRoundTrip() throws {
        let lost: [UInt16] = Array(0..<40).map { UInt16($0 * 3) &+ 65500 }
        let nack = RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: [7, 7] + lost)
        XCTAssertEqual(nack.lostSequenceNumbers, [7] + lost)
        XCTAssertEqual(try RTCPPacket.parse(RTCPPacket.compound([.nack(nack)])), .nack(nack))
    }
}
