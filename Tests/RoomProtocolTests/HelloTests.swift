import NIOCore
import XCTest

@testable import RoomProtocol

final class HelloTests: XCTestCase {
    func testGoldenBytes() throws {
        var b = ByteBuffer()
        Hello(version: 1, minimumVersion: 1, details: .init(software: "x")).write(to: &b)
        let json = Array("{\"software\":\"x\"}".utf8)
        let expected: [UInt8] = [0, 0, 0, UInt8(1 + 8 + json.count), 0x01, 0x52, 0x54, 0x43, 0x42, 0, 1, 0, 1] + json
        XCTAssertEqual(Array(b.readableBytesView), expected)
    }

    func testRoundTripWithServerFields() throws {
        let hello = Hello(details: .init(software: "rtcbox/0.1.0", maxFrameLength: 4096, nonce: "abcd"))
        var b = ByteBuffer()
        hello.write(to: &b)
        let frame = try XCTUnwrap(RoomFrameDecoder.nextFrame(from: &b, maximumFrameLength: 1 << 20))
        XCTAssertEqual(try Hello.decode(payload: frame.payload), hello)
    }

    func testBadMagicIsRefused() {
        XCTAssertThrowsError(try Hello.decode(payload: ByteBuffer(bytes: Array("HTTP/1.1 200".utf8)))) { error in
            XCTAssertEqual(error as? RoomProtocolError, .badMagic)
        }
    }

    func testNegotiationPicksTheCommonVersion() throws {
        let ours = Hello(version: 2, minimumVersion: 1, details: .init(software: "a"))
        let peer = Hello(version: 1, minimumVersion: 1, details: .init(software: "b"))
        XCTAssertEqual(try ours.negotiate(with: peer), 1)
    }

    func testUnknownVersionGetsAClearError() {
        let ours = Hello(version: 1, minimumVersion: 1, details: .init(software: "a"))
        let future = Hello(version: 9, minimumVersion: 7, details: .init(software: "b"))
        XCTAssertThrowsError(try ours.negotiate(with: future)) { error in
            XCTAssertEqual(error as? RoomProtocolError, .unsupportedVersion(peer: 9, peerMinimum: 7, ours: 1, oursMinimum: 1))
            XCTAssertEqual((error as? RoomProtocolError)?.code, .unsupportedVersion)
            XCTAssertTrue("\(error)".contains("7...9"))
        }
    }
}
