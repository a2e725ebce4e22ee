import Foundation
import XCTest

/// `publish --scenario`: the preset is what a player gets (ffprobe of the played stream); a flag given
/// explicitly wins over it.
final class ScenarioE2ETests: XCTestCase {
    private func probe(_ serve: ServeProcess, _ stream: String) throws -> String {
        let r = try runTool(Tool.find("bash"), ["-c", """
            set -o pipefail; "\(Tool.rtcbox)" play r1 \(stream) --server \(serve.address) -o - --format nut --duration 3 -q \
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
}
