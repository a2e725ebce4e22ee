import NIOCore
import XCTest
@testable import RTP

final class RTPPacketCacheTests: XCTestCase {
    func packet(_ sequenceNumber: UInt16, ssrc: UInt32 = 1) -> RTPPacket {
        RTPPacket(payloadType: 96, sequenceNumber: sequenceNumber, timestamp: 90, ssrc: ssrc,
            payload: golden([UInt8(truncatingIfNeeded: sequenceNumber), 0xEE]))
    }

    func nack(_ lost: [UInt16], ssrc: UInt32 = 1) -> RTCPNack {
        RTCPNack(senderSSRC: 9, mediaSSRC: ssrc, lostSequenceNumbers: lost)
    }

    func testCountBoundAcrossWrap() {
        var cache = RTPPacketCache(ssrc: 1, rtx: nil, configuration: .init(capacity: 100, maxAge: 10_000_000))
        for offset in 0..<150 { cache.store(packet(65450 &+ UInt16(offset)), now: Int64(offset)) }
        XCTAssertEqual(cache.count, 100)
        XCTAssertNil(cache.lookup(sequenceNumber: 65450))
        XCTAssertNil(cache.lookup(sequenceNumber: 65499))
        XCTAssertEqual(cache.lookup(sequenceNumber: 65500), packet(65500))
        XCTAssertEqual(cache.lookup(sequenceNumber: 13), packet(13), "past the wrap")
        XCTAssertEqual(cache.lookup(sequenceNumber: 63), packet(63))
        XCTAssertNil(cache.lookup(sequenceNumber: 64), "not sent yet")
        // Too old for the window: ignored.
        cache.store(packet(65490), now: 200)
        XCTAssertNil(cache.lookup(sequenceNumber: 65490))
        // Another SSRC: ignored.
        cache.store(packet(64, ssrc: 2), now: 200)
        XCTAssertNil(cache.lookup(sequenceNumber: 64))
        // A jump over the capacity frees every slot.
        cache.store(packet(5000), now: 300)
        XCTAssertEqual(cache.count, 1)
        XCTAssertNil(cache.lookup(sequenceNumber: 13))
    }

    func testAgeBound() {
        var cache = RTPPacketCache(ssrc: 1, rtx: nil, configuration: .init(capacity: 1000, maxAge: 1_000_000))
        cache.store(packet(1), now: 0)
        cache.store(packet(2), now: 500_000)
        XCTAssertEqual(cache.answer(nack: nack([1, 2]), now: 1_000_001, rtt: 50_000), [packet(2)], "1 is past the age")
        cache.store(packet(3), now: 1_200_000)
        XCTAssertNil(cache.lookup(sequenceNumber: 1), "expired on store")
        XCTAssertNotNil(cache.lookup(sequenceNumber: 2))
        cache.expire(now: 1_600_000)
        XCTAssertNil(cache.lookup(sequenceNumber: 2))
        XCTAssertEqual(cache.count, 1)
    }

    func testOncePerRTTAsRTX() throws {
        let rtx = RTXSender(ssrc: 0x55, payloadTypes: [96: 97], firstSequenceNumber: 100)
        var cache = RTPPacketCache(ssrc: 1, rtx: rtx)
        for sequenceNumber in UInt16(10)...20 { cache.store(packet(sequenceNumber), now: 0) }
        let first = cache.answer(nack: nack([12, 14, 99]), now: 10_000, rtt: 80_000)
        XCTAssertEqual(first.map(\.sequenceNumber), [100, 101])
        XCTAssertEqual(first.map(\.ssrc), [0x55, 0x55])
        XCTAssertEqual(first.map(\.payloadType), [97, 97])
        XCTAssertEqual(try first.map { try RTXPacket.original(from: $0, originalSSRC: 1, originalPayloadType: 96) }, [packet(12), packet(14)])
        // The same NACK again within the rtt (the receiver's retry crossed our answer): nothing.
        XCTAssertEqual(cache.answer(nack: nack([12, 14]), now: 89_999, rtt: 80_000), [])
        // 15 was not sent yet; a repeat in one NACK goes once.
        XCTAssertEqual(cache.answer(nack: nack([15, 15, 12]), now: 89_999, rtt: 80_000).map(\.sequenceNumber), [102])
        // After the rtt: again.
        XCTAssertEqual(cache.answer(nack: nack([12, 14]), now: 90_000, rtt: 80_000).map(\.sequenceNumber), [103, 104])
        XCTAssertEqual(cache.answer(nack: nack([12], ssrc: 2), now: 500_000, rtt: 80_000), [], "another SSRC")
        XCTAssertEqual(cache.counters, .init(retransmitted: 5, notFound: 1, suppressed: 3))
    }

    func testWithoutRTXTheOriginalGoes() {
        var cache = RTPPacketCache(ssrc: 1, rtx: RTXSender(ssrc: 0x55, payloadTypes: [:], firstSequenceNumber: 0))
        cache.store(packet(1), now: 0)
        XCTAssertEqual(cache.answer(nack: nack([1]), now: 1, rtt: 0), [packet(1)], "no RTX payload type for 96")
    }
}
