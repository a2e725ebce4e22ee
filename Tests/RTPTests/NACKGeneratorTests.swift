import XCTest
@testable import RTP

final class NACKGeneratorTests: XCTestCase {
    let rtt: Int64 = 100_000

    func testScheduleUnderFakeClock() {
        var generator = NACKGenerator(configuration: .init(giveUpAfter: 5_000_000))
        generator.received(sequenceNumber: 1, now: 0)
        generator.received(sequenceNumber: 3, now: 1_000)
        XCTAssertEqual(generator.missingSequenceNumbers, [2])
        // Reorder wait: max(5 ms, 0.1 x 100 ms) = 10 ms after the gap showed.
        XCTAssertEqual(generator.nextDeadline(rtt: rtt), 11_000)
        XCTAssertEqual(generator.poll(now: 10_999, rtt: rtt), NACKAction())
        XCTAssertEqual(generator.poll(now: 11_000, rtt: rtt), NACKAction(sequenceNumbers: [2]))
        // Then every rtt, ten times in all.
        var sent: [Int64] = [11_000]
        var now: Int64 = 11_000
        while now < 2_000_000 {
            now += 1_000
            let action = generator.poll(now: now, rtt: rtt)
            if action.sequenceNumbers == [2] { sent.append(now) }
            if action.requestKeyframe {
                XCTAssertEqual(now, 1_011_000, "given up one rtt after the tenth NACK, with a keyframe request")
                break
            }
        }
        XCTAssertEqual(sent, (0..<10).map { 11_000 + Int64($0) * 100_000 })
        XCTAssertEqual(generator.missingCount, 0)
        XCTAssertEqual(generator.counters.nacksSent, 10)
        XCTAssertEqual(generator.counters.givenUp, 1)
        XCTAssertEqual(generator.counters.keyframeRequests, 1)
        XCTAssertNil(generator.nextDeadline(rtt: rtt))
    }

    func testShortRTTUsesTheFloors() {
        var generator = NACKGenerator()
        generator.received(sequenceNumber: 10, now: 0)
        generator.received(sequenceNumber: 12, now: 0)
        XCTAssertEqual(generator.poll(now: 4_999, rtt: 1_000), NACKAction(), "5 ms reorder floor")
        XCTAssertEqual(generator.poll(now: 5_000, rtt: 1_000).sequenceNumbers, [11])
        XCTAssertEqual(generator.poll(now: 24_999, rtt: 1_000), NACKAction(), "20 ms retry floor")
        XCTAssertEqual(generator.poll(now: 25_000, rtt: 1_000).sequenceNumbers, [11])
    }

    func testLateAndRetransmittedArrivalsRemoveEntriesAcrossWrap() {
        var generator = NACKGenerator()
        generator.received(sequenceNumber: 65533, now: 0)
        generator.received(sequenceNumber: 2, now: 0)
        XCTAssertEqual(generator.missingSequenceNumbers, [65534, 65535, 0, 1])
        generator.received(sequenceNumber: 65535, now: 1_000)
        generator.received(sequenceNumber: 0, isRetransmission: true, now: 2_000)
        generator.received(sequenceNumber: 0, isRetransmission: true, now: 2_000)
        generator.received(sequenceNumber: 2, now: 3_000)
        XCTAssertEqual(generator.missingSequenceNumbers, [65534, 1])
        XCTAssertEqual(generator.counters.recoveredLate, 1)
        XCTAssertEqual(generator.counters.recoveredByRetransmission, 1)
        XCTAssertEqual(generator.poll(now: 10_000, rtt: rtt).sequenceNumbers, [65534, 1])
        let nack = RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: [65534, 1])
        XCTAssertEqual(nack.pairs, [.init(packetID: 65534, lostBitmask: 0b100)])
    }

    func testDeadlineGivesUp() {
        var generator = NACKGenerator(configuration: .init(giveUpAfter: 150_000, requestKeyframeOnUnrecovered: false))
        generator.received(sequenceNumber: 1, now: 0)
        generator.received(sequenceNumber: 3, now: 0)
        XCTAssertEqual(generator.poll(now: 10_000, rtt: rtt).sequenceNumbers, [2])
        XCTAssertEqual(generator.poll(now: 110_000, rtt: rtt).sequenceNumbers, [2])
        XCTAssertEqual(generator.poll(now: 150_001, rtt: rtt), NACKAction(), "too old; no keyframe asked")
        XCTAssertEqual(generator.missingCount, 0)
        XCTAssertEqual(generator.counters.givenUp, 1)
    }

    func testHugeGapAndOverflowAskForAKeyframeRateLimited() {
        var generator = NACKGenerator(configuration: .init(maxMissing: 100))
        generator.received(sequenceNumber: 0, now: 0)
        generator.received(sequenceNumber: 102, now: 0)
        XCTAssertEqual(generator.missingCount, 0, "a gap of 101 is given up whole")
        XCTAssertEqual(generator.poll(now: 0, rtt: rtt), NACKAction(requestKeyframe: true))
        // Overflow: 60 + 60 missing, the oldest 20 go.
        generator.received(sequenceNumber: 163, now: 1_000)
        generator.received(sequenceNumber: 224, now: 1_000)
        XCTAssertEqual(generator.missingCount, 100)
        XCTAssertEqual(generator.missingSequenceNumbers.first, 123)
        let action = generator.poll(now: 100_000, rtt: rtt)
        XCTAssertFalse(action.requestKeyframe, "within 500 ms of the last request")
        XCTAssertEqual(action.sequenceNumbers.count, 100)
        XCTAssertEqual(generator.nextDeadline(rtt: rtt), 200_000, "the retry, before the keyframe's 500 ms")
        XCTAssertTrue(generator.poll(now: 500_000, rtt: rtt).requestKeyframe)
        XCTAssertEqual(generator.counters.givenUp, 101 + 20)
        XCTAssertEqual(generator.counters.keyframeRequests, 2)
    }
}
