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
    func startLink() throws {
        guard getuid() == 0 else { throw XCTSkip("linkem needs root") }
        guard FileManager.default.isExecutableFile(atPath: Self.linkem) else { throw XCTSkip("no \(Self.linkem)") }
        guard FileManager.default.fileExists(atPath: "/dev/net/tun") else { throw XCTSkip("no /dev/net/tun") }
        _ = try? runTool(Self.linkem, ["stop", Self.linkName], timeout: 20)
        let start = try runTool(Self.linkem, ["start", Self.linkName, "--delay", "50"], timeout: 30)
        XCTAssertEqual(start.status, 0, start.err)
        let cap = try runTool(Self.linkem, ["set", Self.linkName, "--dir", "ab", "--rate", "1500", "--queue", "200", "--delay", "50"])
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

    func testAnEncodingPublisherBehindASlowUplinkStaysLive() throws {
        try startLink()
        defer { _ = try? runTool(Self.linkem, ["stop", Self.linkName], timeout: 20) }
        let config = temporaryPath("tc-serve.toml")
        try "listen = \"198.18.0.2:7799\"\n[[apps]]\napp_id = 1\nanonymous = true\n".write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try inSide("b", ["serve", "--config", config])
        defer { serve.signal(SIGTERM); serve.wait(timeout: 10) }
        let deadline = Date().addingTimeInterval(10)
        while !serve.errorText.contains("listening on") && Date() < deadline { usleep(50_000) }
        XCTAssertTrue(serve.errorText.contains("listening on"), serve.errorText)

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
}
