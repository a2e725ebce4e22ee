import XCTest
@testable import RTP

final class NTPTimestampTests: XCTestCase {
    func testUnixEpoch() {
        let epoch = NTPTimestamp(wallClockMicros: 0)
        XCTAssertEqual(epoch.seconds, 2_208_988_800)
        XCTAssertEqual(epoch.fraction, 0)
        XCTAssertEqual(epoch.wallClockMicros, 0)
    }

    func testFractionAndMiddleBits() {
        // 0.5 s after 2023-11-14T22:13:20Z.
        let time = NTPTimestamp(wallClockMicros: 1_700_000_000_500_000)
        XCTAssertEqual(time.rawValue, 0xE8FE_6F80_8000_0000)
        XCTAssertEqual(time.middle32, 0x6F80_8000)
        XCTAssertEqual(NTPTimestamp(seconds: 0x1234_5678, fraction: 0x9ABC_DEF0).middle32, 0x5678_9ABC)
    }

    func testEraOneAfter2036() {
        // 2036-02-07T06:28:16Z is NTP second 2^32, which wraps to 0.
        let wrap: Int64 = (1 << 32 - 2_208_988_800) * 1_000_000
        XCTAssertEqual(NTPTimestamp(wallClockMicros: wrap).rawValue, 0)
        XCTAssertEqual(NTPTimestamp(rawValue: 0).wallClockMicros, wrap)
        XCTAssertEqual(NTPTimestamp(wallClockMicros: wrap + 1_000_001).wallClockMicros, wrap + 1_000_001)
        XCTAssertEqual(NTPTimestamp(wallClockMicros: wrap - 1).wallClockMicros, wrap - 1)
    }

    func testBeforeUnixEpoch() {
        XCTAssertEqual(NTPTimestamp(wallClockMicros: -1).wallClockMicros, -1)
        XCTAssertEqual(NTPTimestamp(wallClockMicros: -1).seconds, 2_208_988_799)
    }

    func testCompactDurations() {
        XCTAssertEqual(NTPTimestamp.compactDuration(micros: 1_000_000), 65536)
        XCTAssertEqual(NTPTimestamp.compactDuration(micros: 500_000), 32768)
        XCTAssertEqual(NTPTimestamp.compactDuration(micros: -5), 0)
        XCTAssertEqual(NTPTimestamp.compactDuration(micros: .max), .max)
        XCTAssertEqual(NTPTimestamp.micros(compactDuration: 65536 * 3 / 2), 1_500_000)
        // One unit is 15.26 µs: the round trip is within half of it.
        XCTAssertEqual(
            NTPTimestamp.micros(compactDuration: NTPTimestamp.compactDuration(micros: 123_456)), 123_456, accuracy: 8)
    }
}
