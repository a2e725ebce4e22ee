import NIOCore
import XCTest
@testable import RTP

final class AudioJitterBufferTests: XCTestCase {
    func packet(_ sequenceNumber: UInt16) -> RTPPacket {
        RTPPacket(payloadType: 111, sequenceNumber: sequenceNumber, timestamp: UInt32(sequenceNumber) * 960, ssrc: 7,
            payload: golden([0xFC, UInt8(truncatingIfNeeded: sequenceNumber)]))
    }

    func sequenceNumbers(_ output: [AudioJitterBuffer.Output]) -> [String] {
        output.map {
            switch $0 {
            case .packet(let packet, _): return "\(packet.sequenceNumber)"
            case .concealed(let first, let count): return "conceal \(first)x\(count)"
            case .discontinuity(let sequenceNumber): return "restart \(sequenceNumber)"
            }
        }
    }

    func testInOrderConcealAfterMaxWaitAcrossWrap() {
        var buffer = AudioJitterBuffer()
        buffer.insert(packet(65534), arrival: 0)
        buffer.insert(packet(65535), arrival: 20_000)
        XCTAssertEqual(sequenceNumbers(buffer.poll(now: 20_000, maxWait: 60_000)), ["65534", "65535"])
        buffer.insert(packet(2), arrival: 40_000)  // 0 and 1 missing
        buffer.insert(packet(3), arrival: 60_000)
        XCTAssertEqual(sequenceNumbers(buffer.poll(now: 99_999, maxWait: 60_000)), [])
        buffer.insert(packet(1), arrival: 90_000)  // a retransmission in time
        XCTAssertEqual(sequenceNumbers(buffer.poll(now: 100_000, maxWait: 60_000)), ["conceal 0x1", "1", "2", "3"])
        buffer.insert(packet(0), arrival: 110_000)
        buffer.insert(packet(3), arrival: 110_000)
        buffer.insert(packet(4), arrival: 110_000)
        buffer.insert(packet(4), arrival: 110_000)
        XCTAssertEqual(sequenceNumbers(buffer.poll(now: 110_000, maxWait: 60_000)), ["4"])
        XCTAssertEqual(buffer.counters, .init(packetsReleased: 6, packetsConcealed: 1, packetsLate: 2, duplicates: 1))
    }

    func testAJumpIsADiscontinuity() {
        var buffer = AudioJitterBuffer(configuration: .init(maxPackets: 50))
        buffer.insert(packet(10), arrival: 0)
        buffer.insert(packet(12), arrival: 0)
        _ = buffer.poll(now: 0, maxWait: 60_000)
        buffer.insert(packet(9000), arrival: 1_000)
        buffer.insert(packet(9001), arrival: 1_000)
        XCTAssertEqual(sequenceNumbers(buffer.poll(now: 1_000, maxWait: 60_000)), ["restart 9000", "9000", "9001"])
        XCTAssertEqual(buffer.counters.discontinuities, 1)
        XCTAssertEqual(buffer.counters.packetsConcealed, 0)
        XCTAssertEqual(buffer.count, 0)
    }
}
