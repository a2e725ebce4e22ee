import Foundation
import RoomClient
import XCTest

/// docs/events.md shows a real example of every event the client writes, and each example parses.
final class EventDocsTests: XCTestCase {
    func testEveryEventHasAParsingExample() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/events.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        var examples: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("{\"ts\":") {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            let name = try XCTUnwrap(object["event"] as? String)
            examples[name, default: 0] += 1
            XCTAssertTrue(line.hasPrefix("{\"ts\":") && line.contains(",\"event\":\"\(name)\""), "ts and event come first: \(line)")
        }
        for name in RoomEvent.allNames + ["command_result"] {
            XCTAssertNotNil(examples[name], "docs/events.md has no example of \(name)")
        }
    }
}
