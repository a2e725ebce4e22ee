import Foundation
import XCTest

/// Publish and play across an emulated link slower than the stream (../shared/tools/linkem: two network
/// namespaces, 50 ms each way, 1.5 Mbit/s with a 200 ms queue): the real binary, real x264, real TCP.
/// Before time-bounded queues and traffic control the picture was 4-7 s late after 30 s and growing.
final class TrafficControlTests: XCTestCase {
    static let linkName = "rtcbtc"

    static var linkem: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/tools/linkem").path
    }

    /// Starts the link, or skips the test where it cannot run (not root, no linkem, no TUN device).
    func startLink(rateKbps: Int = 1500) throws {
        guard getuid() == 0 else { throw XCTSkip("linkem needs root") }
        guard FileManager.default.isExecutableFile(atPath: Self.linkem) else { throw XCTSkip("no \(Self.linkem)") }
        guard FileManager.default.fileExists(atPath: "/dev/net/tun") else { throw XCTSkip("no /dev/net/tun") }
        _ = try? runTool(Self.linkem, ["stop", Self.linkName], timeout: 20)
        let start = try runTool(Self.linkem, ["start", Self.linkName, "--delay", "50"], timeout: 30)
        XCTAssertEqual(start.status, 0, start.err)
        let cap = try runTool(Self.linkem, ["set", Self.linkName, "--dir", "ab", "--rate", "\(rateKbps)", "--queue", "200", "--delay", "50"])
        XCTAssertEqual(cap.status, 0, cap.err)
    }

    func inSide(_ side: String, _ arguments: [String]) throws -> Child {
        try Child(Tool.find("ip"), ["netns", "exec", "\(Self.linkName)-\(side)", Tool.rtcbox] + arguments)
    }

    static func events(_ path: String, _ name: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["event"] as? String == name
            else { return nil }
            return o
        }
    }

    /// serve on the link's fast side (b), at 198.18.0.2:7799.
    /// With `webRTC`, also the WHIP/WHEP endpoints at http://198.18.0.2:7798 and media over UDP at :7797.
    func startServe(webRTC: Bool = false) throws -> Child {
        let config = temporaryPath("tc-serve.toml")
        let web = webRTC ? "web = \"198.18.0.2:7798\"\nudp = \"198.18.0.2:7797\"\n" : ""
        try "listen = \"198.18.0.2:7799\"\n\(web)[[apps]]\napp_id = 1\nanonymous = true\n".write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try inSide("b", ["serve", "--config", config])
        let deadline = Date().addingTimeInterval(10)
        while !serve.errorText.contains("listening on") && Date() < deadline { usleep(50_000) }
        XCTAssertTrue(serve.errorText.contains("listening on"), serve.errorText)
        return serve
    }

    func testAnEncodingPublisherBehindASlowUplinkStaysLive() throws {
        try startLink()
        defer { _ = try? runTool(Self.linkem, ["stop", Self.linkName], timeout: 20) }
        let serve = try startServe()
        defer { serve.signal(SIGTERM); serve.wait(timeout: 10) }

        let pubEvents = temporaryPath("tc-pub.jsonl"), playEvents = temporaryPath("tc-play.jsonl")
        let publish = try inSide("a", ["publish", "r1", "cam", "--server", "198.18.0.2:7799", "-f", "lavfi", "-i",
                                       "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                                       "--video-bitrate", "2M", "--gop", "2", "--duration", "26s", "--events", pubEvents, "-q"])
        usleep(1_500_000)
        let play = try inSide("b", ["play", "r1", "cam", "--server", "198.18.0.2:7799", "-o", "/dev/null", "--format", "nut",
                                    "--duration", "24s", "--events", playEvents, "-q"])
        XCTAssertEqual(play.wait(timeout: 60), 0, play.errorText)
        XCTAssertEqual(publish.wait(timeout: 30), 0, publish.errorText)

        // The encoder was steered below what the link carries.
        let steps = Self.events(pubEvents, "traffic_control")
        let rates = steps.compactMap { $0["video_kbps"] as? Double }
        XCTAssertFalse(rates.isEmpty, "traffic control acted: \(publish.errorText)")
        XCTAssertLessThan(rates.min() ?? .infinity, 1400, "the video bit rate went below the 1.5 Mbit/s link: \(rates)")
        XCTAssertFalse(Self.events(pubEvents, "network_quality").filter { $0["uplink"] as? String != "unknown" }.isEmpty,
                       "network_quality measured the uplink")

        // The player stayed live: every quality report from the 10th second on has a bounded latency (capture,
        // on the same clock, to arrival) and frames flowing.
        let reports = Self.events(playEvents, "player_quality")
        XCTAssertGreaterThanOrEqual(reports.count, 6, "player_quality every 3 s")
        let late = reports.dropFirst(3)
        let latencies = late.compactMap { $0["latency_ms"] as? Double }
        let fps = late.compactMap { $0["fps"] as? Double }
        XCTAssertEqual(latencies.count, late.count, "\(late)")
        XCTAssertLessThan(latencies.max() ?? .infinity, 800, "capture-to-arrival latency after 10 s: \(latencies)")
        XCTAssertGreaterThan(fps.reduce(0, +) / Double(max(1, fps.count)), 20, "frame rate after 10 s: \(fps)")
    }

    /// A 500 kbit/s uplink under a 2 Mbit/s 720p stream: too few bits for the picture, so the encoder goes to
    /// a smaller size. The player's MPEG-TS goes on through the change and decodes; the recorder starts a
    /// new file whose header has the new size; the player is told (player_video_size_changed).
    func testAVerySlowUplinkGetsASmallerPictureThatPlayersAndRecordersFollow() throws {
        try startLink(rateKbps: 500)
        defer { _ = try? runTool(Self.linkem, ["stop", Self.linkName], timeout: 20) }
        let serve = try startServe()
        defer { serve.signal(SIGTERM); serve.wait(timeout: 10) }
        let pubEvents = temporaryPath("tcs-pub.jsonl"), playEvents = temporaryPath("tcs-play.jsonl")
        let played = temporaryPath("tcs-play.ts"), dir = temporaryPath("tcs-rec-\(UUID().uuidString)")
        let publish = try inSide("a", ["publish", "r1", "cam", "--server", "198.18.0.2:7799", "-f", "lavfi", "-i",
                                       "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                                       "--video-bitrate", "2M", "--gop", "2", "--duration", "24s", "--events", pubEvents, "-q"])
        usleep(1_000_000)
        let record = try inSide("b", ["record", "r1", "--server", "198.18.0.2:7799", "--dir", dir, "--duration", "22s", "-q"])
        let play = try inSide("b", ["play", "r1", "cam", "--server", "198.18.0.2:7799", "-o", played,
                                    "--duration", "21s", "--events", playEvents, "-q"])
        XCTAssertEqual(play.wait(timeout: 60), 0, play.errorText)
        XCTAssertEqual(record.wait(timeout: 60), 0, record.errorText)
        XCTAssertEqual(publish.wait(timeout: 30), 0, publish.errorText)

        let layers = Self.events(pubEvents, "traffic_control").compactMap { $0["width"] as? Int }
        XCTAssertFalse(layers.isEmpty, "traffic control changed the picture size: \(Self.events(pubEvents, "traffic_control"))")
        XCTAssertLessThan(layers.min() ?? 1280, 1280)
        let told = Self.events(playEvents, "player_video_size_changed").compactMap { $0["width"] as? Int }
        XCTAssertFalse(told.isEmpty, "the player was told of the new size")
        if let first = layers.first { XCTAssertEqual(told.first, first, "players hear the size the publisher encodes") }

        // The played MPEG-TS decodes through the change, with frames of both sizes.
        let decode = try runTool(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-i", played, "-f", "null", "-"], timeout: 60)
        XCTAssertEqual(decode.status, 0, decode.err)
        let widths = try runTool(Tool.find("ffprobe"), ["-v", "error", "-select_streams", "v", "-show_entries", "frame=width",
                                                        "-of", "csv=p=0", played], timeout: 60)
        let sizes = Set(widths.out.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        XCTAssertTrue(sizes.contains(1280) && sizes.count >= 2, "frames of 1280 and of the smaller size: \(sizes)")

        // The recorder cut a new file at the change; each file's header has its frames' size.
        let files = ((try? FileManager.default.subpathsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".mp4") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 2, "a file per size: \(files)")
        var recorded: [Int] = []
        for file in files {
            let probe = try runTool(Tool.find("ffprobe"), ["-v", "error", "-select_streams", "v", "-show_entries", "stream=width",
                                                           "-of", "csv=p=0", (dir as NSString).appendingPathComponent(file)])
            if let w = Int(probe.out.trimmingCharacters(in: .whitespacesAndNewlines)) { recorded.append(w) }
        }
        XCTAssertEqual(recorded.first, 1280, "\(recorded)")
        XCTAssertLessThan(recorded.last ?? 1280, 1280, "\(recorded)")

        // Live throughout: the player's latency after 10 s stays bounded.
        let late = Self.events(playEvents, "player_quality").dropFirst(3).compactMap { $0["latency_ms"] as? Double }
        XCTAssertFalse(late.isEmpty)
        XCTAssertLessThan(late.max() ?? .infinity, 1000, "capture-to-arrival latency after 10 s: \(late)")
    }

    /// `publish --whip` behind a 1 Mbit/s uplink with a 2 Mbit/s stream: the WebRTC session's estimate, pacer
    /// and feedback steer the encoder down (traffic_control events), and a room player of the stream stays live.
    func testAWHIPPublisherBehindASlowUplinkIsSteeredBelowTheLink() throws {
        try startLink(rateKbps: 1000)
        defer { _ = try? runTool(Self.linkem, ["stop", Self.linkName], timeout: 20) }
        let serve = try startServe(webRTC: true)
        defer { serve.signal(SIGTERM); serve.wait(timeout: 10) }
        let pubEvents = temporaryPath("tcw-pub.jsonl"), playEvents = temporaryPath("tcw-play.jsonl")
        let publish = try inSide("a", ["publish", "--whip", "http://198.18.0.2:7798/whip/r1/cam", "-f", "lavfi", "-i",
                                       "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                                       "--video-bitrate", "2M", "--gop", "2", "--duration", "24s", "--events", pubEvents, "-q"])
        usleep(1_500_000)
        let play = try inSide("b", ["play", "r1", "cam", "--server", "198.18.0.2:7799", "-o", "/dev/null", "--format", "nut",
                                    "--duration", "21s", "--events", playEvents, "-q"])
        XCTAssertEqual(play.wait(timeout: 60), 0, play.errorText)
        XCTAssertEqual(publish.wait(timeout: 30), 0, publish.errorText)

        let steps = Self.events(pubEvents, "traffic_control")
        XCTAssertTrue(steps.allSatisfy { $0["stream_id"] as? String == "whip" }, "\(steps)")
        let rates = steps.compactMap { $0["video_kbps"] as? Double }
        XCTAssertLessThan(rates.min() ?? .infinity, 900, "the video bit rate went below the 1 Mbit/s link: \(steps)")
        let late = Self.events(playEvents, "player_quality").dropFirst(3)
        let latencies = late.compactMap { $0["latency_ms"] as? Double }
        let fps = late.compactMap { $0["fps"] as? Double }
        XCTAssertFalse(latencies.isEmpty, "\(late)")
        XCTAssertLessThan(latencies.max() ?? .infinity, 800, "capture-to-arrival latency after 10 s: \(latencies)")
        XCTAssertGreaterThan(fps.reduce(0, +) / Double(max(1, fps.count)), 20, "frame rate after 10 s: \(fps)")
    }

    /// `play --layer auto` of a layered stream behind a 600 kbit/s downlink: the big layer (1.2 Mbit/s) backs
    /// the downlink up, the player falls to the small one (300 kbit/s); when the cap is lifted it climbs back.
    /// The output goes on through both switches and decodes, with pictures of both sizes.
    func testAnAutoPlayerFallsToTheSmallLayerBehindASlowDownlinkAndClimbsBack() throws {
        try startLink()
        defer { _ = try? runTool(Self.linkem, ["stop", Self.linkName], timeout: 20) }
        let uncapped = try runTool(Self.linkem, ["set", Self.linkName, "--dir", "both", "--rate", "0", "--delay", "20"])
        XCTAssertEqual(uncapped.status, 0, uncapped.err)
        let serve = try startServe()
        defer { serve.signal(SIGTERM); serve.wait(timeout: 10) }
        let publish = try inSide("b", ["publish", "r1", "cam", "--server", "198.18.0.2:7799", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
                                       "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "--layers", "2", "--video-bitrate", "1200k",
                                       "--traffic-control", "off", "--gop", "1", "--preset", "ultrafast", "--duration", "50s", "-q"])
        defer { publish.signal(SIGINT); publish.wait(timeout: 20) }
        let capped = try runTool(Self.linkem, ["set", Self.linkName, "--dir", "ba", "--rate", "600", "--queue", "200", "--delay", "20"])
        XCTAssertEqual(capped.status, 0, capped.err)
        usleep(1_000_000)
        let playEvents = temporaryPath("tcl-play.jsonl"), played = temporaryPath("tcl-play.mkv")
        let play = try inSide("a", ["play", "r1", "cam", "--server", "198.18.0.2:7799", "-o", played, "--layer", "auto",
                                    "--duration", "42s", "--events", playEvents, "-q"])
        // 15 s behind the cap, then the link is fast again.
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && Self.events(playEvents, "player_layer_changed").isEmpty { usleep(200_000) }
        usleep(UInt32(max(0, deadline.timeIntervalSinceNow) * 1_000_000))
        let lifted = try runTool(Self.linkem, ["set", Self.linkName, "--dir", "ba", "--rate", "0", "--delay", "20"])
        XCTAssertEqual(lifted.status, 0, lifted.err)
        let liftedAt = Date().timeIntervalSince1970
        XCTAssertEqual(play.wait(timeout: 90), 0, play.errorText)

        let changes = Self.events(playEvents, "player_layer_changed")
        let layers = changes.compactMap { $0["layer"] as? String }
        XCTAssertEqual(layers.first, "small", "the big layer backed the 600 kbit/s downlink up: \(changes)")
        XCTAssertEqual(layers.last, "big", "climbed back once the cap was gone: \(changes)")
        if let lastSmall = changes.last(where: { $0["layer"] as? String == "small" })?["ts"] as? Double {
            XCTAssertLessThan(lastSmall, liftedAt + 3, "no fall after the cap was lifted: \(changes)")
        }
        XCTAssertEqual(try Probe.decodeErrors(path: played), "", "one valid output through the switches")
        let sizes = try runTool(Tool.find("ffprobe"), ["-v", "error", "-select_streams", "v", "-show_entries", "frame=width,height",
                                                       "-of", "csv=p=0", played], timeout: 120)
        let seen = Set(sizes.out.split(separator: "\n").map(String.init))
        XCTAssertTrue(seen.contains("640,360") && seen.contains("320,180"), "pictures of both layers: \(seen)")
    }
}
