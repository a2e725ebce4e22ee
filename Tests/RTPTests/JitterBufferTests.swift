import NIOCore
import XCTest
@testable import RTP

/// A synthetic H.264 stream: access units packetized at 1200 bytes, 3000 ticks apart (30 fps at 90 kHz).
struct H264StreamFixture {
    struct Frame {
        var annexB: [UInt8]
        var packets: [RTPPacket]
        var timestamp: UInt32 { packets[0].timestamp }
    }

    var packetizer = H264Packetizer(maxPayloadSize: 1200)
    var sequenceNumber: UInt16
    var timestamp: UInt32 = 1000
    var frameNumber = 0

    init(firstSequenceNumber: UInt16) { sequenceNumber = firstSequenceNumber }

    /// SPS, PPS, an IDR slice of `size` bytes (STAP-A + FU-A fragments).
    mutating func keyframe(size: Int = 3000) -> Frame {
        frame([H264Fixture.sps, H264Fixture.pps, [0x65, 0x88] + body(size - 2)])
    }

    /// One P slice (first_mb_in_slice 0): a single NAL packet when small, FU-A when large.
    mutating func delta(size: Int = 800) -> Frame { frame([[0x41, 0x9A] + body(size - 2)]) }

    private mutating func body(_ count: Int) -> [UInt8] {
        frameNumber += 1
        return (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ frameNumber) }
    }

    private mutating func frame(_ units: [[UInt8]]) -> Frame {
        let annexB: [UInt8] = units.flatMap { unit -> [UInt8] in [0, 0, 0, 1] + unit }
        let chunks = packetizer.packetize(accessUnit: golden(annexB))
        var packets: [RTPPacket] = []
        for chunk in chunks {
            packets.append(RTPPacket(
                marker: chunk.marker, payloadType: 96, sequenceNumber: sequenceNumber, timestamp: timestamp,
                ssrc: 0x1234, payload: chunk.payload))
            sequenceNumber &+= 1
        }
        timestamp &+= 3000
        return Frame(annexB: annexB, packets: packets)
    }
}

final class JitterBufferTests: XCTestCase {
    let rtt: Int64 = 50_000  // maxWait 75 ms

    func insert(_ buffer: inout JitterBuffer, _ packets: [RTPPacket], at arrival: Int64) {
        for packet in packets { XCTAssertEqual(buffer.insert(packet, arrival: arrival), .buffered) }
    }

    func testMaxWait() {
        let buffer = JitterBuffer()
        XCTAssertEqual(buffer.maxWait(rtt: 0), 20_000)
        XCTAssertEqual(buffer.maxWait(rtt: 100_000), 150_000)
        XCTAssertEqual(buffer.maxWait(rtt: 10_000_000), 500_000)
        XCTAssertEqual(buffer.maxWait(rtt: -5), 20_000)
    }

    func testInOrderAcrossSequenceWrapInsideAFrame() {
        var stream = H264StreamFixture(firstSequenceNumber: 65534)
        let key = stream.keyframe()
        XCTAssertEqual(key.packets.count, 4, "STAP-A + 3 FU-A: 65534, 65535, 0, 1")
        let next = stream.delta()
        var buffer = JitterBuffer()
        insert(&buffer, key.packets, at: 1_000)
        let output = buffer.poll(now: 1_000, rtt: rtt)
        XCTAssertEqual(output.frames.map(\.accessUnit.annexB.goldenBytes), [key.annexB])
        XCTAssertEqual(output.frames.first?.firstSequenceNumber, 65534)
        XCTAssertEqual(output.frames.first?.lastSequenceNumber, 1)
        XCTAssertEqual(output.frames.first?.arrivalTime, 1_000)
        XCTAssertFalse(output.requestKeyframe)
        insert(&buffer, next.packets, at: 34_000)
        XCTAssertEqual(buffer.poll(now: 34_000, rtt: rtt).frames.map(\.timestamp), [next.timestamp])
        XCTAssertEqual(buffer.counters.framesReleased, 2)
        XCTAssertEqual(buffer.packetCount, 0)
        XCTAssertEqual(buffer.byteCount, 0)
    }

    func testLostKeyframeFragmentRepairedByRTXDecodesBitIdentically() throws {
        var stream = H264StreamFixture(firstSequenceNumber: 1000)
        let key = stream.keyframe()
        let next = stream.delta()
        var buffer = JitterBuffer()
        // The second FU-A fragment (1002) is lost on the way.
        insert(&buffer, key.packets.enumerated().filter { $0.offset != 2 }.map(\.element), at: 0)
        insert(&buffer, next.packets, at: 33_000)
        XCTAssertEqual(buffer.poll(now: 40_000, rtt: rtt), JitterBuffer.Output())
        XCTAssertEqual(buffer.nextDeadline, 75_000, "maxWait after the keyframe's first packet showed the hole")
        // The sender's cache answers the NACK with RTX; the receiver unwraps it.
        var cache = RTPPacketCache(ssrc: 0x1234, rtx: RTXSender(ssrc: 0x9999, payloadTypes: [96: 97], firstSequenceNumber: 5))
        for packet in key.packets + next.packets { cache.store(packet, now: 0) }
        let rtx = cache.answer(nack: RTCPNack(senderSSRC: 1, mediaSSRC: 0x1234, lostSequenceNumbers: [1002]), now: 20_000, rtt: rtt)
        XCTAssertEqual(rtx.count, 1)
        let wire = try RTPPacket.parse(rtx[0].serialized())
        let repaired = try RTXPacket.original(from: wire, originalSSRC: 0x1234, originalPayloadType: 96)
        XCTAssertEqual(buffer.insert(repaired, arrival: 70_000), .buffered)
        let output = buffer.poll(now: 70_000, rtt: rtt)
        XCTAssertEqual(output.frames.map(\.accessUnit.annexB.goldenBytes), [key.annexB, next.annexB])
        XCTAssertEqual(output.frames.map(\.arrivalTime), [70_000, 33_000])
        XCTAssertTrue(output.frames[0].isKeyframe)
        XCTAssertFalse(output.requestKeyframe)
        XCTAssertEqual(buffer.counters, .init(framesReleased: 2))
        // The original arriving after all: late.
        XCTAssertEqual(buffer.insert(key.packets[2], arrival: 90_000), .late)
        XCTAssertEqual(buffer.counters.packetsLate, 1)
    }

    func testLostAndNotRepairedGivesUpAndDropsUntilTheIDR() {
        var stream = H264StreamFixture(firstSequenceNumber: 500)
        let key = stream.keyframe()
        let p1 = stream.delta(size: 2000)  // two FU-A fragments
        let p2 = stream.delta()
        let p3 = stream.delta()
        var buffer = JitterBuffer()
        insert(&buffer, key.packets, at: 0)
        XCTAssertEqual(buffer.poll(now: 0, rtt: rtt).frames.count, 1)
        insert(&buffer, [p1.packets[1]], at: 33_000)  // the first fragment is lost
        insert(&buffer, p2.packets, at: 66_000)
        insert(&buffer, p3.packets, at: 99_000)
        XCTAssertEqual(buffer.poll(now: 107_999, rtt: rtt), JitterBuffer.Output())
        XCTAssertEqual(buffer.nextDeadline, 108_000)
        let output = buffer.poll(now: 108_000, rtt: rtt)
        XCTAssertEqual(output.frames, [], "p2 and p3 depend on p1")
        XCTAssertTrue(output.requestKeyframe)
        XCTAssertEqual(buffer.counters.framesGivenUp, 1)
        XCTAssertEqual(buffer.counters.framesDropped, 2)
        XCTAssertEqual(buffer.counters.freezes, 1)
        XCTAssertEqual(buffer.frameCount, 0)
        // The lost fragment comes too late.
        XCTAssertEqual(buffer.insert(p1.packets[0], arrival: 110_000), .late)
        // Another P frame while waiting: dropped; the keyframe request is not repeated within 500 ms.
        let p4 = stream.delta()
        insert(&buffer, p4.packets, at: 132_000)
        XCTAssertEqual(buffer.poll(now: 132_000, rtt: rtt), JitterBuffer.Output())
        XCTAssertEqual(buffer.counters.framesDropped, 3)
        XCTAssertEqual(buffer.nextDeadline, 608_000, "the next keyframe request allowed")
        // The IDR comes: released, and what follows.
        let key2 = stream.keyframe()
        let p5 = stream.delta()
        insert(&buffer, key2.packets, at: 165_000)
        insert(&buffer, p5.packets, at: 198_000)
        let resumed = buffer.poll(now: 198_000, rtt: rtt)
        XCTAssertEqual(resumed.frames.map(\.accessUnit.annexB.goldenBytes), [key2.annexB, p5.annexB])
        XCTAssertFalse(resumed.requestKeyframe)
        XCTAssertNil(buffer.nextDeadline)
        XCTAssertEqual(buffer.counters, .init(
            framesReleased: 3, framesGivenUp: 1, framesDropped: 3, packetsLate: 1, freezes: 1, keyframeRequests: 1))
    }

    func testReorderingAndDuplicates() {
        var stream = H264StreamFixture(firstSequenceNumber: 65530)
        let frames = [stream.keyframe(), stream.delta(size: 2500), stream.delta(), stream.delta(size: 1300)]
        var packets = frames.flatMap(\.packets)
        XCTAssertEqual(packets.count, 4 + 3 + 1 + 2)
        // A fixed shuffle: every frame's packets out of order, frames interleaved.
        let order = [1, 0, 5, 3, 2, 4, 9, 7, 6, 8]
        packets = order.map { packets[$0] }
        var buffer = JitterBuffer()
        var released: [JitterBufferFrame] = []
        for (step, packet) in packets.enumerated() {
            let now = Int64(step) * 1_000
            XCTAssertEqual(buffer.insert(packet, arrival: now), .buffered)
            XCTAssertEqual(buffer.insert(packet, arrival: now), .duplicate)
            released += buffer.poll(now: now, rtt: rtt).frames
        }
        XCTAssertEqual(released.map(\.accessUnit.annexB.goldenBytes), frames.map(\.annexB))
        XCTAssertEqual(buffer.counters.duplicates, 10)
        XCTAssertEqual(buffer.counters.framesReleased, 4)
        XCTAssertEqual(buffer.counters.framesGivenUp, 0)
        // A duplicate after release is late.
        XCTAssertEqual(buffer.insert(packets[0], arrival: 20_000), .late)
    }

    func testAWholeFrameLostIsAHoleThenTheNextIDRGoes() {
        var stream = H264StreamFixture(firstSequenceNumber: 10)
        let key = stream.keyframe()
        let lost = stream.delta()
        let key2 = stream.keyframe()
        var buffer = JitterBuffer()
        insert(&buffer, key.packets, at: 0)
        insert(&buffer, key2.packets, at: 66_000)
        // key2 is complete and an IDR, but a frame may be missing before it: wait for it first.
        XCTAssertEqual(buffer.poll(now: 66_000, rtt: rtt).frames.map(\.timestamp), [key.timestamp])
        XCTAssertEqual(buffer.poll(now: 140_999, rtt: rtt).frames, [])
        let output = buffer.poll(now: 141_000, rtt: rtt)
        XCTAssertEqual(output.frames.map(\.timestamp), [key2.timestamp])
        XCTAssertFalse(output.requestKeyframe, "the keyframe is already here")
        XCTAssertEqual(buffer.counters.framesGivenUp, 1)
        XCTAssertEqual(buffer.counters.freezes, 1)
        XCTAssertEqual(buffer.insert(lost.packets[0], arrival: 150_000), .late)
    }

    func testStartWaitsForAKeyframeAndSkipsToOne() {
        var stream = H264StreamFixture(firstSequenceNumber: 7)
        _ = stream.keyframe()
        let p1 = stream.delta(size: 2000)
        let p2 = stream.delta()
        let key = stream.keyframe()
        var buffer = JitterBuffer()
        // Joined mid-stream: p1's first fragment is missed, p2 is whole but not decodable alone.
        insert(&buffer, [p1.packets[1]], at: 0)
        insert(&buffer, p2.packets, at: 10_000)
        XCTAssertEqual(buffer.poll(now: 10_000, rtt: rtt), JitterBuffer.Output())
        insert(&buffer, key.packets, at: 20_000)
        let output = buffer.poll(now: 20_000, rtt: rtt)
        XCTAssertEqual(output.frames.map(\.accessUnit.annexB.goldenBytes), [key.annexB], "no wait for what precedes an IDR")
        XCTAssertEqual(buffer.counters.framesDropped, 2)
        XCTAssertEqual(buffer.counters.freezes, 0, "the start is not a freeze")
    }

    func testMarkerLostWaitsForTheNextFrame() {
        var stream = H264StreamFixture(firstSequenceNumber: 100)
        let key = stream.keyframe()
        let p1 = stream.delta(size: 2000)
        let p2 = stream.delta()
        var buffer = JitterBuffer()
        insert(&buffer, key.packets, at: 0)
        insert(&buffer, [p1.packets[0]], at: 33_000)
        _ = buffer.poll(now: 33_000, rtt: rtt)
        XCTAssertNil(buffer.nextDeadline, "p1 may still be arriving")
        insert(&buffer, p2.packets, at: 66_000)
        XCTAssertEqual(buffer.poll(now: 140_999, rtt: rtt), JitterBuffer.Output())
        let output = buffer.poll(now: 141_000, rtt: rtt)
        XCTAssertTrue(output.requestKeyframe)
        XCTAssertEqual(buffer.counters.framesGivenUp, 1)
        XCTAssertEqual(buffer.counters.framesDropped, 1)
    }

    func testBoundsGiveUpTheOldest() {
        var stream = H264StreamFixture(firstSequenceNumber: 0)
        var buffer = JitterBuffer(configuration: .init(maxPackets: 20, maxFrames: 5))
        let key = stream.keyframe()
        insert(&buffer, Array(key.packets.dropFirst()), at: 0)  // incomplete: everything queues behind it
        for step in 1...30 {
            let frame = stream.delta(size: 2000)
            for packet in frame.packets { _ = buffer.insert(packet, arrival: Int64(step)) }
            XCTAssertLessThanOrEqual(buffer.frameCount, 5)
            XCTAssertLessThanOrEqual(buffer.packetCount, 20)
        }
        XCTAssertGreaterThan(buffer.counters.framesGivenUp, 20)
        var tight = JitterBuffer(configuration: .init(maxBytes: 1000))
        XCTAssertEqual(tight.insert(key.packets[1], arrival: 0), .rejected, "a packet over the byte bound")
        XCTAssertEqual(tight.insert(RTPPacket(payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: ByteBuffer()), arrival: 0), .rejected)
    }
}
