import NIOCore
import XCTest
@testable import RTP

/// NAL units for the H.264 tests (NRI 3 for parameter sets and IDR, 2 for the P slice).
enum H264Fixture {
    static let sps: [UInt8] = [0x67, 0x42, 0x00, 0x1F]
    static let pps: [UInt8] = [0x68, 0xCE, 0x38, 0x80]
    static let idr: [UInt8] = [0x65, 0x88, 0x80, 0x40, 0x20]
    static let aud: [UInt8] = [0x09, 0xF0]
    static func slice(_ size: Int, header: UInt8 = 0x41) -> [UInt8] {
        [header] + (1..<size).map { UInt8(truncatingIfNeeded: $0) }
    }
    /// Annex-B with alternating 4- and 3-byte start codes.
    static func annexB(_ units: [[UInt8]]) -> ByteBuffer {
        var bytes: [UInt8] = []
        for (index, unit) in units.enumerated() { bytes += (index % 2 == 0 ? [0, 0, 0, 1] : [0, 0, 1]) + unit }
        return golden(bytes)
    }
}

final class H264PacketizerTests: XCTestCase {
    typealias F = H264Fixture

    func testAnnexBSplit() {
        let stream = golden([0xAA, 0, 0, 0, 1] + F.sps + [0, 0, 1] + F.pps + [0, 0, 0, 0, 1] + F.idr + [0, 0])
        XCTAssertEqual(H264AnnexB.split(stream).map(\.goldenBytes), [F.sps, F.pps, F.idr])
        XCTAssertEqual(H264AnnexB.split(golden([0, 0, 1, 0, 0, 1])), [], "empty units are skipped")
        XCTAssertEqual(H264AnnexB.split(golden([0x65, 1, 2])), [], "no start code")
        // 00 00 03 01 is emulation prevention, not a start code.
        XCTAssertEqual(H264AnnexB.split(golden([0, 0, 1, 0x41, 0, 0, 3, 1])).map(\.goldenBytes), [[0x41, 0, 0, 3, 1]])
    }

    func testNALExactlyTheBudgetIsOnePacket() {
        var packetizer = H264Packetizer(maxPayloadSize: 10)
        let unit = F.slice(10)
        let chunks = packetizer.packetize(accessUnit: F.annexB([unit]))
        XCTAssertEqual(chunks, [RTPPayloadChunk(payload: golden(unit), marker: true)])
    }

    func testOneByteOverTheBudgetIsTwoFragments() {
        var packetizer = H264Packetizer(maxPayloadSize: 10)
        let chunks = packetizer.packetize(accessUnit: F.annexB([F.slice(11)]))
        XCTAssertEqual(chunks.map(\.payload.goldenBytes), [
            [0x5C, 0x81, 1, 2, 3, 4, 5, 6, 7, 8],  // FU indicator F=0 NRI=2 type 28; FU header S, type 1
            [0x5C, 0x41, 9, 10],  // E, type 1
        ])
        XCTAssertEqual(chunks.map(\.marker), [false, true])
    }

    func testThreeFragmentsKeepNRI() {
        var packetizer = H264Packetizer(maxPayloadSize: 10)
        let chunks = packetizer.packetize(accessUnit: F.annexB([F.slice(20, header: 0x25)]))  // NRI 1, IDR
        XCTAssertEqual(chunks.map(\.payload.goldenBytes), [
            [0x3C, 0x85, 1, 2, 3, 4, 5, 6, 7, 8],
            [0x3C, 0x05, 9, 10, 11, 12, 13, 14, 15, 16],
            [0x3C, 0x45, 17, 18, 19],
        ])
        XCTAssertEqual(chunks.map(\.marker), [false, false, true])
    }

    func testSTAPA() {
        var packetizer = H264Packetizer(maxPayloadSize: 100)
        let chunks = packetizer.packetize(accessUnit: F.annexB([F.aud, F.sps, F.pps, F.idr]))
        XCTAssertEqual(chunks, [
            RTPPayloadChunk(
                payload: golden([0x78, 0x00, 0x04] + F.sps + [0x00, 0x04] + F.pps + [0x00, 0x05] + F.idr), marker: true)
        ])
    }

    func testAggregationStopsAtTheBudget() {
        // SPS + PPS in a STAP-A is 13 bytes; the IDR does not fit beside them.
        var packetizer = H264Packetizer(maxPayloadSize: 13)
        let chunks = packetizer.packetize(accessUnit: F.annexB([F.sps, F.pps, F.idr]))
        XCTAssertEqual(chunks.map(\.payload.goldenBytes), [[0x78, 0, 4] + F.sps + [0, 4] + F.pps, F.idr])
        XCTAssertEqual(chunks.map(\.marker), [false, true])
        // One byte less: nothing aggregates.
        var small = H264Packetizer(maxPayloadSize: 12)
        XCTAssertEqual(small.packetize(accessUnit: F.annexB([F.sps, F.pps, F.idr])).map(\.payload.goldenBytes), [F.sps, F.pps, F.idr])
    }

    func testParameterSetsInsertedBeforeIDR() {
        var packetizer = H264Packetizer(maxPayloadSize: 100)
        XCTAssertEqual(packetizer.packetize(accessUnit: F.annexB([F.idr])).map(\.payload.goldenBytes), [F.idr], "none known yet")
        _ = packetizer.packetize(accessUnit: F.annexB([F.sps, F.pps, F.idr]))
        XCTAssertEqual(packetizer.packetize(accessUnit: F.annexB([F.slice(5)])).map(\.payload.goldenBytes), [F.slice(5)])
        let keyframe = packetizer.packetize(accessUnit: F.annexB([F.aud, F.idr]))
        XCTAssertEqual(keyframe.map(\.payload.goldenBytes), [[0x78, 0, 4] + F.sps + [0, 4] + F.pps + [0, 5] + F.idr])
        // Only the PPS missing: the access unit's SPS, then the remembered PPS, then the rest.
        let newSPS: [UInt8] = [0x67, 0x64, 0x00, 0x28]
        let sei: [UInt8] = [0x06, 0x05, 0x01, 0x80]
        let mixed = packetizer.packetize(accessUnit: F.annexB([sei, newSPS, F.idr]))
        XCTAssertEqual(mixed.map(\.payload.goldenBytes), [[0x78, 0, 4] + newSPS + [0, 4] + F.pps + [0, 4] + sei + [0, 5] + F.idr])
        XCTAssertEqual(packetizer.lastSPS?.goldenBytes, newSPS)
    }

    func testMarkerOnlyOnTheLastPacketAndFillerDropped() {
        var packetizer = H264Packetizer(maxPayloadSize: 1200)
        let filler: [UInt8] = [0x0C, 0xFF, 0xFF, 0x80]
        let chunks = packetizer.packetize(accessUnit: F.annexB([F.sps, F.pps, F.slice(3000, header: 0x65), filler, F.slice(700), F.slice(700)]))
        // STAP-A(SPS, PPS), 3 FU-A (2999 bytes after the header = 1198 + 1198 + 603), two single NALs.
        XCTAssertEqual(chunks.map(\.payload.readableBytes), [13, 1200, 1200, 605, 700, 700])
        XCTAssertEqual(chunks.map(\.marker), [false, false, false, false, false, true])
        XCTAssertEqual(packetizer.packetize(accessUnit: F.annexB([F.aud, filler])), [])
        // Types 0 and 24-31 would read as RTP packet types: dropped.
        XCTAssertEqual(packetizer.packetize(accessUnit: F.annexB([[0x78, 0, 1], [0x00, 1], F.slice(3)])).map(\.payload.goldenBytes), [F.slice(3)])
    }
}
