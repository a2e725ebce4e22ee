import XCTest
@testable import RTP

final class SequenceNumberTests: XCTestCase {
    func testIsNewerAcrossWrap() {
        XCTAssertTrue(RTPSequence.isNewer(UInt16(1), than: 0))
        XCTAssertTrue(RTPSequence.isNewer(UInt16(0), than: 65535))
        XCTAssertTrue(RTPSequence.isNewer(UInt16(10), than: 65530))
        XCTAssertFalse(RTPSequence.isNewer(UInt16(65530), than: 10))
        XCTAssertFalse(RTPSequence.isNewer(UInt16(5), than: 5))
        // Exactly half the range: the larger raw value is newer, and only one direction holds.
        XCTAssertTrue(RTPSequence.isNewer(UInt16(0x8000), than: 0))
        XCTAssertFalse(RTPSequence.isNewer(UInt16(0), than: 0x8000))
        XCTAssertTrue(RTPSequence.isNewer(UInt32(0), than: 0xFFFF_FF00))
    }

    func testDifference() {
        XCTAssertEqual(RTPSequence.difference(UInt16(2), 65534), 4)
        XCTAssertEqual(RTPSequence.difference(UInt16(65534), 2), -4)
        XCTAssertEqual(RTPSequence.difference(UInt16(7), 7), 0)
        XCTAssertEqual(RTPSequence.difference(UInt16(0x8000), 0), 32768)
        XCTAssertEqual(RTPSequence.difference(UInt16(0), 0x8000), -32768)
        XCTAssertEqual(RTPSequence.difference(UInt32(5), 0xFFFF_FFFB), 10)
    }

    func testSequenceNumberUnwrapper() {
        var unwrapper = RTPSequenceNumberUnwrapper()
        XCTAssertEqual(unwrapper.unwrap(65534), 65534)
        XCTAssertEqual(unwrapper.unwrap(65535), 65535)
        XCTAssertEqual(unwrapper.unwrap(0), 65536)
        XCTAssertEqual(unwrapper.unwrap(65535), 65535, "reordered back across the wrap")
        XCTAssertEqual(unwrapper.unwrap(2), 65538)
        XCTAssertEqual(unwrapper.peek(1), 65537)
        XCTAssertEqual(unwrapper.last, 65538)
        // Many wraps, going forward in steps below half the range.
        var value: UInt16 = 2
        var expected: Int64 = 65538
        for _ in 0..<10 {
            value &+= 30000
            expected += 30000
            XCTAssertEqual(unwrapper.unwrap(value), expected)
        }
        unwrapper.reset()
        XCTAssertEqual(unwrapper.unwrap(10), 10)
        XCTAssertEqual(unwrapper.unwrap(65530), -6, "going back before the first value")
    }

    func testTimestampUnwrapper() {
        var unwrapper = RTPTimestampUnwrapper()
        XCTAssertEqual(unwrapper.unwrap(0xFFFF_FC00), 0xFFFF_FC00)
        XCTAssertEqual(unwrapper.unwrap(0x0000_0C00), 0x1_0000_0C00)
        XCTAssertEqual(unwrapper.unwrap(0xFFFF_FFFF), 0xFFFF_FFFF)
        XCTAssertEqual(unwrapper.unwrap(0x8000_0000), 0x1_8000_0000 - 0x1_0000_0000)
    }
}
