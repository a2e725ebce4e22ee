import RoomProtocol
import XCTest

/// Side info as H.264 SEI user_data_unregistered: golden bytes, emulation prevention, finding it in frames.
final class SideInfoSEITests: XCTestCase {
    let uuid = Array("rtcbox.side.info".utf8)

    func testTheNALUnitIsAnUnregisteredUserDataSEIWithRtcboxsUUID() {
        XCTAssertEqual(SideInfoSEI.nalUnit(Array("hi".utf8)), [0x06, 0x05, 18] + uuid + [0x68, 0x69, 0x80])
    }

    func testZerosInTheDataGetEmulationPreventionBytes() {
        let unit = SideInfoSEI.nalUnit([0, 0, 1, 0, 0, 0, 7])
        XCTAssertEqual(Array(unit.suffix(10)), [0, 0, 3, 1, 0, 0, 3, 0, 7, 0x80])
        // No start code can appear inside the unit.
        XCTAssertFalse(zip(zip(unit, unit.dropFirst()), unit.dropFirst(2)).contains { $0.0 == 0 && $0.1 == 0 && $1 <= 2 })
    }

    func testSizesOf255AndMoreAreCodedWithFFBytes() {
        let data = [UInt8](repeating: 0x41, count: 300)
        let unit = SideInfoSEI.nalUnit(data)
        XCTAssertEqual(Array(unit.prefix(4)), [0x06, 0x05, 0xFF, 61])
        XCTAssertEqual(SideInfoSEI.messages(in: [0, 0, 0, 1] + unit), [data])
    }

    func testMessagesGoBeforeTheFirstSliceAndAreFoundInOrder() {
        let frame: [UInt8] = [0, 0, 0, 1, 0x67, 0x42, 0, 0x1f, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x10]
        let withInfo = SideInfoSEI.inserting([Array("one".utf8), [0, 0, 0, 0]], into: frame)
        XCTAssertEqual(SideInfoSEI.messages(in: withInfo), [Array("one".utf8), [0, 0, 0, 0]])
        let idr = withInfo.firstIndex(of: 0x65)!
        let sei = withInfo.firstIndex(of: 0x06)!
        XCTAssertLessThan(sei, idr, "SEI precedes the slice")
        XCTAssertGreaterThan(sei, withInfo.firstIndex(of: 0x68)!, "and follows the parameter sets")
        XCTAssertEqual(Array(withInfo.suffix(9)), [0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x10], "the slice is untouched")
        XCTAssertEqual(SideInfoSEI.messages(in: frame), [])
    }

    func testOtherSEIIsSkipped() {
        // x264's own user data (another UUID) and a recovery point SEI, in one unit, then ours.
        let other = [0x06, 0x05, 20] + [UInt8](repeating: 0xdc, count: 16) + Array("x264".utf8) + [0x06, 0x01, 0x80]
        let frame = [0, 0, 0, 1] + other + [0, 0, 0, 1] + SideInfoSEI.nalUnit(Array("q".utf8)) + [0, 0, 1, 0x41, 0x9a]
        XCTAssertEqual(SideInfoSEI.messages(in: frame), [Array("q".utf8)])
    }

    func testGarbageFindsNothingAndLimitsAreTold() {
        XCTAssertEqual(SideInfoSEI.messages(in: [0, 0, 1, 0x06, 0x05, 0xFF, 0xFF]), [])
        XCTAssertEqual(SideInfoSEI.messages(in: [0, 0, 1, 0x06]), [])
        XCTAssertEqual(SideInfoSEI.messages(in: [UInt8]()), [])
        XCTAssertEqual(SideInfoSEI.problem(with: []), "side info is empty")
        XCTAssertEqual(SideInfoSEI.problem(with: [UInt8](repeating: 1, count: 4097)), "side info is 4097 bytes, more than 4096")
        XCTAssertNil(SideInfoSEI.problem(with: [UInt8](repeating: 1, count: 4096)))
    }
}
