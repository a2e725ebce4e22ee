import NIOCore
import XCTest
@testable import RTP

final class AACPayloadTests: XCTestCase {
    func testTwoAccessUnitsInOnePacket() throws {
        let packets = try AACPacketizer().packetize(frames: [golden([0x21, 0x10, 0x05]), golden([0x21, 0x20])])
        XCTAssertEqual(packets.count, 1)
        XCTAssertEqual(packets[0].payload.goldenBytes, [
            0x00, 0x20,  // AU-headers-length: 32 bits
            0x00, 0x18,  // AU-size 3, AU-index 0
            0x00, 0x10,  // AU-size 2, AU-index-delta 0
            0x21, 0x10, 0x05, 0x21, 0x20,
        ])
        XCTAssertTrue(packets[0].marker)
        XCTAssertEqual(packets[0].timestampOffset, 0)
        var depacketizer = AACDepacketizer()
        let units = try depacketizer.depacketize(sequenceNumber: 1, timestamp: 0xFFFF_FF00, marker: true, payload: packets[0].payload)
        XCTAssertEqual(units.map(\.data.goldenBytes), [[0x21, 0x10, 0x05], [0x21, 0x20]])
        XCTAssertEqual(units.map(\.timestamp), [0xFFFF_FF00, 0x0000_0300], "the second frame's timestamp wraps")
    }

    func testFragmentedAccessUnit() throws {
        let frame = (0..<14).map { UInt8($0) }
        let packets = try AACPacketizer(maxPayloadSize: 10).packetize(frames: [golden(frame)])
        XCTAssertEqual(packets.map(\.payload.goldenBytes), [
            [0x00, 0x10, 0x00, 0x70, 0, 1, 2, 3, 4, 5],  // one AU-header, AU-size 14 (the whole AU) in each
            [0x00, 0x10, 0x00, 0x70, 6, 7, 8, 9, 10, 11],
            [0x00, 0x10, 0x00, 0x70, 12, 13],
        ])
        XCTAssertEqual(packets.map(\.marker), [false, false, true])
        XCTAssertEqual(packets.map(\.timestampOffset), [0, 0, 0])

        var depacketizer = AACDepacketizer()
        var out: [AACAccessUnit] = []
        for (index, packet) in packets.enumerated() {
            out += try depacketizer.depacketize(
                sequenceNumber: 65535 &+ UInt16(index), timestamp: 4096, marker: packet.marker, payload: packet.payload)
        }
        XCTAssertEqual(out, [AACAccessUnit(timestamp: 4096, data: golden(frame))])

        // The middle fragment lost: nothing comes out, and it is counted.
        var lossy = AACDepacketizer()
        XCTAssertEqual(try lossy.depacketize(sequenceNumber: 1, timestamp: 0, marker: false, payload: packets[0].payload), [])
        XCTAssertEqual(try lossy.depacketize(sequenceNumber: 3, timestamp: 0, marker: true, payload: packets[2].payload), [])
        XCTAssertEqual(lossy.droppedFragmentedFrames, 2, "the first was cut off, the last fragment alone is short")
        // The last fragment lost: the next whole packet drops the partial frame.
        var tail = AACDepacketizer()
        _ = try tail.depacketize(sequenceNumber: 1, timestamp: 0, marker: false, payload: packets[0].payload)
        _ = try tail.depacketize(sequenceNumber: 2, timestamp: 0, marker: false, payload: packets[1].payload)
        let next = try AACPacketizer().packetize(frames: [golden([7])])[0].payload
        XCTAssertEqual(try tail.depacketize(sequenceNumber: 4, timestamp: 1024, marker: true, payload: next).map(\.data.goldenBytes), [[7]])
        XCTAssertEqual(tail.droppedFragmentedFrames, 1)
    }

    func testMixedFramesAndTimestampOffsets() throws {
        let packets = try AACPacketizer(maxPayloadSize: 10).packetize(frames: [golden([1, 2]), golden(Array(repeating: 9, count: 8)), golden([3]), golden([4])])
        XCTAssertEqual(packets.map(\.timestampOffset), [0, 1024, 1024, 2048])
        XCTAssertEqual(packets.map(\.marker), [true, false, true, true])
        XCTAssertEqual(packets[3].payload.goldenBytes, [0x00, 0x20, 0x00, 0x08, 0x00, 0x08, 3, 4])
        // An AU of exactly budget - 4 goes whole.
        XCTAssertEqual(try AACPacketizer(maxPayloadSize: 10).packetize(frames: [golden(Array(repeating: 1, count: 6))]).count, 1)
        XCTAssertThrowsError(try AACPacketizer().packetize(frames: [golden(Array(repeating: 0, count: 8192))])) { error in
            XCTAssertEqual(error as? AACPayloadError, .accessUnitTooLarge(size: 8192, limit: 8191))
        }
    }

    func testMalformedPayloads() {
        var depacketizer = AACDepacketizer()
        func read(_ bytes: [UInt8]) throws -> [AACAccessUnit] {
            try depacketizer.depacketize(sequenceNumber: 0, timestamp: 0, marker: true, payload: golden(bytes))
        }
        XCTAssertThrowsError(try read([0x00])) { XCTAssertEqual($0 as? AACPayloadError, .truncated(needed: 2, have: 1)) }
        XCTAssertThrowsError(try read([0x00, 0x00])) { XCTAssertEqual($0 as? AACPayloadError, .invalidHeadersLength(bits: 0)) }
        XCTAssertThrowsError(try read([0x00, 0x0D, 0, 0])) { XCTAssertEqual($0 as? AACPayloadError, .invalidHeadersLength(bits: 13)) }
        XCTAssertThrowsError(try read([0x00, 0x20, 0x00, 0x08])) { XCTAssertEqual($0 as? AACPayloadError, .truncated(needed: 6, have: 4)) }
        XCTAssertThrowsError(try read([0x00, 0x10, 0x00, 0x09, 0xAA])) { XCTAssertEqual($0 as? AACPayloadError, .interleaved(index: 1)) }
        XCTAssertThrowsError(try read([0x00, 0x20, 0x00, 0x10, 0x00, 0x10, 1, 2, 3])) {
            XCTAssertEqual($0 as? AACPayloadError, .lengthMismatch(declared: 4, have: 3))
        }
        XCTAssertThrowsError(try read([0x00, 0x10, 0x00, 0x08, 1, 2])) {
            XCTAssertEqual($0 as? AACPayloadError, .lengthMismatch(declared: 1, have: 2))
        }
    }

    func testFmtpAndAudioSpecificConfig() {
        // AAC-LC (2), 48 kHz (index 3), stereo: 00010 0011 0010 000 = 0x1190.
        XCTAssertEqual(AACPayload.audioSpecificConfig(sampleRate: 48000, channels: 2), [0x11, 0x90])
        XCTAssertEqual(AACPayload.audioSpecificConfig(sampleRate: 44100, channels: 1), [0x12, 0x08])
        XCTAssertNil(AACPayload.audioSpecificConfig(sampleRate: 47999, channels: 2))
        XCTAssertNil(AACPayload.audioSpecificConfig(sampleRate: 48000, channels: 0))
        XCTAssertEqual(
            AACPayload.fmtp(audioSpecificConfig: [0x11, 0x90]),
            "streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190")
        XCTAssertTrue(AACPayload.fmtp(audioSpecificConfig: [0xAB, 0x0F]).hasSuffix("config=AB0F"))
    }
}
