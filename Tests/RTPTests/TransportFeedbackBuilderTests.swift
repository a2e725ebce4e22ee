import NIOCore
import XCTest

@testable import RTP

final class TransportFeedbackBuilderTests: XCTestCase {
    private func builder(maxPackets: Int = 1000) -> TransportFeedbackBuilder {
        TransportFeedbackBuilder(configuration: .init(senderSSRC: 0x1111, mediaSSRC: 0x2222, maxPacketsPerFeedback: maxPackets))
    }

    func testEmitsEveryIntervalWithLossesAndDeltas() throws {
        var receiver = builder()
        // 10 at 1.000 s, 11 at 1.0011 s, 12 lost, 13 at 1.0037 s (rounds to 1.00375), 14 at 1.0040 s.
        for (sequence, arrival) in [(10, 1_000_000), (11, 1_001_100), (13, 1_003_700), (14, 1_004_000)] as [(UInt16, Int64)] {
            receiver.onPacket(sequenceNumber: sequence, arrivalTime: arrival)
        }
        XCTAssertEqual(receiver.nextFeedbackTime, 1_050_000)
        XCTAssertEqual(receiver.poll(now: 1_049_999), [])
        let feedbacks = receiver.poll(now: 1_050_000)
        XCTAssertEqual(feedbacks.count, 1)
        let feedback = try XCTUnwrap(feedbacks.first)
        XCTAssertEqual(feedback.senderSSRC, 0x1111)
        XCTAssertEqual(feedback.baseSequenceNumber, 10)
        XCTAssertEqual(feedback.feedbackPacketCount, 0)
        // 1.000 s = 4000 ticks; the reference is 4000 / 256 = 15 (0.96 s), 160 ticks before.
        XCTAssertEqual(feedback.referenceTime, 15)
        XCTAssertEqual(feedback.packets, [.received(delta: 160), .received(delta: 4), .notReceived, .received(delta: 11), .received(delta: 1)])
        XCTAssertEqual(feedback.arrivals.compactMap(\.arrivalTime), [1_000_000, 1_001_000, 1_003_750, 1_004_000])
        // Nothing new: nothing sent; the counter moves only with packets.
        XCTAssertEqual(receiver.poll(now: 1_100_000), [])
        receiver.onPacket(sequenceNumber: 15, arrivalTime: 1_120_000)
        let next = receiver.poll(now: 1_150_000)
        XCTAssertEqual(next.map(\.baseSequenceNumber), [15])
        XCTAssertEqual(next.map(\.feedbackPacketCount), [1])
    }

    /// libwebrtc's sender drops transport feedback whose media source is not an SSRC it sends from (a
    /// browser's bandwidth estimate then only falls: found with Chromium publishing over WHIP).
    func testFeedbackNamesTheLastPacketsSSRC() throws {
        var receiver = TransportFeedbackBuilder(configuration: .init(senderSSRC: 0x1111))
        receiver.onPacket(sequenceNumber: 1, arrivalTime: 0)
        XCTAssertEqual(receiver.poll(now: 50_000).first?.mediaSSRC, 0, "nothing said: the configuration's")
        receiver.onPacket(sequenceNumber: 2, arrivalTime: 60_000, ssrc: 0xAAAA)
        receiver.onPacket(sequenceNumber: 3, arrivalTime: 61_000, ssrc: 0xBBBB)
        let feedback = try XCTUnwrap(receiver.poll(now: 100_000).first)
        XCTAssertEqual(feedback.mediaSSRC, 0xBBBB)
        XCTAssertEqual(try TransportFeedback.parse(feedback.serialized()).mediaSSRC, 0xBBBB)
    }

    func testSequenceWrap() throws {
        var receiver = builder()
        for (index, sequence) in ([65534, 65535, 0, 1] as [UInt16]).enumerated() {
            receiver.onPacket(sequenceNumber: sequence, arrivalTime: 10_000 + Int64(index) * 1000)
        }
        let feedback = try XCTUnwrap(receiver.poll(now: 100_000).first)
        XCTAssertEqual(feedback.baseSequenceNumber, 65534)
        XCTAssertEqual(feedback.arrivals.map(\.sequenceNumber), [65534, 65535, 0, 1])
        XCTAssertTrue(feedback.packets.allSatisfy { $0 != .notReceived })
    }

    func testBoundDropsTheOldest() throws {
        var receiver = builder(maxPackets: 100)
        for sequence in 0..<300 { receiver.onPacket(sequenceNumber: UInt16(sequence), arrivalTime: Int64(sequence) * 100) }
        let feedback = try XCTUnwrap(receiver.poll(now: 1_000_000).first)
        XCTAssertEqual(feedback.baseSequenceNumber, 200)
        XCTAssertEqual(feedback.packets.count, 100)
        XCTAssertEqual(receiver.droppedPackets, 200)
    }

    func testLatePacketIsReportedAgainWithItsNeighbours() throws {
        var receiver = builder()
        receiver.onPacket(sequenceNumber: 1, arrivalTime: 0)
        receiver.onPacket(sequenceNumber: 3, arrivalTime: 2000)
        XCTAssertEqual(receiver.poll(now: 50_000).first?.packets, [.received(delta: 0), .notReceived, .received(delta: 8)])
        receiver.onPacket(sequenceNumber: 2, arrivalTime: 60_000)
        receiver.onPacket(sequenceNumber: 4, arrivalTime: 61_000)
        let again = try XCTUnwrap(receiver.poll(now: 100_000).first)
        XCTAssertEqual(again.baseSequenceNumber, 2)
        XCTAssertEqual(again.arrivals.map(\.arrivalTime), [60_000, 2000, 61_000])
    }

    func testDeltaOverflowSplitsTheFeedback() throws {
        var receiver = builder()
        receiver.onPacket(sequenceNumber: 7, arrivalTime: 0)
        receiver.onPacket(sequenceNumber: 8, arrivalTime: 9_000_000)  // 36000 ticks: past Int16
        let feedbacks = receiver.poll(now: 9_000_000)
        XCTAssertEqual(feedbacks.map(\.baseSequenceNumber), [7, 8])
        XCTAssertEqual(feedbacks.map(\.feedbackPacketCount), [0, 1])
        XCTAssertEqual(feedbacks.flatMap(\.arrivals).map(\.arrivalTime), [0, 9_000_000])
    }

    func testHistoryIsBounded() {
        var receiver = TransportFeedbackBuilder(configuration: .init(senderSSRC: 1, maxPacketsPerFeedback: 10, historySpan: 50))
        for sequence in 0..<10_000 { receiver.onPacket(sequenceNumber: UInt16(truncatingIfNeeded: sequence), arrivalTime: 0) }
        // A packet 60 behind the newest is too late.
        let before = receiver.droppedPackets
        receiver.onPacket(sequenceNumber: UInt16(9_999 - 60), arrivalTime: 1)
        XCTAssertEqual(receiver.droppedPackets, before + 1)
    }

    // MARK: Adapter

    func testAdapterJoinsSendAndArrival() throws {
        var sender = TransportFeedbackAdapter()
        var receiver = builder()
        for sequence in 0..<10 {
            sender.onPacketSent(sequenceNumber: UInt16(truncatingIfNeeded: 65530 + sequence), size: 1000 + sequence, sendTime: 5_000_000 + Int64(sequence) * 1000)
        }
        XCTAssertEqual(sender.bytesInFlight, 10_045)
        for sequence in 0..<10 where sequence != 4 {
            // The receiver's clock is 3 s behind plus 20 ms of path.
            receiver.onPacket(sequenceNumber: UInt16(truncatingIfNeeded: 65530 + sequence), arrivalTime: 2_020_000 + Int64(sequence) * 1000)
        }
        let feedback = try XCTUnwrap(receiver.poll(now: 3_000_000).first)
        let results = sender.onFeedback(try TransportFeedback.parse(feedback.serialized()))
        XCTAssertEqual(results.count, 10)
        XCTAssertEqual(results.map(\.sequenceNumber), Array(65530..<65540))
        XCTAssertEqual(results.filter(\.isLost).map(\.sequenceNumber), [65534])
        for result in results where !result.isLost {
            let index = result.sequenceNumber - 65530
            XCTAssertEqual(result.sendTime, 5_000_000 + index * 1000)
            XCTAssertEqual(result.size, 1000 + Int(index))
            XCTAssertEqual(result.arrivalTime, 2_020_000 + index * 1000)
        }
        XCTAssertEqual(sender.bytesInFlight, 0)
        // The same feedback again reports nothing new.
        XCTAssertEqual(sender.onFeedback(feedback), [])
    }

    func testAdapterReportsALateArrivalOnce() {
        var sender = TransportFeedbackAdapter()
        for sequence in 0..<3 { sender.onPacketSent(sequenceNumber: UInt16(sequence), size: 100, sendTime: Int64(sequence)) }
        let first = TransportFeedback(
            senderSSRC: 1, mediaSSRC: 0, baseSequenceNumber: 0, referenceTime: 1, feedbackPacketCount: 0,
            packets: [.received(delta: 0), .notReceived, .received(delta: 4)])
        XCTAssertEqual(sender.onFeedback(first).map(\.isLost), [false, true, false])
        let second = TransportFeedback(
            senderSSRC: 1, mediaSSRC: 0, baseSequenceNumber: 1, referenceTime: 1, feedbackPacketCount: 1,
            packets: [.received(delta: 20), .received(delta: 0)])
        let late = sender.onFeedback(second)
        XCTAssertEqual(late.map(\.sequenceNumber), [1])
        XCTAssertEqual(late.first?.arrivalTime, 64_000 + 5000)
    }

    func testAdapterUnwrapsTheReferenceTime() {
        var sender = TransportFeedbackAdapter()
        sender.onPacketSent(sequenceNumber: 0, size: 100, sendTime: 0)
        sender.onPacketSent(sequenceNumber: 1, size: 100, sendTime: 1000)
        let before = TransportFeedback(
            senderSSRC: 1, mediaSSRC: 0, baseSequenceNumber: 0, referenceTime: 0xFF_FFFF, feedbackPacketCount: 0,
            packets: [.received(delta: 0)])
        let after = TransportFeedback(
            senderSSRC: 1, mediaSSRC: 0, baseSequenceNumber: 1, referenceTime: 1, feedbackPacketCount: 1,
            packets: [.received(delta: 0)])
        let a = sender.onFeedback(before).first?.arrivalTime ?? 0
        let b = sender.onFeedback(after).first?.arrivalTime ?? 0
        XCTAssertEqual(b - a, 2 * 64_000)
    }

    func testAdapterHistoryIsBounded() {
        var sender = TransportFeedbackAdapter(historyLimit: 100, historyDuration: 1_000_000)
        for sequence in 0..<200 { sender.onPacketSent(sequenceNumber: UInt16(sequence), size: 10, sendTime: Int64(sequence)) }
        XCTAssertEqual(sender.bytesInFlight, 1000)
        let old = TransportFeedback(
            senderSSRC: 1, mediaSSRC: 0, baseSequenceNumber: 50, referenceTime: 0, feedbackPacketCount: 0,
            packets: Array(repeating: .received(delta: 1), count: 100))
        XCTAssertEqual(sender.onFeedback(old).map(\.sequenceNumber), Array(100..<150))
        // Two seconds later everything before is forgotten.
        sender.onPacketSent(sequenceNumber: 200, size: 10, sendTime: 2_000_000)
        XCTAssertEqual(sender.bytesInFlight, 10)
    }
}
