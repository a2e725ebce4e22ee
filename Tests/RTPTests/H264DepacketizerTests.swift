import NIOCore
import XCTest
@testable import RTP

final class H264DepacketizerTests: XCTestCase {
    typealias F = H264Fixture

    /// SPS, PPS, SEI, a 3000-byte IDR (first_mb_in_slice 0) and a P-slice-sized SEI-free tail:
    /// STAP-A(SPS, PPS, SEI), 3 FU-A, one single NAL (a second slice, first_mb_in_slice != 0).
    func keyframe() -> (units: [[UInt8]], chunks: [RTPPayloadChunk]) {
        let units: [[UInt8]] = [F.sps, F.pps, [0x06, 0x05, 0x01, 0x80], [0x65, 0x88] + F.slice(2998).dropFirst(), [0x65, 0x48, 0x01]]
        var packetizer = H264Packetizer(maxPayloadSize: 1200)
        return (units, packetizer.packetize(accessUnit: F.annexB(units)))
    }

    func annexB(_ units: [[UInt8]]) -> [UInt8] { units.flatMap { [0, 0, 0, 1] + $0 } }

    func testRoundTripReorderedAcrossSequenceWrap() {
        let (units, chunks) = keyframe()
        XCTAssertEqual(chunks.count, 5)
        var depacketizer = H264Depacketizer(timestamp: 90000)
        let first: UInt16 = 65534
        var events: [H264Depacketizer.Event] = []
        for index in [4, 2, 0, 3, 1] {
            events.append(depacketizer.insert(
                sequenceNumber: first &+ UInt16(index), marker: chunks[index].marker, payload: chunks[index].payload))
        }
        XCTAssertEqual(events.dropLast(), [.pending, .pending, .pending, .pending])
        guard case .complete(let unit) = events.last else { return XCTFail("\(events)") }
        XCTAssertEqual(unit.annexB.goldenBytes, annexB(units))
        XCTAssertEqual(unit.nalUnitTypes, [7, 8, 6, 5, 5])
        XCTAssertTrue(unit.isKeyframe)
        XCTAssertEqual(unit.discardedNALUnits, 0)
        XCTAssertEqual(unit.timestamp, 90000)
        XCTAssertEqual(depacketizer.insert(sequenceNumber: first, marker: false, payload: chunks[0].payload), .duplicate)
        XCTAssertEqual(depacketizer.finish(), .complete(unit))
    }

    func testLostFragmentDiscardsThatNALOnly() {
        let (units, chunks) = keyframe()
        var depacketizer = H264Depacketizer(timestamp: 1, firstSequenceNumber: 100)
        for index in [0, 1, 3, 4] {
            XCTAssertEqual(
                depacketizer.insert(sequenceNumber: 100 + UInt16(index), marker: chunks[index].marker, payload: chunks[index].payload),
                .pending)
        }
        XCTAssertEqual(depacketizer.missingSequenceNumbers, [102])
        guard case .incomplete(let missing, let markerReceived, let partial?) = depacketizer.finish() else {
            return XCTFail()
        }
        XCTAssertEqual(missing, [102])
        XCTAssertTrue(markerReceived)
        XCTAssertEqual(partial.annexB.goldenBytes, annexB([units[0], units[1], units[2], units[4]]))
        XCTAssertEqual(partial.discardedNALUnits, 1)
        XCTAssertTrue(partial.isKeyframe, "the second IDR slice is whole")
        // The retransmission completes it.
        guard case .complete(let unit) = depacketizer.insert(sequenceNumber: 102, marker: false, payload: chunks[2].payload)
        else { return XCTFail() }
        XCTAssertEqual(unit.annexB.goldenBytes, annexB(units))
    }

    func testMissingFirstPacketWhenKnownAndWhenGuessed() {
        let (_, chunks) = keyframe()
        var known = H264Depacketizer(timestamp: 1, firstSequenceNumber: 10)
        for index in 1..<5 {
            _ = known.insert(sequenceNumber: 10 + UInt16(index), marker: chunks[index].marker, payload: chunks[index].payload)
        }
        XCTAssertEqual(known.missingSequenceNumbers, [10])
        // Without the first number, a lowest packet that is an FU-A continuation shows the loss.
        var guessed = H264Depacketizer(timestamp: 1)
        for index in 3..<5 {
            XCTAssertEqual(
                guessed.insert(sequenceNumber: 10 + UInt16(index), marker: chunks[index].marker, payload: chunks[index].payload),
                .pending)
        }
        XCTAssertEqual(guessed.missingSequenceNumbers, [12])
        guard case .incomplete(_, true, let partial?) = guessed.finish() else { return XCTFail() }
        XCTAssertEqual(partial.nalUnitTypes, [5])
        XCTAssertEqual(partial.discardedNALUnits, 1)
    }

    func testMarkerMissing() {
        let (_, chunks) = keyframe()
        var depacketizer = H264Depacketizer(timestamp: 1, firstSequenceNumber: 0)
        _ = depacketizer.insert(sequenceNumber: 0, marker: false, payload: chunks[0].payload)
        _ = depacketizer.insert(sequenceNumber: 2, marker: false, payload: chunks[2].payload)
        guard case .incomplete(let missing, false, let partial) = depacketizer.finish() else { return XCTFail() }
        XCTAssertEqual(missing, [1])
        XCTAssertEqual(partial?.nalUnitTypes, [7, 8, 6])
    }

    func testSinglePacketFrameAndRTPPacketEntry() {
        var depacketizer = H264Depacketizer(timestamp: 3000)
        let other = RTPPacket(marker: true, payloadType: 102, sequenceNumber: 5, timestamp: 6000, ssrc: 1, payload: golden([0x41, 0x9A, 0x01]))
        XCTAssertEqual(depacketizer.insert(other), .rejected(.timestampMismatch(expected: 3000, got: 6000)))
        var packet = other
        packet.timestamp = 3000
        guard case .complete(let unit) = depacketizer.insert(packet) else { return XCTFail() }
        XCTAssertEqual(unit.annexB.goldenBytes, annexB([[0x41, 0x9A, 0x01]]))
        XCTAssertFalse(unit.isKeyframe)
        XCTAssertEqual(depacketizer.insert(sequenceNumber: 6, marker: false, payload: golden([0x41])), .rejected(.outOfFrame(sequenceNumber: 6)))
    }

    func testRejections() {
        var depacketizer = H264Depacketizer(timestamp: 1, firstSequenceNumber: 10)
        XCTAssertEqual(depacketizer.insert(sequenceNumber: 9, marker: false, payload: golden([0x41])), .rejected(.outOfFrame(sequenceNumber: 9)))
        XCTAssertEqual(depacketizer.insert(sequenceNumber: 10, marker: false, payload: golden([])), .rejected(.emptyPayload))
        XCTAssertEqual(depacketizer.insert(sequenceNumber: 12, marker: true, payload: golden([0x41])), .pending)
        XCTAssertEqual(depacketizer.insert(sequenceNumber: 13, marker: false, payload: golden([0x41])), .rejected(.outOfFrame(sequenceNumber: 13)))
        XCTAssertEqual(depacketizer.insert(sequenceNumber: 11, marker: true, payload: golden([0x41])), .rejected(.conflictingMarker(sequenceNumber: 11)))
    }

    func testLimits() {
        var few = H264Depacketizer(timestamp: 1, limits: .init(maxPacketsPerFrame: 3))
        XCTAssertEqual(few.insert(sequenceNumber: 0, marker: false, payload: golden([0x41])), .pending)
        XCTAssertEqual(few.insert(sequenceNumber: 3, marker: false, payload: golden([0x41])), .rejected(.tooManyPackets(limit: 3)))
        XCTAssertEqual(few.insert(sequenceNumber: 65533, marker: false, payload: golden([0x41])), .rejected(.tooManyPackets(limit: 3)))
        XCTAssertEqual(few.insert(sequenceNumber: 2, marker: false, payload: golden([0x41])), .pending)
        var small = H264Depacketizer(timestamp: 1, firstSequenceNumber: 0, limits: .init(maxAccessUnitBytes: 10))
        XCTAssertEqual(small.insert(sequenceNumber: 0, marker: false, payload: golden(F.slice(6))), .pending)
        XCTAssertEqual(small.insert(sequenceNumber: 1, marker: true, payload: golden(F.slice(5))), .rejected(.accessUnitTooLarge(limit: 10)))
        // Annex-B adds 4 bytes per unit: a unit that no longer fits is discarded, not written.
        guard case .complete(let unit) = small.insert(sequenceNumber: 1, marker: true, payload: golden(F.slice(4))) else {
            return XCTFail()
        }
        XCTAssertEqual(unit.annexB.goldenBytes, annexB([F.slice(6)]))
        XCTAssertEqual(unit.discardedNALUnits, 1)
    }

    func testMalformedPayloads() {
        var depacketizer = H264Depacketizer(timestamp: 1, firstSequenceNumber: 0)
        // STAP-A whose second size runs past the payload; an FU-B (29); an FU-A with no data; a zero-size unit.
        _ = depacketizer.insert(sequenceNumber: 0, marker: false, payload: golden([0x78, 0, 2, 0x41, 0xAA, 0, 9, 0x41]))
        _ = depacketizer.insert(sequenceNumber: 1, marker: false, payload: golden([0x7D, 0x81, 1, 2]))
        _ = depacketizer.insert(sequenceNumber: 2, marker: false, payload: golden([0x7C, 0x81]))
        guard case .complete(let unit) = depacketizer.insert(sequenceNumber: 3, marker: true, payload: golden([0x78, 0, 0]))
        else { return XCTFail() }
        XCTAssertEqual(unit.annexB.goldenBytes, annexB([[0x41, 0xAA]]))
        XCTAssertEqual(unit.discardedNALUnits, 4)
    }

    func testFragmentsOutOfPlace() {
        // S, then an E fragment of another type, then a lone middle fragment: nothing whole.
        var depacketizer = H264Depacketizer(timestamp: 1, firstSequenceNumber: 0)
        _ = depacketizer.insert(sequenceNumber: 0, marker: false, payload: golden([0x7C, 0x85, 1]))
        _ = depacketizer.insert(sequenceNumber: 1, marker: false, payload: golden([0x7C, 0x41, 2]))
        _ = depacketizer.insert(sequenceNumber: 2, marker: false, payload: golden([0x7C, 0x01, 3]))
        guard case .complete(let unit) = depacketizer.insert(sequenceNumber: 3, marker: true, payload: golden([0x7C, 0xC1, 4]))
        else { return XCTFail() }
        XCTAssertEqual(unit.nalUnitTypes, [1], "S and E in one fragment is taken whole")
        XCTAssertEqual(unit.annexB.goldenBytes, [0, 0, 0, 1, 0x61, 4])
        XCTAssertEqual(unit.discardedNALUnits, 3)
    }
}

final class H264FrameStartTests: XCTestCase {
    func testGuessedFirstWaitsForAPlausibleStart() {
        // Without the first sequence number, a second slice (first_mb_in_slice != 0) alone is not a frame.
        var depacketizer = H264Depacketizer(timestamp: 1)
        XCTAssertEqual(depacketizer.insert(sequenceNumber: 8, marker: true, payload: golden([0x41, 0x48, 0x01])), .pending)
        guard case .complete(let unit) = depacketizer.insert(sequenceNumber: 7, marker: false, payload: golden([0x41, 0x88, 0x01]))
        else { return XCTFail() }
        XCTAssertEqual(unit.nalUnitTypes, [1, 1])
        // SEI alone (no slice) is not a frame either.
        var sei = H264Depacketizer(timestamp: 1)
        XCTAssertEqual(sei.insert(sequenceNumber: 0, marker: true, payload: golden([0x06, 0x05, 0x01, 0x80])), .pending)
        XCTAssertTrue(H264Depacketizer.canStartAccessUnit(golden([0x78, 0, 4, 0x67, 0x42, 0, 0x1F])))
        XCTAssertTrue(H264Depacketizer.canStartAccessUnit(golden([0x7C, 0x85, 0x88])))
        XCTAssertFalse(H264Depacketizer.canStartAccessUnit(golden([0x7C, 0x85, 0x48])))
        XCTAssertFalse(H264Depacketizer.canStartAccessUnit(golden([0x7C, 0x05, 0x88])))
    }
}
