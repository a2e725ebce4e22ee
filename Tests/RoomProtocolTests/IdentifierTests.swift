import XCTest

@testable import RoomProtocol

final class IdentifierTests: XCTestCase {
    func testLimitsAndCharset() {
        XCTAssertNil(Identifier.problem(with: "room-1_a.b", kind: .room))
        XCTAssertNotNil(Identifier.problem(with: "", kind: .user))
        XCTAssertNil(Identifier.problem(with: String(repeating: "u", count: 64), kind: .user))
        XCTAssertNotNil(Identifier.problem(with: String(repeating: "u", count: 65), kind: .user))
        XCTAssertNil(Identifier.problem(with: String(repeating: "r", count: 128), kind: .room))
        XCTAssertNotNil(Identifier.problem(with: String(repeating: "r", count: 129), kind: .room))
        XCTAssertNil(Identifier.problem(with: String(repeating: "s", count: 256), kind: .stream))
        XCTAssertNotNil(Identifier.problem(with: String(repeating: "s", count: 257), kind: .stream))
        XCTAssertEqual(Identifier.problem(with: "a b", kind: .stream), "stream id \"a b\" has a character outside A-Z a-z 0-9 - _ .")
        XCTAssertNotNil(Identifier.problem(with: "é", kind: .user))
    }

    func testErrorCodesAreUniqueAndNamed() {
        let codes = RoomErrorCode.allCases.map(\.rawValue)
        XCTAssertEqual(Set(codes).count, codes.count)
        let names = RoomErrorCode.allCases.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
        for c in RoomErrorCode.allCases { XCTAssertEqual(RoomErrorCode(name: c.name), c) }
        XCTAssertEqual(RoomErrorCode.duplicateStream.name, "duplicate_stream")
        XCTAssertEqual(RoomErrorCode.kickedOut.rawValue, 1301)
    }
}
