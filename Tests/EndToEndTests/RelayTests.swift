import Foundation
import XCTest

/// A real nginx-rtmp (Debian's nginx + libnginx-mod-rtmp) on 127.0.0.1, recording every publish it gets
/// into its own FLV file: what rtcbox pushed, read back with ffprobe and ffmpeg.
final class NginxRTMP {
    let port: Int
    let directory: String
    let recordings: String
    /// nginx in the foreground (`daemon off`): a child of the test, its pipes closed when it exits.
    private var process: Child?

    static var binary: String? {
        ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
    static let module = "/usr/lib/nginx/modules/ngx_rtmp_module.so"

    init(port: Int? = nil) throws {
        guard let nginx = Self.binary, FileManager.default.fileExists(atPath: Self.module) else {
            if ProcessInfo.processInfo.environment["RTCBOX_REQUIRE_NGINX"] == "1" {
                throw NSError(domain: "rtcbox-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: "no nginx with the rtmp module (scripts/install-deps)"])
            }
            throw XCTSkip("no nginx with the rtmp module (apt install nginx-light libnginx-mod-rtmp)")
        }
        self.port = try port ?? freeTCPPort()
        directory = temporaryPath("nginx-\(UUID().uuidString)")
        recordings = (directory as NSString).appendingPathComponent("rec")
        try FileManager.default.createDirectory(atPath: recordings, withIntermediateDirectories: true)
        // Its worker runs as nobody when started by root: the recordings directory is everyone's.
        chmod(recordings, 0o777)
        let conf = """
        load_module \(Self.module);
        daemon off;
        worker_processes 1;
        pid \(directory)/nginx.pid;
        error_log \(directory)/error.log warn;
        events { worker_connections 64; }
        rtmp {
          server {
            listen 127.0.0.1:\(self.port);
            application live { live on; record all; record_path \(recordings); record_unique on; }
          }
        }
        """
        try conf.write(toFile: "\(directory)/nginx.conf", atomically: true, encoding: .utf8)
        let check = try runTool(nginx, ["-t", "-q", "-p", directory, "-c", "\(directory)/nginx.conf"], timeout: 20)
        guard check.status == 0 else { throw NSError(domain: "rtcbox-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: "nginx -t: \(check.err)"]) }
        try start()
    }

    /// Starts nginx (again, after `kill`) and waits until its port takes connections.
    func start() throws {
        process = try Child(Self.binary ?? "nginx", ["-p", directory, "-c", "\(directory)/nginx.conf"])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.accepts(port) { return }
            usleep(50_000)
        }
        throw NSError(domain: "rtcbox-tests", code: 1, userInfo: [NSLocalizedDescriptionKey: "nginx did not listen on \(port): \(process?.errorText ?? "")"])
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Fast shutdown (SIGTERM: connections are closed at once), waiting for nginx to exit.
    func kill() {
        guard let process else { return }
        process.signal(SIGTERM)
        _ = process.wait(timeout: 10)
        self.process = nil
    }

    /// The FLV files recorded so far, oldest first (their names end with the publish's Unix time).
    var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: recordings)) ?? []).filter { $0.hasSuffix(".flv") }.sorted()
            .map { (recordings as NSString).appendingPathComponent($0) }
    }

    deinit { kill() }
}

/// A TCP socket bound to a free port of 127.0.0.1 (listening when asked): its descriptor and port.
func boundTCPSocket(listening: Bool) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw NSError(domain: "rtcbox-tests", code: 1) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && (!listening || listen(fd, 4) == 0) && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else {
        close(fd)
        throw NSError(domain: "rtcbox-tests", code: 1)
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// A TCP port nothing listens on now (bound to 0 and released).
func freeTCPPort() throws -> Int {
    let (fd, port) = try boundTCPSocket(listening: false)
    close(fd)
    return port
}

/// `play -o rtmp://…`: a room stream pushed to a CDN's ingest (the SDK's addPublishCdnUrl), without
/// re-encoding, across a restart of the server it pushes to and a restart of the publisher.
final class RelayTests: XCTestCase {
    func testAStreamPushedToNginxRTMPOutlivesAnNginxRestartAndAPublisherRestart() throws {
        let nginx = try NginxRTMP()
        let serve = try ServeProcess([])
        let source = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
        var publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + source + ["--duration", "40", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        let events = temporaryPath("relay-\(UUID().uuidString).jsonl")
        let url = "rtmp://127.0.0.1:\(nginx.port)/live/secretkey"
        let play = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", url, "--keep-waiting",
                                           "--duration", "14", "--events", events])
        usleep(4_000_000)
        nginx.kill()
        usleep(1_000_000)
        try nginx.start()
        usleep(4_000_000)
        // The publisher restarts: the push goes on over the same RTMP connection, timestamps continuing.
        publisher.signal(SIGINT)
        XCTAssertEqual(publisher.wait(timeout: 10), 130, "interrupted: \(publisher.errorText)")
        publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address] + source + ["--duration", "40", "-q"])
        XCTAssertEqual(play.wait(timeout: 60), 0, play.errorText)

        let lines = ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").split(separator: "\n")
            .filter { $0.contains(#""event":"relay_state""#) }
        XCTAssertFalse(lines.joined().contains("secretkey"), "the stream key stays out of events: \(lines)")
        XCTAssertFalse(play.errorText.contains("secretkey"), "and out of the log: \(play.errorText)")
        let states = lines.compactMap { line -> String? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["state"] as? String
        }
        XCTAssertEqual(states.filter { $0 == "relaying" }.count, 2, "relaying, dropped with nginx, relaying again: \(lines)")
        XCTAssertEqual(states.filter { $0 == "retrying" }.count, 1, "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains(#""url":"rtmp://127.0.0.1:\#(nginx.port)/live/***""#) }, "\(lines)")

        // nginx recorded one file per connection; each holds the stream as published, decodable frame by frame.
        let files = nginx.files
        XCTAssertEqual(files.count, 2, "one recording per RTMP publish: \(files)")
        for (i, file) in files.enumerated() {
            let probe = try runTool(Tool.find("ffprobe"), ["-v", "error", "-count_frames", "-show_entries",
                                                           "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", file], timeout: 60)
            let rows = probe.out.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
            let video = try XCTUnwrap(rows.first { $0.first == "h264" }, "\(file): \(probe.out) \(probe.err)")
            XCTAssertEqual(Array(video.dropFirst().prefix(2)), ["640", "360"], probe.out)
            XCTAssertGreaterThan(Int(video.last ?? "") ?? 0, 90, "more than 3 s of video in \(file): \(probe.out)")
            XCTAssertNotNil(rows.first { $0.first == "aac" }, "AAC audio in \(file): \(probe.out)")
            let decode = try runTool(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-i", file, "-f", "null", "-"], timeout: 60)
            XCTAssertEqual(decode.status, 0, decode.err)
            XCTAssertEqual(decode.err, "", "\(file) decodes cleanly")
            // Video timestamps only go forward, also across the publisher's restart (in the second file).
            let dts = try runTool(Tool.find("ffprobe"), ["-v", "error", "-select_streams", "v", "-show_entries", "packet=dts",
                                                         "-of", "csv=p=0", file], timeout: 60)
            let values = dts.out.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            XCTAssertEqual(values, values.sorted(), "\(file)")
            XCTAssertEqual(Set(values).count, values.count, "\(file)")
            if i == 1 {
                XCTAssertGreaterThan((values.last ?? 0) - (values.first ?? 0), 5000, "the second connection spans the publisher's restart (ms)")
            }
        }
        _ = serve.stop()
    }

    /// A push nobody takes fails at once with one line naming the URL (its key redacted); a container RTMP
    /// cannot carry is a usage error.
    func testAPushWithNoServerOrTheWrongContainerFailsInOneLine() throws {
        let serve = try ServeProcess([])
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i",
                                                "testsrc2=size=320x240:rate=30", "--duration", "20", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        let port = try freeTCPPort()
        let refused = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", "rtmp://127.0.0.1:\(port)/live/k3y", "-q"],
                                  timeout: 30)
        XCTAssertEqual(refused.status, 69, refused.err)
        XCTAssertEqual(refused.err.split(separator: "\n").count, 1, refused.err)
        XCTAssertTrue(refused.err.contains("rtmp://127.0.0.1:\(port)/live/***") && !refused.err.contains("k3y"), refused.err)
        for (args, words) in [(["-o", "rtmp://127.0.0.1:\(port)/live/k", "--format", "mp4"], "carries flv only"),
                              (["-o", "srt://127.0.0.1:\(port)", "--decode"], "--decode")] {
            let r = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address] + args, timeout: 20)
            XCTAssertEqual(r.status, 64, "\(args): \(r.err)")
            XCTAssertTrue(r.err.contains(words), r.err)
        }
        _ = serve.stop()
    }

    /// `play -o srt://…`: MPEG-TS over SRT (libsrt) into a real receiver, ffmpeg listening on 127.0.0.1.
    func testAStreamPushedOverSRTReachesAnFFmpegListener() throws {
        let serve = try ServeProcess([])
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
                                                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "--duration", "30", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        let port = try freeTCPPort()
        let received = temporaryPath("srt-\(UUID().uuidString).ts")
        let listener = try Child(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-i", "srt://127.0.0.1:\(port)?mode=listener",
                                                       "-c", "copy", "-f", "mpegts", "-y", received])
        usleep(500_000)
        let play = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", "srt://127.0.0.1:\(port)", "--duration", "4"], timeout: 30)
        XCTAssertEqual(play.status, 0, play.err)
        XCTAssertTrue(play.err.contains("pushing to srt://127.0.0.1:\(port)"), play.err)
        listener.wait(timeout: 15)   // its input ends when the caller leaves
        let probe = try Probe(path: received)
        XCTAssertGreaterThan(probe.video?.frames ?? 0, 90, "about 4 s of video arrived: \(probe.streams)")
        XCTAssertEqual(probe.video?.width, 320)
        XCTAssertGreaterThan(probe.audio?.frames ?? 0, 100, "and its AAC")
        _ = serve.stop()
    }

    /// A server that takes the connection and never answers (a listening socket nobody accepts on) is
    /// dropped after --push-timeout, not after TCP's minutes: exit 69 naming the wait.
    func testAServerThatNeverAnswersTimesOutAfterThePushTimeout() throws {
        let serve = try ServeProcess([])
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i",
                                                "testsrc2=size=320x240:rate=30", "--duration", "20", "-q"])
        defer { publisher.signal(SIGINT); publisher.wait() }
        // Listening, and nobody accepts: the kernel completes the handshake, nothing ever answers.
        let (fd, port) = try boundTCPSocket(listening: true)
        defer { close(fd) }
        let started = Date()
        let r = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", "rtmp://127.0.0.1:\(port)/live/k3y",
                                          "--push-timeout", "2", "-q"], timeout: 30)
        let took = Date().timeIntervalSince(started)
        XCTAssertEqual(r.status, 69, r.err)
        XCTAssertTrue(r.err.contains("no answer within 2.0 s") && !r.err.contains("k3y"), r.err)
        XCTAssertLessThan(took, 8, "the push gave up after its timeout")
        _ = serve.stop()
    }

    /// `relay ROOM --to rtmp://…/{stream}`: every stream of the room pushed as it comes, one started before
    /// nginx (the first connection is retried), one that joins later.
    func testRelayPushesEveryStreamOfTheRoomAsTheyCome() throws {
        let serve = try ServeProcess([])
        func publish(_ id: String) throws -> Child {
            try Child(Tool.rtcbox, ["publish", "r1", id, "--server", serve.address, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
                                    "-f", "lavfi", "-i", "sine", "--duration", "30", "-q"])
        }
        let first = try publish("one")
        defer { first.signal(SIGINT); first.wait() }
        let port = try freeTCPPort()
        let events = temporaryPath("relay-room-\(UUID().uuidString).jsonl")
        let relay = try Child(Tool.rtcbox, ["relay", "r1", "--server", serve.address, "--to", "rtmp://127.0.0.1:\(port)/live/{stream}",
                                            "--duration", "12", "--events", events])
        usleep(2_000_000)
        // nginx comes up after the relay's first try failed: relay keeps trying (play would have failed).
        let nginx = try NginxRTMP(port: port)
        usleep(2_000_000)
        let second = try publish("two")
        defer { second.signal(SIGINT); second.wait() }
        XCTAssertEqual(relay.wait(timeout: 60), 0, relay.errorText)
        let text = (try? String(contentsOfFile: events, encoding: .utf8)) ?? ""
        for id in ["one", "two"] {
            XCTAssertTrue(text.contains(#""event":"relay_state","stream_id":"\#(id)","url":"rtmp://127.0.0.1:\#(port)/live/***","state":"relaying""#), text)
        }
        XCTAssertTrue(text.contains(#""stream_id":"one""#) && text.contains(#""state":"retrying""#), "the first try failed and was retried: \(text)")
        let files = nginx.files
        for id in ["one", "two"] {
            let file = try XCTUnwrap(files.first { ($0 as NSString).lastPathComponent.hasPrefix("\(id)-") }, "\(files)")
            let probe = try runTool(Tool.find("ffprobe"), ["-v", "error", "-count_frames", "-select_streams", "v", "-show_entries",
                                                           "stream=codec_name,width,nb_read_frames", "-of", "csv=p=0", file], timeout: 60)
            let row = probe.out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")
            XCTAssertEqual(row.prefix(2).joined(separator: ","), "h264,320", "\(file): \(probe.out) \(probe.err)")
            XCTAssertGreaterThan(Int(row.last ?? "") ?? 0, 60, "\(file): \(probe.out)")
        }
        XCTAssertTrue(relay.errorText.contains("2 streams pushed"), relay.errorText)
        // A URL that is not a server's, and one URL for several streams, are usage errors.
        for args in [["--to", "out.flv"], ["--to", "rtmp://h/live/same"]] {
            let r = try runTool(Tool.rtcbox, ["relay", "r1", "--server", serve.address] + args, timeout: 20)
            XCTAssertEqual(r.status, 64, "\(args): \(r.err)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        }
        _ = serve.stop()
    }
}
