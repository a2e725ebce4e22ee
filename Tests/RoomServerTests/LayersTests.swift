import NIOCore
import RoomClient
import RoomProtocol
import XCTest

@testable import RoomServer

/// Layered video without sockets: the selector of `play --layer auto`, the GOP cache of a layered stream,
/// and what a player of the small layer is told of the stream.
final class LayersTests: XCTestCase {
    func testAutoFallsAfterTwoBackedUpTicksAndClimbsBackAfterAHoldThatGrowsWhenClimbsFail() {
        var s = LayerSelector()
        XCTAssertEqual(s.layer, .big)
        XCTAssertNil(s.update(now: 0, droppedByServer: 0, queueMs: 20))
        XCTAssertNil(s.update(now: 0.5, droppedByServer: 3, queueMs: 20), "one bad tick is not enough")
        XCTAssertNil(s.update(now: 1, droppedByServer: 0, queueMs: 20), "the count starts again")
        XCTAssertNil(s.update(now: 1.5, droppedByServer: 0, queueMs: 400))
        XCTAssertEqual(s.update(now: 2, droppedByServer: 2, queueMs: 20), .small)
        // Held 5 s on small; calm by then: back to big.
        XCTAssertNil(s.update(now: 4, droppedByServer: 0, queueMs: 10))
        XCTAssertNil(s.update(now: 6.9, droppedByServer: 0, queueMs: 10))
        XCTAssertEqual(s.update(now: 7, droppedByServer: 0, queueMs: 10), .big)
        // The climb fails at once: small again, held twice as long.
        _ = s.update(now: 7.5, droppedByServer: 1, queueMs: 10)
        XCTAssertEqual(s.update(now: 8, droppedByServer: 1, queueMs: 10), .small)
        XCTAssertNil(s.update(now: 17.9, droppedByServer: 0, queueMs: 10))
        XCTAssertNil(s.update(now: 18, droppedByServer: 0, queueMs: 200), "a queue above calm waits")
        XCTAssertEqual(s.update(now: 18.5, droppedByServer: 0, queueMs: 50), .big)
        // Trouble on small pushes its hold on; the hold never exceeds 20 s.
        for t in stride(from: 19.0, through: 300, by: 0.5) { _ = s.update(now: t, droppedByServer: t.truncatingRemainder(dividingBy: 30) < 2 ? 5 : 0, queueMs: 10) }
        var climbs = 0
        var last: VideoLayerChoice = s.layer
        for t in stride(from: 300.5, through: 400, by: 0.5) {
            if let l = s.update(now: t, droppedByServer: 0, queueMs: 10) { last = l; climbs += 1 }
        }
        XCTAssertEqual(last, .big)
        XCTAssertLessThanOrEqual(climbs, 1, "a calm link stays big")
    }

    func testTheGOPCacheOfALayeredStreamKeepsBothLayersFromTheBigKeyframe() {
        var cache = GOPCache(limitBytes: 1 << 20)
        func frame(_ video: Bool, key: Bool, small: Bool) -> CachedFrame {
            CachedFrame(wire: ByteBuffer(bytes: [1, 2, 3]), isVideo: video, isKeyframe: key, received: .now(), isSmallLayer: small)
        }
        cache.append(frame(true, key: true, small: false), hasVideoTrack: true)
        cache.append(frame(true, key: true, small: true), hasVideoTrack: true)
        cache.append(frame(false, key: true, small: false), hasVideoTrack: true)
        cache.append(frame(true, key: false, small: false), hasVideoTrack: true)
        cache.append(frame(true, key: false, small: true), hasVideoTrack: true)
        XCTAssertEqual(cache.frames.count, 5, "the small keyframe does not start a new group")
        XCTAssertEqual(cache.frames.map(\.isSmallLayer), [false, true, false, false, true])
        cache.append(frame(true, key: true, small: false), hasVideoTrack: true)
        XCTAssertEqual(cache.frames.count, 1, "the next big keyframe does")
    }

    func testAPlayerOfTheSmallLayerIsToldItsSize() {
        let video = TrackInfo(kind: .video, codec: "h264", width: 640, height: 360, frameRate: 30, bitRate: 800_000, extradata: "AAAA",
                              layers: [TrackLayer(width: 640, height: 360, bitRate: 800_000), TrackLayer(width: 320, height: 180, bitRate: 200_000)])
        let info = StreamInfo(streamID: "cam", user: UserInfo(userID: "u", userName: "u"), tracks: [video, TrackInfo(kind: .audio, codec: "aac")])
        XCTAssertTrue(info.isLayered)
        let small = info.described(as: .small)
        XCTAssertEqual(small.tracks[0].width, 320)
        XCTAssertEqual(small.tracks[0].height, 180)
        XCTAssertEqual(small.tracks[0].bitRate, 200_000)
        XCTAssertNil(small.tracks[0].extradata, "the big layer's parameter sets are not the small one's")
        XCTAssertEqual(small.tracks[1], info.tracks[1])
        XCTAssertEqual(info.described(as: .big), info)
        let plain = StreamInfo(streamID: "s", user: info.user, tracks: [TrackInfo(kind: .video, codec: "h264", width: 640, height: 360)])
        XCTAssertFalse(plain.isLayered)
        XCTAssertEqual(plain.described(as: .small), plain, "a stream without layers is what it is")
    }
}
