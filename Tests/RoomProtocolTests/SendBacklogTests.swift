import RoomProtocol
import XCTest

final class SendBacklogTests: XCTestCase {
    let ms: UInt64 = 1_000_000

    func testAgeIsTheOldestFrameTheKernelHasNotTaken() {
        var b = SendBacklog()
        XCTAssertEqual(b.age(at: 100 * ms), 0, "nothing written, nothing waits")
        b.wrote(1000, at: 10 * ms)
        b.wrote(500, at: 20 * ms)
        b.wrote(200, at: 30 * ms)
        XCTAssertEqual(b.age(at: 50 * ms), 40 * ms)
        b.took(upTo: 999)
        XCTAssertEqual(b.age(at: 50 * ms), 40 * ms, "the first frame is not all taken")
        b.took(upTo: 1000)
        XCTAssertEqual(b.age(at: 50 * ms), 30 * ms)
        b.pending(200)  // the channel still holds the last frame only
        XCTAssertEqual(b.age(at: 50 * ms), 20 * ms)
        XCTAssertEqual(b.unsentBytes, 200)
        b.pending(0)
        XCTAssertTrue(b.isEmpty)
        XCTAssertEqual(b.age(at: 50 * ms), 0)
    }

    func testControlBytesMoveTheOffsetWithoutAnAge() {
        var b = SendBacklog()
        b.wrote(100, at: 1 * ms)
        b.wroteUntimed(50)
        b.wrote(100, at: 2 * ms)
        XCTAssertEqual(b.written, 250)
        b.pending(150)   // the first frame was taken
        XCTAssertEqual(b.age(at: 5 * ms), 3 * ms, "the second frame waits")
        b.pending(100)
        XCTAssertEqual(b.age(at: 5 * ms), 3 * ms, "the control message was taken, the frame behind it waits")
        b.pending(0)
        XCTAssertTrue(b.isEmpty)
        b.took(upTo: 10)   // going back is ignored
        XCTAssertEqual(b.taken, 250)
    }

    func testManyFramesCompactWithoutLosingTheOrder() {
        var b = SendBacklog()
        for i in 0..<1000 { b.wrote(10, at: UInt64(i) * ms) }
        for i in 0..<999 {
            b.took(upTo: UInt64(i + 1) * 10)
            XCTAssertEqual(b.age(at: 2000 * ms), (2000 - UInt64(i + 1)) * ms)
        }
    }

    func testDropPolicyVideoToTheNextKeyframeAudioLast() {
        let p = MediaDropPolicy(videoLimitMilliseconds: 100, audioLimitMilliseconds: 200)
        XCTAssertEqual(p.decide(video: true, keyframe: false, waitingForKeyframe: false, backlogAge: 50 * ms), .send)
        XCTAssertEqual(p.decide(video: true, keyframe: false, waitingForKeyframe: false, backlogAge: 150 * ms), .drop(startsWaiting: true))
        XCTAssertEqual(p.decide(video: true, keyframe: true, waitingForKeyframe: true, backlogAge: 150 * ms), .drop(startsWaiting: false),
                       "not even a keyframe while the backlog is too old")
        XCTAssertEqual(p.decide(video: true, keyframe: false, waitingForKeyframe: true, backlogAge: 0), .drop(startsWaiting: false))
        XCTAssertEqual(p.decide(video: true, keyframe: true, waitingForKeyframe: true, backlogAge: 10 * ms), .send)
        XCTAssertEqual(p.decide(video: false, keyframe: false, waitingForKeyframe: true, backlogAge: 150 * ms), .send,
                       "audio goes on past the video limit")
        XCTAssertEqual(p.decide(video: false, keyframe: false, waitingForKeyframe: false, backlogAge: 250 * ms), .drop(startsWaiting: false))
    }
}
