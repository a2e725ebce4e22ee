import Foundation
import XCTest

/// Layered video (the SDK's big and small video, setPlayStreamVideoType): one capture encoded twice, the
/// server forwarding one layer per player; players and recorders that do not ask get the big one.
final class LayeredVideoTests: XCTestCase {
    /// (pts seconds, keyframe) of each video packet, from ffprobe.
    private func videoPackets(_ path: String) throws -> [(Double, Bool)] {
        let r = try runTool(Tool.find("ffprobe"), ["-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time,flags",
                                                   "-of", "csv=p=0", path], timeout: 60)
        return r.out.split(separator: "\n").compactMap { row in
            let f = row.split(separator: ",").map(String.init)
            guard let t = f.first.flatMap(Double.init) else { return nil }
            return (t, f.count > 1 && f[1].contains("K"))
        }
    }

    func testBigAndSmallLayersReachTheirPlayersWithTheSameKeyframesAndARecordingKeepsTheBigOne() throws {
        let serve = try ServeProcess([])
        let dir = temporaryPath("layers-\(UUID().uuidString)")
        let big = temporaryPath("layers-big-\(UUID().uuidString).mkv"), small = temporaryPath("layers-small-\(UUID().uuidString).mkv")
        let plain = temporaryPath("layers-plain-\(UUID().uuidString).ts")
        let bigPlay = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", big, "--layer", "big", "--duration", "5", "-q"])
        let smallPlay = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", small, "--layer", "small",
                                                "--duration", "5", "-q", "--events", temporaryPath("layers-small.jsonl")])
        let plainPlay = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", plain, "--duration", "5", "-q"])
        let recorder = try Child(Tool.rtcbox, ["record", "r1", "--server", serve.address, "--dir", dir, "-q"])
        // The players wait for the stream: all of them start at its first keyframe, so their files share one clock.
        usleep(1_000_000)
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
                                                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "--layers", "640x360,320x180",
                                                "--video-bitrate", "800k", "--gop", "1", "--preset", "ultrafast", "--duration", "20", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        usleep(1_000_000)
        let watcher = try runTool(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--duration", "0.5", "-q"], timeout: 30)
        for p in [bigPlay, smallPlay, plainPlay] { XCTAssertEqual(p.wait(timeout: 40), 0, p.errorText) }
        usleep(500_000)
        recorder.signal(SIGINT)
        XCTAssertTrue([0, 130].contains(recorder.wait(timeout: 30)), recorder.errorText)

        // The stream says it has two layers.
        XCTAssertTrue(watcher.out.contains(#""layers":[{"bit_rate":800000,"height":360,"width":640},{"bit_rate":200000,"height":180,"width":320}]"#),
                      watcher.out)
        for (file, width, height) in [(big, 640, 360), (small, 320, 180), (plain, 640, 360)] {
            let probe = try Probe(path: file)
            XCTAssertEqual(probe.video?.width, width, file)
            XCTAssertEqual(probe.video?.height, height, file)
            XCTAssertGreaterThan(probe.video?.frames ?? 0, 120, file)
            XCTAssertTrue(probe.firstVideoKeyframe, file)
            XCTAssertEqual(try Probe.decodeErrors(path: file), "", file)
        }
        // The same keyframe times in both layers (the small one's follow the big one's, also those the players'
        // joins asked for), the same frames.
        let b = try videoPackets(big), s = try videoPackets(small)
        let bigKeys = b.filter(\.1).map(\.0), smallKeys = s.filter(\.1).map(\.0)
        XCTAssertGreaterThanOrEqual(bigKeys.count, 4, "\(bigKeys)")
        XCTAssertEqual(bigKeys.count, smallKeys.count, "\(bigKeys) \(smallKeys)")
        for (x, y) in zip(bigKeys, smallKeys) { XCTAssertEqual(x, y, accuracy: 0.001) }
        XCTAssertEqual(Double(b.count), Double(s.count), accuracy: 3)
        // The small layer costs a fraction of the big one.
        let bigBytes = try FileManager.default.attributesOfItem(atPath: big)[.size] as? Int ?? 0
        let smallBytes = try FileManager.default.attributesOfItem(atPath: small)[.size] as? Int ?? 0
        XCTAssertLessThan(Double(smallBytes), Double(bigBytes) * 0.6, "small \(smallBytes) B, big \(bigBytes) B")
        // The recorder asked for nothing: the big layer.
        let recorded = (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".mp4") }
        XCTAssertEqual(recorded.count, 1, "\(recorded)")
        if let file = recorded.first {
            let probe = try Probe(path: (dir as NSString).appendingPathComponent(file))
            XCTAssertEqual(probe.video?.width, 640)
            XCTAssertEqual(probe.video?.height, 360)
        }
    }

    func testLayersAreRefusedWhereTheyCannotBe() throws {
        for (args, message) in [
            (["--layers", "2", "--copy"], "--layers encodes a second layer"),
            (["--layers", "2", "--transport", "udp"], "--layers travel on the room connection"),
            (["--layers", "320x180,640x360"], "--layers"),
            (["--layers", "2", "--no-video"], "it does not go with --no-video"),
        ] {
            let r = try runTool(Tool.rtcbox, ["publish", "r1", "s", "-f", "lavfi", "-i", "testsrc2"] + args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.err)")
            XCTAssertTrue(r.err.contains(message), "\(args): \(r.err)")
        }
        let r = try runTool(Tool.rtcbox, ["play", "r1", "s", "--layer", "medium", "-o", "/dev/null"])
        XCTAssertEqual(r.status, 64, r.err)
    }
}
