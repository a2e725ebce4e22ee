import NIOCore
import XCTest

@testable import RoomProtocol

final class MediaFrameTests: XCTestCase {
    func testGoldenBytes() {
        let header = MediaFrameHeader(streamHandle: 7, track: .audio, flags: [.keyframe, .discontinuity],
                                      pts: 1_000_000, dts: -1, captureTime: 0x0102030405060708)
        var b = ByteBuffer()
        MediaFrame(header: header, payload: ByteBuffer(bytes: [0xAA, 0xBB])).write(to: &b)
        let expected: [UInt8] = [0, 0, 0, 33, 0x03,
                                 0, 0, 0, 7, 1, 3,
                                 0, 0, 0, 0, 0, 0x0F, 0x42, 0x40,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                 1, 2, 3, 4, 5, 6, 7, 8,
                                 0xAA, 0xBB]
        XCTAssertEqual(Array(b.readableBytesView), expected)
    }

    func testRoundTrip() throws {
        let frame = MediaFrame(header: MediaFrameHeader(streamHandle: 1, track: .video, flags: .keyframe, pts: 33_333, dts: 33_333,
                                                        captureTime: 1_700_000_000_000_000),
                               payload: ByteBuffer(bytes: [0, 0, 0, 1, 0x65]))
        var b = ByteBuffer()
        frame.write(to: &b)
        let raw = try XCTUnwrap(RoomFrameDecoder.nextFrame(from: &b, maximumFrameLength: 1024))
        XCTAssertEqual(try RoomFrame(raw), .media(frame))
        XCTAssertEqual(MediaFrameHeader.peekStreamHandle(raw.payload), 1)
    }

    func testShortHeaderIsMalformed() {
        XCTAssertThrowsError(try MediaFrame.decode(payload: ByteBuffer(bytes: [0, 0, 0, 1, 0]))) { error in
            guard case .malformedMedia = error as? RoomProtocolError else { return XCTFail("\(error)") }
        }
    }

    func testUnknownTrackIsMalformed() {
        var b = ByteBuffer()
        MediaFrameHeader(streamHandle: 1, track: .video, flags: [], pts: 0, dts: 0, captureTime: 0).write(to: &b)
        b.setInteger(UInt8(9), at: 4)
        XCTAssertThrowsError(try MediaFrame.decode(payload: b))
    }
}
