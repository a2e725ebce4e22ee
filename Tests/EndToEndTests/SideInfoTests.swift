import Foundation
import XCTest

/// Side info with the video (the SDK's sendSEI / onPlayerRecvSEI): lines sent by a publisher arrive at a
/// player with the frame they rode on, and a recording keeps them in its bitstream.
final class SideInfoTests: XCTestCase {
    private func sideInfo(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["event"] as? String == "player_recv_sei" }
    }

    /// The pts (s) of the recorded video packets whose bytes carry rtcbox's side info (its UUID), with the
    /// bytes after it, read from ffprobe's dump of each packet.
    private func recordedSideInfo(_ path: String) throws -> [(Double, String)] {
        let r = try runTool(Tool.find("ffprobe"), ["-v", "error", "-select_streams", "v", "-show_packets", "-show_data",
                                                   "-show_entries", "packet=pts_time,data", "-of", "json", path], timeout: 60)
        let json = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        let uuid = Array("rtcbox.side.info".utf8)
        var found: [(Double, String)] = []
        for packet in json?["packets"] as? [[String: Any]] ?? [] {
            // "00000000: 0000 0001 0910 ...  ascii": up to 16 bytes a line, in hex groups before two spaces.
            var bytes: [UInt8] = []
            for line in (packet["data"] as? String ?? "").split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let hex = line[line.index(colon, offsetBy: 2)...].prefix(39).replacingOccurrences(of: " ", with: "")
                var i = hex.startIndex
                while let j = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex), i < hex.endIndex, let b = UInt8(hex[i..<j], radix: 16) {
                    bytes.append(b)
                    i = j
                }
            }
            var at = 0
            while at + uuid.count <= bytes.count {
                if Array(bytes[at..<(at + uuid.count)]) == uuid {
                    let rest = bytes[(at + uuid.count)...].prefix { $0 != 0x80 }
                    found.append((Double(packet["pts_time"] as? String ?? "") ?? -1, String(decoding: rest, as: UTF8.self)))
                    at += uuid.count
                } else {
                    at += 1
                }
            }
        }
        return found
    }

    func testLinesSentAsSideInfoArriveWithTheirFramesAndStayInARecording() throws {
        let serve = try ServeProcess([])
        let input = Pipe()
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
                                                "--preset", "ultrafast", "--sei-stdin", "--duration", "30", "-q"], stdin: input)
        defer { publisher.signal(SIGINT); publisher.wait() }
        usleep(1_500_000)
        let watcher = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--sei-only", "--duration", "5", "-q"])
        let recording = temporaryPath("sei-\(UUID().uuidString).ts")
        let recorder = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "-o", recording, "--duration", "5", "-q"])
        usleep(1_500_000)
        let lines = ["question 1", String(repeating: "x", count: 5000), "question 2 {\"a\":1}", "question 3 ü"]
        for line in lines {
            input.fileHandleForWriting.write(Data((line + "\n").utf8))
            usleep(400_000)
        }
        XCTAssertEqual(watcher.wait(timeout: 30), 0, watcher.errorText)
        XCTAssertEqual(recorder.wait(timeout: 30), 0, recorder.errorText)
        let got = sideInfo(watcher.outputText)
        XCTAssertEqual(got.compactMap { $0["data"] as? String }, ["question 1", "question 2 {\"a\":1}", "question 3 ü"], watcher.outputText)
        XCTAssertEqual(Set(got.compactMap { $0["stream_id"] as? String }), ["cam"])
        let pts = got.compactMap { $0["pts_ms"] as? Double }
        XCTAssertEqual(pts.count, 3)
        XCTAssertEqual(pts, pts.sorted())
        XCTAssertTrue(publisher.errorText.contains("stdin line 2 not sent: side info is 5000 bytes, more than 4096"), publisher.errorText)

        // The recording: the same three messages in the bitstream, on frames as far apart as the player saw.
        let recorded = try recordedSideInfo(recording)
        XCTAssertEqual(recorded.count, 3, "\(recorded)")
        XCTAssertEqual(recorded.map(\.1), ["question 1", "question 2 {\"a\":1}", "question 3 ü"], "\(recorded)")
        if recorded.count == 3 && pts.count == 3 {
            for i in 1..<3 {
                XCTAssertEqual(recorded[i].0 - recorded[i - 1].0, (pts[i] - pts[i - 1]) / 1000, accuracy: 0.002,
                               "message \(i + 1) rides the same frame in the file as at the player")
            }
        }
        _ = serve.stop()
    }

    /// `--copy` mode (packets passed through) and the `send_sei` command of --stdin-commands.
    func testSendSEICommandsRideCopiedFrames() throws {
        let file = temporaryPath("sei-source-\(UUID().uuidString).ts")
        let make = try runTool(Tool.find("ffmpeg"), ["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "20",
                                                     "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-y", file], timeout: 60)
        XCTAssertEqual(make.status, 0, make.err)
        let serve = try ServeProcess([])
        let input = Pipe()
        let events = temporaryPath("sei-commands-\(UUID().uuidString).jsonl")
        let publisher = try Child(Tool.rtcbox, ["publish", "r1", "cam", "--server", serve.address, "--copy", "-i", file,
                                                "--stdin-commands", "--events", events, "-q"], stdin: input)
        defer { publisher.signal(SIGINT); publisher.wait() }
        usleep(1_500_000)
        let watcher = try Child(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--sei-only", "--duration", "4", "-q"])
        usleep(1_500_000)
        for line in [#"{"action":"send_sei","data":"slide 7"}"#, #"{"action":"send_sei","data":""}"#, #"{"action":"send_sei","data":"slide 8","id":2}"#] {
            input.fileHandleForWriting.write(Data((line + "\n").utf8))
            usleep(300_000)
        }
        XCTAssertEqual(watcher.wait(timeout: 30), 0, watcher.errorText)
        XCTAssertEqual(sideInfo(watcher.outputText).compactMap { $0["data"] as? String }, ["slide 7", "slide 8"], watcher.outputText)
        let results = ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").split(separator: "\n")
            .filter { $0.contains(#""event":"command_result""#) }
        XCTAssertEqual(results.count, 3, "\(results)")
        XCTAssertTrue(results.first?.contains(#""ok":true"#) ?? false, "\(results)")
        XCTAssertTrue(results.dropFirst().first?.contains("side info is empty") ?? false, "\(results)")
        XCTAssertTrue(results.last?.contains(#""id":2"#) ?? false, "\(results)")
        // --sei-only writes no media: an output is refused.
        let bad = try runTool(Tool.rtcbox, ["play", "r1", "cam", "--server", serve.address, "--sei-only", "-o", "x.ts"], timeout: 20)
        XCTAssertEqual(bad.status, 64, bad.err)
        _ = serve.stop()
    }
}
