import NIOCore
import XCTest
@testable import RTP

final class OpusPayloadTests: XCTestCase {
    func testFrameDurations() {
        // config << 3 | stereo << 2 | code
        XCTAssertEqual(OpusTOC(0x00).frameDurationMicros, 10_000)  // SILK NB 10 ms
        XCTAssertEqual(OpusTOC(0x08).frameDurationMicros, 20_000)  // SILK NB 20 ms
        XCTAssertEqual(OpusTOC(0x50).frameDurationMicros, 40_000)  // config 10, SILK WB 40 ms
        XCTAssertEqual(OpusTOC(0x58).frameDurationMicros, 60_000)  // config 11, SILK WB 60 ms
        XCTAssertEqual(OpusTOC(0x78).frameDurationMicros, 20_000)  // config 15, hybrid FB 20 ms
        XCTAssertEqual(OpusTOC(0x80).frameDurationMicros, 2_500)  // config 16, CELT NB 2.5 ms
        XCTAssertEqual(OpusTOC(0xFC).frameDurationMicros, 20_000)  // config 31, CELT FB 20 ms, stereo
        XCTAssertEqual(OpusTOC(0xFC).mode, .celt)
        XCTAssertEqual(OpusTOC(0x78).mode, .hybrid)
        XCTAssertEqual(OpusTOC(0x58).mode, .silk)
        XCTAssertTrue(OpusTOC(0xFC).isStereo)
        XCTAssertEqual(OpusTOC(0xFF).frameCountCode, 3)
    }

    func testPacketDurationsAndTimestampSteps() {
        XCTAssertEqual(OpusPayload.durationMicros(golden([0xFC, 0xFF, 0xFE])), 20_000)
        XCTAssertEqual(OpusPayload.samples(golden([0xFC, 0xFF, 0xFE])), 960)
        XCTAssertEqual(OpusPayload.durationMicros(golden([0xF9, 1, 2])), 40_000, "code 1: two frames")
        XCTAssertEqual(OpusPayload.durationMicros(golden([0x5A, 1, 2, 3])), 120_000, "code 2: two 60 ms frames")
        XCTAssertEqual(OpusPayload.durationMicros(golden([0xFB, 0x06])), 120_000, "code 3: six 20 ms frames")
        XCTAssertEqual(OpusPayload.samples(golden([0x83, 0x03])), 360, "three 2.5 ms frames")
        XCTAssertNil(OpusPayload.durationMicros(golden([0xFB, 0x07])), "140 ms is over the 120 ms limit")
        XCTAssertNil(OpusPayload.durationMicros(golden([0xFB, 0x00])))
        XCTAssertNil(OpusPayload.durationMicros(golden([0xFB])))
        XCTAssertNil(OpusPayload.durationMicros(golden([])))
        XCTAssertEqual(OpusPayload.timestampIncrement(micros: 20_000), 960)
        XCTAssertEqual(OpusPayload.timestampIncrement(micros: 2_500), 120)
        XCTAssertEqual(OpusPayload.clockRate, 48000)
        // Timestamps wrap at 32 bits like any RTP clock.
        XCTAssertEqual(UInt32.max &- 479 &+ OpusPayload.timestampIncrement(micros: 20_000), 480)
    }
}
