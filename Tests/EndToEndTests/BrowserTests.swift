import Foundation
import TestSupport
import XCTest

/// The room page (`serve --web`) in Debian's headless Chromium, driven over the DevTools protocol by
/// Tests/Fixtures/browser.py: it plays a CLI stream with WebCodecs, publishes its fake camera and microphone
/// (H.264 + Opus) to CLI players, and sees the CLI's events while the CLI sees its own.
final class BrowserTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// What the reconnect tests publish and capture: 640x360. Their subject is the page coming back; with
    /// 720p both ways on two cores the page's software decoder and encoder, not the reconnect, set the pace.
    static let smallSource = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]

    override func setUpWithError() throws {
        try skipUnlessBrowser()
    }

    func testPageDecodesALiveCLIStream() throws {
        let serve = try ServeProcess(["--web", "127.0.0.1:0"])
        let webPort = try XCTUnwrap(serve.webPort)
        // x264 at ultrafast: the page's software decoder, the subject here, gets the CPU (two cores).
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cli", "--server", serve.address] + testSource
                                  + ["--preset", "ultrafast", "--duration", "30", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        // From the first decoded frame, count for 8 s (a hiccup of the decoder averages out); then read the canvas.
        let until = """
        (() => { const p = rtcbox.stats().players.cli; if (!p || p.videoDecoded === 0) return false;
          if (!window.t0) window.t0 = { at: performance.now(), decoded: p.videoDecoded, received: p.videoIn };
          return performance.now() - window.t0.at >= 8000; })()
        """
        let eval = """
        (() => { const s = rtcbox.stats(); const p = s.players.cli; const c = document.querySelector('.player canvas');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const colours = new Set(); let lit = 0, n = 0;
          for (let i = 0; i < d.length; i += 4 * 97) { n++; colours.add((d[i] >> 4) << 8 | (d[i + 1] >> 4) << 4 | (d[i + 2] >> 4));
            if (d[i] + d[i + 1] + d[i + 2] > 60) lit++; }
          return JSON.stringify({ mode: s.mode, decoded: p.videoDecoded - window.t0.decoded, received: p.videoIn - window.t0.received,
            seconds: (performance.now() - window.t0.at) / 1000, errors: s.errors, decoderErrors: p.errors, latencyAll: p.latencyP50,
            latency: (() => { const l = p.latencies.slice(-60).sort((a, b) => a - b); return l.length ? l[l.length >> 1] : null; })(),
            firstFrameMs: p.firstFrameMs, audio: p.audioDecoded, width: c.width, height: c.height, colours: colours.size, lit: lit / n }); })()
        """
        let shot = temporaryPath("page-\(UUID().uuidString).png")
        let page = try openPage("http://127.0.0.1:\(webPort)/?room=r1&user=web1&autologin=1&autoplay=1", until: until, eval: eval,
                                screenshot: shot)
        let run = try finish(page)
        XCTAssertTrue(run.ok, "the page decoded nothing for 8 s: \(run.value) \(run.console)")
        let v = run.value
        // A server without --udp takes no WebRTC media: the page picks WebCodecs over the WebSocket by itself.
        XCTAssertEqual(v["mode"] as? String, "webcodecs", "\(v)")
        let capabilities = try runTool(Tool.find("curl"), ["-sS", "http://127.0.0.1:\(webPort)/server.json"], timeout: 10)
        XCTAssertEqual(capabilities.out, "{\"webrtc\":false}\n", capabilities.err)
        let decoded = v["decoded"] as? Int ?? 0
        let received = v["received"] as? Int ?? 0
        let seconds = v["seconds"] as? Double ?? 5
        // The publisher sends 30 frames a second: at least 90 % of what it sent in the window is decoded.
        XCTAssertGreaterThanOrEqual(Double(decoded), 0.9 * 30 * seconds, "decoded \(decoded) frames in \(seconds) s: \(v)")
        XCTAssertGreaterThanOrEqual(Double(decoded), 0.9 * Double(received), "decoded \(decoded) of \(received) received")
        XCTAssertEqual(v["decoderErrors"] as? Int, 0, "\(v)")
        XCTAssertEqual((v["errors"] as? [Any])?.count, 0, "\(v)")
        XCTAssertGreaterThan(v["audio"] as? Int ?? 0, 100, "AAC frames decoded: \(v)")
        XCTAssertEqual(v["width"] as? Int, 1280)
        XCTAssertEqual(v["height"] as? Int, 720)
        // testsrc2 fills the frame with bars, gradients and text: many colours, and hardly any black.
        XCTAssertGreaterThan(v["colours"] as? Int ?? 0, 40, "the canvas looks blank: \(v)")
        XCTAssertGreaterThan(v["lit"] as? Double ?? 0, 0.8, "the canvas looks blank: \(v)")
        // Live latency: the median of the last 60 frames' (2 s). The median since the first frame also holds
        // the join's GOP, decoded in a burst of catching up (Chromium 156 takes 1-2 s over it here).
        XCTAssertLessThan(v["latency"] as? Double ?? 1e9, 500, "capture-to-display latency p50 in ms: \(v)")
        XCTAssertEqual(run.exceptions, [])
        // The screenshot of the page is a real PNG as wide as the window.
        let probe = try runTool(Tool.find("ffprobe"), ["-v", "error", "-show_entries", "stream=codec_name,width", "-of", "csv=p=0", shot])
        XCTAssertEqual(probe.out.trimmingCharacters(in: .whitespacesAndNewlines), "png,1280", probe.err)
        _ = serve.stop()
    }

    func testPagePublishesH264AndOpusToCLIPlayers() throws {
        let serve = try ServeProcess(["--web", "127.0.0.1:0"])
        let webPort = try XCTUnwrap(serve.webPort)
        // The page publishes until the last CLI player ("probe") has left the room.
        let until = """
        rtcbox.stats().events.some(e => e.type === 'room_user_update' && e.update_type === 'delete' && e.users.some(u => u.user_id === 'probe'))
        """
        let page = try openPage("http://127.0.0.1:\(webPort)/?room=r1&user=web2&autologin=1&publish=webcam", until: until,
                                eval: "JSON.stringify(rtcbox.stats())", timeout: 60, fakeMedia: true)
        let bash = Tool.find("bash")
        let rtcbox = Tool.rtcbox
        let errors = temporaryPath("play-flv-\(UUID().uuidString).err")
        // FLV cannot carry Opus: transcoded to AAC, and said so in one line.
        let flv = try runTool(bash, ["-c", """
            set -o pipefail; "\(rtcbox)" play r1 webcam --server \(serve.address) --user probe1 --format flv -o - --duration 2 2>"\(errors)" \
            | ffprobe -v error -count_packets -show_entries stream=codec_name,nb_read_packets -of csv=p=0 -
            """], timeout: 60)
        XCTAssertEqual(flv.status, 0, flv.err)
        XCTAssertTrue(flv.out.contains("aac,"), flv.out)
        let note = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        XCTAssertTrue(note.contains("opus audio is transcoded to AAC (flv cannot carry opus)"), note)
        // The default on stdout is MPEG-TS, which keeps the Opus packets as the browser made them.
        let ts = try runTool(bash, ["-c", """
            set -o pipefail; "\(rtcbox)" play r1 webcam --server \(serve.address) --user probe -o - --duration 3 -q \
            | ffprobe -v error -count_packets -show_entries stream=codec_name,nb_read_packets -of csv=p=0 -
            """], timeout: 60)
        XCTAssertEqual(ts.status, 0, ts.err)
        let counts = Dictionary(ts.out.split(separator: "\n").compactMap { line -> (String, Int)? in
            let parts = line.split(separator: ",")
            guard parts.count == 2, let n = Int(parts[1]) else { return nil }
            return (String(parts[0]), n)
        }, uniquingKeysWith: +)
        XCTAssertGreaterThan(counts["h264"] ?? 0, 30, "H.264 packets in 3 s: \(ts.out)")
        XCTAssertGreaterThan(counts["opus"] ?? 0, 100, "Opus packets (20 ms each) in 3 s: \(ts.out)")
        let run = try finish(page)
        XCTAssertTrue(run.ok, "the page did not see the CLI player leave: \(run.console)")
        let publisher = run.value["publisher"] as? [String: Any] ?? [:]
        XCTAssertEqual(publisher["errors"] as? Int, 0, "\(publisher)")
        XCTAssertGreaterThan(publisher["videoSent"] as? Int ?? 0, 30)
        XCTAssertEqual(run.exceptions, [])
        _ = serve.stop()
    }

    func testPageAndCLISeeEachOtherOverTLSWithTokens() throws {
        let cert = temporaryPath("cert-\(UUID().uuidString).pem")
        let key = temporaryPath("key-\(UUID().uuidString).pem")
        let made = try runTool(Tool.find("openssl"), ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                                                      "-days", "1", "-subj", "/CN=127.0.0.1"])
        XCTAssertEqual(made.status, 0, made.err)
        let secret = "0123456789abcdef0123456789abcdef"
        let config = temporaryPath("web-\(UUID().uuidString).toml")
        try "[[apps]]\napp_id = 7\nserver_secret = \"\(secret)\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try ServeProcess(["--config", config, "--web", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key])
        let webPort = try XCTUnwrap(serve.webPort)
        XCTAssertTrue(serve.child.errorText.contains("room page on https://"), serve.child.errorText)
        func token(_ user: String) throws -> String {
            let r = try runTool(Tool.rtcbox, ["token", "--app-id", "7", "--secret", secret, "--user", user])
            XCTAssertEqual(r.status, 0, r.err)
            return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // In a URL query: a token's base64 has + and / in it.
        let pageToken = try token("web3").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let watcher = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--app-id", "7", "--token", try token("watcher"),
                                              "--user", "watcher", "--user-status", "--duration", "40"])
        defer { watcher.signal(SIGINT); watcher.wait() }
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "clistream", "--server", serve.address, "--app-id", "7",
                                                "--token", try token("clipub"), "--user", "clipub", "-f", "lavfi", "-i",
                                                "testsrc2=size=320x240:rate=30", "--duration", "40", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }

        // A wrong token is refused the same way as on TCP.
        let refused = try openPage("https://127.0.0.1:\(webPort)/?app=7&room=r1&user=web3&token=04bogus&autologin=1",
                                   until: "rtcbox.stats().errors.length > 0", eval: "JSON.stringify(rtcbox.stats())", insecure: true)
        let refusal = try finish(refused)
        XCTAssertTrue(refusal.ok)
        XCTAssertTrue((refusal.value["errors"] as? [String] ?? []).contains { $0.contains("token_invalid") }, "\(refusal.value)")

        let until = """
        (() => { const s = rtcbox.stats();
          return s.events.some(e => e.type === 'room_user_update' && e.users.some(u => u.user_id === 'watcher')) &&
                 s.events.some(e => e.type === 'stream_added' && e.stream_id === 'clistream') &&
                 s.publisher && s.publisher.videoSent > 10 && (s.players.clistream || {}).videoDecoded > 10; })()
        """
        let eval = "(async () => { const s = JSON.stringify(rtcbox.stats()); await rtcbox.logout(); return s; })()"
        let page = try openPage("https://127.0.0.1:\(webPort)/?app=7&room=r1&user=web3&token=\(pageToken)&autologin=1&autoplay=1&publish=webcam3",
                                until: until, eval: eval, fakeMedia: true, insecure: true)
        let run = try finish(page)
        XCTAssertTrue(run.ok, "the page missed the CLI's user or stream: \(run.value)")
        XCTAssertEqual(run.exceptions, [])

        // The CLI saw the page arrive, publish, stop and leave (it logged out: no reconnect grace).
        let deadline = Date().addingTimeInterval(10)
        func seen(_ type: String, _ update: String, _ field: String, _ id: String) -> Bool {
            watcher.outputText.split(separator: "\n").contains { line in
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      o["event"] as? String == type, o["update_type"] as? String == update else { return false }
                let items = (o["users"] as? [[String: Any]] ?? []) + (o["streams"] as? [[String: Any]] ?? [])
                return items.contains { $0[field] as? String == id }
            }
        }
        while Date() < deadline && !(seen("room_user_update", "delete", "user_id", "web3")) { usleep(100_000) }
        XCTAssertTrue(seen("room_user_update", "add", "user_id", "web3"), watcher.outputText)
        XCTAssertTrue(seen("room_stream_update", "add", "stream_id", "webcam3"), watcher.outputText)
        XCTAssertTrue(seen("room_stream_update", "delete", "stream_id", "webcam3"), watcher.outputText)
        XCTAssertTrue(seen("room_user_update", "delete", "user_id", "web3"), watcher.outputText)
        _ = serve.stop()
    }

    /// Until the page has reconnected and then decoded 30 more frames of `cam` and sent 30 more of its own.
    static let backAfterReconnect = """
    (() => { const s = rtcbox.stats(); if (!s.events.some(e => e.type === 'reconnected')) return false;
      const p = s.players.cam; if (!p || !s.publisher) return false;
      if (!window.back) window.back = { decoded: p.videoDecoded, sent: s.publisher.videoSent };
      return p.videoDecoded - window.back.decoded >= 30 && s.publisher.videoSent - window.back.sent >= 30; })()
    """
    static let statsAfterReconnect = """
    JSON.stringify({ ...rtcbox.stats(), decodedAfter: rtcbox.stats().players.cam.videoDecoded - window.back.decoded })
    """

    /// A CLI player gets 31 H.264 packets of `stream` within `seconds` (tries again while the page is still
    /// coming back: a player that joins during the outage may get the GOP from before it, then the gap). A page
    /// that never comes back fails the test; the failure shows the last player's log and the server's.
    func assertCLIPlaysH264(_ stream: String, server: ServeProcess, within seconds: Double = 25,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        repeat {
            let played = try runTool(Tool.find("bash"), ["-c", """
                set -o pipefail; timeout 20 "\(Tool.rtcbox)" play r1 \(stream) --server \(server.address) --user probe -o - --frames 31 \
                | ffprobe -v error -count_packets -select_streams v -show_entries stream=codec_name,nb_read_packets -of csv=p=0 -
                """], timeout: 60)
            let videoPackets = Int(played.out.split(separator: ",").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            if played.status == 0 && played.out.hasPrefix("h264,") && videoPackets > 30 { return }
            last = "status \(played.status): \(played.out) \(played.err.suffix(1500))"
        } while Date() < deadline
        XCTFail("no 31 H.264 packets of \(stream) in \(seconds) s; the last try: \(last)\nserve: \(server.child.errorText.suffix(1500))",
                file: file, line: line)
    }

    /// The page (run with `backAfterReconnect`) played before it lost its connection and 30 frames after it came
    /// back; returns its `reconnected` event.
    func assertCameBack(_ run: BrowserPage.Run, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertTrue(run.ok, "the page did not come back: \(run.value) \(run.console)", file: file, line: line)
        let events = run.value["events"] as? [[String: Any]] ?? []
        let lost = try XCTUnwrap(events.first { $0["type"] as? String == "reconnecting" }, "\(events)", file: file, line: line)
        XCTAssertGreaterThan(lost["decoded"] as? Int ?? 0, 30, "the page played before it lost its connection: \(lost)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(run.value["decodedAfter"] as? Int ?? 0, 30, file: file, line: line)
        return try XCTUnwrap(events.first { $0["type"] as? String == "reconnected" }, file: file, line: line)
    }

    /// kill -9 of the server under a page that plays a CLI stream and publishes its camera: when the server is
    /// up again on the same ports the page logs in again by itself, plays on and publishes again.
    func testPageComesBackAfterAServerRestart() throws {
        let first = try ServeProcess(["--web", "127.0.0.1:0"])
        let (port, webPort) = (first.port, try XCTUnwrap(first.webPort))
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", first.address] + Self.smallSource + ["--duration", "40", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        let page = try openPage("http://127.0.0.1:\(webPort)/?room=r1&user=web6&autologin=1&autoplay=1&publish=webcam6&camera=640x360",
                                until: Self.backAfterReconnect, eval: Self.statsAfterReconnect, timeout: 60, fakeMedia: true)
        usleep(6_000_000)
        first.child.signal(SIGKILL)
        first.child.wait()
        usleep(1_000_000)
        let second = try ServeProcess(["--listen", "127.0.0.1:\(port)", "--web", "127.0.0.1:\(webPort)"])
        // The page's camera is published again on the new server: a CLI player gets its H.264.
        try assertCLIPlaysH264("webcam6", server: second)
        let run = try finish(page)
        let back = try assertCameBack(run)
        XCTAssertEqual((back["resumed"] as? NSNumber)?.boolValue, false, "a new server cannot resume the session: \(back)")
        XCTAssertEqual((run.value["loggedIn"] as? NSNumber)?.boolValue, true)
        XCTAssertEqual(run.exceptions, [])
        _ = second.stop()
    }

    /// The page's link drops (its connection runs through a proxy, which closes it) while it plays a CLI stream
    /// and publishes its camera: it reconnects, the server still holds its session, so it resumes it (the room
    /// never sees it leave) and plays and publishes on.
    func testPageResumesItsSessionWhenTheLinkDrops() async throws {
        let serve = try ServeProcess(["--web", "127.0.0.1:0"])
        let proxy = try await TCPProxy(targetPort: try XCTUnwrap(serve.webPort))
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + Self.smallSource + ["--duration", "40", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        let watcher = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--user", "watcher", "--user-status", "--duration", "40"])
        defer { watcher.signal(SIGINT); watcher.wait() }
        let page = try openPage("http://127.0.0.1:\(proxy.port)/?room=r1&user=web7&autologin=1&autoplay=1&publish=webcam7&camera=640x360",
                                until: Self.backAfterReconnect, eval: Self.statsAfterReconnect, timeout: 60, fakeMedia: true)
        try await Task.sleep(for: .seconds(6))
        proxy.cut()
        // The page's camera plays for a CLI player after the drop.
        try await Task.sleep(for: .seconds(2))
        try assertCLIPlaysH264("webcam7", server: serve)
        let run = try finish(page)
        let back = try assertCameBack(run)
        XCTAssertEqual((back["resumed"] as? NSNumber)?.boolValue, true, "the server held the session: \(back)")
        XCTAssertEqual(run.exceptions, [])
        // The room saw web7 arrive once: a new login would have been a leave and a second arrival (the leave
        // that may follow is the page closing at the end of the run).
        let userEvents = watcher.outputText.split(separator: "\n").filter { $0.contains(#""event":"room_user_update""#) && $0.contains(#""user_id":"web7""#) }
        XCTAssertEqual(userEvents.filter { $0.contains(#""update_type":"add""#) }.count, 1, watcher.outputText)
        XCTAssertTrue(userEvents.first?.contains(#""update_type":"add""#) == true, watcher.outputText)
        await proxy.stop()
        _ = serve.stop()
    }

    func testPageLogsInWithAnAppSign() throws {
        let sign = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
        let config = temporaryPath("sign-\(UUID().uuidString).toml")
        try "[[apps]]\napp_id = 8\napp_sign = \"\(sign)\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try ServeProcess(["--config", config, "--web", "127.0.0.1:0"])
        let webPort = try XCTUnwrap(serve.webPort)
        let watcher = try Child(Tool.rtcbox, ["login", "r1", "--server", serve.address, "--app-id", "8", "--app-sign", sign,
                                              "--user", "cli", "--user-status", "--duration", "30"])
        defer { watcher.signal(SIGINT); watcher.wait() }
        // The page signs the server's nonce with crypto.subtle (HMAC-SHA256), as the CLI does.
        let page = try openPage("http://127.0.0.1:\(webPort)/?app=8&room=r1&user=web4&app_sign=\(sign)&autologin=1",
                                until: "rtcbox.stats().events.some(e => e.type === 'room_user_update' && e.users.some(u => u.user_id === 'cli'))",
                                eval: "JSON.stringify(rtcbox.stats())")
        let run = try finish(page)
        XCTAssertTrue(run.ok, "\(run.value)")
        XCTAssertEqual((run.value["loggedIn"] as? NSNumber)?.boolValue, true)
        let wrong = String(sign.reversed())
        let refused = try finish(try openPage("http://127.0.0.1:\(webPort)/?app=8&room=r1&user=web5&app_sign=\(wrong)&autologin=1",
                                              until: "rtcbox.stats().errors.length > 0", eval: "JSON.stringify(rtcbox.stats())"))
        XCTAssertTrue((refused.value["errors"] as? [String] ?? []).contains { $0.contains("token_invalid") }, "\(refused.value)")
        _ = serve.stop()
    }
}

/// The headless page driver (Tests/Fixtures/browser.py) for any test case.
enum BrowserPage {
    /// What browser.py printed.
    struct Run {
        var ok: Bool
        var value: [String: Any]
        var console: [String]
        var exceptions: [String]
    }

}

extension XCTestCase {
    /// Skips a test that needs Chromium where it is not installed. CI installs it and sets
    /// RTCBOX_REQUIRE_BROWSER=1: there a missing browser fails instead of skipping.
    func skipUnlessBrowser() throws {
        let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].contains { FileManager.default.isExecutableFile(atPath: $0) }
        if !found && ProcessInfo.processInfo.environment["RTCBOX_REQUIRE_BROWSER"] != "1" {
            throw XCTSkip("chromium is not installed (apt-get install chromium)")
        }
    }

    /// Starts the driver; `finish` waits for it and reads its JSON.
    func openPage(_ url: String, until: String, eval: String, timeout: Double = 40, fakeMedia: Bool = false,
                  insecure: Bool = false, screenshot: String? = nil) throws -> Child {
        var args = [BrowserTests.fixtures.appendingPathComponent("browser.py").path, "--url", url, "--until", until, "--eval", eval,
                    "--timeout", String(timeout), "--log", temporaryPath("chromium.log")]
        if fakeMedia { args.append("--fake-media") }
        if insecure { args.append("--insecure") }
        if let screenshot { args += ["--screenshot", screenshot] }
        return try Child(Tool.find("python3"), args)
    }

    func finish(_ page: Child, timeout: Double = 60) throws -> BrowserPage.Run {
        let status = page.wait(timeout: timeout)
        let json = try JSONSerialization.jsonObject(with: Data(page.outputText.utf8)) as? [String: Any] ?? [:]
        XCTAssertNotEqual(status, 2, "chromium did not start: \(json["error"] ?? page.errorText)")
        let valueText = json["value"] as? String ?? "{}"
        let value = try JSONSerialization.jsonObject(with: Data(valueText.utf8)) as? [String: Any] ?? [:]
        return BrowserPage.Run(ok: json["ok"] as? Bool ?? false, value: value, console: json["console"] as? [String] ?? [],
                       exceptions: json["exceptions"] as? [String] ?? [])
    }

}
