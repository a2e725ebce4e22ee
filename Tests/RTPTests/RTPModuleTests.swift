import XCTest
@testable import RTP

final class RTPModuleTests: XCTestCase {
    func testModuleLinks() {
        XCTAssertNotNil(RTPModule.self)
    }
}
