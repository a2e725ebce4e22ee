import NIOCore
@testable import RTP
import XCTest

/// A sender without rtcbox's frame-timing (a browser): media times from the RTP clock, anchored at the first
/// frame's arrival, and the capture time from its RTCP sender report.
final class ReceiveTimingTests: XCTestCase {
    static let track = RTPTrack(codec: .opus, payloadType: 111, ssrc: 7)

    func opus(_ n: UInt32, base: UInt32) -> RTPPacket {
        RTPPacket(marker: false, payloadType: 111, sequenceNumber: UInt16(truncatingIfNeeded: 100 + n),
                  timestamp: base &+ n * 960, ssrc: 7, payload: ByteBuffer(bytes: [0xFC, UInt8(truncatingIfNeeded: n)]))
    }

    func testTimesFollowTheRTPClockFromTheFirstArrivalAndTheReportGivesCaptureTimes() throws {
        var stream = RTPReceiveStream(track: Self.track, jitterBuffer: .init())
        let ids = RTPExtensionIDs()
        var frames: [RTPFrame] = []
        // The RTP clock starts anywhere and wraps past 2^32 on the way: times keep counting.
        let base = UInt32.max - 960 * 2
        for n in UInt32(0)..<5 {
            let arrival = 5_000_000 + Int64(n) * 20_000 + (n == 3 ? 7_000 : 0)
            XCTAssertTrue(stream.accepts(ssrc: 7, payloadType: 111))
            stream.insert(opus(n, base: base), extensions: ids, retransmission: false, arrival: arrival)
            frames += stream.poll(now: arrival, rtt: 20_000).frames
            if n == 1 {
                // From the sender's report on: its wall clock at packet 1's timestamp was 1 700 000 000 s.
                let report = RTCPSenderReport(ssrc: 7, ntpTimestamp: NTPTimestamp(wallClockMicros: 1_700_000_000_000_000),
                                              rtpTimestamp: base &+ 960, packetCount: 2, octetCount: 4)
                stream.noteSenderReport(report, arrival: arrival)
            }
        }
        XCTAssertEqual(frames.count, 5)
        // The first arrival is media time's origin; the rest follow the RTP clock, not their arrival's jitter.
        XCTAssertEqual(frames.map(\.pts), (0..<5).map { 5_000_000 + Int64($0) * 20_000 })
        XCTAssertEqual(frames.map(\.dts), frames.map(\.pts))
        // No capture time before the first report; from it, the sender's clock, 20 ms a packet.
        XCTAssertEqual(frames[0].captureTime, 0)
        XCTAssertEqual(frames[1].captureTime, 0, "polled before the report came")
        XCTAssertEqual(frames[2].captureTime, 1_700_000_000_020_000)
        XCTAssertEqual(frames[4].captureTime, 1_700_000_000_060_000)
        XCTAssertEqual(stream.senderWallClock(base &+ 960 &- 9600), 1_700_000_000_000_000 - 200_000, "before the report's timestamp")
    }
}
