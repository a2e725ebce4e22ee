import NIOCore
import RTP

/// The body of FuzzJitterBuffer, shared with RTPTests (a symlink there), so the seeds run in `swift test`.
///
/// Byte 0 sets the rtt (x 2 ms). Then records of 4 bytes, one packet each:
///   b0: bit 0 marker, bits 1-3 payload kind, bit 4 next frame (timestamp + 3000), bit 5 arrives as a
///       retransmission (with the timestamp of the frame sent around that sequence number), bit 6 poll
///       after it, bit 7 the sequence delta is x 256
///   b1: sequence delta (signed) from the previous packet
///   b2: payload size (1 + b2 bytes)
///   b3: time since the previous packet, x 500 us
/// Invariants: nothing traps, and every bound holds after every step. Returns the video buffer's counters
/// (for the seed tests).
@discardableResult
func fuzzJitterBuffer(_ bytes: [UInt8]) -> JitterBuffer.Counters? {
    guard let first = bytes.first else { return nil }
    let rtt = Int64(first) * 2_000
    let videoLimits = JitterBuffer.Configuration(
        maxPackets: 64, maxFrames: 8, maxBytes: 16 << 10,
        depacketizerLimits: .init(maxAccessUnitBytes: 8 << 10, maxPacketsPerFrame: 32))
    var video = JitterBuffer(configuration: videoLimits)
    let nackLimits = NACKGenerator.Configuration(maxMissing: 50, maxRetries: 3, giveUpAfter: video.maxWait(rtt: rtt))
    var nack = NACKGenerator(configuration: nackLimits)
    var audio = AudioJitterBuffer(configuration: .init(maxPackets: 40))
    var cache = RTPPacketCache(
        ssrc: 1, rtx: RTXSender(ssrc: 2, payloadTypes: [96: 97], firstSequenceNumber: 0),
        configuration: .init(capacity: 32, maxAge: 200_000))
    var statistics = ReceiveStatistics(ssrc: 1, clockRate: 90000)

    var sequenceNumber: UInt16 = 65500
    var timestamp: UInt32 = 0xFFFF_F000
    var now: Int64 = 0
    /// The last packets sent (sequence number, timestamp), for a retransmission's timestamp.
    var sent: [(UInt16, UInt32)] = []
    var released = 0
    var offset = 1
    while offset + 4 <= bytes.count {
        let (flags, delta, size, wait) = (bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3])
        offset += 4
        let step = Int(Int8(bitPattern: delta)) * (flags & 0x80 != 0 ? 256 : 1)
        sequenceNumber = UInt16(truncatingIfNeeded: Int(sequenceNumber) &+ step)
        if flags & 0x10 != 0 { timestamp &+= 3000 }
        now += Int64(wait) * 500
        let isRetransmission = flags & 0x20 != 0
        var packetTimestamp = timestamp
        if isRetransmission {
            let before = sent.filter { !RTPSequence.isNewer($0.0, than: sequenceNumber) }
            if let closest = before.max(by: { RTPSequence.isNewer($1.0, than: $0.0) }) { packetTimestamp = closest.1 }
        } else {
            if sent.count == 64 { sent.removeFirst() }
            sent.append((sequenceNumber, timestamp))
        }
        let packet = RTPPacket(
            marker: flags & 1 != 0, payloadType: 96, sequenceNumber: sequenceNumber, timestamp: packetTimestamp,
            ssrc: 1, payload: payload(kind: (flags >> 1) & 7, size: Int(size) + 1, seed: delta))

        if !isRetransmission { cache.store(packet, now: now) }
        _ = video.insert(packet, arrival: now)
        nack.received(sequenceNumber: sequenceNumber, isRetransmission: isRetransmission, now: now)
        audio.insert(packet, arrival: now)
        statistics.received(sequenceNumber: sequenceNumber, timestamp: packetTimestamp, arrival: now, isRetransmission: isRetransmission)

        if flags & 0x40 != 0 {
            let output = video.poll(now: now, rtt: rtt)
            released += output.frames.count
            for frame in output.frames where frame.accessUnit.annexB.readableBytes > videoLimits.depacketizerLimits.maxAccessUnitBytes {
                fatalError("an access unit over the limit: \(frame.accessUnit.annexB.readableBytes)")
            }
            if output.requestKeyframe { nack.requestKeyframe() }
            let action = nack.poll(now: now, rtt: rtt)
            if action.sequenceNumbers.count > nackLimits.maxMissing { fatalError("NACKed \(action.sequenceNumbers.count)") }
            let repairs = cache.answer(
                nack: RTCPNack(senderSSRC: 9, mediaSSRC: 1, lostSequenceNumbers: action.sequenceNumbers), now: now, rtt: rtt)
            for rtx in repairs {
                guard let original = try? RTXPacket.original(from: rtx, originalSSRC: 1, originalPayloadType: 96) else {
                    fatalError("an RTX packet of the cache does not unwrap")
                }
                _ = video.insert(original, arrival: now + rtt / 2)
                nack.received(sequenceNumber: original.sequenceNumber, isRetransmission: true, now: now + rtt / 2)
            }
            _ = audio.poll(now: now, maxWait: video.maxWait(rtt: rtt))
            _ = statistics.makeReportBlock(now: now)
        }

        guard video.packetCount >= 0, video.packetCount <= videoLimits.maxPackets, video.frameCount <= videoLimits.maxFrames,
            video.byteCount >= 0, video.byteCount <= videoLimits.maxBytes
        else { fatalError("jitter buffer over its bounds: \(video.packetCount) packets, \(video.frameCount) frames, \(video.byteCount) bytes") }
        guard nack.missingCount <= nackLimits.maxMissing else { fatalError("NACK list over its bound: \(nack.missingCount)") }
        guard audio.count <= 40 else { fatalError("audio buffer over its bound: \(audio.count)") }
        guard cache.count <= 32 else { fatalError("cache over its bound: \(cache.count)") }
    }
    let final = video.poll(now: now + 10_000_000, rtt: rtt)
    released += final.frames.count
    guard released == video.counters.framesReleased else { fatalError("released \(released), counted \(video.counters.framesReleased)") }
    return video.counters
}

/// H.264 payloads of the kinds a stream carries, `size` bytes: 0 IDR slice (first_mb 0), 1 P slice
/// (first_mb 0), 2 STAP-A of SPS and PPS, 3 FU-A start of an IDR, 4 FU-A middle, 5 FU-A end, 6 P slice
/// (first_mb != 0), 7 arbitrary bytes.
private func payload(kind: UInt8, size: Int, seed: UInt8) -> ByteBuffer {
    var bytes: [UInt8]
    switch kind {
    case 0: bytes = [0x65, 0x88]
    case 1: bytes = [0x41, 0x9A]
    case 2: bytes = [0x78, 0x00, 0x04, 0x67, 0x42, 0x00, 0x1F, 0x00, 0x04, 0x68, 0xCE, 0x38, 0x80]
    case 3: bytes = [0x7C, 0x85, 0x88]
    case 4: bytes = [0x7C, 0x05]
    case 5: bytes = [0x7C, 0x45]
    case 6: bytes = [0x41, 0x40]
    default: bytes = [seed]
    }
    bytes.reserveCapacity(size)
    while bytes.count < size { bytes.append(UInt8(truncatingIfNeeded: bytes.count) &+ seed) }
    return ByteBuffer(bytes: bytes)
}
