import NIOCore
import NIOTestUtils
import XCTest

@testable import RoomProtocol

final class FrameDecoderTests: XCTestCase {
    private func frame(_ type: UInt8, _ payload: [UInt8]) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(UInt32(payload.count + 1))
        b.writeInteger(type)
        b.writeBytes(payload)
        return b
    }

    private func expected(_ type: UInt8, _ payload: [UInt8]) -> RawFrame {
        let wire = frame(type, payload)
        return RawFrame(typeByte: type, payload: ByteBuffer(bytes: payload), wire: wire)
    }

    func testEverySplitOfTheInputDecodesTheSameFrames() throws {
        let inputs: [(ByteBuffer, [RawFrame])] = [
            (frame(1, Array("RTCBhello".utf8)), [expected(1, Array("RTCBhello".utf8))]),
            (frame(2, Array("{\"type\":\"ping\"}".utf8)), [expected(2, Array("{\"type\":\"ping\"}".utf8))]),
            (frame(3, Array(repeating: 0xAB, count: 300)), [expected(3, Array(repeating: 0xAB, count: 300))]),
            (frame(3, []), [expected(3, [])]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: inputs) {
            RoomFrameDecoder(maximumFrameLength: 1024)
        }
    }

    func testLengthAboveTheMaximumIsRefusedBeforeTheBodyArrives() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(5000))  // only the length: no body bytes at all
        XCTAssertThrowsError(try RoomFrameDecoder.nextFrame(from: &buffer, maximumFrameLength: 4096)) { error in
            XCTAssertEqual(error as? RoomProtocolError, .frameTooLarge(length: 5000, maximum: 4096))
        }
    }

    func testHugeLengthDoesNotAllocate() {
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x03])
        XCTAssertThrowsError(try RoomFrameDecoder.nextFrame(from: &buffer, maximumFrameLength: RoomProtocolConstants.defaultMaximumFrameLength))
    }

    func testZeroLengthIsAnError() {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 0])
        XCTAssertThrowsError(try RoomFrameDecoder.nextFrame(from: &buffer, maximumFrameLength: 1024)) { error in
            XCTAssertEqual(error as? RoomProtocolError, .emptyFrame)
        }
    }

    func testPartialInputAsksForMore() throws {
        var buffer = frame(2, [1, 2, 3])
        var partial = buffer.readSlice(length: 6)!
        XCTAssertNil(try RoomFrameDecoder.nextFrame(from: &partial, maximumFrameLength: 1024))
        XCTAssertEqual(partial.readableBytes, 6, "nothing is consumed from a partial frame")
    }

    func testWireSliceIsTheWholeFrameForForwarding() throws {
        var buffer = frame(3, [9, 8, 7])
        buffer.writeBytes([0, 0])  // start of the next frame
        let f = try XCTUnwrap(RoomFrameDecoder.nextFrame(from: &buffer, maximumFrameLength: 1024))
        XCTAssertEqual(Array(f.wire.readableBytesView), [0, 0, 0, 4, 3, 9, 8, 7])
        XCTAssertEqual(Array(f.payload.readableBytesView), [9, 8, 7])
        XCTAssertEqual(buffer.readableBytes, 2)
    }

    func testWriteFrameFillsInTheLength() {
        var b = ByteBuffer()
        b.writeFrame(.control) { $0.writeString("{}") }
        XCTAssertEqual(Array(b.readableBytesView), [0, 0, 0, 3, 2, 0x7B, 0x7D])
    }
}
