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

    func testSoundLevelGoldenBytes() throws {
        let header = MediaFrameHeader(streamHandle: 7, track: .audio, flags: .keyframe, pts: 1_000_000, dts: -1,
                                      captureTime: 0x0102030405060708, soundLevel: 23)
        XCTAssertEqual(header.encodedSize, 31)
        var b = ByteBuffer()
        MediaFrame(header: header, payload: ByteBuffer(bytes: [0xAA])).write(to: &b)
        let expected: [UInt8] = [0, 0, 0, 33, 0x03,
                                 0, 0, 0, 7, 1, 0x09,
                                 0, 0, 0, 0, 0, 0x0F, 0x42, 0x40,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                 1, 2, 3, 4, 5, 6, 7, 8,
                                 23,
                                 0xAA]
        XCTAssertEqual(Array(b.readableBytesView), expected)
        let raw = try XCTUnwrap(RoomFrameDecoder.nextFrame(from: &b, maximumFrameLength: 1024))
        let decoded = try MediaFrame.decode(payload: raw.payload)
        XCTAssertEqual(decoded.header.soundLevel, 23)
        XCTAssertEqual(decoded.header.flags, .keyframe, "the flag stands for the byte; the header keeps the value")
        XCTAssertEqual(Array(decoded.payload.readableBytesView), [0xAA], "the codec payload starts after the level")
    }

    func testSoundLevelFlagWithoutItsByteOrOutOfRangeIsMalformed() {
        var b = ByteBuffer()
        MediaFrameHeader(streamHandle: 1, track: .audio, flags: [], pts: 0, dts: 0, captureTime: 0).write(to: &b)
        b.setInteger(UInt8(0x08), at: 5)
        XCTAssertThrowsError(try MediaFrame.decode(payload: b))
        b.writeInteger(UInt8(128))
        XCTAssertThrowsError(try MediaFrame.decode(payload: b))
    }

    func testSoundLevelScale() {
        XCTAssertEqual(SoundLevel.dBov(meanSquare: 0.5), 0, "a full-scale sine is 0 dBov")
        XCTAssertEqual(SoundLevel.dBov(meanSquare: 0.5 / 100), 20)
        XCTAssertEqual(SoundLevel.dBov(meanSquare: 0), 127, "digital silence")
        XCTAssertEqual(SoundLevel.dBov(meanSquare: .nan), 127)
        XCTAssertEqual(SoundLevel.dBov(meanSquare: 1), 0, "a square wave at full scale does not go below 0")
        XCTAssertEqual(SoundLevel.percent(dBov: 0), 100)
        XCTAssertEqual(SoundLevel.percent(dBov: 30), 50)
        XCTAssertEqual(SoundLevel.percent(dBov: 60), 0)
        XCTAssertEqual(SoundLevel.percent(dBov: 127), 0)
    }
}
