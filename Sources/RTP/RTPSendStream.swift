import NIOCore

/// The sending side of one track on an `RTPPeer`: frames in, RTP packets out (RFC 6184 for H.264, RFC 3640
/// AAC-hbr, RFC 7587 Opus), every packet kept in a cache to answer NACKs with RTX (RFC 4588), and the figures
/// its RTCP sender reports carry (RFC 3550 section 6.4.1). Audio with a RED payload type negotiated goes out
/// in RFC 2198 packets repeating the previous ones while the peer asks for redundancy, else plain. Pure; the
/// peer adds the transport-wide sequence number and encrypts.
struct RTPSendStream {
    let track: RTPTrack
    private var sequenceNumber: UInt16
    /// Random start of the RTP timestamp (RFC 3550 section 5.1).
    private let timestampBase: UInt32
    private var h264: H264Packetizer
    private let aac: AACPacketizer
    /// RED (RFC 2198) when negotiated for this audio track.
    private var red: REDEncoder?
    private(set) var cache: RTPPacketCache
    private(set) var packetCount: UInt32 = 0
    private(set) var octetCount: UInt32 = 0
    /// The last frame sent: its RTP timestamp and when (monotonic µs), for the sender report's mapping.
    private(set) var lastTimestamp: (rtp: UInt32, at: Int64)?
    private(set) var framesSent = 0

    init(track: RTPTrack, maxPayloadSize: Int, cacheAge: Int64) {
        self.track = track
        sequenceNumber = UInt16.random(in: .min ... .max)
        timestampBase = UInt32.random(in: .min ... .max)
        h264 = H264Packetizer(maxPayloadSize: maxPayloadSize)
        aac = AACPacketizer(maxPayloadSize: maxPayloadSize)
        if track.codec.kind == .audio, let pt = track.redPayloadType {
            red = REDEncoder(primaryPayloadType: track.payloadType, redPayloadType: pt, maxPayloadSize: maxPayloadSize)
        }
        let rtx = track.rtxPayloadType.flatMap { pt in
            track.rtxSSRC.map { RTXSender(ssrc: $0, payloadTypes: [track.payloadType: pt], firstSequenceNumber: .random(in: .min ... .max)) }
        }
        // Video keeps a second of packets at up to ~10 Mbit/s (a keyframe is a few hundred); audio (50 packets
        // a second) a few seconds' worth. The ring is allocated whole: every server-side play has one.
        cache = RTPPacketCache(ssrc: track.ssrc, rtx: rtx,
                               configuration: .init(capacity: track.codec.kind == .video ? 1024 : 128, maxAge: cacheAge))
    }

    /// The RTP timestamp of a media time in µs (the codec's clock; no overflow for any Int64 time).
    func rtpTimestamp(micros: Int64) -> UInt32 {
        let clock = Int64(track.codec.clockRate)
        let (seconds, rest) = micros.quotientAndRemainder(dividingBy: 1_000_000)
        let ticks = seconds &* clock &+ rest * clock / 1_000_000
        return timestampBase &+ UInt32(truncatingIfNeeded: ticks)
    }

    /// The packets of one frame, each with the given header extensions, stored for retransmission.
    /// `redundancy` (0-2, more counts as 2): how many previous packets an audio packet repeats when RED is
    /// negotiated (0: the plain payload type). The cache keeps the plain packet: a retransmission (RTX of the
    /// primary payload type) need not repeat what came before it.
    mutating func packetize(_ frame: RTPFrame, extensions: [RTPHeaderExtensionElement], redundancy: Int = 0, now: Int64) -> [RTPPacket] {
        let timestamp = rtpTimestamp(micros: frame.pts)
        var chunks: [RTPPayloadChunk]
        switch track.codec {
        case .h264:
            chunks = h264.packetize(accessUnit: frame.payload)
        case .opus:
            chunks = frame.payload.readableBytes > 0 ? [RTPPayloadChunk(payload: frame.payload, marker: true)] : []
        case .aac:
            chunks = ((try? aac.packetize(frames: [frame.payload])) ?? []).map { RTPPayloadChunk(payload: $0.payload, marker: $0.marker) }
        }
        guard !chunks.isEmpty else { return [] }
        let headerExtension = RTPHeaderExtensions.make(extensions)
        var packets: [RTPPacket] = []
        packets.reserveCapacity(chunks.count)
        for chunk in chunks {
            var packet = RTPPacket(marker: chunk.marker, payloadType: track.payloadType, sequenceNumber: sequenceNumber,
                                   timestamp: timestamp, ssrc: track.ssrc, csrcs: [], headerExtension: headerExtension,
                                   payload: chunk.payload)
            sequenceNumber &+= 1
            cache.store(packet, now: now)
            // Only a whole frame is repeated (a fragment's block would come back as a frame of its own).
            if red != nil, chunks.count == 1, chunk.marker {
                packet = red?.encode(packet, distance: redundancy) ?? packet
            }
            packetCount &+= 1
            octetCount &+= UInt32(truncatingIfNeeded: packet.payload.readableBytes)
            packets.append(packet)
        }
        framesSent += 1
        lastTimestamp = (timestamp, now)
        return packets
    }

    /// The retransmissions a NACK asks for (RTX-wrapped when negotiated), at most once per round trip each.
    mutating func answer(_ nack: RTCPNack, now: Int64, rtt: Int64) -> [RTPPacket] {
        cache.expire(now: now)
        // A packet is not sent twice within a quarter round trip: a NACK repeated that soon is the same loss
        // reported twice. A full round trip would race the receiver's retry, which comes one rtt later.
        return cache.answer(nack: nack, now: now, rtt: rtt / 4)
    }

    /// This stream's sender report at `now` (`ntp` is the wall clock then): the RTP timestamp extrapolated
    /// from the last frame sent.
    func senderReport(now: Int64, ntp: NTPTimestamp, reportBlocks: [RTCPReportBlock]) -> RTCPSenderReport? {
        guard let last = lastTimestamp else { return nil }
        let elapsed = (now - last.at) * Int64(track.codec.clockRate) / 1_000_000
        return RTCPSenderReport(ssrc: track.ssrc, ntpTimestamp: ntp, rtpTimestamp: last.rtp &+ UInt32(truncatingIfNeeded: elapsed),
                                packetCount: packetCount, octetCount: octetCount, reportBlocks: reportBlocks)
    }
}
