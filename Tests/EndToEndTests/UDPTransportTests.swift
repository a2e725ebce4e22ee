import Foundation
import XCTest

/// `serve --udp` and the client commands' `--transport`, through the built binary on loopback: media over
/// UDP decodes as it does over TCP; a transport that cannot be had, or is misspelled, is one line and an exit
/// code, never a silent player.
final class UDPTransportTests: XCTestCase {
    func testPublishPlayAndRecordOverUDP() throws {
        let serve = try ServeProcess(["--udp", "127.0.0.1:0"])
        let deadline = Date().addingTimeInterval(5)
        while !serve.child.errorText.contains("UDP media on") && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(serve.child.errorText.contains("UDP media on 127.0.0.1:"), serve.child.errorText)
        let pubEvents = temporaryPath("udp-t-pub.jsonl"), playEvents = temporaryPath("udp-t-play.jsonl")
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "--transport", "udp",
                                                "--events", pubEvents] + testSource + ["--duration", "12"])
        let file = temporaryPath("udp-play.ts"), dir = temporaryPath("udp-record")
        let play = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--transport", "udp", "-o", file,
                                           "--duration", "5", "--events", playEvents])
        let record = try Child(Tool.rtcbox, ["record", "r1", "--server", serve.address, "--dir", dir, "--duration", "5s", "-q"])
        XCTAssertEqual(play.wait(), 0, play.errorText)
        XCTAssertEqual(record.wait(), 0, record.errorText)
        publisher.signal(SIGINT)
        XCTAssertEqual(publisher.wait(), 130, publisher.errorText)
        XCTAssertEqual(serve.stop(), 0)

        XCTAssertEqual(TrafficControlTests.events(pubEvents, "media_transport").first?["transport"] as? String, "udp")
        XCTAssertEqual(TrafficControlTests.events(playEvents, "media_transport").first?["transport"] as? String, "udp")
        let quality = TrafficControlTests.events(playEvents, "player_quality")
        XCTAssertEqual(quality.last?["transport"] as? String, "udp", "\(quality)")
        XCTAssertEqual(quality.last?["frames_given_up"] as? Int, 0, "nothing lost on loopback")
        let recorded = (FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".mp4") || $0.hasSuffix(".mkv") || $0.hasSuffix(".ts") }.map { dir + "/" + $0 }
        XCTAssertEqual(recorded.count, 1, "\(recorded)")
        for path in [file] + recorded {
            let probe = try Probe(path: path)
            XCTAssertEqual(probe.video?.width, 1280, path)
            // 5 s at 30 fps, less the join (login, ICE and DTLS in a debug build beside three encoders: up to 1 s).
            XCTAssertGreaterThanOrEqual(probe.video?.frames ?? 0, 120, path)
            XCTAssertGreaterThanOrEqual(probe.audio?.frames ?? 0, 170, "audio over UDP too: \(path)")
            XCTAssertTrue(probe.dtsStrictlyIncreasing, path)
            XCTAssertTrue(probe.firstVideoKeyframe, path)
            XCTAssertEqual(try Probe.decodeErrors(path: path), "", path)
        }
    }

    func testUDPRequiredFromAServerWithoutItIsOneLineAndExit69() throws {
        let serve = try ServeProcess()
        let play = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--transport", "udp", "-o", "/dev/null",
                                           "--format", "nut", "--duration", "5"])
        XCTAssertEqual(play.wait(timeout: 10), 69, play.errorText)
        // One line says why (after play's summary of what it wrote: nothing).
        let lines = play.errorText.split(separator: "\n").filter { $0.contains("no media over UDP") }
        XCTAssertEqual(lines.count, 1, play.errorText)
        XCTAssertTrue(lines.first?.hasSuffix("the server takes no media over UDP (it needs serve --udp)") == true, play.errorText)
        _ = serve.stop()
    }

    func testAMisspelledTransportIsAUsageError() throws {
        for (arguments, environment) in [(["--transport", "quic"], [:]), ([], ["RTCBOX_TRANSPORT": "udq"])] as [([String], [String: String])] {
            let r = try runTool(Tool.rtcbox, ["play", "r1", "cam", "-o", "/dev/null", "--format", "nut"] + arguments, timeout: 10, environment: environment)
            XCTAssertEqual(r.status, 64, r.err)
            XCTAssertTrue(r.err.contains("is not auto, udp or tcp"), r.err)
        }
    }
}
