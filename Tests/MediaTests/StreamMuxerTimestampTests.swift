import Foundation
import NIOCore
import RoomProtocol
import XCTest

@testable import Media

/// A publisher controls the timestamps every player computes with: absurd ones are dropped, not trapped on.
final class StreamMuxerTimestampTests: XCTestCase {
    func testExtremeTimestampsAreDroppedNotFatal() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rtcbox-ts-\(UUID().uuidString).nut").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let muxer = try StreamMuxer(output: path, format: nil, kinds: [.audio])
        muxer.streamStarted(StreamInfo(streamID: "s", user: UserInfo(userID: "u", userName: "u"),
                                       tracks: [TrackInfo(kind: .audio, codec: "opus", sampleRate: 48000, channels: 2)]))
        func frame(_ dts: Int64) -> MediaFrame {
            MediaFrame(header: MediaFrameHeader(streamHandle: 1, track: .audio, flags: .keyframe, pts: dts, dts: dts, captureTime: 0),
                       payload: ByteBuffer(bytes: [0xfc, 0xff, 0xfe]))
        }
        XCTAssertFalse(try muxer.write(frame(.min)))
        XCTAssertFalse(try muxer.write(frame(.max)))
        XCTAssertTrue(try muxer.write(frame(0)))
        XCTAssertFalse(try muxer.write(frame(.max - 5)), "after a sane frame too")
        XCTAssertTrue(try muxer.write(frame(20_000)))
        XCTAssertEqual(muxer.framesDropped, 3)
        XCTAssertEqual(muxer.audioFramesWritten, 2)
        try muxer.finish()
    }
}
