import NIOCore
import XCTest
@testable import RTP

final class ReceiveStatisticsTests: XCTestCase {
    /// Hand-computed with RFC 3550 A.3 and A.8 (integer form, J scaled by 16), 90 kHz (90 ticks/ms):
    ///
    ///     seq    ts     arrival   transit delta D               J*16 += D - ((J*16 + 8) >> 4)   J
    ///     65534  0      0 us      -                             0                               0
    ///     65535  3000   40 ms     |3600 - 3000| = 600           600                             37
    ///     1      9000   100 ms    |5400 - 6000| = 600           600 + 600 - 38 = 1162           72
    ///     2      12000  130 ms    |2700 - 3000| = 300           1162 + 300 - 73 = 1389          86
    ///
    /// 0 is lost: extended highest 65536 + 2, expected 65538 - 65534 + 1 = 5, received 4, lost 1,
    /// fraction 1 x 256 / 5 = 51.
    func testRFC3550Example() throws {
        var statistics = ReceiveStatistics(ssrc: 0xCAFE_BABE, clockRate: 90000)
        XCTAssertNil(statistics.makeReportBlock(now: 0))
        statistics.received(sequenceNumber: 65534, timestamp: 0, arrival: 0)
        statistics.received(sequenceNumber: 65535, timestamp: 3000, arrival: 40_000)
        XCTAssertEqual(statistics.jitter, 37)
        statistics.received(sequenceNumber: 1, timestamp: 9000, arrival: 100_000)
        statistics.received(sequenceNumber: 2, timestamp: 12000, arrival: 130_000)
        // The SR's NTP time 0x12345678.9ABCDEF0: LSR is its middle 32 bits; it came 80 ms before.
        statistics.senderReportReceived(ntpTimestamp: NTPTimestamp(seconds: 0x1234_5678, fraction: 0x9ABC_DEF0), arrival: 50_000)
        let block = try XCTUnwrap(statistics.makeReportBlock(now: 130_000))
        XCTAssertEqual(block, RTCPReportBlock(
            ssrc: 0xCAFE_BABE, fractionLost: 51, cumulativeLost: 1, extendedHighestSequenceNumber: 65538, jitter: 86,
            lastSenderReport: 0x5678_9ABC, delaySinceLastSenderReport: 5243))  // 80 ms x 65536 = 5242.9
        // In a receiver report (RFC 3550 6.4.2): V=2 RC=1 PT=201 length 7, reporter SSRC 1, the block.
        XCTAssertEqual(RTCPPacket.compound([.receiverReport(RTCPReceiverReport(ssrc: 1, reportBlocks: [block]))]).goldenBytes, [
            0x81, 0xC9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01,
            0xCA, 0xFE, 0xBA, 0xBE, 0x33, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02,
            0x00, 0x00, 0x00, 0x56, 0x56, 0x78, 0x9A, 0xBC, 0x00, 0x00, 0x14, 0x7B,
        ])

        // A duplicate of 2 (140 ms: D = |900 - 0| = 900, J*16 = 1389 + 900 - 87 = 2202): received 5 of 5,
        // so the interval lost -1 reads as fraction 0, cumulative 0.
        statistics.received(sequenceNumber: 2, timestamp: 12000, arrival: 140_000)
        let second = try XCTUnwrap(statistics.makeReportBlock(now: 140_000))
        XCTAssertEqual([Int(second.fractionLost), Int(second.cumulativeLost), Int(second.jitter)], [0, 0, 137])
        // 10 at 400 ms (D = |23400 - 24000| = 600, J*16 = 2202 + 600 - 138 = 2664): expected 13,
        // received 6, lost 7; interval expected 8, received 1, fraction 7 x 256 / 8 = 224.
        statistics.received(sequenceNumber: 10, timestamp: 36000, arrival: 400_000)
        let third = try XCTUnwrap(statistics.makeReportBlock(now: 400_000))
        XCTAssertEqual([Int(third.fractionLost), Int(third.cumulativeLost), Int(third.jitter)], [224, 7, 166])
        XCTAssertEqual(third.extendedHighestSequenceNumber, 65546)
    }

    func testRetransmissionCountsButNotInJitter() {
        var statistics = ReceiveStatistics(ssrc: 1, clockRate: 48000)
        statistics.received(sequenceNumber: 1, timestamp: 0, arrival: 0)
        statistics.received(sequenceNumber: 3, timestamp: 1920, arrival: 40_000)
        statistics.received(sequenceNumber: 2, timestamp: 960, arrival: 500_000, isRetransmission: true)
        XCTAssertEqual(statistics.cumulativeLost, 0)
        XCTAssertEqual(statistics.jitter, 0)
    }

    func testLargeJumpIsBelievedOnTheSecondPacket() {
        var statistics = ReceiveStatistics(ssrc: 1, clockRate: 90000)
        for sequenceNumber in UInt16(1)...10 { statistics.received(sequenceNumber: sequenceNumber, timestamp: 0, arrival: 0) }
        statistics.received(sequenceNumber: 20000, timestamp: 0, arrival: 0)
        XCTAssertEqual(statistics.extendedHighestSequenceNumber, 10, "a lone jump is not believed")
        XCTAssertEqual(statistics.received, 10)
        statistics.received(sequenceNumber: 20001, timestamp: 0, arrival: 0)
        XCTAssertEqual(statistics.extendedHighestSequenceNumber, 20001, "the source restarted")
        XCTAssertEqual(statistics.received, 1)
        XCTAssertEqual(statistics.cumulativeLost, 0)
        // Misordered within 100 is not a jump.
        statistics.received(sequenceNumber: 19950, timestamp: 0, arrival: 0)
        XCTAssertEqual(statistics.extendedHighestSequenceNumber, 20001)
    }

    func testCumulativeLostClampsTo24Bits() {
        var statistics = ReceiveStatistics(ssrc: 1, clockRate: 90000)
        var sequenceNumber: UInt16 = 0
        for _ in 0..<3000 {
            statistics.received(sequenceNumber: sequenceNumber, timestamp: 0, arrival: 0)
            sequenceNumber &+= 2999
        }
        XCTAssertEqual(statistics.cumulativeLost, 0x7F_FFFF, "2999 x 2998 lost, over 2^23 - 1")
        XCTAssertEqual(RTCPPacket.compound([.receiverReport(RTCPReceiverReport(ssrc: 1, reportBlocks: [
            RTCPReportBlock(ssrc: 2, cumulativeLost: statistics.cumulativeLost, extendedHighestSequenceNumber: 0),
        ]))]).goldenBytes[12...15], [0x00, 0x7F, 0xFF, 0xFF])
    }
}
