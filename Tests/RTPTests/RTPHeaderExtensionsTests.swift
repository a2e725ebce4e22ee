import NIOCore
import XCTest
@testable import RTP

final class RTPHeaderExtensionsTests: XCTestCase {
    func testOneByteFormWithPadding() throws {
        // id 1 L=0 (1 byte AA), a padding byte, id 2 L=1 (BB CC), two padding bytes to 8.
        let data: [UInt8] = [0x10, 0xAA, 0x00, 0x21, 0xBB, 0xCC, 0x00, 0x00]
        let elements = try RTPHeaderExtensions.parse(RTPHeaderExtension(profile: 0xBEDE, data: golden(data)))
        XCTAssertEqual(elements, [.init(id: 1, bytes: [0xAA]), .init(id: 2, bytes: [0xBB, 0xCC])])
        let made = RTPHeaderExtensions.make(elements ?? [])
        XCTAssertEqual(made?.profile, 0xBEDE)
        XCTAssertEqual(made?.data.goldenBytes, [0x10, 0xAA, 0x21, 0xBB, 0xCC, 0x00, 0x00, 0x00])
    }

    func testOneByteId15StopsParsing() throws {
        let data: [UInt8] = [0x10, 0xAA, 0xF3, 0x11, 0x22, 0x33]
        let elements = try RTPHeaderExtensions.parse(RTPHeaderExtension(profile: 0xBEDE, data: golden(data)))
        XCTAssertEqual(elements, [.init(id: 1, bytes: [0xAA])])
        // Id 0 with L=3 is not padding: the parse ends there too (found by FuzzRTP).
        let idZero: [UInt8] = [0x10, 0xAA, 0x03, 0x11, 0x22, 0x33]
        XCTAssertEqual(
            try RTPHeaderExtensions.parse(RTPHeaderExtension(profile: 0xBEDE, data: golden(idZero))), [.init(id: 1, bytes: [0xAA])])
    }

    func testTwoByteForm() throws {
        // id 1 length 0, id 2 length 3 (AA BB CC), one padding byte.
        let data: [UInt8] = [0x01, 0x00, 0x02, 0x03, 0xAA, 0xBB, 0xCC, 0x00]
        let elements = try RTPHeaderExtensions.parse(RTPHeaderExtension(profile: 0x1000, data: golden(data)))
        XCTAssertEqual(elements, [.init(id: 1, bytes: []), .init(id: 2, bytes: [0xAA, 0xBB, 0xCC])])
        // appbits are ignored on parse
        XCTAssertEqual(
            try RTPHeaderExtensions.parse(RTPHeaderExtension(profile: 0x100F, data: golden(data))), elements)
        let made = RTPHeaderExtensions.make(elements ?? [])
        XCTAssertEqual(made?.profile, 0x1000)
        XCTAssertEqual(made?.data.goldenBytes, data)
    }

    func testOtherProfileIsNotRFC8285() throws {
        XCTAssertNil(try RTPHeaderExtensions.parse(RTPHeaderExtension(profile: 0xABAC, data: golden([1, 2, 3, 4]))))
    }

    func testElementOverrunThrows() {
        XCTAssertThrowsError(
            try RTPHeaderExtensions.parse(RTPHeaderExtension(profile: 0xBEDE, data: golden([0x13, 0xAA, 0xBB, 0xCC])))
        ) { error in
            XCTAssertEqual(error as? RTPParseError, .invalidExtensionElement(id: 1, length: 4, available: 3))
        }
        XCTAssertThrowsError(
            try RTPHeaderExtensions.parse(RTPHeaderExtension(profile: 0x1000, data: golden([0x00, 0x00, 0x00, 0x05])))
        ) { error in
            XCTAssertEqual(error as? RTPParseError, .invalidExtensionElement(id: 5, length: 0, available: 0))
        }
    }

    func testFormChoice() {
        let sixteen = [UInt8](repeating: 7, count: 16)
        XCTAssertEqual(RTPHeaderExtensions.make([.init(id: 14, bytes: sixteen)])?.profile, 0xBEDE)
        XCTAssertEqual(RTPHeaderExtensions.make([.init(id: 15, bytes: [1])])?.profile, 0x1000)
        XCTAssertEqual(RTPHeaderExtensions.make([.init(id: 1, bytes: sixteen + [7])])?.profile, 0x1000)
        XCTAssertEqual(RTPHeaderExtensions.make([.init(id: 1, bytes: [1]), .init(id: 2, bytes: [])])?.profile, 0x1000)
        XCTAssertNil(RTPHeaderExtensions.make([]))
        XCTAssertNil(RTPHeaderExtensions.make([.init(id: 0, bytes: [1])]))
        XCTAssertNil(RTPHeaderExtensions.make([.init(id: 1, bytes: [UInt8](repeating: 0, count: 256))]))
    }

    func testAbsCaptureTime() throws {
        // 2023-11-14T22:13:20.25Z: NTP seconds 1_700_000_000 + 2_208_988_800 = 0xE8FE6F80, fraction 0.25 = 0x40000000.
        let short = AbsCaptureTime(wallClockMicros: 1_700_000_000_250_000)
        XCTAssertEqual(short.data.goldenBytes, [0xE8, 0xFE, 0x6F, 0x80, 0x40, 0x00, 0x00, 0x00])
        XCTAssertEqual(try AbsCaptureTime.parse(short.data), short)
        XCTAssertEqual(short.wallClockMicros, 1_700_000_000_250_000)
        XCTAssertNil(short.estimatedCaptureClockOffsetMicros)

        // Offset -1.5 s in Q32.32: 0xFFFFFFFE_80000000.
        let long = AbsCaptureTime(wallClockMicros: 1_700_000_000_250_000, estimatedCaptureClockOffsetMicros: -1_500_000)
        XCTAssertEqual(
            long.data.goldenBytes,
            [0xE8, 0xFE, 0x6F, 0x80, 0x40, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFE, 0x80, 0x00, 0x00, 0x00])
        let parsed = try AbsCaptureTime.parse(long.data)
        XCTAssertEqual(parsed.estimatedCaptureClockOffsetMicros, -1_500_000)
        XCTAssertEqual(parsed.wallClockMicros, 1_700_000_000_250_000)

        XCTAssertThrowsError(try AbsCaptureTime.parse(golden([1, 2, 3, 4, 5, 6, 7]))) { error in
            XCTAssertEqual(error as? RTPParseError, .invalidExtensionLength(uri: RTPHeaderExtensionURI.absCaptureTime, length: 7))
        }
    }

    /// playout-delay: 12 bits of minimum, 12 of maximum, 10 ms units (golden bytes both ways).
    func testPlayoutDelay() throws {
        XCTAssertEqual(Array(PlayoutDelayExtension(minimumMs: 0, maximumMs: 0).data.readableBytesView), [0x00, 0x00, 0x00])
        let d = PlayoutDelayExtension(minimumMs: 100, maximumMs: 400)
        XCTAssertEqual(Array(d.data.readableBytesView), [0x00, 0xA0, 0x28])
        XCTAssertEqual(try PlayoutDelayExtension.parse(ByteBuffer(bytes: [0x00, 0xA0, 0x28])), d)
        XCTAssertEqual(try PlayoutDelayExtension.parse(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF])), PlayoutDelayExtension(minimumMs: 40950, maximumMs: 40950))
        XCTAssertEqual(PlayoutDelayExtension(minimumMs: 500, maximumMs: 100), PlayoutDelayExtension(minimumMs: 500, maximumMs: 500),
                       "the maximum is never below the minimum")
        XCTAssertThrowsError(try PlayoutDelayExtension.parse(ByteBuffer(bytes: [0x00, 0x01])))
    }

    func testAbsCaptureTimeMicrosecondRoundTrip() {
        for micros: Int64 in [0, 1, 999_999, 1_700_000_000_123_457, 2_085_978_496_000_001 /* after 2036 */] {
            XCTAssertEqual(AbsCaptureTime(wallClockMicros: micros).wallClockMicros, micros)
        }
        for offset: Int64 in [0, 1, -1, 123_456_789, -987_654_321] {
            XCTAssertEqual(
                AbsCaptureTime(wallClockMicros: 0, estimatedCaptureClockOffsetMicros: offset)
                    .estimatedCaptureClockOffsetMicros, offset)
        }
    }

    func testTransportWideSequenceNumberAndMid() throws {
        XCTAssertEqual(TransportWideSequenceNumber(0xABCD).data.goldenBytes, [0xAB, 0xCD])
        XCTAssertEqual(try TransportWideSequenceNumber.parse(golden([0x00, 0x01])), TransportWideSequenceNumber(1))
        XCTAssertThrowsError(try TransportWideSequenceNumber.parse(golden([1])))
        XCTAssertEqual(RTPMid("0").data.goldenBytes, [0x30])
        XCTAssertEqual(try RTPMid.parse(golden([0x61, 0x75, 0x64, 0x69, 0x6F])), RTPMid("audio"))
        XCTAssertThrowsError(try RTPMid.parse(golden([])))
    }

    func testPacketWithTypedExtensions() throws {
        // One-byte form: id 3 TWCC (L=1: 00 2A), id 4 mid "v" (L=0), id 5 abs-capture-time (L=7), pad to 16.
        var packet = RTPPacket(payloadType: 102, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: golden([0x65]))
        packet.setHeaderExtensionElements([
            .init(id: 3, data: TransportWideSequenceNumber(42).data),
            .init(id: 4, data: RTPMid("v").data),
            .init(id: 5, data: AbsCaptureTime(captureTimestamp: NTPTimestamp(rawValue: 0x0102_0304_0506_0708)).data),
        ])
        XCTAssertEqual(packet.headerExtension?.data.goldenBytes, [
            0x31, 0x00, 0x2A,
            0x40, 0x76,
            0x57, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
            0x00, 0x00,
        ])
        let parsed = try RTPPacket.parse(packet.serialized())
        XCTAssertEqual(parsed, packet)
        XCTAssertEqual(try parsed.headerExtensionElement(id: 3).map(TransportWideSequenceNumber.parse), TransportWideSequenceNumber(42))
        XCTAssertEqual(try parsed.headerExtensionElement(id: 4).map(RTPMid.parse), RTPMid("v"))
        XCTAssertEqual(
            try parsed.headerExtensionElement(id: 5).map(AbsCaptureTime.parse)?.captureTimestamp.rawValue,
            0x0102_0304_0506_0708)
        XCTAssertNil(try parsed.headerExtensionElement(id: 6))
    }
}
