import Foundation
import NIOCore
import XCTest

@testable import RTP

/// RFC 2198 redundant audio: the payload format, the sender's encoder and the receiver's split.
final class REDPayloadTests: XCTestCase {
    /// RFC 2198 section 3's example: a DVI4 (PT 5) primary and one redundant LPC (PT 7) block, both 20 ms at
    /// 8 kHz, so the redundant block is 160 ticks old: 14 bytes of LPC, 84 of DVI4 (made up here).
    static let lpc: [UInt8] = (0..<14).map { UInt8(0xA0 + $0) }
    static let dvi4: [UInt8] = (0..<84).map { UInt8(truncatingIfNeeded: $0 * 3) }
    /// F=1 PT=7 | offset 160 (14 bits) | length 14 (10 bits) = 0x87 0x02 0x80 0x0E, then F=0 PT=5, the data.
    static let example: [UInt8] = [0x87, 0x02, 0x80, 0x0E, 0x05] + lpc + dvi4
    /// The same in an RTP packet: V=2 | M=0 PT=121 (RFC 2198 section 5's `a=rtpmap:121 red/8000/1`) | seq 0x1234 |
    /// ts 0x00010000 | SSRC 0x0A0B0C0D. Also fuzz/corpus/FuzzRTP/red-rfc2198.bin.
    static let examplePacket: [UInt8] = [0x80, 0x79, 0x12, 0x34, 0x00, 0x01, 0x00, 0x00, 0x0A, 0x0B, 0x0C, 0x0D] + example

    // MARK: Payload format

    func testRFC2198ExampleGolden() throws {
        let blocks = [REDBlock(payloadType: 7, timestampOffset: 160, payload: golden(Self.lpc)),
                      REDBlock(payloadType: 5, payload: golden(Self.dvi4))]
        XCTAssertEqual(try REDPayload.serialize(blocks).goldenBytes, Self.example)
        XCTAssertEqual(try REDPayload.parse(golden(Self.example)), blocks)

        let packet = RTPPacket(payloadType: 121, sequenceNumber: 0x1234, timestamp: 0x1_0000, ssrc: 0x0A0B_0C0D,
                               payload: try REDPayload.serialize(blocks))
        XCTAssertEqual(packet.serialized().goldenBytes, Self.examplePacket)
        XCTAssertEqual(try REDPayload.parse(RTPPacket.parse(golden(Self.examplePacket)).payload), blocks)
    }

    func testTheFuzzSeedIsTheExample() throws {
        let seed = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fuzz/corpus/FuzzRTP/red-rfc2198.bin")
        XCTAssertEqual(Array(try Data(contentsOf: seed)), Self.examplePacket)
    }

    func testPrimaryOnlyAndEmptyPrimary() throws {
        XCTAssertEqual(try REDPayload.parse(golden([0x6F, 1, 2, 3])), [REDBlock(payloadType: 111, payload: golden([1, 2, 3]))])
        XCTAssertEqual(try REDPayload.parse(golden([0x6F])), [REDBlock(payloadType: 111, payload: golden([]))])
        XCTAssertEqual(try REDPayload.serialize([REDBlock(payloadType: 111, payload: golden([1, 2, 3]))]).goldenBytes, [0x6F, 1, 2, 3])
    }

    func testTruncatedAndMalformedInputsAreRefused() {
        func error(_ bytes: [UInt8]) -> REDPayloadError? {
            do {
                _ = try REDPayload.parse(golden(bytes))
                return nil
            } catch {
                return error
            }
        }
        XCTAssertEqual(error([]), .missingPrimary)
        XCTAssertEqual(error([0x87]), .headerPastEnd(offset: 0, payloadBytes: 1))
        XCTAssertEqual(error([0x87, 0x02, 0x80]), .headerPastEnd(offset: 0, payloadBytes: 3))
        // Headers that all say another block follows, and nothing after them.
        XCTAssertEqual(error([0x87, 0x02, 0x80, 0x0E]), .missingPrimary)
        XCTAssertEqual(error([0x87, 0x02, 0x80, 0x0E, 0x87, 0x02]), .headerPastEnd(offset: 4, payloadBytes: 6))
        // Every prefix of the example: the headers cut, then the redundant block's 14 bytes, then a short primary.
        for count in 0..<Self.example.count {
            let prefix = Array(Self.example.prefix(count))
            switch count {
            case 0, 4: XCTAssertEqual(error(prefix), .missingPrimary, "\(count)")
            case 1...3: XCTAssertEqual(error(prefix), .headerPastEnd(offset: 0, payloadBytes: count), "\(count)")
            case 5..<19: XCTAssertEqual(error(prefix), .blockPastEnd(block: 0, length: 14, available: count - 5), "\(count)")
            default: XCTAssertNil(error(prefix), "\(count): the primary is what is left")
            }
        }
        // A second redundant block whose length runs past the end (the first fits).
        XCTAssertEqual(error([0xEF, 0x0F, 0x00, 0x01, 0xEF, 0x0F, 0x00, 0x05, 0x6F, 0xAA, 0xBB]),
                       .blockPastEnd(block: 1, length: 5, available: 1))
    }

    /// FuzzRTP's invariant over mutations of the example: what parses writes back to the same bytes.
    func testWhatParsesWritesBackTheSameBytes() throws {
        var rng = SplitMix64(seed: 2198)
        var parsed = 0
        for _ in 0..<5000 {
            var bytes = Self.example
            for _ in 0..<Int(rng.next() % 4) {
                let i = Int(rng.next() % UInt64(bytes.count))
                bytes[i] ^= UInt8(truncatingIfNeeded: rng.next())
            }
            bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
            guard let blocks = try? REDPayload.parse(golden(bytes)) else { continue }
            parsed += 1
            XCTAssertEqual(try REDPayload.serialize(blocks).goldenBytes, bytes)
            let packet = RTPPacket(payloadType: 63, sequenceNumber: 0, timestamp: 0, ssrc: 1, payload: golden(bytes))
            let split = try REDPayload.split(packet, primaryPayloadType: blocks.last?.payloadType ?? 0)
            XCTAssertNotNil(split.primary)
            XCTAssertLessThan(split.redundant.count, blocks.count)
        }
        XCTAssertGreaterThan(parsed, 100)
    }

    func testSerializeRefusesWhatDoesNotFitTheFields() throws {
        let primary = REDBlock(payloadType: 111, payload: golden([1]))
        func error(_ blocks: [REDBlock]) -> REDPayloadError? {
            do {
                _ = try REDPayload.serialize(blocks)
                return nil
            } catch {
                return error
            }
        }
        let longest = REDBlock(payloadType: 111, timestampOffset: 16383, payload: ByteBuffer(repeating: 7, count: 1023))
        let made = try REDPayload.serialize([longest, primary])
        XCTAssertEqual(made.getBytes(at: made.readerIndex, length: 5), [0xEF, 0xFF, 0xFF, 0xFF, 0x6F])
        XCTAssertEqual(try REDPayload.parse(made), [longest, primary])
        XCTAssertEqual(error([REDBlock(payloadType: 111, payload: ByteBuffer(repeating: 7, count: 1024)), primary]),
                       .blockTooLong(block: 0, length: 1024))
        XCTAssertEqual(error([REDBlock(payloadType: 111, timestampOffset: 16384, payload: golden([1])), primary]),
                       .offsetTooLarge(block: 0, offset: 16384))
        XCTAssertEqual(error([REDBlock(payloadType: 128, payload: golden([1])), primary]), .invalidPayloadType(128))
        XCTAssertEqual(error([]), .noBlocks)
        // The primary has no length field: it can be as long as the packet.
        XCTAssertNil(error([REDBlock(payloadType: 111, payload: ByteBuffer(repeating: 7, count: 2000))]))
    }

    // MARK: Encoder

    func opus(_ sequenceNumber: UInt16, timestamp: UInt32? = nil, size: Int = 3) -> RTPPacket {
        RTPPacket(marker: true, payloadType: 111, sequenceNumber: sequenceNumber,
                  timestamp: timestamp ?? UInt32(sequenceNumber) &* 960, ssrc: 9,
                  payload: ByteBuffer(bytes: [0xFC] + (0..<max(0, size - 1)).map { _ in UInt8(truncatingIfNeeded: sequenceNumber) }))
    }

    /// The blocks of what the encoder sent, as (payload type, offset, first payload byte after the TOC).
    func blocks(_ packet: RTPPacket) throws -> [String] {
        guard packet.payloadType == 63 else { return ["plain \(packet.sequenceNumber)"] }
        return try REDPayload.parse(packet.payload).map { "\($0.payloadType)-\($0.timestampOffset)-\($0.payload.readableBytes)" }
    }

    func testEncoderRepeatsThePreviousPackets() throws {
        var one = REDEncoder(primaryPayloadType: 111, redPayloadType: 63)
        XCTAssertEqual(try blocks(one.encode(opus(10), distance: 1)), ["plain 10"], "nothing to repeat yet")
        let second = one.encode(opus(11), distance: 1)
        XCTAssertEqual(try blocks(second), ["111-960-3", "111-0-3"])
        XCTAssertEqual([second.sequenceNumber, UInt16(second.timestamp / 960)], [11, 11])
        XCTAssertTrue(second.marker)
        XCTAssertEqual(try REDPayload.parse(second.payload).map(\.payload), [opus(10).payload, opus(11).payload])
        XCTAssertEqual(try blocks(one.encode(opus(12), distance: 1)), ["111-960-3", "111-0-3"], "distance 1: one block")
        // Off: the plain packet, still remembered for the next one.
        XCTAssertEqual(try blocks(one.encode(opus(13), distance: 0)), ["plain 13"])
        XCTAssertEqual(try blocks(one.encode(opus(14), distance: 1)), ["111-960-3", "111-0-3"])

        var two = REDEncoder(primaryPayloadType: 111, redPayloadType: 63)
        _ = two.encode(opus(65534), distance: 2)
        XCTAssertEqual(try blocks(two.encode(opus(65535), distance: 2)), ["111-960-3", "111-0-3"])
        // Oldest first; across the sequence number wrap. More than 2 is 2.
        XCTAssertEqual(try blocks(two.encode(opus(0, timestamp: 65536 * 960), distance: 5)), ["111-1920-3", "111-960-3", "111-0-3"])
    }

    func testEncoderLeavesOutWhatDoesNotFit() throws {
        // 1023 bytes fit the 10-bit length; 1024 do not and the packet goes plain (nothing is truncated).
        var encoder = REDEncoder(primaryPayloadType: 111, redPayloadType: 63, maxPayloadSize: 4000)
        _ = encoder.encode(opus(1, size: 1023), distance: 1)
        XCTAssertEqual(try blocks(encoder.encode(opus(2), distance: 1)), ["111-960-1023", "111-0-3"])
        _ = encoder.encode(opus(3, size: 1024), distance: 1)
        XCTAssertEqual(try blocks(encoder.encode(opus(4), distance: 1)), ["plain 4"])

        // 16383 ticks fit the 14-bit offset; 16384 do not.
        encoder = REDEncoder(primaryPayloadType: 111, redPayloadType: 63)
        _ = encoder.encode(opus(1, timestamp: 100), distance: 1)
        XCTAssertEqual(try blocks(encoder.encode(opus(2, timestamp: 100 + 16383), distance: 1)), ["111-16383-3", "111-0-3"])
        XCTAssertEqual(try blocks(encoder.encode(opus(3, timestamp: 100 + 16383 + 16384), distance: 1)), ["plain 3"])
        // A timestamp that went back is no offset.
        XCTAssertEqual(try blocks(encoder.encode(opus(4, timestamp: 50), distance: 1)), ["plain 4"])

        // Distance 2 with the nearer block too large: the older one cannot stand in for it (its place says
        // its distance), so none. With the older one too large: the nearer one alone.
        encoder = REDEncoder(primaryPayloadType: 111, redPayloadType: 63, maxPayloadSize: 4000)
        _ = encoder.encode(opus(1), distance: 2)
        _ = encoder.encode(opus(2, size: 1024), distance: 2)
        XCTAssertEqual(try blocks(encoder.encode(opus(3), distance: 2)), ["plain 3"])
        XCTAssertEqual(try blocks(encoder.encode(opus(4), distance: 2)), ["111-960-3", "111-0-3"])

        // The payload budget: the primary and one block of 3 make 1 + 3 + 4 + 3 = 11 bytes.
        encoder = REDEncoder(primaryPayloadType: 111, redPayloadType: 63, maxPayloadSize: 11)
        _ = encoder.encode(opus(1), distance: 2)
        _ = encoder.encode(opus(2), distance: 2)
        XCTAssertEqual(try blocks(encoder.encode(opus(3), distance: 2)), ["111-960-3", "111-0-3"])
        encoder = REDEncoder(primaryPayloadType: 111, redPayloadType: 63, maxPayloadSize: 10)
        _ = encoder.encode(opus(1), distance: 1)
        XCTAssertEqual(try blocks(encoder.encode(opus(2), distance: 1)), ["plain 2"])

        // A sequence number not encoded in between (a fragment of a large frame) ends the run.
        encoder = REDEncoder(primaryPayloadType: 111, redPayloadType: 63)
        _ = encoder.encode(opus(1), distance: 2)
        XCTAssertEqual(try blocks(encoder.encode(opus(3), distance: 2)), ["plain 3"])
        XCTAssertEqual(try blocks(encoder.encode(opus(4), distance: 2)), ["111-960-3", "111-0-3"])
    }

    func testSwitchingHasHysteresis() {
        XCTAssertFalse(REDEncoder.redundancy(lossRate: 0, above: 0.01, wasOn: false))
        XCTAssertFalse(REDEncoder.redundancy(lossRate: 0.01, above: 0.01, wasOn: false))
        XCTAssertTrue(REDEncoder.redundancy(lossRate: 0.02, above: 0.01, wasOn: false))
        XCTAssertTrue(REDEncoder.redundancy(lossRate: 0.006, above: 0.01, wasOn: true), "on until below half")
        XCTAssertFalse(REDEncoder.redundancy(lossRate: 0.004, above: 0.01, wasOn: true))
        XCTAssertFalse(REDEncoder.redundancy(lossRate: 0.006, above: 0.01, wasOn: false))
        XCTAssertFalse(REDEncoder.redundancy(lossRate: 1, above: .infinity, wasOn: true))
    }

    // MARK: Receive

    func testSplitGivesThePrimaryAndTheRepeatedPackets() throws {
        let ext = RTPHeaderExtensions.make([RTPHeaderExtensionElement(id: 4, data: golden([1, 2]))])
        let payload = try REDPayload.serialize([
            REDBlock(payloadType: 111, timestampOffset: 1920, payload: golden([0xFC, 98])),
            REDBlock(payloadType: 111, timestampOffset: 960, payload: golden([0xFC, 99])),
            REDBlock(payloadType: 111, payload: golden([0xFC, 100])),
        ])
        let red = RTPPacket(marker: true, payloadType: 63, sequenceNumber: 1, timestamp: 1000, ssrc: 9, csrcs: [5],
                            headerExtension: ext, payload: payload)
        let split = try REDPayload.split(red, primaryPayloadType: 111)
        XCTAssertEqual(split.primary, RTPPacket(marker: true, payloadType: 111, sequenceNumber: 1, timestamp: 1000, ssrc: 9,
                                                csrcs: [5], headerExtension: ext, payload: golden([0xFC, 100])))
        // Across both wraps: 1 - 2 = 65535, 1000 - 1920.
        XCTAssertEqual(split.redundant, [
            RTPPacket(marker: true, payloadType: 111, sequenceNumber: 65535, timestamp: 1000 &- 1920, ssrc: 9, csrcs: [5],
                      payload: golden([0xFC, 98])),
            RTPPacket(marker: true, payloadType: 111, sequenceNumber: 0, timestamp: 40, ssrc: 9, csrcs: [5],
                      payload: golden([0xFC, 99])),
        ])
        // Blocks of another payload type and empty ones are not packets of this stream.
        let mixed = try REDPayload.serialize([
            REDBlock(payloadType: 13, timestampOffset: 1920, payload: golden([1])),
            REDBlock(payloadType: 111, timestampOffset: 960, payload: golden([])),
            REDBlock(payloadType: 0, payload: golden([2])),
        ])
        var other = red
        other.payload = mixed
        XCTAssertEqual(try REDPayload.split(other, primaryPayloadType: 111), REDSplit(primary: nil, redundant: []))
    }

    static let track = RTPTrack(codec: .opus, payloadType: 111, ssrc: 9, redPayloadType: 63)
    static let timingID: UInt8 = 4

    /// A packet as the sender makes it: seq n, 20 ms of 48 kHz per packet, frame-timing pts n x 20 ms; RED
    /// with the previous `distance` packets.
    func sent(_ n: UInt16, distance: Int = 0) throws -> RTPPacket {
        let timing = RTPFrameTiming(pts: Int64(n) * 20_000, dts: Int64(n) * 20_000, flags: 3)
        let ext = RTPHeaderExtensions.make([RTPHeaderExtensionElement(id: Self.timingID, data: timing.data)])
        var packet = opus(n)
        packet.headerExtension = ext
        guard distance > 0 else { return packet }
        let blocks = (1...distance).reversed().map { d in
            REDBlock(payloadType: 111, timestampOffset: UInt32(d) * 960, payload: opus(n - UInt16(d)).payload)
        }
        packet.payloadType = 63
        packet.payload = try REDPayload.serialize(blocks + [REDBlock(payloadType: 111, payload: packet.payload)])
        return packet
    }

    func testReceiveStreamFillsHolesOnceAndCountsNothingTwice() throws {
        var stream = RTPReceiveStream(track: Self.track, jitterBuffer: .init())
        let ids = RTPExtensionIDs(frameTiming: Self.timingID)
        var frames: [RTPFrame] = []
        func insert(_ packet: RTPPacket, at time: Int64) {
            XCTAssertTrue(stream.accepts(ssrc: packet.ssrc, payloadType: packet.payloadType))
            stream.insert(packet, extensions: ids, retransmission: false, arrival: time)
            frames += stream.poll(now: time, rtt: 40_000).frames
        }
        // 1 (RED with 0 repeated: before the first packet nothing is a hole), 2 plain, 3 lost, 4 RED repeats 3,
        // 5 RED repeats 4 (here already: not counted), 6 and 7 lost, 8 RED repeats 6 and 7.
        try insert(sent(1, distance: 1), at: 20_000)
        try insert(sent(2), at: 40_000)
        try insert(sent(4, distance: 1), at: 80_000)
        try insert(sent(5, distance: 1), at: 100_000)
        try insert(sent(8, distance: 2), at: 160_000)
        XCTAssertEqual(frames.map(\.payload), (1...8).map { opus($0).payload })
        // The recovered frames get their own times (the primary's less the offset) and the primary's flags.
        XCTAssertEqual(frames.map(\.pts), (1...8).map { Int64($0) * 20_000 })
        XCTAssertEqual(Set(frames.map(\.flags)), [3])
        XCTAssertEqual(stream.audioPacketsRecoveredByRED, 3)
        XCTAssertEqual(stream.audioFramesConcealed, 0)
        let counters = try XCTUnwrap(stream.audioCounters)
        XCTAssertEqual(counters.duplicates, 0)
        XCTAssertEqual(counters.packetsLate, 0)
        XCTAssertEqual(counters.packetsReleased, 8)
        XCTAssertEqual(stream.nack.missingCount, 0, "nothing left to NACK")
        // What came on the wire: 5 packets; the receiver report still says 3 were lost (the sender keeps RED on).
        XCTAssertEqual(stream.packetsReceived, 5)
        XCTAssertEqual(stream.reportBlock(now: 200_000)?.cumulativeLost, 3)

        // 9 lost and concealed (10 waited 60 ms for it) before 11 repeats 9 and 10: neither is put back or
        // counted again (9 was concealed, 10 played).
        try insert(sent(10), at: 200_000)
        frames += stream.poll(now: 260_000, rtt: 40_000).frames
        XCTAssertEqual(stream.audioFramesConcealed, 1)
        try insert(sent(11, distance: 2), at: 280_000)
        XCTAssertEqual(frames.map(\.payload), ([1, 2, 3, 4, 5, 6, 7, 8, 10, 11] as [UInt16]).map { opus($0).payload })
        XCTAssertEqual(stream.audioPacketsRecoveredByRED, 3)
        XCTAssertEqual(stream.audioFramesConcealed, 1)
        XCTAssertEqual(stream.audioCounters?.duplicates, 0)
        XCTAssertEqual(stream.audioCounters?.packetsLate, 0)
        // The plain payload type goes on being taken beside RED; a RED packet that is not RFC 2198 is counted
        // as arrived, and nothing of it is played.
        try insert(sent(12), at: 300_000)
        var broken = try sent(13)
        broken.payloadType = 63
        broken.payload = golden([0x87, 0x02])
        insert(broken, at: 320_000)
        XCTAssertEqual(stream.malformedREDPackets, 1)
        XCTAssertEqual(frames.count, 11)
        XCTAssertEqual(stream.packetsReceived, 9)
    }

    func testRecoveredPacketsGoOnlyIntoHoles() {
        var buffer = AudioJitterBuffer()
        XCTAssertFalse(buffer.insertRecovered(opus(4), arrival: 0), "before the first packet there is no hole")
        buffer.insert(opus(5), arrival: 0)
        XCTAssertFalse(buffer.insertRecovered(opus(4), arrival: 0), "before the start")
        buffer.insert(opus(8), arrival: 0)
        XCTAssertFalse(buffer.insertRecovered(opus(8), arrival: 0), "held")
        XCTAssertTrue(buffer.insertRecovered(opus(6), arrival: 0))
        XCTAssertFalse(buffer.insertRecovered(opus(6), arrival: 0), "recovered already")
        XCTAssertFalse(buffer.insertRecovered(opus(5 + 500), arrival: 0), "a jump is no hole")
        _ = buffer.poll(now: 0, maxWait: 60_000)
        XCTAssertTrue(buffer.insertRecovered(opus(7), arrival: 10_000), "the hole 8 waits on")
        _ = buffer.poll(now: 10_000, maxWait: 60_000)
        XCTAssertFalse(buffer.insertRecovered(opus(7), arrival: 10_000), "released")
        XCTAssertEqual(buffer.counters, .init(packetsReleased: 4, packetsRecovered: 2))
    }
}
