import NIOCore
import XCTest

@testable import RTP

final class TransportFeedbackTests: XCTestCase {
    // MARK: pion/rtcp vectors (transport_layer_cc_test.go, TestTransportLayerCC_Unmarshal)

    /// pion "example1": one packet, run length chunk, one small delta, 1 byte of padding.
    static let pionExample1: [UInt8] = [
        0xaf, 0xcd, 0x00, 0x05,  // V=2 P=1 FMT=15, PT=205, length 5 (24 bytes)
        0xfa, 0x17, 0xfa, 0x17,  // sender SSRC
        0x43, 0x03, 0x2f, 0xa0,  // media SSRC
        0x00, 0x99, 0x00, 0x01,  // base 153, status count 1
        0x3d, 0xe8, 0x02, 0x17,  // reference time 4057090, fb pkt count 23
        0x20, 0x01,  // run length: 0 | 01 (small delta) | run 1
        0x94,  // delta 148 ticks = 37 ms
        0x01,  // padding count 1
    ]

    /// pion "example4": a run of 7 small deltas, 3 bytes of padding.
    static let pionExample4: [UInt8] = [
        0xaf, 0xcd, 0x00, 0x07, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb,
        0x00, 0x04, 0x00, 0x07,  // base 4, count 7
        0x10, 0x63, 0x6e, 0x01,  // reference 1074030, fb count 1
        0x20, 0x07,  // run length: small delta × 7
        0x4c, 0x24, 0x24, 0x10, 0x0c, 0x0c, 0x10,  // 19, 9, 9, 4, 3, 3, 4 ms
        0x00, 0x00, 0x03,  // padding
    ]

    /// pion "example6": a 2-bit vector with a large delta, then a run length chunk of 48 "not received"
    /// of which only 2 are within the status count of 9.
    static let pionExample6: [UInt8] = [
        0xaf, 0xcd, 0x00, 0x07, 0x9b, 0x74, 0xf6, 0x1f, 0x93, 0x71, 0xdc, 0xbc,
        0x85, 0x3c, 0x00, 0x09,  // base 34108, count 9
        0x63, 0xf9, 0x16, 0xb3,  // reference 6551830, fb count 179
        0xd5, 0x52,  // 1 1 | 01 01 01 01 01 00 10
        0x00, 0x30,  // run length: not received × 48
        0x9b, 0xaa, 0x6a, 0xaa, 0x7b,  // small deltas
        0x01, 0x09,  // large delta 265 ticks
        0x01,  // padding
    ]

    /// pion "example7": no packets at all (status count 0, no chunk).
    static let pionExample7: [UInt8] = [
        0x8f, 0xcd, 0x00, 0x04, 0x9a, 0xcb, 0x04, 0x42, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]

    func testPionExample1BothWays() throws {
        let feedback = try TransportFeedback.parse(golden(Self.pionExample1))
        XCTAssertEqual(
            feedback,
            TransportFeedback(
                senderSSRC: 4_195_875_351, mediaSSRC: 1_124_282_272, baseSequenceNumber: 153, referenceTime: 4_057_090,
                feedbackPacketCount: 23, packets: [.received(delta: 148)]))
        XCTAssertEqual(feedback.arrivals, [.init(sequenceNumber: 153, arrivalTime: 4_057_090 * 64_000 + 37_000)])
        XCTAssertEqual(feedback.serialized().goldenBytes, Self.pionExample1)
    }

    func testPionExample4BothWays() throws {
        let feedback = try TransportFeedback.parse(golden(Self.pionExample4))
        XCTAssertEqual(feedback.baseSequenceNumber, 4)
        XCTAssertEqual(feedback.referenceTime, 1_074_030)
        XCTAssertEqual(feedback.feedbackPacketCount, 1)
        XCTAssertEqual(feedback.packets, [76, 36, 36, 16, 12, 12, 16].map { .received(delta: $0) })
        XCTAssertEqual(feedback.serialized().goldenBytes, Self.pionExample4)
    }

    func testPionExample6StatusCountEndsInsideARun() throws {
        let feedback = try TransportFeedback.parse(golden(Self.pionExample6))
        XCTAssertEqual(feedback.baseSequenceNumber, 34108)
        XCTAssertEqual(feedback.feedbackPacketCount, 179)
        XCTAssertEqual(
            feedback.packets,
            [.received(delta: 155), .received(delta: 170), .received(delta: 106), .received(delta: 170),
             .received(delta: 123), .notReceived, .received(delta: 265), .notReceived, .notReceived])
        // Written with a run of exactly 2 (the count tells where to stop either way).
        var expected = Self.pionExample6
        expected[22...23] = [0x00, 0x02]
        XCTAssertEqual(feedback.serialized().goldenBytes, expected)
        XCTAssertEqual(try TransportFeedback.parse(golden(expected)), feedback)
    }

    func testPionExample7EmptyFeedback() throws {
        let feedback = try TransportFeedback.parse(golden(Self.pionExample7))
        XCTAssertEqual(feedback.senderSSRC, 2_596_996_162)
        XCTAssertEqual(feedback.packets, [])
        XCTAssertEqual(feedback.serialized().goldenBytes, Self.pionExample7)
    }

    /// pion's "example3" and "example5" set the P bit with a count that does not match (pion ignores
    /// the padding count); libwebrtc's common header parse rejects the first and runs out of deltas in
    /// the second, and so does this parser.
    func testPionVectorsWithInconsistentPaddingAreRejected() {
        let example3: [UInt8] = [
            0xaf, 0xcd, 0x00, 0x07, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb, 0x01, 0x74, 0x00, 0x06,
            0x45, 0xb1, 0x5a, 0x40, 0x40, 0x02, 0x20, 0x04, 0x1f, 0xfe, 0x1f, 0x9a, 0xd0, 0x00, 0xd0, 0x00,
        ]
        XCTAssertThrowsError(try TransportFeedback.parse(golden(example3))) { error in
            XCTAssertEqual(error as? TransportFeedbackParseError, .invalidPadding(count: 0, available: 28))
        }
        let example5: [UInt8] = [
            0xaf, 0xcd, 0x00, 0x06, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb, 0x00, 0x01, 0x00, 0x0e,
            0x10, 0x63, 0x6d, 0x00, 0xba, 0x00, 0x10, 0x0c, 0x0c, 0x10, 0x00, 0x03,
        ]
        XCTAssertThrowsError(try TransportFeedback.parse(golden(example5))) { error in
            XCTAssertEqual(error as? TransportFeedbackParseError, .truncated(needed: 26, have: 25))
        }
    }

    // MARK: Hand-built packets

    /// A 1-bit status vector, and a base sequence number that wraps: 65534 ... 5.
    static let oneBitVectorWrapping: [UInt8] = [
        0xaf, 0xcd, 0x00, 0x06,  // P=1, length 6 (28 bytes)
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // sender 1, media 2
        0xff, 0xfe, 0x00, 0x08,  // base 65534, count 8
        0x00, 0x00, 0x10, 0x05,  // reference 16 (1.024 s), fb count 5
        // 1 0 | 1 0 1 1 0 0 1 1 0 0 0 0 0 0: 65534 rcv, 65535 lost, 0 rcv, 1 rcv, 2-3 lost, 4-5 rcv
        0xac, 0xc0,
        0x04, 0x08, 0x00, 0xff, 0x01,  // 1 ms, 2 ms, 0, 63.75 ms, 0.25 ms
        0x01,  // padding
    ]

    func testOneBitVectorAndBaseWrap() throws {
        let feedback = TransportFeedback(
            senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 65534, referenceTime: 16, feedbackPacketCount: 5,
            packets: [.received(delta: 4), .notReceived, .received(delta: 8), .received(delta: 0), .notReceived,
                      .notReceived, .received(delta: 255), .received(delta: 1)])
        XCTAssertEqual(feedback.serialized().goldenBytes, Self.oneBitVectorWrapping)
        XCTAssertEqual(try TransportFeedback.parse(golden(Self.oneBitVectorWrapping)), feedback)
        XCTAssertEqual(feedback.arrivals, [
            .init(sequenceNumber: 65534, arrivalTime: 1_025_000), .init(sequenceNumber: 65535, arrivalTime: nil),
            .init(sequenceNumber: 0, arrivalTime: 1_027_000), .init(sequenceNumber: 1, arrivalTime: 1_027_000),
            .init(sequenceNumber: 2, arrivalTime: nil), .init(sequenceNumber: 3, arrivalTime: nil),
            .init(sequenceNumber: 4, arrivalTime: 1_090_750), .init(sequenceNumber: 5, arrivalTime: 1_091_000),
        ])
    }

    /// A 2-bit vector: a reordered packet (negative delta) and a large positive delta; no padding.
    static let twoBitVectorNegativeDelta: [UInt8] = [
        0x8f, 0xcd, 0x00, 0x06,  // P=0, length 6 (28 bytes)
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
        0x00, 0x64, 0x00, 0x05,  // base 100, count 5
        0xab, 0xcd, 0xef, 0xff,  // reference 0xabcdef, fb count 255
        0xd8, 0x90,  // 1 1 | 01 10 00 10 01 00 00: small, large, lost, large, small
        0x0a,  // +2.5 ms
        0xff, 0xf8,  // -2 ms: arrived before packet 100
        0x01, 0x2c,  // +75 ms
        0x05,  // +1.25 ms
    ]

    func testTwoBitVectorWithNegativeDelta() throws {
        let feedback = TransportFeedback(
            senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 100, referenceTime: 0xABCDEF, feedbackPacketCount: 255,
            packets: [.received(delta: 10), .received(delta: -8), .notReceived, .received(delta: 300), .received(delta: 5)])
        XCTAssertEqual(feedback.serialized().goldenBytes, Self.twoBitVectorNegativeDelta)
        XCTAssertEqual(try TransportFeedback.parse(golden(Self.twoBitVectorNegativeDelta)), feedback)
        let base = Int64(0xABCDEF) * 64_000
        XCTAssertEqual(feedback.arrivals.map(\.arrivalTime), [base + 2500, base + 500, nil, base + 75_500, base + 76_750])
    }

    /// Run length chunks: 20 small deltas then 3 lost.
    static let runLength: [UInt8] = [
        0x8f, 0xcd, 0x00, 0x0a,  // length 10 (44 bytes)
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
        0x03, 0xe8, 0x00, 0x17,  // base 1000, count 23
        0x00, 0x00, 0x00, 0x00,
        0x20, 0x14,  // 0 | 01 | 20
        0x00, 0x03,  // 0 | 00 | 3
    ] + [UInt8](repeating: 0x04, count: 20)

    func testRunLengthChunks() throws {
        let feedback = TransportFeedback(
            senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 1000, referenceTime: 0, feedbackPacketCount: 0,
            packets: Array(repeating: .received(delta: 4), count: 20) + Array(repeating: .notReceived, count: 3))
        XCTAssertEqual(feedback.serialized().goldenBytes, Self.runLength)
        XCTAssertEqual(try TransportFeedback.parse(golden(Self.runLength)), feedback)
    }

    func testChunkChoice() {
        typealias F = TransportFeedback
        // Seven large deltas and one small: a run of large deltas, then a run of one.
        XCTAssertEqual(F.chunks(for: [2, 2, 2, 2, 2, 2, 2, 1]), [0x4007, 0x2001])
        // Short mixed runs without large deltas: one 1-bit vector for 14.
        XCTAssertEqual(F.chunks(for: [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1]), [0xB333, 0x2001])
        // A large delta among them: 2-bit vectors of 7.
        XCTAssertEqual(F.chunks(for: [1, 0, 1, 0, 1, 0, 1, 0, 2]), [0xD111, 0xC800])
        // A run reaching the end is one run length chunk even when short.
        XCTAssertEqual(F.chunks(for: [0, 0, 0]), [0x0003])
        // A run longer than 8191 is split.
        XCTAssertEqual(F.chunks(for: Array(repeating: 1, count: 8200)), [0x3FFF, 0x2009])
    }

    /// libwebrtc's TransportFeedbackCorrectlySplitsVectorChunks: n small deltas followed by a large one.
    func testSmallDeltasThenALargeOneRoundTrip() throws {
        for count in 0...15 {
            let packets = Array(repeating: TransportFeedback.PacketStatus.received(delta: 4), count: count) + [.received(delta: 256)]
            let feedback = TransportFeedback(
                senderSSRC: 9, mediaSSRC: 0, baseSequenceNumber: 0, referenceTime: 0, feedbackPacketCount: 0, packets: packets)
            XCTAssertEqual(try TransportFeedback.parse(feedback.serialized()), feedback, "\(count)")
        }
    }

    // MARK: Padding (libwebrtc's TransportFeedbackPadding / PaddingBackwardsCompatibility)

    func testExtraPaddingWithThePBit() throws {
        // 23 bytes + 1 of padding, then 4 more: the count becomes 5, the length 7.
        var bytes = Self.pionExample1
        bytes[3] = 0x06
        bytes[23] = 0x00
        bytes += [0x00, 0x00, 0x00, 0x05]
        XCTAssertEqual(try TransportFeedback.parse(golden(bytes)), try TransportFeedback.parse(golden(Self.pionExample1)))
    }

    func testZeroPaddingWithoutThePBit() throws {
        // Old senders padded with zeros and no P bit: the trailing byte is ignored.
        var bytes = Self.pionExample1
        bytes[0] = 0x8f
        bytes[23] = 0x00
        XCTAssertEqual(try TransportFeedback.parse(golden(bytes)), try TransportFeedback.parse(golden(Self.pionExample1)))
    }

    func testPaddingLongerThanThePacket() {
        var bytes = Self.pionExample1
        bytes[23] = 25
        XCTAssertThrowsError(try TransportFeedback.parse(golden(bytes))) { error in
            XCTAssertEqual(error as? TransportFeedbackParseError, .invalidPadding(count: 25, available: 20))
        }
    }

    // MARK: Hostile input

    func testTruncationAnywhereThrows() {
        for bytes in [Self.pionExample1, Self.pionExample6, Self.oneBitVectorWrapping, Self.twoBitVectorNegativeDelta, Self.runLength] {
            for length in 0..<bytes.count {
                XCTAssertThrowsError(try TransportFeedback.parse(golden(Array(bytes.prefix(length)))), "\(length)")
            }
        }
    }

    func testStatusCountBeyondTheChunks() {
        var bytes = Self.pionExample1
        bytes[15] = 0x03  // count 3, but the one chunk covers 1 and the next "chunk" is the delta byte + padding
        XCTAssertThrowsError(try TransportFeedback.parse(golden(bytes))) { error in
            XCTAssertEqual(error as? TransportFeedbackParseError, .truncated(needed: 24, have: 23))
        }
    }

    func testReservedSymbol() {
        var bytes = Self.pionExample1
        bytes[20] = 0x60  // run length with symbol 3
        XCTAssertThrowsError(try TransportFeedback.parse(golden(bytes))) { error in
            XCTAssertEqual(error as? TransportFeedbackParseError, .reservedStatusSymbol(index: 0))
        }
    }

    func testOtherPacketTypes() {
        var bytes = Self.pionExample1
        bytes[0] = 0xa1  // FMT 1 (NACK)
        XCTAssertThrowsError(try TransportFeedback.parse(golden(bytes))) { error in
            XCTAssertEqual(error as? TransportFeedbackParseError, .notTransportFeedback(packetType: 205, format: 1))
        }
        bytes[0] = 0x6f
        XCTAssertThrowsError(try TransportFeedback.parse(golden(bytes))) { error in
            XCTAssertEqual(error as? TransportFeedbackParseError, .unsupportedVersion(1))
        }
    }

    func testThroughRTCPPacket() throws {
        let compound = try RTCPPacket.parseCompound(golden(Self.pionExample4 + Self.twoBitVectorNegativeDelta))
        var feedbacks: [TransportFeedback] = []
        for packet in compound {
            if let feedback = try TransportFeedback.parse(packet) { feedbacks.append(feedback) }
        }
        XCTAssertEqual(feedbacks.count, 2)
        XCTAssertEqual(feedbacks[1].baseSequenceNumber, 100)
        XCTAssertEqual(RTCPPacket.compound(feedbacks.map(\.rtcpPacket)).goldenBytes, Self.pionExample4 + Self.twoBitVectorNegativeDelta)
    }

    func testRandomRoundTrips() throws {
        var rng = SplitMix64(seed: 19)
        for _ in 0..<300 {
            let count = Int(rng.next() % 300)
            var packets: [TransportFeedback.PacketStatus] = []
            for _ in 0..<count {
                switch rng.next() % 6 {
                case 0, 1: packets.append(.notReceived)
                case 2: packets.append(.received(delta: Int16(truncatingIfNeeded: rng.next())))
                default: packets.append(.received(delta: Int16(rng.next() % 256)))
                }
            }
            let feedback = TransportFeedback(
                senderSSRC: UInt32(truncatingIfNeeded: rng.next()), mediaSSRC: 7,
                baseSequenceNumber: UInt16(truncatingIfNeeded: rng.next()), referenceTime: UInt32(truncatingIfNeeded: rng.next()),
                feedbackPacketCount: UInt8(truncatingIfNeeded: rng.next()), packets: packets)
            let bytes = feedback.serialized()
            XCTAssertEqual(bytes.readableBytes % 4, 0)
            XCTAssertEqual(try TransportFeedback.parse(bytes), feedback)
        }
    }
}

/// A small deterministic generator for tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
