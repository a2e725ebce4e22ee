import NIOCore

/// The receiving side of one track on an `RTPPeer`: RTP packets in (originals and RTX-recovered, in any
/// order), complete frames out in order and on time. Video waits in a `JitterBuffer` for retransmissions
/// about 1.5x the round trip, then gives the frame up and asks for a keyframe (PLI); audio waits in an
/// `AudioJitterBuffer` and conceals what does not come; a RED packet (RFC 2198) gives its primary and, for
/// holes only, the packets its redundant blocks repeat. `NACKGenerator` asks for what is missing. The
/// frame's times come from rtcbox's frame-timing extension when the sender wrote it, else from the RTP
/// clock anchored at the first frame's arrival (a browser: its tracks, each on its own clock, then start
/// together); the capture wall clock from abs-capture-time, else from the sender's last RTCP sender report
/// (its NTP time for an RTP timestamp). Pure.
struct RTPReceiveStream {
    let track: RTPTrack
    /// The sender's SSRC: the track's, or the first packet's with its payload type.
    private(set) var ssrc: UInt32?
    private var video: JitterBuffer?
    private var audio: AudioJitterBuffer?
    private var aac = AACDepacketizer()
    private(set) var nack: NACKGenerator
    private(set) var statistics: ReceiveStatistics?
    private var timing = FrameTimes()
    private var timestamps = RTPUnwrapper<UInt32>()
    private var firstTimestamp: Int64?
    /// The first frame's arrival (µs, the peer's clock): media time 0 of a stream without frame-timing.
    private var firstArrival: Int64 = 0
    /// The sender's last report: its wall clock (µs) at an RTP timestamp.
    private var senderClock: (wallClockMicros: Int64, rtpTimestamp: UInt32)?
    private(set) var framesReceived = 0
    private(set) var audioFramesConcealed = 0
    /// RED packets whose payload was not RFC 2198 (counted as arrived; nothing of them is played).
    private(set) var malformedREDPackets = 0
    private(set) var packetsReceived = 0
    private(set) var bytesReceived = 0
    private var lastPoll: Int64 = 0

    /// What a frame's packets said of it (the first packet of it that arrived with each).
    struct FrameInfo {
        var timing: RTPFrameTiming?
        var captureTime: Int64?
        var audioLevel: UInt8?
    }

    /// Frame infos by RTP timestamp, the last `capacity` frames.
    struct FrameTimes {
        static let capacity = 512
        private var infos: [UInt32: FrameInfo] = [:]
        private var order: [UInt32] = []
        private var cursor = 0

        mutating func note(_ timestamp: UInt32, timing: RTPFrameTiming?, captureTime: Int64?, audioLevel: UInt8? = nil) {
            guard timing != nil || captureTime != nil || audioLevel != nil else { return }
            if var known = infos[timestamp] {
                known.timing = known.timing ?? timing
                known.captureTime = known.captureTime ?? captureTime
                known.audioLevel = known.audioLevel ?? audioLevel
                infos[timestamp] = known
                return
            }
            if order.count < Self.capacity {
                order.append(timestamp)
            } else {
                infos[order[cursor]] = nil
                order[cursor] = timestamp
                cursor = (cursor + 1) % Self.capacity
            }
            infos[timestamp] = FrameInfo(timing: timing, captureTime: captureTime, audioLevel: audioLevel)
        }

        func info(_ timestamp: UInt32) -> FrameInfo? { infos[timestamp] }
    }

    init(track: RTPTrack, jitterBuffer: JitterBuffer.Configuration) {
        self.track = track
        ssrc = track.ssrc == 0 ? nil : track.ssrc
        if track.codec.kind == .video { video = JitterBuffer(configuration: jitterBuffer) } else { audio = AudioJitterBuffer() }
        // Audio is not worth a keyframe request; video asks through the jitter buffer (PLI) when it gives up.
        // A gap is NACKed after 2 ms (or 2 % of the round trip): reordering on one 5-tuple is rare, and every
        // millisecond here is one more that a lost packet's frame, and all behind it, waits.
        nack = NACKGenerator(configuration: .init(minReorderWait: 2_000, reorderWaitRTTFraction: 0.02,
                                                  requestKeyframeOnUnrecovered: false))
        if let ssrc { statistics = ReceiveStatistics(ssrc: ssrc, clockRate: Int64(track.codec.clockRate)) }
    }

    /// Whether a packet with this SSRC and payload type is this stream's media (learning the SSRC).
    mutating func accepts(ssrc packetSSRC: UInt32, payloadType: UInt8) -> Bool {
        if let ssrc { return ssrc == packetSSRC }
        guard isMedia(payloadType: payloadType) else { return false }
        ssrc = packetSSRC
        statistics = ReceiveStatistics(ssrc: packetSSRC, clockRate: Int64(track.codec.clockRate))
        return true
    }

    /// Whether a payload type is this stream's media: its own, or its RED (audio).
    func isMedia(payloadType: UInt8) -> Bool {
        payloadType == track.payloadType || (redPayloadType != nil && payloadType == redPayloadType)
    }

    private var redPayloadType: UInt8? { track.codec.kind == .audio ? track.redPayloadType : nil }

    /// Audio packets rebuilt from RED's redundant blocks into holes of the jitter buffer.
    var audioPacketsRecoveredByRED: Int { audio?.counters.packetsRecovered ?? 0 }

    /// Whether a packet is this stream's retransmission (its RTX payload type, and RTX SSRC when signalled).
    func isRetransmission(ssrc packetSSRC: UInt32, payloadType: UInt8) -> Bool {
        guard let rtxPayloadType = track.rtxPayloadType, payloadType == rtxPayloadType, ssrc != nil else { return false }
        return track.rtxSSRC.map { $0 == packetSSRC } ?? true
    }

    /// One packet of this stream (an RTX packet already unwrapped to its original; a RED packet is split).
    mutating func insert(_ packet: RTPPacket, extensions: RTPExtensionIDs, retransmission: Bool, arrival: Int64) {
        packetsReceived += 1
        bytesReceived += packet.payload.readableBytes
        let timing = extensions.frameTiming.flatMap { id in
            (try? packet.headerExtensionElement(id: id)).flatMap { $0 }.flatMap { try? RTPFrameTiming.parse($0) }
        }
        let capture = extensions.absCaptureTime.flatMap { id in
            (try? packet.headerExtensionElement(id: id)).flatMap { $0 }.flatMap { try? AbsCaptureTime.parse($0) }
        }
        let level = extensions.audioLevel.flatMap { id in
            (try? packet.headerExtensionElement(id: id)).flatMap { $0 }.flatMap { try? AudioLevelExtension.parse($0) }
        }
        self.timing.note(packet.timestamp, timing: timing, captureTime: capture?.wallClockMicros, audioLevel: level?.level)
        // The media SSRC's report counts what came on it, as libwebrtc's does (RTX is its own stream): the
        // sender learns the path's loss, not what is left after repair (by RTX or RED: RED stays on while
        // the loss does).
        if !retransmission {
            statistics?.received(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, arrival: arrival)
        }
        var media = packet
        if let redPayloadType, packet.payloadType == redPayloadType, audio != nil {
            guard let split = try? REDPayload.split(packet, primaryPayloadType: track.payloadType) else {
                malformedREDPackets += 1
                nack.received(sequenceNumber: packet.sequenceNumber, isRetransmission: retransmission, now: arrival)
                return
            }
            // The repeated packets first (oldest first), so the NACK list sees no hole they fill; each only
            // into a hole of the jitter buffer, its times the primary's less its offset.
            for recovered in split.redundant where audio?.insertRecovered(recovered, arrival: arrival) == true {
                let clock = Int64(max(1, track.codec.clockRate))
                let micros = (Int64(packet.timestamp &- recovered.timestamp) * 1_000_000 + clock / 2) / clock
                self.timing.note(recovered.timestamp,
                                 timing: timing.map { RTPFrameTiming(pts: $0.pts &- micros, dts: $0.dts &- micros, flags: $0.flags) },
                                 captureTime: capture.map { $0.wallClockMicros &- micros })
                nack.received(sequenceNumber: recovered.sequenceNumber, isRetransmission: true, now: arrival)
            }
            guard let primary = split.primary else {
                nack.received(sequenceNumber: packet.sequenceNumber, isRetransmission: retransmission, now: arrival)
                return
            }
            media = primary
        }
        nack.received(sequenceNumber: media.sequenceNumber, isRetransmission: retransmission, now: arrival)
        if video != nil {
            _ = video?.insert(media, arrival: arrival)
        } else {
            audio?.insert(media, arrival: arrival)
        }
    }

    mutating func noteSenderReport(_ report: RTCPSenderReport, arrival: Int64) {
        senderClock = (report.ntpTimestamp.wallClockMicros, report.rtpTimestamp)
        statistics?.senderReportReceived(ntpTimestamp: report.ntpTimestamp, arrival: arrival)
    }

    mutating func reportBlock(now: Int64) -> RTCPReportBlock? { statistics?.makeReportBlock(now: now) }

    /// How long a missing packet is waited for.
    static func maxWait(rtt: Int64, configuration: JitterBuffer.Configuration) -> Int64 {
        min(max(Int64(Double(rtt) * configuration.rttFactor), configuration.minWait), configuration.maxWaitCap)
    }

    struct Poll {
        var frames: [RTPFrame] = []
        var nack: [UInt16] = []
        var requestKeyframe = false
    }

    /// What is ready at `now`: complete frames, sequence numbers to NACK, whether to send a PLI.
    mutating func poll(now: Int64, rtt: Int64) -> Poll {
        var result = Poll()
        lastPoll = now
        let action = nack.poll(now: now, rtt: rtt)
        result.nack = action.sequenceNumbers
        if var video {
            let output = video.poll(now: now, rtt: rtt)
            self.video = video
            result.requestKeyframe = output.requestKeyframe
            for f in output.frames {
                if f.isKeyframe { nack.keyframeReceived() }
                result.frames.append(frame(timestamp: f.timestamp, keyframe: f.isKeyframe, payload: f.accessUnit.annexB, arrival: f.arrivalTime))
            }
        } else if var audio {
            let wait = Self.maxWait(rtt: rtt, configuration: JitterBuffer.Configuration())
            for item in audio.poll(now: now, maxWait: min(wait, 200_000)) {
                switch item {
                case .packet(let packet, let arrival):
                    for payload in audioFrames(packet) {
                        result.frames.append(frame(timestamp: payload.timestamp, keyframe: true, payload: payload.data, arrival: arrival))
                    }
                case .concealed(_, let count):
                    audioFramesConcealed += count
                case .discontinuity:
                    aac = AACDepacketizer()
                }
            }
            self.audio = audio
        }
        framesReceived += result.frames.count
        return result
    }

    private mutating func audioFrames(_ packet: RTPPacket) -> [AACAccessUnit] {
        switch track.codec {
        case .aac:
            return (try? aac.depacketize(sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
                                         marker: packet.marker, payload: packet.payload)) ?? []
        default:
            return packet.payload.readableBytes > 0 ? [AACAccessUnit(timestamp: packet.timestamp, data: packet.payload)] : []
        }
    }

    private mutating func frame(timestamp: UInt32, keyframe: Bool, payload: ByteBuffer, arrival: Int64) -> RTPFrame {
        let info = timing.info(timestamp)
        let pts: Int64
        let dts: Int64
        if let t = info?.timing {
            (pts, dts) = (t.pts, t.dts)
        } else {
            // No frame-timing: media time from the RTP clock, from the first frame's arrival.
            let unwrapped = timestamps.unwrap(timestamp)
            if firstTimestamp == nil { firstArrival = arrival }
            let first = firstTimestamp ?? unwrapped
            firstTimestamp = first
            pts = firstArrival + (unwrapped - first) * 1_000_000 / Int64(max(1, track.codec.clockRate))
            dts = pts
        }
        return RTPFrame(kind: track.codec.kind, isKeyframe: keyframe, pts: pts, dts: dts,
                        captureTime: info?.captureTime ?? senderWallClock(timestamp) ?? 0, flags: info?.timing?.flags ?? 0,
                        payload: payload, audioLevel: track.codec.kind == .audio ? info?.audioLevel : nil)
    }

    /// The sender's wall clock at an RTP timestamp, from its last sender report (within ±2^31 ticks of it).
    func senderWallClock(_ timestamp: UInt32) -> Int64? {
        guard let clock = senderClock else { return nil }
        let ticks = Int64(Int32(bitPattern: timestamp &- clock.rtpTimestamp))
        return clock.wallClockMicros + ticks * 1_000_000 / Int64(max(1, track.codec.clockRate))
    }

    /// When `poll` has something to do next.
    func nextDeadline(rtt: Int64) -> Int64? {
        // The audio buffer says nothing of when a gap times out: while it holds packets, look every 10 ms.
        let audioCheck = audio.flatMap { $0.count > 0 ? lastPoll + 10_000 : nil }
        let deadlines = [nack.nextDeadline(rtt: rtt), video?.nextDeadline, audioCheck]
        return deadlines.compactMap { $0 }.min()
    }

    var videoCounters: JitterBuffer.Counters? { video?.counters }
    var audioCounters: AudioJitterBuffer.Counters? { audio?.counters }
}
