import Foundation
import NIOCore
import RoomClient
import RoomProtocol
import XCTest

/// MediaQueue on its own: order, the drop policy when full, and the two ways to take an item.
final class MediaQueueTests: XCTestCase {
    private func frame(_ n: Int64, _ track: TrackKind = .video, keyframe: Bool = false) -> PlayerItem {
        .frame(MediaFrame(header: MediaFrameHeader(streamHandle: 1, track: track, flags: keyframe ? .keyframe : [], pts: n, dts: n,
                                                   captureTime: 0), payload: ByteBuffer(bytes: [0])))
    }

    private func pts(_ item: PlayerItem?) -> Int64? {
        if case .frame(let f) = item { return f.header.pts }
        return nil
    }

    func testTryPopTakesInOrderAndDoesNotWait() {
        let queue = MediaQueue(capacity: 8)
        XCTAssertNil(queue.tryPop())
        for n in 0..<600 { queue.push(frame(Int64(n), keyframe: true)); XCTAssertEqual(pts(queue.tryPop()), Int64(n)) }
        XCTAssertNil(queue.tryPop())
        queue.push(frame(1)); queue.push(frame(2)); queue.push(.closed(nil))
        XCTAssertEqual(pts(queue.tryPop()), 1)
        XCTAssertEqual(pts(queue.pop(until: Date.distantPast)), 2)
        guard case .closed = queue.tryPop() else { return XCTFail("the close comes last") }
        XCTAssertNil(queue.tryPop())
    }

    func testAFullQueueDropsVideoToTheNextKeyframe() {
        let queue = MediaQueue(capacity: 2)
        queue.push(frame(0, keyframe: true)); queue.push(frame(1)); queue.push(frame(2)); queue.push(frame(3, .audio))
        XCTAssertEqual(pts(queue.tryPop()), 0)
        queue.push(frame(4))  // room again, but video waits for a keyframe after the drop
        queue.push(frame(5, keyframe: true))
        XCTAssertEqual([pts(queue.tryPop()), pts(queue.tryPop())], [1, 5])
        XCTAssertNil(queue.tryPop())
        XCTAssertEqual(queue.droppedFrames, 3)
    }

    /// What the server says it dropped of a play counts as the player's drops, once, and a new play starts
    /// the server's count afresh.
    func testTheServersDropsCountOnce() {
        let queue = MediaQueue(capacity: 8)
        queue.push(.started(StreamInfo(streamID: "s", user: UserInfo(userID: "u", userName: "u"), tracks: [])))
        queue.noteUpstreamDrops(total: 5)
        queue.noteUpstreamDrops(total: 5)
        queue.noteUpstreamDrops(total: 7)
        XCTAssertEqual(queue.counters.framesDropped, 7)
        XCTAssertEqual(queue.counters.framesDroppedUpstream, 7)
        let report = queue.counters.quality(since: StreamCounters(), seconds: 3, streamID: "s", rttMs: nil)
        XCTAssertEqual(report.serverFramesDropped, 7)
        queue.push(.started(StreamInfo(streamID: "s", user: UserInfo(userID: "u", userName: "u"), tracks: [])))
        queue.noteUpstreamDrops(total: 2)
        XCTAssertEqual(queue.counters.framesDropped, 9, "the new play's server counts from zero")
    }
}
