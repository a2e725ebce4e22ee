import XCTest

@testable import Media
import RoomProtocol

/// Scenario presets fill what the user did not give.
final class ScenarioTests: XCTestCase {
    func testAScenarioSetsItsPresetAndExplicitSettingsWin() {
        var s = PublishSettings(inputs: [])
        Scenario.call.apply(to: &s, keeping: [])
        XCTAssertEqual([s.width, s.height, s.frameRate], [640, 360, 15])
        XCTAssertEqual([s.videoBitRate, s.audioBitRate, s.audioChannels], [600_000, 48_000, 1])
        var given = PublishSettings(inputs: [])
        given.width = 320
        given.height = 240
        given.videoBitRate = 900_000
        Scenario.broadcast.apply(to: &given, keeping: [.size, .videoBitRate])
        XCTAssertEqual([given.width, given.height, given.videoBitRate], [320, 240, 900_000])
        XCTAssertEqual([given.frameRate, given.audioBitRate, given.audioChannels], [30, 128_000, 2])
        XCTAssertNotNil(given.smallLayer, "a broadcast sends a small layer for weak viewers")
        XCTAssertEqual(given.minVideoBitRate, 800_000, "its traffic-control floor, under the rate given")
        var udp = PublishSettings(inputs: [])
        udp.minVideoBitRate = 70_000
        Scenario.broadcast.apply(to: &udp, keeping: [.layers, .minVideoBitRate])
        XCTAssertNil(udp.smallLayer, "layers kept out where they cannot go (UDP, WHIP, --no-video) or were given")
        XCTAssertEqual(udp.minVideoBitRate, 70_000)
    }

    func testEveryScenarioIsAValidEncoderSetting() {
        for scenario in Scenario.allCases {
            let p = scenario.preset
            XCTAssertEqual(p.width % 2, 0, "\(scenario)")
            XCTAssertEqual(p.height % 2, 0, "\(scenario)")
            XCTAssertTrue((1...60).contains(p.frameRate))
            XCTAssertTrue([1, 2].contains(p.audioChannels))
            XCTAssertGreaterThan(p.videoBitRate, p.audioBitRate)
            XCTAssertLessThan(p.minVideoBitRate, p.videoBitRate)
            XCTAssertTrue([1, 2].contains(p.layers))
        }
    }
}
