import Foundation
import XCTest

/// serve + publish (lavfi 720p30 + sine) + play, through the built binary, checked with ffprobe and ffmpeg.
final class PublishPlayTests: XCTestCase {
    func testPlayIntoAFileAndIntoAPipe() throws {
        let serve = try ServeProcess()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "--user", "alice"] + testSource + ["--duration", "20"])
        let file = temporaryPath("play.ts")
        let toFile = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", file, "--duration", "5"])

        // The pipe: play -o - | ffprobe -, the way a user would chain them.
        let pipe = Pipe()
        let toPipe = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", "-", "--duration", "5"], stdoutTo: pipe)
        let piped = temporaryPath("piped.ts")
        let copier = try Child(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-y", "-f", "mpegts", "-i", "pipe:0", "-c", "copy", "-f", "mpegts", piped], stdin: pipe)

        XCTAssertEqual(toFile.wait(), 0, toFile.errorText)
        XCTAssertEqual(toPipe.wait(), 0, toPipe.errorText)
        try? pipe.fileHandleForWriting.close()
        XCTAssertEqual(copier.wait(), 0, copier.errorText)
        publisher.signal(SIGINT)
        XCTAssertEqual(publisher.wait(), 130, publisher.errorText)
        XCTAssertEqual(serve.stop(), 0)

        for path in [file, piped] {
            let probe = try Probe(path: path)
            XCTAssertEqual(probe.streams.count, 2, path)
            XCTAssertEqual(probe.video?.width, 1280, path)
            XCTAssertEqual(probe.video?.height, 720, path)
            XCTAssertGreaterThanOrEqual(probe.video?.frames ?? 0, 140, path)
            XCTAssertLessThanOrEqual(probe.video?.frames ?? 0, 160, "about 5 s at 30 fps: \(path)")
            XCTAssertGreaterThanOrEqual(probe.audio?.frames ?? 0, 200, "about 5 s of 1024-sample AAC frames: \(path)")
            XCTAssertTrue(probe.dtsStrictlyIncreasing, path)
            XCTAssertTrue(probe.firstVideoKeyframe, "output starts at a keyframe: \(path)")
            XCTAssertEqual(try Probe.decodeErrors(path: path), "", path)
        }
    }

    func testTwoPlayersAndALateJoinerGetCleanOutput() throws {
        let serve = try ServeProcess()
        // The players ask before the stream is live: they wait for it.
        let a = temporaryPath("a.mkv"), b = temporaryPath("b.mp4"), late = temporaryPath("late.nut")
        let p1 = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", a, "--frames", "90"])
        let p2 = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", b, "--frames", "90"])
        usleep(300_000)
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--duration", "8", "--gop", "1"])
        usleep(3_300_000)
        let p3 = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", late, "--frames", "30"])
        for p in [p1, p2, p3] { XCTAssertEqual(p.wait(), 0, p.errorText) }
        XCTAssertEqual(publisher.wait(), 0, publisher.errorText)
        _ = serve.stop()
        for (path, frames) in [(a, 90), (b, 90), (late, 30)] {
            let probe = try Probe(path: path)
            XCTAssertEqual(probe.video?.frames, frames, path)
            XCTAssertNotNil(probe.audio, path)
            XCTAssertTrue(probe.dtsStrictlyIncreasing, path)
            XCTAssertTrue(probe.firstVideoKeyframe, path)
            XCTAssertEqual(try Probe.decodeErrors(path: path), "", path)
        }
    }

    func testPlayEndsWhenThePublisherStops() throws {
        let serve = try ServeProcess()
        let out = temporaryPath("ends.ts")
        let player = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", out])
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "--duration", "2"])
        XCTAssertEqual(publisher.wait(), 0, publisher.errorText)
        XCTAssertEqual(player.wait(timeout: 10), 0, player.errorText)
        _ = serve.stop()
        let probe = try Probe(path: out)
        XCTAssertEqual(probe.streams.map(\.codec), ["h264"], "video-only publish plays video only")
        XCTAssertGreaterThanOrEqual(probe.video?.frames ?? 0, 50)
    }

    func testInterruptedPlayerFinishesItsFile() throws {
        let serve = try ServeProcess()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--duration", "20"])
        let out = temporaryPath("interrupted.mp4")
        let player = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", out])
        usleep(3_000_000)
        player.signal(SIGINT)
        XCTAssertEqual(player.wait(timeout: 10), 130, player.errorText)
        publisher.signal(SIGTERM)
        XCTAssertEqual(publisher.wait(), 130)
        _ = serve.stop()
        let probe = try Probe(path: out)
        XCTAssertGreaterThan(probe.video?.frames ?? 0, 30)
        XCTAssertEqual(try Probe.decodeErrors(path: out), "")
    }
}

/// One list of output formats for a file name and for --format; Matroska into a file ends with its duration.
final class OutputFormatTests: XCTestCase {
    func testAFileNameDoesNotBypassTheFormatsAndMatroskaFilesKnowTheirDuration() throws {
        let serve = try ServeProcess()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--duration", "20"])
        let avi = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", temporaryPath("x.avi"), "--duration", "2"])
        XCTAssertEqual(avi.status, 64, avi.err)
        XCTAssertTrue(avi.err.contains("avi is not an output format here (mpegts (ts), nut, matroska (mkv), flv, mp4 (fmp4))"), avi.err)
        let decoded = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--decode", "-o", temporaryPath("x.mp4"), "--duration", "2"])
        XCTAssertEqual(decoded.status, 64, decoded.err)
        XCTAssertTrue(decoded.err.contains("--decode writes Y4M video, not .mp4"), decoded.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporaryPath("x.mp4")), "no Y4M file named .mp4")
        let mkv = temporaryPath("x.mkv")
        let play = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", mkv, "--duration", "3"])
        XCTAssertEqual(play.status, 0, play.err)
        publisher.signal(SIGINT)
        publisher.wait()
        XCTAssertEqual(serve.stop(), 0)
        let probe = try runTool(Tool.find("ffprobe"), ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", mkv])
        let duration = Double(probe.out.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertNotNil(duration, "ffprobe shows a duration, not N/A: \(probe.out)")
        XCTAssertEqual(duration ?? 0, 3, accuracy: 0.6, "about the 3 s played")
        // preview writes through the same muxer: its Matroska file knows its duration too.
        let previewed = temporaryPath("preview.mkv")
        let preview = try runTool(Tool.rtcbox, ["preview", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30", "--duration", "2",
                                                "-o", previewed, "-q"], timeout: 30)
        XCTAssertEqual(preview.status, 0, preview.err)
        let previewProbe = try runTool(Tool.find("ffprobe"), ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", previewed])
        XCTAssertEqual(Double(previewProbe.out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 2, accuracy: 0.5,
                       "preview's Matroska has its duration: \(previewProbe.out)")
    }
}
