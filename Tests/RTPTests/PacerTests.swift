import XCTest

@testable import RTP

final class PacerTests: XCTestCase {
    func testRateIsRespectedOverOneSecond() {
        // Target 400 kbit/s: pacing at 2.5 × = 1 Mbit/s = 125 000 bytes/s.
        var pacer = Pacer<Int>(configuration: .init(maxQueueTime: 10_000_000), targetBitrate: 400_000)
        for index in 0..<400 { pacer.enqueue(index, size: 1000, kind: .video, now: 0) }
        var now: Int64 = 0
        var sentBytes = 0
        var sent: [Int] = []
        var polls = 0
        while now < 1_000_000 {
            let output = pacer.poll(now: now)
            sentBytes += output.send.count * 1000
            sent += output.send
            polls += 1
            guard let wakeup = output.nextWakeup else { break }
            XCTAssertGreaterThan(wakeup, now)
            now = wakeup
        }
        XCTAssertEqual(Double(sentBytes), 125_000, accuracy: 125_000 * 0.05)
        XCTAssertEqual(sent, Array(0..<sent.count), "in order")
        XCTAssertGreaterThan(polls, 100)
    }

    func testBurstsAreAtMostFiveMilliseconds() {
        // 10 Mbit/s pacing: 5 ms = 6250 bytes; after an idle second the bucket is empty, not full.
        var pacer = Pacer<Int>(targetBitrate: 4_000_000)
        _ = pacer.poll(now: 0)
        for index in 0..<20 { pacer.enqueue(index, size: 1000, kind: .video, now: 1_000_000) }
        XCTAssertEqual(pacer.poll(now: 1_000_000).send.count, 6)
        // A packet larger than the burst still leaves an empty bucket.
        var big = Pacer<Int>(targetBitrate: 10_000)  // 25 kbit/s: 5 ms = 15 bytes
        big.enqueue(1, size: 1200, kind: .video, now: 0)
        big.enqueue(2, size: 1200, kind: .video, now: 0)
        let output = big.poll(now: 0)
        XCTAssertEqual(output.send, [1])
        // Larger than the burst, the next one waits for the bucket to drain: 1200 bytes at 25 kbit/s, 384 ms.
        XCTAssertEqual(output.nextWakeup, 384_000)
        XCTAssertEqual(big.poll(now: 383_999).send, [])
        XCTAssertEqual(big.poll(now: 384_000).send, [2])
        XCTAssertNil(big.poll(now: 384_000).nextWakeup)
    }

    func testAudioThenRetransmissionsThenVideo() {
        var pacer = Pacer<String>(targetBitrate: 40_000)  // 100 kbit/s: one 1000-byte packet per 80 ms
        pacer.enqueue("v1", size: 1000, kind: .video, now: 0)
        pacer.enqueue("v2", size: 1000, kind: .video, now: 0)
        pacer.enqueue("r1", size: 1000, kind: .retransmission, now: 0)
        pacer.enqueue("a1", size: 1000, kind: .audio, now: 0)
        var order: [String] = []
        var now: Int64 = 0
        while true {
            let output = pacer.poll(now: now)
            order += output.send
            guard let wakeup = output.nextWakeup else { break }
            now = wakeup
            if order.count == 2 { pacer.enqueue("a2", size: 1000, kind: .audio, now: now) }
        }
        XCTAssertEqual(order, ["a1", "r1", "a2", "v1", "v2"])
    }

    func testOldPacketsAreDroppedAndCounted() {
        var pacer = Pacer<Int>(configuration: .init(maxQueueTime: 500_000), targetBitrate: 10_000)  // 25 kbit/s
        for index in 0..<10 { pacer.enqueue(index, size: 1000, kind: .video, now: 0) }
        XCTAssertEqual(pacer.poll(now: 0).send, [0])
        // 320 ms per packet; audio queued at 300 ms goes first; at 500.001 ms the video is over 500 ms old.
        pacer.enqueue(100, size: 100, kind: .audio, now: 300_000)
        XCTAssertEqual(pacer.poll(now: 320_000).send, [100])
        // The 100 audio bytes drain in 32 ms: video 1 leaves at 400 ms.
        XCTAssertEqual(pacer.poll(now: 400_000).send, [1])
        let output = pacer.poll(now: 500_001)
        XCTAssertEqual(output.dropped.map(\.packet), Array(2..<10))
        XCTAssertTrue(output.dropped.allSatisfy { $0.kind == .video })
        XCTAssertEqual(pacer.droppedPackets[Pacer<Int>.Kind.video.rawValue], 8)
        XCTAssertEqual(pacer.droppedBytes[Pacer<Int>.Kind.video.rawValue], 8000)
        XCTAssertEqual(pacer.queuedPackets, 0)
        XCTAssertEqual(pacer.queuedBytes, 0)
        XCTAssertNil(output.nextWakeup)
    }

    func testDrainTimeRaisesTheRateForABigQueue() {
        // 100 kbit/s pacing would take 8 s for 100 kB; a 100 ms drain time sends it all within about that.
        var pacer = Pacer<Int>(configuration: .init(burstInterval: 5_000, drainTime: 100_000), targetBitrate: 40_000)
        for index in 0..<100 { pacer.enqueue(index, size: 1000, kind: .video, now: 0) }
        var now: Int64 = 0
        var sent: [Int] = []
        while let wakeup = { let o = pacer.poll(now: now); sent += o.send; return o.nextWakeup }() {
            XCTAssertGreaterThan(wakeup, now)
            now = wakeup
        }
        XCTAssertEqual(sent, Array(0..<100))
        XCTAssertGreaterThan(now, 40_000, "still paced, not one burst")
        XCTAssertLessThan(now, 130_000, "drained within about the drain time: \(now) µs")
        // The rate is what the queue needs in the time left to its oldest packet, never below the pacing rate.
        XCTAssertEqual(pacer.effectiveRate(now: now), pacer.pacingRate, "nothing queued")
        pacer.enqueue(100, size: 1000, kind: .video, now: now)
        pacer.enqueue(101, size: 1000, kind: .video, now: now)
        XCTAssertEqual(pacer.effectiveRate(now: now), 2000 * 8 / 0.1)
        XCTAssertEqual(pacer.effectiveRate(now: now + 50_000), 2000 * 8 / 0.05)
    }

    func testWakeupCoversTheExpiry() {
        var pacer = Pacer<Int>(configuration: .init(maxQueueTime: 100_000), targetBitrate: 1000)  // 2.5 kbit/s
        pacer.enqueue(1, size: 1000, kind: .video, now: 0)
        pacer.enqueue(2, size: 1000, kind: .video, now: 0)
        let output = pacer.poll(now: 0)
        XCTAssertEqual(output.send, [1])
        XCTAssertEqual(output.nextWakeup, 100_001, "the expiry comes before the 3.2 s drain")
        XCTAssertEqual(pacer.poll(now: 100_001).dropped.map(\.packet), [2])
    }

    func testPacketBoundDropsTheOldestOfTheLowestClass() {
        var pacer = Pacer<Int>(configuration: .init(maxQueuedPackets: 3), targetBitrate: 1000)
        pacer.enqueue(1, size: 10, kind: .audio, now: 0)
        pacer.enqueue(2, size: 10, kind: .video, now: 0)
        pacer.enqueue(3, size: 10, kind: .video, now: 0)
        let dropped = pacer.enqueue(4, size: 10, kind: .retransmission, now: 0)
        XCTAssertEqual(dropped?.packet, 2)
        XCTAssertEqual(dropped?.kind, .video)
        XCTAssertEqual(pacer.queuedPackets, 3)
    }

    func testRateChange() {
        var pacer = Pacer<Int>(configuration: .init(maxQueueTime: 10_000_000), targetBitrate: 40_000)  // 12.5 kB/s
        for index in 0..<100 { pacer.enqueue(index, size: 500, kind: .video, now: 0) }
        var now: Int64 = 0
        var sent = 0
        while now < 2_000_000 {
            if now >= 1_000_000, pacer.pacingRate < 200_000 { pacer.setTargetBitrate(80_000, now: now) }
            let output = pacer.poll(now: now)
            if now < 2_000_000 { sent += output.send.count }
            guard let wakeup = output.nextWakeup else { break }
            now = wakeup
        }
        // 1 s at 12.5 kB/s + 1 s at 25 kB/s = 37.5 kB = 75 packets of 500 bytes (± a burst).
        XCTAssertEqual(Double(sent), 75, accuracy: 2)
    }
}
