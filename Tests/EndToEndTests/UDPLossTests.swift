import Foundation
import XCTest

/// Media over UDP across an emulated lossy link (../shared/tools/linkem, 50 ms each way, 10 % random loss on
/// the publisher's uplink): the real binary, real x264 packets, real sockets, DTLS-SRTP, NACK/RTX. What the
/// player decodes must be exactly what was sent: every frame it shows is bit-identical to a source frame, in
/// order; what could not be repaired in time is left out, never shown broken.
final class UDPLossTests: XCTestCase {
    static let linkName = "rtcbud"

    func inSide(_ side: String, _ arguments: [String]) throws -> Child {
        try Child(Tool.find("ip"), ["netns", "exec", "\(Self.linkName)-\(side)", Tool.rtcbox] + arguments)
    }

    /// The MD5 of every decoded video frame of a file, in order.
    static func frameHashes(_ path: String) throws -> [String] {
        let c = try Child(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-i", path, "-map", "0:v", "-f", "framemd5", "-"])
        c.wait()
        return c.outputText.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: ",").last.map {
            $0.trimmingCharacters(in: .whitespaces) } }
    }

    func testWhatCrossesALossyLinkOverUDPDecodesBitIdentically() throws {
        guard getuid() == 0 else { throw XCTSkip("linkem needs root") }
        guard FileManager.default.isExecutableFile(atPath: TrafficControlTests.linkem) else { throw XCTSkip("no linkem") }
        guard FileManager.default.fileExists(atPath: "/dev/net/tun") else { throw XCTSkip("no /dev/net/tun") }
        // The source: 14 s of H.264 (a keyframe a second), sent as it is (--copy).
        let source = temporaryPath("udp-source.mp4")
        let make = try runTool(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
                                                     "-t", "14", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
                                                     "-g", "30", "-b:v", "1500k", "-pix_fmt", "yuv420p", source], timeout: 120)
        XCTAssertEqual(make.status, 0, make.err)
        let sourceHashes = try Self.frameHashes(source)
        XCTAssertEqual(sourceHashes.count, 420)

        _ = try? runTool(TrafficControlTests.linkem, ["stop", Self.linkName], timeout: 20)
        let start = try runTool(TrafficControlTests.linkem, ["start", Self.linkName, "--delay", "50"], timeout: 30)
        XCTAssertEqual(start.status, 0, start.err)
        defer { _ = try? runTool(TrafficControlTests.linkem, ["stop", Self.linkName], timeout: 20) }
        let loss = try runTool(TrafficControlTests.linkem, ["set", Self.linkName, "--dir", "ab", "--loss", "10"])
        XCTAssertEqual(loss.status, 0, loss.err)

        let config = temporaryPath("udp-serve.toml")
        try "listen = \"198.18.0.2:7798\"\nudp = \"198.18.0.2:7797\"\n[[apps]]\napp_id = 1\nanonymous = true\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try inSide("b", ["serve", "--config", config])
        defer { serve.signal(SIGTERM); serve.wait(timeout: 10) }
        let deadline = Date().addingTimeInterval(10)
        while !serve.errorText.contains("UDP media on") && Date() < deadline { usleep(50_000) }
        XCTAssertTrue(serve.errorText.contains("UDP media on 198.18.0.2:7797"), serve.errorText)

        let pubEvents = temporaryPath("udp-pub.jsonl"), playEvents = temporaryPath("udp-play.jsonl")
        let played = temporaryPath("udp-played.ts")
        let publish = try inSide("a", ["publish", "r1", "cam", "--server", "198.18.0.2:7798", "--transport", "udp", "--copy",
                                       "-i", source, "--events", pubEvents, "-q"])
        usleep(1_000_000)
        let play = try inSide("b", ["play", "r1", "cam", "--server", "198.18.0.2:7798", "--transport", "udp", "-o", played,
                                    "--duration", "10s", "--events", playEvents, "-q"])
        XCTAssertEqual(play.wait(timeout: 60), 0, play.errorText)
        XCTAssertEqual(publish.wait(timeout: 30), 0, publish.errorText)

        XCTAssertEqual(TrafficControlTests.events(pubEvents, "media_transport").first?["transport"] as? String, "udp")
        XCTAssertEqual(TrafficControlTests.events(playEvents, "media_transport").first?["transport"] as? String, "udp")
        // The loss was repaired: the publisher retransmitted (about a tenth of its packets, each twice).
        let retransmitted = TrafficControlTests.events(pubEvents, "publisher_quality").compactMap { $0["retransmitted_percent"] as? Double }
        XCTAssertGreaterThan(retransmitted.last ?? 0, 5, "\(retransmitted)")

        let playedHashes = try Self.frameHashes(played)
        XCTAssertGreaterThan(playedHashes.count, 250, "10 s at 30 fps, starting at a keyframe")
        // Every frame shown is one sent, in the order sent (a subsequence of the source's frames).
        var cursor = sourceHashes.startIndex
        var unknown = 0
        for hash in playedHashes {
            guard let at = sourceHashes[cursor...].firstIndex(of: hash) else { unknown += 1; continue }
            cursor = at + 1
        }
        XCTAssertEqual(unknown, 0, "frames that are no source frame (broken by a loss) or out of order")
        XCTAssertEqual(try Probe.decodeErrors(path: played), "", "the played file decodes without an error")
    }
}
