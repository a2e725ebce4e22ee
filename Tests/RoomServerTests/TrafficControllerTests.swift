import RoomClient
import RoomProtocol
import XCTest

/// The traffic controller as a state machine: link samples in, bit rate changes out.
final class TrafficControllerTests: XCTestCase {
    func sample(kbps: Double, minMs: Double = 0, endMs: Double = 0, dropped: Int = 0) -> LinkSample {
        LinkSample(seconds: 0.5, takenBytes: Int(kbps * 1000 / 8 * 0.5), minBacklogMs: minMs, maxBacklogMs: max(minMs, endMs),
                   backlogMs: endMs, droppedFrames: dropped)
    }

    func testAStandingQueueLowersTheRateBelowWhatTheLinkCarried() throws {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000, otherBitRate: 80_000))
        XCTAssertNil(c.update(sample(kbps: 2080)), "a clear link: nothing to do")
        let action = try XCTUnwrap(c.update(sample(kbps: 1500, minMs: 120, endMs: 300)))
        guard case .setVideoBitRate(let rate, let reason) = action else { return XCTFail() }
        XCTAssertEqual(rate, Int(1_500_000 * 0.85) - 80_000)
        XCTAssertTrue(reason.contains("1500 kbit/s"), reason)
        XCTAssertEqual(c.videoBitRate, rate)
        XCTAssertNil(c.update(sample(kbps: 1500, minMs: 80, endMs: 150)), "held while the queue drains")
        XCTAssertNotNil(c.update(sample(kbps: 1500, minMs: 80, endMs: 150)), "still congested after the hold: lower again")
        XCTAssertLessThan(c.videoBitRate, rate)
    }

    func testAKeyframeSpikeIsNotCongestion() {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000))
        // The queue empties within the interval (its youngest age is 0) although it peaked at 150 ms.
        XCTAssertNil(c.update(sample(kbps: 2000, minMs: 0, endMs: 20)))
        XCTAssertEqual(c.videoBitRate, 2_000_000)
    }

    func testNeverBelowTheFloor() {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000, minVideoBitRate: 400_000))
        for _ in 0..<40 { _ = c.update(sample(kbps: 100, minMs: 500, endMs: 800, dropped: 5)) }
        XCTAssertEqual(c.videoBitRate, 400_000)
        XCTAssertEqual(TrafficController.Settings(maxVideoBitRate: 2_000_000).minVideoBitRate, 200_000, "default: a tenth")
    }

    func testClimbsBackToTheCeilingOnceTheLinkIsClear() {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000, otherBitRate: 80_000))
        _ = c.update(sample(kbps: 800, minMs: 200, endMs: 400, dropped: 3))
        let low = c.videoBitRate
        XCTAssertLessThan(low, 700_000)
        // The link is fast again: the queue stays empty and the link carries whatever is sent.
        var seconds = 0.0
        var actions = 0
        while c.videoBitRate < 2_000_000 && seconds < 30 {
            if c.update(sample(kbps: Double(c.videoBitRate + 80_000) / 1000)) != nil { actions += 1 }
            seconds += 0.5
        }
        XCTAssertEqual(c.videoBitRate, 2_000_000)
        XCTAssertLessThanOrEqual(seconds, 15, "back to the configured rate within 15 s: \(seconds) s")
        XCTAssertGreaterThan(actions, 3, "in steps")
    }

    func testAQuietIntervalSaysNothingOfTheLink() {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000, otherBitRate: 80_000))
        var first = sample(kbps: 2080)
        first.rttMs = 100
        _ = c.update(first)
        // A queue on the path (rtt 170 ms above its 100) while the encoder sent next to nothing.
        var quiet = sample(kbps: 40)
        quiet.rttMs = 270
        XCTAssertNotNil(c.update(quiet))
        XCTAssertEqual(c.videoBitRate, Int(2_080_000 * 0.85) - 80_000, "lowered below what was sent, not to what a quiet interval carried")
        XCTAssertNil(c.linkBitRate, "and no link rate learnt from it")
    }

    func testAnOutageIsNotACapacity() {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000))
        for _ in 0..<6 { XCTAssertNil(c.update(sample(kbps: 0, minMs: 300, endMs: 1500, dropped: 10))) }
        XCTAssertEqual(c.videoBitRate, 2_000_000, "nothing was taken at all: the link is out, not slow")
        XCTAssertNil(c.linkBitRate)
    }

    func testQualityLevels() {
        XCTAssertEqual(NetworkQualityLevel.uplink(rttMs: 20, rateShare: 1, backlogMs: 0, stalled: false), .excellent)
        XCTAssertEqual(NetworkQualityLevel.uplink(rttMs: 150, rateShare: 0.8, backlogMs: 60, stalled: false), .good)
        XCTAssertEqual(NetworkQualityLevel.uplink(rttMs: 100, rateShare: 0.5, backlogMs: 300, stalled: false), .medium)
        XCTAssertEqual(NetworkQualityLevel.uplink(rttMs: 100, rateShare: 0.2, backlogMs: 300, stalled: false), .bad)
        XCTAssertEqual(NetworkQualityLevel.uplink(rttMs: 100, rateShare: 1, backlogMs: 3000, stalled: true), .die)
        XCTAssertEqual(NetworkQualityLevel.downlink(rttMs: 20, queueMs: 10, dropRatio: 0, stalled: false), .excellent)
        XCTAssertEqual(NetworkQualityLevel.downlink(rttMs: 20, queueMs: 300, dropRatio: 0.1, stalled: false), .medium)
        XCTAssertGreaterThan(NetworkQualityLevel.die.severity, NetworkQualityLevel.bad.severity)
    }

    /// Below 45 % of the configured bits per pixel the picture gets smaller, then the frame rate halves; the
    /// way back needs 70 % of the larger layer's share, so the two never chase each other.
    func testTooFewBitsForThePictureStepDownTheLadderAndBack() throws {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000, otherBitRate: 80_000))
        var layers: [VideoLayer] = []
        var rates: [Int] = []
        // A link that stays congested: the rate falls, and with it the layer, one step per hold at most.
        for _ in 0..<60 {
            if case .setVideoLayer(let layer, let rate, let reason)? = c.update(sample(kbps: 400, minMs: 200, endMs: 400, dropped: 2)) {
                layers.append(layer)
                rates.append(rate)
                XCTAssertTrue(reason.contains("size"), reason)
            }
        }
        XCTAssertEqual(layers, Array(VideoLayer.ladder.dropFirst()), "3/4 size, half size, then half the frame rate")
        XCTAssertLessThan(Double(rates[0]), 0.45 * 2_000_000, "the first step came when the rate fell below 45 %")
        XCTAssertLessThan(Double(rates[1]), 0.45 * 2_000_000 * 0.5625, "the second below 45 % of 3/4 size's bits")
        XCTAssertEqual(c.videoBitRate, c.settings.minVideoBitRate)
        // The link clears: the rate climbs and the layers come back in order, to full size at full rate.
        var back: [VideoLayer] = []
        for _ in 0..<400 {
            if case .setVideoLayer(let layer, _, _)? = c.update(sample(kbps: 100)) { back.append(layer) }
        }
        XCTAssertEqual(back, [VideoLayer(sizeQuarters: 2, frameRateDivisor: 1), VideoLayer(sizeQuarters: 3, frameRateDivisor: 1), .full])
        XCTAssertEqual(c.videoBitRate, 2_000_000)
    }

    /// A floor high enough that the rate never calls for a smaller layer: congestion at the floor does.
    func testCongestionAtTheFloorTakesTheNextLayer() {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000, minVideoBitRate: 700_000))
        for _ in 0..<80 { _ = c.update(sample(kbps: 300, minMs: 300, endMs: 600, dropped: 3)) }
        XCTAssertEqual(c.videoBitRate, 700_000)
        XCTAssertEqual(c.layer, VideoLayer(sizeQuarters: 2, frameRateDivisor: 2))
    }

    func testLayerChangesAreHeldApart() {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000))
        var changes: [Double] = []
        var t = 0.0
        for _ in 0..<80 {
            t += 0.5
            if case .setVideoLayer? = c.update(sample(kbps: 150, minMs: 300, endMs: 600, dropped: 4)) { changes.append(t) }
        }
        XCTAssertEqual(changes.count, 3, "down the whole ladder: \(changes)")
        for (a, b) in zip(changes, changes.dropFirst()) { XCTAssertGreaterThanOrEqual(b - a, TrafficController.layerHoldSeconds) }
    }

    func testALayerScalesTheConfiguredTrack() {
        let track = TrackInfo(kind: .video, codec: "h264", width: 1280, height: 720, frameRate: 30, bitRate: 2_000_000)
        let half = VideoLayer(sizeQuarters: 2, frameRateDivisor: 2).apply(to: track)
        XCTAssertEqual([half.width, half.height], [640, 360])
        XCTAssertEqual(half.frameRate, 15)
        let odd = VideoLayer(sizeQuarters: 3, frameRateDivisor: 1).apply(to: TrackInfo(kind: .video, codec: "h264", width: 322, height: 242))
        XCTAssertEqual([odd.width, odd.height], [240, 180], "even sizes")
        XCTAssertEqual(VideoLayer.full.apply(to: track), track)
    }

    /// Right after a link slows, what the kernel took still counts the filling of the faster link's window;
    /// what was acknowledged already says what the path delivers, and the first decrease goes under it.
    func testTheDeliveryRateSetsTheFirstDecrease() throws {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000, otherBitRate: 64_000))
        _ = c.update(LinkSample(seconds: 0.5, takenBytes: 125_000, minBacklogMs: 0, maxBacklogMs: 0, backlogMs: 0, droppedFrames: 0,
                                rttMs: 100, deliveryRate: 2_000_000))
        let slowed = LinkSample(seconds: 0.5, takenBytes: 102_000, minBacklogMs: 0, maxBacklogMs: 40, backlogMs: 0, droppedFrames: 0,
                                rttMs: 280, deliveryRate: 800_000)
        let action = try XCTUnwrap(c.update(slowed), "a path queue of 180 ms is congestion")
        XCTAssertEqual(action.videoBitRate, Int(800_000 * 0.85) - 64_000, "under what the path delivers, not the 1632 kbit/s taken")
        // No queue anywhere (drops alone made it congestion): what was acknowledged is only what was sent.
        var d = TrafficController(settings: .init(maxVideoBitRate: 2_000_000, otherBitRate: 64_000))
        _ = d.update(LinkSample(seconds: 0.5, takenBytes: 125_000, minBacklogMs: 0, maxBacklogMs: 0, backlogMs: 0, droppedFrames: 0, rttMs: 100))
        let quiet = LinkSample(seconds: 0.5, takenBytes: 110_000, minBacklogMs: 0, maxBacklogMs: 0, backlogMs: 0, droppedFrames: 2,
                               rttMs: 101, deliveryRate: 300_000)
        XCTAssertGreaterThan(try XCTUnwrap(d.update(quiet)).videoBitRate, 1_000_000)
    }

    /// Under congestion only the bit rate falls: a new layer would start with a keyframe into the full queue.
    /// The smaller picture comes with the first sample whose queue has drained.
    func testTheSmallerPictureWaitsForTheQueueToDrain() throws {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000, otherBitRate: 64_000))
        let first = try XCTUnwrap(c.update(sample(kbps: 700, minMs: 150, endMs: 300, dropped: 2)))
        guard case .setVideoBitRate(let rate, _) = first else { return XCTFail("a layer change under congestion: \(first)") }
        XCTAssertLessThan(Double(rate), 0.45 * 2_000_000, "the rate calls for a smaller picture")
        XCTAssertEqual(c.layer, .full)
        let drained = try XCTUnwrap(c.update(sample(kbps: 500)))
        guard case .setVideoLayer(let layer, let same, let reason) = drained else { return XCTFail("\(drained)") }
        XCTAssertEqual(layer.sizeQuarters, 3)
        XCTAssertEqual(same, rate, "the bit rate stays")
        XCTAssertTrue(reason.contains("the queue drained"), reason)
    }

    // Over RTP: the session's congestion controller (GCC) estimates the path; the encoder follows it.
    func rtp(estimateKbps: Double, queueMs: Double = 0, dropped: Int = 0) -> LinkSample {
        LinkSample(seconds: 0.5, takenBytes: Int(estimateKbps * 1000 / 8 * 0.5), minBacklogMs: 0, maxBacklogMs: 0, backlogMs: 0,
                   droppedFrames: dropped, rttMs: 100, pathQueueMs: queueMs, estimateBitRate: estimateKbps * 1000)
    }

    func testOverRTPTheEncoderFollowsTheEstimateDownAtOnceAndUpInHeldSteps() throws {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000, otherBitRate: 80_000))
        XCTAssertNil(c.update(rtp(estimateKbps: 2100)), "the estimate carries the stream: nothing to do")
        XCTAssertNil(c.update(rtp(estimateKbps: 2040, queueMs: 150)), "under 5 % below: not worth an encoder change")
        XCTAssertNil(c.update(rtp(estimateKbps: 1000)), "a lower estimate with no queue on the path: random loss, repaired")
        let down = try XCTUnwrap(c.update(rtp(estimateKbps: 1500, queueMs: 150)))
        XCTAssertEqual(down.videoBitRate, 1_500_000 - 80_000)
        XCTAssertTrue(down.reason.contains("1500 kbit/s") && down.reason.contains("path queue 150 ms"), down.reason)
        XCTAssertEqual(try XCTUnwrap(c.update(rtp(estimateKbps: 1200, queueMs: 150))).videoBitRate, 1_120_000,
                       "a lower estimate the next tick: down again, no hold")
        XCTAssertNil(c.update(rtp(estimateKbps: 1400)), "up waits a hold (1 s) after the last decrease")
        let up = try XCTUnwrap(c.update(rtp(estimateKbps: 1400)))
        XCTAssertEqual(up.videoBitRate, 1_320_000)
        XCTAssertTrue(up.reason.contains("rose to 1400"), up.reason)
        XCTAssertNil(c.update(rtp(estimateKbps: 1420)), "held again, and under 5 % more")
        for _ in 0..<4 { _ = c.update(rtp(estimateKbps: 5000)) }
        XCTAssertEqual(c.videoBitRate, 2_000_000, "never above the configured rate")
    }

    func testOverRTPTheRoundTripsFloorIsNotTheQueue() {
        // A queue that stood from the first sample: measured on the path, it is congestion even though the
        // round trip never was lower (over TCP it would be the base).
        let c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000))
        XCTAssertTrue(c.isCongested(rtp(estimateKbps: 2000, queueMs: 190)))
        XCTAssertFalse(c.isCongested(rtp(estimateKbps: 2000, queueMs: 5)))
    }

    func testOverRTPAnEstimateUnderTheFloorTakesSmallerLayersOnceTheQueueDrained() throws {
        var c = TrafficController(settings: .init(maxVideoBitRate: 2_000_000, minVideoBitRate: 200_000, otherBitRate: 80_000))
        let first = try XCTUnwrap(c.update(rtp(estimateKbps: 300, queueMs: 200)))
        guard case .setVideoBitRate(let rate, _) = first else { return XCTFail("under congestion the picture waits: \(first)") }
        XCTAssertEqual(rate, 220_000)
        let drained = try XCTUnwrap(c.update(rtp(estimateKbps: 300)))
        guard case .setVideoLayer(let layer, _, let reason) = drained else { return XCTFail("\(drained)") }
        XCTAssertLessThan(layer.sizeQuarters, 4, reason)
    }
}
