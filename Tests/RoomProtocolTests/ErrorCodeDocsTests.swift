import Foundation
import XCTest

@testable import RoomProtocol

/// docs/protocol.md lists every error code with its name and meaning, exactly as RoomErrorCode has them.
final class ErrorCodeDocsTests: XCTestCase {
    static var expectedTable: String {
        var lines = ["| code | name | meaning |", "|---|---|---|"]
        for code in RoomErrorCode.allCases {
            lines.append("| \(code.rawValue) | \(code.name) | \(code.meaning) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func testProtocolDocListsEveryCode() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/protocol.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let marker = "<!-- generated from RoomErrorCode; ErrorCodeDocsTests checks it -->\n"
        guard let range = text.range(of: marker) else { return XCTFail("docs/protocol.md has no error code marker") }
        XCTAssertEqual(String(text[range.upperBound...]), Self.expectedTable,
                       "docs/protocol.md's error table is stale; it should end with:\n\(Self.expectedTable)")
    }
}
