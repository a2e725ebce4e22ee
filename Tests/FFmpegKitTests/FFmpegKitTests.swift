import CFFmpeg
import XCTest

@testable import FFmpegKit

final class FFmpegKitTests: XCTestCase {
    func testAnnexBParsing() {
        let au: [UInt8] = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 9, 9]
        let units = H264AnnexB.nalUnits(au)
        XCTAssertEqual(units.map { Array($0) }, [[0x67, 1, 2], [0x68, 3], [0x65, 9, 9]])
        XCTAssertEqual(H264AnnexB.parameterSets(in: au), [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3])
        XCTAssertTrue(H264AnnexB.containsIDR(au))
        XCTAssertNil(H264AnnexB.parameterSets(in: [0, 0, 1, 0x41, 5]))
    }

    func testAFormatAnswersToEachOfItsNames() {
        XCTAssertTrue(FFmpegLibrary.formatName("video4linux2,v4l2", answers: "v4l2"))
        XCTAssertTrue(FFmpegLibrary.formatName("video4linux2,v4l2", answers: "video4linux2"))
        XCTAssertTrue(FFmpegLibrary.formatName("video4linux2,v4l2", answers: "video4linux2,v4l2"))
        XCTAssertFalse(FFmpegLibrary.formatName("video4linux2,v4l2", answers: "v4l"))
        XCTAssertFalse(FFmpegLibrary.formatName("video4linux2,v4l2", answers: ""))
        let v4l2 = DeviceList.inputFormats().first { $0.answers(to: "v4l2") }
        XCTAssertEqual(v4l2?.name, "video4linux2,v4l2")
    }

    func testMissingInputIsNotFoundAndNamed() {
        XCTAssertThrowsError(try InputMedia(url: "/nonexistent/x.mp4", format: nil, interrupt: InterruptFlag())) { error in
            let e = error as? FFmpegError
            XCTAssertEqual(e?.isNotFound, true)
            XCTAssertTrue("\(error)".contains("/nonexistent/x.mp4"))
        }
        XCTAssertThrowsError(try InputMedia(url: "x", format: "no-such-format", interrupt: InterruptFlag())) { error in
            XCTAssertTrue("\(error)".contains("unknown input format"), "\(error)")
        }
    }

    func testUnknownOptionIsRefused() {
        XCTAssertThrowsError(try InputMedia(url: "testsrc2", format: "lavfi", options: [("no_such_option", "1")], interrupt: InterruptFlag())) { error in
            XCTAssertTrue("\(error)".contains("no_such_option"), "\(error)")
        }
    }

    /// Decodes lavfi frames and encodes them: SPS/PPS in band at the keyframe, P frames after it
    /// (raw frames arrive marked as I; the encoder must not make every frame a keyframe).
    func testH264EncoderPutsParameterSetsInBandAndMakesPFrames() throws {
        let input = try InputMedia(url: "testsrc2=size=320x240:rate=30", format: "lavfi", interrupt: InterruptFlag())
        let index = try XCTUnwrap(input.bestStream(AVMEDIA_TYPE_VIDEO))
        let decoder = try Decoder(stream: try XCTUnwrap(input.stream(index)))
        let encoder = try Encoder.video(VideoEncoderSettings(width: 320, height: 240, frameRate: AVRational(num: 30, den: 1),
                                                             bitRate: 500_000, gopFrames: 30))
        let packet = try Packet(), frame = try Frame(), out = try Packet()
        var encoded: [(key: Bool, bytes: [UInt8])] = []
        var n: Int64 = 0
        while encoded.count < 40, try input.read(into: packet) {
            try decoder.send(packet)
            while try decoder.receive(into: frame) == .produced {
                frame.pts = n
                n += 1
                frame.pointer.pointee.pict_type = AV_PICTURE_TYPE_NONE
                try encoder.send(frame)
                while try encoder.receive(into: out) == .produced {
                    encoded.append((out.isKeyframe, Array(out.bytes)))
                }
            }
        }
        XCTAssertGreaterThanOrEqual(encoded.count, 40)
        XCTAssertTrue(encoded[0].key)
        XCTAssertNotNil(H264AnnexB.parameterSets(in: encoded[0].bytes), "SPS/PPS in band at the first keyframe")
        XCTAssertEqual(encoded.prefix(30).filter(\.key).count, 1, "one keyframe per 30-frame GOP")
        XCTAssertTrue(encoded[30].key)
        XCTAssertNotNil(H264AnnexB.parameterSets(in: encoded[30].bytes), "SPS/PPS repeated at every keyframe")
        // The size from the keyframe's SPS; none from a P frame, or from bytes that are no H.264.
        let size = H264AnnexB.frameSize(of: encoded[0].bytes)
        XCTAssertEqual(size?.width, 320)
        XCTAssertEqual(size?.height, 240)
        XCTAssertNil(H264AnnexB.frameSize(of: encoded[1].bytes))
        XCTAssertNil(H264AnnexB.frameSize(of: [0, 0, 0, 1, 0x67, 0xff]))
        XCTAssertNil(H264AnnexB.frameSize(of: []))
    }

    func testOutputFormatGuessAndBadFormat() {
        XCTAssertEqual(OutputMedia.guessFormat(forFileName: "a.mkv"), "matroska")
        XCTAssertNil(OutputMedia.guessFormat(forFileName: "a.unknownext"))
        XCTAssertThrowsError(try OutputMedia(url: "/tmp/x", format: "no-such-muxer"))
    }
}
