import Foundation
import TestSupport
import XCTest

/// WHIP (RFC 9725) on `serve --web`: Debian's headless Chromium publishes its fake camera and microphone from
/// the served whip.html (RTCPeerConnection, H.264 + Opus over the UDP media port), CLI players read it; curl
/// checks what bad requests get.
final class WHIPTests: XCTestCase {
    static let fixtures = BrowserTests.fixtures

    /// A real offer of Chromium 156 here (whip.html publishing its fake devices): sendonly Opus and H.264.
    static var chromiumOffer: String {
        get throws { try String(contentsOf: fixtures.appendingPathComponent("chromium-whip-offer.sdp"), encoding: .utf8) }
    }

    /// curl's status line, headers and body for one request.
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    func curl(_ method: String, _ url: String, body: String? = nil, type: String = "application/sdp",
              headers: [String] = []) throws -> Reply {
        var args = ["-sS", "-X", method, "-D", "-", url]
        if let body {
            let file = temporaryPath("whip-body-\(UUID().uuidString)")
            try body.write(toFile: file, atomically: true, encoding: .utf8)
            args += ["--data-binary", "@\(file)", "-H", "Content-Type: \(type)"]
        }
        for h in headers { args += ["-H", h] }
        let r = try runTool(Tool.find("curl"), args, timeout: 30)
        XCTAssertEqual(r.status, 0, r.err)
        let text = r.out.replacingOccurrences(of: "\r\n", with: "\n")
        let parts = text.components(separatedBy: "\n\n")
        let head = parts.first?.split(separator: "\n") ?? []
        let status = head.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        var fields: [String: String] = [:]
        for line in head.dropFirst() {
            let kv = line.split(separator: ":", maxSplits: 1)
            if kv.count == 2 { fields[kv[0].lowercased()] = kv[1].trimmingCharacters(in: .whitespaces) }
        }
        return Reply(status: status, headers: fields, body: parts.dropFirst().joined(separator: "\n\n"))
    }

    /// Waits until a login of `room` lists the stream.
    func waitForStream(_ stream: String, room: String, on serve: ServeProcess, seconds: Double = 20) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let login = try runTool(Tool.rtcbox, ["login", room, "--server", serve.address, "--once", "-q"], timeout: 20)
            if login.out.contains("\"stream_id\":\"\(stream)\"") { return }
            usleep(200_000)
        }
        XCTFail("stream \(stream) did not come live in \(seconds) s")
    }

    func testBrowserPublishesOverWHIPAndCLIPlaysIt() throws {
        try skipUnlessBrowser()
        let serve = try ServeProcess(["--web", "127.0.0.1:0", "--udp", "127.0.0.1:0"])
        let webPort = try XCTUnwrap(serve.webPort)
        let page = try openPage(
            "http://127.0.0.1:\(webPort)/whip.html?publish=r1/webcam",
            until: "window.rtcbox.error || (window.rtcbox.stats && window.rtcbox.stats.video.framesSent > 300)",
            eval: "JSON.stringify(window.rtcbox)", timeout: 60, fakeMedia: true)
        // A CLI login sees the WHIP member and its stream like any other.
        let login = try runTool(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user", "watcher", "--user-status",
                                              "--duration", "4"], timeout: 30)
        let bash = Tool.find("bash")
        let ts = try runTool(bash, ["-c", """
            set -o pipefail; "\(Tool.rtcbox)" play r1 webcam --server \(serve.address) --user probe -o - --duration 4 -q \
            | ffprobe -v error -count_packets -show_entries stream=codec_name,width,height,nb_read_packets -of csv=p=0 -
            """], timeout: 60)
        let run = try finish(page, timeout: 90)
        XCTAssertTrue(run.ok, "the page did not send 300 frames: \(run.value) \(run.console)")
        XCTAssertNil(run.value["error"] as? String, "\(run.value)")
        // The server's transport-cc feedback steers Chromium's estimate: it climbs from its 300 kbit/s start (a
        // feedback Chromium ignores makes it fall 20 % a second, to 80 kbit/s and 320x240 at 12 fps here).
        let stats = run.value["stats"] as? [String: Any] ?? [:]
        XCTAssertGreaterThan(stats["availableOutgoingKbps"] as? Double ?? 0, 300, "\(stats)")
        XCTAssertNotEqual((stats["video"] as? [String: Any])?["limitedBy"] as? String, "bandwidth", "\(stats)")
        XCTAssertEqual(ts.status, 0, ts.err)
        var counts: [String: Int] = [:]
        for line in ts.out.split(separator: "\n") {
            let parts = line.split(separator: ",", omittingEmptySubsequences: false)
            if let n = parts.last.flatMap({ Int($0) }) { counts[String(parts[0]), default: 0] += n }
        }
        XCTAssertGreaterThan(counts["h264"] ?? 0, 60, "H.264 packets in 4 s: \(ts.out)")
        XCTAssertGreaterThan(counts["opus"] ?? 0, 100, "Opus packets (20 ms each) in 4 s: \(ts.out)")
        XCTAssertTrue(ts.out.contains("h264,640,480") || ts.out.contains("h264,320,240"), "the stream's size from its SPS: \(ts.out)")
        XCTAssertTrue(login.out.contains("\"stream_id\":\"webcam\""), login.out)
        XCTAssertTrue(login.out.contains("whip-"), "the WHIP member's user id: \(login.out)")
        XCTAssertEqual(run.exceptions.count, 0, "\(run.exceptions)")
        _ = serve.stop()
    }

    /// A page plays an rtcbox stream (H.264 + AAC) over WHEP: >= 90 % of the video frames decode, and the AAC
    /// arrives as Opus (browsers play no AAC over WebRTC), transcoded once by the server while the page plays.
    func testBrowserPlaysACLIStreamOverWHEP() throws {
        try skipUnlessBrowser()
        let serve = try ServeProcess(["--web", "127.0.0.1:0", "--udp", "127.0.0.1:0"])
        let webPort = try XCTUnwrap(serve.webPort)
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cli", "--server", serve.address, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
                                                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "--duration", "40", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        try waitForStream("cli", room: "r1", on: serve)
        // From the first decoded frame, count for 8 s.
        let until = """
        (() => { const s = window.rtcbox.stats, v = s && s.video, a = s && s.audio; if (window.rtcbox.error) return true;
          if (!v || !v.framesDecoded) return false;
          if (!window.t0) window.t0 = { at: s.at, decoded: v.framesDecoded, packets: a.packetsReceived || 0,
                                        samples: a.totalSamplesReceived || 0, concealed: a.concealedSamples || 0 };
          return s.at - window.t0.at >= 8000; })()
        """
        let eval = """
        (() => { const s = window.rtcbox.stats, a = s.audio; const r = JSON.stringify({ error: window.rtcbox.error, video: s.video, audio: a,
          decoded: s.video.framesDecoded - window.t0.decoded, seconds: (s.at - window.t0.at) / 1000,
          audioPackets: (a.packetsReceived || 0) - window.t0.packets, samples: (a.totalSamplesReceived || 0) - window.t0.samples,
          concealed: (a.concealedSamples || 0) - window.t0.concealed });
          document.getElementById('stop').click(); return r; })()
        """
        let run = try finish(openPage("http://127.0.0.1:\(webPort)/whip.html?play=r1/cli", until: until, eval: eval, timeout: 40), timeout: 60)
        XCTAssertTrue(run.ok, "\(run.value) \(run.console)")
        XCTAssertNil(run.value["error"] as? String, "\(run.value)")
        let decoded = run.value["decoded"] as? Int ?? 0
        let seconds = run.value["seconds"] as? Double ?? 5
        // The publisher sends 30 frames a second: at least 90 % of them decode in the page.
        XCTAssertGreaterThanOrEqual(Double(decoded), 0.9 * 30 * seconds, "\(run.value)")
        let video = run.value["video"] as? [String: Any] ?? [:]
        XCTAssertEqual(video["width"] as? Int, 640, "\(video)")
        XCTAssertEqual(video["height"] as? Int, 360, "\(video)")
        // The audio: Opus, 50 packets a second (20 ms frames), played out with little concealment.
        let audio = run.value["audio"] as? [String: Any] ?? [:]
        XCTAssertEqual(audio["codec"] as? String, "audio/opus", "\(audio)")
        XCTAssertGreaterThanOrEqual(Double(run.value["audioPackets"] as? Int ?? 0), 0.9 * 50 * seconds, "\(run.value)")
        let samples = Double(run.value["samples"] as? Int ?? 0), concealed = Double(run.value["concealed"] as? Int ?? 0)
        XCTAssertGreaterThan(samples, 0.9 * 48_000 * seconds, "\(run.value)")
        XCTAssertLessThan(concealed, 0.05 * samples, "\(run.value)")
        // Not silence: Opus spends a few bytes on a silent 20 ms frame, and over a hundred on a tone at 64 kbit/s.
        // (getStats' audioLevel is the muted element's output, 0.)
        let bytes = Double(audio["bytesReceived"] as? Int ?? 0), packets = Double(audio["packetsReceived"] as? Int ?? 1)
        XCTAssertGreaterThan(bytes / packets, 100, "a sine, not silence: \(audio)")
        XCTAssertEqual(run.exceptions.count, 0, "\(run.exceptions)")
        // The page ended its session (DELETE): the transcoder stops with its last player.
        let deadline = Date().addingTimeInterval(15)
        while !serve.child.errorText.contains("AAC to Opus ended") && Date() < deadline { usleep(100_000) }
        XCTAssertTrue(serve.child.errorText.contains("AAC to Opus for WebRTC players"), serve.child.errorText)
        XCTAssertTrue(serve.child.errorText.contains("AAC to Opus ended"), serve.child.errorText)
        _ = serve.stop()
    }

    /// The room page on a server with `--udp` picks its WebRTC mode by itself (no `mode=` asked): it logs in over
    /// the WebSocket as ever, and its publish and play carry RTCPeerConnection's offers (media over the UDP
    /// port). A CLI login and the page see each other; the player reports its capture-to-shown latency.
    func testRoomPageInWebRTCModePublishesPlaysAndSeesTheRoom() throws {
        try skipUnlessBrowser()
        let serve = try ServeProcess(["--web", "127.0.0.1:0", "--udp", "127.0.0.1:0"])
        let webPort = try XCTUnwrap(serve.webPort)
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cli", "--server", serve.address, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
                                                "--duration", "40", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        try waitForStream("cli", room: "r1", on: serve)
        let until = """
        (() => { const s = rtcbox.stats(); const p = s.players.cli;
          if (s.errors.length) return true;
          if (!p || !p.videoDecoded) return false;
          if (!window.t0) window.t0 = { at: p.statsAt, decoded: p.videoDecoded };
          const seen = s.events.some(e => e.type === 'room_user_update' && e.update_type === 'add' && e.users.some(u => u.user_id === 'watcher'));
          return seen && p.statsAt - window.t0.at >= 8000 && s.publisher && s.publisher.videoSent > 60; })()
        """
        let eval = """
        (() => { const s = rtcbox.stats(); const l = s.players.cli.latencies.slice(-60).sort((a, b) => a - b);
          return JSON.stringify({ mode: s.mode, errors: s.errors, publisher: s.publisher, latency: l.length ? l[l.length >> 1] : null,
          decoded: s.players.cli.videoDecoded - window.t0.decoded, seconds: (s.players.cli.statsAt - window.t0.at) / 1000 }); })()
        """
        let capabilities = try runTool(Tool.find("curl"), ["-sS", "http://127.0.0.1:\(webPort)/server.json"], timeout: 10)
        XCTAssertEqual(capabilities.out, "{\"webrtc\":true}\n", capabilities.err)
        let page = try openPage("http://127.0.0.1:\(webPort)/?room=r1&user=web1&autologin=1&autoplay=1&publish=webcam",
                                until: until, eval: eval, timeout: 50, fakeMedia: true)
        try waitForStream("webcam", room: "r1", on: serve)
        let watcher = try runTool(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user", "watcher", "--user-status",
                                                "--duration", "3"], timeout: 30)
        XCTAssertTrue(watcher.out.contains("\"user_id\":\"web1\""), "the CLI sees the page's user: \(watcher.out)")
        XCTAssertTrue(watcher.out.contains("\"stream_id\":\"webcam\""), "and its stream: \(watcher.out)")
        let ts = try runTool(Tool.find("bash"), ["-c", """
            set -o pipefail; "\(Tool.rtcbox)" play r1 webcam --server \(serve.address) -o - --duration 3 -q \
            | ffprobe -v error -count_packets -show_entries stream=codec_name,nb_read_packets -of csv=p=0 -
            """], timeout: 60)
        XCTAssertEqual(ts.status, 0, ts.err)
        XCTAssertTrue(ts.out.contains("h264,") && ts.out.contains("opus,"), ts.out)
        let run = try finish(page, timeout: 70)
        XCTAssertTrue(run.ok, "\(run.value) \(run.console)")
        XCTAssertEqual(run.value["mode"] as? String, "webrtc")
        XCTAssertEqual((run.value["errors"] as? [String])?.count, 0, "\(run.value)")
        XCTAssertEqual((run.value["publisher"] as? [String: Any])?["transport"] as? String, "webrtc")
        let decoded = run.value["decoded"] as? Int ?? 0
        let seconds = run.value["seconds"] as? Double ?? 5
        XCTAssertGreaterThanOrEqual(Double(decoded), 0.9 * 30 * seconds, "the CLI stream over WebRTC: \(run.value)")
        // Capture (the CLI publisher's clock) to shown (the <video>), the median of the last 60 frames.
        let latency = try XCTUnwrap(run.value["latency"] as? Double, "no latency from requestVideoFrameCallback: \(run.value)")
        XCTAssertGreaterThan(latency, 0, "\(run.value)")
        XCTAssertLessThan(latency, 500, "\(run.value)")
        XCTAssertEqual(run.exceptions.count, 0, "\(run.exceptions)")
        _ = serve.stop()
    }

    /// rtcbox as a WHIP and WHEP client (of its own server here): `publish --whip` and `play --whep`.
    func testCLIPublishesOverWHIPAndPlaysOverWHEP() throws {
        let serve = try ServeProcess(["--web", "127.0.0.1:0", "--udp", "127.0.0.1:0"])
        let base = "http://127.0.0.1:\(try XCTUnwrap(serve.webPort))"
        let events = temporaryPath("whip-pub-\(UUID().uuidString).jsonl")
        let publisher = try Child(Tool.rtcbox, ["publish", "--whip", "\(base)/whip/r1/cli"] + testSource
                                  + ["--duration", "12", "--events", events, "-q"])
        try waitForStream("cli", room: "r1", on: serve)
        let bash = Tool.find("bash")
        // Over WHEP, and from the room as any stream: H.264 and the publisher's AAC (RFC 3640) both ways.
        for source in ["--whep \(base)/whep/r1/cli", "r1 cli --server \(serve.address)"] {
            let r = try runTool(bash, ["-c", """
                set -o pipefail; "\(Tool.rtcbox)" play \(source) -o - --duration 3 -q \
                | ffprobe -v error -count_packets -show_entries stream=codec_name,width,height,nb_read_packets -of csv=p=0 -
                """], timeout: 60)
            XCTAssertEqual(r.status, 0, "\(source): \(r.err)")
            XCTAssertTrue(r.out.contains("h264,1280,720,"), "\(source): \(r.out)")
            let packets = r.out.split(separator: "\n").compactMap { line -> (String, Int)? in
                let parts = line.split(separator: ",")
                return parts.count >= 2 ? (String(parts[0]), Int(parts.last!) ?? 0) : nil
            }
            XCTAssertGreaterThan(packets.first { $0.0 == "h264" }?.1 ?? 0, 60, "\(source): \(r.out)")
            XCTAssertGreaterThan(packets.first { $0.0 == "aac" }?.1 ?? 0, 100, "\(source): \(r.out)")
        }
        // Mistakes are one line and a usage exit; a refusal is the room error's exit (77).
        let notLive = try runTool(Tool.rtcbox, ["play", "--whep", "\(base)/whep/r1/none", "-o", "-", "-q"], timeout: 30)
        XCTAssertEqual(notLive.status, 77, notLive.err)
        XCTAssertTrue(notLive.err.contains("(stream_not_found)"), notLive.err)
        let duplicate = try runTool(Tool.rtcbox, ["publish", "--whip", "\(base)/whip/r1/cli", "-f", "lavfi", "-i", "testsrc2", "--duration", "1", "-q"],
                                    timeout: 30)
        XCTAssertEqual(duplicate.status, 77, duplicate.err)
        XCTAssertTrue(duplicate.err.contains("(duplicate_stream)"), duplicate.err)
        for args in [["play", "--whep", "ftp://x"], ["play", "r1", "--whep", "\(base)/whep/r1/cli"], ["publish", "r1", "s", "--bearer", "x"]] {
            let r = try runTool(Tool.rtcbox, args, timeout: 20)
            XCTAssertEqual(r.status, 64, "\(args): \(r.err)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        }
        XCTAssertEqual(publisher.wait(timeout: 30), 0, publisher.errorText)
        let lines = (try? String(contentsOfFile: events, encoding: .utf8)) ?? ""
        XCTAssertTrue(lines.contains("\"event\":\"media_transport\"") && lines.contains("\"transport\":\"udp\""), lines)
        // The publisher's DELETE ended its session: the stream is gone from the room.
        let after = try runTool(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--once", "-q"], timeout: 20)
        XCTAssertFalse(after.out.contains("\"stream_id\":\"cli\""), after.out)
        _ = serve.stop()
    }

    /// An https WHIP/WHEP server with a self-signed certificate: refused by default (the system's roots do not
    /// sign it), trusted with `--ca-file` (the POST and the DELETE both); a bad --ca-file is one line.
    func testCLITrustsASelfSignedHTTPSServerWithCAFile() throws {
        let cert = temporaryPath("whip-cert-\(UUID().uuidString).pem")
        let key = temporaryPath("whip-key-\(UUID().uuidString).pem")
        let made = try runTool(Tool.find("openssl"), ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                                                      "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        XCTAssertEqual(made.status, 0, made.err)
        let serve = try ServeProcess(["--web", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key])
        let base = "https://127.0.0.1:\(try XCTUnwrap(serve.webPort))"
        let untrusted = try runTool(Tool.rtcbox, ["play", "--whep", "\(base)/whep/r1/none", "-o", "-", "-q"], timeout: 30)
        XCTAssertNotEqual(untrusted.status, 0)
        XCTAssertNotEqual(untrusted.status, 77, "no room answer without trust: \(untrusted.err)")
        XCTAssertEqual(untrusted.err.split(separator: "\n").count, 1, untrusted.err)
        let trusted = try runTool(Tool.rtcbox, ["play", "--whep", "\(base)/whep/r1/none", "--ca-file", cert, "-o", "-", "-q"], timeout: 30)
        XCTAssertEqual(trusted.status, 77, "the server's own answer, over TLS: \(trusted.err)")
        XCTAssertTrue(trusted.err.contains("(stream_not_found)"), trusted.err)
        let publisher = try runTool(Tool.rtcbox, ["publish", "--whip", "\(base)/whip/r1/tls", "--ca-file", cert, "-f", "lavfi",
                                                  "-i", "testsrc2=size=320x180:rate=30", "--duration", "3", "-q"], timeout: 40)
        XCTAssertEqual(publisher.status, 0, publisher.err)
        let after = try runTool(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--once", "-q"], timeout: 20)
        XCTAssertFalse(after.out.contains("\"stream_id\":\"tls\""), "the DELETE went over TLS too: \(after.out)")
        for (file, status) in [("/nonexistent/ca.pem", Int32(66)), (key, Int32(65))] {
            let r = try runTool(Tool.rtcbox, ["play", "--whep", "\(base)/whep/r1/none", "--ca-file", file, "-o", "-", "-q"], timeout: 20)
            XCTAssertEqual(r.status, status, "\(file): \(r.err)")
            XCTAssertTrue(r.err.hasPrefix("rtcbox play: --ca-file:") && r.err.split(separator: "\n").count == 1, r.err)
        }
        let misplaced = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--ca-file", cert], timeout: 20)
        XCTAssertEqual(misplaced.status, 64, misplaced.err)
        _ = serve.stop()
    }

    func testBadOffersAndRequestsGetAReasonAndLeaveTheRoomAlone() throws {
        let serve = try ServeProcess(["--web", "127.0.0.1:0", "--udp", "127.0.0.1:0"])
        let base = "http://127.0.0.1:\(try XCTUnwrap(serve.webPort))"
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + testSource + ["--duration", "30", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        let offer = try Self.chromiumOffer
        try waitForStream("cam", room: "r1", on: serve)

        let garbage = try curl("POST", "\(base)/whip/r1/s1", body: "hello, server")
        XCTAssertEqual(garbage.status, 400, garbage.body)
        XCTAssertTrue(garbage.body.hasPrefix("bad_request: the SDP offer"), garbage.body)
        // Only VP8 and PCMU: nothing rtcbox can carry.
        let vp8 = offer.replacingOccurrences(of: "H264", with: "VP8").replacingOccurrences(of: "opus", with: "PCMU")
        let noCodec = try curl("POST", "\(base)/whip/r1/s1", body: vp8)
        XCTAssertEqual(noCodec.status, 400, noCodec.body)
        let huge = try curl("POST", "\(base)/whip/r1/s1", body: String(repeating: "a=x\r\n", count: 200_000))
        XCTAssertEqual(huge.status, 413, huge.body)
        let text = try curl("POST", "\(base)/whip/r1/s1", body: offer, type: "text/plain")
        XCTAssertEqual(text.status, 415, text.body)
        let notLive = try curl("POST", "\(base)/whep/r1/nothing", body: offer)
        XCTAssertEqual(notLive.status, 404, notLive.body)
        XCTAssertTrue(notLive.body.hasPrefix("stream_not_found: "), notLive.body)
        let path = try curl("POST", "\(base)/whip/r1", body: offer)
        XCTAssertEqual(path.status, 404, path.body)
        let duplicate = try curl("POST", "\(base)/whip/r1/cam", body: offer)
        XCTAssertEqual(duplicate.status, 409, duplicate.body)
        XCTAssertTrue(duplicate.body.hasPrefix("duplicate_stream: "), duplicate.body)

        // A good offer makes a session (its media never comes: curl is no browser), which DELETE ends.
        let created = try curl("POST", "\(base)/whip/r1/s2", body: offer)
        XCTAssertEqual(created.status, 201, created.body)
        XCTAssertEqual(created.headers["content-type"], "application/sdp")
        XCTAssertTrue(created.body.contains("a=ice-lite"), created.body)
        let location = try XCTUnwrap(created.headers["location"])
        XCTAssertTrue(location.hasPrefix("/whip/r1/s2/"), location)
        let options = try curl("OPTIONS", "\(base)/whip/r1/s2", headers: ["Origin: http://127.0.0.1:\(serve.webPort ?? 0)"])
        XCTAssertEqual(options.status, 204)
        XCTAssertEqual(options.headers["accept-post"], "application/sdp")
        XCTAssertTrue(options.headers["access-control-allow-methods"]?.contains("POST") == true, "\(options.headers)")
        let foreign = try curl("OPTIONS", "\(base)/whip/r1/s2", headers: ["Origin: http://evil.example"])
        XCTAssertEqual(foreign.status, 403)
        let patch = try curl("PATCH", base + location, body: "a=candidate:1 1 udp 1 127.0.0.1 9 typ host", type: "application/trickle-ice-sdpfrag")
        XCTAssertEqual(patch.status, 405)
        let ended = try curl("DELETE", base + location)
        XCTAssertEqual(ended.status, 200, ended.body)
        let again = try curl("DELETE", base + location)
        XCTAssertEqual(again.status, 404, again.body)

        // The live stream played on through all of it.
        let probe = try runTool(Tool.find("bash"), ["-c", """
            set -o pipefail; "\(Tool.rtcbox)" play r1 cam --server \(serve.address) -o - --duration 2 -q \
            | ffprobe -v error -count_packets -select_streams v -show_entries stream=nb_read_packets -of csv=p=0 -
            """], timeout: 30)
        XCTAssertEqual(probe.status, 0, probe.err)
        XCTAssertGreaterThan(probe.out.split(whereSeparator: \.isNewline).compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.first ?? 0,
                             30, probe.out)
        _ = serve.stop()
    }

    func testTokensDecideWhoPublishes() throws {
        let secret = "0123456789abcdef0123456789abcdef"
        let config = temporaryPath("whip-\(UUID().uuidString).toml")
        try "[[apps]]\napp_id = 7\nserver_secret = \"\(secret)\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try ServeProcess(["--config", config, "--web", "127.0.0.1:0", "--udp", "127.0.0.1:0"])
        let base = "http://127.0.0.1:\(try XCTUnwrap(serve.webPort))"
        let offer = try Self.chromiumOffer
        let none = try curl("POST", "\(base)/whip/r1/s1", body: offer)
        XCTAssertEqual(none.status, 401, none.body)
        XCTAssertEqual(none.headers["www-authenticate"], "Bearer")
        let wrong = try runTool(Tool.rtcbox, ["token", "--app-id", "7", "--secret", "fedcba9876543210fedcba9876543210", "--user", "obs"])
        let refused = try curl("POST", "\(base)/whip/r1/s1", body: offer,
                               headers: ["Authorization: Bearer \(wrong.out.trimmingCharacters(in: .whitespacesAndNewlines))"])
        XCTAssertEqual(refused.status, 401, refused.body)
        XCTAssertTrue(refused.body.hasPrefix("token_invalid: "), refused.body)
        // A token for another room is the room's refusal: no privilege.
        let otherRoom = try runTool(Tool.rtcbox, ["token", "--app-id", "7", "--secret", secret, "--user", "obs", "--room", "r2"])
        let forbidden = try curl("POST", "\(base)/whip/r1/s1", body: offer,
                                 headers: ["Authorization: Bearer \(otherRoom.out.trimmingCharacters(in: .whitespacesAndNewlines))"])
        XCTAssertTrue([401, 403].contains(forbidden.status), "\(forbidden.status) \(forbidden.body)")
        let good = try runTool(Tool.rtcbox, ["token", "--app-id", "7", "--secret", secret, "--user", "obs"])
        let token = good.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let created = try curl("POST", "\(base)/whip/r1/s1", body: offer, headers: ["Authorization: Bearer \(token)"])
        XCTAssertEqual(created.status, 201, created.body)
        let location = try XCTUnwrap(created.headers["location"])
        // The member is the token's user: a second login of "obs" takes over, so the WHIP session ends.
        let login = try runTool(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--app-id", "7", "--token", token,
                                              "--user", "obs", "--duration", "1"], timeout: 30)
        XCTAssertEqual(login.status, 0, login.err)
        // PATCH answers 405 while the session exists, 404 once it is gone (DELETE would end it itself).
        var probe = try curl("PATCH", base + location, body: "", type: "application/trickle-ice-sdpfrag")
        for _ in 0..<30 where probe.status != 404 {
            usleep(100_000)
            probe = try curl("PATCH", base + location, body: "", type: "application/trickle-ice-sdpfrag")
        }
        XCTAssertEqual(probe.status, 404, "the kicked session is gone: \(probe.body)")
        _ = serve.stop()
    }
}
