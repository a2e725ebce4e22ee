import Foundation
import XCTest

/// `play --decode` for analysis pipelines, `--video-only` / `--audio-only`, and audio-only and video-only
/// streams end to end.
final class DecodeAndTracksTests: XCTestCase {
    func probe(_ path: String) throws -> [[String: Any]] {
        let r = try runTool(Tool.find("ffprobe"), ["-v", "error", "-count_frames", "-show_entries",
                                                   "stream=codec_name,codec_type,width,height,pix_fmt,nb_read_frames,sample_rate,channels",
                                                   "-of", "json", path])
        XCTAssertEqual(r.status, 0, r.err)
        let json = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        return json?["streams"] as? [[String: Any]] ?? []
    }

    func testDecodeWritesRawVideoAndPCM() throws {
        let serve = try ServeProcess()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--duration", "15", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        // Video: yuv4mpegpipe on a pipe, read by ffprobe.
        let y4m = temporaryPath("decoded-\(UUID().uuidString).y4m")
        let video = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--decode", "--frames", "45", "-o", y4m, "-q"])
        XCTAssertEqual(video.status, 0, video.err)
        let v = try probe(y4m)
        XCTAssertEqual(v.count, 1)
        XCTAssertEqual(v.first?["codec_name"] as? String, "rawvideo")
        XCTAssertEqual(v.first?["pix_fmt"] as? String, "yuv420p")
        XCTAssertEqual(v.first?["width"] as? Int, 1280)
        XCTAssertEqual(v.first?["height"] as? Int, 720)
        XCTAssertEqual(v.first?["nb_read_frames"] as? String, "45")
        // Audio: WAV from the file name; raw f32le by --format, whose size is what 2 s of 48 kHz stereo floats take.
        let wav = temporaryPath("decoded-\(UUID().uuidString).wav")
        let audio = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--decode", "--audio-only", "-o", wav,
                                              "--duration", "2", "-q"])
        XCTAssertEqual(audio.status, 0, audio.err)
        let a = try probe(wav)
        XCTAssertEqual(a.first?["codec_name"] as? String, "pcm_s16le")
        XCTAssertEqual(a.first?["sample_rate"] as? String, "48000")
        XCTAssertEqual(a.first?["channels"] as? Int, 2)
        let raw = temporaryPath("decoded-\(UUID().uuidString).f32")
        let floats = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--decode", "--audio-only",
                                               "--format", "f32le", "-o", raw, "--duration", "2", "-q"])
        XCTAssertEqual(floats.status, 0, floats.err)
        let bytes = (try FileManager.default.attributesOfItem(atPath: raw)[.size] as? Int) ?? 0
        let expected = 2 * 48_000 * 2 * 4
        XCTAssertLessThan(abs(bytes - expected), expected / 10, "\(bytes) bytes for 2 s of f32le stereo")
        // A raw format that is not one.
        let wrong = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--decode", "--format", "mp4", "-o", y4m])
        XCTAssertEqual(wrong.status, 64)
        _ = serve.stop()
    }

    /// `play --decode -o - | ffmpeg -f yuv4mpegpipe -i - -t 3 out.mp4`: the Y4M header carries the stream's
    /// frame rate (not the 90 kHz clock), so ffmpeg takes 3 s of it at 30 fps.
    func testDecodedVideoPipedIntoFFmpegKeepsItsFrameRate() throws {
        let serve = try ServeProcess()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i",
                                                "testsrc2=size=320x240:rate=30", "--duration", "15", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        let pipe = Pipe()
        let player = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--decode", "-o", "-", "-q"], stdoutTo: pipe)
        let out = temporaryPath("from-y4m-\(UUID().uuidString).mp4")
        let ffmpeg = try Child(Tool.find("ffmpeg"), ["-v", "error", "-f", "yuv4mpegpipe", "-i", "-", "-t", "3", "-c:v", "libx264",
                                                     "-preset", "ultrafast", "-threads", "1", "-y", out], stdin: pipe)
        try? pipe.fileHandleForReading.close()  // ffmpeg's is the only reader: when it is done, play sees EPIPE
        try? pipe.fileHandleForWriting.close()
        XCTAssertEqual(ffmpeg.wait(timeout: 30), 0, ffmpeg.errorText)
        XCTAssertEqual(player.wait(timeout: 10), 0, player.errorText)
        let r = try runTool(Tool.find("ffprobe"), ["-v", "error", "-count_frames", "-show_entries",
                                                   "format=duration:stream=avg_frame_rate,nb_read_frames", "-of", "json", out])
        XCTAssertEqual(r.status, 0, r.err)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let duration = Double((json["format"] as? [String: Any])?["duration"] as? String ?? "") ?? 0
        XCTAssertEqual(duration, 3, accuracy: 0.2, r.out)
        let stream = try XCTUnwrap((json["streams"] as? [[String: Any]])?.first, r.out)
        let rate = (stream["avg_frame_rate"] as? String ?? "0/1").split(separator: "/").compactMap { Double($0) }
        XCTAssertEqual(rate.count == 2 && rate[1] > 0 ? rate[0] / rate[1] : 0, 30, accuracy: 0.5, r.out)
        XCTAssertEqual(Double(stream["nb_read_frames"] as? String ?? "") ?? 0, 90, accuracy: 3, r.out)
        _ = serve.stop()
    }

    func testOneTrackStreamsAndOneTrackOutputs() throws {
        let serve = try ServeProcess()
        // An audio-only publish, played: only AAC comes out.
        let audioOnly = try Child(Tool.rtcbox, ["publish", "r1", "voice", "--server", serve.address, "-f", "lavfi", "-i", "sine",
                                                "--duration", "10", "-q"])
        defer { audioOnly.signal(SIGINT); audioOnly.wait() }
        let voice = temporaryPath("voice-\(UUID().uuidString).mkv")
        let played = try runTool(Tool.rtcbox, ["play", "r1", "voice", "--server", serve.address, "-o", voice, "--duration", "2", "-q"])
        XCTAssertEqual(played.status, 0, played.err)
        XCTAssertEqual(try probe(voice).map { $0["codec_name"] as? String }, ["aac"])
        // A video-only publish (--no-audio on an input with both), played: only H.264.
        let videoOnly = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--no-audio", "--duration", "10", "-q"])
        defer { videoOnly.signal(SIGINT); videoOnly.wait() }
        let cam = temporaryPath("cam-\(UUID().uuidString).ts")
        let camPlayed = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", cam, "--frames", "30", "-q"])
        XCTAssertEqual(camPlayed.status, 0, camPlayed.err)
        XCTAssertEqual(try probe(cam).map { $0["codec_name"] as? String }, ["h264"])
        _ = serve.stop()
    }

    func testVideoOnlyAndAudioOnlyOutputsOfAFullStream() throws {
        let serve = try ServeProcess()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--duration", "10", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        let v = temporaryPath("vo-\(UUID().uuidString).nut")
        XCTAssertEqual(try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", v, "--video-only", "--frames", "30", "-q"]).status, 0)
        XCTAssertEqual(try probe(v).map { $0["codec_name"] as? String }, ["h264"])
        let a = temporaryPath("ao-\(UUID().uuidString).mkv")
        XCTAssertEqual(try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", a, "--audio-only", "--duration", "1", "-q"]).status, 0)
        XCTAssertEqual(try probe(a).map { $0["codec_name"] as? String }, ["aac"])
        XCTAssertEqual(try Probe.decodeErrors(path: a), "")
        _ = serve.stop()
    }

    func testAudioAndVideoStartTogetherInEveryContainer() throws {
        let serve = try ServeProcess()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--duration", "12", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        usleep(1_300_000)  // join mid-GOP: the output must still start at a keyframe with audio alongside
        for format in ["ts", "mkv", "mp4", "nut", "flv"] {
            let out = temporaryPath("start-\(UUID().uuidString).\(format)")
            XCTAssertEqual(try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", out, "--duration", "1.5", "-q"]).status, 0)
            let r = try runTool(Tool.find("ffprobe"), ["-v", "error", "-show_entries", "stream=codec_type,start_time", "-of", "json", out])
            let streams = (try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])?["streams"] as? [[String: Any]] ?? []
            let starts = Dictionary(streams.compactMap { s -> (String, Double)? in
                guard let type = s["codec_type"] as? String, let start = (s["start_time"] as? String).flatMap(Double.init) else { return nil }
                return (type, start)
            }, uniquingKeysWith: { a, _ in a })
            let video = try XCTUnwrap(starts["video"], format), audio = try XCTUnwrap(starts["audio"], format)
            XCTAssertLessThan(abs(video - audio), 0.1, "\(format): video starts at \(video) s, audio at \(audio) s")
            XCTAssertEqual(try Probe.decodeErrors(path: out), "", format)
        }
        _ = serve.stop()
    }

    func testDecodeGoesOnAcrossAPublisherRestart() throws {
        let serve = try ServeProcess()
        let y4m = temporaryPath("restart-\(UUID().uuidString).y4m")
        // 100 frames need both publishes (60 + 60 at 30 fps): the second starts its timestamps from 0 again.
        let player = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--decode", "--keep-waiting",
                                             "--frames", "100", "-o", y4m, "-q"])
        usleep(300_000)
        for _ in 0..<2 {
            let p = try runTool(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i",
                                              "testsrc2=size=320x240:rate=30", "--duration", "2", "-q"])
            XCTAssertEqual(p.status, 0, p.err)
        }
        XCTAssertEqual(player.wait(timeout: 15), 0, player.errorText)
        XCTAssertEqual(try probe(y4m).first?["nb_read_frames"] as? String, "100")
        _ = serve.stop()
    }
}
