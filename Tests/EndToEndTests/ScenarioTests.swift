import Foundation
import XCTest

/// `publish --scenario`: the preset is what a player gets (ffprobe of the played stream); a flag given
/// explicitly wins over it.
final class ScenarioE2ETests: XCTestCase {
    private func probe(_ serve: ServeProcess, _ stream: String, room: String = "r1", layer: String = "big") throws -> String {
        let r = try runTool(Tool.find("bash"), ["-c", """
            set -o pipefail; "\(Tool.rtcbox)" play \(room) \(stream) --layer \(layer) --server \(serve.address) -o - --format nut --duration 3 -q \
            | ffprobe -v error -show_entries stream=codec_name,width,height,avg_frame_rate,channels -of csv=p=0 -
            """], timeout: 60)
        XCTAssertEqual(r.status, 0, r.err)
        return r.out
    }

    func testTheCallScenarioIsWhatPlayersGetAndAGivenSizeWins() throws {
        let serve = try ServeProcess([])
        let preset = try Child(Tool.rtcbox, ["publish", "r1", "call", "--server", serve.address, "--scenario", "call"] + testSource + ["--duration", "20", "-q"])
        let sized = try Child(Tool.rtcbox, ["publish", "r1", "sized", "--server", serve.address, "--scenario", "call", "--size", "320x240"]
                              + testSource + ["--duration", "20", "-q"])
        defer { preset.signal(SIGINT); sized.signal(SIGINT); preset.wait(); sized.wait() }
        let call = try probe(serve, "call")
        XCTAssertTrue(call.contains("h264,640,360,15/1"), call)
        XCTAssertTrue(call.contains("aac,1"), "mono speech: \(call)")
        let given = try probe(serve, "sized")
        XCTAssertTrue(given.contains("h264,320,240,15/1"), "the explicit size wins, the rest is the scenario's: \(given)")
        let bad = try runTool(Tool.rtcbox, ["publish", "r1", "x", "--server", serve.address, "--scenario", "party"] + testSource)
        XCTAssertEqual(bad.status, 64, bad.err)
        let copy = try runTool(Tool.rtcbox, ["publish", "r1", "x", "--server", serve.address, "--scenario", "call", "--copy", "-i", "in.mp4"])
        XCTAssertEqual(copy.status, 64, copy.err)
        XCTAssertTrue(copy.err.contains("--copy"), copy.err)
        _ = serve.stop()
    }

    /// A room's scenario from the server's config: publishers that give none get it (size, fps, audio
    /// channels, a broadcast's small layer); their explicit flags and --scenario win; other rooms get the
    /// app's default.
    func testARoomsScenarioComesFromTheServerConfig() throws {
        let config = scratchDirectory.appendingPathComponent("scenarios.toml")
        try """
            [[apps]]
            app_id = 1
            anonymous = true
            scenario = "call"
            room_scenarios = { lounge = "chatroom", stage = "broadcast" }
            """.write(to: config, atomically: true, encoding: .utf8)
        let serve = try ServeProcess(["--config", config.path])
        func publish(_ room: String, _ stream: String, _ extra: [String] = []) throws -> Child {
            try Child(Tool.rtcbox, ["publish", room, stream, "--server", serve.address] + extra
                      + ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine", "--duration", "40"])
        }
        let chat = try publish("lounge", "chat")
        let own = try publish("lounge", "own", ["--scenario", "karaoke", "--fps", "25"])
        let call = try publish("r1", "call")
        let stage = try publish("stage", "show")
        let all = [chat, own, call, stage]
        defer { for c in all { c.signal(SIGINT) }; for c in all { c.wait() } }
        XCTAssertTrue(try probe(serve, "chat", room: "lounge").contains("h264,320,180,15/1"))
        let own1 = try probe(serve, "own", room: "lounge")
        XCTAssertTrue(own1.contains("h264,640,360,25/1") && own1.contains("aac,2"), "--scenario and --fps win over the room's: \(own1)")
        XCTAssertTrue(try probe(serve, "call", room: "r1").contains("h264,640,360,15/1"), "the app's default scenario")
        let big = try probe(serve, "show", room: "stage"), small = try probe(serve, "show", room: "stage", layer: "small")
        XCTAssertTrue(big.contains("h264,1280,720,30/1") && big.contains("aac,2"), big)
        XCTAssertTrue(small.contains("h264,640,360,30/1"), "a broadcast's small layer: \(small)")
        XCTAssertTrue(chat.errorText.contains("room lounge has the chatroom scenario"), chat.errorText)
        XCTAssertFalse(own.errorText.contains("scenario (the server"), own.errorText)
        _ = serve.stop()
    }
}
