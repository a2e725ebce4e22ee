import Foundation
import XCTest

/// `publish --copy`: H.264 and AAC (or Opus) pass through bit-identical, into every container play writes.
final class CopyModeTests: XCTestCase {
    /// Packet data hashes of one stream (`ffmpeg -i IN -map 0:X -c copy -f framemd5 -`, 6th column; side data
    /// such as the encoder-delay skip of the first AAC packet is container metadata and not compared).
    func hashes(_ path: String, _ stream: String) throws -> [String] {
        let r = try runTool(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-i", path, "-map", "0:\(stream)", "-c", "copy", "-f", "framemd5", "-"])
        XCTAssertEqual(r.status, 0, r.err)
        return r.out.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            let fields = line.split(separator: ",")
            return fields.count >= 6 ? fields[5].trimmingCharacters(in: .whitespaces) : nil
        }
    }

    func testAnMP4PassesThroughBitIdenticalIntoEveryContainer() throws {
        let source = temporaryPath("copy-src-\(UUID().uuidString).mp4")
        let made = try runTool(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
                                                    "-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "4", "-c:v", "libx264",
                                                    "-preset", "veryfast", "-g", "30", "-c:a", "aac", source])
        XCTAssertEqual(made.status, 0, made.err)
        let serve = try ServeProcess()
        let formats = ["nut", "mkv", "ts", "mp4"]
        var players: [String: Child] = [:]
        for f in formats {
            players[f] = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", temporaryPath("copy-out.\(f)"), "-q"])
        }
        usleep(500_000)
        let publish = try runTool(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-i", source, "--copy", "--no-realtime"])
        XCTAssertEqual(publish.status, 0, publish.err)
        for f in formats { XCTAssertEqual(players[f]?.wait(timeout: 20), 0, players[f]?.errorText ?? "") }

        let video = try hashes(source, "v")
        let audio = try hashes(source, "a")
        XCTAssertEqual(video.count, 120)
        // MPEG-TS carries Annex-B: compare with ffmpeg's own `-c copy` remux of the same file to TS.
        let referenceTS = temporaryPath("copy-ref-\(UUID().uuidString).ts")
        XCTAssertEqual(try runTool(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-i", source, "-c", "copy", referenceTS]).status, 0)
        for f in formats {
            let out = temporaryPath("copy-out.\(f)")
            let expected = f == "ts" ? try hashes(referenceTS, "v") : video
            XCTAssertEqual(try hashes(out, "v"), expected, "\(f): video packets differ from the source")
            if f != "ts" { XCTAssertEqual(try hashes(out, "a"), audio, "\(f): audio packets differ from the source") }
            XCTAssertEqual(try Probe.decodeErrors(path: out), "", f)
        }
        _ = serve.stop()
    }

    func testMatroskaWithBFramesAndOpusPassesThroughBitIdentical() throws {
        let source = temporaryPath("copy-opus-\(UUID().uuidString).mkv")
        let made = try runTool(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
                                                    "-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "3", "-c:v", "libx264",
                                                    "-preset", "veryfast", "-g", "30", "-c:a", "libopus", "-b:a", "64k", source])
        XCTAssertEqual(made.status, 0, made.err)
        let serve = try ServeProcess()
        let out = temporaryPath("copy-opus-out-\(UUID().uuidString).mkv")
        let player = try Child(Tool.rtcbox, ["play", "r1", "talk", "--server", serve.address, "-o", out, "-q"])
        usleep(500_000)
        let publish = try runTool(Tool.rtcbox, ["publish", "r1", "talk", "--server", serve.address, "-i", source, "--copy", "--no-realtime"])
        XCTAssertEqual(publish.status, 0, publish.err)
        XCTAssertEqual(player.wait(timeout: 20), 0, player.errorText)
        let audio = try hashes(source, "a")
        XCTAssertGreaterThan(audio.count, 140, "3 s of 20 ms Opus packets")
        // The output starts at the first video keyframe: Opus packets before it (Matroska starts Opus at its
        // pre-skip, a few ms before the video) are left out; the rest are the source's, in order.
        let played = try hashes(out, "a")
        XCTAssertLessThanOrEqual(audio.count - played.count, 2, "at most the packets before the first keyframe are left out")
        XCTAssertEqual(Array(audio.suffix(played.count)), played, "Opus packets differ from the source")
        // x264's B-frames in Matroska: the first packets come without a dts and must keep their decode order.
        XCTAssertEqual(try hashes(out, "v"), try hashes(source, "v"))
        XCTAssertEqual(try Probe.decodeErrors(path: out), "")
        _ = serve.stop()
    }

    /// Raw video and PCM in NUT on stdin (what `ffmpeg ... -c:v rawvideo -c:a pcm_s16le -f nut -` pipes):
    /// NUT names no channel layout, and the resampler once refused such frames ("Input changed").
    func testRawVideoAndPCMInNUTFromAPipe() throws {
        let serve = try ServeProcess()
        let out = temporaryPath("nut-pipe-\(UUID().uuidString).mkv")
        let player = try Child(Tool.rtcbox, ["play", "r1", "nut", "--server", serve.address, "-o", out, "-q"])
        usleep(300_000)
        let script = "\(Tool.find("ffmpeg")) -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=30 " +
            "-f lavfi -i sine=frequency=440:sample_rate=48000 -t 3 -c:v rawvideo -c:a pcm_s16le -f nut - | " +
            "\(Tool.rtcbox) publish r1 nut --server \(serve.address) -f nut -i - --no-realtime"
        let piped = try runTool("/bin/sh", ["-c", script])
        XCTAssertEqual(piped.status, 0, piped.err)
        XCTAssertEqual(player.wait(timeout: 20), 0, player.errorText)
        let probe = try Probe(path: out)
        XCTAssertEqual(probe.video?.frames, 90)
        XCTAssertGreaterThan(probe.audio?.frames ?? 0, 130, "3 s of AAC from the PCM")
        XCTAssertEqual(try Probe.decodeErrors(path: out), "")
    }

    func testStdinMPEGTSWithCopyAndOtherCodecsRefused() throws {
        let serve = try ServeProcess()
        let out = temporaryPath("copy-pipe-\(UUID().uuidString).mkv")
        let player = try Child(Tool.rtcbox, ["play", "r1", "pipe", "--server", serve.address, "-o", out, "-q"])
        usleep(300_000)
        let script = "\(Tool.find("ffmpeg")) -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=30 -f lavfi -i sine -t 3 " +
            "-c:v libx264 -g 30 -c:a aac -f mpegts - | \(Tool.rtcbox) publish r1 pipe --server \(serve.address) -f mpegts -i - --copy --no-realtime"
        let piped = try runTool("/bin/sh", ["-c", script])
        XCTAssertEqual(piped.status, 0, piped.err)
        XCTAssertEqual(player.wait(timeout: 20), 0, player.errorText)
        let probe = try Probe(path: out)
        XCTAssertEqual(probe.video?.frames, 90)
        XCTAssertGreaterThan(probe.audio?.frames ?? 0, 130)
        XCTAssertTrue(probe.dtsStrictlyIncreasing)
        XCTAssertEqual(try Probe.decodeErrors(path: out), "")

        let mpeg4 = temporaryPath("copy-mpeg4-\(UUID().uuidString).mp4")
        XCTAssertEqual(try runTool(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240", "-t", "1",
                                                          "-c:v", "mpeg4", mpeg4]).status, 0)
        let refused = try runTool(Tool.rtcbox, ["publish", "r1", "x", "--server", serve.address, "-i", mpeg4, "--copy"])
        XCTAssertEqual(refused.status, 65)
        XCTAssertEqual(refused.err, "rtcbox publish: --copy: the video of \"\(mpeg4)\" is mpeg4, not H.264; drop --copy to re-encode it\n")
        _ = serve.stop()
    }
}
